// The cluster credential: every call of the Agent service presents
// `authorization: Bearer <cluster secret>`, and the agent compares it with the secret
// from its secret file in constant time. Only a SHA-256 digest of the secret is kept
// in memory, so no object of this module can print the secret, and log lines are
// redacted besides (SECRET_REDACT_PATHS).
//
// This is the credential of the first version: a shared secret over a loopback or
// private network. mTLS replaces or augments it later (see transport-security.ts);
// the check stays one function, `verify`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AUTHORIZATION_METADATA, BEARER_SCHEME } from '../../proto/metadata.ts';
import { UnauthenticatedError } from '../../proto/status.ts';

/**
 * Log paths pino must censor: the authorization header wherever call metadata is
 * logged, and any field named `secret`.
 */
export const SECRET_REDACT_PATHS: readonly string[] = [
  AUTHORIZATION_METADATA,
  `*.${AUTHORIZATION_METADATA}`,
  `*.*.${AUTHORIZATION_METADATA}`,
  'secret',
  '*.secret',
  '*.*.secret',
];

/** Secrets shorter than this are accepted with a warning. */
const SHORT_SECRET = 16;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class ClusterCredential {
  readonly #digest: Buffer;

  private constructor(secretDigest: Buffer) {
    this.#digest = secretDigest;
  }

  /** A credential for a secret held in memory (tests, and callers that read the file themselves). */
  static fromSecret(secret: string): ClusterCredential {
    if (secret.length === 0) throw new Error('the cluster secret is empty');
    return new ClusterCredential(digest(secret));
  }

  /**
   * Reads the secret from `file` (surrounding whitespace, such as the final newline,
   * is ignored). Warns when group or others may read the file.
   */
  static async fromFile(file: string, logger: Logger): Promise<ClusterCredential> {
    let text: string;
    let mode: number;
    try {
      mode = (await stat(file)).mode & 0o777;
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new Error(
        `cannot read the cluster secret file ${file} (${code}); create it with the cluster's secret and chmod 600`,
        { cause: err },
      );
    }
    if ((mode & 0o077) !== 0) {
      logger.warn(
        { file, mode: `0${mode.toString(8)}` },
        'Found the cluster secret file readable by other users; restrict it with chmod 600',
      );
    }
    const secret = text.trim();
    if (secret.length === 0) throw new Error(`the cluster secret file ${file} is empty; write the cluster's secret into it`);
    if (Buffer.byteLength(secret, 'utf8') < SHORT_SECRET) {
      logger.warn({ file }, `Found a cluster secret shorter than ${SHORT_SECRET} bytes; use a long random one (e.g. openssl rand -hex 32)`);
    }
    return new ClusterCredential(digest(secret));
  }

  /**
   * Whether `presented` is the cluster secret. Both sides are hashed first, so the
   * comparison takes the same time whatever the lengths and wherever they differ.
   */
  matches(presented: string): boolean {
    return timingSafeEqual(digest(presented), this.#digest);
  }

  /** Throws UnauthenticatedError unless the call's metadata carries the cluster secret. */
  verify(metadata: Metadata): void {
    const values = metadata.get(AUTHORIZATION_METADATA);
    const header = values[0];
    if (typeof header !== 'string' || header === '') {
      throw new UnauthenticatedError(
        `missing credential: send metadata "${AUTHORIZATION_METADATA}: ${BEARER_SCHEME} <cluster secret>"`,
      );
    }
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    if (scheme.toLowerCase() !== BEARER_SCHEME.toLowerCase() || space < 0) {
      throw new UnauthenticatedError(
        `malformed credential: metadata "${AUTHORIZATION_METADATA}" must be "${BEARER_SCHEME} <cluster secret>"`,
      );
    }
    // Compare even when there are several values, so timing does not tell them apart.
    const ok = this.matches(header.slice(space + 1).trim()) && values.length === 1;
    if (!ok) {
      throw new UnauthenticatedError(
        "credential rejected: the bearer secret is not this cluster's secret; check the leader's secret file",
      );
    }
  }

  /** Never reveal the digest either. */
  toJSON(): string {
    return '[ClusterCredential]';
  }
}
