// Resident memory (VmRSS from /proc/<pid>/status) of the processes the bench compares:
// the leader (pid in <stateDir>/leader.pid), each agent (<stateDir>/vms/*/agent.pid) and
// the data nodes (found by their process title, which names the port they listen on).
// Linux only: where /proc is missing every figure is undefined, never a guess.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** VmRSS of `pid` in KiB, or undefined when the process is gone. */
export async function rssKiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** The pid on the first line of a pid file, or undefined. */
export async function pidFromFile(file: string): Promise<number | undefined> {
  try {
    const first = (await readFile(file, 'utf8')).split('\n')[0]?.trim() ?? '';
    return /^[0-9]+$/.test(first) ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/** Pids of the agents of a state directory: <stateDir>/vms/<vm>/agent.pid. */
export async function agentPids(stateDir: string): Promise<number[]> {
  const vmsDir = path.join(stateDir, 'vms');
  const names = await readdir(vmsDir).catch(() => [] as string[]);
  const pids: number[] = [];
  for (const name of names.sort()) {
    const pid = await pidFromFile(path.join(vmsDir, name, 'agent.pid'));
    if (pid !== undefined) pids.push(pid);
  }
  return pids;
}

/**
 * Pids of redis-server / valkey-server processes listening on one of `ports`, found by
 * their process title ("/usr/bin/redis-server 127.0.0.1:7000 [cluster]", the agent's
 * proc-title-template).
 */
export async function dataNodePids(ports: readonly number[]): Promise<number[]> {
  const wanted = new Set(ports);
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const words = cmdline.replace(/\0+/g, ' ').trim().split(/\s+/);
    const program = path.basename(words[0] ?? '');
    if (program !== 'redis-server' && program !== 'valkey-server') continue;
    const port = Number(/:(\d+)$/.exec(words[1] ?? '')?.[1] ?? NaN);
    if (wanted.has(port)) pids.push(Number(entry));
  }
  return pids;
}

/** RSS in KiB of each pid that still runs. */
export async function rssOfPids(pids: readonly number[]): Promise<number[]> {
  const out: number[] = [];
  for (const pid of pids) {
    const kib = await rssKiB(pid);
    if (kib !== undefined) out.push(kib);
  }
  return out;
}
