// What the end-to-end tests share: a cluster of their own (temporary directory, free
// port runs, CliCluster), and the INDEPENDENT checks run after every step — they ask
// Redis itself and the field's own tool, not only what Coxswain says:
//   - `redis-cli --cluster check HOST:PORT` exits 0 (every slot covered, every node
//     agrees on the slot map, no open slot);
//   - the shape: members, primaries serving slots, replicas per primary, no node flagged
//     fail/pfail/handshake (CLUSTER NODES of every node), the server each runs (INFO),
//     and `status --json` saying the same (AT_DESIRED_STATE, every node and agent up);
//   - the loaded data set reads back whole.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { command, withNode } from '../../agent/engines/redis/redis-connection.ts';
import { parseClusterNodes } from '../bench/bare-cluster.ts';
import type { ClusterNodeLine } from '../bench/bare-cluster.ts';
import { clusterFacts } from '../bench/cluster-check.ts';
import { freePortRun } from '../bench/port-range.ts';
import { AGENT_PORT_BASE_ENV, CliCluster, DATA_PORT_BASE_ENV } from '../support/cli-cluster.ts';
import type { ClusterAddress } from '../support/writer.ts';
import type { Job } from '../../operator/ports/journal.ts';

/** The cluster is not as the step asked; the message says what differs. */
export class E2eCheckError extends Error {
  override name = 'E2eCheckError';
}

/** A new temporary directory for one test file. */
export function e2eDir(name: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `coxswain-e2e-${name}-`));
}

/**
 * A CliCluster in `dir` with its own port runs: `ports` data ports (each with its bus
 * port) and as many agent ports, given to `up` as COXSWAIN_DATA_PORT_BASE and
 * COXSWAIN_AGENT_PORT_BASE.
 */
export async function newCluster(dir: string, name: string, ports: number): Promise<CliCluster> {
  const env = {
    ...process.env,
    [DATA_PORT_BASE_ENV]: String(await freePortRun(ports, { withBus: true })),
    [AGENT_PORT_BASE_ENV]: String(await freePortRun(ports)),
  };
  return new CliCluster(dir, name, env);
}

/** Runs the real `redis-cli --cluster check HOST:PORT`; resolves with its exit code and output. */
export function redisCliCheck(node: ClusterAddress, timeoutMs = 30_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('redis-cli', ['--cluster', 'check', `${node.host}:${node.port}`], { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * Each data node's own view of the cluster, one line per node: "vm-1 a1b2c3d4: a1b2c3d4
 * master 0-5460 | e5f6a7b8 slave of a1b2c3d4 fail? | …" (the first 8 hex digits of each id,
 * flags beside myself/master/slave/handshake/connected state) — where a person sees at
 * once which member disagrees and about what, short enough for the tail of a CI log.
 */
export async function clusterViews(nodes: readonly { id: string; host: string; port: number }[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of nodes) {
    const text = await new Promise<string>((resolve) => {
      execFile('redis-cli', ['-h', n.host, '-p', String(n.port), 'CLUSTER', 'NODES'], { timeout: 5_000 }, (err, stdout, stderr) =>
        resolve(err === null ? stdout : `(${(stderr || err.message).trim().split('\n')[0] ?? ''})`),
      );
    });
    if (text.startsWith('(')) {
      out.push(`${n.id}: ${text}`);
      continue;
    }
    let self = '?';
    const entries = text
      .trim()
      .split('\n')
      .map((line) => {
        const [id = '', , flagText = '', primary = '-', , , , , ...slots] = line.split(' ');
        const flags = flagText.split(',');
        if (flags.includes('myself')) self = id.slice(0, 8);
        const role = flags.includes('master') ? 'master' : flags.includes('slave') ? `slave of ${primary.slice(0, 8)}` : flagText;
        const extra = flags.filter((f) => !['myself', 'master', 'slave', 'noflags'].includes(f));
        return `${id.slice(0, 8)} ${role}${slots.length > 0 ? ` ${slots.join(',')}` : ''}${extra.length > 0 ? ` ${extra.join(',')}` : ''}`;
      })
      .sort();
    out.push(`${n.id} ${self}: ${entries.join(' | ')}`);
  }
  return out;
}

export interface Shape {
  nodeGroups: number;
  replicationFactor: number;
  /** "7.0" (redis-server 7.0) or "8.0" (valkey-server 8.0). */
  version: '7.0' | '8.0';
}

export interface CheckReport {
  nodes: ClusterAddress[];
  /** Seconds until every check passed (0 when they passed at once). */
  settleSeconds: number;
  /** Why earlier attempts failed, when they did. */
  earlier: string[];
}

/** The server a version of the desired state runs, as clusterFacts names it. */
function serverOf(version: Shape['version']): string {
  return version === '7.0' ? 'redis 7.0.' : 'valkey 8.0.';
}

/** What differs from `shape`, by `status --json` and by Redis itself; [] when nothing does. */
async function shapeProblems(cluster: CliCluster, id: number, shape: Shape): Promise<{ problems: string[]; nodes: ClusterAddress[] }> {
  const problems: string[] = [];
  const status = await cluster.status();
  if (status.state !== 'AT_DESIRED_STATE' || status.acceptedId !== id) problems.push(`status: ${status.state} for id ${String(status.acceptedId)}, expected AT_DESIRED_STATE for ${id}`);
  if (status.nodeGroups.length !== shape.nodeGroups) problems.push(`status: ${status.nodeGroups.length} node groups, expected ${shape.nodeGroups}`);
  for (const g of status.nodeGroups) {
    const primaries = g.nodes.filter((n) => n.role === 'primary').length;
    if (g.nodes.length !== shape.replicationFactor || primaries !== 1) problems.push(`status: node group ${g.index} has ${g.nodes.length} nodes (${primaries} primaries), expected ${shape.replicationFactor} (1 primary)`);
    const wrong = g.nodes.filter((n) => !n.up || n.version !== shape.version);
    if (wrong.length > 0) problems.push(`status: node group ${g.index}: ${wrong.map((n) => `${n.id} up=${String(n.up)} version ${n.version}`).join(', ')}`);
  }
  const total = shape.nodeGroups * shape.replicationFactor;
  const agentsUp = status.agents.filter((a) => a.up).length;
  if (status.agents.length !== total || agentsUp !== total) problems.push(`status: ${agentsUp} of ${status.agents.length} agents up, expected ${total}`);
  const nodes = status.nodeGroups.flatMap((g) => g.nodes.filter((n) => n.up).map((n) => ({ host: n.host, port: n.port })));
  if (nodes.length === 0) return { problems: [...problems, 'status: no data node up'], nodes };

  // Redis itself: every node's CLUSTER NODES, and INFO server.
  const views = await Promise.all(nodes.map((n) => withNode(n, (c) => command<string>(c, 'CLUSTER', 'NODES'), { op: 'e2e check' })));
  const addresses = new Set(nodes.map((n) => `${n.host}:${n.port}`));
  views.forEach((text, i) => {
    const lines: ClusterNodeLine[] = parseClusterNodes(text);
    const who = `${nodes[i]?.host ?? '?'}:${nodes[i]?.port ?? '?'}`;
    if (lines.length !== total) problems.push(`${who} lists ${lines.length} members, expected ${total}`);
    const members = new Set(lines.map((l) => l.address));
    const missing = [...addresses].filter((a) => !members.has(a));
    if (missing.length > 0) problems.push(`${who} does not list ${missing.join(', ')} (status does)`);
    const primaries = lines.filter((l) => l.role === 'master');
    const serving = primaries.filter((l) => l.slots.length > 0);
    if (primaries.length !== shape.nodeGroups || serving.length !== shape.nodeGroups) problems.push(`${who} sees ${primaries.length} primaries, ${serving.length} with slots, expected ${shape.nodeGroups}`);
    for (const p of primaries) {
      const replicas = lines.filter((l) => l.role === 'slave' && l.masterId === p.id).length;
      if (replicas !== shape.replicationFactor - 1) problems.push(`${who}: primary ${p.address} has ${replicas} replicas, expected ${shape.replicationFactor - 1}`);
    }
    const troubled = lines.filter((l) => l.troubles.length > 0);
    if (troubled.length > 0) problems.push(`${who} flags ${troubled.map((l) => `${l.address} ${l.troubles.join(',')}`).join('; ')}`);
  });
  const facts = await clusterFacts(nodes);
  if (!facts.servers.every((s) => s.startsWith(serverOf(shape.version)))) problems.push(`servers ${facts.servers.join(', ')}, expected ${serverOf(shape.version)}x on every node`);
  return { problems, nodes };
}

/**
 * Every check of the file's header, after `cluster` reported AT_DESIRED_STATE for `id`.
 * The nodes may still be exchanging the last topology change for a moment after the
 * leader reported done (docs/redis-cluster.md trap 1): the checks are repeated for up to
 * `settleSeconds`, and how long they took is reported, so a slow settle shows up.
 */
export async function checkCluster(step: string, cluster: CliCluster, id: number, shape: Shape, settleSeconds = 10): Promise<CheckReport> {
  const started = performance.now();
  const earlier: string[] = [];
  for (;;) {
    let problems: string[];
    let nodes: ClusterAddress[] = [];
    try {
      const shaped = await shapeProblems(cluster, id, shape);
      problems = shaped.problems;
      nodes = shaped.nodes;
      const first = nodes[0];
      if (first !== undefined && problems.length === 0) {
        const check = await redisCliCheck(first);
        if (check.code !== 0) {
          const bad = check.output.split('\n').filter((l) => /\[ERR\]|\[WARNING\]|error/i.test(l));
          problems.push(`redis-cli --cluster check ${first.host}:${first.port} exited ${check.code}: ${bad.slice(0, 5).join(' | ')}`);
        }
      }
    } catch (err) {
      problems = [err instanceof Error ? err.message : String(err)];
    }
    const seconds = (performance.now() - started) / 1000;
    if (problems.length === 0) return { nodes, settleSeconds: earlier.length === 0 ? 0 : seconds, earlier };
    earlier.push(problems.join('; '));
    if (seconds > settleSeconds) {
      throw new E2eCheckError(`after ${step} (id ${id}) the cluster is not as asked, ${seconds.toFixed(1)} s after the leader said AT_DESIRED_STATE:\n  ${problems.join('\n  ')}`);
    }
    await sleep(500);
  }
}

/** A seeded random number generator (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A positive integer from the environment variable `name`, else `fallback`; throws on anything else. */
export function intFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${text}: expected a whole number ≥ 0`);
  return n;
}

/**
 * Copies what explains a failure out of a cluster's state directory before `down --purge`
 * deletes it: leader.log, the journal and history, each VM's agent.log and each data
 * node's redis.log. Returns the directory (under the system's temporary directory).
 */
export async function keepLogs(cluster: CliCluster, name: string): Promise<string> {
  const out = await mkdtemp(path.join(os.tmpdir(), `coxswain-e2e-logs-${name}-`));
  const copy = (from: string, to: string): Promise<void> => cp(from, path.join(out, to), { recursive: true, force: true }).catch(() => undefined);
  await copy(path.join(cluster.stateDir, 'leader.log'), 'leader.log');
  await copy(path.join(cluster.stateDir, 'journal'), 'journal');
  await copy(path.join(cluster.stateDir, 'history'), 'history');
  const vms = path.join(cluster.stateDir, 'vms');
  for (const vm of await readdir(vms).catch(() => [] as string[])) {
    await copy(path.join(vms, vm, 'agent.log'), path.join(vm, 'agent.log'));
    const nodes = path.join(vms, vm, 'data', 'nodes');
    for (const node of await readdir(nodes).catch(() => [] as string[])) await copy(path.join(nodes, node, 'redis.log'), path.join(vm, `${node}-redis.log`));
  }
  return out;
}

/**
 * A job's failed tries, one line each: the command, the try, the reason, how long it took
 * and the start of its output. The e2e tests print them because down --purge deletes the
 * journal.
 */
export function failedTries(job: Job, outputChars: number): string[] {
  return job.commands
    .filter((c) => c.result !== 'ok')
    .map((c) => {
      const seconds = (Date.parse(c.endedAt) - Date.parse(c.startedAt)) / 1000;
      return `${c.command} try ${c.attempt}: ${c.reason ?? c.result} after ${seconds.toFixed(1)} s: ${c.output.slice(0, outputChars)}`;
    });
}
