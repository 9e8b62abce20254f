// The leader's admin interface: LeaderApi served as HTTP/1.1 + JSON on 127.0.0.1 (never
// another address), on a port the kernel picks. The command line finds it through
// <stateDir>/leader.json and authenticates with its bearer token, compared in constant
// time. Node's http module is enough: a handful of routes, one caller at a time.
// Request bodies are bounded; a desired state from the wire is validated again here.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { formatProblems } from '../../desired-state/format.ts';
import type { Problem } from '../../desired-state/problem.ts';
import { validateDesiredStateText, type ValidateOptions, type ValidationResult } from '../../desired-state/validate.ts';
import type { LeaderApi } from '../ports/leader-api.ts';
import { ROUTES, type AdminErrorBody, type AdminErrorCode } from './admin-protocol.ts';

/** The only address the admin interface listens on. */
export const ADMIN_HOST = '127.0.0.1';

export interface AdminServerOptions {
  api: LeaderApi;
  /** The bearer token every request must present. */
  token: string;
  logger: Logger;
  /** What offered text is validated against: the accepted latest desired state, and whether the cluster ever ran. */
  validationContext: () => ValidateOptions;
  /** Port to listen on. @default 0 (any free port) */
  port?: number;
  /** Largest request body accepted, in bytes. @default 2097152 (2 MiB: a desired state is at most 1 MiB) */
  maxBodyBytes?: number;
}

/** A request the server refuses, with its HTTP status. */
class HttpError extends Error {
  readonly status: number;
  readonly code: AdminErrorCode;
  constructor(
    status: number,
    code: AdminErrorCode,
    message: string,
  ) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class AdminServer {
  readonly #server: http.Server;
  readonly #options: Required<AdminServerOptions>;
  readonly #tokenDigest: Buffer;

  private constructor(options: Required<AdminServerOptions>) {
    this.#options = options;
    this.#tokenDigest = digest(options.token);
    this.#server = http.createServer((req, res) => {
      void this.#handle(req, res);
    });
    this.#server.requestTimeout = 0;
    this.#server.keepAliveTimeout = 1000;
  }

  /** Listens on 127.0.0.1 and resolves once it accepts connections. */
  static async start(options: AdminServerOptions): Promise<AdminServer> {
    if (options.token.length < 16) throw new Error('the admin token must be at least 16 characters');
    const server = new AdminServer({ port: 0, maxBodyBytes: 2 * 1024 * 1024, ...options });
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen({ host: ADMIN_HOST, port: options.port ?? 0 }, () => {
        server.#server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Stops listening; answers in flight finish (for at most `graceMs`), then every connection is closed. */
  async close(graceMs = 1000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const timer = setTimeout(() => this.#server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const route = `${req.method ?? '?'} ${(req.url ?? '').split('?')[0] ?? ''}`;
    try {
      this.#authorize(req);
      const result = await this.#route(req);
      send(res, 200, result);
      this.#options.logger.debug({ route, ms: Date.now() - started }, 'Answered an admin request');
    } catch (err) {
      if (err instanceof HttpError) {
        if (err.status === 401) this.#options.logger.warn({ route }, 'Refused an admin request with a missing or wrong token');
        // A body left unread must not be taken for the next request on this connection.
        if (!req.complete) res.shouldKeepAlive = false;
        send(res, err.status, errorBody(err.code, err.message));
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.#options.logger.error({ route, err: message }, 'Failed an admin request');
      send(res, 500, errorBody('internal', message));
    }
  }

  #authorize(req: http.IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (match?.[1] === undefined || !timingSafeEqual(digest(match[1]), this.#tokenDigest)) {
      throw new HttpError(401, 'unauthorized', 'missing or wrong admin token; the CLI reads it from leader.json in the state directory');
    }
  }

  async #route(req: http.IncomingMessage): Promise<unknown> {
    const { api } = this.#options;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const expect = (wanted: 'GET' | 'POST'): void => {
      if (method !== wanted) throw new HttpError(405, 'method-not-allowed', `${path} takes ${wanted}, not ${method}`);
    };
    if (path === ROUTES.status) {
      expect('GET');
      return api.status();
    }
    if (path === ROUTES.jobs) {
      expect('GET');
      return api.jobs();
    }
    if (path.startsWith(ROUTES.jobPrefix)) {
      expect('GET');
      const id = decodeURIComponent(path.slice(ROUTES.jobPrefix.length));
      const job = await api.job(id);
      if (job === undefined) throw new HttpError(404, 'not-found', `no job ${id}`);
      return job;
    }
    if (path === ROUTES.preview) {
      expect('POST');
      const body = asObject(await this.#readJson(req));
      return api.preview(this.#desiredFromWire(body['desired']));
    }
    if (path === ROUTES.offer) {
      expect('POST');
      const body = asObject(await this.#readJson(req));
      const source = body['source'];
      if (typeof source !== 'string' || source === '') throw new HttpError(400, 'bad-request', '"source" must be a non-empty string');
      return api.offer(this.#candidateFromWire(body), source);
    }
    if (path === ROUTES.shutdown) {
      expect('POST');
      const body = asObject(await this.#readJson(req));
      const purge = body['purge'] ?? false;
      if (typeof purge !== 'boolean') throw new HttpError(400, 'bad-request', '"purge" must be true or false');
      await api.shutdown({ purge });
      return { stopped: true, purge };
    }
    throw new HttpError(404, 'not-found', `no route ${method} ${path}`);
  }

  #desiredFromWire(value: unknown): Parameters<LeaderApi['preview']>[0] {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new HttpError(400, 'bad-request', '"desired" must be a desired state object');
    }
    const source = { file: 'preview request', text: JSON.stringify(value) };
    const result = validateDesiredStateText(source);
    if (result.verdict !== 'valid' || result.desired === undefined) {
      throw new HttpError(400, 'bad-request', `the desired state to preview is not valid:\n${formatProblems(result.problems, result.source)}`);
    }
    return result.desired;
  }

  #candidateFromWire(body: Record<string, unknown>): ValidationResult {
    const { file, text, problems } = body;
    if (typeof file === 'string' && typeof text === 'string') {
      return validateDesiredStateText({ file, text }, this.#options.validationContext());
    }
    if (Array.isArray(problems) && problems.length > 0 && problems.every(isProblem)) {
      return { verdict: 'invalid', problems };
    }
    throw new HttpError(400, 'bad-request', 'an offer needs "file" and "text", or the "problems" that kept it from being read');
  }

  async #readJson(req: http.IncomingMessage): Promise<unknown> {
    const limit = this.#options.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) throw new HttpError(413, 'too-large', `the request body (${declared} bytes) exceeds ${limit} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > limit) throw new HttpError(413, 'too-large', `the request body exceeds ${limit} bytes`);
      chunks.push(buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpError(400, 'bad-request', 'the request body is not JSON');
    }
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'bad-request', 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

function isProblem(value: unknown): value is Problem {
  if (value === null || typeof value !== 'object') return false;
  const p = value as Record<string, unknown>;
  return typeof p['code'] === 'string' && typeof p['message'] === 'string' && Array.isArray(p['path']);
}

function errorBody(code: AdminErrorCode, message: string): AdminErrorBody {
  return { error: { code, message } };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
