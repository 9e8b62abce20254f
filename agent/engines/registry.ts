// The agent's backends by engine: for each engine a desired state can name (its "engine"
// field, desired-state/desired-state.schema.json), how to open the backend that runs it
// on a VM. The agent command (operator/cli/agent-command.ts) picks one by name. Keyed by
// EngineName, so an engine added to the desired state without a backend here fails tsc.
import type { Logger } from 'pino';
import type { EngineName } from '../../desired-state/types.ts';
import type { AgentBackend } from '../backend.ts';
import { RedisBackend } from './redis/redis-backend.ts';

/** A backend the agent opened, and how to let go of it (its data nodes keep running). */
export interface OpenedAgentBackend extends AgentBackend {
  close(): Promise<void>;
}

export interface AgentBackendOpenOptions {
  /** The backend's directory (absolute): the agent's data dir. */
  dir: string;
  logger: Logger;
}

export type AgentBackendFactory = (options: AgentBackendOpenOptions) => Promise<OpenedAgentBackend>;

const AGENT_BACKENDS: Readonly<Record<EngineName, AgentBackendFactory>> = {
  // Redis Cluster: Redis 7.0 and Valkey 8.0 processes.
  redis: (options) => RedisBackend.open(options),
};

/** The engine the agent runs when none is named: the only one today. */
export const DEFAULT_AGENT_ENGINE: EngineName = 'redis';

/** The engines an agent can run, sorted. */
export function agentEngineNames(): EngineName[] {
  return (Object.keys(AGENT_BACKENDS) as EngineName[]).sort();
}

/** No agent backend runs this engine. */
export class UnknownEngineError extends Error {
  override name = 'UnknownEngineError';
  readonly engine: string;
  readonly known: readonly string[];
  constructor(engine: string, known: readonly string[]) {
    super(`unknown engine ${JSON.stringify(engine)}; the agent runs ${known.map((e) => JSON.stringify(e)).join(', ')}`);
    this.engine = engine;
    this.known = known;
  }
}

/** Whether `name` is an engine the agent can run. */
export function isAgentEngine(name: string): name is EngineName {
  return Object.hasOwn(AGENT_BACKENDS, name);
}

/** How to open the backend of `engine`; throws UnknownEngineError naming the known ones. */
export function agentBackendFactory(engine: string): AgentBackendFactory {
  if (!isAgentEngine(engine)) throw new UnknownEngineError(engine, agentEngineNames());
  return AGENT_BACKENDS[engine];
}
