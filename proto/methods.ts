// The RPCs of the Agent service and what each one is: read-only or mutating, unary or
// a server stream. The server uses it to decide which calls need an idempotency key;
// the client uses it to send one.
import type { AgentDefinition } from './generated/coxswain/agent/v1/Agent.ts';

/** The fully qualified service name, as the health service and the call paths know it. */
export const AGENT_SERVICE_NAME = 'coxswain.agent.v1.Agent';

export interface MethodInfo {
  /** True when the call changes something: it needs an idempotency key and is recorded. */
  readonly mutating: boolean;
  /** True for a server stream (WatchState). */
  readonly streaming: boolean;
}

const READ = { mutating: false, streaming: false } as const satisfies MethodInfo;
const MUTATE = { mutating: true, streaming: false } as const satisfies MethodInfo;

/** Every RPC of the Agent service. A new RPC in the .proto fails type checking until it is listed here. */
export const AGENT_METHODS = {
  GetState: READ,
  WatchState: { mutating: false, streaming: true },
  EnsureVersion: MUTATE,
  StartDataNode: MUTATE,
  StopDataNode: MUTATE,
  JoinNode: MUTATE,
  RemoveNode: MUTATE,
  ForgetNode: MUTATE,
  Failover: MUTATE,
  MoveData: MUTATE,
  CreateBackup: MUTATE,
  RestoreBackup: MUTATE,
  DeleteBackup: MUTATE,
  ListBackups: READ,
  ConfigureDataNode: MUTATE,
} as const satisfies Record<keyof AgentDefinition, MethodInfo>;

/** The name of an Agent RPC, e.g. "StartDataNode". */
export type AgentMethod = keyof typeof AGENT_METHODS;

/** The unary RPCs (all but WatchState). */
export type UnaryMethod = Exclude<AgentMethod, 'WatchState'>;

/** The RPCs that change something on the agent. */
export type MutatingMethod = {
  [M in AgentMethod]: (typeof AGENT_METHODS)[M]['mutating'] extends true ? M : never;
}[AgentMethod];

/** Whether a method name is a mutating RPC. */
export function isMutating(method: AgentMethod): method is MutatingMethod {
  return AGENT_METHODS[method].mutating;
}

/** The gRPC path of a method, e.g. "/coxswain.agent.v1.Agent/StartDataNode". */
export function methodPath(method: AgentMethod): string {
  return `/${AGENT_SERVICE_NAME}/${method}`;
}

/** A request as a caller writes it (every field optional). */
export type RequestOf<M extends AgentMethod> = Parameters<AgentDefinition[M]['requestSerialize']>[0];
/** A request as the agent receives it (decoded, defaults filled in). */
export type DecodedRequestOf<M extends AgentMethod> = ReturnType<AgentDefinition[M]['requestDeserialize']>;
/** A response as the agent writes it (every field optional). */
export type ResponseOf<M extends AgentMethod> = Parameters<AgentDefinition[M]['responseSerialize']>[0];
/** A response as the caller receives it (decoded, defaults filled in). */
export type DecodedResponseOf<M extends AgentMethod> = ReturnType<AgentDefinition[M]['responseDeserialize']>;
