// Validation of a desired state: the one entry point the CLI and the leader use.
// read → parse → schema → single-state rules → transition from the accepted state.
// Each stage runs only when the one before found nothing, so a person fixes the
// problems in the order that makes sense (a syntax error first, not fifty
// consequences of it). Nothing here throws for a user's mistake.
import { parseDesiredStateText, type ParsedDocument } from './parse.ts';
import type { Problem } from './problem.ts';
import { readSourceFile, type SourceText } from './read-source.ts';
import { checkRules, problemPointsAtKey } from './rules.ts';
import { checkSchema } from './schema-check.ts';
import { checkTransition } from './transition.ts';
import type { Desired } from './types.ts';

/**
 * - 'valid': `desired` is set and may be accepted.
 * - 'invalid': at least one problem; nothing may be accepted.
 * - 'ignored': the only problem is that the id does not exceed the accepted one: the
 *   file is an old (or unchanged) version and is left alone.
 */
export type Verdict = 'valid' | 'invalid' | 'ignored';

export interface ValidationResult {
  verdict: Verdict;
  desired?: Desired;
  problems: Problem[];
  source?: SourceText;
}

export interface ValidateOptions {
  /** The accepted desired state to check the transition from; none for a first version. */
  previous?: Desired;
  /**
   * Whether the cluster ever ran (restoreFromBackup is refused once it has).
   * @default previous?.running ?? false
   */
  everRan?: boolean;
}

const BOM = '\uFEFF';

export function validateDesiredStateFile(file: string, opts: ValidateOptions = {}): ValidationResult {
  const read = readSourceFile(file);
  if (!read.ok) return { verdict: 'invalid', problems: read.problems };
  return validateDesiredStateText(read.source, opts);
}

export function validateDesiredStateText(source: SourceText, opts: ValidateOptions = {}): ValidationResult {
  // A byte-order mark is not part of the text (the file reader drops it too).
  const text = source.text.startsWith(BOM) ? { ...source, text: source.text.slice(BOM.length) } : source;
  const parsed = parseDesiredStateText(text);
  if (!parsed.ok) return invalid(parsed.problems, text);
  const schema = checkSchema(parsed.doc);
  if (!schema.ok) return invalid(schema.problems, text);
  const desired = schema.desired;

  const rules = checkRules(desired);
  if (rules.length > 0) return invalid(locate(rules, parsed.doc), text);

  const everRan = opts.everRan ?? opts.previous?.running ?? false;
  const transition = checkTransition(opts.previous, desired, { everRan });
  if (transition.length > 0) {
    const verdict = transition.every((p) => p.code === 'id-not-increasing') ? 'ignored' : 'invalid';
    return { verdict, problems: locate(transition, parsed.doc), source: text };
  }
  return { verdict: 'valid', desired, problems: [], source: text };
}

function invalid(problems: Problem[], source: SourceText): ValidationResult {
  return { verdict: 'invalid', problems, source };
}

/** Ties each problem to the text it is about, where the text has it (not a default). */
function locate(problems: Problem[], doc: ParsedDocument): Problem[] {
  return problems.map((p) => {
    if (p.location !== undefined) return p;
    const location = doc.locate(p.path, problemPointsAtKey(p) ? 'key' : 'value');
    return location === undefined ? p : { ...p, location };
  });
}
