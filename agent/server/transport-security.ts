// How the agent's gRPC port is secured: the one place that creates server credentials.
// Today that is plaintext HTTP/2 plus the bearer cluster secret checked on every call
// (credential.ts), which is why the agent listens on loopback unless told otherwise.
// mTLS slots in here later (grpc.ServerCredentials.createSsl with the cluster CA and
// checkClientCertificate), without touching the service.
import * as grpc from '@grpc/grpc-js';

/** Transport security options; empty until mTLS arrives. */
export type TransportSecurity = Record<string, never>;

/** The server credentials for the agent's port. */
export function createServerCredentials(_security: TransportSecurity = {}): grpc.ServerCredentials {
  return grpc.ServerCredentials.createInsecure();
}

/** Whether the credentials encrypt the connection (false means the secret travels in clear text). */
export function isEncrypted(_security: TransportSecurity = {}): boolean {
  return false;
}
