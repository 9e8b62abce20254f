// How the leader's connections to agents are secured: the one place that creates
// channel credentials. Plaintext for now, with the cluster secret as bearer metadata
// on every call; mTLS (grpc.credentials.createSsl with the cluster CA, a client
// certificate and key) slots in here later.
import * as grpc from '@grpc/grpc-js';

/** Transport security options; empty until mTLS arrives. */
export type ClientTransportSecurity = Record<string, never>;

export function createChannelCredentials(_security: ClientTransportSecurity = {}): grpc.ChannelCredentials {
  return grpc.credentials.createInsecure();
}
