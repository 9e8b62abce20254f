// Transition rules: whether the cluster can go from the accepted desired state to a
// candidate. A desired state the planner cannot reach is refused here, with the
// reason, rather than accepted and failed later (every accepted desired state must be
// reachable: docs/architecture.md, "Reachability").
import { checkParameterValue, settableParameter, versionTransition, type SettableParameter } from './catalogue.ts';
import { problem, type Problem } from './problem.ts';
import type { BackupRef, Desired } from './types.ts';

export interface TransitionContext {
  /** Whether any accepted desired state so far had the cluster running. */
  everRan: boolean;
}

export function checkTransition(
  previous: Desired | undefined,
  candidate: Desired,
  context: TransitionContext,
): Problem[] {
  // The first desired state of a cluster: only what concerns a cluster that never ran.
  if (previous === undefined) return checkNeverRanBackups(candidate, context);
  // An id that does not increase means the file is ignored: nothing else about it matters.
  if (candidate.id <= previous.id) return [idNotIncreasing(previous.id, candidate.id)];
  return [
    ...checkImmutable(previous, candidate),
    ...checkClocks(previous, candidate),
    ...checkVersion(previous, candidate),
    ...checkRestore(previous, candidate, context),
    ...checkBackupSinks(previous, candidate),
    ...checkSingleCopyRolling(previous, candidate),
    ...checkStoppedCluster(previous, candidate, context),
    ...checkNeverRanBackups(candidate, context),
  ];
}

/** The one problem of a desired state whose id does not exceed the accepted one. */
export function idNotIncreasing(acceptedId: number, id: number): Problem {
  return problem(
    'id-not-increasing',
    ['id'],
    `id ${id} is not greater than the accepted id ${acceptedId}, so this desired state is ignored`,
    `set "id" to ${acceptedId + 1} or more`,
  );
}

// ───────────────────────────── immutable fields ─────────────────────────────

const IMMUTABLE = [
  {
    field: 'name',
    hint: (old: string) =>
      `keep "name": ${JSON.stringify(old)}; to run a cluster under another name, create a new cluster (another state directory)`,
  },
  {
    field: 'engine',
    hint: (old: string) =>
      `keep "engine": ${JSON.stringify(old)}; to change the engine, create a new cluster and move the data into it`,
  },
  {
    field: 'maxReplicationFactor',
    hint: (old: string) =>
      `keep "maxReplicationFactor": ${old} ("replicationFactor" can still change from 1 to ${old}); ` +
      'for a higher bound, create a new cluster and restore a backup into it',
  },
] as const;

function checkImmutable(previous: Desired, candidate: Desired): Problem[] {
  const out: Problem[] = [];
  for (const { field, hint } of IMMUTABLE) {
    const before = previous[field];
    const after = candidate[field];
    if (before === after) continue;
    out.push(
      problem(
        'immutable-field',
        [field],
        `${field} cannot change once the cluster exists: it was ${JSON.stringify(before)}, this desired state has ${JSON.stringify(after)}`,
        hint(String(before)),
      ),
    );
  }
  return out;
}

// ───────────────────────────── logical clocks ─────────────────────────────

function checkClocks(previous: Desired, candidate: Desired): Problem[] {
  const out: Problem[] = [];
  const clocks = [
    ['runningSince', 'the data nodes'],
    ['agentRunningSince', 'the agents'],
  ] as const;
  for (const [field, what] of clocks) {
    const before = previous[field];
    const after = candidate[field];
    if (after >= before) continue;
    out.push(
      problem(
        'transition',
        [field],
        `${field} would go back from ${before} to ${after}; it is a logical clock and never decreases`,
        `keep it at ${before}, or raise it (up to the id, ${candidate.id}) to ask for a rolling restart of ${what}`,
      ),
    );
  }
  return out;
}

// ───────────────────────────── version ─────────────────────────────

function checkVersion(previous: Desired, candidate: Desired): Problem[] {
  // With another engine, the immutable-field problem already says all there is.
  if (previous.engine !== candidate.engine || previous.version === candidate.version) return [];
  const verdict = versionTransition(candidate.engine, previous.version, candidate.version);
  if (verdict.ok) return [];
  return [
    problem(
      'transition',
      ['version'],
      `version cannot change from ${previous.version} to ${candidate.version}: ${verdict.reason}`,
      verdict.hint,
    ),
  ];
}

// ───────────────────────────── backups and restore ─────────────────────────────

function sameBackup(a: BackupRef | undefined, b: BackupRef | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.id === b.id && a.sink.type === b.sink.type && a.sink.path === b.sink.path;
}

function describeBackup(b: BackupRef): string {
  return `"${b.id}" (${b.sink.type} ${JSON.stringify(b.sink.path)})`;
}

/**
 * A restore fills a new, empty cluster. While the cluster never ran, restoreFromBackup
 * may be set, changed or removed; once it ran, it may only be kept as it was or removed.
 */
function checkRestore(previous: Desired, candidate: Desired, context: TransitionContext): Problem[] {
  const after = candidate.restoreFromBackup;
  if (!context.everRan || after === undefined || sameBackup(previous.restoreFromBackup, after)) return [];
  const before = previous.restoreFromBackup;
  const message =
    before === undefined
      ? `restoreFromBackup cannot be added once the cluster has run: a restore fills a new, empty cluster`
      : `restoreFromBackup cannot change once the cluster has run (it was ${describeBackup(before)}, now ${describeBackup(after)}): a restore fills a new, empty cluster`;
  const hint =
    before === undefined
      ? 'remove "restoreFromBackup"; to bring back a backup, create a new cluster that restores from it'
      : 'keep "restoreFromBackup" as it was, or remove it; to bring back another backup, create a new cluster that restores from it';
  return [problem('transition', ['restoreFromBackup'], message, hint)];
}

/** A backup is where it was taken; the same id in another sink would be another backup. */
function checkBackupSinks(previous: Desired, candidate: Desired): Problem[] {
  const out: Problem[] = [];
  candidate.backups.forEach((b, i) => {
    const old = previous.backups.find((p) => p.id === b.id);
    if (old === undefined || sameBackup(old, b)) return;
    out.push(
      problem(
        'transition',
        ['backups', i, 'sink'],
        `backup "${b.id}" was kept in ${old.sink.type} ${JSON.stringify(old.sink.path)} and cannot move to ${b.sink.type} ${JSON.stringify(b.sink.path)}`,
        `keep its sink as it was; for a copy in another place, add a backup with a new id (removing "${b.id}" deletes it)`,
      ),
    );
  });
  return out;
}

// ──────────────────── backups of a cluster that never ran (an added rule: docs/desired-state.md) ────────────────────

/**
 * A cluster that never ran holds no data. Each listed backup must exist, so for a
 * stopped one the planner would have to found the cluster only to take an empty backup
 * (operator/planner/running.ts foundingWork) — and a founded cluster is no longer new: a
 * restoreFromBackup set or changed afterwards (allowed while the cluster never ran)
 * could not fill it, an accepted desired state the planner could never reach. Reported
 * done without the backups instead, it would not be at its desired state either. So
 * while no accepted desired state had the cluster running, one with `running: false`
 * lists no backup but the one it restores from (that one exists, or the restore fails).
 */
function checkNeverRanBackups(candidate: Desired, context: TransitionContext): Problem[] {
  if (context.everRan || candidate.running) return [];
  const out: Problem[] = [];
  candidate.backups.forEach((b, i) => {
    if (sameBackup(b, candidate.restoreFromBackup)) return;
    out.push(
      problem(
        'transition',
        ['backups', i],
        `backup "${b.id}" cannot be taken: the cluster has never run, so it holds no data to back up, and "running" is false`,
        'remove it for now and list it once the cluster runs (in the same desired state that sets "running": true, or later)',
      ),
    );
  });
  return out;
}

// ──────────────────── rolling work with a single copy (invariant 1) ────────────────────

interface Change {
  path: [string, ...(string | number)[]];
  what: string;
  /** A way out particular to this change, ahead of the general ones. */
  hint?: string;
}

/**
 * Safety invariant 1: while a node group holds data, at least one of its nodes is up.
 * With replicationFactor 1 a node group has a single node, so any step that restarts
 * or replaces that node takes the node group's only copy offline. The planner can
 * avoid it only by adding a node first — a temporary VM — which the user must allow.
 *
 * The check applies only when BOTH versions have replicationFactor 1 and BOTH have the
 * cluster running: with replicationFactor ≥ 2 on either side the planner can order the
 * steps (add the replica first, or do the rolling work before dropping replicas), and
 * a cluster stopped on either side has no clients to keep serving (stopping and
 * starting is what the user asked for).
 */
function checkSingleCopyRolling(previous: Desired, candidate: Desired): Problem[] {
  if (previous.replicationFactor !== 1 || candidate.replicationFactor !== 1) return [];
  if (!previous.running || !candidate.running || candidate.allowTemporaryVms) return [];
  return rollingChanges(previous, candidate).map(({ path, what, hint }) =>
    problem(
      'transition',
      path,
      `${what} cannot be done without downtime: it restarts or replaces each data node, and with replicationFactor 1 that takes a node group's only copy of its data offline`,
      `${hint === undefined ? '' : `${hint}; or `}set "allowTemporaryVms": true so Coxswain can add a temporary node while it works, ` +
        'or first raise "replicationFactor" to 2 in a desired state of its own',
    ),
  );
}

/** The changes that restart or replace data nodes one by one. */
function rollingChanges(previous: Desired, candidate: Desired): Change[] {
  const out: Change[] = [];
  if (previous.version !== candidate.version)
    out.push({ path: ['version'], what: `the version change ${previous.version} → ${candidate.version}` });
  if (candidate.runningSince > previous.runningSince)
    out.push({ path: ['runningSince'], what: `raising runningSince from ${previous.runningSince} to ${candidate.runningSince} (a rolling restart)` });
  if (previous.vmType !== candidate.vmType)
    out.push({ path: ['vmType'], what: `the VM type change ${previous.vmType} → ${candidate.vmType}` });
  if (previous.storageGiB !== candidate.storageGiB)
    out.push({ path: ['storageGiB'], what: `the storage change ${previous.storageGiB} → ${candidate.storageGiB} GiB` });
  // An added rule (docs/desired-state.md): nodes in a zone that is no longer listed
  // must move to another.
  for (const zone of removedZones(previous, candidate))
    out.push({ path: ['availabilityZones'], what: `removing zone "${zone}" (its nodes move to other zones)` });
  // An added rule (docs/desired-state.md): a parameter that only takes effect on
  // restart needs a rolling restart.
  for (const name of restartParameterChanges(previous, candidate))
    out.push({ path: ['config', name], what: `changing config "${name}" (applied only by a restart)` });
  // An added rule (docs/desired-state.md): a live parameter that is removed goes back
  // to the engine's default, which the catalogue does not know, so only a restart
  // applies the removal (the planner: operator/planner/config-diff.ts). Accepting it
  // would leave the planner blocked on the group's only node, an accepted desired state
  // it cannot reach.
  for (const name of removedLiveParameters(previous, candidate))
    out.push({
      path: ['config', name],
      what: `removing config "${name}" (its default comes back only by a restart)`,
      hint: `keep "${name}" with the value you want instead (a live parameter changes without a restart)`,
    });
  return out;
}

/** Live parameters the previous version set and the candidate no longer does. */
export function removedLiveParameters(previous: Desired, candidate: Desired): string[] {
  return Object.keys(previous.config).filter((name) => !(name in candidate.config) && settableParameter(candidate.engine, name)?.apply === 'live');
}

function removedZones(previous: Desired, candidate: Desired): string[] {
  return previous.availabilityZones.filter((z) => !candidate.availabilityZones.includes(z));
}

/** Parameters applied by restart whose value (as the engine reads it) differs. */
export function restartParameterChanges(previous: Desired, candidate: Desired): string[] {
  const names = new Set([...Object.keys(previous.config), ...Object.keys(candidate.config)]);
  const out: string[] = [];
  for (const name of names) {
    const param = settableParameter(candidate.engine, name);
    if (param === undefined || param.apply !== 'restart') continue;
    if (canonical(param, previous.config[name]) !== canonical(param, candidate.config[name])) out.push(name);
  }
  return out;
}

function canonical(param: SettableParameter, value: number | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const verdict = checkParameterValue(param.value, value);
  // A malformed value is the single-state rules' business; compare it as written.
  return verdict.ok ? verdict.canonical : String(value);
}

// ──────────────────── a cluster that stays stopped (an added rule: docs/desired-state.md) ────────────────────

/**
 * A stopped cluster that has run holds data on nodes that do not run. Moving or
 * copying that data needs the nodes running: resharding for a node-group change,
 * a full sync for a new replica, BGSAVE for a new backup, replication onto a new VM
 * for a VM, storage or zone change. With the cluster stopped in BOTH versions these
 * cannot be reached while honouring "running": false, so they are refused. (Stopping
 * in the same version is fine: the planner does the work first, then stops. A cluster
 * that never ran has no data, so anything goes.)
 */
function checkStoppedCluster(previous: Desired, candidate: Desired, context: TransitionContext): Problem[] {
  if (!context.everRan || previous.running || candidate.running) return [];
  return dataMovingChanges(previous, candidate).map(({ path, what }) =>
    problem(
      'transition',
      path,
      `${what} needs the data nodes running, but the cluster is stopped in the accepted desired state and in this one`,
      'make this change in a desired state with "running": true (stopping again in a later one), or leave it out while the cluster is stopped',
    ),
  );
}

function dataMovingChanges(previous: Desired, candidate: Desired): Change[] {
  const out: Change[] = [];
  if (previous.nodeGroups !== candidate.nodeGroups)
    out.push({ path: ['nodeGroups'], what: `changing nodeGroups from ${previous.nodeGroups} to ${candidate.nodeGroups} (data moves between node groups)` });
  if (candidate.replicationFactor > previous.replicationFactor)
    out.push({ path: ['replicationFactor'], what: `raising replicationFactor from ${previous.replicationFactor} to ${candidate.replicationFactor} (new replicas copy the data)` });
  if (previous.vmType !== candidate.vmType)
    out.push({ path: ['vmType'], what: `the VM type change ${previous.vmType} → ${candidate.vmType} (data is copied to new VMs)` });
  if (previous.storageGiB !== candidate.storageGiB)
    out.push({ path: ['storageGiB'], what: `the storage change ${previous.storageGiB} → ${candidate.storageGiB} GiB (data is copied to new VMs)` });
  for (const zone of removedZones(previous, candidate))
    out.push({ path: ['availabilityZones'], what: `removing zone "${zone}" (its nodes' data moves to other zones)` });
  candidate.backups.forEach((b, i) => {
    if (!previous.backups.some((p) => p.id === b.id))
      out.push({ path: ['backups', i], what: `taking the new backup "${b.id}"` });
  });
  return out;
}
