// Ways to break a well-formed request of the leader so that the agent's contract forbids
// it: each one must be refused by the agent's validation (agent/server/validate.ts) with
// INVALID_ARGUMENT naming the field, before anything runs. A 'call-malformed' fault
// (test/arbitraries/faults.ts) delivers such a copy of a leader's call; the world checks
// that it never reaches the backend (agent-contract.ts). malformed.test.ts proves that
// the production validation refuses every one of them.
import type { MutatingMethod, RequestOf } from '../../proto/methods.ts';

/** One way to break a request: the field it breaks, and the broken request (undefined when the request has nothing to break there). */
interface Breakage {
  readonly field: string;
  readonly apply: (request: Record<string, unknown>) => Record<string, unknown> | undefined;
}

const set =
  (field: string, key: string, value: unknown): Breakage =>
  ({ field, apply: (r) => ({ ...r, [key]: value }) });

const when =
  (field: string, applies: (r: Record<string, unknown>) => boolean, apply: (r: Record<string, unknown>) => Record<string, unknown>): Breakage =>
  ({ field, apply: (r) => (applies(r) ? apply(r) : undefined) });

const jobOf = (r: Record<string, unknown>): Record<string, unknown> => (r['job'] ?? {}) as Record<string, unknown>;
const listOf = (r: Record<string, unknown>, key: string): unknown[] => (Array.isArray(r[key]) ? (r[key] as unknown[]) : []);
const isPrimaryJoin = (r: Record<string, unknown>): boolean => r['role'] === 'JOIN_ROLE_PRIMARY_WITHOUT_DATA';
const isReplicaJoin = (r: Record<string, unknown>): boolean => r['role'] === 'JOIN_ROLE_REPLICA';

/** Every mutating request names the leader's job. */
const JOB: readonly Breakage[] = [
  set('job', 'job', null),
  { field: 'job.job_id', apply: (r) => ({ ...r, job: { ...jobOf(r), jobId: '' } }) },
  { field: 'job.step_id', apply: (r) => ({ ...r, job: { ...jobOf(r), stepId: 's'.repeat(4097) } }) },
];

const nodeId = (key: string, field: string): Breakage[] => [set(field, key, ''), set(field, key, 'two words'), set(field, key, '-leading-dash')];

const sink: readonly Breakage[] = [set('sink', 'sink', null), set('sink.kind', 'sink', {}), set('sink.local.path', 'sink', { local: { path: '' } })];

const BREAKAGES: { readonly [M in MutatingMethod]: readonly Breakage[] } = {
  EnsureVersion: [
    ...JOB,
    set('version', 'version', ''),
    set('version', 'version', 'seven point oh'),
    set('artifact_sha256', 'artifactSha256', 'abc'),
    set('artifact_url', 'artifactUrl', 'not a url'),
  ],
  StartDataNode: [
    ...JOB,
    ...nodeId('nodeId', 'node_id'),
    set('port', 'port', 0),
    set('port', 'port', 65536),
    set('version', 'version', ''),
    set('engine_params', 'engineParams', { '': 'x' }),
    set('labels["Not/A/Label"]', 'labels', { 'Not/A/Label': 'x' }),
  ],
  StopDataNode: [...JOB, ...nodeId('nodeId', 'node_id')],
  JoinNode: [
    ...JOB,
    ...nodeId('nodeId', 'node_id'),
    set('role', 'role', 'JOIN_ROLE_UNSPECIFIED'),
    when('replica_of', isPrimaryJoin, (r) => ({ ...r, replicaOf: { engineNodeId: 'f'.repeat(40) } })),
    when('assign_slots[0].end', isPrimaryJoin, (r) => ({ ...r, assignSlots: [{ start: 9, end: 3 }] })),
    when('assign_slots[0].start', isPrimaryJoin, (r) => ({ ...r, assignSlots: [{ start: 16384, end: 16384 }] })),
    when('cluster_member.port', (r) => isPrimaryJoin(r) && r['clusterMember'] !== null && r['clusterMember'] !== undefined, (r) => ({
      ...r,
      clusterMember: { ...(r['clusterMember'] as object), port: 0 },
    })),
    when('replica_of', isReplicaJoin, (r) => ({ ...r, replicaOf: null })),
    when('assign_slots', isReplicaJoin, (r) => ({ ...r, assignSlots: [{ start: 0, end: 1 }] })),
  ],
  RemoveNode: [...JOB, ...nodeId('nodeId', 'node_id')],
  ForgetNode: [...JOB, ...nodeId('nodeId', 'node_id'), set('engine_node_id', 'engineNodeId', '')],
  Failover: [...JOB, ...nodeId('nodeId', 'node_id')],
  MoveData: [
    ...JOB,
    ...nodeId('sourceNodeId', 'source_node_id'),
    set('target', 'target', null),
    set('target.engine_node_id', 'target', { engineNodeId: '' }),
    {
      field: 'selection',
      apply: (r) => {
        const { slots: _s, slotCount: _c, all: _a, ...rest } = r;
        return rest;
      },
    },
    when('slots.ranges[0].end', (r) => r['slots'] !== undefined && r['slots'] !== null, (r) => ({ ...r, slots: { ranges: [{ start: 9, end: 3 }] } })),
    when('slots.ranges', (r) => r['slots'] !== undefined && r['slots'] !== null, (r) => ({ ...r, slots: { ranges: [] } })),
  ],
  CreateBackup: [
    ...JOB,
    set('backup_id', 'backupId', 'not an id'),
    ...sink,
    when('node_ids[1]', (r) => listOf(r, 'nodeIds').length > 0, (r) => ({ ...r, nodeIds: [listOf(r, 'nodeIds')[0], ...listOf(r, 'nodeIds')] })),
  ],
  RestoreBackup: [
    ...JOB,
    set('backup_id', 'backupId', ''),
    ...sink,
    set('node_ids', 'nodeIds', []),
    when('node_ids[1]', (r) => listOf(r, 'nodeIds').length > 0, (r) => ({ ...r, nodeIds: [listOf(r, 'nodeIds')[0], ...listOf(r, 'nodeIds')] })),
  ],
  DeleteBackup: [...JOB, set('backup_id', 'backupId', '/etc'), ...sink],
  ConfigureDataNode: [
    ...JOB,
    ...nodeId('nodeId', 'node_id'),
    set('engine_params', 'engineParams', { '': 'x' }),
    { field: 'engine_params', apply: (r) => ({ ...r, engineParams: {}, labels: {} }) },
    set('labels["UPPER"]', 'labels', { UPPER: 'x' }),
  ],
};

/**
 * The `pick`-th (modulo their number) of the ways to break `request` that apply to it,
 * with the field the agent must name; undefined when none applies.
 */
export function malformed<M extends MutatingMethod>(method: M, request: RequestOf<M>, pick: number): { request: RequestOf<M>; field: string } | undefined {
  const applicable = BREAKAGES[method].flatMap((b) => {
    const broken = b.apply(request as Record<string, unknown>);
    return broken === undefined ? [] : [{ request: broken as RequestOf<M>, field: b.field }];
  });
  return applicable.length === 0 ? undefined : applicable[pick % applicable.length];
}

/** How many ways to break `request` there are (for the tests). */
export function breakages<M extends MutatingMethod>(method: M, request: RequestOf<M>): number {
  return BREAKAGES[method].filter((b) => b.apply(request as Record<string, unknown>) !== undefined).length;
}
