// The agent daemon: one per VM. It serves the Agent gRPC service (every call behind
// the gates of agent/server/service.ts) and the standard gRPC health service (no
// credential needed), and stops gracefully. While it runs, the process guard
// (agent/process-guard.ts) keeps an error that nobody handled from ending it silently.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { AGENT_BACKEND_METHODS, type AgentBackend } from './backend.ts';
import { loadAgentProto } from '../proto/load.ts';
import { AGENT_SERVICE_NAME } from '../proto/methods.ts';
import { installProcessGuard } from './process-guard.ts';
import { ClusterCredential } from './server/credential.ts';
import { MAX_TIMER_MS } from './server/deadline.ts';
import { EpochFence } from './server/epoch-fence.ts';
import { DEFAULT_IDEMPOTENCY_RETENTION_MS, IdempotencyStore } from './server/idempotency.ts';
import { AGENT_LOG_REDACT, createAgentLogger } from './server/logger.ts';
import { AgentService } from './server/service.ts';
import { createServerCredentials, isEncrypted } from './server/transport-security.ts';
import type { TransportSecurity } from './server/transport-security.ts';

export interface AgentOptions {
  /**
   * Address to listen on. Loopback unless told otherwise: until mTLS arrives the
   * cluster secret travels in clear text.
   * @default "127.0.0.1"
   */
  host?: string;
  /** Port to listen on; 0 picks a free one (see RunningAgent.port). @default 0 */
  port?: number;
  /** The agent's own directory: leader epoch, idempotency records. Created (mode 0700) when missing. */
  dataDir: string;
  /** File holding the cluster secret (mode 0600; a warning otherwise). */
  secretFile: string;
  /** The agent's id, a DNS-1123 label, e.g. "vm-3". */
  agentId: string;
  /** The availability zone of the agent's VM, e.g. "zone-a". */
  zone: string;
  /** Does the work of each RPC. */
  backend: AgentBackend;
  /**
   * Where log lines go; the agent adds the secret redaction to it.
   * @default a pino logger to standard error at level "info"
   */
  logger?: Logger;
  /** The longest a call without a deadline may run, in ms. @default 600000 (10 minutes) */
  defaultDeadlineMs?: number;
  /** How long idempotency records are kept, in ms. @default 86400000 (24 hours) */
  idempotencyRetentionMs?: number;
  /** How long stop() waits for running calls before cutting them off, in ms. @default 5000 */
  shutdownTimeoutMs?: number;
  /** How often WatchState re-observes when nothing prompts it, in ms. @default 1000 */
  watchIntervalMs?: number;
  /** Transport security (mTLS later). @default {} (plaintext) */
  transportSecurity?: TransportSecurity;
  /**
   * Install the process guard (agent/process-guard.ts) while the agent runs: an
   * unhandled rejection is logged and the agent keeps serving; an uncaught exception is
   * logged and ends the process. Off only for agents run inside another program's
   * process (tests), which has its own policy. @default true
   */
  processGuard?: boolean;
}

/** AgentOptions with every default filled in. */
export type ResolvedAgentOptions = Required<AgentOptions>;

export interface RunningAgent {
  /** The port the agent listens on (the chosen one when port was 0). */
  readonly port: number;
  /** host:port, as a gRPC target. */
  readonly endpoint: string;
  /** Stops serving: health NOT_SERVING, streams ended, running calls given shutdownTimeoutMs, then cut. */
  stop(): Promise<void>;
}

/** Options that do not hold, every problem listed. */
export class AgentOptionsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid agent options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentOptionsError';
    this.problems = problems;
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ZONE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Validates the options and fills in the defaults; throws AgentOptionsError listing every problem. */
export function resolveAgentOptions(options: AgentOptions): ResolvedAgentOptions {
  const problems: string[] = [];
  const text = (name: string, value: unknown, pattern?: RegExp, what?: string): void => {
    if (typeof value !== 'string' || value === '') problems.push(`${name}: required, a non-empty string`);
    else if (pattern !== undefined && !pattern.test(value)) problems.push(`${name}: ${JSON.stringify(value)} is not ${what}`);
  };
  const duration = (name: string, value: number): void => {
    if (!Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS) problems.push(`${name}: must be an integer 1 … ${MAX_TIMER_MS} ms (got ${value})`);
  };

  const resolved: ResolvedAgentOptions = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    dataDir: options.dataDir,
    secretFile: options.secretFile,
    agentId: options.agentId,
    zone: options.zone,
    backend: options.backend,
    logger: options.logger ?? createAgentLogger(),
    defaultDeadlineMs: options.defaultDeadlineMs ?? 10 * 60 * 1000,
    idempotencyRetentionMs: options.idempotencyRetentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5000,
    watchIntervalMs: options.watchIntervalMs ?? 1000,
    transportSecurity: options.transportSecurity ?? {},
    processGuard: options.processGuard ?? true,
  };
  text('host', resolved.host, /^[^\s/]+$/, 'a host name or IP address');
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) {
    problems.push(`port: must be an integer 0 … 65535, 0 for any free port (got ${resolved.port})`);
  }
  text('dataDir', resolved.dataDir);
  text('secretFile', resolved.secretFile);
  text('agentId', resolved.agentId, DNS_LABEL, 'a DNS-1123 label (lowercase letters, digits, "-"; at most 63)');
  text('zone', resolved.zone, ZONE, 'a zone name (letters, digits, ".", "_", "-"; at most 63)');
  if (typeof resolved.backend !== 'object' || resolved.backend === null) {
    problems.push('backend: required, an AgentBackend');
  } else {
    const missing = AGENT_BACKEND_METHODS.filter((m) => typeof resolved.backend[m] !== 'function');
    if (missing.length > 0) problems.push(`backend: not an AgentBackend, missing ${missing.join(', ')}`);
  }
  if (typeof resolved.logger.child !== 'function') problems.push('logger: must be a pino logger');
  duration('defaultDeadlineMs', resolved.defaultDeadlineMs);
  duration('idempotencyRetentionMs', resolved.idempotencyRetentionMs);
  duration('shutdownTimeoutMs', resolved.shutdownTimeoutMs);
  duration('watchIntervalMs', resolved.watchIntervalMs);
  if (typeof resolved.processGuard !== 'boolean') problems.push(`processGuard: must be true or false (got ${String(resolved.processGuard)})`);
  if (problems.length > 0) throw new AgentOptionsError(problems);
  return { ...resolved, dataDir: path.resolve(resolved.dataDir), secretFile: path.resolve(resolved.secretFile) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function endpointOf(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err === null ? resolve(port) : reject(err)));
  });
}

/** Starts an agent; resolves once it listens and its health is SERVING. */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const o = resolveAgentOptions(options);
  const logger = o.logger.child({ agentId: o.agentId, zone: o.zone }, { redact: AGENT_LOG_REDACT });

  // Before anything that can fail in the background starts; removed when the agent stops.
  const removeGuard = o.processGuard ? installProcessGuard({ logger }) : () => undefined;
  try {
    return await serve(o, logger, removeGuard);
  } catch (err) {
    removeGuard();
    throw err;
  }
}

async function serve(o: ResolvedAgentOptions, logger: Logger, removeGuard: () => void): Promise<RunningAgent> {
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const credential = await ClusterCredential.fromFile(o.secretFile, logger);
  const fence = await EpochFence.open(o.dataDir, logger);
  const idempotency = await IdempotencyStore.open({
    dir: path.join(o.dataDir, 'idempotency'),
    logger,
    retentionMs: o.idempotencyRetentionMs,
  });

  const service = new AgentService({
    backend: o.backend,
    credential,
    fence,
    idempotency,
    logger,
    agentId: o.agentId,
    zone: o.zone,
    defaultDeadlineMs: o.defaultDeadlineMs,
    watchIntervalMs: o.watchIntervalMs,
  });
  const health = new HealthImplementation({ '': 'NOT_SERVING', [AGENT_SERVICE_NAME]: 'NOT_SERVING' });
  const server = new grpc.Server();
  server.addService(loadAgentProto().agentService, service.handlers);
  health.addToServer(server);

  const address = endpointOf(o.host, o.port);
  let port: number;
  try {
    port = await bind(server, address, createServerCredentials(o.transportSecurity));
  } catch (err) {
    idempotency.close();
    service.interrupt();
    server.forceShutdown();
    throw new Error(`the agent cannot listen on ${address}: ${(err as Error).message}; choose another port or stop what uses it`, {
      cause: err,
    });
  }
  const endpoint = endpointOf(o.host, port);
  if (!isLoopback(o.host) && !isEncrypted(o.transportSecurity)) {
    logger.warn(
      { endpoint },
      'Listening beyond loopback without TLS: the cluster secret crosses the network in clear text; use a private network',
    );
  }
  health.setStatus('', 'SERVING');
  health.setStatus(AGENT_SERVICE_NAME, 'SERVING');
  logger.info({ endpoint, dataDir: o.dataDir, leaderEpoch: fence.highestSeen }, `Started agent ${o.agentId} on ${endpoint}`);

  let stopped: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    health.setStatus('', 'NOT_SERVING');
    health.setStatus(AGENT_SERVICE_NAME, 'NOT_SERVING');
    service.closeStreams();
    const graceful = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), o.shutdownTimeoutMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!graceful) {
      logger.warn({ timeoutMs: o.shutdownTimeoutMs }, 'Cut off calls still running at shutdown');
      service.interrupt();
      server.forceShutdown();
    }
    idempotency.close();
    logger.info({ graceful }, `Stopped agent ${o.agentId}`);
    removeGuard();
  };
  return {
    port,
    endpoint,
    stop: () => (stopped ??= stop()),
  };
}
