// The reconciler's liveness guarantee (reconciler.ts, step-failures.ts): a step whose job
// "succeeds" but whose effect never shows, or whose effect is undone each time, ends in
// ERROR_STATE after maxAttempts, naming the step, the effect waited for and what was
// observed; a pending desired state is then accepted. Each of these looped for ever
// before (the trial's backup with a relative path: "create backup" every 30 s, WORKING
// for over ten minutes, the next edit waiting behind it).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { DesiredStateHistory } from '../../desired-state/history.ts';
import { validateDesiredStateText } from '../../desired-state/validate.ts';
import type { ClusterStatus } from '../model/status.ts';
import { MemoryFactsStore } from '../executor/facts-store.ts';
import { MemoryJournal } from '../executor/journal-memory.ts';
import { plan as realPlan } from '../planner/plan.ts';
import { Reconciler } from './reconciler.ts';
import type { ReconcilerOptions } from './options.ts';
import { FakeCluster } from './testing/fake-cluster.ts';
import { tinyPlanner } from './testing/tiny-planner.ts';
import { untilStatus } from './testing/until-status.ts';
import { VirtualClock } from '../../test/support/virtual-clock.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const BASE = { name: 'demo', engine: 'redis', version: '7.0', nodeGroups: 1, replicationFactor: 2, maxReplicationFactor: 3, availabilityZones: ['zone-a', 'zone-b'] };

interface Shared {
  clock: VirtualClock;
  history: DesiredStateHistory;
  journal: MemoryJournal;
  facts: MemoryFactsStore;
}

async function start(c: FakeCluster, options: Partial<ReconcilerOptions> = {}, shared?: Shared) {
  const clock = shared?.clock ?? new VirtualClock();
  let history = shared?.history;
  if (history === undefined) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-liveness-'));
    dirs.push(dir);
    history = new DesiredStateHistory(dir, () => new Date(clock.now()));
  }
  const journal = shared?.journal ?? new MemoryJournal();
  const facts = shared?.facts ?? new MemoryFactsStore();
  const r = new Reconciler({ cluster: 'demo', history, provider: c, journal, facts, clock, epoch: 1, planner: realPlan, ...options });
  const ctl = new AbortController();
  const running = r.run(ctl.signal);
  return {
    r,
    clock,
    journal,
    shared: { clock, history, journal, facts } satisfies Shared,
    offer(fields: Record<string, unknown>) {
      const latest = history.latest();
      const result = validateDesiredStateText(
        { file: 'desired.jsonc', text: JSON.stringify({ ...BASE, ...fields }) },
        latest === undefined ? {} : { previous: latest.desired, everRan: history.everRan() },
      );
      return r.offer(result, 'file:desired.jsonc');
    },
    until: (pred: (s: ClusterStatus) => boolean, what: string, maxMs?: number) => untilStatus(r, clock, pred, what, maxMs),
    async stop() {
      ctl.abort(new Error('test over'));
      await clock.drive(running);
    },
  };
}

/** Every CreateBackup lands in a directory of the VM that took it (as a relative path did), so the sink's listing never shows it. */
function perVmBackups(c: FakeCluster): void {
  const serve = c.serve.bind(c);
  c.serve = ((method, vmId, request, options, effect) =>
    serve(method, vmId, request, options, (vm) => {
      const out = effect(vm);
      if (method === 'CreateBackup') {
        const r = request as { backupId?: string; sink?: { local?: { path?: string } } };
        const key = `local:${r.sink?.local?.path ?? ''}`;
        c.backups.get(key)?.delete(r.backupId ?? '');
        const mine = c.backups.get(`${key}/${vmId}`) ?? new Set<string>();
        mine.add(r.backupId ?? '');
        c.backups.set(`${key}/${vmId}`, mine);
      }
      return out;
    })) as FakeCluster['serve'];
}

const at = (id: number) => (s: ClusterStatus) => s.state === 'AT_DESIRED_STATE' && s.acceptedId === id;

test('a backup that "succeeds" but never shows in its sink: ERROR_STATE within a minute, the journal says why, the pending edit is accepted and reached', async () => {
  const c = new FakeCluster();
  const h = await start(c);
  await h.offer({ id: 1 });
  await h.until(at(1), 'reached desired state 1');
  perVmBackups(c);
  const sink = { type: 'local', path: '/srv/backups' };
  await h.offer({ id: 2, backups: [{ id: 'rel1', sink }] });
  await h.until((s) => s.state === 'WORKING_TOWARDS_DESIRED_STATE' && (s.progress?.done ?? 0) > 0, 'ran the backup once');
  const startedAt = h.clock.now();
  // The next edit waits behind the work on desired state 2 …
  const pending = await h.offer({ id: 3, backups: [] });
  assert.equal(pending.status, 'pending');
  const failed = await h.until((s) => s.state === 'ERROR_STATE' || s.acceptedId === 3, 'gave up on the backup');
  const tookMs = h.clock.now() - startedAt;
  assert.ok(tookMs < 60_000, `gave up after ${tookMs} ms of virtual time`);
  // … and once the leader gives up (ERROR_STATE for 2), it is accepted at once.
  assert.equal(failed.acceptedId, 3, 'the pending desired state 3 was accepted when the leader gave up on 2');
  const jobs = await h.r.jobs();
  const backups = jobs.filter((j) => j.intent.startsWith('create backup rel1'));
  assert.equal(backups.length, 5, `five attempts (maxAttempts), then no more: ${backups.map((j) => j.intent).join('; ')}`);
  for (const j of backups) {
    assert.equal(j.status, 'succeeded');
    assert.equal(j.stages.committed, undefined, 'never committed: the effect never showed');
    assert.match(j.ineffective ?? '', /effect was not visible .* later: wanted sink local:\/srv\/backups lists backup rel1 as complete; observed sink local:\/srv\/backups lists none/);
  }
  await h.until(at(3), 'reached desired state 3');
  await h.stop();
});

test('without a newer desired state, ERROR_STATE names the step, the effect and what was observed, and the step is not tried again', async () => {
  const c = new FakeCluster();
  const h = await start(c, { maxAttempts: 3 });
  await h.offer({ id: 1 });
  await h.until(at(1), 'reached desired state 1');
  perVmBackups(c);
  await h.offer({ id: 2, backups: [{ id: 'b1', sink: { type: 'local', path: '/srv/b' } }] });
  const s = await h.until((x) => x.state === 'ERROR_STATE', 'entered ERROR_STATE');
  assert.match(s.lastError?.step ?? '', /^create backup b1/);
  assert.match(s.lastError?.reason ?? '', /succeeded, but its effect was not visible .*wanted sink local:\/srv\/b lists backup b1 as complete; observed .* \(3 attempts in all/);
  const calls = c.callsOf('CreateBackup').length;
  await h.until(() => false, 'idle', 60_000).catch(() => undefined);
  assert.equal(c.callsOf('CreateBackup').length, calls, 'in ERROR_STATE the step is not run again');
  assert.equal((await h.r.status()).state, 'ERROR_STATE');
  await h.stop();
});

test('a node that dies each time it is started: ERROR_STATE after maxAttempts starts, not an endless loop', async () => {
  const c = new FakeCluster();
  // vm-2's data node dies the moment its start answers.
  const serve = c.serve.bind(c);
  c.serve = ((method, vmId, request, options, effect) =>
    serve(method, vmId, request, options, (vm) => {
      const out = effect(vm);
      if (method === 'StartDataNode' && vmId === 'vm-2') for (const n of vm.nodes.values()) n.up = false;
      return out;
    })) as FakeCluster['serve'];
  const h = await start(c, { planner: tinyPlanner, maxAttempts: 4 });
  await h.offer({ id: 1 });
  const s = await h.until((x) => x.state === 'ERROR_STATE', 'entered ERROR_STATE', 10 * 60_000);
  assert.match(s.lastError?.step ?? '', /^start data node vm-2/);
  assert.match(s.lastError?.reason ?? '', /observed data node vm-2 is down/);
  assert.equal(c.callsOf('StartDataNode').filter((x) => x.vmId === 'vm-2').length, 4);
  await h.stop();
});

test('a node whose start takes effect and that dies before the work is done, again and again: ERROR_STATE once its effect was undone maxAttempts times', async () => {
  const c = new FakeCluster();
  // vm-2's data node starts (and is seen up), then dies, its cluster config lost, when it is asked to join: within
  // one reconcile, its start is planned again and again.
  const serve = c.serve.bind(c);
  c.serve = ((method, vmId, request, options, effect) =>
    serve(method, vmId, request, options, (vm) => {
      const out = effect(vm);
      if (method === 'JoinNode' && vmId === 'vm-2') {
        for (const n of vm.nodes.values()) Object.assign(n, { up: false, role: 'none', primary: '' }); // crashed, its cluster config lost
      }
      return out;
    })) as FakeCluster['serve'];
  const h = await start(c, { planner: tinyPlanner, maxAttempts: 3 });
  await h.offer({ id: 1 });
  const s = await h.until((x) => x.state === 'ERROR_STATE', 'entered ERROR_STATE');
  assert.match(s.lastError?.step ?? '', /^start data node vm-2/);
  assert.match(s.lastError?.reason ?? '', /its effect was seen 3 times while working towards desired state 1 and was undone each time.*observed data node vm-2 is down/);
  const starts = h.journal.events.filter((j) => j.intent.startsWith('start data node vm-2') && j.stages.committed !== undefined);
  assert.equal(new Set(starts.map((j) => j.id)).size, 3, 'three starts took effect');
  await h.stop();
});

test('a valid desired state the planner cannot reach from the cluster as it is now is refused when offered, and the cluster stays on the accepted one', async () => {
  const c = new FakeCluster();
  // The real planner, plus one block that depends on the candidate and the observation
  // (as a rolling change of a one-node group without temporary VMs does).
  const planner: typeof realPlan = (d, o) => {
    const p = realPlan(d, o);
    return d.config['notify-keyspace-events'] === 'KEA' && o.vms.length > 0 ? { ...p, next: [], done: false, blocked: ['this change needs what the cluster does not have'] } : p;
  };
  const h = await start(c, { planner });
  await h.offer({ id: 1 });
  await h.until(at(1), 'reached desired state 1');
  const refused = await h.offer({ id: 2, config: { 'notify-keyspace-events': 'KEA' } });
  assert.equal(refused.status, 'refused');
  assert.match(refused.message, /cannot be reached from the cluster as it is now: this change needs what the cluster does not have/);
  const s = await h.r.status();
  assert.equal(s.state, 'AT_DESIRED_STATE');
  assert.equal(s.acceptedId, 1);
  assert.match(s.lastRefusal?.reason ?? '', /cannot be reached/);
  assert.equal((await h.offer({ id: 3, replicationFactor: 3 })).status, 'accepted', 'a reachable one is still taken');
  await h.until(at(3), 'reached desired state 3');
  await h.stop();
});

test('a restarted leader remembers the attempts whose effect never showed: one more try, not a fresh budget', async () => {
  const c = new FakeCluster();
  const first = await start(c, { maxAttempts: 3 });
  await first.offer({ id: 1 });
  await first.until(at(1), 'reached desired state 1');
  perVmBackups(c);
  await first.offer({ id: 2, backups: [{ id: 'b1', sink: { type: 'local', path: '/srv/b' } }] });
  await first.until(() => first.journal.events.filter((j) => j.ineffective !== undefined).length >= 2, 'two attempts whose effect never showed');
  await first.stop();
  const before = c.callsOf('CreateBackup').length;
  const second = await start(c, { maxAttempts: 3, epoch: 2 }, first.shared);
  const s = await second.until((x) => x.state === 'ERROR_STATE', 'entered ERROR_STATE');
  assert.match(s.lastError?.reason ?? '', /3 attempts in all/);
  assert.equal(c.callsOf('CreateBackup').length - before, 1, 'the new leader tried once more, not three times');
  await second.stop();
});
