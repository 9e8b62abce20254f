// The job journal in memory: the same contract as the file journal (latest state per id,
// monotonic decimal ids, copies in and out so a caller cannot change a recorded job), for
// unit tests and for the leaders of one simulated scenario, which share one instance the
// way real leaders share one state directory.
import type { Job, Journal } from '../ports/journal.ts';
import { sortJobs } from './journal-file.ts';

export class MemoryJournal implements Journal {
  readonly #jobs = new Map<string, Job>();
  /** Every record() in order, as the file would hold it (the whole job per event). */
  readonly events: Job[] = [];
  #next = 1;

  nextId(): Promise<string> {
    return Promise.resolve(String(this.#next++));
  }

  record(job: Job): Promise<void> {
    // One copy serves both: neither the map's entry nor the event is ever changed in place
    // (a later record replaces the entry; readers get copies).
    const copy = copyJob(job);
    this.#jobs.set(copy.id, copy);
    this.events.push(copy);
    const n = Number(copy.id);
    if (Number.isSafeInteger(n) && n >= this.#next) this.#next = n + 1;
    return Promise.resolve();
  }

  list(): Promise<Job[]> {
    return Promise.resolve(sortJobs(this.#jobs.values()).map(copyJob));
  }

  get(id: string): Promise<Job | undefined> {
    const job = this.#jobs.get(id);
    return Promise.resolve(job === undefined ? undefined : copyJob(job));
  }

  /** Jobs recorded so far (cheap: no copies). */
  get size(): number {
    return this.#jobs.size;
  }
}

/**
 * A deep copy of a job. A job is plain JSON data (the file journal writes it as a line),
 * so a walk over its objects and arrays does what structuredClone does, several times
 * faster: a simulated scenario records a few hundred jobs.
 */
function copyJob(job: Job): Job {
  return copyPlain(job);
}

function copyPlain<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyPlain) as T;
  const out: Record<string, unknown> = {};
  const from = value as Record<string, unknown>;
  for (const key of Object.keys(from)) {
    // An own "__proto__" key (from a map of names) stays an ordinary field.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copyPlain(from[key]), enumerable: true, writable: true, configurable: true });
    else out[key] = copyPlain(from[key]);
  }
  return out as T;
}
