// Fencing: every call carries the leader's epoch, and the agent refuses calls from a
// leader older than the newest it has seen (safety invariant 6). The highest epoch
// seen is kept in the agent's data dir, so a restarted agent still refuses the old
// leader. A higher epoch is made durable before the call that brought it runs.
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { EPOCH_METADATA } from '../../proto/metadata.ts';
import { InvalidArgumentError, StaleLeaderError, UnavailableError } from '../../proto/status.ts';
import { writeFileAtomic } from '../../common/atomic-file.ts';

/** The file in the data dir that holds the highest leader epoch seen. */
export const EPOCH_FILE = 'leader-epoch';

/** Reads `coxswain-epoch` from call metadata: a decimal integer ≥ 0. */
export function parseEpoch(metadata: Metadata): number {
  const value = metadata.get(EPOCH_METADATA)[0];
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
  readonly #file: string;
  readonly #logger: Logger;
  #seen: number;
  /** Raises run one after another, so a lower raise never overwrites a higher one. */
  #raises: Promise<void> = Promise.resolve();

  private constructor(file: string, seen: number, logger: Logger) {
    this.#file = file;
    this.#seen = seen;
    this.#logger = logger;
  }

  /** Opens the fence of the agent whose data dir is `dataDir` (which must exist). */
  static async open(dataDir: string, logger: Logger): Promise<EpochFence> {
    const file = path.join(dataDir, EPOCH_FILE);
    // Leftovers of a write interrupted by a crash (the epoch file itself is intact).
    for (const name of await readdir(dataDir)) {
      if (name.startsWith(`.${EPOCH_FILE}.`) && name.endsWith('.tmp')) await rm(path.join(dataDir, name), { force: true });
    }
    let seen = 0;
    try {
      const text = (await readFile(file, 'utf8')).trim();
      if (!/^[0-9]{1,16}$/.test(text)) {
        throw new Error(
          `the leader epoch file ${file} is corrupt (${JSON.stringify(text.slice(0, 40))}); ` +
            'it must hold one decimal integer. Restore it, or write the current leader epoch into it; ' +
            'the agent will not start without it, so that it cannot obey a stale leader',
        );
      }
      seen = Number(text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return new EpochFence(file, seen, logger);
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
    try {
      await writeFileAtomic(this.#file, `${epoch}\n`);
    } catch (err) {
      this.#logger.error({ err, file: this.#file, epoch }, 'Failed to persist the leader epoch; refusing the call');
      throw new UnavailableError(
        `the agent could not record leader epoch ${epoch} in ${this.#file} (${(err as Error).message}); the call did not run`,
        { cause: err },
      );
    }
    this.#logger.info({ from: this.#seen, to: epoch }, `Raised the leader epoch from ${this.#seen} to ${epoch}`);
    this.#seen = epoch;
  }
}
