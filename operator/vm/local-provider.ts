// The local VM provider: a "VM" is one `coxswain agent` process on this machine, with
// its own directory (<clusterDir>/vms/<vmId>/), ports and zone label. It is what
// `coxswain up` runs on a laptop or a CI runner; in Kubernetes a pod provider takes
// its place behind the same VmProvider interface.
//
// What survives what:
// - The inventory (vms/inventory.json) is written before an agent is started, so a
//   leader killed mid-create finds the VM and restarting its agent finishes the job.
// - Agents run detached and outlive the leader; a new provider on the same directory
//   finds them by pid file + /proc (agent-process.ts) and lists them as running.
// - Data nodes are children of the agent, detached too: an agent restart (SIGTERM: the
//   agent stops WITHOUT stopping them) or an agent crash leaves them serving, and the
//   next agent adopts them (agent/supervisor.ts). So a VM whose agent died lists as
//   running with its agent down (the leader restarts the agent), not as failed.
// A VM's zone is a label passed to its agent (--zone); its vmType and storageGiB are
// recorded in the inventory but limit nothing locally (no cgroups, no disk quota).
// One leader per cluster directory is assumed (the leader's lock); within the leader,
// operations on one VM run one at a time and the inventory is updated under its own lock.
// Linux only, like the agent's supervisor: processes are recognised through /proc.
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { repoPath } from '../repo-root.ts';
import type { Logger } from 'pino';
import { canBind as canBindOnHost, findPortHolder, isRunning } from '../../common/process-inspect.ts';
import { syncDirectory } from '../../common/atomic-file.ts';
import { VM_TYPES } from '../../desired-state/catalogue.ts';
import { AgentClient } from '../agent-client/agent-client.ts';
import type { AgentClientOptions, EpochProvider } from '../agent-client/agent-client.ts';
import type { VmSpec } from '../model/step.ts';
import type { AgentPort } from '../ports/agent-port.ts';
import { systemClock } from '../../common/clock.ts';
import type { Clock } from '../../common/clock.ts';
import type { VmProvider, VmRecord } from '../ports/vm-provider.ts';
import {
  endpointOf,
  findAgentPid,
  isAgentOf,
  killProcess,
  removeAgentPid,
  spawnDetached,
  stopProcess,
  tailFile,
  vmPaths,
  waitServing,
  type VmPaths,
} from './agent-process.ts';
import { stopRecordedNodes } from './data-node-sweep.ts';
import {
  AgentStartError,
  InvalidVmSpecError,
  VmNotFoundError,
  VmOperationCancelledError,
  VmProviderOptionsError,
  VmStateFileError,
} from './errors.ts';
import { loadInventory, removeInventory, saveInventory, type InventoryEntry } from './inventory.ts';
import { KeyedLock } from './keyed-lock.ts';
import { allocatePort, highestPort, reservedPorts, type CanBind } from './port-allocation.ts';
import { VmAgent } from './vm-agent.ts';
import { errorText } from '../../common/error-text.ts';

export interface LocalVmProviderOptions {
  /** The cluster's state directory; VMs live in <clusterDir>/vms/<vmId>/. */
  clusterDir: string;
  /** The cluster secret: written once to <clusterDir>/secret (mode 0600) for the agents; never logged. */
  secret: string;
  /** The leader's epoch, sent on every agent call. */
  epoch: EpochProvider;
  /** Address agents listen on and data nodes bind to. @default "127.0.0.1" */
  host?: string;
  /** Data node ports: the lowest port ≥ this that no VM reserves and that (with port + 10000, its bus) can be bound. @default 7001 */
  dataPortBase?: number;
  /** Agent gRPC ports: the lowest port ≥ this that no VM reserves and that can be bound. @default 7101 */
  agentPortBase?: number;
  /** @default a silent logger */
  logger?: Logger;
  /**
   * The agent program; the provider appends --data-dir, --secret-file, --host, --port,
   * --agent-id and --zone.
   * @default [process.execPath, <repo>/operator/bin/coxswain.mjs, "agent"]
   */
  agentCommand?: readonly string[];
  /** @default the system clock */
  clock?: Clock;
  /** How long create/restartAgent wait for a started agent to answer SERVING, in ms. @default 30000 */
  readyTimeoutMs?: number;
  /**
   * How long a stopping agent gets between SIGTERM and SIGKILL, in ms. Covers the
   * agent's own shutdown (up to 5 s for calls in flight, then closing its supervisor).
   * @default 15000
   */
  agentStopGraceMs?: number;
  /**
   * How long a data node stopped without its agent gets between SIGTERM and SIGKILL, in
   * ms (Redis saves its data set and waits for replicas; the supervisor allows 20 s).
   * @default 20000
   */
  dataNodeStopGraceMs?: number;
  /** Options of the AgentClients agent() returns (deadline, retries). @default {} */
  agentClient?: Partial<Omit<AgentClientOptions, 'endpoint' | 'secret' | 'epoch'>>;
  /** Whether a port can be bound now (tests replace it). @default a real bind attempt */
  canBind?: CanBind;
}

interface ResolvedOptions {
  clusterDir: string;
  vmsDir: string;
  secretFile: string;
  host: string;
  dataPortBase: number;
  agentPortBase: number;
  logger: Logger;
  agentCommand: readonly string[];
  clock: Clock;
  readyTimeoutMs: number;
  agentStopGraceMs: number;
  dataNodeStopGraceMs: number;
  agentClient: Partial<Omit<AgentClientOptions, 'endpoint' | 'secret' | 'epoch'>>;
  canBind: CanBind;
}

/** The same rules the agent applies to --agent-id and --zone (agent/daemon.ts). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ZONE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const INVENTORY_LOCK = '\0inventory';
/** How an internal call (stopping data nodes on delete/shutdown) names itself to the agent. */
const PROVIDER_JOB_ID = 'vm-provider';

/**
 * The default agent command: this repository's `coxswain agent`, on the Node that runs
 * the leader (process.execPath: the pinned runtime, see operator/bin/node-runtime.mjs).
 * The entry point runs the bundle that `make` builds when it is current, else the
 * sources, which Node runs by stripping the types (no loader, so no `--import tsx`).
 */
export function defaultAgentCommand(): string[] {
  return [process.execPath, repoPath('operator', 'bin', 'coxswain.mjs'), 'agent'];
}

function resolveOptions(options: LocalVmProviderOptions): ResolvedOptions {
  const problems: string[] = [];
  const o = options as Partial<LocalVmProviderOptions>;
  if (typeof o.clusterDir !== 'string' || o.clusterDir === '') problems.push('clusterDir: required, the cluster state directory');
  if (typeof o.secret !== 'string' || o.secret === '') problems.push('secret: required, the cluster secret');
  else if (o.secret.trim() !== o.secret || /[\r\n]/.test(o.secret)) problems.push('secret: must not hold line breaks or surrounding white space (agents trim it)');
  if (typeof o.epoch !== 'function') problems.push("epoch: required, a function that returns the leader's epoch");
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string' || !/^[^\s/]+$/.test(host)) problems.push(`host: ${JSON.stringify(host)} is not a host name or IP address`);
  const dataPortBase = o.dataPortBase ?? 7001;
  if (!Number.isInteger(dataPortBase) || dataPortBase < 1 || dataPortBase > highestPort(true)) {
    problems.push(`dataPortBase: must be an integer 1 … ${highestPort(true)} (its bus port is +10000), got ${dataPortBase}`);
  }
  const agentPortBase = o.agentPortBase ?? 7101;
  if (!Number.isInteger(agentPortBase) || agentPortBase < 1 || agentPortBase > highestPort(false)) {
    problems.push(`agentPortBase: must be an integer 1 … ${highestPort(false)}, got ${agentPortBase}`);
  }
  const agentCommand = o.agentCommand ?? defaultAgentCommand();
  if (!Array.isArray(agentCommand) || agentCommand.length === 0 || agentCommand.some((a) => typeof a !== 'string' || a === '')) {
    problems.push('agentCommand: must be a non-empty list of non-empty strings (the program first)');
  }
  const durations: Array<[string, number]> = [
    ['readyTimeoutMs', o.readyTimeoutMs ?? 30_000],
    ['agentStopGraceMs', o.agentStopGraceMs ?? 15_000],
    ['dataNodeStopGraceMs', o.dataNodeStopGraceMs ?? 20_000],
  ];
  for (const [name, ms] of durations) {
    if (!Number.isInteger(ms) || ms < 1 || ms > 3_600_000) problems.push(`${name}: must be an integer 1 … 3600000 ms, got ${ms}`);
  }
  if (o.logger !== undefined && typeof o.logger.child !== 'function') problems.push('logger: must be a pino logger');
  if (problems.length > 0) throw new VmProviderOptionsError(problems);
  const clusterDir = path.resolve(o.clusterDir as string);
  return {
    clusterDir,
    vmsDir: path.join(clusterDir, 'vms'),
    secretFile: path.join(clusterDir, 'secret'),
    host,
    dataPortBase,
    agentPortBase,
    logger: (o.logger ?? pino({ level: 'silent' })).child({ component: 'vm-provider' }),
    agentCommand: [...agentCommand],
    clock: o.clock ?? systemClock,
    readyTimeoutMs: durations[0]![1],
    agentStopGraceMs: durations[1]![1],
    dataNodeStopGraceMs: durations[2]![1],
    agentClient: o.agentClient ?? {},
    canBind: o.canBind ?? canBindOnHost,
  };
}

/** Checks a VmSpec before anything is touched. */
function checkSpec(spec: VmSpec): void {
  const s = spec as Partial<VmSpec>;
  const count = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (typeof s.id !== 'string' || !DNS_LABEL.test(s.id)) {
    throw new InvalidVmSpecError('id', `${JSON.stringify(s.id)} is not a DNS-1123 label (lowercase letters, digits, "-"; at most 63)`);
  }
  if (typeof s.zone !== 'string' || !ZONE.test(s.zone)) {
    throw new InvalidVmSpecError('zone', `${JSON.stringify(s.zone)} is not a zone name (letters, digits, ".", "_", "-"; at most 63)`);
  }
  if (typeof s.vmType !== 'string' || !Object.hasOwn(VM_TYPES, s.vmType)) {
    throw new InvalidVmSpecError('vmType', `${JSON.stringify(s.vmType)} is not one of ${Object.keys(VM_TYPES).join(', ')}`);
  }
  if (!count(s.storageGiB) || s.storageGiB === 0) throw new InvalidVmSpecError('storageGiB', `must be a whole number ≥ 1, got ${String(s.storageGiB)}`);
  if (!count(s.nodeGroup)) throw new InvalidVmSpecError('nodeGroup', `must be a whole number ≥ 0, got ${String(s.nodeGroup)}`);
  if (typeof s.temporary !== 'boolean') throw new InvalidVmSpecError('temporary', 'must be true or false');
  if (!count(s.agentRunningSince)) {
    throw new InvalidVmSpecError('agentRunningSince', `must be a whole number ≥ 0, got ${String(s.agentRunningSince)}`);
  }
}

function checkSignal(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new VmOperationCancelledError(what);
}

function pathExists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export class LocalVmProvider implements VmProvider {
  readonly #o: ResolvedOptions;
  readonly #secret: string;
  readonly #epoch: EpochProvider;
  readonly #log: Logger;
  /** The inventory, as last written. */
  readonly #entries = new Map<string, InventoryEntry>();
  /** VMs whose agent this provider is starting right now (they list as running). */
  readonly #starting = new Set<string>();
  readonly #agents = new Map<string, VmAgent>();
  readonly #locks = new KeyedLock();
  #secretWritten: Promise<void> | undefined;

  /** Validates the options and reads the inventory (VmProviderOptionsError, VmStateFileError). */
  constructor(options: LocalVmProviderOptions) {
    this.#o = resolveOptions(options);
    this.#secret = options.secret;
    this.#epoch = options.epoch;
    this.#log = this.#o.logger;
    for (const entry of loadInventory(this.#o.vmsDir)) this.#entries.set(entry.id, entry);
  }

  /** The cluster directory this provider manages. */
  get clusterDir(): string {
    return this.#o.clusterDir;
  }

  /** Where a VM's files are (its directory, agent log and pid file, the agent's data dir). */
  paths(vmId: string): VmPaths {
    return vmPaths(this.#o.vmsDir, vmId);
  }

  // ───────────────────────────── VmProvider ─────────────────────────────

  async list(signal?: AbortSignal): Promise<VmRecord[]> {
    checkSignal(signal, 'Listing the VMs');
    const entries = [...this.#entries.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    return Promise.all(entries.map(async (e) => this.#record(e, await this.#stateOf(e))));
  }

  async create(spec: VmSpec, signal?: AbortSignal): Promise<VmRecord> {
    checkSpec(spec);
    checkSignal(signal, `Creating VM ${spec.id}`);
    return this.#locks.run(spec.id, async () => {
      let entry = this.#entries.get(spec.id);
      if (entry === undefined) {
        entry = await this.#addEntry(spec);
      } else {
        const differs = (['zone', 'vmType', 'storageGiB', 'nodeGroup', 'temporary'] as const).filter((k) => entry![k] !== spec[k]);
        if (differs.length > 0) {
          this.#log.warn(
            { vmId: spec.id, differs },
            `VM ${spec.id} exists with other ${differs.join(', ')} than asked; keeping it as it is (a VM is replaced by delete and create)`,
          );
        }
        if (entry.intent !== 'running') {
          await this.#update(entry.id, { intent: 'running' });
          entry = this.#entry(entry.id, 'create a VM');
        }
      }
      const starting = entry;
      await this.#whileStarting(spec.id, () => this.#ensureAgent(starting, signal));
      return this.#record(this.#entry(spec.id, 'create a VM'), 'running');
    });
  }

  /**
   * The port's restartAgent (its contract: operator/ports/vm-provider.ts), done locally
   * as a process restart: SIGTERM to the agent, which stops without stopping its data
   * nodes (they run detached), then a new agent process that adopts them. An agent that
   * already runs for this agentRunningSince and answers is left alone.
   */
  async restartAgent(vmId: string, agentRunningSince: number, signal?: AbortSignal): Promise<VmRecord> {
    if (!Number.isSafeInteger(agentRunningSince) || agentRunningSince < 0) {
      throw new InvalidVmSpecError('agentRunningSince', `must be a whole number ≥ 0, got ${agentRunningSince}`);
    }
    checkSignal(signal, `Restarting the agent of ${vmId}`);
    return this.#locks.run(vmId, async () => {
      const entry = this.#entry(vmId, `restart the agent of ${vmId}`);
      const paths = this.paths(vmId);
      const running = await findAgentPid(paths, entry.agentPort, false);
      if (entry.intent === 'running' && running !== undefined && entry.agentRunningSince === agentRunningSince) {
        // Already done (a repeated step): only a running agent that also answers is left alone.
        const health = await waitServing({
          endpoint: this.#endpoint(entry),
          timeoutMs: 2000,
          clock: this.#o.clock,
          signal,
          gone: async () => ((await isAgentOf(running, paths.dataDir)) ? undefined : 'it exited'),
          what: `the agent of ${vmId}`,
        });
        if (health.ok) return this.#record(entry, 'running');
        this.#log.warn({ vmId, pid: running, why: health.why }, `The agent of ${vmId} runs but ${health.why}: restarting it`);
      }
      if (entry.intent !== 'running') await this.#update(vmId, { intent: 'running' });
      const t0 = this.#o.clock.now();
      const { old, pid } = await this.#whileStarting(vmId, async () => {
        const old = await findAgentPid(paths, entry.agentPort, true);
        if (old !== undefined) {
          const { killed } = await stopProcess(old, { graceMs: this.#o.agentStopGraceMs, clock: this.#o.clock, what: `the agent of ${vmId}` });
          this.#log.info(
            { vmId, pid: old, killed },
            `Stopped the agent of ${vmId} (pid ${old})${killed ? ' with SIGKILL after the grace period' : ''}; its data node keeps running`,
          );
        }
        await removeAgentPid(paths.pidFile);
        return { old, pid: await this.#startAgent(this.#entry(vmId, `restart the agent of ${vmId}`), signal) };
      });
      await this.#update(vmId, { agentRunningSince });
      this.#log.info(
        { vmId, pid, oldPid: old ?? null, agentRunningSince, ms: this.#o.clock.now() - t0 },
        `Restarted the agent of ${vmId} for agentRunningSince ${agentRunningSince} in ${this.#o.clock.now() - t0} ms`,
      );
      return this.#record(this.#entry(vmId, `restart the agent of ${vmId}`), 'running');
    });
  }

  async delete(vmId: string, signal?: AbortSignal): Promise<void> {
    checkSignal(signal, `Deleting VM ${vmId}`);
    if (!DNS_LABEL.test(vmId)) throw new InvalidVmSpecError('vmId', `${JSON.stringify(vmId)} is not the id of a VM`);
    await this.#locks.run(vmId, async () => {
      const entry = this.#entries.get(vmId);
      const paths = this.paths(vmId);
      const dirExists = await stat(paths.vmDir).then(
        () => true,
        () => false,
      );
      if (entry === undefined && !dirExists) return;
      const stopped = await this.#stopVm(vmId, entry?.agentPort, true);
      await rm(paths.vmDir, { recursive: true, force: true });
      if (entry !== undefined) await this.#remove(vmId);
      this.#agents.get(vmId)?.close();
      this.#agents.delete(vmId);
      this.#log.info({ vmId, ...stopped }, `Deleted VM ${vmId}: its agent and data nodes are stopped and its directory removed`);
    });
  }

  agent(vmId: string): AgentPort {
    let agent = this.#agents.get(vmId);
    if (agent === undefined) {
      this.#entry(vmId, `reach the agent of ${vmId}`);
      agent = new VmAgent(
        () => {
          const e = this.#entries.get(vmId);
          return e === undefined ? 'deleted-vm:0' : this.#endpoint(e);
        },
        { ...this.#o.agentClient, secret: this.#secret, epoch: this.#epoch, logger: this.#o.agentClient.logger ?? this.#log },
      );
      this.#agents.set(vmId, agent);
    }
    return agent;
  }

  /**
   * Stops every agent of the cluster. With `dataNodes`, each agent first stops its data
   * nodes (or, when it cannot, the provider stops them from the agent's records). With
   * `purge`, data nodes are stopped too (their data is about to go), then every VM's
   * directory and the inventory are removed. Leaves no process of the cluster behind.
   */
  async shutdown(options: { dataNodes: boolean; purge: boolean }, signal?: AbortSignal): Promise<void> {
    checkSignal(signal, 'Shutting down the VMs');
    const stopNodes = options.dataNodes || options.purge;
    const ids = new Set(this.#entries.keys());
    if (options.purge) {
      // Directories without an inventory entry (a create or delete cut short) go too, and their processes with them.
      const names = await readdir(this.#o.vmsDir, { withFileTypes: true }).catch(() => []);
      for (const d of names) if (d.isDirectory() && DNS_LABEL.test(d.name)) ids.add(d.name);
    }
    const order = [...ids].sort();
    const results = await Promise.allSettled(
      order.map((vmId) =>
        this.#locks.run(vmId, async () => {
          const stopped = await this.#stopVm(vmId, this.#entries.get(vmId)?.agentPort, stopNodes);
          if (options.purge) await rm(this.paths(vmId).vmDir, { recursive: true, force: true });
          return { vmId, ...stopped };
        }),
      ),
    );
    const failed: Array<{ vmId: string; error: Error }> = [];
    results.forEach((r, i) => {
      if (r.status === 'rejected') failed.push({ vmId: order[i]!, error: r.reason as Error });
    });
    for (const f of failed) this.#log.error({ vmId: f.vmId, error: f.error.message }, `Could not shut down VM ${f.vmId}: ${f.error.message}`);
    await this.#locks.run(INVENTORY_LOCK, async () => {
      if (options.purge) {
        // A VM whose processes could not be stopped keeps its entry and directory: it is not forgotten while it may still run.
        for (const id of order) if (!failed.some((f) => f.vmId === id)) this.#entries.delete(id);
        if (this.#entries.size === 0) {
          await removeInventory(this.#o.vmsDir);
          await rm(this.#o.vmsDir, { recursive: true, force: true });
        } else {
          await saveInventory(this.#o.vmsDir, [...this.#entries.values()]);
        }
      } else {
        for (const [id, e] of this.#entries) this.#entries.set(id, { ...e, intent: 'stopped' });
        if (this.#entries.size > 0) await saveInventory(this.#o.vmsDir, [...this.#entries.values()]);
      }
    });
    if (options.purge) {
      for (const [id, a] of this.#agents) {
        if (this.#entries.has(id)) continue;
        a.close();
        this.#agents.delete(id);
      }
    }
    const done = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    this.#log.info(
      { vms: done, dataNodes: stopNodes, purge: options.purge },
      `Shut down ${done.length} VMs${stopNodes ? ' and their data nodes' : ' (data nodes keep running)'}${options.purge ? '; their directories and the inventory are removed' : ''}`,
    );
    if (failed.length > 0) {
      // Each error names its VM and process; all of them are in the log.
      throw failed[0]!.error;
    }
  }

  close(): Promise<void> {
    for (const a of this.#agents.values()) a.close();
    this.#agents.clear();
    return Promise.resolve();
  }

  // ───────────────────────────── internals ─────────────────────────────

  #entry(vmId: string, doing: string): InventoryEntry {
    const e = this.#entries.get(vmId);
    if (e === undefined) throw new VmNotFoundError(vmId, doing);
    return e;
  }

  #endpoint(e: Pick<InventoryEntry, 'host' | 'agentPort'>): string {
    return endpointOf(e.host, e.agentPort);
  }

  #record(e: InventoryEntry, state: VmRecord['state']): VmRecord {
    return {
      id: e.id,
      zone: e.zone,
      vmType: e.vmType,
      storageGiB: e.storageGiB,
      nodeGroup: e.nodeGroup,
      temporary: e.temporary,
      agentRunningSince: e.agentRunningSince,
      endpoint: this.#endpoint(e),
      dataHost: e.host,
      dataPort: e.dataPort,
      state,
    };
  }

  /**
   * A local VM is its directory; its agent is one process in it. A VM whose agent died
   * (crashed, was killed, never came up) is still there — its directory, its data node,
   * which runs detached — so it lists as 'running' with its agent down: observe() then
   * finds that agent not answering (agentUp false; 'creating' while the VM is new) and
   * the planner restarts the agent (restartAgent), which is the repair it needs. It was
   * listed 'failed', which made a VM created a second earlier whose agent died read as a
   * lost VM. 'failed' is left for what a lost machine is here: its directory is gone.
   */
  async #stateOf(e: InventoryEntry): Promise<VmRecord['state']> {
    if (e.intent === 'stopped') return 'stopped';
    if (this.#starting.has(e.id)) return 'running';
    return (await pathExists(this.paths(e.id).vmDir)) ? 'running' : 'failed';
  }

  /** Runs `fn` (under the VM's lock) while list() reports the VM running: its agent is being (re)started. */
  async #whileStarting<T>(vmId: string, fn: () => Promise<T>): Promise<T> {
    this.#starting.add(vmId);
    try {
      return await fn();
    } finally {
      this.#starting.delete(vmId);
    }
  }

  /** Allocates the ports of a new VM and persists its entry, before any process starts. */
  async #addEntry(spec: VmSpec): Promise<InventoryEntry> {
    return this.#locks.run(INVENTORY_LOCK, async () => {
      const { host, canBind } = this.#o;
      const reserved = reservedPorts([...this.#entries.values()]);
      const dataPort = await allocatePort({ base: this.#o.dataPortBase, host, reserved, withBus: true, purpose: 'data node', canBind });
      reserved.add(dataPort).add(dataPort + 10_000);
      const agentPort = await allocatePort({ base: this.#o.agentPortBase, host, reserved, withBus: false, purpose: 'agent', canBind });
      const entry: InventoryEntry = {
        id: spec.id,
        zone: spec.zone,
        vmType: spec.vmType,
        storageGiB: spec.storageGiB,
        nodeGroup: spec.nodeGroup,
        temporary: spec.temporary,
        agentRunningSince: spec.agentRunningSince,
        host,
        agentPort,
        dataPort,
        intent: 'running',
        createdAt: new Date(this.#o.clock.now()).toISOString(),
      };
      this.#entries.set(entry.id, entry);
      try {
        await saveInventory(this.#o.vmsDir, [...this.#entries.values()]);
      } catch (err) {
        this.#entries.delete(entry.id);
        throw err;
      }
      // The VM exists from here on (#stateOf): its directory with it.
      await mkdir(this.paths(entry.id).vmDir, { recursive: true, mode: 0o700 });
      this.#log.info(
        { vmId: entry.id, zone: entry.zone, vmType: entry.vmType, nodeGroup: entry.nodeGroup, dataPort, agentPort },
        `Recorded VM ${entry.id} (${entry.zone}, node group ${entry.nodeGroup}): data port ${dataPort}, agent port ${agentPort}`,
      );
      return entry;
    });
  }

  /** Changes fields of an entry and persists the inventory. */
  async #update(vmId: string, change: Partial<Omit<InventoryEntry, 'id'>>): Promise<void> {
    await this.#locks.run(INVENTORY_LOCK, async () => {
      const e = this.#entry(vmId, `update VM ${vmId}`);
      this.#entries.set(vmId, { ...e, ...change });
      try {
        await saveInventory(this.#o.vmsDir, [...this.#entries.values()]);
      } catch (err) {
        this.#entries.set(vmId, e);
        throw err;
      }
    });
  }

  async #remove(vmId: string): Promise<void> {
    await this.#locks.run(INVENTORY_LOCK, async () => {
      const e = this.#entries.get(vmId);
      if (e === undefined) return;
      this.#entries.delete(vmId);
      try {
        if (this.#entries.size > 0) await saveInventory(this.#o.vmsDir, [...this.#entries.values()]);
        else await removeInventory(this.#o.vmsDir);
      } catch (err) {
        this.#entries.set(vmId, e);
        throw err;
      }
    });
  }

  /** Writes <clusterDir>/secret once (0600); an existing file must hold the same secret. */
  #ensureSecret(): Promise<void> {
    this.#secretWritten ??= (async () => {
      const file = this.#o.secretFile;
      await mkdir(this.#o.clusterDir, { recursive: true, mode: 0o700 });
      // Written to a temporary file and linked into place: link() fails when the file
      // exists, so the secret is created exactly once and never seen half written.
      const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const h = await open(temp, 'wx', 0o600);
      try {
        await h.writeFile(`${this.#secret}\n`, 'utf8');
        await h.sync();
      } finally {
        await h.close();
      }
      try {
        await link(temp, file);
        await syncDirectory(this.#o.clusterDir);
        this.#log.info({ file }, `Wrote the cluster secret for the agents to ${file}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const existing = (await readFile(file, 'utf8')).trim();
        if (existing !== this.#secret) {
          throw new VmStateFileError(
            file,
            'holds another cluster secret than this leader uses, and the agents of this cluster check every call against that file. ' +
              'Start the leader with the secret in that file, or (only when no agent of this cluster runs) remove the file.',
          );
        }
        const mode = (await stat(file)).mode & 0o777;
        if ((mode & 0o077) !== 0) {
          await chmod(file, 0o600);
          this.#log.warn({ file, mode: mode.toString(8) }, `The cluster secret ${file} was readable by others (mode ${mode.toString(8)}); set it to 0600`);
        }
      } finally {
        await rm(temp, { force: true });
      }
    })().catch((err: unknown) => {
      this.#secretWritten = undefined; // try again next time
      throw err;
    });
    return this.#secretWritten;
  }

  /** Makes sure the VM's agent runs and serves: starts it when it does not run. */
  async #ensureAgent(entry: InventoryEntry, signal: AbortSignal | undefined): Promise<void> {
    const paths = this.paths(entry.id);
    const pid = await findAgentPid(paths, entry.agentPort, false);
    if (pid === undefined) {
      await this.#startAgent(entry, signal);
      return;
    }
    const r = await waitServing({
      endpoint: this.#endpoint(entry),
      timeoutMs: this.#o.readyTimeoutMs,
      clock: this.#o.clock,
      signal,
      gone: async () => ((await isAgentOf(pid, paths.dataDir)) ? undefined : 'exited'),
      what: `the agent of ${entry.id}`,
    });
    if (r.ok) return;
    if (await isAgentOf(pid, paths.dataDir)) {
      throw new AgentStartError(entry.id, `(pid ${pid}) runs but ${r.why}`, paths.logFile, await tailFile(paths.logFile));
    }
    await this.#startAgent(this.#entry(entry.id, `start the agent of ${entry.id}`), signal);
  }

  /**
   * Starts the VM's agent (no agent of it may run) and waits until it serves. Moves
   * the agent to a new port when another program took its port meanwhile. Returns
   * the agent's pid.
   */
  async #startAgent(initial: InventoryEntry, signal: AbortSignal | undefined): Promise<number> {
    await this.#ensureSecret();
    let entry = initial;
    const vmId = entry.id;
    const paths = this.paths(vmId);
    if (!(await this.#portFrees(entry.host, entry.agentPort))) {
      const holder = await findPortHolder(entry.agentPort);
      await this.#locks.run(INVENTORY_LOCK, async () => {
        const reserved = reservedPorts([...this.#entries.values()].filter((e) => e.id !== vmId));
        reserved.add(entry.dataPort).add(entry.dataPort + 10_000).add(entry.agentPort);
        const agentPort = await allocatePort({ base: this.#o.agentPortBase, host: entry.host, reserved, withBus: false, purpose: 'agent', canBind: this.#o.canBind });
        const moved = { ...entry, agentPort };
        this.#entries.set(vmId, moved);
        await saveInventory(this.#o.vmsDir, [...this.#entries.values()]);
        this.#log.warn(
          { vmId, oldPort: entry.agentPort, agentPort, holder: holder ?? null },
          `The agent port ${entry.agentPort} of ${vmId} is taken by ${holder === undefined ? 'another program' : `pid ${holder.pid} (${holder.command})`}: moving its agent to port ${agentPort}`,
        );
        entry = moved;
      });
    }
    const args = [
      ...this.#o.agentCommand,
      '--data-dir', paths.dataDir,
      '--secret-file', this.#o.secretFile,
      '--host', entry.host,
      '--port', String(entry.agentPort),
      '--agent-id', vmId,
      '--zone', entry.zone,
    ];
    const endpoint = this.#endpoint(entry);
    const t0 = this.#o.clock.now();
    let spawned;
    try {
      spawned = await spawnDetached(args, paths.vmDir, paths.logFile, paths.pidFile);
    } catch (err) {
      throw new AgentStartError(vmId, `could not be started (${errorText(err)})`, paths.logFile, await tailFile(paths.logFile));
    }
    const { pid } = spawned;
    this.#log.info({ vmId, pid, endpoint, zone: entry.zone }, `Started the agent of ${vmId} (pid ${pid}) on ${endpoint}; waiting until it serves`);
    const ready = await waitServing({
      endpoint,
      timeoutMs: this.#o.readyTimeoutMs,
      clock: this.#o.clock,
      signal,
      gone: async () => {
        let exit = spawned.exit();
        if (exit === undefined) {
          if (await isRunning(pid)) return undefined;
          // Gone, but its exit event may not have been delivered yet: wait a moment for its code (seen: "exited while starting" without it).
          exit = await Promise.race([spawned.exited, this.#o.clock.sleep(1000).then(() => undefined)]);
        }
        if (exit === undefined) return 'exited while starting';
        return exit.signal !== null ? `was killed by ${exit.signal} while starting` : `exited with code ${String(exit.code)} while starting`;
      },
      what: `the agent of ${vmId}`,
    });
    // (A cancelled wait throws and leaves the agent starting: the VM then lists as
    // running, its agent answering or not as it turns out, and restartAgent repairs the latter.)
    if (!ready.ok) {
      const stillRuns = await isRunning(pid);
      if (stillRuns) await killProcess(pid, this.#o.clock);
      await removeAgentPid(paths.pidFile);
      throw new AgentStartError(
        vmId,
        `(pid ${pid}, ${endpoint}) ${ready.why}${stillRuns ? '; it was killed' : ''}`,
        paths.logFile,
        await tailFile(paths.logFile),
      );
    }
    this.#log.info({ vmId, pid, endpoint, readyAfterMs: this.#o.clock.now() - t0 }, `The agent of ${vmId} serves on ${endpoint} (${this.#o.clock.now() - t0} ms after start)`);
    return pid;
  }

  /**
   * True when the port can be bound, now or within a second: a socket of a process that
   * just exited can take a moment to be released.
   */
  async #portFrees(host: string, port: number): Promise<boolean> {
    for (let i = 0; i < 20; i++) {
      if (await this.#o.canBind(host, port)) return true;
      await this.#o.clock.sleep(50);
    }
    return false;
  }

  /**
   * Stops a VM's processes: with `dataNodes`, its data nodes first (through the agent,
   * or from the agent's records when it cannot be asked), then its agent.
   */
  async #stopVm(vmId: string, agentPort: number | undefined, dataNodes: boolean): Promise<{ agentPid: number | null; dataNodePids: number[] }> {
    const paths = this.paths(vmId);
    const clock = this.#o.clock;
    const agentPid = await findAgentPid(paths, agentPort ?? 0, agentPort !== undefined);
    const dataNodePids: number[] = [];
    if (dataNodes && agentPid !== undefined && agentPort !== undefined) {
      const client = new AgentClient({
        endpoint: endpointOf(this.#entries.get(vmId)?.host ?? this.#o.host, agentPort),
        secret: this.#secret,
        epoch: this.#epoch,
        maxAttempts: 2,
        retryDelaysMs: [200],
        logger: this.#log,
      });
      try {
        const state = (await client.getState({}, { deadlineMs: 5000 })).state;
        for (const node of state?.dataNodes ?? []) {
          if (!node.up) continue;
          await client.stopDataNode(
            { job: { jobId: PROVIDER_JOB_ID, stepId: `stop ${node.id} of ${vmId}` }, nodeId: node.id },
            { deadlineMs: this.#o.dataNodeStopGraceMs + 10_000 },
          );
          dataNodePids.push(node.pid);
        }
      } catch (err) {
        this.#log.warn({ vmId, error: errorText(err) }, `The agent of ${vmId} could not stop its data nodes (${errorText(err)}); stopping them directly`);
      } finally {
        client.close();
      }
    }
    if (agentPid !== undefined) {
      const { killed } = await stopProcess(agentPid, { graceMs: this.#o.agentStopGraceMs, clock, what: `the agent of ${vmId}` });
      if (killed) this.#log.warn({ vmId, pid: agentPid }, `Killed the agent of ${vmId} (pid ${agentPid}) with SIGKILL: it did not stop within ${this.#o.agentStopGraceMs} ms`);
    }
    await removeAgentPid(paths.pidFile);
    if (dataNodes) {
      dataNodePids.push(...(await stopRecordedNodes(paths.dataDir, { graceMs: this.#o.dataNodeStopGraceMs, clock, vmId })));
    }
    return { agentPid: agentPid ?? null, dataNodePids };
  }
}

