// The end-of-scenario checks: liveness (the leader reached the desired state it
// accepted, and the WORLD matches it field by field) and the leader's bookkeeping (the
// last offer was accepted or rightly refused; nothing is left pending). Safety is
// checked all along by the world itself (world.ts) and by checkStepSafety on each plan.
// checkNoGhosts also runs each time the leader rests at AT_DESIRED_STATE mid-scenario
// (runner.ts): "done" never holds while the members still know a node that is gone.
import type { Desired } from '../../desired-state/types.ts';
import { validateDesiredStateText } from '../../desired-state/validate.ts';
import { REDIS_SLOTS, configKey, sinkKey } from '../../operator/model/observed.ts';
import type { ClusterStatus } from '../../operator/model/status.ts';
import type { HistoryEntry } from '../../desired-state/history.ts';
import type { OfferResult } from '../../operator/ports/leader-api.ts';
import { INJECTED } from './faults.ts';
import type { SimNode, World } from './world.ts';

/** The label names the leader puts on data nodes (operator/observe/labels.ts: coxswain.io/…). */
export const RUNNING_SINCE_LABEL = 'coxswain.io/running-since';
export const CONFIG_LABEL = 'coxswain.io/config';

/** Why a scenario failed: which check, and what was seen. */
export interface Failure {
  check: string;
  message: string;
}

/** One desired state offered to the leader, and what it answered. */
export interface Offer {
  desired: Desired;
  status: OfferResult['status'] | 'threw';
  /** The latest accepted desired state when it was offered, and whether the cluster had run by then. */
  acceptedBefore: Desired | undefined;
  everRanBefore: boolean;
  /** What the leader said with its answer. */
  message?: string;
}

export interface EndState {
  status: ClusterStatus;
  history: HistoryEntry[];
  /** The last offer made to the (newest) leader. */
  lastOffer: Offer;
}

/** Whether `d` is a valid successor of `previous` (validation as the leader runs it). */
function validAgainst(d: Desired, previous: Desired | undefined, everRan: boolean): boolean {
  const v = validateDesiredStateText({ file: 'offered.json', text: JSON.stringify(d) }, previous === undefined ? {} : { previous, everRan });
  return v.verdict === 'valid';
}

/**
 * The bookkeeping: nothing is left pending; the last offer was accepted — unless the
 * leader refused it and validation agrees (against what was accepted when it was
 * offered), or it waited as pending and validation refuses it against what was
 * accepted when the work ended.
 */
export function checkAcceptance(end: EndState): Failure[] {
  const failures: Failure[] = [];
  if (end.status.pendingId !== null) {
    failures.push({ check: 'pending-forgotten', message: `desired state ${end.status.pendingId} is still pending at the end` });
  }
  const latest = end.history.at(-1);
  if (latest === undefined) return [...failures, { check: 'nothing-accepted', message: 'no desired state was ever accepted' }];
  const o = end.lastOffer;
  const id = o.desired.id;
  const accepted = end.history.some((e) => e.id === id);
  if (o.status === 'refused' || o.status === 'ignored') {
    if (!accepted && validAgainst(o.desired, o.acceptedBefore, o.everRanBefore)) {
      failures.push({ check: 'offer-refused-wrongly', message: `desired state ${id} was ${o.status} although it is valid against the accepted ${o.acceptedBefore?.id ?? '(none)'}: ${o.message ?? ''}` });
    }
    return failures;
  }
  if (accepted) return failures;
  const everRan = end.history.some((e) => e.desired.running);
  if (validAgainst(o.desired, latest.desired, everRan)) {
    // What the leader said when it dropped it (e.g. refused as not reachable once its work ended), if it did.
    const refusal = end.status.lastRefusal;
    const said = refusal !== null && refusal.id === id ? `; the leader refused it: ${refusal.reason}` : '';
    failures.push({
      check: 'offer-lost',
      message: `desired state ${id} was answered "${o.status}" and is valid against the accepted ${latest.id}, but it was never accepted${said}`,
    });
  }
  return failures;
}

/**
 * Whether the injected faults alone can explain every failed call of the step an
 * ERROR_STATE names: the error is an injected failure of a method on a VM, and the
 * faults failed that method on that VM at least as often as the step's failed jobs made
 * calls (StatusError.attempts). Faults add up: two sticky faults ×3 on EnsureVersion of
 * one VM fail 6 calls in a row, which outlasts the reconciler's budget of 5 failed jobs
 * although neither fault alone does (canExhaustRetries judges one fault at a time) —
 * ERROR_STATE is then the leader doing as designed, not a leader bug. The count is over
 * the whole scenario, not since the step last succeeded: a bound the faults must reach,
 * not proof, so a failure the leader caused itself still shows when the faults fall short.
 */
export function injectedFaultsExhaust(status: ClusterStatus, failuresByCall: ReadonlyMap<string, number>): boolean {
  const e = status.lastError;
  if (e === null || e.attempts < 1) return false;
  for (const [what, n] of failuresByCall) if (e.reason.includes(`${what} failed ${INJECTED}`) && n >= e.attempts) return true;
  return false;
}

/** What 'effect-invisible' faults hid: the jobs one of whose calls answered success without a visible effect, and their steps (intents). */
export interface Invisible {
  jobs: ReadonlySet<string>;
  steps: ReadonlySet<string>;
}

/**
 * Whether an 'effect-invisible' fault explains an ERROR_STATE: the step it names (or its
 * last job) is one whose job succeeded while the fault hid the effect. Such a step can
 * never show its effect — the leader, after its attempts, must stop in ERROR_STATE naming
 * it. An ERROR_STATE naming any other step, or a wait, is not explained by it.
 */
export function invisibleEffectExplains(status: ClusterStatus, invisible: Invisible): boolean {
  const e = status.lastError;
  if (e === null) return false;
  return invisible.steps.has(e.step) || (e.jobId !== undefined && invisible.jobs.has(e.jobId));
}

/**
 * The leader's final state is a fair one: AT_DESIRED_STATE; or ERROR_STATE caused by
 * injected faults that outlast the retries (one fault that can: `faultsCanExhaust`; or
 * several on the same call that add up: injectedFaultsExhaust), by a step whose effect an
 * injected fault kept invisible (invisibleEffectExplains), or by a restoreFromBackup that
 * names a backup the sink does not hold (a person's mistake the leader can only report).
 */
export function checkEndState(
  status: ClusterStatus,
  faultsCanExhaust: boolean,
  world: World,
  desired: Desired | undefined,
  failuresByCall: ReadonlyMap<string, number>,
  invisible: Invisible = { jobs: new Set(), steps: new Set() },
): Failure[] {
  if (status.state === 'AT_DESIRED_STATE') return [];
  if (status.state === 'ERROR_STATE') {
    const reason = `${status.lastError?.step ?? '?'}: ${status.lastError?.reason ?? '?'}`;
    if (status.lastError !== null && reason.includes(INJECTED) && (faultsCanExhaust || injectedFaultsExhaust(status, failuresByCall))) return [];
    if (invisibleEffectExplains(status, invisible)) return [];
    const r = desired?.restoreFromBackup;
    if (r !== undefined && world.backup(sinkKey(r.sink), r.id) === undefined && reason.includes(r.id)) return [];
    return [{ check: 'error-state', message: `ERROR_STATE without an injected fault that outlasts the retries or hides the step's effect: ${reason}` }];
  }
  return [
    {
      check: 'not-converged',
      message: `still ${status.state} at the end${status.waiting.length > 0 ? `, waiting: ${status.waiting.join('; ')}` : ''}${
        status.progress !== null ? `, progress ${status.progress.done}/${status.progress.total} (${status.progress.current.join(', ')})` : ''
      }${status.lastError !== null ? `, last error: ${status.lastError.step}: ${status.lastError.reason}` : ''}`,
    },
  ];
}

/** The world is exactly what `d` asks for. */
export function checkWorldMatches(world: World, d: Desired, history: readonly HistoryEntry[]): Failure[] {
  const f: Failure[] = [];
  const fail = (check: string, message: string): void => {
    f.push({ check, message });
  };
  const vms = world.vms();
  const rf = d.replicationFactor;

  // VMs: count, node groups, kind, zones and their spread, agents.
  if (vms.length !== d.nodeGroups * rf) fail('vm-count', `${vms.length} VMs, want ${d.nodeGroups} node groups × ${rf} = ${d.nodeGroups * rf}`);
  for (const vm of vms) {
    const r = vm.record;
    if (r.temporary) fail('temporary-vm', `temporary VM ${r.id} is still there`);
    if (r.vmType !== d.vmType || r.storageGiB !== d.storageGiB) fail('vm-kind', `${r.id} is ${r.vmType}/${r.storageGiB} GiB, want ${d.vmType}/${d.storageGiB} GiB`);
    if (!d.availabilityZones.includes(r.zone)) fail('vm-zone', `${r.id} is in zone ${r.zone}, not one of ${d.availabilityZones.join(', ')}`);
    if (r.nodeGroup < 0 || r.nodeGroup >= d.nodeGroups) fail('vm-node-group', `${r.id} is for node group ${r.nodeGroup}; there are ${d.nodeGroups}`);
    if (!vm.agentUp || r.state !== 'running') fail('agent-down', `the agent of ${r.id} is not running (${r.state})`);
    if (r.agentRunningSince !== d.agentRunningSince) fail('agent-running-since', `the agent of ${r.id} runs for agentRunningSince ${r.agentRunningSince}, want ${d.agentRunningSince}`);
    // A cluster that is stopped may never have started a node on a VM (it never ran).
    if (vm.nodes.size > 1 || (d.running && vm.nodes.size !== 1)) fail('node-per-vm', `${r.id} has ${vm.nodes.size} data nodes, want 1`);
  }
  for (let g = 0; g < d.nodeGroups; g++) {
    const members = vms.filter((v) => v.record.nodeGroup === g);
    if (members.length !== rf) fail('group-size', `node group ${g} has ${members.length} VMs, want ${rf}`);
    // Spreading better means replacing VMs, which a stopped cluster cannot do (zones may be added while it is stopped).
    if (!d.running) continue;
    const zones = d.availabilityZones.map((z) => members.filter((v) => v.record.zone === z).length);
    const lo = Math.floor(members.length / d.availabilityZones.length);
    const hi = Math.ceil(members.length / d.availabilityZones.length);
    if (zones.some((n) => n < lo || n > hi)) {
      fail('zone-spread', `node group ${g} spreads ${members.length} VMs as ${d.availabilityZones.map((z, i) => `${z}:${zones[i] ?? 0}`).join(' ')}; want ${lo}–${hi} per zone`);
    }
  }

  // Data nodes: version, labels, config, up or down, roles, sync.
  const nodes = vms.flatMap((v) => [...v.nodes.values()]);
  const wantConfig = Object.fromEntries(Object.entries(d.config).map(([k, v]) => [k, String(v)]));
  for (const n of nodes) {
    if (n.up !== d.running) fail(d.running ? 'node-down' : 'node-up', `${n.id} is ${n.up ? 'up' : 'down'}, but running is ${d.running}`);
    // A stopped node takes the version, labels and config when it starts again.
    if (!d.running) continue;
    if (n.version !== d.version) fail('version', `${n.id} runs ${n.version}, want ${d.version}`);
    if (n.labels[RUNNING_SINCE_LABEL] !== String(d.runningSince)) {
      fail('running-since', `${n.id} carries runningSince ${n.labels[RUNNING_SINCE_LABEL] ?? '(none)'}, want ${d.runningSince}`);
    }
    if (n.labels[CONFIG_LABEL] !== configKey(d.config)) fail('config-label', `${n.id} carries config ${n.labels[CONFIG_LABEL] ?? '(none)'}, want ${configKey(d.config)}`);
    if (configKey(n.config) !== configKey(wantConfig)) fail('config', `${n.id} runs with ${configKey(n.config)}, want ${configKey(wantConfig)}`);
  }
  if (d.running) f.push(...checkTopology(world, d));

  // Backups: every listed one complete in its sink; every other one the history named, gone.
  for (const b of d.backups) {
    if (world.backup(sinkKey(b.sink), b.id) === undefined) fail('backup-missing', `backup ${b.id} is not in ${sinkKey(b.sink)}`);
  }
  const keep = new Set(d.backups.map((b) => `${b.id}@${sinkKey(b.sink)}`));
  if (d.restoreFromBackup !== undefined) keep.add(`${d.restoreFromBackup.id}@${sinkKey(d.restoreFromBackup.sink)}`);
  const named = new Map<string, { id: string; sink: string }>();
  for (const e of history) {
    for (const b of [...e.desired.backups, ...(e.desired.restoreFromBackup === undefined ? [] : [e.desired.restoreFromBackup])]) {
      named.set(`${b.id}@${sinkKey(b.sink)}`, { id: b.id, sink: sinkKey(b.sink) });
    }
  }
  // A backup under the restore's id is kept in every sink (operator/planner/backups.ts:
  // a sink may be named in more than one way, and invariant 4 errs on the side of keeping).
  const restoreId = d.restoreFromBackup?.id;
  for (const [k, b] of named) {
    if (keep.has(k) || b.id === restoreId) continue;
    if (world.backup(b.sink, b.id) !== undefined) fail('backup-not-deleted', `backup ${b.id} in ${b.sink} is no longer wanted but still exists`);
  }

  // Restore: a cluster that formed under restoreFromBackup was filled from it (one that never
  // formed — stopped first, or a join failing for good — is restored when it forms).
  if (d.restoreFromBackup !== undefined && world.everFormed) {
    if (world.restoredFrom !== d.restoreFromBackup.id) {
      fail('not-restored', `the cluster was ${world.restoredFrom === undefined ? 'never restored' : `restored from ${world.restoredFrom}`}, want backup ${d.restoreFromBackup.id}`);
    }
  }
  return f;
}

/**
 * No ghost remains known: a node that is gone (removed, its VM deleted, a stranger) but
 * that some member still has in its table, flagged failed (world.ts, "Ghosts"). Meant for
 * a running cluster at rest: the runner waits until every ghost is flagged failed (the
 * leader cannot see one before) and gives the leader its rest time after each change.
 */
export function checkNoGhosts(world: World): Failure[] {
  const f: Failure[] = [];
  for (const g of world.ghosts()) {
    const knowers = world.liveNodes().filter((m) => world.knows(m, g));
    if (knowers.length === 0) continue;
    f.push({
      check: 'ghost-known',
      message: `${g.id} (engine id ${g.engineId.slice(0, 8)}…) is gone but ${knowers.map((m) => m.id).join(', ')} still know${knowers.length === 1 ? 's' : ''} it (flagged ${g.failFlag ? 'failed' : 'not yet failed'})`,
    });
  }
  return f;
}

/** Running: one primary per node group with its share of slots, rf − 1 replicas in sync following it, all nodes agreeing, no ghost known. */
function checkTopology(world: World, d: Desired): Failure[] {
  const f: Failure[] = [];
  const fail = (check: string, message: string): void => {
    f.push({ check, message });
  };
  const byGroup = new Map<number, SimNode[]>();
  for (const vm of world.vms()) for (const n of vm.nodes.values()) byGroup.set(vm.record.nodeGroup, [...(byGroup.get(vm.record.nodeGroup) ?? []), n]);
  const share = REDIS_SLOTS / d.nodeGroups;
  let owned = 0;
  for (const [g, nodes] of byGroup) {
    const primaries = nodes.filter((n) => n.member && n.role === 'primary');
    if (primaries.length !== 1) {
      fail('primaries', `node group ${g} has ${primaries.length} primaries (${primaries.map((p) => p.id).join(', ')}), want 1`);
      continue;
    }
    const p = primaries[0] as SimNode;
    const slots = world.slotsOf(p).reduce((s, r) => s + r.end - r.start + 1, 0);
    owned += slots;
    if (slots < share - 1 || slots > share + 1) fail('slot-balance', `node group ${g} serves ${slots} slots, want ${Math.floor(share)}–${Math.ceil(share)}`);
    for (const n of nodes) {
      if (n === p) continue;
      if (!n.member || n.role !== 'replica' || n.primary !== p) {
        fail('replica', `${n.id} of node group ${g} is ${n.role}${n.primary !== undefined ? ` of ${n.primary.id}` : ''}, want a replica of ${p.id}`);
      } else if (!world.inSync(n)) fail('replica-sync', `${n.id} is not in sync with ${p.id}`);
    }
  }
  if (world.ownedSlots() !== REDIS_SLOTS || owned !== REDIS_SLOTS) fail('slots', `${owned} of ${REDIS_SLOTS} slots are served by the node groups' primaries`);
  const extra = world.liveNodes().filter((n) => n.member && !byGroup.get(world.vm(n.vmId)?.record.nodeGroup ?? -1)?.includes(n));
  if (extra.length > 0) fail('stray-members', `cluster members outside the node groups: ${extra.map((n) => n.id).join(', ')}`);
  if (!world.agreed()) fail('topology', 'the nodes do not agree on the topology');
  f.push(...checkNoGhosts(world));
  return f;
}
