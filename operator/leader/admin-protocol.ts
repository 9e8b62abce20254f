// The admin interface's wire contract, shared by the server (in the leader) and the
// client (in the command line): where the leader says it listens (<stateDir>/leader.json),
// the routes, and the error body. HTTP/1.1 + JSON on 127.0.0.1; every request carries
// `Authorization: Bearer <token>` with the token from leader.json (mode 0600), so only
// the user who owns the state directory can talk to the leader.
import { readTextIfExists } from '../../common/atomic-file.ts';

/** The content of <stateDir>/leader.json. */
export interface AdminEndpoint {
  /** Format of this record. */
  format: 1;
  /** The leader's process. */
  pid: number;
  /** Always 127.0.0.1. */
  host: string;
  port: number;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
  /** The leader's fencing epoch. */
  epoch: number;
  /** The desired-state file it watches (absolute). */
  file: string;
  /** RFC 3339 time the leader started. */
  startedAt: string;
}

export const ROUTES = {
  status: '/v1/status',
  jobs: '/v1/jobs',
  /** GET /v1/jobs/<id> */
  jobPrefix: '/v1/jobs/',
  preview: '/v1/preview',
  offer: '/v1/offer',
  shutdown: '/v1/shutdown',
} as const;

/** The body of every non-2xx answer. */
export interface AdminErrorBody {
  error: { code: AdminErrorCode; message: string };
}

export type AdminErrorCode = 'unauthorized' | 'not-found' | 'method-not-allowed' | 'bad-request' | 'too-large' | 'internal' | 'shutting-down';

/** POST /v1/preview */
export interface PreviewRequest {
  /** A validated desired state (the server checks it against the schema again). */
  desired: unknown;
}

/**
 * POST /v1/offer. With `text` and `file` the server validates the text itself against
 * the accepted latest (it trusts no verdict from the wire); without them, `problems`
 * say why the candidate could not even be read, and the offer is refused.
 */
export interface OfferRequest {
  source: string;
  file?: string;
  text?: string;
  problems?: unknown[];
}

/** POST /v1/shutdown */
export interface ShutdownRequest {
  purge: boolean;
}

/** leader.json, or undefined when it does not exist or is not a record of this format. */
export async function readAdminEndpoint(file: string): Promise<AdminEndpoint | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (v['format'] !== 1 || typeof v['port'] !== 'number' || typeof v['token'] !== 'string' || typeof v['pid'] !== 'number') return undefined;
  return value as AdminEndpoint;
}
