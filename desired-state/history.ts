// The versioned desired-state history (JobScheduler's idea): every accepted desired
// state is a version with its source, time and checksum, kept append-only in
// <stateDir>/history/desired-states.jsonl, one JSON object per line.
//
// Durability: a line is written with O_APPEND and the file is fsynced before append()
// returns (the directories too when the file is created). A crash mid-write can leave
// a torn last line (no newline, not a complete entry): it was never acknowledged, so
// reading ignores it and the next append cuts it off. Anything wrong before the last
// line is corruption: reading stops with an error naming the file and line.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { Desired } from './types.ts';
import { canonicalJson } from '../common/canonical-json.ts';

export type { Operation };

export interface HistoryEntry {
  id: number;
  /** ISO-8601 time of acceptance. */
  acceptedAt: string;
  /** Where it came from: "file:desired_state.jsonc", "api", … */
  source: string;
  /** SHA-256 (hex) of the canonical JSON of `desired`. */
  sha256: string;
  desired: Desired;
}

/** Base class of the history's errors (none of them is a user's validation mistake). */
export class HistoryError extends Error {
  override name = 'HistoryError';
}

/** A line before the last one is not a valid entry; the history needs a person. */
export class HistoryCorruptError extends HistoryError {
  override name = 'HistoryCorruptError';
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  constructor(
    file: string,
    line: number,
    reason: string,
  ) {
    super(
      `${file}:${line}: the desired-state history is damaged: ${reason}. ` +
        'Coxswain never rewrites its history, so it stops here: restore the file from a copy, or move it aside ' +
        (line > 1 ? `(lines 1 to ${line - 1} are intact) ` : '') +
        'and submit the current desired state again',
    );
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

/** append() was called with an id that is not above the latest one: validate first. */
export class HistoryIdNotIncreasingError extends HistoryError {
  override name = 'HistoryIdNotIncreasingError';
  readonly id: number;
  readonly latestId: number;
  constructor(
    id: number,
    latestId: number,
  ) {
    super(`cannot append desired state ${id}: the latest accepted id is ${latestId} (validate against history.latest() first)`);
    this.id = id;
    this.latestId = latestId;
  }
}

export function sha256Of(desired: Desired): string {
  return createHash('sha256').update(canonicalJson(desired)).digest('hex');
}

/** What reading the file found: the entries, and how to continue appending. */
interface ReadResult {
  entries: HistoryEntry[];
  /** Bytes of the file that hold complete entries (a torn tail starts here). */
  validBytes: number;
  /** Total bytes of the file. */
  fileBytes: number;
  /** The last complete entry lacks its newline (a crash right before it). */
  missingNewline: boolean;
}

export class DesiredStateHistory {
  readonly file: string;
  readonly stateDir: string;
  private readonly clock: () => Date;

  constructor(
    stateDir: string,
    clock: () => Date = () => new Date(),
  ) {
    this.stateDir = stateDir;
    this.clock = clock;
    this.file = join(stateDir, 'history', 'desired-states.jsonl');
  }

  /** Every accepted desired state, oldest first. */
  list(): HistoryEntry[] {
    return this.read().entries;
  }

  get(id: number): HistoryEntry | undefined {
    return this.list().find((e) => e.id === id);
  }

  latest(): HistoryEntry | undefined {
    return this.list().at(-1);
  }

  /** Whether any accepted desired state asked for the cluster to run. */
  everRan(): boolean {
    return this.list().some((e) => e.desired.running);
  }

  /** Appends `desired` as the next version; its id must exceed the latest one. */
  append(desired: Desired, source: string): HistoryEntry {
    const state = this.read();
    const latest = state.entries.at(-1);
    if (latest !== undefined && desired.id <= latest.id) throw new HistoryIdNotIncreasingError(desired.id, latest.id);
    const copy = JSON.parse(canonicalJson(desired)) as Desired;
    const entry: HistoryEntry = {
      id: copy.id,
      acceptedAt: this.clock().toISOString(),
      source,
      sha256: sha256Of(copy),
      desired: copy,
    };
    this.prepareFile(state);
    const line = `${state.missingNewline ? '\n' : ''}${JSON.stringify(entry)}\n`;
    appendDurably(this.file, line);
    return entry;
  }

  /** Creates the directory and file on first use; cuts off a torn last line. */
  private prepareFile(state: ReadResult): void {
    if (state.fileBytes === 0 && !exists(this.file)) {
      createDurably(this.file);
      return;
    }
    if (state.validBytes < state.fileBytes) {
      truncateSync(this.file, state.validBytes);
      const fd = openSync(this.file, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }

  private read(): ReadResult {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return { entries: [], validBytes: 0, fileBytes: 0, missingNewline: false };
      }
      throw new HistoryError(`cannot read the desired-state history ${this.file}: ${(error as Error).message}`);
    }
    return parseHistory(this.file, bytes);
  }
}

// ───────────────────────────── reading ─────────────────────────────

/** Splits the file into lines and checks each; see the file comment for the rules. */
function parseHistory(file: string, bytes: Buffer): ReadResult {
  const entries: HistoryEntry[] = [];
  let offset = 0;
  let lineNo = 0;
  let missingNewline = false;
  while (offset < bytes.length) {
    lineNo++;
    const newline = bytes.indexOf(0x0a, offset);
    const end = newline === -1 ? bytes.length : newline;
    const text = bytes.subarray(offset, end).toString('utf8');
    const isLast = newline === -1;
    if (text.trim() === '') {
      offset = end + 1;
      continue;
    }
    const checked = checkEntry(text, entries.at(-1));
    if (typeof checked === 'string') {
      // Without its newline the last line was never acknowledged: a torn write.
      if (isLast) return { entries, validBytes: offset, fileBytes: bytes.length, missingNewline: false };
      throw new HistoryCorruptError(file, lineNo, checked);
    }
    entries.push(checked);
    missingNewline = isLast;
    offset = isLast ? end : end + 1;
  }
  return { entries, validBytes: bytes.length, fileBytes: bytes.length, missingNewline };
}

/** The entry on one line, or what is wrong with it. */
function checkEntry(text: string, previous: HistoryEntry | undefined): HistoryEntry | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the line is not valid JSON';
  }
  const shape = entryShapeProblem(value);
  if (shape !== undefined) return shape;
  const entry = value as HistoryEntry;
  if (sha256Of(entry.desired) !== entry.sha256) return `the checksum of desired state ${entry.id} does not match its content`;
  if (entry.desired.id !== entry.id) return `the entry's id ${entry.id} differs from its desired state's id ${String(entry.desired.id)}`;
  if (previous !== undefined && entry.id <= previous.id)
    return `id ${entry.id} does not follow the previous entry's id ${previous.id}`;
  return entry;
}

function entryShapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the line is not a JSON object';
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v['id'])) return '"id" is missing or not an integer';
  if (typeof v['acceptedAt'] !== 'string') return '"acceptedAt" is missing';
  if (typeof v['source'] !== 'string') return '"source" is missing';
  if (typeof v['sha256'] !== 'string') return '"sha256" is missing';
  const d = v['desired'];
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return '"desired" is missing or not an object';
  return undefined;
}

// ───────────────────────────── writing ─────────────────────────────

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates the file (and its directories), then fsyncs the directories that changed. */
function createDurably(file: string): void {
  const dir = dirname(file);
  const created = mkdirSync(dir, { recursive: true });
  const fd = openSync(file, 'a');
  closeSync(fd);
  fsyncDirectory(dir);
  if (created !== undefined) {
    // Every directory from the first one created up to `dir` got a new entry in its parent.
    for (let d = dir; d.length >= created.length && d !== dirname(d); d = dirname(d)) fsyncDirectory(dirname(d));
  }
}

function appendDurably(file: string, line: string): void {
  const fd = openSync(file, 'a');
  try {
    const data = Buffer.from(line, 'utf8');
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

// ───────────────────────────── diff ─────────────────────────────

/**
 * The JSON patch (RFC 6902) from `a` to `b`. It is invertible: every replace and
 * remove is preceded by a `test` of the old value, so the patch says what changed
 * from what, and applying it to anything but `a` fails instead of doing harm.
 */
export function diffDesired(a: Desired, b: Desired): Operation[] {
  return jsonpatch.compare(a, b, true);
}

/** One line per change: `replace /replicationFactor 2 → 3`, `add /backups/1 {…}`. */
export function formatPatch(ops: readonly Operation[]): string {
  const lines: string[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Operation;
    const next = ops[i + 1];
    if (op.op === 'test' && next !== undefined && next.path === op.path && (next.op === 'replace' || next.op === 'remove')) {
      lines.push(
        next.op === 'replace'
          ? `replace ${op.path} ${show(op.value)} → ${show(next.value)}`
          : `remove ${op.path} (was ${show(op.value)})`,
      );
      i++;
      continue;
    }
    lines.push(formatOne(op));
  }
  return lines.join('\n');
}

function formatOne(op: Operation): string {
  switch (op.op) {
    case 'add':
    case 'replace':
    case 'test':
      return `${op.op} ${op.path} ${show(op.value)}`;
    case 'remove':
      return `remove ${op.path}`;
    case 'move':
    case 'copy':
      return `${op.op} ${op.from} → ${op.path}`;
    default:
      return JSON.stringify(op);
  }
}

function show(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}
