// Single-state rules: what the JSON Schema cannot say about one desired state.
// Every problem has code 'rule' (or 'duplicate-item'), the JSON path of the offending
// value, a message saying what is wrong, and a hint saying what to do.
import {
  VM_TYPES,
  checkParameterValue,
  describeValueKind,
  ownedParameter,
  parseMemory,
  settableParameter,
  settableParameterNames,
  valueKindNoun,
} from './catalogue.ts';
import { aboveBoundMessage, CROSS_FIELD_MAXIMA } from './cross-field-bounds.ts';
import { problem, type JsonPath, type Problem } from './problem.ts';
import { closest } from './suggest.ts';
import type { BackupRef, Desired } from './types.ts';

const pointingAtKey = new WeakSet<Problem>();

/**
 * True when the problem is about a property's name rather than its value (an owned or
 * unknown config parameter), so a located report should underline the key.
 */
export function problemPointsAtKey(p: Problem): boolean {
  return pointingAtKey.has(p);
}

function keyProblem(path: JsonPath, message: string, hint: string): Problem {
  const p = problem('rule', path, message, hint);
  pointingAtKey.add(p);
  return p;
}

export function checkRules(d: Desired): Problem[] {
  return [
    ...checkClocks(d),
    ...checkCrossFieldMaxima(d),
    ...checkUnique(d),
    ...checkRestoreFromBackup(d),
    ...checkConfig(d),
  ];
}

// ───────────────────────────── clocks ─────────────────────────────

function checkClocks(d: Desired): Problem[] {
  const out: Problem[] = [];
  const clocks = [
    ['runningSince', d.runningSince, 'the data nodes'],
    ['agentRunningSince', d.agentRunningSince, 'the agents'],
  ] as const;
  for (const [field, value, what] of clocks) {
    if (value <= d.id) continue;
    out.push(
      problem(
        'rule',
        [field],
        `${field} ${value} is greater than id ${d.id}; it is a logical clock and may not run ahead of the id`,
        `set "${field}" to ${d.id} or less (setting it to the id asks for a rolling restart of ${what})`,
      ),
    );
  }
  return out;
}

/** Fields bounded by another field (cross-field-bounds.ts), worded as the schema check words them. */
function checkCrossFieldMaxima(d: Desired): Problem[] {
  const fields = d as unknown as Record<string, unknown>;
  return CROSS_FIELD_MAXIMA.flatMap(({ field, bound, hint }) => {
    const value = fields[field];
    const limit = fields[bound];
    if (typeof value !== 'number' || typeof limit !== 'number' || value <= limit) return [];
    return [problem('rule', [field], aboveBoundMessage(bound, limit, String(value)), hint(limit))];
  });
}

// ───────────────────────────── uniqueness ─────────────────────────────
// The schema marks both lists as sets/maps for Kubernetes but cannot say "unique"
// in the structural subset; the schema check may already report these, and then
// validation stops before the rules run. checkRules is also called on its own.

function checkUnique(d: Desired): Problem[] {
  const out: Problem[] = [];
  const zoneSeen = new Map<string, number>();
  d.availabilityZones.forEach((zone, i) => {
    const first = zoneSeen.get(zone);
    if (first === undefined) zoneSeen.set(zone, i);
    else
      out.push(
        problem(
          'duplicate-item',
          ['availabilityZones', i],
          `zone "${zone}" is listed twice in availabilityZones (also at availabilityZones[${first}])`,
          `remove one of them; each zone is listed once`,
        ),
      );
  });
  const idSeen = new Map<string, number>();
  d.backups.forEach((b, i) => {
    const first = idSeen.get(b.id);
    if (first === undefined) idSeen.set(b.id, i);
    else
      out.push(
        problem(
          'duplicate-item',
          ['backups', i, 'id'],
          `backup id "${b.id}" is used twice in backups (also at backups[${first}])`,
          `give each backup its own id`,
        ),
      );
  });
  return out;
}

// ─────────────────────────── restoreFromBackup ───────────────────────────

function sinkText(b: BackupRef): string {
  return JSON.stringify({ type: b.sink.type, path: b.sink.path });
}

function checkRestoreFromBackup(d: Desired): Problem[] {
  const r = d.restoreFromBackup;
  if (r === undefined) return [];
  const index = d.backups.findIndex((b) => b.id === r.id);
  const listed = d.backups[index];
  if (listed === undefined) {
    const guess = closest(
      r.id,
      d.backups.map((b) => b.id),
    );
    const add = `add {"id":"${r.id}","sink":${sinkText(r)}} to "backups" (a backup to restore from must be kept)`;
    return [
      problem(
        'rule',
        ['restoreFromBackup', 'id'],
        `restoreFromBackup names backup "${r.id}", which is not listed in "backups"`,
        guess === undefined ? add : `did you mean "${guess}"? Otherwise ${add}`,
      ),
    ];
  }
  const where = `backups[${index}]`;
  const hint = `use the same sink as ${where}: ${sinkText(listed)}`;
  if (listed.sink.type !== r.sink.type) {
    return [
      problem(
        'rule',
        ['restoreFromBackup', 'sink', 'type'],
        `restoreFromBackup names backup "${r.id}" in a "${r.sink.type}" sink, but ${where} keeps it in a "${listed.sink.type}" sink`,
        hint,
      ),
    ];
  }
  if (listed.sink.path !== r.sink.path) {
    return [
      problem(
        'rule',
        ['restoreFromBackup', 'sink', 'path'],
        `restoreFromBackup names backup "${r.id}" at path "${r.sink.path}", but ${where} keeps it at path "${listed.sink.path}"`,
        hint,
      ),
    ];
  }
  return [];
}

// ───────────────────────────── config ─────────────────────────────

function checkConfig(d: Desired): Problem[] {
  const out: Problem[] = [];
  for (const [name, value] of Object.entries(d.config)) {
    const p = checkParameter(d, name, value);
    if (p !== undefined) out.push(p);
  }
  return out;
}

function checkParameter(d: Desired, name: string, value: number | string): Problem | undefined {
  const path = ['config', name];
  const owned = ownedParameter(d.engine, name);
  if (owned !== undefined) {
    return keyProblem(
      path,
      `config parameter "${name}" is set by Coxswain: ${owned.reason}`,
      `remove "${name}" from "config"`,
    );
  }
  const param = settableParameter(d.engine, name);
  if (param === undefined) return unknownParameter(d, name);
  const verdict = checkParameterValue(param.value, value);
  // A value beyond the catalogue's range may be beyond a bound the rest of the desired
  // state sets too (min-replicas-to-write above INT_MAX is also above the replicas): that
  // tighter bound is the one to name.
  if (!verdict.ok) {
    const tighter = checkAgainstCluster(d, name, value);
    if (tighter !== undefined) return tighter;
    return problem(
      'rule',
      path,
      `config "${name}" is ${JSON.stringify(value)}, which is not ${valueKindNoun(param.value)}`,
      `write ${describeValueKind(param.value)}`,
    );
  }
  return checkAgainstCluster(d, name, value);
}

function unknownParameter(d: Desired, name: string): Problem {
  const path = ['config', name];
  const names = settableParameterNames(d.engine);
  const lower = name.toLowerCase();
  if (lower !== name && names.includes(lower)) {
    return keyProblem(path, `config parameter "${name}" must be written in lower case`, `write "${lower}"`);
  }
  const guess = closest(name, names);
  return keyProblem(
    path,
    `unknown config parameter "${name}": Coxswain does not know how to apply it to ${d.engine}`,
    guess === undefined
      ? `remove it; the parameters you may set are: ${names.join(', ')}`
      : `did you mean "${guess}"?`,
  );
}

/**
 * Parameters whose valid values depend on the rest of the desired state.
 *
 * - maxmemory above the VM's memory: the kernel would kill the node (or swap it)
 *   before Redis evicts a key, so the limit would never act.
 * - min-replicas-to-write above the replicas a primary has (replicationFactor − 1):
 *   the cluster would reach the desired state and then refuse every write.
 */
function checkAgainstCluster(d: Desired, name: string, value: number | string): Problem | undefined {
  if (name === 'maxmemory') return checkMaxmemory(d, value);
  if (name === 'min-replicas-to-write') return checkMinReplicas(d, value);
  return undefined;
}

const MIB = 1024 * 1024;

function checkMaxmemory(d: Desired, value: number | string): Problem | undefined {
  const bytes = parseMemory(value);
  const vmMiB = VM_TYPES[d.vmType].memoryMiB;
  if (bytes === undefined || bytes <= vmMiB * MIB) return undefined;
  return problem(
    'rule',
    ['config', 'maxmemory'],
    `config "maxmemory" is ${JSON.stringify(value)} (${Math.ceil(bytes / MIB)} MiB), more than the ${vmMiB} MiB of a "${d.vmType}" VM; ` +
      'the node would run out of memory before Redis evicts a key',
    `set "maxmemory" to at most "${vmMiB}mb" (leave room for replication buffers and snapshots), or choose a larger "vmType"`,
  );
}

function checkMinReplicas(d: Desired, value: number | string): Problem | undefined {
  const wanted = typeof value === 'number' ? value : /^[0-9]+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  const replicas = d.replicationFactor - 1;
  if (!Number.isFinite(wanted) || wanted <= replicas) return undefined;
  return problem(
    'rule',
    ['config', 'min-replicas-to-write'],
    `config "min-replicas-to-write" is ${wanted}, but with replicationFactor ${d.replicationFactor} each primary has ` +
      `${replicas} replica${replicas === 1 ? '' : 's'}, so every write would be refused`,
    `set it to ${replicas} or less, or raise "replicationFactor" to ${wanted + 1}` +
      (wanted + 1 > d.maxReplicationFactor ? ` (which needs a maxReplicationFactor of ${wanted + 1})` : ''),
  );
}
