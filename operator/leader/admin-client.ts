// The command line's side of the admin interface: finds the running leader of a state
// directory through <stateDir>/leader.json, and speaks LeaderApi to it over HTTP with the
// bearer token from that file. "No leader" (no file, a dead pid, nothing listening) is
// one typed error with the sentence a person needs: how to start one.
import http from 'node:http';
import path from 'node:path';
import { isRunning } from '../../common/process-inspect.ts';
import type { Desired } from '../../desired-state/types.ts';
import type { ValidationResult } from '../../desired-state/validate.ts';
import type { ObservedCluster } from '../model/observed.ts';
import type { Plan } from '../model/step.ts';
import type { ClusterStatus } from '../model/status.ts';
import type { Job } from '../ports/journal.ts';
import type { LeaderApi, OfferResult } from '../ports/leader-api.ts';
import { readAdminEndpoint, ROUTES, type AdminEndpoint, type AdminErrorBody, type OfferRequest } from './admin-protocol.ts';
import { noLeaderMessage, stateLayout } from './state-layout.ts';

/** No leader runs for the state directory (or it stopped answering). */
export class NoLeaderError extends Error {
  override name = 'NoLeaderError';
  readonly stateDir: string;
  constructor(
    stateDir: string,
    detail?: string,
  ) {
    super(detail === undefined ? noLeaderMessage(stateDir) : `${noLeaderMessage(stateDir)} (${detail})`);
    this.stateDir = stateDir;
  }
}

/** The leader answered with an error. */
export class AdminRequestError extends Error {
  override name = 'AdminRequestError';
  readonly status: number;
  readonly code: string;
  constructor(
    status: number,
    code: string,
    message: string,
  ) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface AdminClientOptions {
  /** Time limit of one request, in ms. @default 30000 */
  timeoutMs?: number;
  /** Time limit of a shutdown, which stops every agent and data node, in ms. @default 300000 */
  shutdownTimeoutMs?: number;
}

export class AdminClient implements LeaderApi {
  readonly #timeoutMs: number;
  readonly #shutdownTimeoutMs: number;

  readonly endpoint: AdminEndpoint;
  readonly stateDir: string;
  constructor(
    endpoint: AdminEndpoint,
    stateDir: string,
    options: AdminClientOptions = {},
  ) {
    this.endpoint = endpoint;
    this.stateDir = stateDir;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 300_000;
  }

  /** The client of the leader running for `stateDir`, or NoLeaderError. */
  static async connect(stateDir: string, options: AdminClientOptions = {}): Promise<AdminClient> {
    const dir = path.resolve(stateDir);
    const endpoint = await findLeader(dir);
    if (endpoint === undefined) throw new NoLeaderError(dir);
    return new AdminClient(endpoint, dir, options);
  }

  status(): Promise<ClusterStatus> {
    return this.#request<ClusterStatus>('GET', ROUTES.status);
  }

  jobs(): Promise<Job[]> {
    return this.#request<Job[]>('GET', ROUTES.jobs);
  }

  async job(id: string): Promise<Job | undefined> {
    try {
      return await this.#request<Job>('GET', `${ROUTES.jobPrefix}${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof AdminRequestError && err.status === 404) return undefined;
      throw err;
    }
  }

  preview(desired: Desired): Promise<{ plan: Plan; observed: ObservedCluster }> {
    return this.#request('POST', ROUTES.preview, { desired });
  }

  offer(candidate: ValidationResult, source: string): Promise<OfferResult> {
    const body: OfferRequest =
      candidate.source !== undefined ? { source, file: candidate.source.file, text: candidate.source.text } : { source, problems: candidate.problems };
    return this.#request('POST', ROUTES.offer, body);
  }

  async shutdown(options: { purge: boolean }): Promise<void> {
    await this.#request('POST', ROUTES.shutdown, { purge: options.purge }, this.#shutdownTimeoutMs);
  }

  #request<T>(method: 'GET' | 'POST', route: string, body?: unknown, timeoutMs = this.#timeoutMs): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        {
          host: this.endpoint.host,
          port: this.endpoint.port,
          method,
          path: route,
          agent: false,
          headers: {
            authorization: `Bearer ${this.endpoint.token}`,
            connection: 'close',
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let value: unknown;
            try {
              value = JSON.parse(text);
            } catch {
              reject(new AdminRequestError(res.statusCode ?? 0, 'bad-response', `the leader answered ${route} with something that is not JSON`));
              return;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              resolve(value as T);
              return;
            }
            const error = (value as Partial<AdminErrorBody>).error;
            reject(new AdminRequestError(status, error?.code ?? 'unknown', error?.message ?? `the leader answered ${route} with HTTP ${status}`));
          });
        },
      );
      req.setTimeout(timeoutMs, () => {
        req.destroy(new AdminRequestError(0, 'timeout', `the leader did not answer ${route} within ${Math.round(timeoutMs / 1000)} s; see ${stateLayout(this.stateDir).logFile}`));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof AdminRequestError) reject(err);
        else if (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET') reject(new NoLeaderError(this.stateDir, `its admin interface on port ${this.endpoint.port} does not answer`));
        else reject(err);
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

/** The admin endpoint of the live leader of `stateDir`, or undefined (no leader.json, or its process is gone). */
export async function findLeader(stateDir: string): Promise<AdminEndpoint | undefined> {
  const endpoint = await readAdminEndpoint(stateLayout(stateDir).adminFile);
  if (endpoint === undefined) return undefined;
  return (await isRunning(endpoint.pid)) ? endpoint : undefined;
}

/** How a command reaches the leader of a state directory (tests give a fake LeaderApi). */
export type ConnectLeader = (stateDir: string) => Promise<LeaderApi>;

/** The running leader's admin interface; NoLeaderError when none runs. */
export const connectLeader: ConnectLeader = (stateDir) => AdminClient.connect(stateDir);
