// Accepting a desired state: a validated candidate becomes the next version in the
// history. Refused and ignored candidates change nothing.
import type { Problem } from './problem.ts';
import type { SourceText } from './read-source.ts';
import type { DesiredStateHistory, HistoryEntry } from './history.ts';
import { idNotIncreasing } from './transition.ts';
import { validateDesiredStateFile, type ValidationResult } from './validate.ts';

export type AcceptOutcome =
  | { status: 'accepted'; entry: HistoryEntry }
  | {
      status: 'ignored' | 'refused';
      problems: Problem[];
      /** The text the problems point into, for formatProblems. */
      source?: SourceText;
    };

/**
 * Appends a candidate that was validated against `history.latest()`.
 * If the history moved on since (another submission won the race), the candidate is
 * ignored with the usual id problem instead of failing the append.
 */
export function acceptDesiredState(history: DesiredStateHistory, result: ValidationResult, source: string): AcceptOutcome {
  const withSource = result.source === undefined ? {} : { source: result.source };
  if (result.verdict === 'ignored') return { status: 'ignored', problems: result.problems, ...withSource };
  if (result.verdict !== 'valid' || result.desired === undefined) {
    return { status: 'refused', problems: result.problems, ...withSource };
  }
  const latest = history.latest();
  if (latest !== undefined && result.desired.id <= latest.id) {
    return { status: 'ignored', problems: [idNotIncreasing(latest.id, result.desired.id)], ...withSource };
  }
  return { status: 'accepted', entry: history.append(result.desired, source) };
}

/**
 * Validates `file` against the latest accepted desired state (and whether the cluster
 * ever ran, from the whole history) and accepts it when valid.
 * @param source where the desired state came from @default `file:<file>`
 */
export function submitDesiredStateFile(history: DesiredStateHistory, file: string, source = `file:${file}`): AcceptOutcome {
  const latest = history.latest();
  const result = validateDesiredStateFile(file, {
    ...(latest === undefined ? {} : { previous: latest.desired }),
    everRan: history.everRan(),
  });
  return acceptDesiredState(history, result, source);
}
