// Short-lived connections to single Redis/Valkey nodes, for the cluster operations.
//
// The operations talk to one node at a time by address: they never want a client that
// reconnects in the background, queues commands while offline or retries on its own —
// an operation decides itself what to retry, and a dead node must be reported at once.
// So every connection here is `lazyConnect`, has small connect/command timeouts, no
// retry strategy, no offline queue and no ready check, and is always disconnected.
import { getMaxListeners, setMaxListeners } from 'node:events';
import { Redis } from 'ioredis';
import { abortedError, isRedisOpError, redisOpError, throwIfAborted } from './errors.ts';
import type { RedisOpError } from './errors.ts';
import { errorText } from '../../../common/error-text.ts';

export interface NodeAddress {
  host: string;
  port: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 1_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 3_000;

export interface NodeConnectOptions {
  signal?: AbortSignal | undefined;
  /** Name of the calling operation, used in error messages. */
  op?: string | undefined;
  /** Node id, when known, used in error messages. */
  nodeId?: string | undefined;
  connectTimeoutMs?: number | undefined;
  commandTimeoutMs?: number | undefined;
}

/** "host:port", with brackets around an IPv6 host. */
export function formatAddr(addr: NodeAddress): string {
  return addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

/** Parses "host:port" or "[v6]:port". */
export function parseAddr(text: string): NodeAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw redisOpError({
      op: 'parseAddr',
      reason: 'BAD_ARGUMENT',
      detail: `"${text}" is not an address of the form host:port`,
      action: 'pass the node as host:port, e.g. 10.0.0.5:7000',
    });
  }
  return { host: m[1], port };
}

export function sameAddr(a: NodeAddress, b: NodeAddress): boolean {
  return a.port === b.port && a.host === b.host;
}

/** A new, not yet connected client with the settings described at the top. */
export function createNodeClient(addr: NodeAddress, opts: NodeConnectOptions = {}): Redis {
  const client = new Redis({
    host: addr.host,
    port: addr.port,
    lazyConnect: true,
    connectTimeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    retryStrategy: () => null, // never reconnect: the caller decides
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    autoResendUnfulfilledCommands: false,
    reconnectOnError: null,
  });
  // ioredis emits 'error' for connection problems; the failing command rejects with the
  // same error, so the event only needs a listener (else Node prints it as unhandled).
  client.on('error', () => undefined);
  return client;
}

/**
 * An operation talks to many nodes at once, and each connection listens on the one
 * signal for as long as it lives; that is by design, not a leak, so Node's warning at
 * 10 listeners is raised for this signal.
 */
function allowManyListeners(signal: AbortSignal | undefined): void {
  if (signal && getMaxListeners(signal) < 1000) setMaxListeners(1000, signal);
}

/** Connects, translating failures into a RedisOpError naming the node. */
export async function connectNode(addr: NodeAddress, opts: NodeConnectOptions = {}): Promise<Redis> {
  const op = opts.op ?? 'connect';
  throwIfAborted(opts.signal, op);
  allowManyListeners(opts.signal);
  const client = createNodeClient(addr, opts);
  const onAbort = (): void => client.disconnect();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
    return client;
  } catch (err) {
    client.disconnect();
    if (opts.signal?.aborted) throw abortedError(op, opts.signal);
    throw toOpError(err, op, addr, opts.nodeId);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Runs `fn` with a connection to one node and always disconnects afterwards. When the
 * signal fires, the connection is closed at once (pending commands fail) and the call
 * rejects with an OP_ABORTED RedisOpError. Errors of `fn` that are not RedisOpErrors are
 * translated (connection problems → UNREACHABLE, LOADING/TRYAGAIN → BUSY, …).
 */
export async function withNode<T>(
  addr: NodeAddress,
  fn: (client: Redis) => Promise<T>,
  opts: NodeConnectOptions = {},
): Promise<T> {
  const op = opts.op ?? 'withNode';
  const client = await connectNode(addr, opts);
  const onAbort = (): void => client.disconnect();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn(client);
  } catch (err) {
    if (opts.signal?.aborted) throw abortedError(op, opts.signal);
    throw toOpError(err, op, addr, opts.nodeId);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    client.disconnect();
  }
}

/**
 * Connections kept for the length of one operation (for example a polling loop that
 * asks every node ten times a second). A connection that failed is dropped and made
 * again on the next `get`. `close()` disconnects everything; use try/finally.
 */
export class NodePool {
  private readonly clients = new Map<string, Promise<Redis>>();
  private readonly opts: NodeConnectOptions;
  private readonly onAbort = (): void => this.close();

  /** When `opts.signal` fires, every connection is closed, so commands in flight fail
   * at once (and `run` reports OP_ABORTED) instead of finishing first. */
  constructor(opts: NodeConnectOptions = {}) {
    this.opts = opts;
    allowManyListeners(opts.signal);
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get(addr: NodeAddress): Promise<Redis> {
    const key = formatAddr(addr);
    const existing = this.clients.get(key);
    if (existing) return existing;
    const created = connectNode(addr, this.opts).then((client) => {
      client.once('close', () => {
        if (this.clients.get(key) === created) this.clients.delete(key);
      });
      return client;
    });
    created.catch(() => this.clients.delete(key));
    this.clients.set(key, created);
    return created;
  }

  /** Runs `fn` on a pooled connection; on a connection error the client is dropped. */
  async run<T>(addr: NodeAddress, fn: (client: Redis) => Promise<T>, nodeId?: string): Promise<T> {
    const op = this.opts.op ?? 'pool';
    const client = await this.get(addr);
    try {
      return await fn(client);
    } catch (err) {
      if (this.opts.signal?.aborted) throw abortedError(op, this.opts.signal);
      const opErr = toOpError(err, op, addr, nodeId);
      if (opErr.reason === 'UNREACHABLE' || opErr.reason === 'TIMEOUT') this.drop(addr);
      throw opErr;
    }
  }

  drop(addr: NodeAddress): void {
    const key = formatAddr(addr);
    const p = this.clients.get(key);
    this.clients.delete(key);
    p?.then((c) => c.disconnect()).catch(() => undefined);
  }

  close(): void {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    for (const p of this.clients.values()) p.then((c) => c.disconnect()).catch(() => undefined);
    this.clients.clear();
  }
}

/** Sends one command; the reply type is the caller's claim (the server decides). */
export async function command<T = unknown>(client: Redis, name: string, ...args: (string | number | Buffer)[]): Promise<T> {
  return (await client.call(name, ...args)) as T;
}

/** Like `command`, with bulk replies as Buffers (binary-safe keys). */
export async function commandBuffer<T = unknown>(client: Redis, name: string, ...args: (string | number | Buffer)[]): Promise<T> {
  return (await client.callBuffer(name, ...args)) as T;
}

/** The error text a Redis reply error carries, or undefined for other errors. */
export function replyErrorText(err: unknown): string | undefined {
  if (err instanceof Error && err.name === 'ReplyError') return err.message;
  return undefined;
}

/** A Redis operation's detail, a Redis reply's error, or errorText. */
export function redisErrorText(err: unknown): string {
  if (isRedisOpError(err)) return err.redis.detail;
  return replyErrorText(err) ?? errorText(err);
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** Translates any error from talking to one node into a RedisOpError. */
export function toOpError(err: unknown, op: string, addr: NodeAddress, nodeId?: string): RedisOpError {
  if (isRedisOpError(err)) return err;
  const where = formatAddr(addr);
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : '';
  const reply = replyErrorText(err);
  if (reply !== undefined) {
    if (/^LOADING\b/.test(reply) || /^TRYAGAIN\b/.test(reply) || /^CLUSTERDOWN\b/.test(reply) || /^BUSY\b/.test(reply)) {
      return redisOpError({
        op,
        reason: 'BUSY',
        nodeId,
        addr: where,
        detail: `the server is busy: ${reply}`,
        action: 'retry shortly; the node is loading data or the cluster is reconfiguring',
        cause: err,
      });
    }
    if (/cluster support disabled/i.test(reply)) {
      return redisOpError({
        op,
        reason: 'NOT_CLUSTER',
        nodeId,
        addr: where,
        detail: 'the server runs without cluster mode',
        action: 'start it with cluster-enabled yes',
        cause: err,
      });
    }
    return redisOpError({
      op,
      reason: 'COMMAND_FAILED',
      nodeId,
      addr: where,
      detail: `the server refused a command: ${reply}`,
      action: 'check the node state (CLUSTER NODES, the server log) and the arguments',
      cause: err,
    });
  }
  if (/timed? ?out/i.test(message) || code === 'ETIMEDOUT') {
    return redisOpError({
      op,
      reason: 'TIMEOUT',
      nodeId,
      addr: where,
      detail: `no answer in time (${message})`,
      action: 'check that the node is running and not overloaded, then retry',
      cause: err,
    });
  }
  if (CONNECTION_CODES.has(code) || /connection|stream isn't writeable|closed/i.test(message)) {
    return redisOpError({
      op,
      reason: 'UNREACHABLE',
      nodeId,
      addr: where,
      detail: `cannot reach the node (${code || message})`,
      action: 'check that the node process is running and listening on that address, then retry',
      cause: err,
    });
  }
  return redisOpError({
    op,
    reason: 'COMMAND_FAILED',
    nodeId,
    addr: where,
    detail: message,
    action: 'see the cause; this is unexpected',
    cause: err,
  });
}
