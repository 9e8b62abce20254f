// Fencing: every call carries the leader's epoch, and the agent refuses calls from a
// leader older than the newest it has seen (safety invariant 6). The highest epoch
// seen is kept in the agent's data dir, so a restarted agent still refuses the old
// leader. A higher epoch is made durable before the call that brought it runs.
//
// What survives a restart of the agent's process is that file (in its state dir,
// state-dir.ts); the order of raises in flight is the process's own and dies with it.
import type { Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { EPOCH_METADATA } from '../../proto/metadata.ts';
import { InvalidArgumentError, StaleLeaderError, UnavailableError } from '../../proto/status.ts';
import { openStateDir, type StateDir } from './state-dir.ts';

/** The file in the data dir that holds the highest leader epoch seen. */
export const EPOCH_FILE = 'leader-epoch';

/** Reads `coxswain-epoch` from call metadata: a decimal integer ≥ 0. */
export function parseEpoch(metadata: Metadata): number {
  return parseEpochValue(metadata.get(EPOCH_METADATA)[0]);
}

/** Reads the value of `coxswain-epoch` as received: a decimal integer ≥ 0; INVALID_ARGUMENT otherwise. */
export function parseEpochValue(value: unknown): number {
  if (value === undefined || value === '') {
    throw new InvalidArgumentError(EPOCH_METADATA, `missing; send the leader's epoch as metadata "${EPOCH_METADATA}: <decimal>"`);
  }
  const text = typeof value === 'string' ? value.trim() : '';
  const epoch = Number(text);
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(epoch)) {
    throw new InvalidArgumentError(EPOCH_METADATA, `must be a decimal integer ≥ 0 (got ${JSON.stringify(String(value).slice(0, 40))})`);
  }
  return epoch;
}

export class EpochFence {
  readonly #dir: StateDir;
  readonly #logger: Logger;
  #seen: number;
  /** Raises run one after another, so a lower raise never overwrites a higher one. */
  #raises: Promise<void> = Promise.resolve();

  private constructor(dir: StateDir, seen: number, logger: Logger) {
    this.#dir = dir;
    this.#seen = seen;
    this.#logger = logger;
  }

  /** Opens the fence of the agent whose data dir is `dataDir` (a directory, which must exist, or a state dir). */
  static async open(dataDir: string | StateDir, logger: Logger): Promise<EpochFence> {
    const dir = typeof dataDir === 'string' ? await openStateDir(dataDir) : dataDir;
    // Leftovers of a write interrupted by a crash (the epoch file itself is intact).
    await dir.removeLeftovers(EPOCH_FILE);
    let seen = 0;
    const content = await dir.read(EPOCH_FILE);
    if (content !== undefined) {
      const text = content.trim();
      if (!/^[0-9]{1,16}$/.test(text)) {
        throw new Error(
          `the leader epoch file ${dir.where(EPOCH_FILE)} is corrupt (${JSON.stringify(text.slice(0, 40))}); ` +
            'it must hold one decimal integer. Restore it, or write the current leader epoch into it; ' +
            'the agent will not start without it, so that it cannot obey a stale leader',
        );
      }
      seen = Number(text);
    }
    return new EpochFence(dir, seen, logger);
  }

  /** The highest epoch seen (and persisted). */
  get highestSeen(): number {
    return this.#seen;
  }

  /**
   * Admits a call made with `epoch`: throws StaleLeaderError when a higher epoch has
   * been seen; persists a higher epoch before returning. Safe to call concurrently.
   */
  async admit(epoch: number): Promise<void> {
    if (epoch < this.#seen) throw new StaleLeaderError(epoch, this.#seen);
    if (epoch > this.#seen) {
      const raise = this.#raises.then(() => this.#raise(epoch));
      this.#raises = raise.catch(() => undefined);
      await raise;
    }
    // A higher epoch may have been persisted while this call waited its turn.
    if (epoch < this.#seen) throw new StaleLeaderError(epoch, this.#seen);
  }

  async #raise(epoch: number): Promise<void> {
    if (epoch <= this.#seen) return;
    const file = this.#dir.where(EPOCH_FILE);
    try {
      await this.#dir.write(EPOCH_FILE, `${epoch}\n`);
    } catch (err) {
      this.#logger.error({ err, file, epoch }, 'Failed to persist the leader epoch; refusing the call');
      throw new UnavailableError(
        `the agent could not record leader epoch ${epoch} in ${file} (${(err as Error).message}); the call did not run`,
        { cause: err },
      );
    }
    this.#logger.info({ from: this.#seen, to: epoch }, `Raised the leader epoch from ${this.#seen} to ${epoch}`);
    this.#seen = epoch;
  }
}
