// Where VMs come from. Locally a "VM" is an agent process on this machine with its own
// directory, ports and zone label (operator/vm/local-provider.ts); in Kubernetes it will
// be a pod; in the generative tests it is the simulated world. The leader talks to a
// VM's agent through an AgentPort it gets from here.
//
// The doc comments below are the contract every provider keeps; the reconciler relies
// on nothing else. operator/ports/vm-provider.contract.ts checks it, and each provider's
// tests run it. What a "VM", an "agent" or a "restart" is physically is the provider's
// own business (a process, a pod, a container in a pod, a simulated object).
import type { Logger } from 'pino';
import type { VmType } from '../../desired-state/types.ts';
import type { VmSpec } from '../model/step.ts';
import type { AgentPort } from './agent-port.ts';

/** The provider's record of one VM (persisted by the provider: it survives a leader restart). */
export interface VmRecord {
  id: string;
  zone: string;
  vmType: VmType;
  storageGiB: number;
  nodeGroup: number;
  temporary: boolean;
  /** The agentRunningSince its agent was (re)started for: the spec's at create, then the highest restartAgent asked for. */
  agentRunningSince: number;
  /** host:port of its agent's gRPC service. */
  endpoint: string;
  /** Host and port reserved for its data node. */
  dataHost: string;
  dataPort: number;
  /**
   * 'running': the VM exists and its agent should be up — whether it answers is not the
   * provider's to say (observe() asks it): a VM whose agent died (crashed, killed, never
   * came up) is still 'running', with its agent down, and restartAgent is its repair;
   * 'stopped': stopped on purpose (`down`, shutdown()); 'failed': the VM itself is lost
   * (its machine, directory or pod is gone), not just its agent.
   */
  state: 'running' | 'stopped' | 'failed';
}

export interface VmProvider {
  /**
   * Every VM of the cluster (created and not deleted), sorted by id. Re-checks liveness
   * each call (e.g. the agent's pid). A VM is listed from the moment create() has
   * recorded it, even before its agent answers.
   */
  list(signal?: AbortSignal): Promise<VmRecord[]>;
  /**
   * Creates the VM and starts its agent. Idempotent by id: for an id that exists, the
   * VM is returned as it is (same endpoint and data port; no second VM; an answering
   * agent is not restarted, one that does not run may be started). Resolves once the record is persisted and the agent started; the VM is
   * then listed 'running' with the returned endpoint, and its agent answers once up (a
   * provider may resolve before that: observe() treats a new VM whose agent does not
   * answer yet as 'creating'). The record carries the spec's zone, vmType, storageGiB,
   * nodeGroup, temporary and agentRunningSince.
   */
  create(spec: VmSpec, signal?: AbortSignal): Promise<VmRecord>;
  /**
   * Deletes the VM: its agent, its data node and its data. Idempotent: deleting an id
   * that does not exist (never created, or deleted already) resolves without error.
   * Afterwards the VM is not listed.
   */
  delete(vmId: string, signal?: AbortSignal): Promise<void>;
  /**
   * Gives the VM an agent running for `agentRunningSince`: the repair of an agent that
   * does not answer (crashed, killed, never came up, stopped by shutdown()) and the way a
   * desired state's `agentRunningSince` is applied. How is the provider's choice (a new
   * process, a container restart, …); what must hold once it resolves is:
   * - the VM is listed 'running' and its agent answers;
   * - the record (returned and listed) reports agentRunningSince ≥ the one asked for;
   * - the VM's data node is NOT restarted: one that runs keeps running, the same
   *   process, serving throughout (the agent adopts it); one that was down stays down
   *   (starting it is a separate step);
   * - the VM keeps its data port, its data and its installed versions.
   * Idempotent: asking again for the same agentRunningSince leaves an answering agent
   * alone or restarts it — either is fine. Rejects for an unknown VM.
   */
  restartAgent(vmId: string, agentRunningSince: number, signal?: AbortSignal): Promise<VmRecord>;
  /**
   * The client of a VM's agent. Cheap and synchronous: for an unknown VM or a dead agent
   * it still returns a client, whose calls then fail (UNAVAILABLE or NOT_FOUND) rather
   * than hang. The provider closes these clients in close().
   */
  agent(vmId: string): AgentPort;
  /**
   * Stops every agent of the cluster (data nodes too when `dataNodes`), keeping the
   * inventory: the VMs are still listed, 'stopped', and restartAgent brings each back.
   * `purge` also deletes every VM's data and the inventory: nothing is listed after.
   */
  shutdown(options: { dataNodes: boolean; purge: boolean }, signal?: AbortSignal): Promise<void>;
  /** Releases clients and watchers; leaves every agent and data node running. */
  close(): Promise<void>;
}

/** What a provider of one cluster is made from (the leader, or `coxswain down` without one). */
export interface VmProviderContext {
  /** The cluster's state directory (a provider may keep its inventory there). */
  stateDir: string;
  /** The leader's fencing epoch, to send on every agent call. */
  epoch: number;
  /** The cluster secret the agents check; never log it. */
  secret: string;
  logger: Logger;
}

/** Makes the VM provider of one cluster; its options were bound when the factory was made. */
export type VmProviderFactory = (context: VmProviderContext) => Promise<VmProvider>;

/** One kind of provider ("local", later "pod"), chosen by name (operator/vm/providers.ts). */
export interface VmProviderKind {
  name: string;
  /**
   * Reads and checks the provider's own options from the environment, and returns the
   * factory of providers with them. Throws VmProviderSettingsError for a wrong value, so
   * a command can refuse it before it starts anything.
   */
  fromEnvironment(env: NodeJS.ProcessEnv): VmProviderFactory;
}

/** A provider option from the environment is wrong: names the variable and what it must be. */
export class VmProviderSettingsError extends Error {
  override name = 'VmProviderSettingsError';
}
