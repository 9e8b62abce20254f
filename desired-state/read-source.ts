// Reading a desired-state file: size limit, text check, empty check. Nothing here
// throws for a user's mistake; every refusal is a Problem a person can act on.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import { createScanner } from 'jsonc-parser';
import type { Problem, ProblemCode } from './problem.ts';
import { problem } from './problem.ts';

/** A desired state is a few KiB; anything over this is refused before it is read. */
export const MAX_DESIRED_STATE_BYTES = 1024 * 1024;
/** Objects and arrays nested deeper than this are refused (v1 needs 4 levels). */
export const MAX_NESTING_DEPTH = 32;

/** The text of a desired-state file: without a byte-order mark, line endings as they are. */
export interface SourceText {
  file: string;
  text: string;
}

export type SourceResult = { ok: true; source: SourceText } | { ok: false; problems: Problem[] };

const EXAMPLE_HINT = 'start from the example desired-state/desired_state.jsonc: copy it and edit the copy';

/** Stats, then reads `file` (never more than the limit) and checks it is a non-empty text. */
export function readSourceFile(file: string): SourceResult {
  let size: number;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) return unreadable(file, 'it is a directory, not a file');
    size = stat.size;
  } catch (error) {
    return unreadable(file, osReason(error));
  }
  if (size > MAX_DESIRED_STATE_BYTES) return { ok: false, problems: [tooLarge(file, size)] };
  const read = readAtMost(file, MAX_DESIRED_STATE_BYTES + 1);
  if (typeof read === 'string') return unreadable(file, read);
  return checkSourceBytes(file, read);
}

/** The checks on the bytes of a file: size, UTF-8 text without NUL, not blank. */
export function checkSourceBytes(file: string, bytes: Uint8Array): SourceResult {
  if (bytes.length > MAX_DESIRED_STATE_BYTES) return { ok: false, problems: [tooLarge(file, bytes.length)] };
  const body = hasUtf8Bom(bytes) ? bytes.subarray(3) : bytes;
  const text = decodeUtf8(body);
  if (text === undefined) return { ok: false, problems: [notText(file, body)] };
  const source: SourceText = { file, text };
  const blank = blankSourceProblem(source);
  return blank === undefined ? { ok: true, source } : { ok: false, problems: [blank] };
}

/** An 'empty' problem when the text holds only whitespace and comments. */
export function blankSourceProblem(source: SourceText): Problem | undefined {
  if (!isBlank(source.text)) return undefined;
  const message =
    source.text.length === 0
      ? 'the file is empty'
      : 'the file is empty: it holds only whitespace and comments, no desired state';
  return fileProblem(source.file, 'empty', message, EXAMPLE_HINT);
}

/**
 * A problem about a whole file (no line to point at) that still names the file, so
 * `formatProblem` can print `FILE: error: …` even when no source text could be read.
 */
export type FileProblem = Problem & { file: string };

export function fileProblem(file: string, code: ProblemCode, message: string, hint?: string): FileProblem {
  return { ...problem(code, [], message, hint), file };
}

/** The file a whole-file problem is about, if it says. */
export function problemFile(p: Problem): string | undefined {
  const file = (p as Partial<FileProblem>).file;
  return typeof file === 'string' ? file : undefined;
}

// ---------------------------------------------------------------------------------------
// Lines and columns, shared by the parser and the formatter. A line ends at "\r\n", "\r"
// or "\n"; columns are 1-based UTF-16 code units and never count the line break.

const lineStartsCache = new WeakMap<SourceText, { text: string; starts: number[] }>();

/** Offsets where each line of `text` starts (the first is 0). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d) {
      if (text.charCodeAt(i + 1) === 0x0a) i++;
      starts.push(i + 1);
    } else if (c === 0x0a) {
      starts.push(i + 1);
    }
  }
  return starts;
}

/** `lineStarts` of a source, computed once per source text. */
export function lineStartsOf(source: SourceText): number[] {
  const cached = lineStartsCache.get(source);
  if (cached !== undefined && cached.text === source.text) return cached.starts;
  const starts = lineStarts(source.text);
  lineStartsCache.set(source, { text: source.text, starts });
  return starts;
}

/** 1-based line and column of a 0-based offset. */
export function lineColumnAt(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}

/** The text of a 1-based line, without its line break ('' past the end). */
export function lineTextAt(text: string, starts: readonly number[], line: number): string {
  const start = starts[line - 1];
  if (start === undefined) return '';
  let end = starts[line] ?? text.length;
  if (end > start && text.charCodeAt(end - 1) === 0x0a) end--;
  if (end > start && text.charCodeAt(end - 1) === 0x0d) end--;
  return text.slice(start, end);
}

// ---------------------------------------------------------------------------------------

function unreadable(file: string, reason: string): SourceResult {
  return { ok: false, problems: [fileProblem(file, 'file-unreadable', `cannot read the file: ${reason}`, unreadableHint(reason))] };
}

function unreadableHint(reason: string): string {
  if (reason.startsWith('no such file')) return 'check the path; a relative path is relative to the current directory';
  if (reason.startsWith('it is a directory')) return 'give the desired-state file itself, e.g. DIR/desired_state.jsonc';
  if (reason.startsWith('permission') || reason.startsWith('operation not permitted')) return "check the file's permissions";
  return 'check the path and the file';
}

function tooLarge(file: string, size: number): Problem {
  return fileProblem(
    file,
    'file-too-large',
    `the file is too large: ${formatBytes(size)} (${size} bytes), over the limit of ${formatBytes(MAX_DESIRED_STATE_BYTES)}`,
    'a desired state is a few KiB; check that this is the desired-state file you meant',
  );
}

/** "512 bytes", "3.5 KiB", "20 MiB". */
function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${shown} ${units[unit] ?? 'TiB'}`;
}

/** Reads up to `limit` bytes, or returns the reason it could not. */
function readAtMost(file: string, limit: number): Uint8Array | string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    return osReason(error);
  }
  try {
    // A regular file cannot be over the limit here; a device or pipe is read until the
    // limit, so /dev/zero or an endless pipe is refused as too large instead of hanging.
    if (fstatSync(fd).isDirectory()) return 'it is a directory, not a file';
    const buffer = Buffer.alloc(limit);
    let length = 0;
    while (length < limit) {
      const n = readSync(fd, buffer, length, limit - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } catch (error) {
    return osReason(error);
  } finally {
    closeSync(fd);
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory (the file does not exist)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links (a link loop?)',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files on this system',
  EIO: 'an input/output error from the disk or file system',
  EAGAIN: 'the file is not ready to be read (try again)',
  ENXIO: 'no such device (a socket or a device that is not there?)',
};

/** The OS reason in words: "permission denied", not "EACCES: ..., open '...'". */
function osReason(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'an unknown error';
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (typeof code === 'string' && REASONS[code] !== undefined) return REASONS[code];
  if (typeof errno === 'number') {
    const known = getSystemErrorMap().get(errno);
    if (known !== undefined) return known[1];
  }
  return typeof code === 'string' ? `the operating system said ${code}` : 'an unknown error';
}

function hasUtf8Bom(bytes: Uint8Array): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The decoded text, or undefined when the bytes are not UTF-8 text without NUL. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function notText(file: string, bytes: Uint8Array): Problem {
  const invalid = firstInvalidUtf8(bytes);
  const nul = bytes.indexOf(0);
  const found = nul >= 0 && (invalid < 0 || nul < invalid) ? nul : invalid;
  const bad = Math.max(0, found);
  const byte = bytes[bad] ?? 0;
  const what =
    bad === nul
      ? 'the file is binary, not text: it contains a NUL byte'
      : `the file is not UTF-8 text: byte 0x${byte.toString(16).padStart(2, '0')} is not valid UTF-8`;
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  const hint = utf16
    ? 'the file looks like UTF-16; save it as UTF-8'
    : 'a desired state is a JSON text file in UTF-8; check that this is the file you meant';
  const prefix = new TextDecoder('utf-8').decode(bytes.subarray(0, bad));
  const { line, column } = lineColumnAt(lineStarts(prefix), prefix.length);
  return { ...problem('not-text', [], what, hint), location: { file, line, column, length: 1 } };
}

/** Offset of the first byte that breaks UTF-8, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const n = utf8SequenceLength(bytes, i);
    if (n === 0) return i;
    i += n;
  }
  return -1;
}

/** Length of the valid UTF-8 sequence at `i`, or 0 when it is not valid. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] ?? 0;
  if (b0 < 0x80) return 1;
  let need: number;
  let min: number;
  let max = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) [need, min] = [1, 0x80];
  else if (b0 === 0xe0) [need, min] = [2, 0xa0];
  else if (b0 === 0xed) [need, min, max] = [2, 0x80, 0x9f];
  else if (b0 >= 0xe1 && b0 <= 0xef) [need, min] = [2, 0x80];
  else if (b0 === 0xf0) [need, min] = [3, 0x90];
  else if (b0 === 0xf4) [need, min, max] = [3, 0x80, 0x8f];
  else if (b0 >= 0xf1 && b0 <= 0xf3) [need, min] = [3, 0x80];
  else return 0;
  for (let k = 1; k <= need; k++) {
    const b = bytes[i + k];
    if (b === undefined || b < (k === 1 ? min : 0x80) || b > (k === 1 ? max : 0xbf)) return 0;
  }
  return need + 1;
}

/** Only whitespace and complete comments (an unfinished comment is left to the parser). */
function isBlank(text: string): boolean {
  const scanner = createScanner(text, false);
  for (;;) {
    const token = scanner.scan();
    if (scanner.getTokenError() !== 0) return false;
    switch (token) {
      case 12: // LineCommentTrivia
      case 13: // BlockCommentTrivia
      case 14: // LineBreakTrivia
      case 15: // Trivia
        continue;
      case 17: // EOF
        return true;
      default:
        return false;
    }
  }
}
