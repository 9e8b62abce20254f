// The tools of the bare, hand-driven baseline: start and stop redis-server /
// valkey-server processes with the configuration Coxswain's agent renders, run
// `redis-cli`, and wait the way docs/redis-cluster.md says one must (trap 1): not only for
// `cluster_state:ok`, but until every node's CLUSTER NODES agrees on the topology (ids,
// addresses, roles, primaries, slots). No Coxswain code drives the cluster here; only
// the config renderer is shared, so both sides run the servers with the same settings.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENGINES } from '../../desired-state/catalogue.ts';
import type { EngineVersion } from '../../desired-state/types.ts';
import { CONFIG_FILE, renderRedisConfig } from '../../agent/engines/redis/config.ts';
import { command, withNode } from '../../agent/engines/redis/redis-connection.ts';
import { log } from './log.ts';

export const HOST = '127.0.0.1';

/** A step of the hand-driven sequence failed; the message says which and what the tool printed. */
export class BenchStepError extends Error {
  override name = 'BenchStepError';
}

/** One server process of the baseline. */
export interface BareNode {
  /** A label for messages: "n3". */
  name: string;
  port: number;
  dir: string;
  version: EngineVersion;
  parameters: Record<string, string | number>;
  child: ChildProcess | undefined;
  pid: number | undefined;
}

/** Every process the baseline started, so that clean-up can stop them by pid, also after a failure. */
export class ProcessRegistry {
  readonly #children = new Map<number, ChildProcess>();

  add(child: ChildProcess): void {
    if (child.pid !== undefined) this.#children.set(child.pid, child);
    child.once('exit', () => {
      if (child.pid !== undefined) this.#children.delete(child.pid);
    });
  }

  get pids(): number[] {
    return [...this.#children.keys()];
  }

  /** SIGKILLs every process still running and waits for each exit. */
  async killAll(): Promise<void> {
    await Promise.all([...this.#children.values()].map((c) => stopChild(c, 'SIGKILL', 5_000)));
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Sends `signal` and waits until the process exited; SIGKILL after `timeoutMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (exited(child)) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await done;
  clearTimeout(timer);
}

export function addr(node: Pick<BareNode, 'port'>): string {
  return `${HOST}:${node.port}`;
}

/** Sends one command to one node (short-lived connection). */
export function nodeCommand<T>(port: number, name: string, ...args: (string | number)[]): Promise<T> {
  return withNode({ host: HOST, port }, (c) => command<T>(c, name, ...args), { op: `bench ${name}`, commandTimeoutMs: 10_000 });
}

/** Writes redis.conf as the agent renders it and starts the server of `node.version`; resolves once PING answers. */
export async function startNode(node: BareNode, registry: ProcessRegistry): Promise<void> {
  await mkdir(node.dir, { recursive: true });
  const config = renderRedisConfig({
    nodeId: node.name,
    kind: 'data',
    version: node.version,
    port: node.port,
    bindHost: HOST,
    dataDir: node.dir,
    parameters: node.parameters,
  });
  const confFile = path.join(node.dir, CONFIG_FILE);
  await writeFile(confFile, config);
  const program = ENGINES.redis.versions[node.version].serverBinary;
  const out = await open(path.join(node.dir, 'server-output.log'), 'a');
  const child = spawn(program, [confFile], { cwd: node.dir, detached: true, stdio: ['ignore', out.fd, out.fd] });
  await out.close();
  registry.add(child);
  node.child = child;
  node.pid = child.pid;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited(child)) throw new BenchStepError(`${program} for ${node.name} on port ${node.port} exited (code ${String(child.exitCode)}); see ${node.dir}/redis.log`);
    try {
      if ((await nodeCommand<string>(node.port, 'PING')) === 'PONG') {
        log.debug({ ms: Math.round(20_000 - (deadline - Date.now())), node: node.name }, 'started');
        return;
      }
    } catch {
      // not listening yet, or LOADING
    }
    if (Date.now() > deadline) throw new BenchStepError(`${program} for ${node.name} on port ${node.port} did not answer PING within 20 s; see ${node.dir}/redis.log`);
    await sleep(5);
  }
}

/** Stops the server (SIGTERM: a clean shutdown) and waits for its exit. */
export async function stopNode(node: BareNode): Promise<void> {
  const started = performance.now();
  if (node.child !== undefined) await stopChild(node.child, 'SIGTERM', 15_000);
  log.debug({ ms: Math.round(performance.now() - started), node: node.name }, 'stopped');
  node.child = undefined;
  node.pid = undefined;
}

/** Runs redis-cli with `args`; rejects with its output when it fails or prints [ERR]. */
export function redisCli(args: string[], timeoutMs = 120_000): Promise<string> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const text = `${stdout}${stderr}`;
      if (err !== null || /^\[ERR\]/m.test(text)) {
        const tail = text.trim().split('\n').slice(-15).join('\n');
        reject(new BenchStepError(`redis-cli ${args.join(' ')} failed${err ? ` (${err.message.split('\n')[0] ?? ''})` : ''}:\n${tail}`));
        return;
      }
      log.debug({ ms: Math.round(performance.now() - started) }, `redis-cli ${args.slice(0, 2).join(' ')} done`);
      resolve(text);
    });
  });
}

// ───────────────────────────── topology ─────────────────────────────

export interface ClusterNodeLine {
  id: string;
  /** "host:port", without the bus port. */
  address: string;
  role: 'master' | 'slave' | 'unknown';
  /** Flags other than myself/master/slave (fail?, fail, handshake, noaddr, nofailover …). */
  troubles: string[];
  masterId: string | undefined;
  /** Slot ranges as printed ("0-5460"), migrating/importing markers included. */
  slots: string[];
}

/** Parses CLUSTER NODES. */
export function parseClusterNodes(text: string): ClusterNodeLine[] {
  const out: ClusterNodeLine[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const [id, address, flagText, master, , , , , ...slots] = fields;
    if (id === undefined || id === '' || address === undefined || flagText === undefined) continue;
    const flags = flagText.split(',');
    out.push({
      id,
      address: address.split('@')[0] ?? address,
      role: flags.includes('master') ? 'master' : flags.includes('slave') ? 'slave' : 'unknown',
      troubles: flags.filter((f) => !['myself', 'master', 'slave', 'nofailover', 'noflags'].includes(f)),
      masterId: master === undefined || master === '-' ? undefined : master,
      slots,
    });
  }
  return out;
}

/**
 * What must agree:
 * - 'all': every node's whole view — ids, addresses, roles, primaries, slots (trap 1);
 * - 'slots': who serves each slot. Right after CLUSTER FAILOVER the new primary tells
 *   every node at once that it owns the slots, but the old primary's demotion spreads
 *   only with its own pings: for 1–3 s some nodes still list it as a slotless primary
 *   (measured with this bench). Clients need only the slot map to find the new primary,
 *   so the old primary may stop once the slot map agrees; its restart announces it to
 *   every node, and the full agreement that follows takes milliseconds.
 */
export type Agreement = 'all' | 'slots';

/** A node's view reduced to what must agree, as sorted lines. */
export function topologyDigest(lines: readonly ClusterNodeLine[], on: Agreement = 'all'): string {
  const kept = on === 'all' ? lines : lines.filter((l) => l.role === 'master' && l.slots.length > 0);
  return kept
    .map((l) => (on === 'all' ? `${l.id} ${l.address} ${l.role} ${l.masterId ?? '-'} ${l.slots.join(' ')}` : `${l.id} ${l.slots.join(' ')}`))
    .sort()
    .join('\n');
}

/** Why the views do not agree yet (for the time-out message), or undefined when they do. */
export function agreementProblem(
  views: ReadonlyMap<string, { state: string; lines: ClusterNodeLine[] }>,
  expected: number,
  on: Agreement = 'all',
): string | undefined {
  let first: string | undefined;
  for (const [who, view] of views) {
    if (view.state !== 'ok') return `${who} reports cluster_state:${view.state}`;
    if (view.lines.length !== expected) return `${who} knows ${view.lines.length} nodes, expected ${expected}`;
    const trouble = view.lines.find((l) => l.troubles.length > 0 || l.role === 'unknown');
    if (trouble !== undefined) return `${who} sees ${trouble.address} as ${trouble.troubles.join(',') || 'neither primary nor replica'}`;
    const moving = view.lines.find((l) => l.slots.some((s) => s.startsWith('[')));
    if (moving !== undefined) return `${who} sees a slot migration on ${moving.address}`;
    const digest = topologyDigest(view.lines, on);
    if (first === undefined) first = digest;
    else if (digest !== first) return `${who} sees another ${on === 'all' ? 'topology' : 'slot map'} than the first node`;
  }
  return undefined;
}

/** Reads CLUSTER INFO's cluster_state and CLUSTER NODES of one node. */
export async function nodeView(port: number): Promise<{ state: string; lines: ClusterNodeLine[] }> {
  return withNode(
    { host: HOST, port },
    async (c) => {
      const info = await command<string>(c, 'CLUSTER', 'INFO');
      const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
      const lines = parseClusterNodes(await command<string>(c, 'CLUSTER', 'NODES'));
      return { state, lines };
    },
    { op: 'bench cluster view' },
  );
}

/** Polls every node until all report cluster_state:ok and agree (`on`) about `nodes.length` members. */
export async function waitForAgreement(nodes: readonly BareNode[], on: Agreement = 'all', timeoutMs = 60_000): Promise<ClusterNodeLine[]> {
  const deadline = Date.now() + timeoutMs;
  let problem: string;
  for (;;) {
    try {
      const views = new Map<string, { state: string; lines: ClusterNodeLine[] }>();
      await Promise.all(nodes.map(async (n) => views.set(addr(n), await nodeView(n.port))));
      const found = agreementProblem(views, nodes.length, on);
      if (found === undefined) {
        log.debug({ ms: timeoutMs - (deadline - Date.now()), nodes: nodes.length, on }, 'the nodes agree');
        return [...views.values()][0]?.lines ?? [];
      }
      problem = found;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new BenchStepError(`the nodes did not agree on the topology within ${timeoutMs / 1000} s: ${problem}`);
    await sleep(20);
  }
}

/** Waits until a replica's link to its primary is up and no sync is in progress. */
export async function waitInSync(node: BareNode, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      last = await nodeCommand<string>(node.port, 'INFO', 'replication');
      if (/master_link_status:up/.test(last) && /master_sync_in_progress:0/.test(last)) {
        log.debug({ ms: timeoutMs - (deadline - Date.now()), node: node.name }, 'replica in sync');
        return;
      }
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new BenchStepError(`replica ${node.name} (${addr(node)}) did not finish its sync within ${timeoutMs / 1000} s: ${last.slice(0, 200)}`);
    await sleep(10);
  }
}

/** The role the node reports itself (ROLE's first element). */
export async function roleOf(node: BareNode): Promise<string> {
  const reply = await nodeCommand<unknown[]>(node.port, 'ROLE');
  return String(reply[0]);
}

export function myId(node: BareNode): Promise<string> {
  return nodeCommand<string>(node.port, 'CLUSTER', 'MYID');
}
