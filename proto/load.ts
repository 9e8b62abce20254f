// Loads the agent contract at run time with @grpc/proto-loader and returns it typed by
// the code `make proto` generated into proto/generated/ from the same .proto file.
//
// The options below decide how messages look in TypeScript, and must match the flags
// given to proto-loader-gen-types (see the `proto` target of the Makefile):
// - keepCase false: fields in lowerCamelCase (`nodeId`), as the proto3 JSON mapping.
// - longs String: 64-bit integers (byte counts, sequence numbers) arrive as decimal
//   strings. Lossless above 2^53, and the same as the proto3 JSON mapping, so the
//   document that WatchState's JSON patches apply to is what any language's protojson
//   produces; a caller that needs arithmetic converts with Number() or BigInt().
// - enums String: enum values by name (`NODE_ROLE_PRIMARY`), readable in logs and patches.
// - defaults true: absent fields read as their default ('' , 0, false, [], {}, null for
//   messages), so handlers never test for undefined and a decoded message is canonical.
// - oneofs true: a oneof also has a field naming the member that is set
//   (`selection: 'slotCount'`).
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/agent.ts';
import type { AgentDefinition } from './generated/coxswain/agent/v1/Agent.ts';

/** The directory that holds the .proto files (the import root). */
export const PROTO_ROOT = path.dirname(fileURLToPath(import.meta.url));

/** The agent contract, relative to PROTO_ROOT. */
export const AGENT_PROTO_FILE = 'coxswain/agent/v1/agent.proto';

/** The loader options; proto-loader-gen-types must be run with the same ones. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export interface AgentProto {
  /** The raw package definition (method codecs included). */
  readonly packageDefinition: protoLoader.PackageDefinition;
  /** The typed package: `proto.coxswain.agent.v1.Agent` and its messages. */
  readonly proto: ProtoGrpcType;
  /** The Agent service definition, for `server.addService` and for making calls. */
  readonly agentService: AgentDefinition;
}

let cached: AgentProto | undefined;

/** Loads (once per process) and returns the typed agent contract. */
export function loadAgentProto(): AgentProto {
  if (cached !== undefined) return cached;
  const packageDefinition = protoLoader.loadSync(AGENT_PROTO_FILE, LOADER_OPTIONS);
  // loadPackageDefinition returns an untyped GrpcObject; the generated ProtoGrpcType
  // describes exactly the package loaded from this file with these options.
  const proto = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;
  cached = { packageDefinition, proto, agentService: proto.coxswain.agent.v1.Agent.service };
  return cached;
}
