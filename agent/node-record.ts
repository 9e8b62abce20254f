// The supervisor's record of a data node, kept in the node's directory so a restarted
// agent finds its nodes again:
//   node.json  everything the supervisor knows (the source of truth for recover())
//   node.pid   the pid alone, for people and scripts; present only while it runs
// Both are replaced atomically (temporary file, fsync, rename): a crash leaves the old
// content or the new, never half a file.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists, writeFileAtomic } from '../common/atomic-file.ts';

export const RECORD_FILE = 'node.json';
export const PID_FILE = 'node.pid';
/** The server's stdout and stderr (early start-up errors land here, before its own log is open). */
export const OUTPUT_FILE = 'server-output.log';

export interface NodeRecord {
  format: 1;
  nodeId: string;
  engine: string;
  kind: string;
  /** Catalogue version, e.g. "7.0". */
  version: string;
  port: number;
  bindHost: string;
  /** Opaque labels the caller attached (e.g. the node group); kept across agent restarts. */
  labels: Record<string, string>;
  /**
   * The engine parameters the node's configuration is rendered from: those of its last
   * start, with what a reconfiguration saved since. Absent in records written before
   * the field existed (then a reconfiguration cannot be saved: the next start does it).
   */
  parameters?: Record<string, string | number>;
  /** Parameters a reconfiguration saved that take effect at the next start; cleared by a start. */
  pendingRestart?: string[];
  /** Program path the process was started from. */
  binary: string;
  /** The version that program reported, e.g. "7.0.15". */
  binaryVersion: string;
  /** SHA-256 of the files the engine rendered, to tell a changed configuration. */
  configSha256: string;
  /** The running process, or null when stopped. */
  pid: number | null;
  /** /proc start time of `pid` (clock ticks after boot): guards against pid reuse. */
  procStartTime: number | null;
  /** The engine's own node id, once the node answered (Redis: CLUSTER MYID). */
  engineNodeId: string | null;
  startedAt: string | null;
  stoppedAt: string | null;
}

/** The record in `nodeDir`: undefined when there is none; throws when it cannot be read or parsed. */
export async function readRecord(nodeDir: string): Promise<NodeRecord | undefined> {
  const text = await readTextIfExists(path.join(nodeDir, RECORD_FILE));
  if (text === undefined) return undefined;
  const value: unknown = JSON.parse(text);
  if (!isRecord(value)) throw new Error(`${path.join(nodeDir, RECORD_FILE)} is not a node record of format 1`);
  return value;
}

function isRecord(v: unknown): v is NodeRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    r.format === 1 &&
    typeof r.nodeId === 'string' &&
    typeof r.version === 'string' &&
    typeof r.port === 'number' &&
    typeof r.bindHost === 'string' &&
    typeof r.binary === 'string' &&
    (r.pid === null || typeof r.pid === 'number') &&
    (r.procStartTime === null || typeof r.procStartTime === 'number') &&
    (r.engineNodeId === null || typeof r.engineNodeId === 'string')
  );
}

/** Writes node.json, then node.pid (or removes node.pid when the record has no pid). */
export async function writeRecord(nodeDir: string, record: NodeRecord): Promise<void> {
  await writeFileAtomic(path.join(nodeDir, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`, 0o600);
  if (record.pid === null) await rm(path.join(nodeDir, PID_FILE), { force: true });
  else await writeFileAtomic(path.join(nodeDir, PID_FILE), `${record.pid}\n`, 0o644);
}

/** Removes node.json and node.pid. */
export async function removeRecord(nodeDir: string): Promise<void> {
  await rm(path.join(nodeDir, PID_FILE), { force: true });
  await rm(path.join(nodeDir, RECORD_FILE), { force: true });
}
