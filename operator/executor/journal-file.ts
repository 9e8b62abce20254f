// The job journal on disk: <stateDir>/journal/jobs.jsonl, append-only, one JSON line per
// job event — the whole job as it is after the event, `{"job": {...}}` — so the last line
// of an id is that job's state, and the file as a whole answers "what happened" in order.
//
// - Durable: each line is written with O_APPEND and fdatasync'd before record() resolves;
//   creating the file fsyncs its directory. Appends are serialised, so lines never mix.
// - Crash-tolerant: a torn last line (a crash mid-write: no newline, not valid JSON) is
//   skipped with a warning and cut off before the next append; an unreadable line
//   elsewhere is skipped with a warning too. The journal is a record, never a reason
//   for the leader not to start.
// - Ids are decimal and monotonic across restarts: the next id is one above the highest
//   id in the file.
// - Fast: the file is read once when opened (10,000 jobs in well under a second); after
//   that, list() and get() answer from memory.
import { mkdir, open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { syncDirectory } from '../../common/atomic-file.ts';
import type { Job, JournalEntry, Journal } from '../ports/journal.ts';

/** The journal file of a state directory. */
export function journalFile(stateDir: string): string {
  return path.join(stateDir, 'journal', 'jobs.jsonl');
}

export interface FileJournalOptions {
  /** Where skipped lines are reported. @default a silent logger */
  logger?: Logger;
}

/** What reading a journal file found. */
export interface JournalRead {
  /** The latest state of each job, by id. */
  jobs: Map<string, Job>;
  /** The highest id seen, 0 when none. */
  highestId: number;
  /** Bytes of the file up to the end of its last complete line. */
  validBytes: number;
  /** Total bytes of the file. */
  fileBytes: number;
  /** The last line is a complete entry without its newline. */
  missingNewline: boolean;
  /** Lines skipped, with why (file:line: reason). */
  skipped: string[];
}

/** Reads a journal file (read-only; a missing file is an empty journal). For the command line and for open(). */
export async function readJournalFile(file: string): Promise<JournalRead> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { jobs: new Map(), highestId: 0, validBytes: 0, fileBytes: 0, missingNewline: false, skipped: [] };
    }
    throw err;
  }
  return parseJournal(file, bytes);
}

/** Every job of a journal file, latest state of each, in id order. */
export async function listJournalFile(file: string): Promise<Job[]> {
  return sortJobs((await readJournalFile(file)).jobs.values());
}

function parseJournal(file: string, bytes: Buffer): JournalRead {
  const jobs = new Map<string, Job>();
  const skipped: string[] = [];
  let highestId = 0;
  let offset = 0;
  let lineNo = 0;
  let validBytes = 0;
  let missingNewline = false;
  while (offset < bytes.length) {
    lineNo++;
    const newline = bytes.indexOf(0x0a, offset);
    const isLast = newline === -1;
    const end = isLast ? bytes.length : newline;
    const text = bytes.toString('utf8', offset, end);
    const next = isLast ? end : end + 1;
    if (text.trim() === '') {
      offset = next;
      if (!isLast) validBytes = next;
      continue;
    }
    const job = parseLine(text);
    if (typeof job === 'string') {
      skipped.push(`${file}:${lineNo}: ${isLast ? 'a torn last line (the leader stopped mid-write)' : job}`);
      if (!isLast) validBytes = next;
    } else {
      jobs.set(job.id, job);
      highestId = Math.max(highestId, Number(job.id));
      validBytes = next;
      missingNewline = isLast;
    }
    offset = next;
  }
  return { jobs, highestId, validBytes, fileBytes: bytes.length, missingNewline, skipped };
}

/** The job on a line, or what is wrong with it. */
function parseLine(text: string): Job | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const job = (value as Partial<JournalEntry>).job as unknown;
  if (job === null || typeof job !== 'object' || Array.isArray(job)) return 'no "job" object';
  const j = job as Record<string, unknown>;
  if (typeof j['id'] !== 'string' || !/^[1-9][0-9]*$/.test(j['id']) || !Number.isSafeInteger(Number(j['id']))) return '"job.id" is not a decimal id';
  if (typeof j['status'] !== 'string') return '"job.status" is missing';
  if (typeof j['intent'] !== 'string') return '"job.intent" is missing';
  if (!Array.isArray(j['commands'])) return '"job.commands" is missing';
  if (j['stages'] === null || typeof j['stages'] !== 'object') return '"job.stages" is missing';
  return job as Job;
}

/** Jobs in id order (numeric). */
export function sortJobs(jobs: Iterable<Job>): Job[] {
  return [...jobs].sort((a, b) => Number(a.id) - Number(b.id));
}

/** The journal of one state directory, kept in memory after it was read once. */
export class FileJournal implements Journal {
  readonly file: string;
  /** Lines skipped when the file was opened (file:line: reason). */
  readonly skipped: readonly string[];
  readonly #jobs: Map<string, Job>;
  #next: number;
  #handle: FileHandle | undefined;
  #tail: Promise<void> = Promise.resolve();
  #sorted: Job[] | undefined;
  /** Bytes to cut off before the first append (a torn last line), and whether a newline is owed. */
  #repair: { validBytes: number; fileBytes: number; missingNewline: boolean } | undefined;

  private constructor(file: string, read: JournalRead) {
    this.file = file;
    this.skipped = read.skipped;
    this.#jobs = read.jobs;
    this.#next = read.highestId + 1;
    this.#repair = read.fileBytes > 0 ? { validBytes: read.validBytes, fileBytes: read.fileBytes, missingNewline: read.missingNewline } : undefined;
  }

  /** Opens (reads) the journal at `file`, e.g. journalFile(stateDir); the file and its directory are created at the first record(). */
  static async open(file: string, options: FileJournalOptions = {}): Promise<FileJournal> {
    const read = await readJournalFile(file);
    const logger = options.logger ?? pino({ level: 'silent' });
    for (const line of read.skipped) logger.warn({ file }, `Skipped an unreadable journal line: ${line}`);
    return new FileJournal(file, read);
  }

  nextId(): Promise<string> {
    return Promise.resolve(String(this.#next++));
  }

  record(job: Job): Promise<void> {
    const copy = structuredClone(job);
    const line = `${JSON.stringify({ job: copy } satisfies JournalEntry)}\n`;
    const write = this.#tail.then(async () => {
      await this.#append(line);
      // The sorted list holds the job objects themselves: a new state of a known job
      // must drop it as well as a new job does (else list() shows the old state).
      this.#sorted = undefined;
      this.#jobs.set(copy.id, copy);
      const n = Number(copy.id);
      if (n >= this.#next) this.#next = n + 1;
    });
    // The chain goes on after a failed write; the caller still sees the failure.
    this.#tail = write.catch(() => undefined);
    return write;
  }

  list(): Promise<Job[]> {
    this.#sorted ??= sortJobs(this.#jobs.values());
    return Promise.resolve(this.#sorted.map((j) => structuredClone(j)));
  }

  get(id: string): Promise<Job | undefined> {
    const job = this.#jobs.get(id);
    return Promise.resolve(job === undefined ? undefined : structuredClone(job));
  }

  /** Closes the file (pending appends finish first). The journal can still be read; a later record() reopens it. */
  async close(): Promise<void> {
    await this.#tail;
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  async #append(line: string): Promise<void> {
    const handle = await this.#open();
    let text = line;
    const repair = this.#repair;
    if (repair !== undefined) {
      if (repair.validBytes < repair.fileBytes) await truncate(this.file, repair.validBytes);
      if (repair.missingNewline && repair.validBytes === repair.fileBytes) text = `\n${line}`;
      this.#repair = undefined;
    }
    const data = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < data.length) written += (await handle.write(data, written, data.length - written)).bytesWritten;
    await handle.datasync();
  }

  async #open(): Promise<FileHandle> {
    if (this.#handle !== undefined) return this.#handle;
    const dir = path.dirname(this.file);
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await open(this.file, 'a', 0o600);
    if (created !== undefined) {
      // Every directory from `dir` up to the first one created, and its parent, got a new entry.
      for (let d = dir; ; d = path.dirname(d)) {
        await syncDirectory(d);
        if (d.length <= created.length || d === path.dirname(d)) {
          await syncDirectory(path.dirname(d));
          break;
        }
      }
    } else if ((await handle.stat()).size === 0) {
      await syncDirectory(dir);
    }
    this.#handle = handle;
    return handle;
  }
}
