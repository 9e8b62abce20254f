// The AgentPort the provider hands out for one VM: an AgentClient for the VM's current
// agent endpoint, made on first use and kept. A VM keeps its endpoint for life, except
// when its agent port was taken by some other program while the agent was down and the
// provider had to move the agent to a new port on restart; then the next call goes to
// the new endpoint, so a caller that kept this object is not left talking to a port
// that is no longer the agent's.
import { AgentClient } from '../agent-client/agent-client.ts';
import type { AgentClientOptions } from '../agent-client/agent-client.ts';
import type { AgentCallOptions, AgentPort } from '../ports/agent-port.ts';
import type { DecodedResponseOf, RequestOf, UnaryMethod } from '../../proto/methods.ts';

export class VmAgent implements AgentPort {
  readonly #endpointOf: () => string;
  readonly #options: Omit<AgentClientOptions, 'endpoint'>;
  #client: AgentClient | undefined;

  /** `endpointOf` returns the VM's current agent endpoint. */
  constructor(endpointOf: () => string, options: Omit<AgentClientOptions, 'endpoint'>) {
    this.#endpointOf = endpointOf;
    this.#options = options;
  }

  get endpoint(): string {
    return this.#endpointOf();
  }

  #current(): AgentClient {
    const endpoint = this.#endpointOf();
    if (this.#client?.endpoint !== endpoint) {
      this.#client?.close();
      this.#client = new AgentClient({ ...this.#options, endpoint });
    }
    return this.#client;
  }

  #call<M extends UnaryMethod>(call: (c: AgentClient) => Promise<DecodedResponseOf<M>>): Promise<DecodedResponseOf<M>> {
    return call(this.#current());
  }

  getState = (r: RequestOf<'GetState'> = {}, o?: AgentCallOptions) => this.#call<'GetState'>((c) => c.getState(r, o));
  ensureVersion = (r: RequestOf<'EnsureVersion'>, o?: AgentCallOptions) => this.#call<'EnsureVersion'>((c) => c.ensureVersion(r, o));
  startDataNode = (r: RequestOf<'StartDataNode'>, o?: AgentCallOptions) => this.#call<'StartDataNode'>((c) => c.startDataNode(r, o));
  stopDataNode = (r: RequestOf<'StopDataNode'>, o?: AgentCallOptions) => this.#call<'StopDataNode'>((c) => c.stopDataNode(r, o));
  joinNode = (r: RequestOf<'JoinNode'>, o?: AgentCallOptions) => this.#call<'JoinNode'>((c) => c.joinNode(r, o));
  removeNode = (r: RequestOf<'RemoveNode'>, o?: AgentCallOptions) => this.#call<'RemoveNode'>((c) => c.removeNode(r, o));
  forgetNode = (r: RequestOf<'ForgetNode'>, o?: AgentCallOptions) => this.#call<'ForgetNode'>((c) => c.forgetNode(r, o));
  failover = (r: RequestOf<'Failover'>, o?: AgentCallOptions) => this.#call<'Failover'>((c) => c.failover(r, o));
  moveData = (r: RequestOf<'MoveData'>, o?: AgentCallOptions) => this.#call<'MoveData'>((c) => c.moveData(r, o));
  createBackup = (r: RequestOf<'CreateBackup'>, o?: AgentCallOptions) => this.#call<'CreateBackup'>((c) => c.createBackup(r, o));
  restoreBackup = (r: RequestOf<'RestoreBackup'>, o?: AgentCallOptions) => this.#call<'RestoreBackup'>((c) => c.restoreBackup(r, o));
  deleteBackup = (r: RequestOf<'DeleteBackup'>, o?: AgentCallOptions) => this.#call<'DeleteBackup'>((c) => c.deleteBackup(r, o));
  listBackups = (r: RequestOf<'ListBackups'> = {}, o?: AgentCallOptions) => this.#call<'ListBackups'>((c) => c.listBackups(r, o));
  configureDataNode = (r: RequestOf<'ConfigureDataNode'>, o?: AgentCallOptions) =>
    this.#call<'ConfigureDataNode'>((c) => c.configureDataNode(r, o));

  /** Closes the channel; a later call opens a new one. */
  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }
}
