// The Coxswain side of `make bench`: the same operations as baseline.ts, on the same
// shape and data with the same writer, driven only through Coxswain's PUBLIC command
// line (DESIGN.md, "Command line — the contract"), as a person would:
//
//   coxswain up -f FILE --detach --state-dir D      bootstrap (FILE at id 1)
//   edit FILE (operator/demo/edit-jsonc.ts), raising "id" each time:
//     nodeGroups 4                                   scale-out
//     nodeGroups 3                                   scale-in
//     runningSince = id                              rolling-restart
//     version "8.0"                                  upgrade
//     backups [{ id, sink: local dir }]              backup
//   coxswain wait --id N --timeout S --state-dir D  after each: exit 0 once AT_DESIRED_STATE
//   coxswain status --json --state-dir D            the data nodes' addresses, for the client
//   a second cluster (FILE2, state dir D2) with restoreFromBackup naming the backup: restore
//   coxswain down --purge --state-dir D (and D2)     at the end, always
//
// Each operation is timed from the command that asks for it (up, or the write of the
// edited FILE) to `wait` returning 0. Ports come from the local VM provider's bases,
// COXSWAIN_DATA_PORT_BASE and COXSWAIN_AGENT_PORT_BASE, given to `up` in its environment.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { editJsonc } from '../../operator/demo/edit-jsonc.ts';
import { runCli } from '../support/run-cli.ts';
import type { CliRun } from '../support/run-cli.ts';
import { ClusterWriter } from '../support/writer.ts';
import type { ClusterAddress } from '../support/writer.ts';
import { registerCleanup } from './cleanup.ts';
import { expectCluster } from './cluster-check.ts';
import { checkDataSet, loadDataSet, probe } from './data-set.ts';
import { log } from './log.ts';
import { agentPids, dataNodePids, pidFromFile, rssKiB, rssOfPids } from './memory.ts';
import { ENGINE_CONFIG, SHAPE, emptySide, opResult } from './ops.ts';
import type { OpResult, OperationName, SideResult } from './ops.ts';
import { freePortRun } from './port-range.ts';

export const EXAMPLE_FILE = fileURLToPath(new URL('../../desired-state/desired_state.jsonc', import.meta.url));
export const DATA_PORT_BASE_ENV = 'COXSWAIN_DATA_PORT_BASE';
export const AGENT_PORT_BASE_ENV = 'COXSWAIN_AGENT_PORT_BASE';

/** Ports reserved per cluster: 8 VMs at the widest (scale-out), room for temporary and replacement VMs. */
const PORTS_PER_CLUSTER = 16;

export interface CoxswainOptions {
  /** Keys of the data set. @default 100000 */
  keys?: number;
  /** The writer's bound on commands per second; 0 = unbounded. @default 0 */
  writerRate?: number;
  /** Longest wait for one operation, in s. @default 240 */
  opTimeoutSeconds?: number;
  /** Date.now() by which the last operation must be over: each wait gets at most what is left. @default none */
  deadline?: number;
  /** Where the temporary directory goes. @default os.tmpdir() */
  tmpRoot?: string;
}

/** A `coxswain` command failed; the message carries what it printed. */
export class CoxswainCommandError extends Error {
  override name = 'CoxswainCommandError';
}

/** What `status --json` holds that the bench reads (DESIGN.md's JSON keys). */
interface StatusJson {
  state?: string;
  acceptedId?: number | null;
  lastError?: unknown;
  nodeGroups?: { nodes?: { host?: string; port?: number; role?: string; up?: boolean }[] }[];
  agents?: { id?: string; endpoint?: string; up?: boolean }[];
}

/** One cluster driven through the command line. */
class CliCluster {
  readonly file: string;
  readonly stateDir: string;
  readonly env: NodeJS.ProcessEnv;
  id = 1;
  started = false;

  constructor(dir: string, name: string, env: NodeJS.ProcessEnv) {
    this.file = path.join(dir, `${name}.jsonc`);
    this.stateDir = path.join(dir, `${name}-state`);
    this.env = env;
  }

  /** Runs `coxswain ARGS --state-dir D` (validate reads no state: it gets no --state-dir). */
  async cli(args: string[], timeoutMs = 60_000): Promise<CliRun> {
    const withState = args[0] === 'validate' ? args : [...args, '--state-dir', this.stateDir];
    return runCli(withState, { env: this.env, timeoutMs, cwd: path.dirname(this.file) });
  }

  /** Runs a command that must exit 0. */
  async must(args: string[], timeoutMs = 60_000): Promise<CliRun> {
    const run = await this.cli(args, timeoutMs);
    if (run.code !== 0) {
      const said = `${run.stderr}${run.stdout}`.trim().split('\n').slice(-10).join('\n');
      const hint = /unknown command/.test(said) ? ' (this command of the DESIGN.md contract is not in the coxswain binary yet)' : '';
      throw new CoxswainCommandError(`coxswain ${args.join(' ')} exited with ${String(run.code ?? run.signal)}${hint}:\n${said}`);
    }
    return run;
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

  async status(): Promise<StatusJson> {
    const run = await this.must(['status', '--json']);
    try {
      return JSON.parse(run.stdout) as StatusJson;
    } catch {
      throw new CoxswainCommandError(`coxswain status --json did not print JSON: ${run.stdout.slice(0, 200)}`);
    }
  }

  /** Addresses of the data nodes that are up, from `status --json`. */
  async dataAddresses(): Promise<ClusterAddress[]> {
    const status = await this.status();
    const out: ClusterAddress[] = [];
    for (const g of status.nodeGroups ?? []) {
      for (const n of g.nodes ?? []) {
        if (n.up === true && typeof n.host === 'string' && typeof n.port === 'number') out.push({ host: n.host, port: n.port });
      }
    }
    if (out.length === 0) throw new CoxswainCommandError(`coxswain status --json lists no data node that is up (state ${String(status.state)})`);
    return out;
  }

  /** `down --purge`; when it fails, the processes it should have stopped are stopped by pid. */
  async down(): Promise<void> {
    if (!this.started) return;
    const run = await this.cli(['down', '--purge'], 120_000).catch((err: unknown) => err);
    if (run instanceof Error || (run as CliRun).code !== 0) {
      const why = run instanceof Error ? run.message : `${(run as CliRun).stderr}${(run as CliRun).stdout}`.trim();
      log.warn({ stateDir: this.stateDir, why }, `coxswain down --purge failed; stopping the leader and agents of ${this.stateDir} by pid`);
      const pids = [await pidFromFile(path.join(this.stateDir, 'leader.pid')), ...(await agentPids(this.stateDir))];
      for (const pid of pids) {
        if (pid === undefined) continue;
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
  }
}

/** The last `lines` lines of <stateDir>/leader.log (empty when there is none). */
async function leaderLogTail(stateDir: string, lines: number): Promise<string[]> {
  const text = await readFile(path.join(stateDir, 'leader.log'), 'utf8').catch(() => '');
  return text.trimEnd().split('\n').filter((l) => l !== '').slice(-lines);
}

/** The desired state of the bench cluster, from the documented example. */
export function benchDesiredState(example: string, fields: Record<string, unknown>): string {
  return editJsonc(example, {
    id: 1,
    version: '7.0',
    running: true,
    runningSince: 1,
    agentRunningSince: 1,
    nodeGroups: SHAPE.nodeGroups,
    replicationFactor: SHAPE.replicationFactor,
    config: ENGINE_CONFIG,
    backups: [],
    ...fields,
  });
}

/** Runs the whole sequence through the command line. Never throws: a failed step ends the run and is reported in `failure`. */
export async function runCoxswain(opts: CoxswainOptions = {}): Promise<SideResult> {
  const keys = opts.keys ?? 100_000;
  const timeout = opts.opTimeoutSeconds ?? 240;
  const result = emptySide('coxswain');
  const dir = await mkdtemp(path.join(opts.tmpRoot ?? os.tmpdir(), 'coxswain-bench-cli-'));
  const portEnv = async (): Promise<NodeJS.ProcessEnv> => ({
    ...process.env,
    [DATA_PORT_BASE_ENV]: String(await freePortRun(PORTS_PER_CLUSTER, { withBus: true })),
    [AGENT_PORT_BASE_ENV]: String(await freePortRun(PORTS_PER_CLUSTER)),
  });
  const main = new CliCluster(dir, 'bench', await portEnv());
  let restored: CliCluster | undefined;
  let writer: ClusterWriter | undefined;
  const example = await readFile(EXAMPLE_FILE, 'utf8');
  const sink = { type: 'local', path: path.join(dir, 'backups') };
  const backupRef = { id: 'bench-backup', sink };
  log.info({ side: 'coxswain', dir }, 'coxswain: starting the sequence through the command line');

  const timed = async (name: OperationName, fn: () => Promise<void>): Promise<OpResult> => {
    writer?.lap();
    const started = performance.now();
    await fn();
    const seconds = (performance.now() - started) / 1000;
    const lap = writer?.lap() ?? { ops: 0, writes: 0, reads: 0, errors: 0, wrongReads: 0, maxLatencyMs: 0, seconds, opsPerSecond: 0 };
    const r = opResult(seconds, lap);
    log.info({ side: 'coxswain', op: name, ...r }, `coxswain ${name}: ${seconds.toFixed(2)} s, ${r.clientErrors} client errors`);
    return r;
  };
  const waitFor = (cluster: CliCluster, id: number): Promise<void> => {
    const left = opts.deadline === undefined ? timeout : Math.floor((opts.deadline - Date.now()) / 1000);
    if (left < 5) throw new CoxswainCommandError(`no time left in the bench's budget to wait for id ${id}`);
    return cluster.wait(id, Math.min(timeout, left));
  };
  const step = async (changes: Record<string, unknown>): Promise<void> => waitFor(main, await main.edit(changes));
  const unregister = registerCleanup(async () => {
    await restored?.down();
    await main.down();
    await rm(dir, { recursive: true, force: true });
  });

  try {
    await writeFile(main.file, benchDesiredState(example, { name: 'bench' }));
    await main.must(['validate', main.file]);
    const boot = await timed('bootstrap', async () => {
      main.started = true;
      await main.must(['up', '-f', main.file, '--detach'], 120_000);
      await waitFor(main, 1);
    });
    const nodes = await main.dataAddresses();
    await expectCluster('bootstrap', nodes, { members: 6, primaries: 3, server: 'redis 7.0' });
    writer = await ClusterWriter.start({ nodes, keyPrefix: 'coxswain:', maxOpsPerSecond: opts.writerRate ?? 0 });
    const loadSeconds = await loadDataSet(nodes, keys);
    result.load = { keys, seconds: loadSeconds };
    result.ops.bootstrap = opResult(boot.seconds, writer.lap());
    log.info({ side: 'coxswain', keys, seconds: loadSeconds }, `coxswain: loaded ${keys} keys in ${loadSeconds.toFixed(2)} s`);

    result.ops['scale-out'] = await timed('scale-out', () => step({ nodeGroups: SHAPE.nodeGroups + 1 }));
    await expectCluster('scale-out', await main.dataAddresses(), { members: 8, primaries: 4 });
    result.ops['scale-in'] = await timed('scale-in', () => step({ nodeGroups: SHAPE.nodeGroups }));
    await expectCluster('scale-in', await main.dataAddresses(), { members: 6, primaries: 3 });
    const restartBegan = Date.now();
    result.ops['rolling-restart'] = await timed('rolling-restart', () => step({ runningSince: main.id + 1 }));
    await expectCluster('rolling-restart', await main.dataAddresses(), { members: 6, primaries: 3, restartedAfter: restartBegan });
    const upgradeBegan = Date.now();
    result.ops.upgrade = await timed('upgrade', () => step({ version: '8.0' }));
    await expectCluster('upgrade', await main.dataAddresses(), { members: 6, primaries: 3, server: 'valkey 8.0', restartedAfter: upgradeBegan });
    result.ops.backup = await timed('backup', () => step({ backups: [backupRef] }));

    const status = await main.status();
    const ports = (status.nodeGroups ?? []).flatMap((g) => (g.nodes ?? []).map((n) => n.port ?? -1));
    const leaderPid = await pidFromFile(path.join(main.stateDir, 'leader.pid'));
    result.memory = {
      leaderKiB: leaderPid === undefined ? undefined : await rssKiB(leaderPid),
      agentsKiB: await rssOfPids(await agentPids(main.stateDir)),
      dataNodesKiB: await rssOfPids(await dataNodePids(ports)),
    };

    const second = new CliCluster(dir, 'bench-restored', await portEnv());
    restored = second;
    await writeFile(second.file, benchDesiredState(example, { name: 'bench-restored', version: '8.0', backups: [backupRef], restoreFromBackup: backupRef }));
    const restoreResult = await timed('restore', async () => {
      second.started = true;
      await second.must(['up', '-f', second.file, '--detach'], 120_000);
      await waitFor(second, 1);
    });
    const restoredNodes = await second.dataAddresses();
    await expectCluster('restore', restoredNodes, { members: 6, primaries: 3, server: 'valkey 8.0' });
    const probed = await probe(restoredNodes, 'coxswain-probe:');
    result.ops.restore = { ...restoreResult, clientErrors: restoreResult.clientErrors + probed.errors };
    result.restoredData = await checkDataSet(restoredNodes, keys);
  } catch (err) {
    result.failure = err instanceof Error ? err.message : String(err);
    log.error({ side: 'coxswain', err: result.failure }, `coxswain side stopped: ${result.failure}`);
    for (const c of [main, restored]) {
      const tail = c === undefined ? [] : await leaderLogTail(c.stateDir, 40);
      if (tail.length > 0) log.error({ side: 'coxswain', stateDir: c?.stateDir, leaderLog: tail }, 'the last lines of the leader log, before down --purge removes it');
    }
  } finally {
    if (writer !== undefined) {
      try {
        result.writer = await writer.stop();
        result.verify = await writer.verify();
      } catch (err) {
        result.failure ??= `verifying the writer's data: ${err instanceof Error ? err.message : String(err)}`;
      }
      await writer.close();
    }
    await restored?.down();
    await main.down();
    await rm(dir, { recursive: true, force: true });
    unregister();
  }
  return result;
}
