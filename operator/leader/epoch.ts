// The leader's fencing epoch (safety invariant 6): every agent call carries it, and an
// agent refuses calls with an epoch lower than the highest it has seen. Each leader
// start takes the next epoch and persists it before it talks to any agent, so a leader
// that lost its lock (or an older process still finishing a call) is refused by every
// agent the new leader has reached.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.ts';

/** The epoch file holds something other than a whole number. */
export class EpochFileError extends Error {
  override name = 'EpochFileError';
  readonly file: string;
  readonly content: string;
  constructor(
    file: string,
    content: string,
  ) {
    super(
      `${file}: the leader's epoch file holds ${JSON.stringify(content.slice(0, 40))}, not a whole number. ` +
        'Write the highest epoch you know of (or a larger number) into it and start again',
    );
    this.file = file;
    this.content = content;
  }
}

/** The epoch in `file`, 0 when there is none yet. */
export async function readEpoch(file: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const trimmed = text.trim();
  if (!/^[0-9]+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) throw new EpochFileError(file, text);
  return Number(trimmed);
}

/** Takes the next epoch: reads `file`, adds 1, writes it durably, returns it. Call with the leader lock held. */
export async function nextEpoch(file: string): Promise<number> {
  const epoch = (await readEpoch(file)) + 1;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${epoch}\n`, 0o600);
  return epoch;
}
