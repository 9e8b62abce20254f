import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { CancelledError, DeadlineExceededError } from '../proto/status.ts';
import type { NodeEndpoint, ProbeResult } from './engines/engine.ts';
import { PortInUseError, StartFailedError, StartTimeoutError } from './engines/errors.ts';
import { RedisEngine } from './engines/redis/redis-engine.ts';
import { freePort, Leftovers, tempDir } from './engines/redis/test-servers.ts';
import { writeRecord, type NodeRecord } from './node-record.ts';
import { canBind, isRunning, readProcStat } from '../common/process-inspect.ts';
import { DataNodeSupervisor, type DataNodeExit, type SupervisorOptions } from './supervisor.ts';

const VERSIONS = ['7.0', '8.0'] as const;
const engine = new RedisEngine();

/** Starts real servers, but its probe never finds them ready (like a node loading a huge data set). */
class NeverReady extends RedisEngine {
  override async probe(endpoint: NodeEndpoint): Promise<ProbeResult> {
    const real = await super.probe(endpoint);
    return { ...real, ready: false, detail: real.up ? 'pretending to load its data set' : (real.detail ?? 'down') };
  }
}

/** Delivers no stop request (as if the server ignored it), so only signals stop the node. */
class DeafToShutdown extends RedisEngine {
  override async requestStop(): Promise<void> {}
}

/** A base directory, a supervisor on it, and clean-up of every server and directory, even on failure. */
async function setup(t: TestContext, options: Partial<SupervisorOptions> = {}) {
  const leftovers = new Leftovers();
  const baseDir = await tempDir('coxswain-sup-');
  leftovers.dirs.add(baseDir);
  leftovers.baseDirs.add(baseDir);
  const supervisors: DataNodeSupervisor[] = [];
  const make = (): DataNodeSupervisor => {
    const s = new DataNodeSupervisor({ baseDir, adapter: engine, adoptedPollMs: 50, ...options });
    supervisors.push(s);
    return s;
  };
  t.after(async () => {
    for (const s of supervisors) {
      for (const n of s.list()) if (n.pid !== null) leftovers.pids.add(n.pid);
      await s.close();
    }
    await leftovers.cleanup();
  });
  return { baseDir, leftovers, make, supervisor: make() };
}

/** Collects exit events; `next()` gives the next one not yet taken, waiting for it if need be. */
function exits(s: DataNodeSupervisor): { all: DataNodeExit[]; next: (ms?: number) => Promise<DataNodeExit> } {
  const all: DataNodeExit[] = [];
  let taken = 0;
  s.onExit((e) => all.push(e));
  return {
    all,
    next: async (ms = 5000) => {
      for (const until = performance.now() + ms; performance.now() < until; await sleep(5)) {
        const e = all[taken];
        if (e !== undefined) {
          taken++;
          return e;
        }
      }
      throw new Error(`no exit event within ${ms} ms`);
    },
  };
}

/** Pids of Redis-family servers whose process title names `port`. */
async function serversOnPort(port: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (/(redis|valkey)-server/.test(cmd) && cmd.includes(`:${port} `)) out.push(Number(name));
  }
  return out;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Nothing of a node is left: no process on its port, both ports bindable, no directory. */
async function assertNothingLeft(nodeDir: string, port: number): Promise<void> {
  assert.deepEqual(await serversOnPort(port), [], `no server on port ${port}`);
  assert.equal(await canBind('127.0.0.1', port), true, `port ${port} is free`);
  assert.equal(await canBind('127.0.0.1', port + 10000), true, `bus port ${port + 10000} is free`);
  assert.equal(await exists(nodeDir), false, `${nodeDir} was removed`);
}

function client(port: number): Redis {
  const c = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => {});
  return c;
}

/** Makes a node a one-node cluster holding every slot, so it takes writes. */
async function ownAllSlots(c: Redis): Promise<void> {
  await c.call('CLUSTER', ['ADDSLOTSRANGE', '0', '16383']);
  for (let i = 0; i < 500; i++) {
    if (String(await c.call('CLUSTER', ['INFO'])).includes('cluster_state:ok')) return;
    await sleep(10);
  }
  throw new Error('cluster_state did not become ok');
}

describe('start and stop', () => {
  for (const version of VERSIONS) {
    test(`${version}: start, record, idempotent start, stop with an expected exit event, idempotent stop`, async (t) => {
      const { supervisor } = await setup(t);
      const events = exits(supervisor);
      const port = await freePort();
      const started = await supervisor.start({ nodeId: 'n1', version, port, labels: { nodeGroup: '0' } });
      assert.equal(started.changed, true);
      const node = started.node;
      assert.equal(node.up, true);
      assert.equal(node.origin, 'spawned');
      assert.ok(node.runningVersion?.startsWith(`${version}.`));
      assert.match(node.engineNodeId ?? '', /^[0-9a-f]{40}$/);
      assert.ok(node.pid !== null && (await isRunning(node.pid)));
      const pid = node.pid;
      assert.equal((await readFile(path.join(node.nodeDir, 'node.pid'), 'utf8')).trim(), String(pid));
      const record = JSON.parse(await readFile(path.join(node.nodeDir, 'node.json'), 'utf8')) as NodeRecord;
      assert.equal(record.pid, pid);
      assert.equal(record.port, port);
      assert.equal(record.engineNodeId, node.engineNodeId);
      assert.deepEqual(record.labels, { nodeGroup: '0' });
      assert.equal(path.basename(record.binary), version === '7.0' ? 'redis-server' : 'valkey-server');
      // Detached: its own process group and session, so it outlives the agent.
      assert.equal((await readProcStat(pid))?.pgrp, pid);

      const again = await supervisor.start({ nodeId: 'n1', version, port, labels: { nodeGroup: '0' } });
      assert.equal(again.changed, false);
      assert.equal(again.node.pid, pid);
      await assert.rejects(supervisor.start({ nodeId: 'n1', version, port, labels: { nodeGroup: '0' }, parameters: { hz: 20 } }), /already runs .* another configuration/);
      await assert.rejects(supervisor.start({ nodeId: 'n1', version, port, labels: { nodeGroup: '1' } }), /already runs .* other labels \(nodeGroup: "0" → "1"\)/);

      const stopped = await supervisor.stop('n1');
      assert.equal(stopped.changed, true);
      assert.equal(stopped.killed, false);
      const exit = await events.next();
      assert.deepEqual(exit, { nodeId: 'n1', pid, code: 0, signal: null, expected: true, origin: 'spawned' });
      assert.equal(await isRunning(pid), false);
      assert.equal(await exists(path.join(node.nodeDir, 'node.pid')), false);
      const after = supervisor.list();
      assert.equal(after.length, 1);
      assert.equal(after[0]?.up, false);
      assert.equal(after[0]?.pid, null);
      assert.equal((await supervisor.stop('n1')).changed, false);
      assert.equal((await supervisor.stop('never-heard-of')).node, undefined);
      assert.equal(events.all.length, 1);
    });
  }

  test('measures spawn → ready of an empty node, for both versions', async (t) => {
    const { supervisor } = await setup(t);
    const lines: string[] = [];
    for (const version of VERSIONS) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const nodeId = `m-${version.replace('.', '')}-${i}`;
        const r = await supervisor.start({ nodeId, version, port: await freePort() });
        times.push(r.readyAfterMs ?? NaN);
        await supervisor.stop(nodeId);
      }
      times.sort((a, b) => a - b);
      lines.push(`${version}: median ${times[2]} ms, min ${times[0]} ms, max ${times[4]} ms (${times.join(', ')})`);
    }
    t.diagnostic(`spawn → ready (empty node): ${lines.join('; ')}`);
    console.log(`# spawn → ready (empty node): ${lines.join('; ')}`);
  });
});

describe('reconfigure', () => {
  test('saves parameters and labels in the file and the record: the node keeps them when started again, and a start with the same configuration is a no-op', async (t) => {
    const { supervisor } = await setup(t);
    const port = await freePort();
    const started = await supervisor.start({ nodeId: 'c1', version: '7.0', port, parameters: { 'maxmemory-policy': 'noeviction' }, labels: { nodeGroup: '0', 'coxswain.io/running-since': '1' } });
    const pid = started.node.pid;
    let applied = 0;
    const res = await supervisor.reconfigure(
      'c1',
      { parameters: { 'maxmemory-policy': 'allkeys-lru', 'tcp-backlog': '128' }, pendingRestart: ['tcp-backlog'], labels: { 'coxswain.io/config': '{"x":"1"}' } },
      { apply: async () => void applied++ },
    );
    assert.equal(applied, 1);
    assert.equal(res.saved, true);
    assert.deepEqual(res.node.parameters, { 'maxmemory-policy': 'allkeys-lru', 'tcp-backlog': '128' });
    assert.deepEqual(res.node.pendingRestart, ['tcp-backlog']);
    assert.deepEqual(res.node.labels, { nodeGroup: '0', 'coxswain.io/running-since': '1', 'coxswain.io/config': '{"x":"1"}' });
    const conf = await readFile(path.join(res.node.nodeDir, 'redis.conf'), 'utf8');
    assert.match(conf, /^maxmemory-policy allkeys-lru$/m);
    assert.match(conf, /^tcp-backlog 128$/m);
    // The leader's StartDataNode with the full, new configuration and labels: already running as asked.
    const labels = { nodeGroup: '0', 'coxswain.io/running-since': '1', 'coxswain.io/config': '{"x":"1"}' };
    const same = await supervisor.start({ nodeId: 'c1', version: '7.0', port, parameters: { 'maxmemory-policy': 'allkeys-lru', 'tcp-backlog': '128' }, labels });
    assert.equal(same.changed, false);
    assert.equal(same.node.pid, pid);
    // The old configuration is another one now.
    await assert.rejects(supervisor.start({ nodeId: 'c1', version: '7.0', port, parameters: { 'maxmemory-policy': 'noeviction' }, labels }), /another configuration/);
    // An invalid parameter is refused before `apply` runs; nothing is saved.
    await assert.rejects(supervisor.reconfigure('c1', { parameters: { 'Bad Name': '1' } }, { apply: async () => void applied++ }), /not a redis.conf directive/);
    assert.equal(applied, 1);
    // A failing apply saves nothing.
    await assert.rejects(supervisor.reconfigure('c1', { parameters: { hz: '20' } }, { apply: () => Promise.reject(new Error('CONFIG SET refused')) }), /CONFIG SET refused/);
    assert.doesNotMatch(await readFile(path.join(res.node.nodeDir, 'redis.conf'), 'utf8'), /^hz /m);
    // Stopped and started from the record's configuration: the saved parameters are in effect.
    await supervisor.stop('c1');
    const restarted = await supervisor.start({ nodeId: 'c1', version: '7.0', port, parameters: { 'maxmemory-policy': 'allkeys-lru', 'tcp-backlog': '128' }, labels });
    assert.equal(restarted.changed, true);
    assert.deepEqual(restarted.node.pendingRestart, [], 'a start clears what was pending');
    const client = new Redis({ port, lazyConnect: true });
    try {
      await client.connect();
      assert.deepEqual(await client.config('GET', 'tcp-backlog'), ['tcp-backlog', '128']);
      assert.deepEqual(await client.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'allkeys-lru']);
    } finally {
      client.disconnect();
    }
  });

  test('a record of an older agent (no parameters): labels are saved, parameters are not', async (t) => {
    const { supervisor, baseDir, make } = await setup(t);
    const port = await freePort();
    const started = await supervisor.start({ nodeId: 'old', version: '7.0', port });
    await supervisor.stop('old');
    const record = JSON.parse(await readFile(path.join(started.node.nodeDir, 'node.json'), 'utf8')) as NodeRecord;
    delete record.parameters;
    delete record.pendingRestart;
    await writeRecord(path.join(baseDir, 'old'), record);
    const second = make();
    await second.recover();
    const res = await second.reconfigure('old', { parameters: { hz: '20' }, labels: { 'coxswain.io/config': '{}' } });
    assert.equal(res.saved, false);
    assert.equal(res.node.labels['coxswain.io/config'], '{}');
    assert.doesNotMatch(await readFile(path.join(started.node.nodeDir, 'redis.conf'), 'utf8'), /^hz /m);
  });
});

describe('failures leave nothing behind', { concurrency: true }, () => {
  test('a port held by another process: a clear error naming the port and the holder, nothing created', async (t) => {
    const { supervisor, baseDir } = await setup(t);
    const port = await freePort();
    for (const [held, purpose] of [
      [port, 'client port'],
      [port + 10000, 'cluster bus port'],
    ] as const) {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen({ port: held, host: '127.0.0.1' }, resolve));
      try {
        await assert.rejects(supervisor.start({ nodeId: 'busy', version: '7.0', port }), (err: unknown) => {
          assert.ok(err instanceof PortInUseError);
          assert.equal(err.port, held);
          assert.equal(err.holder?.pid, process.pid);
          assert.match(err.message, new RegExp(`port ${held} \\(${purpose}\\) on 127\\.0\\.0\\.1 is already in use by pid ${process.pid} \\(.*node`));
          return true;
        });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
      assert.equal(await exists(path.join(baseDir, 'busy')), false);
    }
  });

  test('never a second server on a port a data node serves', async (t) => {
    const { supervisor } = await setup(t);
    const port = await freePort();
    const a = await supervisor.start({ nodeId: 'a', version: '8.0', port });
    await assert.rejects(
      supervisor.start({ nodeId: 'b', version: '7.0', port }),
      new RegExp(`port ${port} \\(client port\\).*in use by pid ${a.node.pid} \\(data node a: .*valkey-server`),
    );
    assert.deepEqual(await serversOnPort(port), [a.node.pid]);
  });

  test('a server that exits at start-up: the error quotes its log, nothing is left', async (t) => {
    const { supervisor, baseDir } = await setup(t);
    const events = exits(supervisor);
    const port = await freePort();
    await assert.rejects(
      supervisor.start({ nodeId: 'bad', version: '7.0', port, parameters: { 'maxmemory-policy': 'no-such-policy' } }),
      (err: unknown) => {
        assert.ok(err instanceof StartFailedError);
        assert.match(err.message, /exited with code 1 before it was ready/);
        assert.match(err.message, /maxmemory-policy/);
        return true;
      },
    );
    await assertNothingLeft(path.join(baseDir, 'bad'), port);
    assert.deepEqual(supervisor.list(), []);
    assert.deepEqual(events.all, [], 'a failed start is reported by its error, not as an exit event');
  });

  test('a start that runs out of time: the server it started is killed and the error says so', async (t) => {
    const { supervisor, baseDir } = await setup(t, { adapter: new NeverReady() });
    const port = await freePort();
    await assert.rejects(supervisor.start({ nodeId: 'slow', version: '8.0', port }, { timeoutMs: 300 }), (err: unknown) => {
      assert.ok(err instanceof StartTimeoutError);
      assert.equal(err.kind, 'transient');
      assert.match(err.message, /was not ready within 300 ms \(last probe: pretending to load its data set\); the server it had started \(pid \d+\) was killed/);
      return true;
    });
    await assertNothingLeft(path.join(baseDir, 'slow'), port);
  });

  test('a start whose signal is already aborted does nothing', async (t) => {
    const { supervisor, baseDir } = await setup(t);
    const port = await freePort();
    await assert.rejects(
      supervisor.start({ nodeId: 'never', version: '7.0', port }, { signal: AbortSignal.abort() }),
      (err: unknown) => err instanceof CancelledError && /was not begun/.test(err.message),
    );
    await assertNothingLeft(path.join(baseDir, 'never'), port);
    assert.deepEqual(await readdir(baseDir), []);
    assert.deepEqual(supervisor.list(), []);
  });

  test('a start whose deadline passes while it waits: the running server is killed, nothing is left', async (t) => {
    const { supervisor, baseDir } = await setup(t, { adapter: new NeverReady() });
    const port = await freePort();
    const controller = new AbortController();
    const starting = supervisor.start({ nodeId: 'cut', version: '7.0', port }, { signal: controller.signal });
    // Abort only once the server runs and answers.
    for (let i = 0; i < 500 && (await serversOnPort(port)).length === 0; i++) await sleep(10);
    const [pid] = await serversOnPort(port);
    assert.ok(pid !== undefined, 'the server was started');
    controller.abort(new DeadlineExceededError('deadline exceeded: StartDataNode did not finish within 1 s'));
    await assert.rejects(starting, (err: unknown) => {
      assert.ok(err instanceof DeadlineExceededError, String(err));
      assert.match(err.message, new RegExp(`aborted before it was ready; the server it had started \\(pid ${pid}\\) was killed.*deadline exceeded`));
      return true;
    });
    assert.equal(await isRunning(pid), false);
    await assertNothingLeft(path.join(baseDir, 'cut'), port);
  });
});

describe('stop', { concurrency: true }, () => {
  test('a node that ignores the stop request is killed with SIGKILL after the grace period', async (t) => {
    const { supervisor } = await setup(t, { adapter: new DeafToShutdown() });
    const events = exits(supervisor);
    // SIGTERM would stop Redis gracefully, so the request "succeeds" and nothing but SIGKILL remains.
    const { node } = await supervisor.start({ nodeId: 'deaf', version: '8.0', port: await freePort() });
    const started = performance.now();
    const result = await supervisor.stop('deaf', { graceMs: 300 });
    assert.equal(result.killed, true);
    assert.ok(performance.now() - started >= 300);
    const exit = await events.next();
    assert.deepEqual(exit, { nodeId: 'deaf', pid: node.pid, code: null, signal: 'SIGKILL', expected: true, origin: 'spawned' });
  });

  for (const version of VERSIONS) {
    test(`${version}: a stopped node started again has its data (AOF; SHUTDOWN NOSAVE)`, async (t) => {
      const { supervisor } = await setup(t);
      const port = await freePort();
      const first = await supervisor.start({ nodeId: 'keep', version, port });
      let c = client(port);
      try {
        await c.connect();
        await ownAllSlots(c);
        await c.set('kept', 'yes');
      } finally {
        c.disconnect();
      }
      await supervisor.stop('keep');
      const second = await supervisor.start({ nodeId: 'keep', version, port });
      assert.notEqual(second.node.pid, first.node.pid);
      assert.equal(second.node.engineNodeId, first.node.engineNodeId, 'same cluster node id (nodes.conf kept)');
      c = client(port);
      try {
        await c.connect();
        for (let i = 0; i < 500 && !String(await c.call('CLUSTER', ['INFO'])).includes('cluster_state:ok'); i++) await sleep(10);
        assert.equal(await c.get('kept'), 'yes');
      } finally {
        c.disconnect();
      }
    });
  }
});

describe('exit events', () => {
  test('a data node killed with SIGKILL: expected false, and the node shows down with the reason', async (t) => {
    const { supervisor } = await setup(t);
    const events = exits(supervisor);
    const { node } = await supervisor.start({ nodeId: 'victim', version: '7.0', port: await freePort() });
    assert.ok(node.pid !== null);
    process.kill(node.pid, 'SIGKILL');
    const exit = await events.next();
    assert.deepEqual(exit, { nodeId: 'victim', pid: node.pid, code: null, signal: 'SIGKILL', expected: false, origin: 'spawned' });
    const [status] = supervisor.list();
    assert.equal(status?.up, false);
    assert.match(status?.down?.reason ?? '', /killed by SIGKILL without being asked to stop/);
    // Stopping a node that is already gone is fine.
    assert.equal((await supervisor.stop('victim')).changed, false);
  });
});

describe('agent restart: adoption', { concurrency: true }, () => {
  test('supervisor B adopts the nodes supervisor A started, with no restart and the data intact', async (t) => {
    const { make } = await setup(t);
    const a = make();
    const ports = { r: await freePort(), v: await freePort() };
    const r = await a.start({ nodeId: 'r', version: '7.0', port: ports.r, labels: { nodeGroup: '0' } });
    const v = await a.start({ nodeId: 'v', version: '8.0', port: ports.v });
    for (const port of [ports.r, ports.v]) {
      const c = client(port);
      try {
        await c.connect();
        await ownAllSlots(c);
        await c.set('written-before', `on ${port}`);
      } finally {
        c.disconnect();
      }
    }
    await a.close(); // what a rolling agent restart does: the nodes keep running
    assert.equal(await isRunning(r.node.pid ?? 0), true);
    assert.equal(await isRunning(v.node.pid ?? 0), true);

    const b = make();
    const events = exits(b);
    const report = await b.recover();
    assert.deepEqual(report.down, []);
    assert.deepEqual(
      report.adopted.map((n) => [n.nodeId, n.pid, n.origin, n.engineNodeId]),
      [
        ['r', r.node.pid, 'adopted', r.node.engineNodeId],
        ['v', v.node.pid, 'adopted', v.node.engineNodeId],
      ],
    );
    assert.deepEqual(b.list().find((n) => n.nodeId === 'r')?.labels, { nodeGroup: '0' });
    for (const port of [ports.r, ports.v]) {
      const c = client(port);
      try {
        await c.connect();
        assert.equal(await c.get('written-before'), `on ${port}`);
      } finally {
        c.disconnect();
      }
    }
    // Starting an adopted node as it runs changes nothing.
    const again = await b.start({ nodeId: 'r', version: '7.0', port: ports.r, labels: { nodeGroup: '0' } });
    assert.equal(again.changed, false);
    assert.equal(again.node.pid, r.node.pid);

    // Exits of adopted processes are seen by polling.
    process.kill(r.node.pid ?? 0, 'SIGKILL');
    const lost = await events.next();
    assert.deepEqual(lost, { nodeId: 'r', pid: r.node.pid, code: null, signal: null, expected: false, origin: 'adopted' });
    const stopped = await b.stop('v');
    assert.equal(stopped.changed, true);
    const exit = await events.next();
    assert.equal(exit.nodeId, 'v');
    assert.equal(exit.expected, true);
    assert.equal(exit.origin, 'adopted');
    assert.equal(await isRunning(v.node.pid ?? 0), false);
  });

  test('start right after an adopted node was killed starts it again (not "already running" until the next poll)', async (t) => {
    // No polling during the test: only start() itself can notice the kill.
    const { make } = await setup(t, { adoptedPollMs: 600_000 });
    const a = make();
    const port = await freePort();
    const first = await a.start({ nodeId: 'k', version: '7.0', port });
    await a.close();
    const b = make();
    const events = exits(b);
    assert.deepEqual((await b.recover()).adopted.map((n) => n.pid), [first.node.pid]);
    process.kill(first.node.pid ?? 0, 'SIGKILL');
    for (const until = Date.now() + 5_000; await isRunning(first.node.pid ?? 0); await sleep(5)) {
      assert.ok(Date.now() < until, 'the killed process is gone within 5 s');
    }
    const again = await b.start({ nodeId: 'k', version: '7.0', port });
    assert.equal(again.changed, true, 'a new process was started');
    assert.notEqual(again.node.pid, first.node.pid);
    assert.equal(await isRunning(again.node.pid ?? 0), true);
    assert.deepEqual(await events.next(), { nodeId: 'k', pid: first.node.pid, code: null, signal: null, expected: false, origin: 'adopted' });
  });

  test('a stale pid record whose process is gone is reported down, not adopted', async (t) => {
    const { make, baseDir } = await setup(t);
    const gone = spawnSync('true').pid; // a pid that has exited
    const dir = path.join(baseDir, 'stale');
    await mkdir(dir);
    await writeRecord(dir, await record('stale', gone, await freePort()));
    const s = make();
    const report = await s.recover();
    assert.deepEqual(report.adopted, []);
    assert.equal(report.down.length, 1);
    assert.equal(report.down[0]?.check, 'process');
    assert.match(report.down[0]?.reason ?? '', new RegExp(`process \\(pid ${gone}\\) is gone`));
    assert.equal(s.list()[0]?.up, false);
  });

  test('a pid record naming a live process that is not the server: reported down, and that process is left alone', async (t) => {
    const { make, baseDir } = await setup(t);
    const dir = path.join(baseDir, 'reused');
    await mkdir(dir);
    // The test runner itself plays "someone else's process after pid reuse".
    await writeRecord(dir, await record('reused', process.pid, await freePort()));
    const s = make();
    const report = await s.recover();
    assert.deepEqual(report.adopted, []);
    assert.equal(report.down[0]?.check, 'cmdline');
    assert.match(report.down[0]?.reason ?? '', /runs ".*node.*", not redis-server/);
    // stop() must not kill it either.
    assert.equal((await s.stop('reused')).changed, false);
    assert.equal(await isRunning(process.pid), true);
  });
});

/** A record as the supervisor writes it, for a 7.0 node with the given pid. */
async function record(nodeId: string, pid: number | undefined, port: number): Promise<NodeRecord> {
  const binaries = await engine.resolve('7.0', 'data');
  return {
    format: 1,
    nodeId,
    engine: 'redis',
    kind: 'data',
    version: '7.0',
    port,
    bindHost: '127.0.0.1',
    labels: {},
    binary: binaries.server.path,
    binaryVersion: binaries.server.version,
    configSha256: '',
    pid: pid ?? 999_999,
    procStartTime: null,
    engineNodeId: '0'.repeat(40),
    startedAt: new Date().toISOString(),
    stoppedAt: null,
  };
}
