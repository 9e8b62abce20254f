// coxswain agent — the follower daemon: one per VM. Serves the Agent gRPC service over
// the backend of its engine (agent/engines/registry.ts; Redis Cluster by default) in the
// foreground, pino log lines to standard output. SIGTERM or
// SIGINT stops it gracefully WITHOUT stopping the data nodes: the next `coxswain agent`
// on the same data dir adopts them (a rolling agent restart costs the cluster nothing).
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { AgentOptionsError, resolveAgentOptions, startAgent, type RunningAgent } from '../../agent/daemon.ts';
import { AGENT_BACKEND_METHODS, type AgentBackend } from '../../agent/backend.ts';
import { createAgentLogger } from '../../agent/server/logger.ts';
import { agentBackendFactory, agentEngineNames, DEFAULT_AGENT_ENGINE, isAgentEngine, UnknownEngineError, type OpenedAgentBackend } from '../../agent/engines/registry.ts';
import type { EngineName } from '../../desired-state/types.ts';
import { EXIT_OK, type Command } from './command.ts';
import type { Output } from './output.ts';
import { parseCommandLine, UsageError } from './usage.ts';

const NAME = 'agent';

/** The command-line flag of each agent option, for messages. */
const FLAGS: Readonly<Record<string, string>> = {
  host: '--host',
  port: '--port',
  dataDir: '--data-dir',
  secretFile: '--secret-file',
  agentId: '--agent-id',
  zone: '--zone',
};

export interface AgentCommandOptions {
  /** The engine whose backend serves the calls (the desired state's "engine"). */
  engine: EngineName;
  dataDir: string;
  secretFile: string;
  host: string;
  port: number;
  agentId: string;
  zone: string;
}

/** A DNS-1123 label made from this machine's host name: the default agent id. */
export function defaultAgentId(hostname = os.hostname()): string {
  const label = hostname
    .split('.')[0]!
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
  return label === '' ? 'agent' : label;
}

/** Parses and checks the arguments; every problem becomes a one-line UsageError. */
export function parseAgentArgs(args: string[]): AgentCommandOptions {
  const { values } = parseCommandLine(
    NAME,
    args,
    {
      'data-dir': { type: 'string' },
      'secret-file': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'agent-id': { type: 'string' },
      zone: { type: 'string' },
      engine: { type: 'string' },
    },
    { min: 0, max: 0, names: '' },
  );
  const dataDir = values['data-dir'];
  const secretFile = values['secret-file'];
  if (typeof dataDir !== 'string' || dataDir === '') throw new UsageError('missing --data-dir DIR', NAME);
  if (typeof secretFile !== 'string' || secretFile === '') throw new UsageError('missing --secret-file FILE', NAME);
  const portText = typeof values['port'] === 'string' ? values['port'] : '0';
  if (!/^[0-9]+$/.test(portText) || Number(portText) > 65535) {
    throw new UsageError(`--port must be a whole number 0 … 65535 (0 = any free port), got "${portText}"`, NAME);
  }
  const engine = typeof values['engine'] === 'string' ? values['engine'] : DEFAULT_AGENT_ENGINE;
  if (!isAgentEngine(engine)) throw new UsageError(`--engine: ${new UnknownEngineError(engine, agentEngineNames()).message}`, NAME);
  const options: AgentCommandOptions = {
    engine,
    dataDir: path.resolve(dataDir),
    secretFile: path.resolve(secretFile),
    host: typeof values['host'] === 'string' ? values['host'] : '127.0.0.1',
    port: Number(portText),
    agentId: typeof values['agent-id'] === 'string' ? values['agent-id'] : defaultAgentId(),
    zone: typeof values['zone'] === 'string' ? values['zone'] : 'default',
  };
  // The daemon's own checks, before anything is started; a backend stand-in passes them.
  const stub = Object.fromEntries(AGENT_BACKEND_METHODS.map((m) => [m, () => Promise.reject(new Error('not started'))])) as unknown as AgentBackend;
  try {
    const { engine: _engine, ...agentOptions } = options;
    resolveAgentOptions({ ...agentOptions, backend: stub, logger: pino({ level: 'silent' }) });
  } catch (err) {
    if (err instanceof AgentOptionsError) {
      const text = err.problems.map((p) => p.replace(/^(\w+):/, (_m, field: string) => `${FLAGS[field] ?? field}:`)).join('; ');
      throw new UsageError(text, NAME);
    }
    throw err;
  }
  return options;
}

export interface RunningAgentProcess {
  agent: RunningAgent;
  backend: OpenedAgentBackend;
  /** Stops serving and stops watching the data nodes, which keep running. */
  stop(): Promise<void>;
}

/**
 * Starts the agent over the backend of `options.engine` (used by the command; tests may
 * call it in-process). Throws UnknownEngineError for an engine no backend runs.
 */
export async function runAgentDaemon(options: AgentCommandOptions, logger = createAgentLogger({ destination: pino.destination(1) })): Promise<RunningAgentProcess> {
  const { engine, ...agentOptions } = options;
  const open = agentBackendFactory(engine);
  const backend = await open({ dir: options.dataDir, logger: logger.child({ agentId: options.agentId }) });
  let agent: RunningAgent;
  try {
    agent = await startAgent({ ...agentOptions, backend, logger });
  } catch (err) {
    await backend.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    agent,
    backend,
    stop: () =>
      (stopping ??= (async () => {
        await agent.stop();
        await backend.close();
      })()),
  };
}

export const agentCommand: Command = {
  name: NAME,
  summary: 'run the agent (follower daemon) of this VM in the foreground',
  usage: 'coxswain agent --data-dir DIR --secret-file FILE [--host 127.0.0.1] [--port N] [--agent-id ID] [--zone Z] [--engine redis]',
  help: `Serves the agent's gRPC service for the leader: starts, stops and adopts this
VM's data nodes (Redis 7.0 / Valkey 8.0) and runs the cluster steps it is asked for.
Runs in the foreground and writes JSON log lines to standard output; prints
"agent ID listening on HOST:PORT" once it serves. SIGTERM or SIGINT stops the agent
gracefully and leaves the data nodes running: the next agent on the same data
directory adopts them.

Options:
  --data-dir DIR      the agent's directory: leader epoch, idempotency records, data nodes
  --secret-file FILE  file holding the cluster secret (mode 0600)
  --host HOST         address to listen on (default 127.0.0.1)
  --port N            port to listen on; 0 = any free port (default 0)
  --agent-id ID       the agent's id, a DNS-1123 label (default: from the host name)
  --zone Z            availability zone of this VM (default "default")
  --engine E          the engine this VM runs, as the desired state's "engine" names it
                      (default "redis": Redis Cluster)

Exit status: 0 stopped by a signal, 1 failed, 2 usage.`,
  async run(args: string[], io: Output) {
    const options = parseAgentArgs(args);
    const running = await runAgentDaemon(options);
    io.out(`agent ${options.agentId} listening on ${running.agent.endpoint}`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const onSignal = (sig: NodeJS.Signals): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve(sig);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    io.err(`agent ${options.agentId}: ${signal} received, stopping (data nodes keep running)`);
    await running.stop();
    return EXIT_OK;
  },
};
