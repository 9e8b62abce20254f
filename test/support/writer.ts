// A continuous, cluster-aware client for the benchmark and the end-to-end tests: it
// writes fresh keys (SET <prefix>k<n> v<n>) and reads each loop's previous key back while
// an operation runs, records every acknowledged write, and counts client errors. After
// `stop()`, `verify()` reads every acknowledged write back and reports the missing and
// the wrong ones: "no acknowledged write may be lost" (docs/testing.md, "End to end").
//
// What counts as a client error: a command that FINALLY failed, after the client's own
// retries — what an application using these settings would see. Redirections (MOVED,
// ASK) and retried failures are not errors; they show as latency.
//
// The client settings (CLIENT_SETTINGS) are chosen so that a planned failover costs zero
// errors, as the bare baseline measured (docs/redis-cluster.md) for a rolling restart
// and the 7.0 → 8.0 upgrade:
// - no auto-pipelining: it throws MOVED at callers across topology changes;
// - a closed connection (a node stopped) and CLUSTERDOWN are retried after 100 ms, with
//   the slot map refreshed, TRYAGAIN (a multi-key command during a slot move) likewise;
// - MOVED is followed at once;
// - maxRedirections 64 is the budget of all those retries together: with the 100 ms
//   delays, a command survives about 6 s without a serving primary, longer than the
//   cluster's failure detection (cluster-node-timeout 2 s, agent/engines/redis/config.ts);
// - commandTimeout 5 s: a command stuck on an unanswering node fails (counts as an
//   error) rather than hanging the loop forever;
// - the slot map is refreshed every 2 s besides, so new primaries (scale-out) are used
//   soon even for slots the client has not been redirected for yet.
import { Cluster } from 'ioredis';
import { closeCluster } from './close-cluster.ts';
import './ioredis-asking.ts';
import type { ClusterOptions } from 'ioredis';

export interface ClusterAddress {
  host: string;
  port: number;
}

/** The ioredis Cluster settings described at the top of this file. */
export const CLIENT_SETTINGS = {
  enableAutoPipelining: false,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  retryDelayOnMoved: 0,
  maxRedirections: 64,
  slotsRefreshTimeout: 2_000,
  slotsRefreshInterval: 2_000,
  enableOfflineQueue: true,
  scaleReads: 'master',
  redisOptions: { connectTimeout: 2_000, commandTimeout: 5_000 },
} as const satisfies ClusterOptions;

export interface WriterOptions {
  /** Any members of the cluster; the client discovers the rest. */
  nodes: ClusterAddress[];
  /** Prefix of every key, so several writers (or a loaded data set) do not collide. @default "w:" */
  keyPrefix?: string;
  /** Loops running at once, each one command at a time. @default 4 */
  concurrency?: number;
  /** Upper bound on commands per second across all loops; 0 = as fast as the cluster answers. @default 0 */
  maxOpsPerSecond?: number;
  /** After each write, read the loop's previous acknowledged key back and check it. @default true */
  reads?: boolean;
  /** Errors kept with their details (all are counted). @default 50 */
  keepErrors?: number;
  /** Time to wait for the client to be ready in start(). @default 10000 */
  readyTimeoutMs?: number;
  /** Overrides of CLIENT_SETTINGS (tests only; the bench uses the defaults). */
  clientOptions?: ClusterOptions;
}

export interface WriterError {
  /** ms since the writer started. */
  atMs: number;
  op: 'set' | 'get';
  key: string;
  message: string;
}

/** Counters over an interval (a lap, or the whole run). */
export interface WriterCounts {
  /** Commands that succeeded (writes and reads). */
  ops: number;
  writes: number;
  reads: number;
  /** Commands that finally failed after the client's retries. */
  errors: number;
  /** Reads that returned another value than the acknowledged one (a lost or wrong write seen live). */
  wrongReads: number;
  /** Longest time one command took, retries included, in ms. */
  maxLatencyMs: number;
  seconds: number;
  opsPerSecond: number;
}

export interface WriterStats extends WriterCounts {
  /** Writes acknowledged so far (each a distinct key). */
  acknowledged: number;
  /** The first `keepErrors` errors. */
  errorSamples: WriterError[];
}

export interface VerifyReport {
  /** Acknowledged writes read back. */
  checked: number;
  /** Acknowledged keys that are gone. */
  missing: number;
  /** Acknowledged keys holding another value. */
  wrong: number;
  /** Reads that failed even after retries (the key could not be checked). */
  unreadable: number;
  /** Up to 20 keys of each kind, for the message. */
  examples: string[];
  seconds: number;
}

/** The writer was used out of order (e.g. verify() before stop()). */
export class WriterStateError extends Error {
  override name = 'WriterStateError';
}

/** The cluster never became ready for the client. */
export class WriterConnectError extends Error {
  override name = 'WriterConnectError';
}

interface Interval {
  ops: number;
  writes: number;
  reads: number;
  errors: number;
  wrongReads: number;
  maxLatencyMs: number;
  startedAt: number;
}

function newInterval(now: number): Interval {
  return { ops: 0, writes: 0, reads: 0, errors: 0, wrongReads: 0, maxLatencyMs: 0, startedAt: now };
}

function countsOf(i: Interval, now: number): WriterCounts {
  const seconds = Math.max(0, (now - i.startedAt) / 1000);
  return {
    ops: i.ops,
    writes: i.writes,
    reads: i.reads,
    errors: i.errors,
    wrongReads: i.wrongReads,
    maxLatencyMs: Math.round(i.maxLatencyMs),
    seconds,
    opsPerSecond: seconds > 0 ? Math.round(i.ops / seconds) : 0,
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A set of non-negative integers as a growable bitmap: a million writes cost 128 KiB. */
class Bitmap {
  #bits = new Uint8Array(1 << 16);

  add(n: number): void {
    const byte = n >>> 3;
    if (byte >= this.#bits.length) {
      let size = this.#bits.length;
      while (size <= byte) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#bits);
      this.#bits = grown;
    }
    this.#bits[byte] = (this.#bits[byte] ?? 0) | (1 << (n & 7));
  }

  has(n: number): boolean {
    return (((this.#bits[n >>> 3] ?? 0) >> (n & 7)) & 1) === 1;
  }
}

/**
 * Reads `keys` back through `client` (`concurrency` commands in flight) and compares each
 * with `expected(i)`. Used by verify() and by the bench to check a loaded data set.
 */
export async function readBack(
  client: Cluster,
  count: number,
  keyOf: (i: number) => string,
  expected: (i: number) => string,
  concurrency = 1_000,
): Promise<VerifyReport> {
  const started = performance.now();
  const report: VerifyReport = { checked: 0, missing: 0, wrong: 0, unreadable: 0, examples: [], seconds: 0 };
  const note = (text: string): void => {
    if (report.examples.length < 20) report.examples.push(text);
  };
  for (let from = 0; from < count; from += concurrency) {
    const to = Math.min(count, from + concurrency);
    const batch: Promise<void>[] = [];
    for (let i = from; i < to; i++) {
      const key = keyOf(i);
      batch.push(
        client.get(key).then(
          (value) => {
            report.checked++;
            if (value === null) {
              report.missing++;
              note(`${key} missing`);
            } else if (value !== expected(i)) {
              report.wrong++;
              note(`${key} = ${JSON.stringify(value.slice(0, 40))}, expected ${JSON.stringify(expected(i))}`);
            }
          },
          (err: unknown) => {
            report.unreadable++;
            note(`${key} unreadable: ${messageOf(err)}`);
          },
        ),
      );
    }
    await Promise.all(batch);
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** Creates a Cluster client with CLIENT_SETTINGS (plus overrides) and waits until it is ready. */
export async function connectCluster(nodes: ClusterAddress[], overrides: ClusterOptions = {}, readyTimeoutMs = 10_000): Promise<Cluster> {
  if (nodes.length === 0) throw new WriterConnectError('no cluster node to connect to: pass at least one host:port');
  const client = new Cluster(nodes, { ...CLIENT_SETTINGS, ...overrides });
  // Connection problems also reject the command concerned; the event only needs a listener.
  client.on('error', () => undefined);
  if (client.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new WriterConnectError(`the cluster at ${nodes.map((n) => `${n.host}:${n.port}`).join(', ')} was not ready for a client after ${readyTimeoutMs} ms`));
      }, readyTimeoutMs);
      const onReady = (): void => {
        cleanup();
        resolve();
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        client.off('ready', onReady);
      };
      client.on('ready', onReady);
    }).catch(async (err: unknown) => {
      await closeCluster(client);
      throw err;
    });
  }
  return client;
}

/** The continuous writer described at the top of this file. */
export class ClusterWriter {
  readonly client: Cluster;
  readonly keyPrefix: string;
  readonly #concurrency: number;
  readonly #minGapMs: number;
  readonly #reads: boolean;
  readonly #keepErrors: number;
  readonly #acknowledged = new Bitmap();
  readonly #startedAt: number;
  #acknowledgedCount = 0;
  #next = 0;
  #total: Interval;
  #lap: Interval;
  #errorSamples: WriterError[] = [];
  #running = true;
  #loops: Promise<void>[] = [];
  #nextSlotAt = 0;

  private constructor(client: Cluster, opts: WriterOptions) {
    this.client = client;
    this.keyPrefix = opts.keyPrefix ?? 'w:';
    this.#concurrency = Math.max(1, opts.concurrency ?? 4);
    const rate = opts.maxOpsPerSecond ?? 0;
    this.#minGapMs = rate > 0 ? 1000 / rate : 0;
    this.#reads = opts.reads ?? true;
    this.#keepErrors = opts.keepErrors ?? 50;
    this.#startedAt = performance.now();
    this.#total = newInterval(this.#startedAt);
    this.#lap = newInterval(this.#startedAt);
  }

  /** Connects (waiting until the cluster serves the client) and starts writing. */
  static async start(opts: WriterOptions): Promise<ClusterWriter> {
    const client = await connectCluster(opts.nodes, opts.clientOptions ?? {}, opts.readyTimeoutMs ?? 10_000);
    const writer = new ClusterWriter(client, opts);
    writer.#loops = Array.from({ length: writer.#concurrency }, () => writer.#loop());
    return writer;
  }

  keyOf(n: number): string {
    return `${this.keyPrefix}k${n}`;
  }

  valueOf(n: number): string {
    return `v${n}`;
  }

  /** Keys handed out so far (acknowledged or not). */
  get issued(): number {
    return this.#next;
  }

  /** Counters since the previous lap() (or the start), then starts a new lap. */
  lap(): WriterCounts {
    const now = performance.now();
    const out = countsOf(this.#lap, now);
    this.#lap = newInterval(now);
    return out;
  }

  /** Counters since the start. */
  stats(): WriterStats {
    return { ...countsOf(this.#total, performance.now()), acknowledged: this.#acknowledgedCount, errorSamples: [...this.#errorSamples] };
  }

  /** Stops writing; resolves once every command in flight has finished. */
  async stop(): Promise<WriterStats> {
    this.#running = false;
    await Promise.all(this.#loops);
    return this.stats();
  }

  /** After stop(): reads every acknowledged write back. */
  async verify(concurrency = 1_000): Promise<VerifyReport> {
    if (this.#running) throw new WriterStateError('verify() needs the writer stopped first: call stop() and wait for it');
    const acknowledged: number[] = [];
    for (let n = 0; n < this.#next; n++) if (this.#acknowledged.has(n)) acknowledged.push(n);
    return readBack(
      this.client,
      acknowledged.length,
      (i) => this.keyOf(acknowledged[i] ?? -1),
      (i) => this.valueOf(acknowledged[i] ?? -1),
      concurrency,
    );
  }

  /** Stops (if needed) and disconnects the client. */
  async close(): Promise<void> {
    if (this.#running) await this.stop();
    await closeCluster(this.client);
  }

  /** Waits for this loop's next turn under maxOpsPerSecond (a shared schedule of evenly spaced slots). */
  async #pace(): Promise<void> {
    if (this.#minGapMs === 0) return;
    const now = performance.now();
    const at = Math.max(now, this.#nextSlotAt);
    this.#nextSlotAt = at + this.#minGapMs;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }

  #record(op: 'set' | 'get', ms: number, ok: boolean): void {
    for (const i of [this.#total, this.#lap]) {
      if (ms > i.maxLatencyMs) i.maxLatencyMs = ms;
      if (ok) {
        i.ops++;
        if (op === 'set') i.writes++;
        else i.reads++;
      } else {
        i.errors++;
      }
    }
  }

  #fail(op: 'set' | 'get', key: string, err: unknown): void {
    if (this.#errorSamples.length < this.#keepErrors) {
      this.#errorSamples.push({ atMs: Math.round(performance.now() - this.#startedAt), op, key, message: messageOf(err) });
    }
  }

  async #loop(): Promise<void> {
    let previous: number | undefined;
    while (this.#running) {
      await this.#pace();
      if (!this.#running) break;
      const n = this.#next++;
      const key = this.keyOf(n);
      const t0 = performance.now();
      try {
        await this.client.set(key, this.valueOf(n));
        this.#record('set', performance.now() - t0, true);
        this.#acknowledged.add(n);
        this.#acknowledgedCount++;
      } catch (err) {
        this.#record('set', performance.now() - t0, false);
        this.#fail('set', key, err);
      }
      if (!this.#reads || previous === undefined || !this.#running) {
        if (this.#acknowledged.has(n)) previous = n;
        continue;
      }
      await this.#pace();
      const readKey = this.keyOf(previous);
      const t1 = performance.now();
      try {
        const value = await this.client.get(readKey);
        this.#record('get', performance.now() - t1, true);
        if (value !== this.valueOf(previous)) {
          for (const i of [this.#total, this.#lap]) i.wrongReads++;
          this.#fail('get', readKey, new Error(`read ${JSON.stringify(value)}, expected ${JSON.stringify(this.valueOf(previous))}`));
        }
      } catch (err) {
        this.#record('get', performance.now() - t1, false);
        this.#fail('get', readKey, err);
      }
      if (this.#acknowledged.has(n)) previous = n;
    }
  }
}
