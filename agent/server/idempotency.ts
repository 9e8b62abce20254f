// At-most-once execution of mutating calls, by idempotency key.
//
// The leader sends the same `coxswain-idempotency-key` on every retry of one step.
// The first call with a key runs; its outcome (the response, or a terminal error) is
// recorded durably in the agent's data dir; a repeat with the same key and the same
// request gets the recorded outcome without running again, even after an agent
// restart. A repeat that arrives while the first is still running waits for the same
// result. The same key with a different request is refused: it is a bug in the caller.
//
// Storage: one file per key (named by the SHA-256 of the key), written atomically
// (temporary file, fsync, rename, fsync of the directory) into the store's state dir
// (state-dir.ts). Chosen over an append-only
// JSONL journal because a record is never torn, a lookup reads one small file instead
// of loading the history, and pruning is deleting files, with no compaction pass.
// The price, two fsyncs per mutating call, is small beside what those calls do
// (starting processes, moving data).
//
// What is recorded: successes and deliberate terminal errors (a typed TerminalError
// other than CANCELLED). Transient errors are not: the step did not happen, or not
// completely, and the retry with the same key must run it again. That is why every
// backend operation must itself be idempotent in effect.
//
// What survives a restart of the agent's process: the records. What does not: the
// calls running (a repeat that arrives after a restart runs the step again, unless the
// first had recorded its outcome) and the pruning timer (restarted by open()).
import { createHash } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { IDEMPOTENCY_KEY_METADATA, MAX_IDEMPOTENCY_KEY_LENGTH } from '../../proto/metadata.ts';
import {
  AgentCallError,
  CancelledError,
  InvalidArgumentError,
  asAgentCallError,
  reviveError,
} from '../../proto/status.ts';
import { canonicalJson } from '../../common/canonical-json.ts';
import { systemClock, type Clock } from '../../common/clock.ts';
import { raceSignal } from './deadline.ts';
import { openStateDir, type StateDir } from './state-dir.ts';

/** @default 24 hours */
export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

const MAX_PRUNE_INTERVAL_MS = 60 * 60 * 1000;
const RECORD_VERSION = 1;

/** What a call ended with, as recorded. */
export type RecordedOutcome =
  | { readonly ok: true; readonly response: unknown }
  | {
      readonly ok: false;
      readonly code: number;
      readonly reason: string;
      readonly message: string;
      readonly details: Readonly<Record<string, string>>;
    };

/** One file of the store. */
export interface IdempotencyRecord {
  readonly version: number;
  readonly key: string;
  readonly method: string;
  /** SHA-256 of the method and the canonical JSON of the request. */
  readonly fingerprint: string;
  readonly outcome: RecordedOutcome;
  /** ISO 8601. */
  readonly finishedAt: string;
}

export interface IdempotencyStoreOptions {
  /** Directory of the records (created when missing), or a state dir. */
  dir: string | StateDir;
  logger: Logger;
  /** Records older than this are pruned. @default 24 hours */
  retentionMs?: number;
  /** The records' times and the pruning timer. @default the system's */
  clock?: Clock;
  /** How often records are pruned besides at open; 0: only at open. @default a quarter of the retention, within 1 s … 1 hour */
  pruneIntervalMs?: number;
}

export interface IdempotentRun<T> {
  key: string;
  method: string;
  /** The decoded request; its canonical JSON is fingerprinted. */
  request: unknown;
  /** The caller's signal: a caller that gives up stops waiting (the work itself goes on). */
  signal: AbortSignal;
  /** The work, run at most once per key. */
  execute: () => Promise<T>;
}

export interface IdempotentResult<T> {
  readonly response: T;
  /** True when the response was recorded (or shared with a running call), not produced by this call. */
  readonly replayed: boolean;
}

type Settled = { readonly outcome: RecordedOutcome; readonly error?: AgentCallError; readonly replayed: boolean };

interface InFlight {
  readonly method: string;
  readonly fingerprint: string;
  readonly settled: Promise<Settled>;
}

/** Reads `coxswain-idempotency-key` from call metadata; INVALID_ARGUMENT when missing or too long. */
export function parseIdempotencyKey(metadata: Metadata, method: string): string {
  return parseIdempotencyKeyValue(metadata.get(IDEMPOTENCY_KEY_METADATA)[0], method);
}

/** Reads the value of `coxswain-idempotency-key` as received; INVALID_ARGUMENT when missing or too long. */
export function parseIdempotencyKeyValue(value: unknown, method: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidArgumentError(
      IDEMPOTENCY_KEY_METADATA,
      `missing; ${method} changes state, so it needs a key that stays the same on every retry (e.g. "<job id>/<step id>")`,
    );
  }
  if (value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new InvalidArgumentError(IDEMPOTENCY_KEY_METADATA, `longer than ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  return value;
}

/** SHA-256 (hex) of the method and the canonical JSON of the request. */
export function fingerprintOf(method: string, request: unknown): string {
  return createHash('sha256').update(method).update('\n').update(canonicalJson(request)).digest('hex');
}

function fileNameOf(key: string): string {
  return `${createHash('sha256').update(key).digest('hex')}.json`;
}

function keyReused(key: string, method: string): InvalidArgumentError {
  return new InvalidArgumentError(
    IDEMPOTENCY_KEY_METADATA,
    `idempotency key reused for a different request (key ${JSON.stringify(key)} was first used for another ${method} ` +
      'request); use a new key for a new request, and the same key only to retry the same request',
  );
}

export class IdempotencyStore {
  readonly #dir: StateDir;
  readonly #logger: Logger;
  readonly #retentionMs: number;
  readonly #clock: Clock;
  readonly #inflight = new Map<string, InFlight>();
  #cancelPrune: (() => void) | undefined;
  #closed = false;

  private constructor(dir: StateDir, logger: Logger, retentionMs: number, clock: Clock) {
    this.#dir = dir;
    this.#logger = logger;
    this.#retentionMs = retentionMs;
    this.#clock = clock;
  }

  /** Opens (and creates) the store, removes leftovers of interrupted writes, prunes, and prunes periodically. */
  static async open(options: IdempotencyStoreOptions): Promise<IdempotencyStore> {
    const dir = typeof options.dir === 'string' ? await openStateDir(options.dir, { create: true }) : options.dir;
    const retentionMs = options.retentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS;
    const store = new IdempotencyStore(dir, options.logger, retentionMs, options.clock ?? systemClock);
    await dir.removeLeftovers();
    await store.prune();
    const every = options.pruneIntervalMs ?? Math.min(MAX_PRUNE_INTERVAL_MS, Math.max(1000, Math.floor(retentionMs / 4)));
    if (every > 0) store.#prunePeriodically(every);
    return store;
  }

  /** Stops the periodic pruning. */
  close(): void {
    this.#closed = true;
    this.#cancelPrune?.();
    this.#cancelPrune = undefined;
  }

  #prunePeriodically(every: number): void {
    this.#cancelPrune = this.#clock.timer(every, () => {
      this.prune()
        .catch((err: unknown) => this.#logger.warn({ err }, 'Failed to prune idempotency records; will retry'))
        .finally(() => {
          if (!this.#closed) this.#prunePeriodically(every);
        });
    });
  }

  /**
   * Runs `execute` at most once for `key`: returns the recorded response, or throws the
   * recorded error, when the key was used before with the same request.
   */
  async run<T>(run: IdempotentRun<T>): Promise<IdempotentResult<T>> {
    const fingerprint = fingerprintOf(run.method, run.request);
    const running = this.#inflight.get(run.key);
    let settled: Promise<Settled>;
    let joined = false;
    if (running !== undefined) {
      if (running.fingerprint !== fingerprint) throw keyReused(run.key, running.method);
      this.#logger.info({ key: run.key, method: run.method }, 'Joined a running call with the same idempotency key');
      settled = running.settled;
      joined = true;
    } else {
      // #settle turns every failure into its outcome; the catch makes sure of it, because
      // every waiter on this key (and the clean-up below) relies on `settled` never rejecting.
      settled = this.#settle(run, fingerprint).catch((err: unknown): Settled => {
        const error = asAgentCallError(err);
        return { outcome: errorOutcome(error), error, replayed: false };
      });
      this.#inflight.set(run.key, { method: run.method, fingerprint, settled });
      void settled.then(() => this.#inflight.delete(run.key));
    }
    const result = await raceSignal(settled, run.signal);
    if (result.error !== undefined) throw result.error;
    if (!result.outcome.ok) throw this.#revive(result.outcome);
    // The record was written for this key, method and request fingerprint, so it holds
    // the response type of this method.
    return { response: result.outcome.response as T, replayed: joined || result.replayed };
  }

  /** Deletes records older than the retention; returns how many. */
  async prune(): Promise<number> {
    let removed = 0;
    for (const name of await this.#dir.list()) {
      if (!name.endsWith('.json')) continue;
      const record = await this.#read(name);
      if (record !== undefined && !this.#expired(record)) continue;
      await this.#dir.remove(name);
      removed++;
    }
    if (removed > 0) {
      this.#logger.info({ removed, retentionMs: this.#retentionMs }, `Pruned ${removed} idempotency records past their retention`);
    }
    return removed;
  }

  /** Never rejects: failures are part of the settled outcome. */
  async #settle<T>(run: IdempotentRun<T>, fingerprint: string): Promise<Settled> {
    const file = fileNameOf(run.key);
    try {
      const existing = await this.#read(file);
      if (existing !== undefined && existing.key === run.key && !this.#expired(existing)) {
        if (existing.fingerprint !== fingerprint) {
          const error = keyReused(run.key, existing.method);
          return { outcome: errorOutcome(error), error, replayed: false };
        }
        this.#logger.info({ key: run.key, method: run.method, finishedAt: existing.finishedAt }, 'Replayed the recorded outcome of an idempotency key');
        return { outcome: existing.outcome, replayed: true };
      }
    } catch (err) {
      const error = asAgentCallError(err);
      return { outcome: errorOutcome(error), error, replayed: false };
    }

    let outcome: RecordedOutcome;
    let thrown: AgentCallError | undefined;
    let record: boolean;
    try {
      outcome = { ok: true, response: await run.execute() };
      record = true;
    } catch (err) {
      thrown = asAgentCallError(err);
      outcome = errorOutcome(thrown);
      record = err instanceof AgentCallError && err.kind === 'terminal' && !(err instanceof CancelledError);
    }
    if (record) await this.#write(file, run, fingerprint, outcome);
    return thrown === undefined ? { outcome, replayed: false } : { outcome, error: thrown, replayed: false };
  }

  async #write(file: string, run: IdempotentRun<unknown>, fingerprint: string, outcome: RecordedOutcome): Promise<void> {
    const record: IdempotencyRecord = {
      version: RECORD_VERSION,
      key: run.key,
      method: run.method,
      fingerprint,
      outcome,
      finishedAt: new Date(this.#clock.now()).toISOString(),
    };
    try {
      await this.#dir.write(file, `${JSON.stringify(record)}\n`);
    } catch (err) {
      // The call did take effect; failing it now would make the leader retry a step
      // that is done. Answer it, and let backend idempotence absorb a retry.
      this.#logger.error(
        { err, key: run.key, method: run.method, file: this.#dir.where(file) },
        'Failed to record the outcome of an idempotency key; a retry with this key will run the step again',
      );
    }
  }

  async #read(file: string): Promise<IdempotencyRecord | undefined> {
    const text = await this.#dir.read(file);
    if (text === undefined) return undefined;
    try {
      const parsed = JSON.parse(text) as Partial<IdempotencyRecord>;
      if (
        parsed.version === RECORD_VERSION &&
        typeof parsed.key === 'string' &&
        typeof parsed.fingerprint === 'string' &&
        typeof parsed.method === 'string' &&
        typeof parsed.finishedAt === 'string' &&
        typeof parsed.outcome === 'object' &&
        parsed.outcome !== null
      ) {
        return parsed as IdempotencyRecord;
      }
    } catch {
      // fall through: unreadable record
    }
    this.#logger.warn({ file: this.#dir.where(file) }, 'Ignored an unreadable idempotency record; it will be pruned');
    return undefined;
  }

  #expired(record: IdempotencyRecord): boolean {
    const finished = Date.parse(record.finishedAt);
    return !Number.isFinite(finished) || this.#clock.now() - finished > this.#retentionMs;
  }

  #revive(outcome: Extract<RecordedOutcome, { ok: false }>): AgentCallError {
    return reviveError(outcome.code, outcome.message, outcome.reason, outcome.details);
  }
}

function errorOutcome(error: AgentCallError): RecordedOutcome {
  return { ok: false, code: error.code, reason: error.reason, message: error.message, details: error.details };
}
