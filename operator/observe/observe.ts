// observe(): what the cluster looks like now, as the planner's ObservedCluster. It lists
// the VMs (VM provider), asks every running VM's agent for its state in parallel
// (GetState, short deadline, no retries: an agent that does not answer in time is
// reported down, its data nodes unknown), and lists the sinks of every backup the
// desired-state history ever named through one agent that answered.
//
// It never throws for an agent that is down or a sink that cannot be listed: those are
// facts the planner reasons about (agentUp: false; backups: undefined). It throws only
// when the VM inventory itself cannot be read, or when the caller aborts.
import type { Clock } from '../../common/clock.ts';
import { systemClock } from '../../common/clock.ts';
import type { VmProvider, VmRecord } from '../ports/vm-provider.ts';
import type { EngineVersion } from '../../desired-state/types.ts';
import { sinkKey, type LeaderFacts, type ObservedBackup, type ObservedCluster, type ObservedVm } from '../model/observed.ts';
import type { SinkRef } from '../model/step.ts';
import type { AgentState__Output } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';
import { Deadline, withDeadline } from '../executor/with-deadline.ts';
import { backupComplete, resolvePrimaries, sinkToProto, toObservedDataNode, type ReportedNode } from './labels.ts';

/** A backup the desired-state history named: its id and sink. */
export interface BackupRef {
  id: string;
  sink: SinkRef;
}

export interface ObserveOptions {
  /** Every backup the history ever named (duplicates are fine): only these are reported. */
  backupRefs: readonly BackupRef[];
  /** The leader's persisted facts, copied into the observation. */
  facts: LeaderFacts;
  /** Aborts the observation (it then rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Time each GetState / ListBackups call may take, in ms, retries inside the agent client included. @default 2000 */
  callDeadlineMs?: number;
  /** The clock the call deadlines run on. @default systemClock */
  clock?: Clock;
  /**
   * VMs created moments ago: while their agent does not answer yet they are reported as
   * 'creating' (the planner waits for them) instead of 'running' with a dead agent (which
   * the planner would repair). The caller decides how long a VM counts as new.
   * @default none
   */
  creatingVmIds?: ReadonlySet<string>;
  /** The directory a relative local sink path is relative to (labels.ts resolveSinkPath). @default none: sent as given */
  sinkBaseDir?: string;
}

/** The observation deadline when none is given. */
export const DEFAULT_OBSERVE_DEADLINE_MS = 2000;

/** Observes the cluster: VM inventory, every running agent's state, the named backups. */
export async function observe(provider: VmProvider, opts: ObserveOptions): Promise<ObservedCluster> {
  const clock = opts.clock ?? systemClock;
  const deadlineMs = opts.callDeadlineMs ?? DEFAULT_OBSERVE_DEADLINE_MS;
  const signal = opts.signal;
  signal?.throwIfAborted();
  const records = await provider.list(signal);
  // The reads start together and share one deadline (one timer, one signal for them all).
  const reads = new Deadline(clock, deadlineMs, signal);
  let states: (AgentState__Output | undefined)[];
  try {
    states = await Promise.all(records.map((r) => (r.state === 'running' ? agentState(provider, r, reads, deadlineMs, signal) : Promise.resolve(undefined))));
  } finally {
    reads.end();
  }
  signal?.throwIfAborted();
  const reported: ReportedNode[] = [];
  const vms = records.map((r, i) => toObservedVm(r, states[i], opts.creatingVmIds, reported));
  resolvePrimaries(reported);
  const backups = await listBackups(provider, vms, opts.backupRefs, clock, deadlineMs, signal, opts.sinkBaseDir);
  return { vms, backups, facts: { restoredFrom: opts.facts.restoredFrom, formed: opts.facts.formed } };
}

/** The agent's state, or undefined when it does not answer in time (or answers without one). */
async function agentState(
  provider: VmProvider,
  record: VmRecord,
  deadline: Deadline,
  deadlineMs: number,
  signal: AbortSignal | undefined,
): Promise<AgentState__Output | undefined> {
  try {
    const response = await deadline.race(`GetState on ${record.id}`, (s) => provider.agent(record.id).getState({}, { deadlineMs, signal: s }));
    return response.state ?? undefined;
  } catch (err) {
    if (signal?.aborted === true) throw err;
    return undefined;
  }
}

function toObservedVm(
  record: VmRecord,
  state: AgentState__Output | undefined,
  creating: ReadonlySet<string> | undefined,
  reported: ReportedNode[],
): ObservedVm {
  const agentUp = state !== undefined;
  const vmState: ObservedVm['state'] = record.state === 'running' && !agentUp && creating?.has(record.id) === true ? 'creating' : record.state;
  const dataNodes = (state?.dataNodes ?? []).map((dn) => {
    const node = toObservedDataNode(dn, { vmId: record.id, host: record.dataHost, port: record.dataPort });
    reported.push({ node, primaryEngineNodeId: dn.primaryEngineNodeId });
    return node;
  });
  return {
    id: record.id,
    zone: record.zone,
    vmType: record.vmType,
    storageGiB: record.storageGiB,
    nodeGroup: record.nodeGroup,
    temporary: record.temporary,
    state: vmState,
    agentUp,
    endpoint: record.endpoint,
    agentRunningSince: record.agentRunningSince,
    dataHost: record.dataHost,
    dataPort: record.dataPort,
    installedVersions: (state?.installedVersions ?? []).map((v) => v.version as EngineVersion),
    dataNodes,
  };
}

/**
 * The named backups as their sinks hold them, listed once per distinct sink through the
 * first VM whose agent answered. [] when nothing was ever named; undefined when no
 * agent answered or a sink could not be listed.
 */
async function listBackups(
  provider: VmProvider,
  vms: readonly ObservedVm[],
  refs: readonly BackupRef[],
  clock: Clock,
  deadlineMs: number,
  signal: AbortSignal | undefined,
  sinkBaseDir: string | undefined,
): Promise<ObservedBackup[] | undefined> {
  if (refs.length === 0) return [];
  const via = vms.find((vm) => vm.agentUp);
  if (via === undefined) return undefined;
  const wanted = new Set(refs.map((r) => refKey(r.id, sinkKey(r.sink))));
  const sinks = new Map<string, SinkRef>();
  for (const r of refs) sinks.set(sinkKey(r.sink), r.sink);
  try {
    const lists = await Promise.all(
      [...sinks].map(async ([key, sink]) => {
        const listed = await withDeadline(clock, deadlineMs, `ListBackups of ${key} on ${via.id}`, signal, (s) =>
          provider.agent(via.id).listBackups({ sink: sinkToProto(sink, sinkBaseDir) }, { deadlineMs, signal: s }),
        );
        return listed.backups.map((b): ObservedBackup => ({ id: b.backupId, sink: key, complete: backupComplete(b.status) }));
      }),
    );
    const out = new Map<string, ObservedBackup>();
    for (const b of lists.flat()) {
      const k = refKey(b.id, b.sink);
      if (!wanted.has(k)) continue;
      const seen = out.get(k);
      // Listed twice (parts from several agents): complete when any listing says so.
      out.set(k, seen === undefined ? b : { ...seen, complete: seen.complete || b.complete });
    }
    return [...out.values()].sort((a, b) => (a.sink === b.sink ? cmp(a.id, b.id) : cmp(a.sink, b.sink)));
  } catch (err) {
    if (signal?.aborted === true) throw err;
    return undefined;
  }
}

function refKey(id: string, sink: string): string {
  return `${sink}\u0000${id}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every backup a list of desired states names (backups[] and restoreFromBackup), without duplicates. */
export function backupRefsOf(desired: Iterable<{ backups: readonly BackupRef[]; restoreFromBackup?: BackupRef | undefined }>): BackupRef[] {
  const out = new Map<string, BackupRef>();
  for (const d of desired) {
    const refs = d.restoreFromBackup === undefined ? d.backups : [...d.backups, d.restoreFromBackup];
    for (const r of refs) {
      const k = refKey(r.id, sinkKey(r.sink));
      if (!out.has(k)) out.set(k, { id: r.id, sink: { type: r.sink.type, path: r.sink.path } });
    }
  }
  return [...out.values()];
}
