// The leader's view of one agent: the RPCs the executor and the observer call. The real
// implementation is operator/agent-client/AgentClient (gRPC over loopback); the
// simulated world of the generative tests implements the same interface in memory.
// Requests and responses are the decoded proto messages of proto/methods.ts, so both
// implementations speak exactly the wire contract.
import type { AgentCallOptions } from '../agent-client/agent-client.ts';
import type { DecodedResponseOf, RequestOf, UnaryMethod } from '../../proto/methods.ts';

type Call<M extends UnaryMethod> = (request: RequestOf<M>, options?: AgentCallOptions) => Promise<DecodedResponseOf<M>>;

export interface AgentPort {
  /** host:port of the agent. */
  readonly endpoint: string;
  getState: Call<'GetState'>;
  ensureVersion: Call<'EnsureVersion'>;
  startDataNode: Call<'StartDataNode'>;
  stopDataNode: Call<'StopDataNode'>;
  joinNode: Call<'JoinNode'>;
  removeNode: Call<'RemoveNode'>;
  forgetNode: Call<'ForgetNode'>;
  failover: Call<'Failover'>;
  moveData: Call<'MoveData'>;
  createBackup: Call<'CreateBackup'>;
  restoreBackup: Call<'RestoreBackup'>;
  deleteBackup: Call<'DeleteBackup'>;
  listBackups: Call<'ListBackups'>;
  configureDataNode: Call<'ConfigureDataNode'>;
  /** Releases the connection. */
  close(): void;
}

export type { AgentCallOptions };
