// The local VM provider with real `coxswain agent` processes and real redis-server 7.0
// data nodes: create, idempotent create, an agent restart that keeps the data node
// (same redis pid, adopted), a leader restart (a new provider on the same directory),
// a kill -9 of an agent, delete, and shutdown leaving no process behind. Also the
// checks that need no process: options, specs, the secret file, and agents that do not
// come up. Every test kills what it saw by pid in its clean-up, even when it fails.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import net from 'node:net';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Leftovers } from '../../agent/engines/redis/test-servers.ts';
import { isRunning, readProcStat } from '../../common/process-inspect.ts';
import { readRecord } from '../../agent/node-record.ts';
import { freePorts } from '../../test/support/ports.ts';
import type { VmSpec } from '../model/step.ts';
import { observe } from '../observe/observe.ts';
import { isAgentOf, readAgentPid } from './agent-process.ts';
import { AgentStartError, InvalidVmSpecError, VmNotFoundError, VmProviderOptionsError, VmStateFileError } from './errors.ts';
import { INVENTORY_FILE } from './inventory.ts';
import { LocalVmProvider, type LocalVmProviderOptions } from './local-provider.ts';

const SECRET = 'vm-provider-test-secret-5e6f7a8b9c0d';
const epoch = (): number => 1;

const spec = (id: string, zone: string, over: Partial<VmSpec> = {}): VmSpec => ({
  id,
  zone,
  vmType: 'small',
  storageGiB: 10,
  nodeGroup: 0,
  temporary: false,
  agentRunningSince: 1,
  ...over,
});

/** Everything a test started: agents (pid → data dir) and redis servers, killed by pid at the end. */
class Seen {
  readonly agents = new Map<number, string>();
  readonly leftovers = new Leftovers();

  /** Notes the current agent pid of a VM (from its pid file) and returns it. */
  async agent(provider: LocalVmProvider, vmId: string): Promise<number> {
    const paths = provider.paths(vmId);
    const pid = await readAgentPid(paths.pidFile);
    assert.ok(pid !== undefined, `${vmId} has an agent pid file`);
    this.agents.set(pid, paths.dataDir);
    return pid;
  }

  server(pid: number): void {
    this.leftovers.pids.add(pid);
  }

  /** Every pid seen: agents and servers. */
  all(): number[] {
    return [...this.agents.keys(), ...this.leftovers.pids];
  }

  async cleanup(): Promise<void> {
    for (const [pid, dataDir] of this.agents) {
      if (!(await isAgentOf(pid, dataDir))) continue; // gone, or the pid is someone else's now
      const s = await readProcStat(pid);
      try {
        process.kill(s?.pgrp === pid ? -pid : pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await this.leftovers.cleanup(); // servers by pid (and by their node records), then the directories
  }
}

async function setup(prefix: string): Promise<{ root: string; clusterDir: string; seen: Seen; options: LocalVmProviderOptions }> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix));
  const seen = new Seen();
  seen.leftovers.dirs.add(root);
  const [dataPortBase] = await freePorts(1, { withBus: true });
  const [agentPortBase] = await freePorts(1);
  const clusterDir = path.join(root, 'c');
  return {
    root,
    clusterDir,
    seen,
    options: { clusterDir, secret: SECRET, epoch, dataPortBase: dataPortBase!, agentPortBase: agentPortBase!, agentStopGraceMs: 10_000 },
  };
}

/**
 * For clean-up: what the VM directories on disk still name — agents in their pid files,
 * servers in their node records — is killed too, so a test that failed half-way (before
 * it noted a pid) leaves nothing behind either.
 */
async function trackVmDirs(seen: Seen, clusterDir: string): Promise<void> {
  const vmsDir = path.join(clusterDir, 'vms');
  const vms = await readdir(vmsDir, { withFileTypes: true }).catch(() => []);
  for (const vm of vms.filter((d) => d.isDirectory())) {
    const vmDir = path.join(vmsDir, vm.name);
    seen.leftovers.baseDirs.add(path.join(vmDir, 'data', 'nodes'));
    const pid = await readAgentPid(path.join(vmDir, 'agent.pid'));
    if (pid !== undefined) seen.agents.set(pid, path.join(vmDir, 'data'));
  }
}

async function waitGone(pid: number, ms = 5000): Promise<boolean> {
  for (let t = 0; t < ms; t += 20) {
    if (!(await isRunning(pid))) return true;
    await sleep(20);
  }
  return false;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * A stand-in for `coxswain agent`: only the standard gRPC health service (SERVING) on
 * --port, and the same --data-dir argument. Starts in a fraction of the real agent's
 * time, for the tests of the provider's own mechanics.
 */
function standInAgent(): string[] {
  const require = createRequire(import.meta.url);
  const grpcJs = JSON.stringify(require.resolve('@grpc/grpc-js'));
  const health = JSON.stringify(require.resolve('grpc-health-check'));
  const script = `
    const grpc = require(${grpcJs});
    const { HealthImplementation } = require(${health});
    const port = process.argv[process.argv.indexOf('--port') + 1];
    const server = new grpc.Server();
    new HealthImplementation({ '': 'SERVING' }).addToServer(server);
    server.bindAsync('127.0.0.1:' + port, grpc.ServerCredentials.createInsecure(), (err) => {
      if (err) { console.error('cannot listen: ' + err.message); process.exit(1); }
      console.log('stand-in agent listening on ' + port);
    });`;
  return [process.execPath, '-e', script, '--'];
}

const portOf = (endpoint: string): number => Number(endpoint.split(':').at(-1));

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

test('options and specs are checked before anything is started', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'coxswain-vmopt-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.throws(
    () => new LocalVmProvider({ clusterDir: '', secret: ' padded ', epoch, dataPortBase: 60_000, agentPortBase: 0, agentCommand: [], readyTimeoutMs: -1 }),
    (err: unknown) => {
      assert.ok(err instanceof VmProviderOptionsError);
      assert.deepEqual(
        err.problems.map((p) => p.split(':')[0]),
        ['clusterDir', 'secret', 'dataPortBase', 'agentPortBase', 'agentCommand', 'readyTimeoutMs'],
      );
      return true;
    },
  );
  const provider = new LocalVmProvider({ clusterDir: path.join(root, 'c'), secret: SECRET, epoch });
  for (const [bad, field] of [
    [{ id: 'VM_1' }, 'id'],
    [{ zone: 'zone a' }, 'zone'],
    [{ vmType: 'huge' as VmSpec['vmType'] }, 'vmType'],
    [{ storageGiB: 0 }, 'storageGiB'],
    [{ nodeGroup: -1 }, 'nodeGroup'],
    [{ agentRunningSince: 1.5 }, 'agentRunningSince'],
  ] as const) {
    await assert.rejects(provider.create(spec('vm-1', 'zone-a', bad)), (err: unknown) => {
      assert.ok(err instanceof InvalidVmSpecError, String(err));
      assert.equal(err.field, field);
      assert.equal(err.kind, 'terminal');
      return true;
    });
  }
  await assert.rejects(provider.restartAgent('vm-9', 1), VmNotFoundError);
  assert.throws(() => provider.agent('vm-9'), VmNotFoundError);
  await provider.delete('vm-9'); // nothing to delete: fine
  assert.deepEqual(await provider.list(), []);
  assert.equal(await exists(path.join(root, 'c')), false, 'refused specs touch nothing');
  await provider.close();
});

test('agents that do not come up: the error names the VM and shows the tail of its log; nothing is left running', async (t) => {
  const { clusterDir, seen, options } = await setup('coxswain-vmbad-');
  t.after(async () => {
    await trackVmDirs(seen, clusterDir);
    await seen.cleanup();
  });
  // Exits at once with a message, like an agent whose port or secret is wrong.
  const failing = new LocalVmProvider({
    ...options,
    agentCommand: [process.execPath, '-e', 'console.error("boom: cannot serve", process.argv.slice(1).join(" ")); process.exit(3)', '--'],
  });
  await assert.rejects(failing.create(spec('vm-x', 'zone-a')), (err: unknown) => {
    assert.ok(err instanceof AgentStartError, String(err));
    assert.equal(err.vmId, 'vm-x');
    assert.match(err.message, /The agent of VM vm-x .*exited with code 3 while starting/);
    assert.match(err.message, /boom: cannot serve --data-dir \S+vm-x\/data --secret-file/);
    assert.equal(err.kind, 'transient');
    return true;
  });
  // The record was written before the start: the VM is known, and running with its agent
  // down (restartAgent is the repair), not failed.
  const [x] = await failing.list();
  assert.equal(x?.id, 'vm-x');
  assert.equal(x?.state, 'running');
  assert.equal(await readAgentPid(failing.paths('vm-x').pidFile), undefined, 'no pid file for an agent that exited');
  const secret = path.join(clusterDir, 'secret');
  assert.equal((await readFile(secret, 'utf8')).trim(), SECRET);
  assert.equal((await stat(secret)).mode & 0o777, 0o600);
  await failing.close();

  // Runs but never serves: killed after readyTimeoutMs (long enough for a loaded machine
  // to start node and print the pid: seen failing at 1500 ms under load).
  const hanging = new LocalVmProvider({
    ...options,
    readyTimeoutMs: 4000,
    agentCommand: [process.execPath, '-e', 'console.log("hanging agent pid", process.pid); setInterval(() => {}, 1000)', '--'],
  });
  const t0 = performance.now();
  await assert.rejects(hanging.restartAgent('vm-x', 1), (err: unknown) => {
    assert.ok(err instanceof AgentStartError, String(err));
    assert.match(err.message, /did not answer SERVING within 4000 ms/);
    assert.match(err.message, /it was killed/);
    const pid = Number(/hanging agent pid (\d+)/.exec(err.logTail)?.[1]);
    assert.ok(pid > 1, `the log tail shows the pid: ${err.logTail}`);
    seen.agents.set(pid, hanging.paths('vm-x').dataDir);
    return true;
  });
  assert.ok(performance.now() - t0 < 15_000);
  for (const pid of seen.agents.keys()) assert.ok(await waitGone(pid), `pid ${pid} is gone`);
  assert.equal((await hanging.list())[0]?.state, 'running', 'its agent was killed; the VM is still there');

  // Another secret than the one on disk is refused: the agents check against the file.
  const other = new LocalVmProvider({ ...options, secret: 'another-secret-0123456789abcdef' });
  await assert.rejects(other.restartAgent('vm-x', 1), (err: unknown) => {
    assert.ok(err instanceof VmStateFileError);
    assert.match(err.message, /holds another cluster secret/);
    return true;
  });
  await hanging.shutdown({ dataNodes: true, purge: true });
  assert.equal(await exists(path.join(clusterDir, 'vms')), false);
});

test('two VMs with real agents and a real redis: restartAgent keeps the data node, a new provider finds the VMs, kill -9, delete, shutdown', { timeout: 240_000 }, async (t) => {
  const { clusterDir, seen, options } = await setup('coxswain-vm-');
  t.after(async () => {
    await trackVmDirs(seen, clusterDir);
    await seen.cleanup();
  });

  // ── create: one VM timed until SERVING, then a second ──
  const p1 = new LocalVmProvider(options);
  let t0 = performance.now();
  const a = await p1.create(spec('vm-a', 'zone-a'));
  const createMs = performance.now() - t0;
  const agentA1 = await seen.agent(p1, 'vm-a');
  const b = await p1.create(spec('vm-b', 'zone-b', { nodeGroup: 1, vmType: 'medium', storageGiB: 20 }));
  const agentB = await seen.agent(p1, 'vm-b');
  console.log(`create vm-a until SERVING: ${seconds(createMs)}`);

  assert.equal(a.state, 'running');
  assert.equal(a.zone, 'zone-a');
  assert.equal(b.nodeGroup, 1);
  assert.equal(b.vmType, 'medium');
  assert.equal(b.storageGiB, 20);
  assert.equal(a.dataHost, '127.0.0.1');
  assert.ok(a.dataPort >= options.dataPortBase!);
  assert.notEqual(a.dataPort, b.dataPort);
  assert.notEqual(a.endpoint, b.endpoint);
  assert.match(a.endpoint, /^127\.0\.0\.1:\d+$/);
  assert.deepEqual(
    (await p1.list()).map((r) => [r.id, r.state]),
    [
      ['vm-a', 'running'],
      ['vm-b', 'running'],
    ],
  );
  const inventory = JSON.parse(await readFile(path.join(clusterDir, 'vms', INVENTORY_FILE), 'utf8')) as { vms: Array<{ id: string }> };
  assert.deepEqual(
    inventory.vms.map((v) => v.id),
    ['vm-a', 'vm-b'],
  );
  assert.ok(await exists(p1.paths('vm-a').logFile));

  const stateA = (await p1.agent('vm-a').getState({})).state;
  assert.equal(stateA?.agentId, 'vm-a');
  assert.equal(stateA?.zone, 'zone-a');
  const stateB = (await p1.agent('vm-b').getState({})).state;
  assert.equal(stateB?.agentId, 'vm-b');
  assert.equal(stateB?.zone, 'zone-b');
  assert.equal(p1.agent('vm-a'), p1.agent('vm-a'), 'agent() is cached');

  // create is idempotent: same record, same agent process
  assert.deepEqual(await p1.create(spec('vm-a', 'zone-a')), a);
  assert.equal(await readAgentPid(p1.paths('vm-a').pidFile), agentA1);

  // ── a real redis data node through the agent ──
  const started = await p1.agent('vm-a').startDataNode({ job: { jobId: 't1' }, nodeId: 'vm-a', port: a.dataPort, version: '7.0', nodeGroup: 0 });
  const redisPid = started.node?.pid ?? 0;
  assert.ok(redisPid > 1, 'the data node runs');
  seen.server(redisPid);
  assert.equal(started.node?.up, true);

  // ── restartAgent: new agent, same redis ──
  t0 = performance.now();
  const restarted = await p1.restartAgent('vm-a', 2);
  const restartMs = performance.now() - t0;
  console.log(`restartAgent vm-a (SIGTERM, new agent, adopt, SERVING): ${seconds(restartMs)}`);
  const agentA2 = await seen.agent(p1, 'vm-a');
  assert.notEqual(agentA2, agentA1, 'a new agent process');
  assert.ok(await waitGone(agentA1), 'the old agent exited');
  assert.equal(restarted.agentRunningSince, 2);
  assert.equal(restarted.endpoint, a.endpoint);
  assert.equal(restarted.dataPort, a.dataPort);
  let node = (await p1.agent('vm-a').getState({})).state?.dataNodes.find((n) => n.id === 'vm-a');
  assert.equal(node?.up, true);
  assert.equal(node?.pid, redisPid, 'the data node kept running and was adopted');

  // repeated: nothing to do
  await p1.restartAgent('vm-a', 2);
  assert.equal(await readAgentPid(p1.paths('vm-a').pidFile), agentA2, 'a repeated restartAgent for the same agentRunningSince restarts nothing');
  await p1.close();

  // ── leader restart: a new provider on the same directory ──
  const p2 = new LocalVmProvider(options);
  assert.deepEqual(
    (await p2.list()).map((r) => [r.id, r.state, r.endpoint, r.agentRunningSince]),
    [
      ['vm-a', 'running', a.endpoint, 2],
      ['vm-b', 'running', b.endpoint, 1],
    ],
  );
  assert.equal((await p2.agent('vm-b').getState({})).state?.agentId, 'vm-b');

  // ── kill -9 of an agent: the VM runs with its agent down; restartAgent brings it back and it adopts the node ──
  process.kill(agentA2, 'SIGKILL');
  assert.ok(await waitGone(agentA2));
  assert.deepEqual(
    (await p2.list()).map((r) => [r.id, r.state]),
    [
      ['vm-a', 'running'],
      ['vm-b', 'running'],
    ],
  );
  assert.ok(await isRunning(redisPid), 'the data node outlives its agent');
  t0 = performance.now();
  const back = await p2.restartAgent('vm-a', 2);
  console.log(`restartAgent vm-a after kill -9: ${seconds(performance.now() - t0)}`);
  const agentA3 = await seen.agent(p2, 'vm-a');
  assert.equal(back.state, 'running');
  node = (await p2.agent('vm-a').getState({})).state?.dataNodes.find((n) => n.id === 'vm-a');
  assert.equal(node?.up, true);
  assert.equal(node?.pid, redisPid, 'adopted again after the kill -9');

  // ── delete: its agent stops its data node, then the agent goes, then the directory ──
  const nodeB = await p2.agent('vm-b').startDataNode({ job: { jobId: 't1' }, nodeId: 'vm-b', port: b.dataPort, version: '7.0', nodeGroup: 1 });
  const redisB = nodeB.node?.pid ?? 0;
  assert.ok(redisB > 1);
  seen.server(redisB);
  const dirB = p2.paths('vm-b').vmDir;
  await p2.delete('vm-b');
  assert.ok(await waitGone(agentB), 'the agent of vm-b is gone');
  assert.ok(await waitGone(redisB), 'the data node of vm-b is gone');
  assert.equal(await exists(dirB), false);
  assert.deepEqual(
    (await p2.list()).map((r) => r.id),
    ['vm-a'],
  );
  await p2.delete('vm-b'); // idempotent
  assert.throws(() => p2.agent('vm-b'), VmNotFoundError);
  await trackVmDirs(seen, clusterDir);

  // ── shutdown: no process left, nothing on disk ──
  t0 = performance.now();
  await p2.shutdown({ dataNodes: true, purge: true });
  console.log(`shutdown with data nodes and purge: ${seconds(performance.now() - t0)}`);
  for (const pid of [agentA1, agentA2, agentA3, agentB, redisPid, redisB]) assert.equal(await isRunning(pid), false, `pid ${pid} is gone`);
  assert.equal(await exists(path.join(clusterDir, 'vms')), false);
  assert.deepEqual(await p2.list(), []);
  assert.equal(new Set(seen.all()).size, 6, 'four agent processes and two redis servers were seen');
  await p2.close();
});

test('down and up again: stopped VMs keep their ports, restartAgent revives them, data nodes without an agent are still stopped by purge', { timeout: 240_000 }, async (t) => {
  const { clusterDir, seen, options } = await setup('coxswain-vmdown-');
  t.after(async () => {
    await trackVmDirs(seen, clusterDir);
    await seen.cleanup();
  });
  const p = new LocalVmProvider(options);
  const c = await p.create(spec('vm-c', 'zone-a'));
  const agentC1 = await seen.agent(p, 'vm-c');
  const first = await p.agent('vm-c').startDataNode({ job: { jobId: 't1' }, nodeId: 'vm-c', port: c.dataPort, version: '7.0', nodeGroup: 0 });
  const redis1 = first.node?.pid ?? 0;
  seen.server(redis1);
  await trackVmDirs(seen, clusterDir);

  // down (keep data): agent and data node stop, the VM is listed as stopped
  await p.shutdown({ dataNodes: true, purge: false });
  assert.equal(await isRunning(agentC1), false);
  assert.equal(await isRunning(redis1), false);
  assert.deepEqual(
    (await p.list()).map((r) => [r.id, r.state]),
    [['vm-c', 'stopped']],
  );
  const record = await readRecord(path.join(p.paths('vm-c').dataDir, 'nodes', 'vm-c'));
  assert.equal(record?.pid, null, 'stopped through its agent: the node record says stopped');

  // a new VM never gets the ports of the stopped one, although they are free now
  const d = await p.create(spec('vm-d', 'zone-b'));
  const agentD = await seen.agent(p, 'vm-d');
  const cPorts = [c.dataPort, c.dataPort + 10_000, Number(c.endpoint.split(':')[1])];
  for (const port of [d.dataPort, d.dataPort + 10_000, Number(d.endpoint.split(':')[1])]) assert.ok(!cPorts.includes(port), `port ${port} is vm-c's`);

  // up again: restartAgent starts the stopped VM's agent; its node starts on its old port
  const revived = await p.restartAgent('vm-c', 3);
  const agentC2 = await seen.agent(p, 'vm-c');
  assert.equal(revived.state, 'running');
  assert.equal(revived.agentRunningSince, 3);
  const before = (await p.agent('vm-c').getState({})).state?.dataNodes.find((n) => n.id === 'vm-c');
  assert.equal(before?.up, false, 'the data node was stopped on purpose and stays stopped');
  const again = await p.agent('vm-c').startDataNode({ job: { jobId: 't2' }, nodeId: 'vm-c', port: c.dataPort, version: '7.0', nodeGroup: 0 });
  const redis2 = again.node?.pid ?? 0;
  seen.server(redis2);
  assert.equal(again.node?.up, true);

  // down without data nodes: agents stop, the redis keeps serving
  await p.shutdown({ dataNodes: false, purge: false });
  assert.equal(await isRunning(agentC2), false);
  assert.equal(await isRunning(agentD), false);
  assert.equal(await isRunning(redis2), true, 'dataNodes: false leaves the data node running');

  // purge with no agent running: the data node is stopped from its record, everything goes
  await p.shutdown({ dataNodes: true, purge: true });
  for (const pid of [agentC1, agentC2, agentD, redis1, redis2]) assert.equal(await isRunning(pid), false, `pid ${pid} is gone`);
  assert.equal(await exists(path.join(clusterDir, 'vms')), false);
  assert.deepEqual(await p.list(), []);
  await p.close();
  // the secret stays: it belongs to the cluster (the leader's state dir), not to a VM
  assert.ok(await exists(path.join(clusterDir, 'secret')));
});

test('stand-in agents: parallel creates get distinct ports; a lost pid file and a taken agent port are repaired by restartAgent', { timeout: 120_000 }, async (t) => {
  const { clusterDir, seen, options } = await setup('coxswain-vmfake-');
  const blocker = net.createServer();
  t.after(async () => {
    blocker.close();
    await trackVmDirs(seen, clusterDir);
    await seen.cleanup();
  });
  const p = new LocalVmProvider({ ...options, agentCommand: standInAgent() });
  const ids = ['vm-1', 'vm-2', 'vm-3'];
  const records = await Promise.all(ids.map((id, i) => p.create(spec(id, `zone-${i}`, { nodeGroup: i }))));
  const pids = await Promise.all(ids.map((id) => seen.agent(p, id)));
  assert.deepEqual(
    records.map((r) => [r.id, r.zone, r.state]),
    [
      ['vm-1', 'zone-0', 'running'],
      ['vm-2', 'zone-1', 'running'],
      ['vm-3', 'zone-2', 'running'],
    ],
  );
  const used = records.flatMap((r) => [r.dataPort, r.dataPort + 10_000, portOf(r.endpoint)]);
  assert.equal(new Set(used).size, used.length, `no port is shared: ${used.join(', ')}`);
  assert.ok(records.every((r) => r.dataPort >= options.dataPortBase! && portOf(r.endpoint) >= options.agentPortBase!));

  // The leader died between starting an agent and writing its pid file: the VM lists as
  // running; restartAgent finds the running agent by its port, stops it, starts a new one.
  await rm(p.paths('vm-1').pidFile);
  assert.equal((await p.list())[0]?.state, 'running');
  const again = await p.restartAgent('vm-1', 1);
  assert.equal(again.state, 'running');
  assert.ok(await waitGone(pids[0]!), 'the agent without a pid file was found and stopped');
  const newPid = await seen.agent(p, 'vm-1');
  assert.notEqual(newPid, pids[0]);

  // While the agents are down, another program takes vm-2's agent port: its agent moves.
  await p.shutdown({ dataNodes: false, purge: false });
  for (const pid of seen.agents.keys()) assert.ok(await waitGone(pid), `agent ${pid} stopped`);
  const oldPort = portOf(records[1]!.endpoint);
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject);
    blocker.listen({ host: '127.0.0.1', port: oldPort, exclusive: true }, resolve);
  });
  const moved = await p.restartAgent('vm-2', 1);
  await seen.agent(p, 'vm-2');
  assert.notEqual(portOf(moved.endpoint), oldPort);
  assert.ok(!used.includes(portOf(moved.endpoint)), `the new agent port ${moved.endpoint} is no port of another VM: ${used.join(', ')}`);
  assert.equal(p.agent('vm-2').endpoint, moved.endpoint, 'agent() follows the move');
  const p2 = new LocalVmProvider({ ...options, agentCommand: standInAgent() });
  assert.deepEqual(
    (await p2.list()).map((r) => [r.id, r.state, r.endpoint]),
    [
      ['vm-1', 'stopped', records[0]!.endpoint],
      ['vm-2', 'running', moved.endpoint],
      ['vm-3', 'stopped', records[2]!.endpoint],
    ],
  );
  await p2.shutdown({ dataNodes: true, purge: true });
  for (const pid of seen.agents.keys()) assert.equal(await isRunning(pid), false, `agent ${pid} is gone`);
  assert.equal(await exists(path.join(clusterDir, 'vms')), false);
  await p.close();
  await p2.close();
});

test('a VM whose agent died right after its creation is a running VM with its agent down, not a failed one; a VM whose directory is gone is failed', { timeout: 60_000 }, async (t) => {
  const { clusterDir, seen, options } = await setup('coxswain-vmdead-');
  t.after(async () => {
    await trackVmDirs(seen, clusterDir);
    await seen.cleanup();
  });
  const p = new LocalVmProvider({ ...options, agentCommand: standInAgent() });
  t.after(() => p.close());
  const created = await p.create(spec('vm-8', 'zone-a'));
  assert.equal(created.state, 'running');
  const pid = await seen.agent(p, 'vm-8');
  // The agent dies a moment after the VM was created (seen in a trial: of an unhandled rejection).
  process.kill(pid, 'SIGKILL');
  assert.ok(await waitGone(pid), 'the agent is gone');

  assert.deepEqual((await p.list()).map((r) => [r.id, r.state]), [['vm-8', 'running']]);
  const facts = { restoredFrom: undefined, formed: false };
  // What the leader sees: while the VM counts as new it waits for it ('creating'); after
  // that, a running VM whose agent does not answer, which the planner repairs with restartAgent.
  const fresh = await observe(p, { backupRefs: [], facts, callDeadlineMs: 1000, creatingVmIds: new Set(['vm-8']) });
  assert.deepEqual(fresh.vms.map((v) => [v.id, v.state, v.agentUp]), [['vm-8', 'creating', false]]);
  const later = await observe(p, { backupRefs: [], facts, callDeadlineMs: 1000 });
  assert.deepEqual(later.vms.map((v) => [v.id, v.state, v.agentUp]), [['vm-8', 'running', false]]);

  const back = await p.restartAgent('vm-8', 2);
  assert.equal(back.state, 'running');
  assert.notEqual(await seen.agent(p, 'vm-8'), pid, 'a new agent runs');
  const answering = await observe(p, { backupRefs: [], facts, callDeadlineMs: 1000 });
  assert.equal(answering.vms[0]?.state, 'running');

  // A VM whose directory is gone (its disk lost) is failed: that is what 'failed' is for here.
  await rm(p.paths('vm-8').vmDir, { recursive: true, force: true });
  assert.deepEqual((await p.list()).map((r) => [r.id, r.state]), [['vm-8', 'failed']]);
});
