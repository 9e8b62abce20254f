// Problems as a person reads them in a terminal:
//
//   desired_state.jsonc:12:5: error: $.replicationFactr: unknown field "replicationFactr"
//      12 |     "replicationFactr": 2,
//         |     ^^^^^^^^^^^^^^^^^^
//      hint: did you mean "replicationFactor"?
//
// The first line is stable (scripts grep it). Nothing from the source is printed raw:
// control characters become "�", and a long line is shown as a window around the column.
import type { Problem, SourceLocation } from './problem.ts';
import { formatJsonPath } from './problem.ts';
import type { SourceText } from './read-source.ts';
import { lineStartsOf, lineTextAt, problemFile } from './read-source.ts';

/** At most this many characters of a source line are shown. */
const EXCERPT_WIDTH = 100;
/** How many characters before the column a window keeps, when the line is cut. */
const EXCERPT_LEAD = 40;
const INDENT = '   ';

export function formatProblem(p: Problem, source?: SourceText): string {
  const location = p.location;
  const file = location?.file ?? problemFile(p) ?? source?.file ?? 'desired state';
  const where = location === undefined ? file : `${file}:${location.line}:${location.column}`;
  const lines = [sanitize(`${where}: error: ${formatJsonPath(p.path)}: ${p.message}`)];
  if (location !== undefined && source !== undefined && source.file === location.file) {
    lines.push(...excerpt(source, location));
  }
  if (p.hint !== undefined && p.hint !== '') lines.push(sanitize(`${INDENT}hint: ${p.hint}`));
  return lines.join('\n');
}

/** Every problem, in source order, and a last line `N problems in FILE`. */
export function formatProblems(problems: Problem[], source?: SourceText): string {
  const sorted = [...problems].sort(bySourceOrder);
  const named = problems.map((p) => p.location?.file ?? problemFile(p)).find((f) => f !== undefined);
  const file = source?.file ?? named ?? 'desired state';
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${sanitize(file)}`;
  return [...sorted.map((p) => formatProblem(p, source)), count].join('\n\n');
}

/** By line and column; problems without a location (about the whole file) last. */
function bySourceOrder(a: Problem, b: Problem): number {
  const la = a.location;
  const lb = b.location;
  if (la === undefined || lb === undefined) return (la === undefined ? 1 : 0) - (lb === undefined ? 1 : 0);
  return la.line - lb.line || la.column - lb.column;
}

/** The source line and a caret line under the located characters. */
function excerpt(source: SourceText, location: SourceLocation): string[] {
  const starts = lineStartsOf(source);
  if (location.line < 1 || location.line > starts.length) return [];
  const line = lineTextAt(source.text, starts, location.line);
  const column = Math.min(Math.max(location.column - 1, 0), line.length);
  const window = windowAround(line, column);
  const shown = window.prefix + line.slice(window.start, window.end) + window.suffix;
  const at = column - window.start + window.prefix.length;
  const carets = Math.max(1, Math.min(location.length, window.end - column));
  const lead = [...shown.slice(0, at)].map((c) => (c === '\t' ? '\t' : ' ')).join('');
  const number = String(location.line);
  return [
    `${INDENT}${number} | ${sanitize(shown)}`.trimEnd(),
    `${INDENT}${' '.repeat(number.length)} | ${lead}${'^'.repeat(carets)}`,
  ];
}

interface Window {
  start: number;
  end: number;
  prefix: string;
  suffix: string;
}

/** The part of a long line worth showing: up to EXCERPT_WIDTH characters around `column`. */
function windowAround(line: string, column: number): Window {
  if (line.length <= EXCERPT_WIDTH) return { start: 0, end: line.length, prefix: '', suffix: '' };
  let start = Math.max(0, Math.min(column - EXCERPT_LEAD, line.length - EXCERPT_WIDTH));
  let end = Math.min(line.length, start + EXCERPT_WIDTH);
  // Never cut a character made of two UTF-16 units in half.
  if (isLowSurrogate(line.charCodeAt(start)) && start > 0 && start < column) start++;
  if (isLowSurrogate(line.charCodeAt(end)) && end > column + 1) end--;
  return { start, end, prefix: start > 0 ? '…' : '', suffix: end < line.length ? '…' : '' };
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

// C0 and C1 control characters, DEL, bidirectional overrides (which can make a line read
// differently from what it contains), and lone surrogates.
// eslint-disable-next-line no-control-regex -- control characters are what this replaces
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text for the terminal: tabs kept (so the caret lines up under an excerpt), everything
 * else that is not printable replaced; a message stays on its one line.
 */
function sanitize(text: string): string {
  return text.replace(UNSAFE, '\uFFFD');
}
