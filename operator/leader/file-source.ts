// The desired-state file as a source: read it at start, then watch it and offer every
// edit to the leader. Editors save by writing a temporary file and renaming it over the
// original, which replaces the inode a watch on the file itself would follow, so the
// watch is on the directory and filters for the file's name. Saves come in bursts
// (truncate, write, rename, chmod …): a debounce waits until the file has been quiet.
//
// Each change is validated against the accepted latest desired state and offered; an
// invalid edit is refused by the leader (status.lastRefusal) and logged here, and the
// cluster keeps working towards the last accepted state. A save that leaves the text as
// it was offered last (or equal to what is accepted) is not offered again, so touching
// the file or restarting the leader does not show up as a refusal.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { canonicalJson } from '../../common/canonical-json.ts';
import type { Desired } from '../../desired-state/types.ts';
import { validateDesiredStateFile, validateDesiredStateText, type ValidateOptions, type ValidationResult } from '../../desired-state/validate.ts';
import type { StatusFile } from '../model/status.ts';
import type { LeaderApi, OfferResult } from '../ports/leader-api.ts';
import { fileTextDigest, idInText } from './file-status.ts';

export interface FileSourceOptions {
  /** The desired-state file. */
  file: string;
  /** Where valid and invalid edits are offered (the reconciler). */
  target: Pick<LeaderApi, 'offer'>;
  /** The accepted latest desired state and whether the cluster ever ran, read at each change. */
  validationContext: () => ValidateOptions;
  logger: Logger;
  /** Quiet time after the last change before the file is read, in ms. @default 300 */
  debounceMs?: number;
}

/** What became of one reading of the file. */
export type FileSourceEvent =
  | { kind: 'offered'; result: OfferResult }
  | { kind: 'unchanged'; reason: string }
  /** The offer itself failed (not the validation): the next save is offered again. */
  | { kind: 'failed'; reason: string };

export class FileSource {
  readonly #options: Required<FileSourceOptions>;
  readonly #name: string;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The text last offered (or found equal to the accepted state). */
  #lastText: string | undefined;
  /** The reading running now, and whether another must follow it. */
  #running: Promise<FileSourceEvent> | undefined;
  #again = false;
  #stopped = false;
  /** The last reading and what became of it (ClusterStatus.file); null before the first. */
  #reading: StatusFile | null = null;
  readonly #listeners: Array<(event: FileSourceEvent) => void> = [];

  constructor(options: FileSourceOptions) {
    this.#options = { debounceMs: 300, ...options, file: path.resolve(options.file) };
    if (!Number.isFinite(this.#options.debounceMs) || this.#options.debounceMs < 0) throw new Error(`debounceMs must be 0 or more, got ${this.#options.debounceMs}`);
    this.#name = path.basename(this.#options.file);
  }

  get file(): string {
    return this.#options.file;
  }

  /** The last reading of the file and what became of it; null before the first. */
  get reading(): StatusFile | null {
    return this.#reading === null ? null : { ...this.#reading };
  }

  /** Called after each reading of the file (tests, the progress view). */
  onEvent(listener: (event: FileSourceEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** Starts watching, then reads the file once and offers it. Resolves with that first reading. */
  async start(): Promise<FileSourceEvent> {
    this.#watcher = watch(path.dirname(this.#options.file), { persistent: false }, (_event, filename) => {
      if (filename === null || filename === this.#name) this.#schedule();
    });
    this.#watcher.on('error', (err) => {
      this.#options.logger.error({ file: this.#options.file, err: err.message }, 'Stopped watching the desired-state file: the watch failed; restart the leader to watch it again');
    });
    return this.readNow();
  }

  /** Stops watching; a reading in progress finishes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#watcher?.close();
    await this.#running?.catch(() => undefined);
  }

  /** Reads and offers the file now (after the reading in progress, if any). */
  readNow(): Promise<FileSourceEvent> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    const run = this.#read().finally(() => {
      this.#running = undefined;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.readNow();
      }
    });
    this.#running = run;
    return run;
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.readNow();
    }, this.#options.debounceMs);
  }

  async #read(): Promise<FileSourceEvent> {
    const { file, logger, target } = this.#options;
    const context = this.#options.validationContext();
    const candidate = validateDesiredStateFile(file, context);
    const text = candidate.source?.text;
    let event: FileSourceEvent;
    if (text !== undefined && text === this.#lastText) {
      event = { kind: 'unchanged', reason: 'the file has the text offered last' };
    } else if (isTheAcceptedState(candidate, context.previous)) {
      this.#lastText = text;
      event = { kind: 'unchanged', reason: `the file holds the accepted desired state ${context.previous?.id ?? ''}`.trim() };
      logger.info({ file, id: context.previous?.id }, 'Read the desired-state file: it holds the accepted desired state');
    } else {
      this.#lastText = text;
      try {
        const result = await target.offer(candidate, `file:${file}`);
        event = { kind: 'offered', result };
        this.#log(result);
      } catch (err) {
        this.#lastText = undefined;
        const reason = err instanceof Error ? err.message : String(err);
        event = { kind: 'failed', reason };
        logger.error({ file, err: reason }, 'Failed to offer the desired-state file to the reconciler; save the file again to retry');
      }
    }
    this.#record(event, candidate, context.previous?.id);
    for (const listener of this.#listeners) listener(event);
    return event;
  }

  /** Keeps what this reading found for the status; a text read again unchanged keeps the earlier outcome. */
  #record(event: FileSourceEvent, candidate: ValidationResult, acceptedId: number | undefined): void {
    const text = candidate.source?.text;
    const sha256 = text === undefined ? null : fileTextDigest(text);
    const base = { path: this.#options.file, id: idInText(text), sha256, readAt: new Date().toISOString() };
    switch (event.kind) {
      case 'unchanged':
        if (this.#reading !== null && this.#reading.sha256 === sha256 && this.#reading.outcome !== 'failed') return;
        this.#reading = { ...base, id: base.id ?? acceptedId ?? null, outcome: 'accepted', reason: null };
        return;
      case 'failed':
        this.#reading = { ...base, outcome: 'failed', reason: event.reason };
        return;
      case 'offered': {
        const { status, message } = event.result;
        this.#reading = { ...base, outcome: status, reason: status === 'ignored' || status === 'refused' ? message : null };
        return;
      }
    }
  }

  #log(result: OfferResult): void {
    const { file, logger } = this.#options;
    const fields = { file, id: result.id, outcome: result.status };
    switch (result.status) {
      case 'accepted':
        logger.info(fields, `Accepted desired state ${result.id ?? '?'} from the file`);
        break;
      case 'pending':
        logger.info(fields, `Queued desired state ${result.id ?? '?'} from the file: it is accepted when the current work ends`);
        break;
      case 'ignored':
        logger.warn({ ...fields, reason: result.message }, 'Ignored an edit of the desired-state file: its id is not above the accepted one; raise "id" to apply it');
        break;
      case 'refused':
        logger.warn({ ...fields, reason: result.message }, 'Refused an edit of the desired-state file; the cluster keeps the last accepted desired state. Fix the file and save it again');
        break;
    }
  }
}

/** The candidate only failed because it is the accepted desired state itself (same id, same content). */
function isTheAcceptedState(candidate: ValidationResult, previous: Desired | undefined): boolean {
  if (previous === undefined || candidate.verdict !== 'ignored' || candidate.source === undefined) return false;
  const alone = validateDesiredStateText(candidate.source);
  return alone.desired !== undefined && canonicalJson(alone.desired) === canonicalJson(previous);
}
