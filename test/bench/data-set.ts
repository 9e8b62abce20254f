// The data both sides of the bench load after bootstrap (LOAD_BATCH keys at a time, as
// the hand-measured baseline did: docs/redis-cluster.md), its read-back, and the short
// probe run on a new cluster right after an operation reports it done.
import type { Cluster } from 'ioredis';
import { closeCluster } from '../support/close-cluster.ts';
import { ClusterWriter, connectCluster, readBack } from '../support/writer.ts';
import type { ClusterAddress, VerifyReport } from '../support/writer.ts';
import { LOAD_BATCH, PROBE_MS, dataKey, dataValue } from './ops.ts';

/** A write of the data set that failed even after the client's retries. */
export class LoadError extends Error {
  override name = 'LoadError';
}

/** Writes `keys` keys of the data set; returns the seconds it took. */
export async function loadDataSet(nodes: ClusterAddress[], keys: number): Promise<number> {
  const client = await connectCluster(nodes);
  try {
    const started = performance.now();
    for (let from = 0; from < keys; from += LOAD_BATCH) {
      const to = Math.min(keys, from + LOAD_BATCH);
      const batch: Promise<unknown>[] = [];
      for (let i = from; i < to; i++) batch.push(client.set(dataKey(i), dataValue(i)));
      const results = await Promise.allSettled(batch);
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length > 0) {
        const first = failed[0] as PromiseRejectedResult;
        throw new LoadError(`${failed.length} of ${to - from} writes of the data set failed; the first: ${String(first.reason)}`);
      }
    }
    return (performance.now() - started) / 1000;
  } finally {
    await closeCluster(client);
  }
}

/** Reads the data set back from the cluster at `nodes`. */
export async function checkDataSet(nodes: ClusterAddress[], keys: number): Promise<VerifyReport> {
  const client: Cluster = await connectCluster(nodes);
  try {
    return await readBack(client, keys, dataKey, dataValue);
  } finally {
    await closeCluster(client);
  }
}

/** Errors (failed commands, wrong reads, lost writes) a fresh writer sees in PROBE_MS on the cluster at `nodes`. */
export async function probe(nodes: ClusterAddress[], keyPrefix: string): Promise<{ errors: number; maxLatencyMs: number }> {
  const writer = await ClusterWriter.start({ nodes, keyPrefix, concurrency: 2 });
  try {
    await new Promise((resolve) => setTimeout(resolve, PROBE_MS));
    const stats = await writer.stop();
    const verify = await writer.verify();
    return { errors: stats.errors + stats.wrongReads + verify.missing + verify.wrong + verify.unreadable, maxLatencyMs: stats.maxLatencyMs };
  } finally {
    await writer.close();
  }
}
