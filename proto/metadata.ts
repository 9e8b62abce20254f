// Call metadata of the agent service: the names both sides use, in one place.
// These are gRPC metadata (HTTP/2 headers), not message fields, and the same on
// every call of the Agent service. The standard health service needs none of them.

/** `authorization: Bearer <cluster secret>` on every call; UNAUTHENTICATED when missing or wrong. */
export const AUTHORIZATION_METADATA = 'authorization';

/** The scheme in front of the cluster secret in `authorization` (matched case-insensitively). */
export const BEARER_SCHEME = 'Bearer';

/**
 * `coxswain-epoch: <decimal leader epoch>` on every call. An agent refuses a call
 * whose epoch is lower than the highest it has seen (FAILED_PRECONDITION, "stale leader").
 */
export const EPOCH_METADATA = 'coxswain-epoch';

/**
 * `coxswain-idempotency-key: <string>` on mutating calls only: a repeat with the same
 * key and request returns the recorded outcome instead of running again.
 */
export const IDEMPOTENCY_KEY_METADATA = 'coxswain-idempotency-key';

/** Longest idempotency key an agent accepts, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/** Trailing metadata of a failed call: the machine-readable reason, e.g. `STALE_LEADER`. */
export const ERROR_REASON_METADATA = 'coxswain-error-reason';

/** Trailing metadata of a failed call: details of the reason as a JSON object of strings. */
export const ERROR_DETAILS_METADATA = 'coxswain-error-details';

/** The value of `authorization` for a secret. */
export function bearer(secret: string): string {
  return `${BEARER_SCHEME} ${secret}`;
}
