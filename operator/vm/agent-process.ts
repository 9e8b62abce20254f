// The process side of a local VM: its directory layout, starting its `coxswain agent`
// detached, telling whether a pid is still that agent, stopping it, and waiting until
// its gRPC health service answers SERVING.
//
// Agents are started DETACHED (their own session and process group, stdio to a file
// opened O_APPEND, unref'd) so they outlive the leader, even a kill -9 of it; they are
// found again by the pid in <vmDir>/agent.pid. A pid alone can be reused by another
// process, so a pid counts as the VM's agent only while /proc/<pid>/cmdline carries
// `--data-dir <the VM's data dir>` — an argument no other process has.
import { spawn } from 'node:child_process';
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import { findPortHolder, isRunning, readProcStat } from '../../common/process-inspect.ts';
import type { Clock } from '../../common/clock.ts';
import { ProcessStopError, VmOperationCancelledError } from './errors.ts';

/** Where a VM lives on disk. */
export interface VmPaths {
  /** <clusterDir>/vms/<vmId> */
  vmDir: string;
  /** The agent's --data-dir: epoch, idempotency records and data nodes (data/nodes/<nodeId>). */
  dataDir: string;
  /** The agent's pid while it runs. */
  pidFile: string;
  /** The agent's standard output and error (pino lines), appended across restarts. */
  logFile: string;
}

export function vmPaths(vmsDir: string, vmId: string): VmPaths {
  const vmDir = path.join(vmsDir, vmId);
  return {
    vmDir,
    dataDir: path.join(vmDir, 'data'),
    pidFile: path.join(vmDir, 'agent.pid'),
    logFile: path.join(vmDir, 'agent.log'),
  };
}

/** host:port as a gRPC target (IPv6 literals in brackets). */
export function endpointOf(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The argv of a process, or undefined when it is gone or unreadable. */
async function argvOf(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a) => a !== '');
  } catch {
    return undefined;
  }
}

/** True while `pid` runs and is the agent of the VM whose data dir is `dataDir`. */
export async function isAgentOf(pid: number, dataDir: string): Promise<boolean> {
  if (!(await isRunning(pid))) return false;
  const argv = await argvOf(pid);
  if (argv === undefined) return false;
  return argv.some((arg, i) => (arg === '--data-dir' && argv[i + 1] === dataDir) || arg === `--data-dir=${dataDir}`);
}

/** The pid in the pid file, or undefined when there is none (or it is not a pid). */
export async function readAgentPid(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
}

export async function writeAgentPid(pidFile: string, pid: number): Promise<void> {
  await writeFileAtomic(pidFile, `${pid}\n`, 0o644);
}

export async function removeAgentPid(pidFile: string): Promise<void> {
  await rm(pidFile, { force: true });
}

/**
 * The pid of the VM's running agent: the one in its pid file, or — when the file is
 * missing or stale, e.g. the leader died between spawning the agent and writing the
 * file — the process listening on the agent's port, if it is that VM's agent.
 * `scanPort` allows the (slower) scan of /proc for the port's holder.
 */
export async function findAgentPid(paths: VmPaths, agentPort: number, scanPort: boolean): Promise<number | undefined> {
  const pid = await readAgentPid(paths.pidFile);
  if (pid !== undefined && (await isAgentOf(pid, paths.dataDir))) return pid;
  if (!scanPort) return undefined;
  const holder = await findPortHolder(agentPort);
  if (holder !== undefined && (await isAgentOf(holder.pid, paths.dataDir))) return holder.pid;
  return undefined;
}

/** The last `lines` non-empty lines of a file ('' when it cannot be read). */
export async function tailFile(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join('\n');
}

export interface SpawnedAgent {
  pid: number;
  /** Resolves with how the process ended (only while this process watches it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set once it exited. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/**
 * Starts `argv` detached in `cwd`, standard output and error appended to `logFile`,
 * and writes its pid to `pidFile`. Resolves once the process exists.
 */
export async function spawnDetached(argv: readonly string[], cwd: string, logFile: string, pidFile: string): Promise<SpawnedAgent> {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error('the agent command is empty');
  await mkdir(cwd, { recursive: true, mode: 0o700 });
  const env = { ...process.env };
  // Set by `node --test` for its child processes; an agent is not one of them.
  delete env.NODE_TEST_CONTEXT;
  const out = await open(logFile, 'a', 0o600); // O_APPEND: restarts add to the log
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let child;
  let started: Promise<void>;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  try {
    const c = spawn(program, args, { cwd, env, detached: true, stdio: ['ignore', out.fd, out.fd] });
    child = c;
    started = new Promise<void>((resolve, reject) => {
      c.once('spawn', resolve);
      c.once('error', reject);
    });
    exited = new Promise((resolve) => {
      c.once('exit', (code, signal) => {
        exitInfo = { code, signal };
        resolve(exitInfo);
      });
    });
  } finally {
    await out.close(); // the child holds its own copy
  }
  await started.catch((err: unknown) => {
    throw new Error(`could not run ${program}: ${(err as Error).message}`, { cause: err });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${program} started without a pid`);
  child.unref(); // the leader may exit while the agent runs
  await writeAgentPid(pidFile, pid);
  return { pid, exited, exit: () => exitInfo };
}

export interface StopProcessOptions {
  /** Time from SIGTERM to SIGKILL. */
  graceMs: number;
  clock: Clock;
  /** What the process is, for messages: "the agent of vm-1". */
  what: string;
}

/**
 * True once a process has released everything it held. Its main thread shows as a
 * zombie as soon as IT exits, while the other threads of a multi-threaded program (Node)
 * may still hold the open files and listening sockets for a moment: only a zombie
 * whose task list has shrunk to that main thread is really gone.
 */
export async function processGone(pid: number): Promise<boolean> {
  if (await isRunning(pid)) return false;
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  return tasks.length <= 1;
}

/** Polls until `pid` is gone; false after `ms`. */
async function waitGone(pid: number, ms: number, clock: Clock): Promise<boolean> {
  const until = clock.now() + ms;
  for (;;) {
    if (await processGone(pid)) return true;
    if (clock.now() >= until) return false;
    await clock.sleep(20);
  }
}

/** Sends `sig` to the process group `pid` leads (detached processes do), else to the process. */
function signalGroup(pid: number, sig: NodeJS.Signals, pgrp: number | undefined): void {
  try {
    process.kill(pgrp === pid ? -pid : pid, sig);
  } catch {
    // gone meanwhile
  }
}

/**
 * SIGTERM, then SIGKILL (to its process group) after the grace period; resolves once
 * the process is gone. Returns whether SIGKILL was needed. ProcessStopError when even
 * SIGKILL did not end it within 5 s.
 */
export async function stopProcess(pid: number, options: StopProcessOptions): Promise<{ killed: boolean }> {
  const { graceMs, clock, what } = options;
  const stat = await readProcStat(pid);
  if (stat === undefined) return { killed: false };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return { killed: false };
  }
  if (await waitGone(pid, graceMs, clock)) return { killed: false };
  signalGroup(pid, 'SIGKILL', stat.pgrp);
  if (await waitGone(pid, 5000, clock)) return { killed: true };
  throw new ProcessStopError(`${what} (pid ${pid}) did not exit, even 5 s after SIGKILL; look at it with: ps -o pid,stat,cmd -p ${pid}`);
}

/** SIGKILL to a process and its group, waiting until it is gone (for clean-up after a failed start). */
export async function killProcess(pid: number, clock: Clock): Promise<boolean> {
  const stat = await readProcStat(pid);
  if (stat === undefined) return true;
  signalGroup(pid, 'SIGKILL', stat.pgrp);
  return waitGone(pid, 5000, clock);
}

export interface WaitServingOptions {
  endpoint: string;
  timeoutMs: number;
  clock: Clock;
  signal?: AbortSignal | undefined;
  /** Why the process cannot serve any more (it exited), or undefined while it runs. */
  gone: () => Promise<string | undefined>;
  /** For messages. */
  what: string;
}

export type WaitServingResult = { ok: true; afterMs: number } | { ok: false; why: string };

/** One health Check on an open channel; resolves with the status name or the error text. */
function checkOnce(client: grpc.Client, deadlineMs: number): Promise<{ status?: string; error?: string }> {
  const check = healthService.Check;
  if (check === undefined) return Promise.resolve({ error: 'grpc-health-check has no Check method' });
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      check.path,
      check.requestSerialize,
      check.responseDeserialize,
      { service: '' },
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, value) => {
        if (err !== null) resolve({ error: err.details || err.message });
        else resolve({ status: (value as { status?: unknown } | undefined)?.status as string | undefined ?? 'UNKNOWN' });
      },
    );
  });
}

/**
 * Asks the standard gRPC health service (no credential needed) until it answers
 * SERVING, the process is gone, or the time is up. The agent only serves after it
 * has adopted its data nodes, so SERVING means the VM is fully back.
 */
export async function waitServing(options: WaitServingOptions): Promise<WaitServingResult> {
  const { endpoint, timeoutMs, clock, signal } = options;
  const begun = clock.now();
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
    // The agent needs a second or two to start; reconnect quickly rather than after grpc's 1 s+ backoff.
    'grpc.initial_reconnect_backoff_ms': 50,
    'grpc.max_reconnect_backoff_ms': 250,
  });
  let last = 'it was not asked yet';
  try {
    for (;;) {
      if (signal?.aborted === true) throw new VmOperationCancelledError(`Waiting for ${options.what} to serve`);
      const gone = await options.gone();
      if (gone !== undefined) return { ok: false, why: gone };
      const left = begun + timeoutMs - clock.now();
      if (left <= 0) return { ok: false, why: `did not answer SERVING within ${timeoutMs} ms on ${endpoint} (last answer: ${last})` };
      const answer = await checkOnce(client, Math.max(1, Math.min(1000, left)));
      if (answer.status === 'SERVING') return { ok: true, afterMs: clock.now() - begun };
      last = answer.status ?? answer.error ?? 'no answer';
      await clock.sleep(Math.min(50, Math.max(0, begun + timeoutMs - clock.now())), signal).catch(() => undefined);
    }
  } finally {
    client.close();
  }
}
