// The backups an agent knows of — those it created and those it saw when listing a
// sink — kept in one file in the agent's directory, so that GetState and ListBackups
// without a sink still report them after the agent restarts (a rolling agent restart
// must not make backups look gone to the leader).
//
// The file is replaced atomically (temporary file, fsync, rename) after every change:
// a crash leaves the old list or the new one. A file that cannot be read or parsed is
// not fatal: the agent starts with an empty list, logs why, and keeps the damaged file
// beside the new one (`backups.json.unreadable`) for a person to look at; the sinks
// still hold the backups themselves, and the next listing of a sink finds them again.
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../../common/atomic-file.ts';
import type { BackupInfo } from '../../../proto/generated/coxswain/agent/v1/BackupInfo.ts';

export const BACKUP_REGISTRY_FILE = 'backups.json';

/** The subset of a pino logger the registry uses. */
export interface RegistryLogger {
  warn(fields: object, message: string): void;
}

interface RegistryFile {
  format: 1;
  backups: BackupInfo[];
}

function byId(a: BackupInfo, b: BackupInfo): number {
  const x = a.backupId ?? '';
  const y = b.backupId ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

function isBackupInfo(v: unknown): v is BackupInfo {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return typeof b.backupId === 'string' && b.backupId !== '' && (b.parts === undefined || Array.isArray(b.parts));
}

/** The agent's list of known backups, by id, mirrored in `<dir>/backups.json`. */
export class BackupRegistry {
  readonly #file: string;
  readonly #backups = new Map<string, BackupInfo>();
  /** Writes one after the other, so that the file ends with the last state. */
  #writing: Promise<void> = Promise.resolve();

  private constructor(dir: string) {
    this.#file = path.join(dir, BACKUP_REGISTRY_FILE);
  }

  /** Loads the list from `dir` (empty when there is no file, or it is damaged: see the top). */
  static async open(dir: string, logger?: RegistryLogger): Promise<BackupRegistry> {
    const registry = new BackupRegistry(dir);
    let text: string | undefined;
    try {
      text = await readFile(registry.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text === undefined) return registry;
    try {
      const value = JSON.parse(text) as Partial<RegistryFile>;
      if (value.format !== 1 || !Array.isArray(value.backups) || !value.backups.every(isBackupInfo)) {
        throw new Error('it is not a backup list of format 1');
      }
      for (const b of value.backups) registry.#backups.set(b.backupId ?? '', b);
    } catch (err) {
      const aside = `${registry.#file}.unreadable`;
      await rename(registry.#file, aside).catch(() => undefined);
      logger?.warn(
        { file: registry.#file, movedTo: aside, error: err instanceof Error ? err.message : String(err) },
        'Could not read the list of known backups; starting with an empty list (the sinks still hold the backups: ListBackups with a sink finds them again)',
      );
    }
    return registry;
  }

  /** Every known backup, sorted by id. */
  list(): BackupInfo[] {
    return [...this.#backups.values()].sort(byId);
  }

  has(id: string): boolean {
    return this.#backups.has(id);
  }

  /** Adds or replaces a backup, and saves the list. */
  async set(info: BackupInfo): Promise<void> {
    this.#backups.set(info.backupId ?? '', info);
    await this.#save();
  }

  /** Removes backups by id (absent ones are fine); saves the list when something changed. */
  async remove(ids: Iterable<string>): Promise<void> {
    let changed = false;
    for (const id of ids) changed = this.#backups.delete(id) || changed;
    if (changed) await this.#save();
  }

  /**
   * What a listing of the sink at `sinkPath` found: adds the backups not known yet and
   * forgets known ones of that sink that it no longer holds. Saves when something changed.
   */
  async reconcileSink(sinkPath: string, found: readonly BackupInfo[]): Promise<void> {
    const ids = new Set(found.map((b) => b.backupId ?? ''));
    let changed = false;
    for (const b of found) {
      if (!this.#backups.has(b.backupId ?? '')) {
        this.#backups.set(b.backupId ?? '', b);
        changed = true;
      }
    }
    for (const [id, b] of this.#backups) {
      if (b.sink?.local?.path === sinkPath && !ids.has(id)) {
        this.#backups.delete(id);
        changed = true;
      }
    }
    if (changed) await this.#save();
  }

  #save(): Promise<void> {
    const content = `${JSON.stringify({ format: 1, backups: this.list() } satisfies RegistryFile, null, 2)}\n`;
    const next = this.#writing.then(() => writeFileAtomic(this.#file, content, 0o600));
    this.#writing = next.catch(() => undefined);
    return next;
  }
}
