// Where the agent keeps what must outlive its process: the highest leader epoch it has
// seen (epoch-fence.ts) and the outcomes of mutating calls by idempotency key
// (idempotency.ts). On a VM that is a directory in the agent's data dir, each file
// replaced atomically and durably (common/atomic-file.ts). The fence and the store see only
// this interface, so the generative tests run the same code over a simulated VM's disk
// in memory, on virtual time (test/generative/sim-state-dir.ts).
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists, writeFileAtomic } from '../../common/atomic-file.ts';

/** A directory of small files that survive the agent's process. */
export interface StateDir {
  /** Where `name` is kept, for messages (a path). */
  where(name: string): string;
  /** The content of `name`, or undefined when it does not exist. */
  read(name: string): Promise<string | undefined>;
  /** Replaces `name` with `content`: a reader sees the old content or the new, and once this resolves the new survives a crash. */
  write(name: string, content: string): Promise<void>;
  /** The names of the files it holds. */
  list(): Promise<string[]>;
  /** Removes `name`; nothing happens when it does not exist. */
  remove(name: string): Promise<void>;
  /** Removes what writes interrupted by a crash left behind: those of `name`, or of every file. */
  removeLeftovers(name?: string): Promise<void>;
}

export interface OpenStateDirOptions {
  /** Create the directory (mode 0700) when it is missing; otherwise it must exist. @default false */
  create?: boolean;
}

/** The state dir that is the directory `dir` on disk. */
export async function openStateDir(dir: string, options: OpenStateDirOptions = {}): Promise<StateDir> {
  if (options.create === true) await mkdir(dir, { recursive: true, mode: 0o700 });
  return new FileStateDir(dir);
}

class FileStateDir implements StateDir {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  where(name: string): string {
    return path.join(this.#dir, name);
  }

  read(name: string): Promise<string | undefined> {
    return readTextIfExists(this.where(name));
  }

  write(name: string, content: string): Promise<void> {
    return writeFileAtomic(this.where(name), content);
  }

  list(): Promise<string[]> {
    return readdir(this.#dir);
  }

  remove(name: string): Promise<void> {
    return rm(this.where(name), { force: true });
  }

  async removeLeftovers(name?: string): Promise<void> {
    // writeFileAtomic's temporary files: `.<name>.<pid>.<random>.tmp`.
    for (const entry of await readdir(this.#dir)) {
      const leftover = entry.endsWith('.tmp') && (name === undefined || entry.startsWith(`.${name}.`));
      if (leftover) await rm(path.join(this.#dir, entry), { force: true });
    }
  }
}
