// One Coxswain cluster driven only through its PUBLIC command line (docs/desired-state.md,
// "The command line"), as a person would: write FILE, `up -f FILE --detach`, edit FILE
// raising "id", `wait --id N`, `status --json`, `jobs --json`, `down --purge`. Used by
// the bench (test/bench/coxswain.ts) and the end-to-end tests (test/e2e/).
//
// It also keeps a record of every process of the cluster it has seen — the leader
// (<stateDir>/leader.pid), each agent (vms/<vm>/agent.pid) and each data node
// (vms/<vm>/data/nodes/<node>/node.pid) — with its /proc start time, so that whatever
// `down --purge` leaves behind can be stopped by pid without ever hitting a reused pid.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunning, readProcStat } from '../../common/process-inspect.ts';
import type { ClusterStatus } from '../../operator/model/status.ts';
import type { Job } from '../../operator/ports/journal.ts';
import { editJsonc } from '../../operator/demo/edit-jsonc.ts';
import { runCli } from './run-cli.ts';
import type { CliRun } from './run-cli.ts';
import type { ClusterAddress } from './writer.ts';

export const EXAMPLE_FILE = fileURLToPath(new URL('../../desired-state/desired_state.jsonc', import.meta.url));
export const DATA_PORT_BASE_ENV = 'COXSWAIN_DATA_PORT_BASE';
export const AGENT_PORT_BASE_ENV = 'COXSWAIN_AGENT_PORT_BASE';

/** A `coxswain` command failed; the message carries what it printed. */
export class CoxswainCommandError extends Error {
  override name = 'CoxswainCommandError';
}

/** One process of the cluster: the pid and its start time (clock ticks after boot), which together name it. */
export interface SeenProcess {
  label: string;
  pid: number;
  startTime: number;
}

export interface CliClusterOptions {
  /** Told when `down --purge` failed and processes are stopped by pid instead. @default silent */
  warn?: (message: string, fields: Record<string, unknown>) => void;
}

/** The first line of a pid file as a pid, or undefined. */
function pidIn(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.trim());
    return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Pids of the leader, the agents and the data nodes of a state directory, as their pid
 * files say now: labels "leader", "agent vm-3", "node <nodeId>".
 */
export function pidsIn(stateDir: string): Map<string, number> {
  const pids = new Map<string, number>();
  const add = (label: string, file: string): void => {
    const pid = pidIn(file);
    if (pid !== undefined) pids.set(label, pid);
  };
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  add('leader', path.join(stateDir, 'leader.pid'));
  const vms = path.join(stateDir, 'vms');
  for (const vm of list(vms)) {
    add(`agent ${vm}`, path.join(vms, vm, 'agent.pid'));
    const nodes = path.join(vms, vm, 'data', 'nodes');
    for (const node of list(nodes)) add(`node ${node}`, path.join(nodes, node, 'node.pid'));
  }
  return pids;
}

/**
 * Processes whose command line names `root` or whose working directory lies under it:
 * with `root` a test's own temporary directory, every agent (--data-dir under it) and
 * data node (run in its node directory) it started, whatever the pid files say.
 */
export async function processesUnder(root: string): Promise<SeenProcess[]> {
  const out: SeenProcess[] = [];
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replace(/\0+/g, ' ').trim();
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (!cmdline.includes(root) && !(cwd === root || cwd.startsWith(`${root}/`) || cwd.startsWith(`${root} `))) continue;
    const stat = await readProcStat(pid);
    if (stat === undefined || stat.state === 'Z') continue;
    out.push({ label: cmdline.slice(0, 120), pid, startTime: stat.startTime });
  }
  return out;
}

/** SIGKILLs each process that still runs as the same process (pid and start time); returns those it killed. */
export async function killSeen(processes: Iterable<SeenProcess>): Promise<SeenProcess[]> {
  const killed: SeenProcess[] = [];
  for (const p of processes) {
    if (!(await isRunning(p.pid, p.startTime))) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
      killed.push(p);
    } catch {
      // Gone meanwhile.
    }
  }
  return killed;
}

/** One cluster driven through the command line. */
export class CliCluster {
  readonly file: string;
  readonly stateDir: string;
  readonly env: NodeJS.ProcessEnv;
  id = 1;
  started = false;
  /** Every process of the cluster seen so far, by "pid startTime". */
  readonly seen = new Map<string, SeenProcess>();
  readonly #warn: NonNullable<CliClusterOptions['warn']>;

  constructor(dir: string, name: string, env: NodeJS.ProcessEnv, opts: CliClusterOptions = {}) {
    this.file = path.join(dir, `${name}.jsonc`);
    this.stateDir = path.join(dir, `${name}-state`);
    this.env = env;
    this.#warn = opts.warn ?? (() => undefined);
  }

  /** Records the processes the pid files name now (with their start times); returns them by label. */
  async track(): Promise<Map<string, SeenProcess>> {
    const now = new Map<string, SeenProcess>();
    for (const [label, pid] of pidsIn(this.stateDir)) {
      const stat = await readProcStat(pid);
      if (stat === undefined || stat.state === 'Z') continue;
      const p = { label, pid, startTime: stat.startTime };
      now.set(label, p);
      this.seen.set(`${pid} ${stat.startTime}`, p);
    }
    return now;
  }

  /** Runs `coxswain ARGS --state-dir D` (validate reads no state: it gets no --state-dir). */
  async cli(args: string[], timeoutMs = 60_000): Promise<CliRun> {
    const withState = args[0] === 'validate' ? args : [...args, '--state-dir', this.stateDir];
    const run = await runCli(withState, { env: this.env, timeoutMs, cwd: path.dirname(this.file) });
    await this.track();
    return run;
  }

  /** Runs a command that must exit 0. */
  async must(args: string[], timeoutMs = 60_000): Promise<CliRun> {
    const run = await this.cli(args, timeoutMs);
    if (run.code !== 0) {
      const said = `${run.stderr}${run.stdout}`.trim().split('\n').slice(-10).join('\n');
      const hint = /unknown command/.test(said) ? ' (this command of the contract in docs/desired-state.md is not in the coxswain binary yet)' : '';
      throw new CoxswainCommandError(`coxswain ${args.join(' ')} exited with ${String(run.code ?? run.signal)}${hint}:\n${said}`);
    }
    return run;
  }

  /** `up -f FILE --detach`. */
  async up(timeoutMs = 120_000): Promise<CliRun> {
    this.started = true;
    return this.must(['up', '-f', this.file, '--detach'], timeoutMs);
  }

  /** Sets fields of FILE, raising its id by one, as a person editing it would. */
  async edit(changes: Record<string, unknown>): Promise<number> {
    this.id += 1;
    const text = await readFile(this.file, 'utf8');
    await writeFile(this.file, editJsonc(text, { ...changes, id: this.id }));
    return this.id;
  }

  /** `coxswain wait --id N`: exits 0 at AT_DESIRED_STATE for N; anything else is an error with the status. */
  async wait(id: number, timeoutSeconds: number): Promise<void> {
    const run = await this.cli(['wait', '--id', String(id), '--timeout', String(timeoutSeconds)], (timeoutSeconds + 30) * 1000);
    if (run.code === 0) return;
    const status = await this.cli(['status']).catch(() => undefined);
    const said = `${run.stderr}${run.stdout}`.trim().split('\n').slice(-8).join('\n');
    throw new CoxswainCommandError(
      `coxswain wait --id ${id} exited with ${String(run.code ?? run.signal)}:\n${said}${status ? `\nstatus:\n${status.stdout.trim()}` : ''}`,
    );
  }

  async status(): Promise<ClusterStatus> {
    const run = await this.must(['status', '--json']);
    try {
      return JSON.parse(run.stdout) as ClusterStatus;
    } catch {
      throw new CoxswainCommandError(`coxswain status --json did not print JSON: ${run.stdout.slice(0, 200)}`);
    }
  }

  /** `jobs --json`: the journal, oldest first. */
  async jobs(): Promise<Job[]> {
    const run = await this.must(['jobs', '--json']);
    try {
      return JSON.parse(run.stdout) as Job[];
    } catch {
      throw new CoxswainCommandError(`coxswain jobs --json did not print JSON: ${run.stdout.slice(0, 200)}`);
    }
  }

  /** Addresses of the data nodes that are up, from `status --json`. */
  async dataAddresses(): Promise<ClusterAddress[]> {
    const status = await this.status();
    const out: ClusterAddress[] = [];
    for (const g of status.nodeGroups) {
      for (const n of g.nodes) {
        if (n.up && typeof n.host === 'string' && typeof n.port === 'number') out.push({ host: n.host, port: n.port });
      }
    }
    if (out.length === 0) throw new CoxswainCommandError(`coxswain status --json lists no data node that is up (state ${String(status.state)})`);
    return out;
  }

  /** The last `lines` lines of <stateDir>/leader.log (empty when there is none). */
  async leaderLogTail(lines: number): Promise<string[]> {
    const text = await readFile(path.join(this.stateDir, 'leader.log'), 'utf8').catch(() => '');
    return text
      .trimEnd()
      .split('\n')
      .filter((l) => l !== '')
      .slice(-lines);
  }

  /**
   * The leader log's last `count` messages, one short line each ("HH:MM:SS.mmm level msg"),
   * a run of the same message folded into one line with its count: what a person reads
   * first when a test fails, short enough for the tail of a CI log.
   */
  async leaderLogDigest(count: number): Promise<string[]> {
    const out: { at: string; body: string; times: number }[] = [];
    for (const line of await this.leaderLogTail(2_000)) {
      let at = '';
      let body = line; // not JSON: kept as it is
      try {
        const e = JSON.parse(line) as { time?: number; level?: number; msg?: string };
        const level = e.level === undefined ? '?' : e.level >= 50 ? 'ERROR' : e.level >= 40 ? 'WARN' : e.level >= 30 ? 'info' : 'debug';
        at = typeof e.time === 'number' ? new Date(e.time).toISOString().slice(11, 23) : '';
        body = `${level} ${e.msg ?? ''}`;
      } catch {
        // as above
      }
      const last = out.at(-1);
      if (last !== undefined && last.body === body) {
        last.times += 1;
        last.at = at; // the time of the last one
      } else {
        out.push({ at, body, times: 1 });
      }
    }
    return out.slice(-count).map((e) => `${e.at} ${e.body}${e.times > 1 ? ` (×${e.times}, the last at that time)` : ''}`.trim());
  }

  /**
   * `down --purge`, then SIGKILL by pid for any process of the cluster seen so far that
   * still runs (and, when `down` failed, is told to `warn`). Returns the processes that
   * had to be killed by pid: none when `down --purge` did its job.
   */
  async down(): Promise<SeenProcess[]> {
    if (!this.started) return [];
    await this.track();
    const run = await runCli(['down', '--purge', '--state-dir', this.stateDir], { env: this.env, timeoutMs: 120_000, cwd: path.dirname(this.file) }).catch(
      (err: unknown) => err,
    );
    if (run instanceof Error || (run as CliRun).code !== 0) {
      const why = run instanceof Error ? run.message : `${(run as CliRun).stderr}${(run as CliRun).stdout}`.trim();
      this.#warn(`coxswain down --purge failed; stopping the leader, agents and data nodes of ${this.stateDir} by pid`, { stateDir: this.stateDir, why });
    }
    return killSeen(this.seen.values());
  }
}
