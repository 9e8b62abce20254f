// coxswain status [--json | --endpoints] — the running leader's view of the cluster:
// reconciliation state, accepted and waiting desired-state ids, progress (jobs done,
// counted; the rest, estimated), the last error and refused edit, the endpoints a client
// should seed with, every node group with its slot ranges and nodes (a node whose agent
// does not answer as last seen, not as down), the backups and every agent. --json prints
// the ClusterStatus itself (keys of the command-line contract: state, acceptedId,
// pendingId, lastError, nodeGroups[].nodes[], agents[]; others only added).
// --endpoints prints the seed endpoints alone, one a line, for scripts.
import { connectLeader, type ConnectLeader } from '../leader/admin-client.ts';
import { progressText } from '../leader/progress-view.ts';
import type { ClusterStatus, SlotRange, StatusNode } from '../model/status.ts';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { UsageError, parseCommandLine } from './usage.ts';

export interface StatusCommandDeps {
  /** @default the admin interface of the leader running for the state directory */
  connect: ConnectLeader;
}

export function makeStatusCommand(deps: StatusCommandDeps = { connect: connectLeader }): Command {
  return {
    name: 'status',
    summary: 'show the reconciliation state, nodes and agents of the running leader',
    usage: 'coxswain status [--json | --endpoints] [--state-dir DIR]',
    help: `Asks the leader running for the state directory where the cluster stands:
AT_DESIRED_STATE, WORKING_TOWARDS_DESIRED_STATE (with the steps done, counted, and
an estimate of those to go, and the jobs running now) or ERROR_STATE (with the step
that failed and why); the accepted desired-state id and the one waiting for the
current work to end; the last edit of the file that was refused and why; the
endpoints to seed a cluster-aware client with; each node group with its slot
ranges and its nodes (id, host:port, role, version, up; a node whose agent does
not answer is shown as last seen, with when); the backups that exist; and each
agent (id, endpoint, zone, up).

Options:
  --json             print the status as JSON (keys: cluster, state, acceptedId,
                     pendingId, lastRefusal, lastError, progress {done, total,
                     remaining, current}, waiting, nodeGroups[] {index, slots[],
                     nodes[] {id, host, port, role, version, up, agentUp, observed,
                     lastObservedAt, notObservedSince, slots[]}}, agents[] {id,
                     endpoint, zone, up, vmState}, endpoints[], backups[] {id, sink,
                     complete}, epoch, at). progress.done is counted; remaining and
                     total are estimates from the current plan.
  --endpoints        print only the endpoints to seed a client with (host:port,
                     primaries first), one a line
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status: 0 printed, 1 no leader is running (or, with --endpoints, no data node
is seen serving), 2 usage.`,
    async run(args, io) {
      const { values } = parseCommandLine('status', args, { json: { type: 'boolean' }, endpoints: { type: 'boolean' }, ...stateDirOption }, { min: 0, max: 0, names: '' });
      if (values['json'] === true && values['endpoints'] === true) throw new UsageError('--json and --endpoints exclude each other (the JSON has "endpoints")', 'status');
      const leader = await deps.connect(resolveStateDir(values['state-dir']));
      const status = await leader.status();
      if (values['endpoints'] === true) {
        const endpoints = status.endpoints ?? [];
        if (endpoints.length === 0) {
          io.err(
            `coxswain status: no data node of cluster ${status.cluster} is seen serving (state ${status.state}); ` +
              `wait for it with 'coxswain wait', or see 'coxswain status' for the nodes`,
          );
          return EXIT_FAILED;
        }
        io.out(endpoints.join('\n'));
        return EXIT_OK;
      }
      io.out(values['json'] === true ? JSON.stringify(status, null, 2) : formatStatus(status));
      return EXIT_OK;
    },
  };
}

export const statusCommand = makeStatusCommand();

/** The status as a person reads it in a terminal. */
export function formatStatus(s: ClusterStatus): string {
  const lines: string[] = [];
  lines.push(`cluster ${s.cluster}: ${s.state}`);
  const accepted = s.acceptedId === null ? 'none accepted yet' : `${s.acceptedId} accepted`;
  const pending = s.pendingId === null ? '' : `; ${s.pendingId} waiting (accepted when the current work ends)`;
  lines.push(`  desired state: ${accepted}${pending}`);
  if (s.state === 'WORKING_TOWARDS_DESIRED_STATE' && s.progress !== null) {
    lines.push(`  progress: ${progressText(s.progress)}`);
    for (const current of s.progress.current) lines.push(`  now: ${current}`);
  }
  for (const waiting of s.waiting) lines.push(`  waiting for: ${waiting}`);
  if (s.lastError !== null) {
    const e = s.lastError;
    lines.push(`  last error: ${e.step} — failed ${e.attempts} time${e.attempts === 1 ? '' : 's'}${e.jobId === undefined ? '' : ` (job ${e.jobId}: coxswain job ${e.jobId})`} at ${e.at}`);
    lines.push(indent(e.reason, '    '));
  }
  if (s.lastRefusal !== null) {
    const r = s.lastRefusal;
    lines.push(`  last refused edit${r.id === null ? '' : ` (id ${r.id})`} at ${r.at}; the cluster keeps desired state ${s.acceptedId ?? '—'}:`);
    lines.push(indent(r.reason, '    '));
  }
  lines.push(`  leader epoch ${s.epoch}, as of ${s.at}`);
  if (s.endpoints !== undefined) {
    lines.push(
      s.endpoints.length === 0
        ? '  endpoints: none seen serving'
        : `  endpoints: ${s.endpoints.join(' ')}  (seed a cluster-aware client with several; any one may be removed by scaling in)`,
    );
  }
  for (const group of s.nodeGroups) {
    lines.push('', `node group ${group.index}${group.slots === undefined ? '' : `: ${slotsText(group.slots)}`}`);
    const rows = [...group.nodes].sort(byId).map((n) => [n.id, `${n.host}:${n.port}`, n.role, n.version === '' ? '—' : n.version, nodeState(n, s)]);
    lines.push(...table(rows).map((r) => `  ${r}`));
  }
  if (s.backups !== undefined) {
    if (s.backups === null) lines.push('', 'backups: their sinks could not be listed this time');
    else if (s.backups.length === 0) lines.push('', 'backups: none');
    else {
      lines.push('', 'backups');
      lines.push(...table(s.backups.map((b) => [b.id, b.sink, b.complete ? 'complete' : 'INCOMPLETE'])).map((r) => `  ${r}`));
    }
  }
  if (s.agents.length > 0) {
    lines.push('', 'agents');
    const rows = [...s.agents].sort(byId).map((a) => [a.id, a.endpoint, a.zone, `${a.up ? 'up' : 'DOWN'}${a.vmState === undefined || a.vmState === 'running' ? '' : ` (VM ${a.vmState})`}`]);
    lines.push(...table(rows).map((r) => `  ${r}`));
  }
  return lines.join('\n');
}

/** "slots 0-5460", "slots 0-10, 20-30 (22 slots)", "no slots". */
export function slotsText(ranges: readonly SlotRange[]): string {
  if (ranges.length === 0) return 'no slots';
  const text = ranges.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(', ');
  const count = ranges.reduce((sum, r) => sum + r.end - r.start + 1, 0);
  return `slots ${text}${ranges.length > 1 ? ` (${count} slots)` : ''}`;
}

/** Two sightings closer than this are told as one time. */
const SAME_MOMENT_MS = 5000;

/**
 * up, DOWN, or — when its agent does not answer — that, and since when the data node was
 * not seen (it may well still serve: the local provider calls a VM whose agent process
 * is gone 'failed', and its data node runs on).
 */
function nodeState(n: StatusNode, s: ClusterStatus): string {
  if (n.observed !== false) return n.up ? 'up' : 'DOWN';
  const vmState = s.agents.find((a) => a.id === n.id)?.vmState;
  if (vmState === 'creating') return 'VM being created — its agent does not answer yet';
  const what = vmState === 'stopped' ? 'VM stopped' : vmState === 'failed' ? 'agent down (VM failed)' : 'agent down';
  if (n.lastObservedAt === undefined || n.lastObservedAt === null) return `${what} — data node not observed by this leader`;
  const last = Date.parse(n.lastObservedAt);
  const missing = n.notObservedSince === undefined ? last : Date.parse(n.notObservedSince);
  const ago = Date.parse(s.at) - last;
  // The status samples the observations: the node was last observed between the two times.
  if (!Number.isFinite(missing) || missing - last <= SAME_MOMENT_MS) {
    return `${what} — data node not observed since ${n.lastObservedAt}${Number.isFinite(ago) && ago >= 0 ? ` (${Math.round(ago / 1000)} s before this status)` : ''}`;
  }
  return `${what} — data node not observed since some time between ${n.lastObservedAt} and ${n.notObservedSince ?? ''}`;
}

/** vm-2 before vm-10. */
function byId(a: { id: string }, b: { id: string }): number {
  return a.id.localeCompare(b.id, 'en', { numeric: true });
}

/** Rows with their columns padded to the widest cell. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '' : `${prefix}${line}`))
    .join('\n');
}
