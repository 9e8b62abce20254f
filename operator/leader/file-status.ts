// What the leader tells about the desired-state file it follows (ClusterStatus.file):
// the id the file holds, a digest of its text (so `coxswain wait` knows whether the
// leader has read the latest save), and what became of that reading. The file source
// records the reading; the status joins it with the reconciler's state, because a
// pending edit is accepted — or refused, when validated again — later.
import { createHash } from 'node:crypto';
import { parse as parseJsonc } from 'jsonc-parser';
import type { ClusterStatus, StatusFile } from '../model/status.ts';

/** SHA-256 (hex) of a desired-state file's text, as the file reader returns it (no byte-order mark). */
export function fileTextDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The top-level "id" of a desired-state text, valid or not; null when it has none that is a whole number. */
export function idInText(text: string | undefined): number | null {
  if (text === undefined) return null;
  const parsed: unknown = parseJsonc(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const id = (parsed as Record<string, unknown>)['id'];
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : null;
}

/**
 * `status` with the file's reading, its outcome brought up to date: a pending edit the
 * reconciler has since accepted is 'accepted'; one it refused when it validated it again
 * (lastRefusal names its id, and it no longer waits) is 'refused', with the reason.
 */
export function withFileStatus(status: ClusterStatus, reading: StatusFile | null): ClusterStatus {
  if (reading === null) return { ...status, file: null };
  const file = { ...reading };
  if (file.outcome === 'pending' && file.id !== null && status.pendingId !== file.id) {
    if ((status.acceptedId ?? 0) >= file.id) {
      file.outcome = 'accepted';
    } else if (status.lastRefusal !== null && status.lastRefusal.id === file.id) {
      file.outcome = 'refused';
      file.reason = status.lastRefusal.reason;
    }
  }
  return { ...status, file };
}
