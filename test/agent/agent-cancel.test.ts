// Cancelled and timed-out calls never take an agent down. Every RPC of the Agent service,
// as the .proto lists it, is cancelled by its caller against a real agent process over
// real gRPC: at once, while the call is being admitted (each call raises the leader
// epoch, so admission writes the epoch file), in the middle of the backend's work, and by
// a caller's deadline that passes mid-work. Afterwards the process must still run, answer
// GetState and health, and must not have needed its last-resort guard
// (agent/process-guard.ts): a call's rejection is handled by the call.
//
// The fake backend (every operation slowed by DELAY_MS, observing the call's signal:
// test/agent/slow-fake-agent.ts) serves every RPC; GetState is also cancelled against
// `coxswain agent` itself (the Redis backend, probing a real redis-server).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { Leftovers, tempDir } from '../../agent/engines/redis/test-servers.ts';
import { loadAgentProto } from '../../proto/load.ts';
import { AGENT_METHODS, type AgentMethod, type RequestOf } from '../../proto/methods.ts';
import { AUTHORIZATION_METADATA, EPOCH_METADATA, IDEMPOTENCY_KEY_METADATA, bearer } from '../../proto/metadata.ts';
import { freePorts } from '../support/ports.ts';
import { killChild, spawnAgent, spawnServing, writeSecret, type SpawnedAgent } from './spawn-agent.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROTO = path.join(ROOT, 'proto/coxswain/agent/v1/agent.proto');
const SECRET = 'cancel-test-secret-0f1e2d3c4b5a6978';
/** How long every fake backend operation works before doing anything. */
const DELAY_MS = 400;
/** Cancel delays that land while a call is being admitted (authentication, epoch write). */
const ADMISSION_DELAYS_MS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15];
const AT_ONCE = 'cancelled at once, before it left the caller (epoch raised)';
/** What the guard of agent/process-guard.ts logs; none of these may appear. */
const GUARD_LINE = /"guard":"(unhandledRejection|uncaughtException)"/;

/** The RPCs of `service Agent` in the .proto, in its order, with whether each streams. */
function rpcsOfProto(): { name: string; streaming: boolean }[] {
  const text = readFileSync(PROTO, 'utf8');
  const body = /service\s+Agent\s*\{([\s\S]*?)\n\}/.exec(text)?.[1];
  assert.ok(body !== undefined, `${PROTO} has a "service Agent { … }" block`);
  return [...body.matchAll(/^\s*rpc\s+(\w+)\s*\(\s*\w+\s*\)\s*returns\s*\(\s*(stream\s+)?\w+\s*\)/gm)].map((m) => ({
    name: m[1]!,
    streaming: m[2] !== undefined,
  }));
}

/** A request of every RPC that passes validation and reaches the backend's work ("n1" exists). */
function requests(port: number, sinkPath: string): { readonly [M in AgentMethod]: RequestOf<M> } {
  const job = { jobId: 'cancel-test', stepId: '1' };
  const sink = { local: { path: sinkPath } };
  const member = { host: '127.0.0.1', port, engineNodeId: 'e'.repeat(40) };
  return {
    GetState: {},
    WatchState: { intervalMs: 0 },
    EnsureVersion: { job, version: '7.0' },
    StartDataNode: { job, nodeId: 'n2', port: port + 1, version: '7.0', nodeGroup: 0 },
    StopDataNode: { job, nodeId: 'n1' },
    JoinNode: { job, nodeId: 'n1', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] },
    RemoveNode: { job, nodeId: 'n1' },
    ForgetNode: { job, nodeId: 'n1', engineNodeId: 'f'.repeat(40) },
    Failover: { job, nodeId: 'n1' },
    MoveData: { job, sourceNodeId: 'n1', target: member, all: true },
    CreateBackup: { job, backupId: 'b1', sink, nodeIds: ['n1'] },
    RestoreBackup: { job, backupId: 'b1', sink, nodeIds: ['n1'] },
    DeleteBackup: { job, backupId: 'b1', sink },
    ListBackups: {},
    ConfigureDataNode: { job, nodeId: 'n1', engineParams: { 'maxmemory-policy': 'noeviction' } },
  };
}

type Ending = { code: grpc.status; details: string };

/** Raw calls with whatever epoch, cancel point and deadline a test wants. */
class Caller {
  readonly #client: grpc.Client;
  #epoch: number;
  #key = 0;

  constructor(endpoint: string, epoch = 1) {
    this.#client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
    this.#epoch = epoch;
  }

  /** The leader epoch the calls carry now (the agent refuses a lower one from then on). */
  get epoch(): number {
    return this.#epoch;
  }

  close(): void {
    this.#client.close();
  }

  /**
   * Starts `method`, raising the epoch when asked, and cancels it: 'sync' at once (before
   * the call left this process), 'turn' after one turn of the event loop, or after N ms.
   */
  async call(method: AgentMethod, request: object, opts: { cancel?: 'sync' | 'turn' | number; deadlineMs?: number; raiseEpoch?: boolean; key?: string }): Promise<Ending> {
    const def = loadAgentProto().agentService[method] as unknown as {
      path: string;
      requestSerialize: (value: object) => Buffer;
      responseDeserialize: (bytes: Buffer) => unknown;
    };
    const metadata = new grpc.Metadata();
    metadata.set(AUTHORIZATION_METADATA, bearer(SECRET));
    if (opts.raiseEpoch === true) this.#epoch++;
    metadata.set(EPOCH_METADATA, String(this.#epoch));
    if (AGENT_METHODS[method].mutating) metadata.set(IDEMPOTENCY_KEY_METADATA, opts.key ?? `cancel-test/${method}/${++this.#key}`);
    const options = { deadline: Date.now() + (opts.deadlineMs ?? 10_000) };
    let cancel: () => void;
    const ended = new Promise<Ending>((resolve) => {
      if (AGENT_METHODS[method].streaming) {
        const stream = this.#client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata, options);
        stream.on('data', () => undefined);
        stream.on('error', () => undefined);
        stream.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details }));
        cancel = () => stream.cancel();
      } else {
        const call = this.#client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata, options, (err) =>
          resolve(err === null ? { code: grpc.status.OK, details: '' } : { code: err.code, details: err.details }),
        );
        cancel = () => call.cancel();
      }
    });
    if (opts.cancel === 'sync') cancel!();
    else if (opts.cancel === 'turn') await new Promise((resolve) => setImmediate(resolve)).then(() => cancel());
    else if (opts.cancel !== undefined) await Promise.race([sleep(opts.cancel), ended]).then(() => cancel());
    return ended;
  }

  health(): Promise<string> {
    const check = healthService.Check!;
    return new Promise((resolve) => {
      this.#client.makeUnaryRequest(check.path, check.requestSerialize, check.responseDeserialize, { service: '' }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, value) =>
        resolve(err !== null ? `error ${grpc.status[err.code]}: ${err.details}` : String((value as { status?: unknown }).status)),
      );
    });
  }
}

function alive(agent: SpawnedAgent): boolean {
  return agent.child.exitCode === null && agent.child.signalCode === null;
}

/** The last lines of the agent's output, for failure messages. */
function tail(agent: SpawnedAgent, lines = 12): string {
  return agent.output().trim().split('\n').slice(-lines).join('\n');
}

/** Fails (naming the RPC and how it was cancelled) unless the agent still runs and never needed its guard. */
function assertUnharmed(agent: SpawnedAgent, after: string): void {
  const exit = agent.child.exitCode ?? agent.child.signalCode;
  assert.ok(alive(agent), `the agent process ended (${String(exit)}) after ${after}; its last output:\n${tail(agent)}`);
  const guarded = agent.output().split('\n').find((l) => GUARD_LINE.test(l));
  assert.equal(guarded, undefined, `after ${after} a rejection reached the process guard instead of its call:\n${guarded}`);
}

/**
 * Every way of cancelling one call of `method`; returns how each ended, by how it was
 * cancelled. Last, one cancelled at once, before it left this process: grpc-js then
 * still sends it and never tells the server (measured: 9 of 10 such EnsureVersion calls
 * ran to completion on the agent, none was seen cancelled), so it may take effect.
 */
async function cancelEveryWay(caller: Caller, agent: SpawnedAgent, method: AgentMethod, request: object, workMs: number): Promise<Map<string, Ending>> {
  const endings = new Map<string, Ending>();
  const run = async (how: string, opts: { cancel?: 'sync' | 'turn' | number; deadlineMs?: number; raiseEpoch?: boolean }): Promise<void> => {
    endings.set(how, await caller.call(method, request, opts));
    // Give a rejection that nobody handles the turn it needs to end the process.
    await sleep(20);
    assertUnharmed(agent, `${method} ${how}`);
  };
  await run('cancelled after one turn, as it reached the agent (epoch raised)', { cancel: 'turn', raiseEpoch: true });
  for (const ms of ADMISSION_DELAYS_MS) await run(`cancelled ${ms} ms in, while admitted (epoch raised)`, { cancel: ms, raiseEpoch: true });
  await run(`cancelled mid-work (${Math.round(workMs / 2)} ms in)`, { cancel: Math.round(workMs / 2) });
  await run(`cut by the caller's deadline mid-work (${Math.round(workMs / 2)} ms)`, { deadlineMs: Math.round(workMs / 2) });
  await run(AT_ONCE, { cancel: 'sync', raiseEpoch: true });
  // The work of the calls cancelled mid-work ends after they did: wait for it, then look again.
  await sleep(workMs + 100);
  assertUnharmed(agent, `the work of the cancelled ${method} calls ended`);
  return endings;
}

/** Polls until `predicate` holds for the agent's output; false after `ms`. */
async function waitOutput(agent: SpawnedAgent, predicate: (output: string) => boolean, ms = 5000): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(25)) if (predicate(agent.output())) return true;
  return predicate(agent.output());
}

async function assertServes(caller: Caller, agent: SpawnedAgent): Promise<void> {
  const state = await caller.call('GetState', {}, {});
  assert.equal(state.code, grpc.status.OK, `GetState answers after the cancellations: ${state.details}\n${tail(agent)}`);
  assert.equal(await caller.health(), 'SERVING');
  assertUnharmed(agent, 'every cancellation');
}

test('the RPCs this test cancels are exactly those of the .proto (a new RPC fails here until it is covered)', () => {
  const inProto = rpcsOfProto();
  assert.ok(inProto.length >= 15, `found ${inProto.length} RPCs in ${PROTO}`);
  const covered = Object.keys(requests(7000, '/backups'));
  const missing = inProto.map((r) => r.name).filter((n) => !covered.includes(n));
  assert.deepEqual(missing, [], `RPCs of ${path.relative(ROOT, PROTO)} without a request in requests() of this test: ${missing.join(', ')}; add one`);
  assert.deepEqual(covered.filter((n) => !inProto.some((r) => r.name === n)), [], 'requests() names RPCs the .proto does not have');
  for (const r of inProto) assert.equal(AGENT_METHODS[r.name as AgentMethod].streaming, r.streaming, `${r.name} streams as the .proto says`);
});

test('cancelling or timing out every RPC, at once, while admitted and mid-work, leaves the agent serving (fake backend)', { timeout: 240_000 }, async (t) => {
  const root = await tempDir('coxswain-cancel-');
  const secretFile = await writeSecret(root, SECRET);
  const script = path.join(ROOT, 'test/agent/slow-fake-agent.ts');
  const argv = ['--import', 'tsx', script, '--data-dir', path.join(root, 'agent'), '--secret-file', secretFile, '--delay-ms', String(DELAY_MS)];
  const leftovers = new Leftovers();
  leftovers.dirs.add(root);
  let agent: SpawnedAgent | undefined;
  let caller: Caller | undefined;
  try {
    agent = await spawnServing(argv, path.join(root, 'agent.log'));
    caller = new Caller(agent.endpoint);
    const [port] = await freePorts(1, { withBus: true });
    const all = requests(port!, path.join(root, 'backups'));
    // n1, which the requests name; started again before each RPC (a call cancelled at once may have removed it).
    let setUps = 0;
    const startN1 = async (): Promise<void> => {
      const started = await caller!.call('StartDataNode', { ...all.StartDataNode, nodeId: 'n1', port: port! }, { key: `set-up/${++setUps}` });
      assert.equal(started.code, grpc.status.OK, `set-up: StartDataNode n1: ${started.details}`);
    };

    for (const { name } of rpcsOfProto()) {
      const method = name as AgentMethod;
      await t.test(method, async () => {
        if (!alive(agent!)) {
          // An earlier RPC took it down (that subtest failed): a new one on the same data dir, so each RPC is judged alone.
          const epoch = caller!.epoch;
          caller!.close();
          agent = await spawnServing(argv, path.join(root, `agent-before-${method}.log`));
          caller = new Caller(agent.endpoint, epoch);
        }
        await startN1();
        const endings = await cancelEveryWay(caller!, agent!, method, all[method], DELAY_MS);
        for (const [how, e] of endings) {
          if (how === AT_ONCE) continue; // see cancelEveryWay
          assert.ok([grpc.status.CANCELLED, grpc.status.DEADLINE_EXCEEDED].includes(e.code), `${method} ${how} ended ${grpc.status[e.code]}: ${e.details}`);
        }
        // The cancellation mid-work reached the agent while it ran the call.
        const cancelled = method === 'WatchState' ? 'Closed a WatchState stream: the caller cancelled it' : `the caller cancelled ${method}`;
        assert.ok(await waitOutput(agent!, (o) => o.includes(cancelled)), `the agent logged "${cancelled}":\n${tail(agent!)}`);
        await assertServes(caller!, agent!);
      });
    }
  } finally {
    caller?.close();
    if (agent !== undefined) await killChild(agent.child);
    await leftovers.cleanup();
  }
});

test('cancelling or timing out GetState against coxswain agent (Redis backend, a real data node) leaves it serving', { timeout: 120_000 }, async () => {
  const root = await tempDir('coxswain-cancel-real-');
  const secretFile = await writeSecret(root, SECRET);
  const dataDir = path.join(root, 'agent');
  const leftovers = new Leftovers();
  leftovers.dirs.add(root);
  leftovers.baseDirs.add(path.join(dataDir, 'nodes'));
  let agent: SpawnedAgent | undefined;
  let caller: Caller | undefined;
  try {
    agent = await spawnAgent(['--data-dir', dataDir, '--secret-file', secretFile, '--agent-id', 'vm-real', '--zone', 'zone-a'], path.join(root, 'agent.log'));
    caller = new Caller(agent.endpoint);
    const [port] = await freePorts(1, { withBus: true });
    const job = { jobId: 'cancel-test', stepId: 'set-up' };
    const ensured = await caller.call('EnsureVersion', { job, version: '7.0' }, {});
    assert.equal(ensured.code, grpc.status.OK, `set-up: EnsureVersion: ${ensured.details}`);
    const started = await caller.call('StartDataNode', { job, nodeId: 'r1', port: port!, version: '7.0', nodeGroup: 0 }, {});
    assert.equal(started.code, grpc.status.OK, `set-up: StartDataNode: ${started.details}`);
    // How long GetState works here, probing the node: the mid-work cancellations land at half of it.
    const t0 = performance.now();
    assert.equal((await caller.call('GetState', {}, {})).code, grpc.status.OK);
    const workMs = Math.max(2, Math.round(performance.now() - t0));
    console.log(`GetState against the Redis backend took ${workMs} ms`);
    for (let round = 0; round < 3; round++) await cancelEveryWay(caller, agent, 'GetState', {}, workMs);
    await assertServes(caller, agent);
  } finally {
    caller?.close();
    if (agent !== undefined) await killChild(agent.child);
    await leftovers.cleanup();
  }
});
