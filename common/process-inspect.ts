// What Linux's /proc says about a process and a port: is a pid alive, when did it
// start, what is its command line, who listens on a port. The supervisor uses these to
// tell its own data nodes from other processes after an agent restart, where the pid
// in a record may have been reused (pid_max is often 32768, so reuse is real).
// Linux only; on a system without /proc every process looks gone and no holder is
// found, so nothing is ever adopted or killed there by mistake.
import { readdir, readFile, readlink } from 'node:fs/promises';
import net from 'node:net';

export interface ProcStat {
  /** One letter: R running, S sleeping, Z zombie, … */
  state: string;
  /** Process group id. */
  pgrp: number;
  /** Start time in clock ticks after boot (field 22): with the pid, it names one process. */
  startTime: number;
}

/** /proc/<pid>/stat, or undefined when there is no such process. */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isFinite(pgrp) || !Number.isFinite(startTime)) return undefined;
  return { state, pgrp, startTime };
}

/**
 * True when `pid` runs (a zombie does not count: it has exited and waits to be reaped)
 * and, if `startTime` is given, is the same process that started then.
 */
export async function isRunning(pid: number, startTime?: number | null): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user; the stat check below decides.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = await readProcStat(pid);
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || startTime === null || stat.startTime === startTime;
}

/** The command line of `pid` as one string (NULs as spaces), or undefined. */
export async function readCmdline(pid: number): Promise<string | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.replace(/\0+/g, ' ').trim();
  } catch {
    return undefined;
  }
}

/** True when `port` on `host` can be bound now (nobody listens on it). */
export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Socket inodes listening on TCP `port` (any address), from /proc/net/tcp and tcp6. */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const row of text.split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
      if (f[1]?.endsWith(`:${hexPort}`) === true && f[3] === '0A' && f[9] !== undefined && f[9] !== '0') {
        inodes.add(f[9]);
      }
    }
  }
  return inodes;
}

/**
 * The process listening on TCP `port`, when /proc lets us see it (processes of other
 * users are invisible unless we are root). Scans every process's file descriptors,
 * so it is only for error messages.
 */
export async function findPortHolder(port: number): Promise<{ pid: number; command: string } | undefined> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return undefined;
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  for (const pidText of pids) {
    const fds = await readdir(`/proc/${pidText}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pidText}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m?.[1] !== undefined && inodes.has(m[1])) {
        const pid = Number(pidText);
        return { pid, command: (await readCmdline(pid)) ?? '?' };
      }
    }
  }
  return undefined;
}
