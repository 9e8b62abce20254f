// The VM provider contract (operator/ports/vm-provider.contract.ts) against the local
// provider: real `coxswain agent` processes and real redis-server 7.0 data nodes, as in
// operator/vm/local-provider.test.ts. Ports come from freePorts; every agent and data
// node a test started is noted by pid (from the pid files and node records of the VM
// directories, before each delete and at the end) and killed by pid in the clean-up.
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Leftovers } from '../../agent/engines/redis/test-servers.ts';
import { isRunning, readProcStat } from '../../common/process-inspect.ts';
import { readRecord } from '../../agent/node-record.ts';
import { freePorts } from '../../test/support/ports.ts';
import type { VmSpec } from '../model/step.ts';
import { providerContract, type ContractSubject } from '../ports/vm-provider.contract.ts';
import type { AgentPort } from '../ports/agent-port.ts';
import type { VmProvider, VmRecord } from '../ports/vm-provider.ts';
import { isAgentOf, readAgentPid } from './agent-process.ts';
import { LocalVmProvider, type LocalVmProviderOptions } from './local-provider.ts';

const SECRET = 'vm-provider-contract-secret-1a2b3c4d';

/** Every process a subject started: agents (pid → data dir, so a reused pid is never killed) and data nodes. */
class Processes {
  readonly agents = new Map<number, string>();
  readonly leftovers = new Leftovers();

  readonly clusterDir: string;

  constructor(clusterDir: string) {
    this.clusterDir = clusterDir;
  }

  /** Notes what the VM directories name now: agents in their pid files, data nodes in their node records. */
  async note(vmId?: string): Promise<void> {
    const vmsDir = path.join(this.clusterDir, 'vms');
    const names = vmId !== undefined ? [vmId] : (await readdir(vmsDir, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory()).map((d) => d.name);
    for (const name of names) {
      const vmDir = path.join(vmsDir, name);
      const pid = await readAgentPid(path.join(vmDir, 'agent.pid'));
      if (pid !== undefined) this.agents.set(pid, path.join(vmDir, 'data'));
      const nodes = path.join(vmDir, 'data', 'nodes');
      this.leftovers.baseDirs.add(nodes);
      // Read the records now too: a delete removes the directory.
      for (const n of await readdir(nodes).catch(() => [] as string[])) {
        const record = await readRecord(path.join(nodes, n)).catch(() => undefined);
        if (typeof record?.pid === 'number') this.leftovers.pids.add(record.pid);
      }
    }
  }

  async killAll(): Promise<void> {
    for (const [pid, dataDir] of this.agents) {
      if (!(await isAgentOf(pid, dataDir))) continue;
      const s = await readProcStat(pid);
      try {
        process.kill(s?.pgrp === pid ? -pid : pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await this.leftovers.cleanup();
  }
}

/** The provider, noting the processes of each VM as it goes. */
class Noting implements VmProvider {
  readonly inner: LocalVmProvider;
  readonly seen: Processes;

  constructor(inner: LocalVmProvider, seen: Processes) {
    this.inner = inner;
    this.seen = seen;
  }

  list(signal?: AbortSignal): Promise<VmRecord[]> {
    return this.inner.list(signal);
  }
  async create(spec: VmSpec, signal?: AbortSignal): Promise<VmRecord> {
    try {
      return await this.inner.create(spec, signal);
    } finally {
      await this.seen.note(spec.id);
    }
  }
  async delete(vmId: string, signal?: AbortSignal): Promise<void> {
    await this.seen.note(vmId).catch(() => undefined);
    await this.inner.delete(vmId, signal);
  }
  async restartAgent(vmId: string, agentRunningSince: number, signal?: AbortSignal): Promise<VmRecord> {
    try {
      return await this.inner.restartAgent(vmId, agentRunningSince, signal);
    } finally {
      await this.seen.note(vmId).catch(() => undefined);
    }
  }
  agent(vmId: string): AgentPort {
    return this.inner.agent(vmId);
  }
  async shutdown(options: { dataNodes: boolean; purge: boolean }, signal?: AbortSignal): Promise<void> {
    await this.seen.note();
    await this.inner.shutdown(options, signal);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function localSubject(): Promise<ContractSubject> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'coxswain-vm-contract-'));
  const clusterDir = path.join(root, 'c');
  const seen = new Processes(clusterDir);
  seen.leftovers.dirs.add(root);
  const [dataPortBase] = await freePorts(1, { withBus: true });
  const [agentPortBase] = await freePorts(1);
  const options: LocalVmProviderOptions = {
    clusterDir,
    secret: SECRET,
    epoch: () => 1,
    dataPortBase: dataPortBase!,
    agentPortBase: agentPortBase!,
    agentStopGraceMs: 10_000,
    // A dead agent's calls fail after one attempt, not after the retries the leader uses.
    agentClient: { maxAttempts: 1 },
  };
  const provider = new Noting(new LocalVmProvider(options), seen);
  return {
    provider,
    settle: (call) => call,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    async killAgent(vmId) {
      const pid = await readAgentPid(provider.inner.paths(vmId).pidFile);
      assert.ok(pid !== undefined, `${vmId} has an agent pid file`);
      seen.agents.set(pid, provider.inner.paths(vmId).dataDir);
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 250 && (await isRunning(pid)); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(await isRunning(pid), false, `the agent of ${vmId} (pid ${pid}) is gone`);
    },
    dataNodeVersion: '7.0',
    reopen: () => Promise.resolve(new Noting(new LocalVmProvider(options), seen)),
    async dispose() {
      await seen.note();
      // Stop what is left the way `down --purge` does, then kill by pid whatever survived it.
      const last = new LocalVmProvider(options);
      await last.shutdown({ dataNodes: true, purge: true }).catch(() => undefined);
      await last.close();
      await seen.killAll();
    },
  };
}

providerContract('local (real agents and redis-server 7.0)', localSubject, { timeoutMs: 180_000 });
