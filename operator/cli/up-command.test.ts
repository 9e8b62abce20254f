// coxswain up in-process with stand-in parts: it prints where things are, follows the
// status as plain lines when not on a terminal, ends with exit 0 on Ctrl-C (the cluster
// left running) and on `down` (through the admin interface); a file it cannot run and
// bad port variables are clear errors. --detach's checks are seen from the binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdminClient } from '../leader/admin-client.ts';
import { DesiredStateFileError, type LeaderContext } from '../leader/leader.ts';
import { stateLayout } from '../leader/state-layout.ts';
import { fakeParts, fakeStatus } from '../leader/test-fakes.ts';
import { hasStackTrace, runCli } from '../../test/support/run-cli.ts';
import { memoryOutput } from './output.ts';
import { makeUpCommand } from './up-command.ts';
import { providerFromEnvironment } from '../vm/providers.ts';

const example = readFileSync(new URL('../../desired-state/desired_state.jsonc', import.meta.url), 'utf8');

function setUp(text = example): { dir: string; stateDir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-up-'));
  const file = path.join(dir, 'desired_state.jsonc');
  writeFileSync(file, text);
  return { dir, stateDir: path.join(dir, 'state'), file };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('up runs the leader until Ctrl-C, printing progress lines; the cluster is left running', async () => {
  const { dir, stateDir, file } = setUp();
  try {
    const fake = fakeParts();
    fake.parts.reconciler.leader.statuses = [
      fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 1, progress: { done: 0, total: 6, current: ['create VM vm-1 (small, 10 GiB, zone-a, node group 0)'] } }),
      fakeStatus({ acceptedId: 1 }),
    ];
    let stop: ((signal: string) => void) | undefined;
    const envs: NodeJS.ProcessEnv[] = [];
    const io = memoryOutput();
    const command = makeUpCommand({
      parts: fake.factory,
      onStopSignal: (handler) => {
        stop = handler;
        return () => (stop = undefined);
      },
      isTTY: () => false,
      statusIntervalMs: 10,
      env: { COXSWAIN_DATA_PORT_BASE: '23001', COXSWAIN_AGENT_PORT_BASE: '23101' },
      provider: (env) => {
        envs.push(env);
        return providerFromEnvironment(env);
      },
    });
    const running = command.run(['-f', file, '--state-dir', stateDir], io);
    await until(() => io.stdout.includes('AT_DESIRED_STATE  desired state 1'), 'the progress lines');
    const ctx = fake.contexts[0] as LeaderContext;
    assert.equal(typeof ctx.provider, 'function', 'the leader gets a provider factory, not its options');
    assert.deepEqual(envs, [{ COXSWAIN_DATA_PORT_BASE: '23001', COXSWAIN_AGENT_PORT_BASE: '23101' }], "the provider's options come from the environment");
    assert.match(io.stdout, /^Leader of cluster "demo" started \(epoch 1, pid \d+\), watching .*desired_state\.jsonc\./m);
    assert.match(io.stdout, /^\d\d:\d\d:\d\d WORKING_TOWARDS_DESIRED_STATE {2}desired state 1 {2}0 steps done of about 6 \(estimate\) — now: create VM vm-1/m);
    assert.ok(!io.stdout.includes('\x1b['), 'no escape codes when not on a terminal');

    stop?.('SIGINT');
    assert.equal(await running, 0);
    assert.match(io.stdout, /SIGINT: stopping the leader; the agents and data nodes keep running/);
    assert.match(io.stdout, /Stopped the leader\. The cluster keeps running: 'coxswain up -f .*' adopts it again/);
    assert.deepEqual(fake.parts.provider.shutdowns, []);
    assert.equal(stop, undefined, 'the signal handlers are removed');
    assert.equal(existsSync(stateLayout(stateDir).pidFile), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('up ends with exit 0 when `down` shuts the cluster down through the admin interface', async () => {
  const { dir, stateDir, file } = setUp();
  try {
    const fake = fakeParts();
    const io = memoryOutput();
    const command = makeUpCommand({ parts: fake.factory, onStopSignal: () => () => undefined, isTTY: () => false, statusIntervalMs: 10, env: {} });
    const running = command.run(['-f', file, '--state-dir', stateDir], io);
    await until(() => existsSync(stateLayout(stateDir).adminFile), 'leader.json');
    await (await AdminClient.connect(stateDir)).shutdown({ purge: false });
    assert.equal(await running, 0);
    assert.match(io.stdout, /Stopped by 'coxswain down': the leader, its agents and data nodes are stopped\./);
    assert.deepEqual(fake.parts.provider.shutdowns, [{ dataNodes: true, purge: false }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('up with a file it cannot run, or a bad port variable, fails before it starts anything', async () => {
  const { dir, stateDir, file } = setUp(example.replace('"nodeGroups": 3,', '"nodeGroups": "three",'));
  try {
    const fake = fakeParts();
    const command = makeUpCommand({ parts: fake.factory, env: {} });
    await assert.rejects(command.run(['-f', file, '--state-dir', stateDir], memoryOutput()), DesiredStateFileError);
    assert.equal(fake.contexts.length, 0);
    const ports = makeUpCommand({ parts: fake.factory, env: { COXSWAIN_DATA_PORT_BASE: '80' } });
    await assert.rejects(ports.run(['-f', file, '--state-dir', stateDir], memoryOutput()), /COXSWAIN_DATA_PORT_BASE must be a port number 1024 … 55535/);
    await assert.rejects(command.run(['--state-dir', stateDir], memoryOutput()), /missing -f FILE/);

    // The same from the binary, with --detach: checked before anything starts in the background.
    const run = await runCli(['up', '-f', file, '--state-dir', stateDir, '--detach']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /coxswain up: .*desired_state\.jsonc cannot be run: no desired state was accepted/);
    assert.match(run.stderr, /desired_state\.jsonc:\d+:\d+: error: \$\.nodeGroups/);
    assert.equal(hasStackTrace(run.stderr), false);
    assert.equal(existsSync(stateLayout(stateDir).pidFile), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
