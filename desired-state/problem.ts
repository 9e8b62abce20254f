// A problem found in a desired state: what is wrong, where, and what to do.
// Every check (syntax, schema, single-state rules, transition rules) reports these;
// nothing throws for a user's mistake.

/** A JSON path as segments: ['backups', 1, 'sink', 'path']. The root is []. */
export type JsonPath = ReadonlyArray<string | number>;

/** Stable, machine-readable kinds of problem (tests and scripts match on these). */
export type ProblemCode =
  // reading and syntax
  | 'file-unreadable'
  | 'file-too-large'
  | 'not-text'
  | 'empty'
  | 'syntax'
  | 'duplicate-key'
  | 'too-deep'
  // schema
  | 'not-object'
  | 'unknown-field'
  | 'missing-field'
  | 'wrong-type'
  | 'out-of-range'
  | 'bad-value'
  | 'duplicate-item'
  // single-state rules
  | 'rule'
  // transition rules between the accepted state and a candidate
  | 'id-not-increasing'
  | 'immutable-field'
  | 'transition'
  // the leader's check against the cluster as observed (operator/reconciler/reachable.ts)
  | 'unreachable';

export interface SourceLocation {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based, in characters (UTF-16 code units) of the line */
  column: number;
  /** characters to underline in the excerpt (≥ 1) */
  length: number;
}

export interface Problem {
  code: ProblemCode;
  path: JsonPath;
  /** What is wrong, in a sentence without the location. */
  message: string;
  /** What to do about it. */
  hint?: string;
  /** Where, when the problem is tied to source text. */
  location?: SourceLocation;
}

/** `$`, `$.nodeGroups`, `$.backups[1].sink.path`, `$.config["maxmemory-policy"]`. */
export function formatJsonPath(path: JsonPath): string {
  let out = '$';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function problem(
  code: ProblemCode,
  path: JsonPath,
  message: string,
  hint?: string,
): Problem {
  return hint === undefined ? { code, path, message } : { code, path, message, hint };
}
