// Scenarios through the leader's AgentClient over real gRPC, with real agents
// (RedisBackend) and real redis-server 7.0 processes: a 3×2 cluster founded as the
// leader founds it (one primary, two more in parallel with their slots, the replicas in
// parallel), add and remove a node group under 100k keys, a planned Failover under
// continuous writes, a backup restored into a cluster of another shape (and repeated:
// no change; another backup into it: refused), the agent's backup list across an agent
// restart. Each step is timed (`scenario <step>: <s>`). Every agent is stopped, every
// data node killed by pid and every temporary directory removed, even on failure.
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, type ClusterOptions } from 'ioredis';
import { closeCluster } from '../support/close-cluster.ts';
import { pino } from 'pino';
import { startAgent, type RunningAgent } from '../../agent/daemon.ts';
import { RedisBackend } from '../../agent/engines/redis/redis-backend.ts';
import { Leftovers, tempDir } from '../../agent/engines/redis/test-servers.ts';
import { AgentClient } from '../../operator/agent-client/agent-client.ts';
import { FailedPreconditionError } from '../../proto/status.ts';
import { freePorts } from '../support/ports.ts';

const SECRET = 'e2e-cluster-secret-0a1b2c3d4e5f6789';
const KEYS = 100_000;
const BATCH = 5000;
const job = (step: string): { jobId: string; stepId: string } => ({ jobId: 'scenarios', stepId: step });

interface InProcessAgent {
  id: string;
  dataDir: string;
  backend: RedisBackend;
  agent: RunningAgent;
  client: AgentClient;
}
type Addr = { host: string; port: number };

function clusterClient(nodes: Addr[], extra: ClusterOptions = {}): Cluster {
  const c = new Cluster(nodes, {
    redisOptions: { connectTimeout: 2000 },
    clusterRetryStrategy: (n) => (n > 20 ? null : 100),
    enableAutoPipelining: true,
    ...extra,
  });
  c.on('error', () => undefined);
  return c;
}

/** Writes key:i = value-i for i < count, BATCH commands in flight at a time (auto-pipelined per node). */
async function writeKeys(c: Cluster, count: number): Promise<void> {
  for (let from = 0; from < count; from += BATCH) {
    const batch: Promise<unknown>[] = [];
    for (let i = from; i < Math.min(count, from + BATCH); i++) batch.push(c.set(`key:${i}`, `value-${i}`));
    await Promise.all(batch);
  }
}

/** Reads back every expected key; asserts that none is missing or different. */
async function verifyKeys(c: Cluster, expected: ReadonlyMap<string, string> | number): Promise<void> {
  const entries: [string, string][] =
    typeof expected === 'number' ? Array.from({ length: expected }, (_, i) => [`key:${i}`, `value-${i}`]) : [...expected];
  let wrong = 0;
  let first = '';
  for (let from = 0; from < entries.length; from += BATCH) {
    const slice = entries.slice(from, from + BATCH);
    const got = await Promise.all(slice.map(([k]) => c.get(k)));
    got.forEach((v, j) => {
      if (v !== slice[j]![1]) {
        wrong++;
        if (first === '') first = `${slice[j]![0]}=${String(v)}`;
      }
    });
  }
  assert.equal(wrong, 0, `${wrong} of ${entries.length} keys missing or wrong (first: ${first})`);
}

async function timed(step: string, fn: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  await fn();
  console.log(`scenario ${step}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}

test('agent scenarios over gRPC: form 3x2, node group add/remove under 100k keys, planned failover under writes, backup restored into another shape', { timeout: 150_000 }, async (t) => {
  const leftovers = new Leftovers();
  const root = await tempDir('coxswain-scn-');
  leftovers.dirs.add(root);
  const secretFile = path.join(root, 'cluster-secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
  await chmod(secretFile, 0o600);
  const agents: InProcessAgent[] = [];
  const redisClients: Cluster[] = [];
  const open = async (id: string, zone: string, dataDir: string, port = 0): Promise<InProcessAgent> => {
    const backend = await RedisBackend.open({ dir: dataDir, supervisor: { adoptedPollMs: 200, stopGraceMs: 10_000 } });
    const agent = await startAgent({ agentId: id, zone, dataDir, secretFile, backend, port, logger: pino({ level: 'silent' }), shutdownTimeoutMs: 2000 });
    return { id, dataDir, backend, agent, client: new AgentClient({ endpoint: agent.endpoint, secret: SECRET, epoch: () => 1, deadlineMs: 60_000 }) };
  };
  try {
    for (const [i, id] of ['vm-0', 'vm-1', 'vm-2', 'vm-3'].entries()) {
      const dataDir = path.join(root, id);
      await mkdir(dataDir, { recursive: true });
      leftovers.baseDirs.add(path.join(dataDir, 'nodes'));
      agents.push(await open(id, `zone-${i}`, dataDir));
    }
    const [a0, , , a3] = agents as [InProcessAgent, InProcessAgent, InProcessAgent, InProcessAgent];
    await Promise.all(agents.map((a) => a.client.ensureVersion({ job: job('ensure'), version: '7.0' })));

    const nodes = new Map<string, { agent: InProcessAgent; port: number; group: number; engineId?: string }>();
    const addr = (id: string): Addr => ({ host: '127.0.0.1', port: nodes.get(id)!.port });
    const member = (id: string): Addr & { engineNodeId: string } => ({ ...addr(id), engineNodeId: nodes.get(id)!.engineId! });
    const start = async (id: string, agent: InProcessAgent, group: number): Promise<void> => {
      // Chosen right before the start: other tests on this machine take ports meanwhile.
      const [port] = (await freePorts(1, { withBus: true })) as [number];
      nodes.set(id, { agent, port, group });
      const r = await agent.client.startDataNode({ job: job(`start ${id}`), nodeId: id, port, version: '7.0', nodeGroup: group });
      assert.equal(r.node?.up, true);
      leftovers.pids.add(r.node!.pid);
    };
    /** Founds a cluster (no `via`) or joins through `via`, claiming `slots` (unowned ones only). */
    const joinPrimary = async (id: string, via: string | undefined, slots: { start: number; end: number }[] = []): Promise<void> => {
      const n = nodes.get(id)!;
      const r = await n.agent.client.joinNode({
        job: job(`join ${id}`),
        nodeId: id,
        role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA',
        ...(via === undefined ? {} : { clusterMember: member(via) }),
        assignSlots: slots,
      });
      assert.equal(r.node?.role, 'NODE_ROLE_PRIMARY');
      n.engineId = r.node!.engineNodeId;
    };
    const joinReplica = async (id: string, primary: string, seed: string): Promise<void> => {
      const n = nodes.get(id)!;
      const r = await n.agent.client.joinNode({ job: job(`join ${id}`), nodeId: id, role: 'JOIN_ROLE_REPLICA', clusterMember: member(seed), replicaOf: member(primary) });
      assert.equal(r.node?.role, 'NODE_ROLE_REPLICA');
      n.engineId = r.node!.engineNodeId;
    };
    const move = async (from: string, to: string, sel: { slotCount: number } | { all: true }): Promise<void> => {
      const r = await nodes.get(from)!.agent.client.moveData({ job: job(`move ${from}->${to}`), sourceNodeId: from, target: member(to), ...sel });
      assert.equal(r.outcome?.changed, true);
    };
    const slotsOf = async (id: string): Promise<number> => {
      const n = nodes.get(id)!;
      const s = (await n.agent.client.getState()).state!.dataNodes.find((x) => x.id === id);
      return (s?.slots ?? []).reduce((sum, r) => sum + r.end - r.start + 1, 0);
    };

    // A 3×2 cluster: p<k> on vm-k, r<k> on vm-(k+1), founded as the leader founds it.
    await timed('start one node', () => start('p0', agents[0]!, 0));
    await timed('start 5 nodes in parallel', async () => {
      await start('r0', agents[1]!, 0);
      await Promise.all([1, 2].flatMap((k) => [start(`p${k}`, agents[k]!, k), start(`r${k}`, agents[(k + 1) % 3]!, k)]));
    });
    // The leader observes the started nodes before it founds (past Redis's 2 s start-up
    // grace, so the primaries' rejoin delay is paid in full: the realistic case).
    await sleep(2000);
    await timed('form 3x2', async () => {
      await joinPrimary('p0', undefined, [{ start: 0, end: 5460 }]);
      await Promise.all([
        joinPrimary('p1', 'p0', [{ start: 5461, end: 10922 }]),
        joinPrimary('p2', 'p0', [{ start: 10923, end: 16383 }]),
      ]);
      await Promise.all([0, 1, 2].map((k) => joinReplica(`r${k}`, `p${k}`, 'p0')));
    });

    const writer = clusterClient([addr('p0')]);
    redisClients.push(writer);
    await timed('write 100k keys', () => writeKeys(writer, KEYS));

    await t.test('a node group is added (empty primary, MoveData its share, replica) and every key is still there', async () => {
      await timed('add node group', async () => {
        await start('p3', a3, 3);
        await start('r3', a0, 3);
        await timed('add node group: join primary', () => joinPrimary('p3', 'p0'));
        await timed('add node group: join replica', () => joinReplica('r3', 'p3', 'p0'));
        await timed('add node group: move 3 x 1365 slots', async () => {
          await move('p0', 'p3', { slotCount: 1365 });
          await move('p1', 'p3', { slotCount: 1365 });
          await move('p2', 'p3', { slotCount: 1366 });
        });
      });
      assert.equal(await slotsOf('p3'), 4096);
      // A fresh client (its slot map taken now): an auto-pipelined batch whose keys get
      // MOVED to several nodes fails in ioredis instead of following the redirections.
      const reader = clusterClient([addr('p2')]);
      redisClients.push(reader);
      await timed('verify 100k after add', () => verifyKeys(reader, KEYS));
    });

    await t.test('the node group is removed (MoveData all its slots away, RemoveNode replica then primary) and every key is still there', async () => {
      await timed('remove node group', async () => {
        await timed('remove node group: move its slots away', async () => {
          await move('p3', 'p0', { slotCount: 1365 });
          await move('p3', 'p1', { slotCount: 1365 });
          await move('p3', 'p2', { all: true });
        });
        assert.equal(await slotsOf('p3'), 0);
        await timed('remove node group: remove replica and primary', async () => {
          assert.equal((await a0.client.removeNode({ job: job('remove r3'), nodeId: 'r3' })).outcome?.changed, true);
          assert.equal((await a3.client.removeNode({ job: job('remove p3'), nodeId: 'p3' })).outcome?.changed, true);
        });
      });
      const reader = clusterClient([addr('p1')]);
      redisClients.push(reader);
      await timed('verify 100k after remove', () => verifyKeys(reader, KEYS));
    });

    const expected = new Map<string, string>(Array.from({ length: KEYS }, (_, i) => [`key:${i}`, `value-${i}`]));
    await t.test('a planned Failover through gRPC under continuous writes: no client error, every acknowledged write reads back', async () => {
      const w = clusterClient([addr('p0')], { maxRedirections: 64, retryDelayOnMoved: 0, retryDelayOnFailover: 100, retryDelayOnClusterDown: 100, retryDelayOnTryAgain: 100, enableAutoPipelining: false });
      redisClients.push(w);
      const errors: unknown[] = [];
      const acked = new Map<string, string>();
      let stop = false;
      const loops = Array.from({ length: 8 }, async (_, l) => {
        for (let i = 0; !stop; i++) {
          const k = `fw:${l}:${i}`;
          const v = `v-${l}-${i}`;
          try {
            await w.set(k, v);
            acked.set(k, v);
          } catch (err) {
            errors.push(err);
          }
        }
      });
      await sleep(500);
      await timed('planned failover under writes', async () => {
        const r1 = nodes.get('r1')!;
        const r = await r1.agent.client.failover({ job: job('failover r1'), nodeId: 'r1' });
        assert.equal(r.outcome?.changed, true);
        assert.equal(r.formerPrimaryEngineNodeId, nodes.get('p1')!.engineId);
        assert.equal(r.node?.role, 'NODE_ROLE_PRIMARY');
      });
      await sleep(1000);
      stop = true;
      await Promise.all(loops);
      console.log(`scenario failover writes: ${acked.size} acknowledged, ${errors.length} errors`);
      assert.deepEqual(errors.map(String), []);
      assert.ok(acked.size > 100, `writes went on (${acked.size})`);
      await timed('verify acknowledged writes', () => verifyKeys(w, acked));
      for (const [k, v] of acked) expected.set(k, v);
    });

    const sink = { local: { path: path.join(root, 'backups') } };
    await t.test('CreateBackup of the 3×2 cluster, RestoreBackup into a fresh 2-primary cluster on vm-3, every key there; a repeat changes nothing', async () => {
      await timed('create backup', async () => {
        const created = await a0.client.createBackup({ job: job('backup'), backupId: 'scn1', sink });
        assert.equal(created.backup?.status, 'BACKUP_STATUS_COMPLETE');
        assert.equal(created.backup?.parts.length, 3);
      });
      await start('q0', a3, 0);
      await start('q1', a3, 1);
      await timed('form 2 primaries for the restore', async () => {
        await joinPrimary('q0', undefined, [{ start: 0, end: 8191 }]);
        await joinPrimary('q1', 'q0', [{ start: 8192, end: 16383 }]);
      });
      await timed('restore backup into 2 primaries', async () => {
        const r = await a3.client.restoreBackup({ job: job('restore'), backupId: 'scn1', sink, nodeIds: ['q0', 'q1'] });
        assert.equal(r.outcome?.changed, true);
        console.log(`scenario restore message: ${r.outcome?.message}`);
      });
      const reader = clusterClient([addr('q0')]);
      redisClients.push(reader);
      await timed('verify restored keys', () => verifyKeys(reader, expected));
      // The leader repeats a restore whose answer it missed: already done.
      const again = await a3.client.restoreBackup({ job: job('restore again'), backupId: 'scn1', sink, nodeIds: ['q0', 'q1'] });
      assert.equal(again.outcome?.changed, false);
      assert.match(again.outcome?.message ?? '', /already restored/);
      assert.equal(await reader.get('key:7'), expected.get('key:7'), 'the data is untouched');
    });

    await t.test('another backup is not restored into the non-empty cluster; the backups an agent knows survive its restart', async () => {
      const other = await a0.client.createBackup({ job: job('backup 2'), backupId: 'scn2', sink });
      assert.equal(other.outcome?.changed, true);
      await assert.rejects(a3.client.restoreBackup({ job: job('restore other'), backupId: 'scn2', sink, nodeIds: ['q0', 'q1'] }), (err: unknown) => {
        assert.ok(err instanceof FailedPreconditionError, String(err));
        assert.equal(err.reason, 'TARGET_NOT_EMPTY');
        return true;
      });
      // vm-0's agent restarts (a rolling agent restart): its data nodes keep running, and
      // it still knows both backups.
      const before = (await a0.client.getState()).state!;
      assert.deepEqual(before.backups.map((b) => b.backupId), ['scn1', 'scn2']);
      a0.client.close();
      await a0.agent.stop();
      await a0.backend.close();
      const restarted = await open(a0.id, 'zone-0', a0.dataDir, a0.agent.port);
      agents[0] = restarted;
      const after = (await restarted.client.getState()).state!;
      assert.deepEqual(after.backups, before.backups);
      assert.deepEqual(after.dataNodes.map((n) => [n.id, n.pid]), before.dataNodes.map((n) => [n.id, n.pid]));
      assert.deepEqual((await restarted.client.listBackups({})).backups.map((b) => b.backupId), ['scn1', 'scn2']);
    });
  } finally {
    await Promise.all(redisClients.map(closeCluster));
    for (const a of agents) {
      a.client.close();
      await a.agent.stop().catch(() => undefined);
      await a.backend.close().catch(() => undefined);
    }
    await leftovers.cleanup();
  }
});
