// A desired state that waited (pending) while the leader worked was validated against the
// desired state accepted back then. When the work ends it is validated again, against
// the one accepted now, before it may be appended: the transition rules are about the
// step from the latest accepted state, and that may have changed meanwhile.
import { checkRules } from '../../desired-state/rules.ts';
import { checkTransition } from '../../desired-state/transition.ts';
import type { Desired } from '../../desired-state/types.ts';
import { validateDesiredStateText, type ValidationResult } from '../../desired-state/validate.ts';

/** `candidate` validated again against `previous` (the latest accepted desired state, if any). */
export function revalidate(candidate: ValidationResult, previous: Desired | undefined, everRan: boolean): ValidationResult {
  const opts = previous === undefined ? { everRan } : { previous, everRan };
  // With its text, validate exactly as a file is: problems keep their file:line:col.
  if (candidate.source !== undefined) return validateDesiredStateText(candidate.source, opts);
  const desired = candidate.desired;
  if (desired === undefined) return candidate;
  const rules = checkRules(desired);
  if (rules.length > 0) return { verdict: 'invalid', problems: rules };
  const transition = checkTransition(previous, desired, { everRan });
  if (transition.length > 0) {
    const verdict = transition.every((p) => p.code === 'id-not-increasing') ? 'ignored' : 'invalid';
    return { verdict, problems: transition };
  }
  return { verdict: 'valid', desired, problems: [] };
}
