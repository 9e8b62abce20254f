// Where a restore keeps its temporary servers, and cleaning up after one that was cut
// off: an agent killed in the middle of RestoreBackup leaves its temporary servers
// (redis-server/valkey-server on a unix socket, restore.ts) running and their
// `coxswain-restore-*` directories (with copies of the backup's RDB files) on disk.
// The next agent on the same directory removes both when it starts, before it serves.
//
// Ownership. Each agent's temporary directories live in a base directory of its own:
// `<agent dir>/restore-tmp` when that path is short enough for the servers' unix
// sockets (at most 100 bytes), else `<os tmpdir>/coxswain-agent-<hash of the agent
// dir>`. So every `coxswain-restore-*` directory found there belongs to this agent, and
// since the agent is only starting, no restore of its own is running: all of them are
// leftovers. Agents of other directories on the same machine (every local "VM") use
// other base directories and are never touched.
//
// A temporary server is recognised by its command line, which names its socket inside
// the leftover directory (the server's title is "<program> unixsocket:<path>"), or by
// its working directory inside it; only redis-server and valkey-server processes are
// killed, by pid, and each is waited for before its directory is removed.
import { createHash } from 'node:crypto';
import { readdir, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, readCmdline, readProcStat } from '../../../common/process-inspect.ts';

/** Prefix of the temporary directory of one restore (restore.ts creates it with mkdtemp). */
export const RESTORE_DIR_PREFIX = 'coxswain-restore-';
/** Programs a temporary restore server runs. */
const SERVER_PROGRAMS = new Set(['redis-server', 'valkey-server']);
/** Longest agent directory for which the temporary servers' socket paths still fit beside it. */
const MAX_IN_DIR_LENGTH = 48;

/** The base directory of this agent's temporary restore directories (see the top). */
export function restoreTempBase(agentDir: string): string {
  if (agentDir.length <= MAX_IN_DIR_LENGTH) return path.join(agentDir, 'restore-tmp');
  const hash = createHash('sha256').update(path.resolve(agentDir)).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `coxswain-agent-${hash}`);
}

/** What the clean-up did. */
export interface LeftoverRestores {
  /** Leftover restore directories removed. */
  dirs: string[];
  /** Temporary servers killed, by pid. */
  killed: number[];
  /** Servers that did not exit after SIGKILL (their directories were left in place). */
  survivors: number[];
}

/** The subset of a pino logger the clean-up uses. */
export interface LeftoverLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

async function leftoverDirs(base: string): Promise<string[]> {
  const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && e.name.startsWith(RESTORE_DIR_PREFIX)).map((e) => path.join(base, e.name));
}

function inside(file: string, dir: string): boolean {
  return file === dir || file.startsWith(`${dir}${path.sep}`);
}

/** Pids of redis-server/valkey-server processes that run a temporary server in one of `dirs`. */
async function serversIn(dirs: readonly string[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n)).map(Number);
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const cmdline = await readCmdline(pid);
    if (cmdline === undefined || cmdline === '') continue;
    if (!SERVER_PROGRAMS.has(path.basename(cmdline.split(/\s+/)[0] ?? ''))) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const dir = dirs.find((d) => cmdline.includes(`unixsocket:${d}${path.sep}`) || (cwd !== '' && inside(cwd, d)));
    if (dir !== undefined) found.set(pid, dir);
  }
  return found;
}

/**
 * Kills the temporary servers of interrupted restores of this agent and removes their
 * directories (see the top). Call it when the agent starts, before it serves.
 */
export async function cleanUpLeftoverRestores(agentDir: string, logger?: LeftoverLogger): Promise<LeftoverRestores> {
  const dirs = (await leftoverDirs(restoreTempBase(agentDir))).sort();
  const result: LeftoverRestores = { dirs: [], killed: [], survivors: [] };
  if (dirs.length === 0) return result;
  const servers = await serversIn(dirs);
  const blocked = new Set<string>();
  await Promise.all(
    [...servers].map(async ([pid, dir]) => {
      const stat = await readProcStat(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return; // gone meanwhile
      }
      for (let i = 0; i < 200 && (await isRunning(pid, stat?.startTime)); i++) await sleep(10);
      if (await isRunning(pid, stat?.startTime)) {
        result.survivors.push(pid);
        blocked.add(dir);
      } else {
        result.killed.push(pid);
      }
    }),
  );
  for (const dir of dirs) {
    if (blocked.has(dir)) continue;
    await rm(dir, { recursive: true, force: true });
    result.dirs.push(dir);
  }
  result.killed.sort((a, b) => a - b);
  if (result.survivors.length > 0) {
    logger?.warn(
      { survivors: result.survivors, dirs: [...blocked] },
      'Temporary restore servers left by an interrupted restore did not exit after SIGKILL; their directories were kept. Kill them by pid and remove the directories',
    );
  }
  logger?.info(
    { dirs: result.dirs, killed: result.killed },
    `Cleaned up after ${result.dirs.length} interrupted restore(s): killed ${result.killed.length} temporary server(s), removed their directories`,
  );
  return result;
}
