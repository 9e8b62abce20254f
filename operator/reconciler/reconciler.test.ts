import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { DesiredStateHistory } from '../../desired-state/history.ts';
import type { Desired } from '../../desired-state/types.ts';
import { validateDesiredStateText, type ValidationResult } from '../../desired-state/validate.ts';
import type { ObservedCluster } from '../model/observed.ts';
import { describeStep, type Plan } from '../model/step.ts';
import type { ClusterStatus } from '../model/status.ts';
import type { Job } from '../ports/journal.ts';
import { MemoryFactsStore } from '../executor/facts-store.ts';
import { MemoryJournal } from '../executor/journal-memory.ts';
import { FailedPreconditionError, StaleLeaderError, UnavailableError } from '../../proto/status.ts';
import { plan as realPlan } from '../planner/plan.ts';
import { Reconciler, ReconcilerRunningError } from './reconciler.ts';
import { ReconcilerOptionsError, type Planner, type ReconcilerOptions } from './options.ts';
import { FakeCluster } from './testing/fake-cluster.ts';
import { tinyPlanner } from './testing/tiny-planner.ts';
import { untilStatus } from './testing/until-status.ts';
import { VirtualClock } from '../../test/support/virtual-clock.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const BASE = { name: 'demo', engine: 'redis', version: '7.0', nodeGroups: 1, replicationFactor: 2, maxReplicationFactor: 3 };

interface Harness {
  r: Reconciler;
  c: FakeCluster;
  clock: VirtualClock;
  journal: MemoryJournal;
  facts: MemoryFactsStore;
  history: DesiredStateHistory;
  logs: { msg: string; level: number }[];
  /** Validates `fields` (over BASE) against the latest accepted state, as a file source would, and offers it. */
  offer(fields: Record<string, unknown>): ReturnType<Reconciler['offer']>;
  /** Lets virtual time pass, timer by timer, until `pred` holds for the status. */
  until(pred: (s: ClusterStatus) => boolean, what: string, maxMs?: number): Promise<ClusterStatus>;
  /** Lets `ms` of virtual time pass. */
  wait(ms: number): Promise<void>;
  stop(): Promise<string>;
  start(): void;
}

async function harness(options: Partial<ReconcilerOptions> = {}, shared?: Partial<Pick<Harness, 'c' | 'journal' | 'facts' | 'history' | 'clock'>>): Promise<Harness> {
  let history = shared?.history;
  const clock = shared?.clock ?? new VirtualClock();
  if (history === undefined) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-reconciler-'));
    dirs.push(dir);
    history = new DesiredStateHistory(dir, () => new Date(clock.now()));
  }
  const c = shared?.c ?? new FakeCluster();
  const journal = shared?.journal ?? new MemoryJournal();
  const facts = shared?.facts ?? new MemoryFactsStore();
  const logs: { msg: string; level: number }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as { msg: string; level: number }) });
  const r = new Reconciler({
    cluster: 'demo',
    history,
    provider: c,
    journal,
    facts,
    clock,
    epoch: 1,
    logger,
    planner: tinyPlanner,
    ...options,
  });
  const h = history;
  let ctl = new AbortController();
  let running: Promise<string> | undefined;
  const self: Harness = {
    r,
    c,
    clock,
    journal,
    facts,
    history: h,
    logs,
    offer: (fields) => {
      const latest = h.latest();
      const result = validateDesiredStateText(
        { file: 'desired.jsonc', text: JSON.stringify({ ...BASE, ...fields }) },
        latest === undefined ? {} : { previous: latest.desired, everRan: h.everRan() },
      );
      return r.offer(result, 'file:desired.jsonc');
    },
    until: (pred, what, maxMs) => untilStatus(r, clock, pred, what, maxMs),
    wait: (ms) => clock.advance(ms),
    stop: async () => {
      ctl.abort(new Error('test over'));
      const end = await clock.drive(running ?? Promise.resolve('not running'));
      running = undefined;
      return end;
    },
    start: () => {
      ctl = new AbortController();
      running = r.run(ctl.signal);
    },
  };
  self.start();
  return self;
}

/** Puts `hook` in front of every agent call of the fake: it sees the method and VM and may answer itself; `next()` lets the fake answer. */
function hookServe(c: FakeCluster, hook: (method: string, vmId: string, next: () => Promise<unknown>) => Promise<unknown>): void {
  const serve = c.serve.bind(c);
  c.serve = ((method, vmId, request, options, effect) => hook(method, vmId, () => serve(method, vmId, request, options, effect))) as FakeCluster['serve'];
}

const at = (id: number) => (s: ClusterStatus) => s.state === 'AT_DESIRED_STATE' && s.acceptedId === id;

test('reaches the desired state: jobs journaled, committed, progress counted, status shows the cluster', async () => {
  const h = await harness();
  const before = await h.r.status();
  assert.equal(before.acceptedId, null);
  const offered = await h.offer({ id: 1 });
  assert.equal(offered.status, 'accepted');
  assert.equal((await h.r.status()).state, 'WORKING_TOWARDS_DESIRED_STATE');
  const working = await h.until((s) => (s.progress?.done ?? 0) > 0, 'made progress');
  assert.equal(working.state, 'WORKING_TOWARDS_DESIRED_STATE');
  assert.ok((working.progress?.total ?? 0) > (working.progress?.done ?? 0));
  const s = await h.until(at(1), 'reached desired state 1');
  assert.equal(s.progress, null);
  assert.equal(s.lastError, null);
  assert.deepEqual(
    s.nodeGroups.map((g) => g.nodes.map((n) => [n.id, n.role, n.up])),
    [
      [
        ['vm-1', 'primary', true],
        ['vm-2', 'replica', true],
      ],
    ],
  );
  assert.deepEqual(
    s.agents.map((a) => [a.id, a.up]),
    [
      ['vm-1', true],
      ['vm-2', true],
    ],
  );
  const jobs = await h.r.jobs();
  assert.deepEqual(
    jobs.map((j) => j.intent),
    [
      'create VM vm-1 (small, 10 GiB, zone-a, node group 0)',
      'create VM vm-2 (small, 10 GiB, zone-a, node group 0)',
      'start data node vm-1 (version 7.0, node group 0, runningSince 0)',
      'start data node vm-2 (version 7.0, node group 0, runningSince 0)',
      'found the cluster with vm-1 as primary of slots 0-16383',
      'make vm-2 a replica of vm-1',
    ],
  );
  for (const j of jobs) {
    assert.equal(j.status, 'succeeded');
    assert.deepEqual(Object.keys(j.stages), ['submitted', 'scheduled', 'executed', 'finished', 'committed'], `${j.id} ${j.intent}`);
    assert.equal(j.source, 'reconcile desired state 1');
    assert.equal(j.desiredId, 1);
  }
  assert.deepEqual(await h.facts.load(), { restoredFrom: undefined, formed: true }, 'every slot served: the cluster is formed');
  assert.ok(h.logs.some((l) => l.msg === 'Reached desired state 1'));
  assert.ok(h.logs.some((l) => l.msg === 'Accepted desired state 1 from file:desired.jsonc'));
  assert.equal(await h.stop(), 'stopped');
});

test('offers: pending while working, replaced by a newer one, refusals change nothing, the pending one is taken at the end', async () => {
  const h = await harness();
  assert.equal((await h.offer({ id: 1 })).status, 'accepted');
  const pending = await h.offer({ id: 2, runningSince: 2 });
  assert.equal(pending.status, 'pending');
  assert.match(pending.message, /working towards desired state 1/);
  assert.equal((await h.r.status()).pendingId, 2);
  const newer = await h.offer({ id: 3, runningSince: 3 });
  assert.equal(newer.status, 'pending');
  assert.match(newer.message, /replaces the pending desired state 2/);
  const bad = await h.offer({ id: 4, nodeGroups: 0 });
  assert.equal(bad.status, 'refused');
  assert.match(bad.message, /nodeGroups/);
  const old = await h.offer({ id: 1 });
  assert.equal(old.status, 'ignored');
  const mid = await h.r.status();
  assert.equal(mid.state, 'WORKING_TOWARDS_DESIRED_STATE');
  assert.equal(mid.acceptedId, 1);
  assert.equal(mid.pendingId, 3, 'refused and ignored offers leave the pending one alone');
  assert.equal(mid.lastRefusal?.id, 1);
  assert.match(mid.lastRefusal?.reason ?? '', /not greater than the accepted id 1/);
  const end = await h.until(at(3), 'reached desired state 3');
  assert.equal(end.pendingId, null);
  assert.equal(end.lastRefusal, null, 'taking the pending one clears the refusal');
  assert.deepEqual(
    h.history.list().map((e) => e.id),
    [1, 3],
    'desired state 2 was replaced before it was accepted',
  );
  const starts = (await h.r.jobs()).filter((j) => j.step.kind === 'startDataNode');
  assert.ok(starts.some((j) => j.desiredId === 3 && j.intent.includes('runningSince 3')), 'the nodes were restarted for desired state 3');
  await h.stop();
});

test('a pending desired state is validated again against the latest accepted one when the work ends', async () => {
  const h = await harness();
  await h.offer({ id: 1 });
  // Validated by its source against nothing (as a stale caller might): valid there, but it renames the cluster.
  const stale: ValidationResult = validateDesiredStateText({ file: 'other.jsonc', text: JSON.stringify({ ...BASE, id: 2, name: 'other' }) });
  assert.equal(stale.verdict, 'valid');
  assert.equal((await h.r.offer(stale, 'file:other.jsonc')).status, 'pending');
  const s = await h.until((x) => x.state === 'AT_DESIRED_STATE', 'came to rest');
  assert.equal(s.acceptedId, 1);
  assert.equal(s.pendingId, null);
  assert.equal(s.lastRefusal?.id, 2);
  assert.match(s.lastRefusal?.reason ?? '', /other\.jsonc:1:\d+: error: \$\.name/);
  await h.stop();
});

test('a step that keeps failing: each job retries with the delay list, ERROR_STATE after maxAttempts jobs, then a newer desired state leaves it', async () => {
  const h = await harness({ maxAttempts: 2, maxCallAttempts: 3, retryDelaysMs: [100, 700] });
  h.c.fail('StartDataNode', () => new UnavailableError('the disk is full'), 1_000_000, 'vm-2');
  await h.offer({ id: 1 });
  const s = await h.until((x) => x.state === 'ERROR_STATE', 'entered ERROR_STATE');
  const failed = (await h.r.jobs()).filter((j) => j.status === 'failed');
  assert.equal(failed.length, 2);
  for (const j of failed) {
    assert.equal(j.intent, 'start data node vm-2 (version 7.0, node group 0, runningSince 0)');
    assert.equal(j.commands.length, 3);
    assert.deepEqual(gaps(j), [100, 700], 'the delays between the calls of one job');
    assert.equal(new Set(h.c.callsOf('StartDataNode').filter((c) => c.vmId === 'vm-2').map((c) => c.idempotencyKey)).size, 2, 'one key per job');
  }
  // Between the two jobs the reconciler waited the first delay too.
  assert.ok(Date.parse(failed[1]?.stages.submitted ?? '') - Date.parse(failed[0]?.stages.finished ?? '') >= 100);
  assert.equal(s.lastError?.step, 'start data node vm-2 (version 7.0, node group 0, runningSince 0)');
  assert.match(s.lastError?.reason ?? '', /the disk is full \(UNAVAILABLE\)/);
  assert.match(s.lastError?.reason ?? '', /2 failed jobs, 6 calls/);
  assert.equal(s.lastError?.jobId, failed[1]?.id);
  assert.equal(s.lastError?.attempts, 6);
  assert.ok(h.logs.some((l) => l.msg.startsWith('Entered ERROR_STATE: start data node vm-2')));
  // In ERROR_STATE it keeps observing but does not try the step again.
  const reads = h.c.callsOf('GetState').length;
  const starts = h.c.callsOf('StartDataNode').length;
  await h.wait(10_000);
  assert.ok(h.c.callsOf('GetState').length > reads, 'it keeps observing');
  assert.equal(h.c.callsOf('StartDataNode').length, starts, 'the failing step is not tried again');
  assert.equal((await h.r.status()).state, 'ERROR_STATE');
  // A newer desired state is accepted at once and leaves ERROR_STATE.
  h.c.clearFaults();
  assert.equal((await h.offer({ id: 2 })).status, 'accepted');
  const s2 = await h.r.status();
  assert.equal(s2.state, 'WORKING_TOWARDS_DESIRED_STATE');
  assert.equal(s2.lastError, null);
  await h.until(at(2), 'reached desired state 2');
  await h.stop();
});

test('a terminal error is not retried within its job; the step fails a new job each pass until maxAttempts', async () => {
  const h = await harness({ maxAttempts: 3, retryDelaysMs: [1000, 2000] });
  h.c.fail('JoinNode', () => new FailedPreconditionError('the node is busy'), 1_000_000, 'vm-2');
  await h.offer({ id: 1 });
  const s = await h.until((x) => x.state === 'ERROR_STATE', 'entered ERROR_STATE');
  const failed = (await h.r.jobs()).filter((j) => j.status === 'failed');
  assert.equal(failed.length, 3);
  assert.deepEqual(
    failed.map((j) => j.commands.map((c) => c.result)),
    [['terminal-error'], ['terminal-error'], ['terminal-error']],
  );
  const between = failed.slice(1).map((j, i) => Date.parse(j.stages.submitted ?? '') - Date.parse(failed[i]?.stages.finished ?? ''));
  assert.ok((between[0] ?? 0) >= 1000 && (between[1] ?? 0) >= 2000, `the pauses between the jobs follow the delay list: ${between.join(', ')}`);
  assert.equal(s.lastError?.attempts, 3);
  assert.match(s.lastError?.reason ?? '', /JoinNode on vm-2: the node is busy \(FAILED_PRECONDITION\)/);
  await h.stop();
});

test('drift at rest: AT_DESIRED_STATE becomes WORKING, then AT again', async () => {
  const h = await harness();
  await h.offer({ id: 1 });
  await h.until(at(1), 'reached desired state 1');
  const jobsBefore = (await h.r.jobs()).length;
  const node = h.c.vms.get('vm-2')?.nodes.get('vm-2');
  assert.ok(node);
  node.up = false; // the data node crashed
  await h.until((s) => s.state === 'WORKING_TOWARDS_DESIRED_STATE', 'noticed the drift');
  await h.until(at(1), 'repaired the drift');
  const repairs = (await h.r.jobs()).slice(jobsBefore);
  assert.deepEqual(
    repairs.map((j) => [j.intent, j.status]),
    [['start data node vm-2 (version 7.0, node group 0, runningSince 0)', 'succeeded']],
  );
  assert.ok(h.logs.some((l) => /^Started working towards desired state 1: drifted/.test(l.msg)));
  await h.stop();
});

test('a node killed as its step ended: the leader plans its repair at once, not after the settle time limit', async () => {
  const c = new FakeCluster();
  let killed = false;
  // vm-2's data node dies the moment its join succeeds: the join's effect (an up replica)
  // cannot become visible until a new plan starts the node again.
  hookServe(c, async (method, vmId, next) => {
    const out = await next();
    const node = c.vms.get('vm-2')?.nodes.get('vm-2');
    if (method === 'JoinNode' && vmId === 'vm-2' && !killed && node !== undefined) {
      killed = true;
      node.up = false;
    }
    return out;
  });
  const h = await harness({ settleTimeoutMs: 30_000 }, { c });
  await h.offer({ id: 1 });
  await h.until(at(1), 'reached desired state 1');
  assert.ok(killed, 'the join ran and its node was killed');
  const jobs = await h.r.jobs();
  const join = jobs.find((j) => j.intent === 'make vm-2 a replica of vm-1');
  const restart = jobs.filter((j) => j.intent.startsWith('start data node vm-2')).at(-1);
  assert.ok(join !== undefined && restart !== undefined && restart.id > join.id, jobs.map((j) => j.intent).join('; '));
  const gapMs = Date.parse(restart.stages.submitted ?? '') - Date.parse(join.stages.finished ?? '');
  assert.ok(gapMs < 5_000, `the start of vm-2 was submitted ${gapMs} ms after the join finished (the settle limit is 30 s)`);
  assert.ok(h.logs.some((l) => /became visible: the data node vm-2 of vm-2 went down$/.test(l.msg)));
  await h.stop();
});

test('a node killed while a batch waits: the batch is stopped and the repair planned at once, not after the waiting step gives up', async () => {
  const c = new FakeCluster();
  let hung = false;
  // vm-2's join never answers (as a join waiting for the members to agree with a node
  // that was just killed); meanwhile the primary vm-1 dies.
  hookServe(c, (method, vmId, next) => {
    if (method === 'JoinNode' && vmId === 'vm-2' && !hung) {
      hung = true;
      const node = c.vms.get('vm-1')?.nodes.get('vm-1');
      if (node !== undefined) node.up = false;
      return new Promise(() => undefined);
    }
    return next();
  });
  const h = await harness({ settleTimeoutMs: 30_000 }, { c });
  await h.offer({ id: 1 });
  await h.until(() => hung, 'the join of vm-2 started');
  const startedAt = h.clock.now();
  await h.until(at(1), 'reached desired state 1 after the repair');
  const jobs = await h.r.jobs();
  const join = jobs.find((j) => j.intent === 'make vm-2 a replica of vm-1');
  assert.equal(join?.status, 'abandoned', jobs.map((j) => `${j.intent}: ${j.status}`).join('; '));
  assert.match(join?.error ?? '', /the data node vm-1 of vm-1 went down while the batch ran; the leader stopped the batch to repair it first/);
  const restart = jobs.filter((j) => j.intent.startsWith('start data node vm-1')).at(-1);
  const ms = Date.parse(restart?.stages.submitted ?? '') - startedAt;
  assert.ok(ms < 5_000, `the start of vm-1 was submitted ${ms} ms after the kill (a join's deadline is 60 s)`);
  assert.ok(h.logs.some((l) => /^Stopped the batch: the data node vm-1 of vm-1 went down while it ran/.test(l.msg)));
  await h.stop();
});

test('a restarted leader marks the jobs its predecessor left running abandoned and carries on', async () => {
  const first = await harness();
  await first.offer({ id: 1 });
  await first.until(at(1), 'reached desired state 1');
  await first.stop();
  // The first leader died while a job ran.
  const orphan: Job = {
    ...((await first.journal.get('1')) as Job),
    id: await first.journal.nextId(),
    status: 'running',
    stages: { submitted: 'x', scheduled: 'x', executed: 'x' },
  };
  delete orphan.error;
  await first.journal.record(orphan);
  const vm2 = first.c.vms.get('vm-2')?.nodes.get('vm-2');
  assert.ok(vm2);
  vm2.up = false;
  const second = await harness({ epoch: 2 }, { c: first.c, journal: first.journal, facts: first.facts, history: first.history, clock: first.clock });
  await second.until(at(1), 'reached desired state 1 again');
  const abandoned = await second.journal.get(orphan.id);
  assert.equal(abandoned?.status, 'abandoned');
  assert.match(abandoned?.error ?? '', /leader of epoch 1 stopped/);
  assert.ok(abandoned?.stages.finished !== undefined);
  const last = (await second.r.jobs()).at(-1);
  assert.equal(last?.epoch, 2);
  assert.equal(last?.intent, 'start data node vm-2 (version 7.0, node group 0, runningSince 0)');
  assert.ok(second.logs.some((l) => l.msg === `Marked job ${orphan.id} abandoned: its leader stopped while it ran`));
  await second.stop();
});

test('a restarted leader remembers how often a step failed for the same desired state', async () => {
  const first = await harness({ maxAttempts: 3, maxCallAttempts: 1 });
  first.c.fail('JoinNode', () => new UnavailableError('flaky'), 1_000_000, 'vm-2');
  await first.offer({ id: 1 });
  await first.until(() => first.journal.events.filter((j) => j.status === 'failed').length === 2, 'failed twice');
  await first.stop();
  const second = await harness({ epoch: 2, maxAttempts: 3, maxCallAttempts: 1 }, { c: first.c, journal: first.journal, facts: first.facts, history: first.history, clock: first.clock });
  const s = await second.until((x) => x.state === 'ERROR_STATE', 'entered ERROR_STATE');
  assert.match(s.lastError?.reason ?? '', /3 failed jobs/);
  assert.equal((await second.r.jobs()).filter((j) => j.status === 'failed' && j.epoch === 2).length, 1, 'one more try, not three');
  await second.stop();
});

test('waiting without progress for stuckTimeoutMs is ERROR_STATE "stuck waiting for …"; a step to take leaves it', async () => {
  let mode: 'wait' | 'tiny' = 'wait';
  const planner: Planner = (d, o) => (mode === 'wait' ? { next: [], done: false, waiting: ['the moon to rise'], remaining: 1, blocked: [] } : tinyPlanner(d, o));
  const h = await harness({ planner, stuckTimeoutMs: 60_000 });
  await h.offer({ id: 1 });
  const s = await h.until((x) => x.state === 'ERROR_STATE', 'got stuck');
  assert.match(s.lastError?.reason ?? '', /^stuck waiting for the moon to rise \(no step could be taken for 60 s\)/);
  assert.deepEqual(s.waiting, ['the moon to rise']);
  mode = 'tiny';
  await h.until(at(1), 'went back to work and reached desired state 1');
  await h.stop();
});

test('a blocked plan is ERROR_STATE with the reasons at once; a pending desired state is then accepted', async () => {
  const planner: Planner = (d, o) => (d.id === 1 ? { next: [], done: false, waiting: [], remaining: 1, blocked: ['every replica of ng0 is lost'] } : tinyPlanner(d, o));
  const h = await harness({ planner });
  await h.offer({ id: 1 });
  assert.equal((await h.offer({ id: 2 })).status, 'pending');
  await h.until((x) => x.acceptedId === 2, 'accepted the pending desired state');
  const errors = h.logs.filter((l) => l.msg.startsWith('Entered ERROR_STATE'));
  assert.deepEqual(
    errors.map((l) => l.msg),
    ['Entered ERROR_STATE: plan: every replica of ng0 is lost'],
  );
  await h.until(at(2), 'reached desired state 2');
  await h.stop();
});

test('a planner that throws is ERROR_STATE with its message (logged once); planning that works again leaves it', async () => {
  let broken = true;
  const planner: Planner = (d, o) => {
    if (broken) throw new Error('planner bug: no layout for 0 zones');
    return tinyPlanner(d, o);
  };
  const h = await harness({ planner });
  await h.offer({ id: 1 });
  const s = await h.until((x) => x.state === 'ERROR_STATE', 'entered ERROR_STATE');
  assert.deepEqual(s.lastError && [s.lastError.step, s.lastError.reason], ['reconcile', 'planner bug: no layout for 0 zones']);
  await h.wait(5000);
  assert.equal(h.logs.filter((l) => l.msg.startsWith('Failed a reconcile pass')).length, 1);
  broken = false;
  await h.until(at(1), 'recovered');
  await h.stop();
});

test('fenced off by a newer leader: run() ends with "fenced" and nothing more is sent', async () => {
  const h = await harness();
  h.c.fail('provider.create', () => new StaleLeaderError(1, 2), 1_000_000);
  await h.offer({ id: 1 });
  const s = await h.until((x) => x.state === 'ERROR_STATE', 'was fenced');
  assert.match(s.lastError?.reason ?? '', /a newer leader has taken over/);
  assert.equal(await h.stop(), 'fenced');
  assert.equal(h.c.callsOf('provider.create').length, 2, 'one batch of two creates, then nothing');
  const late = await h.offer({ id: 2 });
  assert.equal(late.status, 'refused');
  assert.match(late.message, /fenced off by a newer one/);
  assert.equal((await h.r.status()).acceptedId, 1);
});

test('a successful restore is recorded in the facts before its job finishes', async () => {
  const planner: Planner = (_d, o): Plan =>
    o.facts.restoredFrom === 'nightly'
      ? { next: [], done: true, waiting: [], remaining: 0, blocked: [] }
      : {
          next: [{ step: { kind: 'restoreBackup', vmId: 'vm-1', backupId: 'nightly', sink: { type: 'local', path: '/b' }, nodeIds: ['vm-1'] }, why: 'fill it' }],
          done: false,
          waiting: [],
          remaining: 1,
          blocked: [],
        };
  const c = new FakeCluster();
  await c.create({ id: 'vm-1', zone: 'zone-a', vmType: 'small', storageGiB: 10, nodeGroup: 0, temporary: false, agentRunningSince: 0 });
  await c.agent('vm-1').startDataNode({ job: { jobId: 't' }, nodeId: 'vm-1', port: 7001, version: '7.0' });
  const h = await harness({ planner }, { c });
  const sink = { type: 'local', path: '/b' };
  assert.equal((await h.offer({ id: 1, backups: [{ id: 'nightly', sink }], restoreFromBackup: { id: 'nightly', sink } })).status, 'accepted');
  await h.until(at(1), 'restored');
  assert.deepEqual(await h.facts.load(), { restoredFrom: 'nightly', formed: true });
  const [job] = await h.r.jobs();
  assert.equal(job?.status, 'succeeded');
  assert.ok(job?.stages.committed !== undefined, 'committed: the facts show the restore');
  await h.stop();
});

test('preview observes and plans, executing nothing', async () => {
  const h = await harness();
  const d = validateDesiredStateText({ file: 'd', text: JSON.stringify({ ...BASE, id: 1 }) }).desired as Desired;
  const { plan, observed } = await h.clock.drive(h.r.preview(d));
  assert.deepEqual(
    plan.next.map((p) => describeStep(p.step)),
    ['create VM vm-1 (small, 10 GiB, zone-a, node group 0)', 'create VM vm-2 (small, 10 GiB, zone-a, node group 0)'],
  );
  assert.deepEqual(observed.vms, []);
  assert.equal(h.c.calls.filter((c) => c.method.startsWith('provider.')).length, 0);
  assert.equal((await h.r.jobs()).length, 0);
  await h.stop();
});

test('the real planner forms a cluster through the reconciler', async () => {
  const h = await harness({ planner: realPlan });
  await h.offer({ id: 1, availabilityZones: ['zone-a', 'zone-b'] });
  const s = await h.until(at(1), 'reached desired state 1 with the real planner');
  assert.equal(s.nodeGroups.length, 1);
  assert.deepEqual(s.nodeGroups[0]?.nodes.map((n) => n.role).sort(), ['primary', 'replica']);
  assert.ok((await h.r.jobs()).every((j) => j.status === 'succeeded'));
  await h.stop();
});

test('a failed member no VM runs (a ghost): AT_DESIRED_STATE turns WORKING, every member forgets it in one job, then AT again', async () => {
  const h = await harness({ planner: realPlan });
  await h.offer({ id: 1, availabilityZones: ['zone-a', 'zone-b'] });
  await h.until(at(1), 'reached desired state 1 with the real planner');
  const jobsBefore = (await h.r.jobs()).length;
  const ghost = 'c0ffee'.padEnd(40, '0');
  h.c.addGhost(ghost);
  await h.until((s) => s.state === 'WORKING_TOWARDS_DESIRED_STATE', 'noticed the ghost');
  await h.until(at(1), 'forgot the ghost');
  const forgets = (await h.r.jobs()).slice(jobsBefore);
  assert.deepEqual(
    forgets.map((j) => [j.intent, j.status, j.commands.map((c) => c.command)]),
    [['forget failed node c0ffee00… on vm-1, vm-2', 'succeeded', ['ForgetNode on vm-1', 'ForgetNode on vm-2']]],
  );
  assert.deepEqual([...h.c.ghosts.keys()], []);
  assert.ok(h.logs.some((l) => /^Started working towards desired state 1: drifted from desired state 1: Node c0ffee00… is a failed member/.test(l.msg)));
  await h.stop();
});

test('one loop at a time; options are validated once', async () => {
  const h = await harness();
  await assert.rejects(h.r.run(new AbortController().signal), ReconcilerRunningError);
  await h.stop();
  assert.throws(
    () =>
      new Reconciler({
        cluster: '',
        history: h.history,
        provider: h.c,
        journal: h.journal,
        facts: h.facts,
        epoch: -1,
        maxAttempts: 0,
        observeIntervalMs: 0,
        retryDelaysMs: [],
      }),
    (err: unknown) => err instanceof ReconcilerOptionsError && err.problems.length === 5,
  );
});

/** The time between the end of each call of a job and the start of its next one, in ms. */
function gaps(j: Job): number[] {
  return j.commands.slice(1).map((c, i) => Date.parse(c.startedAt) - Date.parse(j.commands[i]?.endedAt ?? ''));
}

// Keeps the import of ObservedCluster meaningful for readers of planner signatures.
export type { ObservedCluster };
