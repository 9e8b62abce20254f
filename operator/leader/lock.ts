// One leader per state directory. The lock is <stateDir>/leader.pid, created exclusively
// (O_EXCL) and holding the leader's pid on the first line and the process's start time
// (from /proc/<pid>/stat) on the second: with the pid it names exactly one process, so a
// pid reused by an unrelated process after a crash is not mistaken for the leader. A lock
// whose process is gone is stale and taken over; the takeover itself runs under a
// second exclusive file, so two leaders starting at once cannot both take it.
import { open, readFile, rm, stat } from 'node:fs/promises';
import { isRunning, readCmdline, readProcStat } from '../../common/process-inspect.ts';
import { readTextIfExists } from '../../common/atomic-file.ts';

/** Another leader holds the lock. */
export class LeaderRunningError extends Error {
  override name = 'LeaderRunningError';
  readonly stateDir: string;
  readonly pid: number;
  constructor(
    stateDir: string,
    pid: number,
  ) {
    super(
      `a leader is already running for ${stateDir} (pid ${pid}). ` +
        `Follow it with: coxswain status --state-dir ${stateDir}; stop it with: coxswain down --state-dir ${stateDir}`,
    );
    this.stateDir = stateDir;
    this.pid = pid;
  }
}

export interface LockHolder {
  pid: number;
  /** Start time in clock ticks after boot; null where /proc does not say. */
  startTime: number | null;
}

export interface LeaderLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** The state directory, for messages. */
  stateDir: string;
  /** @default process.pid */
  pid?: number;
  /** A takeover file older than this is left over from a crash and removed. @default 10000 */
  staleTakeoverMs?: number;
}

/** Parses a lock file's text; undefined when it is not one. */
export function parseLockFile(text: string): LockHolder | undefined {
  const [pidLine, startLine] = text.split('\n');
  if (pidLine === undefined || !/^[0-9]+$/.test(pidLine.trim())) return undefined;
  const pid = Number(pidLine.trim());
  const start = startLine?.trim() ?? '';
  return { pid, startTime: /^[0-9]+$/.test(start) ? Number(start) : null };
}

/** The holder of the lock in `file` when that process still runs, else undefined. */
export async function liveLockHolder(file: string): Promise<LockHolder | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const holder = parseLockFile(text);
  if (holder === undefined) return undefined;
  return (await holderIsAlive(holder)) ? holder : undefined;
}

async function holderIsAlive(holder: LockHolder): Promise<boolean> {
  if (holder.startTime !== null) return isRunning(holder.pid, holder.startTime);
  if (holder.pid === process.pid) return true;
  // No start time recorded (no /proc when it was written): trust a live coxswain process.
  if (!(await isRunning(holder.pid))) return false;
  return (await readCmdline(holder.pid))?.includes('coxswain') ?? true;
}

/** Takes the lock for this process, or throws LeaderRunningError naming the live holder. */
export async function acquireLeaderLock(file: string, options: LockOptions): Promise<LeaderLock> {
  const pid = options.pid ?? process.pid;
  const startTime = (await readProcStat(pid))?.startTime ?? null;
  const me: LockHolder = { pid, startTime };
  const content = `${pid}\n${startTime ?? ''}\n`;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (await createExclusive(file, content)) return lockOf(file, me, content);
    const holder = await liveLockHolder(file);
    if (holder !== undefined) throw new LeaderRunningError(options.stateDir, holder.pid);
    await takeOverStale(file, options.staleTakeoverMs ?? 10_000);
  }
  throw new Error(`could not take the leader lock ${file}: it keeps changing; is another leader starting?`);
}

async function createExclusive(file: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/** Removes a stale lock under the takeover file, so only one process removes it. */
async function takeOverStale(file: string, staleTakeoverMs: number): Promise<void> {
  const takeover = `${file}.takeover`;
  if (!(await createExclusive(takeover, `${process.pid}\n`))) {
    // Someone else is taking over; a takeover file left by a crash is removed once old.
    const age = await stat(takeover).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > staleTakeoverMs) await rm(takeover, { force: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    return;
  }
  try {
    // Re-check under the takeover file: the lock may have changed hands meanwhile.
    if ((await liveLockHolder(file)) === undefined) await rm(file, { force: true });
  } finally {
    await rm(takeover, { force: true });
  }
}

function lockOf(file: string, holder: LockHolder, content: string): LeaderLock {
  let released = false;
  return {
    file,
    holder,
    async release() {
      if (released) return;
      released = true;
      const now = await readFile(file, 'utf8').catch(() => undefined);
      if (now === content) await rm(file, { force: true });
    },
  };
}
