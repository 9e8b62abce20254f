// The VM provider's contract (operator/ports/vm-provider.ts) as a test suite that any
// provider must pass: providerContract(name, makeSubject) registers the tests, and each
// provider's test file calls it — the local provider with real agent processes
// (operator/vm/local-provider.contract.test.ts), the simulated world's provider
// (test/generative/world-provider.contract.test.ts), the reconciler's FakeCluster
// (operator/reconciler/testing/fake-cluster.contract.test.ts). A pod provider calls it too.
//
// The rules are what the reconciler relies on: the executor's provider commands
// (operator/executor/commands.ts: create, delete, restartAgent, and agent() for every
// agent call) and observe (operator/observe/observe.ts: list(), then GetState on every
// VM listed 'running' through agent(); a 'running' VM whose agent does not answer is
// repaired with restartAgent by the planner, operator/planner/drift.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VmSpec } from '../model/step.ts';
import type { DataNode__Output } from '../../proto/generated/coxswain/agent/v1/DataNode.ts';
import type { VmProvider, VmRecord } from './vm-provider.ts';

/** One provider under test, on a fresh, empty cluster. */
export interface ContractSubject {
  provider: VmProvider;
  /**
   * Awaits a call of the provider or of an agent. A simulated provider lets its virtual
   * time pass meanwhile; a real one just awaits.
   */
  settle<T>(call: Promise<T>): Promise<T>;
  /** Lets `ms` pass (virtual time for a simulated provider). */
  sleep(ms: number): Promise<void>;
  /** Kills the VM's agent as a crash would (kill -9 of a process, a container's death); its data node keeps running. */
  killAgent(vmId: string): Promise<void>;
  /**
   * Whether its VMs run data nodes the agent starts (StartDataNode with this version):
   * then the rules about restartAgent and data nodes are checked with a real one.
   * Undefined for a provider whose agents have no data nodes to keep.
   */
  dataNodeVersion: string | undefined;
  /** A new provider on the same cluster, as the next leader makes it (after close() of the first). */
  reopen(): Promise<VmProvider>;
  /** Stops everything the subject started (every process, by pid) and removes its files. */
  dispose(): Promise<void>;
}

export interface ContractOptions {
  /** Per test. @default 120000 */
  timeoutMs?: number;
  /** How long an agent may take to answer after create or restartAgent resolved, ms. @default 30000 */
  answerWithinMs?: number;
}

export function contractSpec(id: string, over: Partial<VmSpec> = {}): VmSpec {
  return { id, zone: 'zone-a', vmType: 'small', storageGiB: 10, nodeGroup: 0, temporary: false, agentRunningSince: 1, ...over };
}

/** The tests every VM provider passes. */
export function providerContract(name: string, makeSubject: () => Promise<ContractSubject>, options: ContractOptions = {}): void {
  const timeout = options.timeoutMs ?? 120_000;
  const answerWithinMs = options.answerWithinMs ?? 30_000;

  /** Runs `body` with a fresh subject, disposed of afterwards whatever happens. */
  const withSubject = (body: (s: ContractSubject) => Promise<void>) => async () => {
    const s = await makeSubject();
    try {
      await body(s);
    } finally {
      await s.provider.close().catch(() => undefined);
      await s.dispose();
    }
  };

  /** GetState of a VM's agent; rejects when it does not answer (a short deadline: a dead agent must fail, not hang). */
  const getState = (s: ContractSubject, vmId: string) => s.settle((async () => (await s.provider.agent(vmId).getState({}, { deadlineMs: 2000 })).state)());

  /** Waits until the VM's agent answers; its state. */
  const answers = async (s: ContractSubject, vmId: string) => {
    const step = 100;
    let last: unknown;
    for (let waited = 0; waited <= answerWithinMs; waited += step) {
      try {
        const state = await getState(s, vmId);
        if (state !== null && state !== undefined) return state;
      } catch (err) {
        last = err;
      }
      await s.sleep(step);
    }
    assert.fail(`the agent of ${vmId} did not answer within ${answerWithinMs} ms: ${last instanceof Error ? last.message : String(last)}`);
  };

  const doesNotAnswer = async (s: ContractSubject, vmId: string, why: string) => {
    await assert.rejects(getState(s, vmId), `${why}: a call to the agent of ${vmId} fails`);
  };

  const listed = async (s: ContractSubject) => s.settle(s.provider.list());
  const byId = async (s: ContractSubject, vmId: string): Promise<VmRecord | undefined> => (await listed(s)).find((r) => r.id === vmId);

  /** Starts the VM's data node (when the subject has data nodes); the node as its agent reports it. */
  const startDataNode = async (s: ContractSubject, vm: VmRecord): Promise<DataNode__Output | undefined> => {
    if (s.dataNodeVersion === undefined) return undefined;
    const started = await s.settle(
      s.provider.agent(vm.id).startDataNode({ job: { jobId: 'contract' }, nodeId: vm.id, port: vm.dataPort, version: s.dataNodeVersion, nodeGroup: vm.nodeGroup }, { idempotencyKey: `contract/start/${vm.id}` }),
    );
    assert.equal(started.node?.up, true, `the data node of ${vm.id} runs`);
    return started.node ?? undefined;
  };

  /** The VM's data node kept running, the same one (same pid and engine node id), through what just happened. */
  const sameDataNode = async (s: ContractSubject, vmId: string, before: DataNode__Output | undefined, what: string) => {
    if (before === undefined) return;
    const node = (await answers(s, vmId)).dataNodes.find((n) => n.id === before.id);
    assert.equal(node?.up, true, `${what}: the data node of ${vmId} is up`);
    assert.equal(node?.pid, before.pid, `${what}: the data node of ${vmId} was not restarted (same pid)`);
    assert.equal(node?.engineNodeId, before.engineNodeId, `${what}: the data node of ${vmId} is the same engine node`);
  };

  describe(`VM provider contract: ${name}`, () => {
    it('create: the VM is listed running with the record returned, carrying the spec, and its agent answers', { timeout }, withSubject(async (s) => {
      const spec = contractSpec('vm-c1', { zone: 'zone-b', vmType: 'medium', storageGiB: 20, nodeGroup: 2, temporary: true, agentRunningSince: 3 });
      const created = await s.settle(s.provider.create(spec));
      assert.deepEqual(
        [created.id, created.zone, created.vmType, created.storageGiB, created.nodeGroup, created.temporary, created.agentRunningSince, created.state],
        [spec.id, spec.zone, spec.vmType, spec.storageGiB, spec.nodeGroup, spec.temporary, spec.agentRunningSince, 'running'],
      );
      assert.match(created.endpoint, /^.+:\d+$/, 'the endpoint is host:port');
      assert.ok(created.dataHost !== '' && Number.isInteger(created.dataPort) && created.dataPort > 0, 'a data host and port are reserved');
      assert.deepEqual(await listed(s), [created]);
      const state = await answers(s, spec.id);
      assert.equal(state.agentId, spec.id, 'the agent is the VM\'s own');
      assert.equal(state.zone, spec.zone, 'the agent reports the VM\'s zone');
    }));

    it('create is idempotent by id: the same VM comes back, nothing is made twice', { timeout }, withSubject(async (s) => {
      const first = await s.settle(s.provider.create(contractSpec('vm-c2')));
      await answers(s, 'vm-c2');
      const again = await s.settle(s.provider.create(contractSpec('vm-c2')));
      assert.deepEqual(again, first);
      assert.deepEqual(await listed(s), [first]);
      await answers(s, 'vm-c2');
    }));

    it('list: every VM, sorted by id, with distinct endpoints and data addresses', { timeout }, withSubject(async (s) => {
      const b = await s.settle(s.provider.create(contractSpec('vm-l-b', { nodeGroup: 1 })));
      const a = await s.settle(s.provider.create(contractSpec('vm-l-a')));
      const records = await listed(s);
      assert.deepEqual(records.map((r) => r.id), ['vm-l-a', 'vm-l-b']);
      assert.notEqual(a.endpoint, b.endpoint);
      assert.notEqual(`${a.dataHost}:${a.dataPort}`, `${b.dataHost}:${b.dataPort}`);
      await answers(s, 'vm-l-a');
      await answers(s, 'vm-l-b');
    }));

    it('delete: the VM is no longer listed and its agent no longer answers; deleting it again, or an unknown VM, is no error', { timeout }, withSubject(async (s) => {
      const vm = await s.settle(s.provider.create(contractSpec('vm-d1')));
      await s.settle(s.provider.create(contractSpec('vm-d2')));
      await answers(s, 'vm-d1');
      await startDataNode(s, vm);
      await s.settle(s.provider.delete('vm-d1'));
      assert.deepEqual((await listed(s)).map((r) => r.id), ['vm-d2'], 'only the other VM is left');
      await doesNotAnswer(s, 'vm-d1', 'after delete');
      await s.settle(s.provider.delete('vm-d1'));
      await s.settle(s.provider.delete('vm-never-created'));
      await answers(s, 'vm-d2');
    }));

    it('restartAgent: the agent answers, reports agentRunningSince ≥ the one asked, and the data node keeps running', { timeout }, withSubject(async (s) => {
      const vm = await s.settle(s.provider.create(contractSpec('vm-r1')));
      await answers(s, 'vm-r1');
      const node = await startDataNode(s, vm);
      const restarted = await s.settle(s.provider.restartAgent('vm-r1', 4));
      assert.equal(restarted.state, 'running');
      assert.ok(restarted.agentRunningSince >= 4, `the record reports agentRunningSince ${restarted.agentRunningSince} ≥ 4`);
      assert.equal(restarted.dataPort, vm.dataPort, 'the data port is kept');
      const after = await byId(s, 'vm-r1');
      assert.equal(after?.state, 'running');
      assert.ok((after?.agentRunningSince ?? 0) >= 4, 'the listed record too');
      await answers(s, 'vm-r1');
      await sameDataNode(s, 'vm-r1', node, 'restartAgent');
      // Idempotent: the same again is fine, and the node is still the same.
      const again = await s.settle(s.provider.restartAgent('vm-r1', 4));
      assert.ok(again.agentRunningSince >= 4);
      await answers(s, 'vm-r1');
      await sameDataNode(s, 'vm-r1', node, 'a repeated restartAgent');
    }));

    it('restartAgent of an unknown VM is refused', { timeout }, withSubject(async (s) => {
      await assert.rejects(s.settle(s.provider.restartAgent('vm-unknown', 1)));
      assert.deepEqual(await listed(s), [], 'nothing was made');
    }));

    it('a VM whose agent died is listed running with its agent down (not failed); restartAgent brings the agent back, and its data node kept running', { timeout }, withSubject(async (s) => {
      const vm = await s.settle(s.provider.create(contractSpec('vm-k1')));
      await answers(s, 'vm-k1');
      const node = await startDataNode(s, vm);
      await s.killAgent('vm-k1');
      assert.equal((await byId(s, 'vm-k1'))?.state, 'running', 'the VM is still there: running, its agent down');
      await doesNotAnswer(s, 'vm-k1', 'its agent died');
      const back = await s.settle(s.provider.restartAgent('vm-k1', 2));
      assert.equal(back.state, 'running');
      assert.ok(back.agentRunningSince >= 2);
      await answers(s, 'vm-k1');
      await sameDataNode(s, 'vm-k1', node, 'the agent\'s death and restart');
    }));

    it('shutdown keeps the VMs, stopped, with agents that do not answer; restartAgent brings each back; shutdown with purge leaves nothing', { timeout }, withSubject(async (s) => {
      await s.settle(s.provider.create(contractSpec('vm-s1')));
      await s.settle(s.provider.create(contractSpec('vm-s2', { nodeGroup: 1 })));
      await answers(s, 'vm-s1');
      await answers(s, 'vm-s2');
      await s.settle(s.provider.shutdown({ dataNodes: true, purge: false }));
      assert.deepEqual((await listed(s)).map((r) => [r.id, r.state]), [['vm-s1', 'stopped'], ['vm-s2', 'stopped']]);
      await doesNotAnswer(s, 'vm-s1', 'after shutdown');
      const back = await s.settle(s.provider.restartAgent('vm-s1', 1));
      assert.equal(back.state, 'running');
      await answers(s, 'vm-s1');
      assert.equal((await byId(s, 'vm-s1'))?.state, 'running');
      await s.settle(s.provider.shutdown({ dataNodes: true, purge: true }));
      assert.deepEqual(await listed(s), []);
      await doesNotAnswer(s, 'vm-s1', 'after shutdown with purge');
    }));

    it('close leaves the agents running: a new provider on the same cluster (a leader restart) finds the VMs as they were', { timeout }, withSubject(async (s) => {
      const vm = await s.settle(s.provider.create(contractSpec('vm-x1')));
      await answers(s, 'vm-x1');
      const node = await startDataNode(s, vm);
      await s.provider.close();
      const next = await s.reopen();
      const again: ContractSubject = { ...s, provider: next };
      try {
        assert.deepEqual(await listed(again), [vm]);
        await answers(again, 'vm-x1');
        await sameDataNode(again, 'vm-x1', node, 'close and a new provider');
      } finally {
        await next.close();
      }
    }));
  });
}
