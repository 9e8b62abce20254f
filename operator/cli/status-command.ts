// coxswain status [--json] — the running leader's view of the cluster: reconciliation
// state, accepted and waiting desired-state ids, progress, the last error and refused
// edit, and every node group with its nodes and every agent. --json prints the
// ClusterStatus itself (keys of the command-line contract: state, acceptedId,
// pendingId, lastError, nodeGroups[].nodes[], agents[]).
import { connectLeader, type ConnectLeader } from '../leader/admin-client.ts';
import type { ClusterStatus } from '../model/status.ts';
import { EXIT_OK, type Command } from './command.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { parseCommandLine } from './usage.ts';

export interface StatusCommandDeps {
  /** @default the admin interface of the leader running for the state directory */
  connect: ConnectLeader;
}

export function makeStatusCommand(deps: StatusCommandDeps = { connect: connectLeader }): Command {
  return {
    name: 'status',
    summary: 'show the reconciliation state, nodes and agents of the running leader',
    usage: 'coxswain status [--json] [--state-dir DIR]',
    help: `Asks the leader running for the state directory where the cluster stands:
AT_DESIRED_STATE, WORKING_TOWARDS_DESIRED_STATE (with step i of n and the job
running now) or ERROR_STATE (with the step that failed and why); the accepted
desired-state id and the one waiting for the current work to end; the last edit
of the file that was refused and why; each node group with its nodes (id,
host:port, role, version, up) and each agent (id, endpoint, zone, up).

Options:
  --json             print the status as JSON (keys: cluster, state, acceptedId,
                     pendingId, lastRefusal, lastError, progress, waiting,
                     nodeGroups[].nodes[] {id, host, port, role, version, up},
                     agents[] {id, endpoint, zone, up}, epoch, at)
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status: 0 printed, 1 no leader is running, 2 usage.`,
    async run(args, io) {
      const { values } = parseCommandLine('status', args, { json: { type: 'boolean' }, ...stateDirOption }, { min: 0, max: 0, names: '' });
      const leader = await deps.connect(resolveStateDir(values['state-dir']));
      const status = await leader.status();
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
    const total = Math.max(s.progress.total, 1);
    lines.push(`  progress: step ${Math.min(s.progress.done + 1, total)} of ${total} (an estimate)`);
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
  for (const group of s.nodeGroups) {
    lines.push('', `node group ${group.index}`);
    const rows = [...group.nodes].sort(byId).map((n) => [n.id, `${n.host}:${n.port}`, n.role, n.version, n.up ? 'up' : 'DOWN']);
    lines.push(...table(rows).map((r) => `  ${r}`));
  }
  if (s.agents.length > 0) {
    lines.push('', 'agents');
    lines.push(...table([...s.agents].sort(byId).map((a) => [a.id, a.endpoint, a.zone, a.up ? 'up' : 'DOWN'])).map((r) => `  ${r}`));
  }
  return lines.join('\n');
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
