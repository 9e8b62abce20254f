// Test support: a real agent (gRPC on a loopback port chosen by the OS) over the fake
// backend, in a temporary data dir, with its log lines captured; and a raw client
// that sends whatever metadata a test wants. Used by the agent's and the leader
// client's tests; not part of the daemon.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { LevelWithSilent } from 'pino';
import { startAgent } from './daemon.ts';
import type { AgentOptions, RunningAgent } from './daemon.ts';
import { FakeBackend } from './fake-backend.ts';
import { createAgentLogger } from './server/logger.ts';
import { loadAgentProto } from '../proto/load.ts';
import { AUTHORIZATION_METADATA, EPOCH_METADATA, IDEMPOTENCY_KEY_METADATA, bearer } from '../proto/metadata.ts';
import type { DecodedResponseOf, RequestOf, UnaryMethod } from '../proto/methods.ts';

/** A secret long enough not to be warned about, and easy to search for in logs. */
export const TEST_SECRET = 'test-cluster-secret-9f8e7d6c5b4a';

export interface TestAgentOptions extends Partial<Omit<AgentOptions, 'backend' | 'logger' | 'dataDir' | 'secretFile'>> {
  backend?: FakeBackend;
  /** @default "debug", so tests see every line the agent can write */
  logLevel?: LevelWithSilent;
}

export interface TestAgent {
  readonly backend: FakeBackend;
  readonly dataDir: string;
  readonly secretFile: string;
  /** Every log line written so far (JSON text). */
  readonly logs: string[];
  /** The running agent (replaced by restart()). */
  readonly agent: RunningAgent;
  readonly endpoint: string;
  /** Stops the agent and starts a new one on the same port, data dir, backend and options. */
  restart(): Promise<void>;
  /** Stops the agent and deletes its data dir. */
  close(): Promise<void>;
}

export async function startTestAgent(options: TestAgentOptions = {}): Promise<TestAgent> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'coxswain-agent-test-'));
  const dataDir = path.join(root, 'data');
  const secretFile = path.join(root, 'cluster-secret');
  await writeFile(secretFile, `${TEST_SECRET}\n`, { mode: 0o600 });
  await chmod(secretFile, 0o600);
  const logs: string[] = [];
  const logger = createAgentLogger({
    level: options.logLevel ?? 'debug',
    destination: { write: (line: string) => void logs.push(line) },
  });
  const backend = options.backend ?? new FakeBackend({ installedVersions: ['7.0'] });
  const { logLevel: _logLevel, backend: _backend, ...rest } = options;
  // The test runner's process keeps its own policy for errors nobody handled (the guard: agent/process-guard.ts).
  const processGuard = options.processGuard ?? false;
  const start = (port: number): Promise<RunningAgent> =>
    startAgent({ agentId: 'vm-1', zone: 'zone-a', shutdownTimeoutMs: 2000, ...rest, processGuard, port, dataDir, secretFile, backend, logger });

  let agent = await start(0);
  const harness = {
    backend,
    dataDir,
    secretFile,
    logs,
    get agent() {
      return agent;
    },
    get endpoint() {
      return agent.endpoint;
    },
    async restart() {
      await agent.stop();
      agent = await start(agent.port);
    },
    async close() {
      await agent.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
  return harness;
}

export interface RawMetadata {
  /** The full `authorization` value; omitted when undefined. @default bearer(TEST_SECRET) */
  authorization?: string | undefined;
  /** @default "1" */
  epoch?: string | undefined;
  /** Omitted when undefined. */
  idempotencyKey?: string | undefined;
}

/** A call's result: the decoded response, or the raw gRPC error. */
export type RawResult<T> = { ok: true; response: T } | { ok: false; error: grpc.ServiceError };

/** A client that sends exactly the metadata a test gives (no retries, no typing of errors). */
export class RawAgentClient {
  readonly #client: grpc.Client;

  constructor(endpoint: string) {
    this.#client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  }

  close(): void {
    this.#client.close();
  }

  call<M extends UnaryMethod>(method: M, request: RequestOf<M>, meta: RawMetadata = {}, deadlineMs = 5000): Promise<RawResult<DecodedResponseOf<M>>> {
    const def = loadAgentProto().agentService[method] as unknown as {
      path: string;
      requestSerialize: (value: RequestOf<M>) => Buffer;
      responseDeserialize: (bytes: Buffer) => DecodedResponseOf<M>;
    };
    const metadata = new grpc.Metadata();
    const authorization = 'authorization' in meta ? meta.authorization : bearer(TEST_SECRET);
    if (authorization !== undefined) metadata.set(AUTHORIZATION_METADATA, authorization);
    const epoch = 'epoch' in meta ? meta.epoch : '1';
    if (epoch !== undefined) metadata.set(EPOCH_METADATA, epoch);
    if (meta.idempotencyKey !== undefined) metadata.set(IDEMPOTENCY_KEY_METADATA, meta.idempotencyKey);
    return new Promise((resolve) => {
      this.#client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        metadata,
        { deadline: Date.now() + deadlineMs },
        (err, value) => resolve(err !== null ? { ok: false, error: err } : { ok: true, response: value as DecodedResponseOf<M> }),
      );
    });
  }

  /** The standard health check, with no credential. */
  health(service = ''): Promise<RawResult<{ status: string }>> {
    const check = healthService.Check;
    if (check === undefined) throw new Error('grpc-health-check has no Check method');
    return new Promise((resolve) => {
      this.#client.makeUnaryRequest(
        check.path,
        check.requestSerialize,
        check.responseDeserialize,
        { service },
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (err, value) => resolve(err !== null ? { ok: false, error: err } : { ok: true, response: value as { status: string } }),
      );
    });
  }
}

/** A mutating request's job reference, for brevity in tests. */
export const JOB = { jobId: 'job-1', stepId: '1' } as const;
