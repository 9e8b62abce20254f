// What the two sides of `make bench` (the bare baseline and Coxswain) have in common:
// the operations, in the order both run them, what each measures, and the data set both
// load — so the same run compares like with like.
import type { VerifyReport, WriterCounts, WriterStats } from '../support/writer.ts';

/**
 * The operations, in the order each side runs them (each builds on the one before).
 * Scaling is measured twice: on Redis 7.0, and after the upgrade on Valkey 8.0, whose
 * CLUSTER SETSLOT waits for the primary's replicas (agent/engines/redis/slot-migration.ts,
 * `migrate`), so a slot move costs more there.
 */
export const OPERATIONS = [
  'bootstrap',
  'scale-out',
  'scale-in',
  'rolling-restart',
  'upgrade',
  'scale-out-valkey',
  'scale-in-valkey',
  'backup',
  'restore',
] as const;
export type OperationName = (typeof OPERATIONS)[number];

/** One timed operation. */
export interface OpResult {
  seconds: number;
  /**
   * Client errors in the operation's window: commands of the continuous writer that
   * finally failed (or reads that returned a wrong value) while it ran. Bootstrap has no
   * cluster to write to before it is done: its window is the writer's start on the new
   * cluster while the data set loads right after. Restore fills a new cluster: its
   * window adds a PROBE_MS writer on the restored cluster right after it reports done
   * (failed commands, wrong reads, and writes missing when read back). So an operation
   * that says "done" too early shows up here.
   */
  clientErrors: number;
  /** The writer's longest command in the window, retries included, in ms. */
  maxLatencyMs: number;
  /** The writer's throughput in the window. */
  opsPerSecond: number;
}

/** A side's whole run. */
export interface SideResult {
  side: 'baseline' | 'coxswain';
  ops: Partial<Record<OperationName, OpResult>>;
  /** Loading the data set after bootstrap. */
  load: { keys: number; seconds: number } | undefined;
  /** The continuous writer over the whole run, and the read-back of every acknowledged write. */
  writer: WriterStats | undefined;
  verify: VerifyReport | undefined;
  /** The loaded data set read back from the restored cluster. */
  restoredData: VerifyReport | undefined;
  /** RSS in KiB of the data nodes (and, for Coxswain, of the leader and agents), measured after the backup. */
  memory: MemoryFigures | undefined;
  /** Why the side stopped early, when it did. */
  failure: string | undefined;
}

export interface MemoryFigures {
  leaderKiB: number | undefined;
  agentsKiB: number[];
  dataNodesKiB: number[];
}

/** The shape both sides build: 3 primaries × 1 replica (the baseline's, docs/redis-cluster.md), one more shard for scale-out. */
export const SHAPE = { nodeGroups: 3, replicationFactor: 2 } as const;

/** The engine parameters of the desired-state example; the baseline's servers get the same. */
export const ENGINE_CONFIG: Record<string, string> = { 'maxmemory-policy': 'noeviction', appendfsync: 'everysec' };

/** The data set both sides load after bootstrap: key `data:<i>`, value `value-<i>`. */
export const dataKey = (i: number): string => `data:${i}`;
export const dataValue = (i: number): string => `value-${i}`;

/** Keys written per batch while loading (as the baseline, docs/redis-cluster.md: batches of 5,000). */
export const LOAD_BATCH = 5_000;

/** How long the probe writer runs on a new cluster right after bootstrap/restore report done. */
export const PROBE_MS = 1_000;

export function opResult(seconds: number, lap: WriterCounts, extraErrors = 0, extraMaxLatencyMs = 0): OpResult {
  return {
    seconds,
    clientErrors: lap.errors + lap.wrongReads + extraErrors,
    maxLatencyMs: Math.max(lap.maxLatencyMs, extraMaxLatencyMs),
    opsPerSecond: lap.opsPerSecond,
  };
}

export function emptySide(side: SideResult['side']): SideResult {
  return { side, ops: {}, load: undefined, writer: undefined, verify: undefined, restoredData: undefined, memory: undefined, failure: undefined };
}
