// Request validation: a missing or malformed field is INVALID_ARGUMENT naming the
// field by its path in the .proto (`job.job_id`, `replica_of.engine_node_id`,
// `slots.ranges[1].end`). Each validator also returns the local data nodes the
// request names, which the service then looks up (NOT_FOUND when unknown).
import type { AgentMethod, DecodedRequestOf } from '../../proto/methods.ts';
import { InvalidArgumentError } from '../../proto/status.ts';
import type { JobRef__Output } from '../../proto/generated/coxswain/agent/v1/JobRef.ts';
import type { NodeAddress__Output } from '../../proto/generated/coxswain/agent/v1/NodeAddress.ts';
import type { SlotRange__Output } from '../../proto/generated/coxswain/agent/v1/SlotRange.ts';
import type { Sink__Output } from '../../proto/generated/coxswain/agent/v1/Sink.ts';

/** A local data node a request names, and the field that names it. */
export interface NodeRef {
  readonly field: string;
  readonly nodeId: string;
}

/** The highest Redis Cluster hash slot. */
export const MAX_SLOT = 16383;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const MAX_TEXT = 4096;
const MAX_PARAM_NAME = 128;
/** A label key: what the leader uses ("coxswain.io/running-since"), nothing that needs quoting anywhere. */
const LABEL_KEY = /^[a-z0-9./-]{1,63}$/;
/** At most this many labels on a data node. */
export const MAX_LABELS = 32;
const MIN_WATCH_INTERVAL_MS = 50;
const MAX_WATCH_INTERVAL_MS = 60 * 60 * 1000;

function fail(field: string, problem: string): never {
  throw new InvalidArgumentError(field, problem);
}

function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

function requireText(value: string, field: string, pattern?: RegExp, what = 'a value'): string {
  if (value === '') fail(field, `required; give ${what}`);
  if (value.length > MAX_TEXT) fail(field, `longer than ${MAX_TEXT} characters`);
  if (pattern !== undefined && !pattern.test(value)) fail(field, `${quoted(value)} is not ${what}`);
  return value;
}

function requireId(value: string, field: string): string {
  return requireText(value, field, ID, 'an id (letters, digits, ".", "_", "-"; at most 63; starting with a letter or digit)');
}

function requireJob(job: JobRef__Output | null): void {
  if (job === null) fail('job', "required; name the leader's job and step (job.job_id, job.step_id)");
  requireText(job.jobId, 'job.job_id', undefined, "the leader's job id");
  if (job.stepId.length > MAX_TEXT) fail('job.step_id', `longer than ${MAX_TEXT} characters`);
}

function requirePort(port: number, field: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(field, `must be a port number 1 … 65535 (got ${port})`);
}

function checkSlots(ranges: readonly SlotRange__Output[], field: string): void {
  ranges.forEach((range, i) => {
    if (range.start > MAX_SLOT) fail(`${field}[${i}].start`, `must be ≤ ${MAX_SLOT} (got ${range.start})`);
    if (range.end > MAX_SLOT) fail(`${field}[${i}].end`, `must be ≤ ${MAX_SLOT} (got ${range.end})`);
    if (range.end < range.start) fail(`${field}[${i}].end`, `must be ≥ start ${range.start} (got ${range.end})`);
  });
}

function checkParams(params: Record<string, string>, field: string): void {
  for (const [name, value] of Object.entries(params)) {
    if (name === '' || name.length > MAX_PARAM_NAME) fail(field, `parameter names must be 1 … ${MAX_PARAM_NAME} characters`);
    if (value.length > MAX_TEXT) fail(`${field}[${quoted(name)}]`, `value longer than ${MAX_TEXT} characters`);
  }
}

/**
 * The leader's labels on a data node: keys of 1 … 63 characters [a-z0-9./-], values of
 * at most 4096 characters, at most 32 of them. The field named is the label itself,
 * e.g. `labels["coxswain.io/config"]`.
 */
export function checkLabels(labels: Record<string, string>, field: string): void {
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) fail(field, `${keys.length} labels; at most ${MAX_LABELS} are allowed`);
  for (const key of keys.sort()) {
    if (!LABEL_KEY.test(key)) {
      fail(`${field}[${quoted(key)}]`, 'a label key is 1 … 63 characters of lower-case letters, digits, ".", "/" and "-" (e.g. "coxswain.io/running-since")');
    }
    if ((labels[key] ?? '').length > MAX_TEXT) fail(`${field}[${quoted(key)}]`, `value longer than ${MAX_TEXT} characters`);
  }
}

function requireSink(sink: Sink__Output | null, field: string): void {
  if (sink === null) fail(field, 'required; say where the backups are (e.g. sink.local.path)');
  if (sink.kind === undefined) fail(`${field}.kind`, 'required; set exactly one kind of sink (local)');
  if (sink.kind === 'local') requireText(sink.local?.path ?? '', `${field}.local.path`, undefined, 'a directory');
}

function requireAddress(address: NodeAddress__Output | null, field: string, needHost: boolean): void {
  if (address === null) fail(field, 'required');
  requireText(address.engineNodeId, `${field}.engine_node_id`, undefined, "the engine's node id");
  if (needHost) {
    requireText(address.host, `${field}.host`, undefined, 'a host name or address');
    requirePort(address.port, `${field}.port`);
  }
}

function nodeIds(ids: readonly string[], field: string): NodeRef[] {
  const seen = new Set<string>();
  return ids.map((id, i) => {
    requireId(id, `${field}[${i}]`);
    if (seen.has(id)) fail(`${field}[${i}]`, `${quoted(id)} is listed twice`);
    seen.add(id);
    return { field: `${field}[${i}]`, nodeId: id };
  });
}

type Validator<M extends AgentMethod> = (request: DecodedRequestOf<M>) => NodeRef[];

/** One validator per RPC. */
export const VALIDATORS: { readonly [M in AgentMethod]: Validator<M> } = {
  GetState: () => [],
  WatchState: (r) => {
    if (r.intervalMs !== 0 && (r.intervalMs < MIN_WATCH_INTERVAL_MS || r.intervalMs > MAX_WATCH_INTERVAL_MS)) {
      fail('interval_ms', `must be 0 (the agent's default) or ${MIN_WATCH_INTERVAL_MS} … ${MAX_WATCH_INTERVAL_MS} (got ${r.intervalMs})`);
    }
    return [];
  },
  EnsureVersion: (r) => {
    requireJob(r.job);
    requireText(r.version, 'version', VERSION, 'a version from the catalogue (e.g. "7.0")');
    if (r.artifactUrl !== '' && !URL.canParse(r.artifactUrl)) fail('artifact_url', `${quoted(r.artifactUrl)} is not a URL`);
    if (r.artifactSha256 !== '' && !SHA256.test(r.artifactSha256)) fail('artifact_sha256', 'must be 64 lowercase hex digits');
    checkParams(r.engineParams, 'engine_params');
    return [];
  },
  StartDataNode: (r) => {
    requireJob(r.job);
    requireId(r.nodeId, 'node_id');
    requirePort(r.port, 'port');
    requireText(r.version, 'version', VERSION, 'a version from the catalogue (e.g. "7.0")');
    checkParams(r.engineParams, 'engine_params');
    checkLabels(r.labels, 'labels');
    return []; // StartDataNode declares the node on first use
  },
  StopDataNode: (r) => {
    requireJob(r.job);
    return [{ field: 'node_id', nodeId: requireId(r.nodeId, 'node_id') }];
  },
  JoinNode: (r) => {
    requireJob(r.job);
    const ref = { field: 'node_id', nodeId: requireId(r.nodeId, 'node_id') };
    if (r.role === 'JOIN_ROLE_UNSPECIFIED') fail('role', 'required; JOIN_ROLE_PRIMARY_WITHOUT_DATA or JOIN_ROLE_REPLICA');
    if (r.clusterMember !== null) requireAddress(r.clusterMember, 'cluster_member', true);
    if (r.role === 'JOIN_ROLE_REPLICA') {
      requireAddress(r.replicaOf, 'replica_of', false);
      if (r.assignSlots.length > 0) fail('assign_slots', 'a replica serves no slots of its own; leave assign_slots empty');
    } else if (r.replicaOf !== null) {
      fail('replica_of', 'only for JOIN_ROLE_REPLICA');
    }
    checkSlots(r.assignSlots, 'assign_slots');
    return [ref];
  },
  RemoveNode: (r) => {
    requireJob(r.job);
    return [{ field: 'node_id', nodeId: requireId(r.nodeId, 'node_id') }];
  },
  ForgetNode: (r) => {
    requireJob(r.job);
    const ref = { field: 'node_id', nodeId: requireId(r.nodeId, 'node_id') };
    requireText(r.engineNodeId, 'engine_node_id', undefined, 'the engine id of the failed member to forget');
    return [ref];
  },
  Failover: (r) => {
    requireJob(r.job);
    return [{ field: 'node_id', nodeId: requireId(r.nodeId, 'node_id') }];
  },
  MoveData: (r) => {
    requireJob(r.job);
    const ref = { field: 'source_node_id', nodeId: requireId(r.sourceNodeId, 'source_node_id') };
    requireAddress(r.target, 'target', false);
    switch (r.selection) {
      case 'slots':
        if (r.slots === null || r.slots === undefined || r.slots.ranges.length === 0) fail('slots.ranges', 'required; at least one range');
        checkSlots(r.slots.ranges, 'slots.ranges');
        break;
      case 'slotCount':
        if (r.slotCount === undefined || r.slotCount < 1 || r.slotCount > MAX_SLOT + 1) {
          fail('slot_count', `must be 1 … ${MAX_SLOT + 1} (got ${r.slotCount ?? 0})`);
        }
        break;
      case 'all':
        if (r.all !== true) fail('all', 'must be true when set');
        break;
      default:
        fail('selection', 'required; set exactly one of slots, slot_count, all');
    }
    return [ref];
  },
  CreateBackup: (r) => {
    requireJob(r.job);
    requireId(r.backupId, 'backup_id');
    requireSink(r.sink, 'sink');
    return nodeIds(r.nodeIds, 'node_ids');
  },
  RestoreBackup: (r) => {
    requireJob(r.job);
    requireId(r.backupId, 'backup_id');
    requireSink(r.sink, 'sink');
    if (r.nodeIds.length === 0) fail('node_ids', 'required; name at least one local data node to restore into');
    return nodeIds(r.nodeIds, 'node_ids');
  },
  DeleteBackup: (r) => {
    requireJob(r.job);
    requireId(r.backupId, 'backup_id');
    requireSink(r.sink, 'sink');
    return [];
  },
  ListBackups: (r) => {
    if (r.sink !== null) requireSink(r.sink, 'sink');
    return [];
  },
  ConfigureDataNode: (r) => {
    requireJob(r.job);
    const ref = { field: 'node_id', nodeId: requireId(r.nodeId, 'node_id') };
    if (Object.keys(r.engineParams).length === 0 && Object.keys(r.labels).length === 0) {
      fail('engine_params', 'required; give at least one parameter (or, to set labels only, at least one label)');
    }
    checkParams(r.engineParams, 'engine_params');
    checkLabels(r.labels, 'labels');
    return [ref];
  },
};

/** Validates a decoded request of `method`; returns the local data nodes it names. */
export function validateRequest<M extends AgentMethod>(method: M, request: DecodedRequestOf<M>): NodeRef[] {
  return VALIDATORS[method](request);
}
