// The command line's answers against a running leader that follows a file, as a person
// gets them: the real `coxswain` binary (wait, status --json, logs) against a leader
// started here with the real reconciler and planner over an in-memory cluster
// (operator/reconciler/testing/fake-cluster.ts), so an edit of the file travels the
// whole way: file source → reconciler → status → the command's verdict and exit code.
//   - an edit saved without raising id: wait exits 4 saying it was ignored and how to
//     fix it (it said AT_DESIRED_STATE and exited 0), and status tells the same;
//   - replicationFactor 9 with maxReplicationFactor 3: refused naming
//     maxReplicationFactor (3), in wait and in status;
//   - a raised id: wait exits 0 at that id; logs shows the events readably;
//   - once the leader is gone: wait exits 6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryFactsStore } from '../executor/facts-store.ts';
import { MemoryJournal } from '../executor/journal-memory.ts';
import { editJsonc } from '../demo/edit-jsonc.ts';
import { startLeader, type LeaderParts } from '../leader/leader.ts';
import type { ClusterStatus } from '../model/status.ts';
import { plan } from '../planner/plan.ts';
import { Reconciler } from '../reconciler/reconciler.ts';
import { FakeCluster } from '../reconciler/testing/fake-cluster.ts';
import { runCli, hasStackTrace } from '../../test/support/run-cli.ts';

const example = readFileSync(new URL('../../desired-state/desired_state.jsonc', import.meta.url), 'utf8');

test('wait, status and logs tell the truth about the edits of the followed file', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-answers-'));
  const stateDir = path.join(dir, 'state');
  const file = path.join(dir, 'desired_state.jsonc');
  const cli = (args: string[]) => runCli([...args, '--state-dir', stateDir], { cwd: dir, timeoutMs: 30_000 });
  let text = editJsonc(example, { nodeGroups: 1 });
  writeFileSync(file, text);
  const leader = await startLeader({
    stateDir,
    file,
    debounceMs: 50,
    // Any provider, through the factory the leader is given (here the reconciler's fake).
    provider: () => Promise.resolve(new FakeCluster()),
    parts: async (ctx): Promise<LeaderParts> => {
      const provider = await ctx.provider({ stateDir: ctx.layout.stateDir, epoch: ctx.epoch, secret: ctx.secret, logger: ctx.logger });
      const journal = new MemoryJournal();
      const reconciler = new Reconciler({
        cluster: ctx.cluster,
        history: ctx.history,
        provider,
        journal,
        facts: new MemoryFactsStore(),
        epoch: ctx.epoch,
        logger: ctx.logger.child({ part: 'reconciler' }),
        planner: plan,
        observeIntervalMs: 50,
        settleIntervalMs: 10,
      });
      return { provider, journal, reconciler };
    },
  });
  try {
    const first = await cli(['wait', '--timeout', '30']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /AT_DESIRED_STATE: desired state 1 \(waited/);

    // Saved without raising id; wait runs at once (before the leader's debounced reading).
    writeFileSync(file, editJsonc(text, { replicationFactor: 3 }));
    const ignored = await cli(['wait', '--timeout', '30']);
    assert.equal(ignored.code, 4, ignored.stdout + ignored.stderr);
    assert.doesNotMatch(ignored.stdout, /AT_DESIRED_STATE: desired state 1 \(waited/);
    assert.match(ignored.stderr, new RegExp(`coxswain wait: the edit in ${escape(file)} was ignored: the file's id 1 is not higher than the accepted id 1: raise "id" to 2 or more and save it again; the cluster keeps desired state 1:`));
    assert.match(ignored.stderr, /desired_state\.jsonc:\d+:\d+: error: \$\.id: id 1 is not greater than the accepted id 1/);
    const afterIgnored = await status(cli);
    assert.equal(afterIgnored.file?.outcome, 'ignored');
    assert.equal(afterIgnored.file?.id, 1);
    assert.equal(afterIgnored.file?.path, file);
    assert.equal(afterIgnored.lastRefusal?.id, 1);
    assert.equal(afterIgnored.acceptedId, 1);
    // --id keeps its meaning: desired state 1 is reached.
    assert.equal((await cli(['wait', '--id', '1', '--timeout', '10'])).code, 0);

    // Above maxReplicationFactor: refused, naming the bound that applies.
    writeFileSync(file, editJsonc(text, { id: 2, replicationFactor: 9 }));
    const refused = await cli(['wait', '--timeout', '30']);
    assert.equal(refused.code, 4, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /was refused; the cluster keeps desired state 1\. Fix the file and save it again:\n.*desired_state\.jsonc:\d+:\d+: error: \$\.replicationFactor: must be at most maxReplicationFactor \(3\), got 9/);
    assert.equal(hasStackTrace(refused.stderr), false);
    const afterRefused = await status(cli);
    assert.equal(afterRefused.file?.outcome, 'refused');
    assert.match(afterRefused.lastRefusal?.reason ?? '', /must be at most maxReplicationFactor \(3\), got 9/);
    assert.match(afterRefused.file?.reason ?? '', /must be at most maxReplicationFactor \(3\), got 9/);
    const plainStatus = await cli(['status']);
    assert.match(plainStatus.stdout + plainStatus.stderr, /maxReplicationFactor \(3\), got 9/);
    assert.equal((await cli(['wait', '--id', '2', '--timeout', '10'])).code, 4, '--id 2 was refused');

    // A raised id: reached.
    text = editJsonc(text, { id: 3, replicationFactor: 3 });
    writeFileSync(file, text);
    const reached = await cli(['wait', '--timeout', '30']);
    assert.equal(reached.code, 0, reached.stdout + reached.stderr);
    assert.match(reached.stdout, /AT_DESIRED_STATE: desired state 3 \(waited/);
    const last = await status(cli);
    assert.equal(last.file?.outcome, 'accepted');
    assert.equal(last.nodeGroups.flatMap((g) => g.nodes).length, 3);

    const logs = await cli(['logs']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^\S+Z {2}INFO {3}Started the leader of cluster demo with epoch 1 /m);
    assert.match(logs.stdout, /^\S+Z {2}WARN {3}Ignored an edit of the desired-state file: its id is not above the accepted one; raise "id" to apply it {2}.*outcome=ignored/m);
    assert.match(logs.stdout, /^\S+Z {2}WARN {3}Refused an edit of the desired-state file.*maxReplicationFactor \(3\), got 9/m);
    const secret = readFileSync(path.join(stateDir, 'secret'), 'utf8').trim();
    const token = (JSON.parse(readFileSync(path.join(stateDir, 'leader.json'), 'utf8')) as { token: string }).token;
    const json = await cli(['logs', '--json']);
    for (const out of [logs.stdout, json.stdout]) assert.ok(!out.includes(secret) && !out.includes(token), 'no credential is printed');
    assert.ok(json.stdout.trimEnd().split('\n').every((l) => JSON.parse(l) !== null));
  } finally {
    await leader.stop();
  }
  try {
    const gone = await cli(['wait', '--timeout', '5']);
    assert.equal(gone.code, 6, gone.stdout + gone.stderr);
    assert.match(gone.stderr, /no leader is running for .*; start one with: coxswain up -f FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function status(cli: (args: string[]) => ReturnType<typeof runCli>): Promise<ClusterStatus> {
  const run = await cli(['status', '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ClusterStatus;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
