// coxswain plan -f FILE against a fake leader: the file is validated against the
// accepted history first; the preview's steps are printed with their reasons; an
// invalid or ignored file, and a blocked plan, exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DesiredStateHistory } from '../../desired-state/history.ts';
import { validateDesiredStateText } from '../../desired-state/validate.ts';
import { emptyPlan, FakeLeader } from '../leader/test-fakes.ts';
import { memoryOutput } from './output.ts';
import { makePlanCommand } from './plan-command.ts';

const example = readFileSync(new URL('../../desired-state/desired_state.jsonc', import.meta.url), 'utf8');

function setUp(): { dir: string; stateDir: string; write: (name: string, text: string) => string; fake: FakeLeader; command: ReturnType<typeof makePlanCommand> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-plan-'));
  const stateDir = path.join(dir, 'state');
  const accepted = validateDesiredStateText({ file: 'v1', text: example }).desired;
  if (accepted === undefined) throw new Error('the example must be valid');
  new DesiredStateHistory(stateDir).append(accepted, 'test');
  const fake = new FakeLeader();
  return {
    dir,
    stateDir,
    fake,
    command: makePlanCommand({ connect: () => Promise.resolve(fake) }),
    write: (name, text) => {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    },
  };
}

test('plan prints each next step with its reason, what it waits for, and the estimate after', async () => {
  const { dir, stateDir, write, fake, command } = setUp();
  try {
    fake.plan = emptyPlan({
      done: false,
      remaining: 7,
      next: [
        { step: { kind: 'createVm', vm: { id: 'vm-7', zone: 'zone-a', vmType: 'small', storageGiB: 10, nodeGroup: 0, temporary: false, agentRunningSince: 1 } }, why: 'node group 0 has 2 of 3 replicas' },
        { step: { kind: 'createVm', vm: { id: 'vm-8', zone: 'zone-b', vmType: 'small', storageGiB: 10, nodeGroup: 1, temporary: false, agentRunningSince: 1 } }, why: 'node group 1 has 2 of 3 replicas' },
      ],
      waiting: ['vm-4 to finish its initial sync'],
    });
    const file = write('v2.jsonc', example.replace('"id": 1,', '"id": 2,').replace('"replicationFactor": 2,', '"replicationFactor": 3,'));
    const io = memoryOutput();
    assert.equal(await command.run(['-f', file, '--state-dir', stateDir], io), 0, io.stdout + io.stderr);
    assert.equal(fake.previews[0]?.replicationFactor, 3, 'the validated desired state is previewed');
    const out = io.stdout;
    assert.match(out, /^Plan towards .*v2\.jsonc: id 2, cluster "demo", redis 7\.0, 3 node groups × 3/m);
    assert.match(out, /Next, all at once \(2 steps\):\n {2}1\. create VM vm-7 \(small, 10 GiB, zone-a, node group 0\)\n {5}why: node group 0 has 2 of 3 replicas\n {2}2\. create VM vm-8/);
    assert.match(out, /Waiting for:\n {2}- vm-4 to finish its initial sync/);
    assert.match(out, /Then: about 5 more steps/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plan of the accepted desired state itself shows the work left; done says so', async () => {
  const { dir, stateDir, write, fake, command } = setUp();
  try {
    const io = memoryOutput();
    assert.equal(await command.run(['-f', write('same.jsonc', example), '--state-dir', stateDir], io), 0, io.stdout);
    assert.match(io.stdout, /\(the accepted desired state\)/);
    assert.match(io.stdout, /Nothing to do: the cluster is at this desired state\./);
    assert.equal(fake.previews.length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an invalid or ignored file is not previewed: exit 1 with the located problems', async () => {
  const { dir, stateDir, write, fake, command } = setUp();
  try {
    const renamed = memoryOutput();
    const bad = write('bad.jsonc', example.replace('"id": 1,', '"id": 2,').replace('"name": "demo",', '"name": "other",'));
    assert.equal(await command.run(['-f', bad, '--state-dir', stateDir], renamed), 1);
    assert.match(renamed.stdout, /would be refused; nothing to plan/);
    assert.match(renamed.stdout, /bad\.jsonc:\d+:\d+: error: \$\.name/);

    const old = memoryOutput();
    const older = write('old.jsonc', example.replace('"replicationFactor": 2,', '"replicationFactor": 3,'));
    assert.equal(await command.run(['-f', older, '--state-dir', stateDir], old), 1);
    assert.match(old.stdout, /would be ignored/);
    assert.deepEqual(fake.calls, [], 'the leader was not asked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a blocked plan says why and exits 1; a missing -f is a usage error', async () => {
  const { dir, stateDir, write, fake, command } = setUp();
  try {
    fake.plan = emptyPlan({ done: false, blocked: ['node group 1 lost every copy of its data (slots 5462-10922)'] });
    const io = memoryOutput();
    assert.equal(await command.run(['-f', write('v2.jsonc', example.replace('"id": 1,', '"id": 2,')), '--state-dir', stateDir], io), 1);
    assert.match(io.stdout, /Blocked — this desired state cannot be reached from here:\n {2}- node group 1 lost every copy/);
    await assert.rejects(command.run(['--state-dir', stateDir], memoryOutput()), /missing -f FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
