// Test support (not a test file): temporary directories, real redis-server and
// valkey-server processes started without the supervisor, and clean-up that stops every
// server a test started, by pid, even when the test failed.
import { spawn } from 'node:child_process';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { Cluster } from 'ioredis';
import { closeCluster } from '../../../test/support/close-cluster.ts';
import type { AgentCallError } from '../../../proto/status.ts';
import { freePorts } from '../../../test/support/ports.ts';
import { readRecord } from '../../node-record.ts';
import { isRunning, readCmdline, readProcStat } from '../../../common/process-inspect.ts';
import type { DataNodeSpec } from '../engine.ts';
import { RedisClusterOps } from './cluster-ops.ts';
import { formCluster } from '../../../test/support/form-cluster.ts';
import { command, withNode, type NodeAddress } from './redis-connection.ts';
import { RedisEngine } from './redis-engine.ts';

export const SERVER_PROGRAMS = ['redis-server', 'valkey-server'];

/** A fresh temporary directory; `prefix` may hold characters that need quoting. */
export function tempDir(prefix = 'coxswain-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** One free port whose cluster bus port (+10000) is free too. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1, { withBus: true });
  if (port === undefined) throw new Error('no free port');
  return port;
}

/** SIGKILLs `pid` (and its process group) if it still runs a Redis-family server; waits until it is gone. */
export async function killServer(pid: number): Promise<void> {
  const program = path.basename(((await readCmdline(pid)) ?? '').split(/\s+/)[0] ?? '');
  if (!SERVER_PROGRAMS.includes(program)) return; // gone, or the pid now belongs to someone else
  const stat = await readProcStat(pid);
  try {
    process.kill(stat?.pgrp === pid ? -pid : pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  for (let i = 0; i < 200 && (await isRunning(pid)); i++) await sleep(10);
}

/** Tracks the servers and directories of a test and removes them all in `cleanup()`. */
export class Leftovers {
  readonly pids = new Set<number>();
  readonly dirs = new Set<string>();
  /** Redis clients to disconnect before the servers go. */
  readonly clients = new Set<Cluster>();

  /** Also kills the pids in every node record under `baseDir` at clean-up. */
  readonly baseDirs = new Set<string>();

  async cleanup(): Promise<void> {
    await Promise.all([...this.clients].map(closeCluster));
    for (const base of this.baseDirs) {
      const names = await readdir(base).catch(() => [] as string[]);
      for (const name of names) {
        const record = await readRecord(path.join(base, name)).catch(() => undefined);
        if (record?.pid !== null && record?.pid !== undefined) this.pids.add(record.pid);
      }
    }
    await Promise.all([...this.pids].map((pid) => killServer(pid)));
    for (const dir of this.dirs) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Starts a server for `spec` straight from the adapter (prepare, launch command, spawn),
 * without the supervisor, and waits until it answers. Registers its pid with `leftovers`.
 */
export async function startRaw(engine: RedisEngine, spec: DataNodeSpec, leftovers: Leftovers): Promise<number> {
  const binaries = await engine.resolve(spec.version, spec.kind);
  await engine.prepare(spec);
  const launch = engine.launchCommand(spec, binaries);
  const [program, ...args] = launch.argv;
  if (program === undefined) throw new Error('empty argv');
  const out = await open(path.join(spec.dataDir, 'server-output.log'), 'a');
  const child = spawn(program, args, { cwd: launch.cwd, env: { ...launch.env }, detached: true, stdio: ['ignore', out.fd, out.fd] });
  await out.close();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${program}`);
  leftovers.pids.add(pid);
  child.unref();
  for (let i = 0; i < 500; i++) {
    const probe = await engine.probe(engine.endpoint(spec), { timeoutMs: 500 });
    if (probe.ready) return pid;
    if (child.exitCode !== null) throw new Error(`${program} exited with code ${child.exitCode}; see ${spec.dataDir}`);
    await sleep(10);
  }
  throw new Error(`${program} on port ${spec.port} was not ready after 5 s`);
}

/** A spec for a node in `dir` with a fresh port. */
export async function rawSpec(dir: string, version: string, parameters: Record<string, string | number> = {}): Promise<DataNodeSpec> {
  return { nodeId: 'raw-node', kind: 'data', version, port: await freePort(), bindHost: '127.0.0.1', dataDir: dir, parameters };
}

/** A temporary directory removed at clean-up. */
export async function trackedDir(leftovers: Leftovers, prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  leftovers.dirs.add(dir);
  return dir;
}

export interface TestCluster {
  version: '7.0' | '8.0';
  primaries: NodeAddress[];
  replicas: NodeAddress[];
  all: NodeAddress[];
}

/** Starts `primaries × (1 + replicasEach)` raw servers and forms a cluster of them. */
export async function startTestCluster(
  leftovers: Leftovers,
  version: '7.0' | '8.0',
  primaries: number,
  replicasEach = 0,
): Promise<TestCluster> {
  const engine = new RedisEngine();
  const root = await trackedDir(leftovers, `coxswain-cluster-${version}-`);
  const specs = await Promise.all(
    Array.from({ length: primaries * (1 + replicasEach) }, (_, i) => rawSpec(path.join(root, `n${i}`), version)),
  );
  await Promise.all(specs.map((s) => startRaw(engine, s, leftovers)));
  const all = specs.map((s) => ({ host: '127.0.0.1', port: s.port }));
  const prim = all.slice(0, primaries);
  const replicas = all.slice(primaries);
  const ops = new RedisClusterOps();
  await formCluster(ops, prim);
  const ids = await Promise.all(prim.map((a) => withNode(a, (c) => command<string>(c, 'CLUSTER', 'MYID'))));
  for (const [i, r] of replicas.entries()) {
    const primaryId = ids[i % primaries];
    if (primaryId !== undefined) await ops.addReplica(r, primaryId);
  }
  return { version, primaries: prim, replicas, all };
}

/** A cluster-aware client for data checks, disconnected at clean-up. */
export function testClusterClient(leftovers: Leftovers, addrs: NodeAddress[]): Cluster {
  const client = new Cluster(addrs, { enableAutoPipelining: true, maxRedirections: 64, redisOptions: { connectTimeout: 2_000 } });
  client.on('error', () => undefined);
  leftovers.clients.add(client);
  return client;
}

/** Asserts that `p` rejects with an error of class `cls` (then runs `check` on it). */
export async function rejectsWith<T extends AgentCallError>(
  p: Promise<unknown>,
  cls: abstract new (...args: never[]) => T,
  check?: (e: T) => void,
): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    check?.(err);
    return err;
  }
  assert.fail(`expected ${cls.name}`);
}
