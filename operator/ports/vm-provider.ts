// Where VMs come from. Locally a "VM" is an agent process on this machine with its own
// directory, ports and zone label (operator/vm/local-provider.ts); in Kubernetes it will
// be a pod; in the generative tests it is the simulated world. The leader talks to a
// VM's agent through an AgentPort it gets from here.
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
  agentRunningSince: number;
  /** host:port of its agent's gRPC service. */
  endpoint: string;
  /** Host and port reserved for its data node. */
  dataHost: string;
  dataPort: number;
  /** 'running': its agent should be up; 'stopped': stopped on purpose (`down`); 'failed': the provider found it gone. */
  state: 'running' | 'stopped' | 'failed';
}

export interface VmProvider {
  /** Every VM of the cluster, sorted by id. Re-checks liveness (e.g. the agent's pid) each call. */
  list(signal?: AbortSignal): Promise<VmRecord[]>;
  /** Creates the VM and starts its agent; idempotent by id (an existing VM with this id is returned as it is). Resolves once the record is persisted and the agent process started. */
  create(spec: VmSpec, signal?: AbortSignal): Promise<VmRecord>;
  /** Stops the VM's agent and data node processes and deletes its directory; idempotent (a missing id is fine). */
  delete(vmId: string, signal?: AbortSignal): Promise<void>;
  /** Restarts the VM's agent (not its data node) for `agentRunningSince`; also starts an agent that died. Idempotent. */
  restartAgent(vmId: string, agentRunningSince: number, signal?: AbortSignal): Promise<VmRecord>;
  /** The client of a VM's agent (cached per VM; the provider closes them in close()). */
  agent(vmId: string): AgentPort;
  /** Stops every agent of the cluster (data nodes too when `dataNodes`), keeping the inventory; `purge` also deletes every VM's data and the inventory. */
  shutdown(options: { dataNodes: boolean; purge: boolean }, signal?: AbortSignal): Promise<void>;
  /** Releases clients and watchers; leaves every process running. */
  close(): Promise<void>;
}
