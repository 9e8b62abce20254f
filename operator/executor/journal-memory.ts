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
    const copy = structuredClone(job);
    this.#jobs.set(copy.id, copy);
    this.events.push(copy);
    const n = Number(copy.id);
    if (Number.isSafeInteger(n) && n >= this.#next) this.#next = n + 1;
    return Promise.resolve();
  }

  list(): Promise<Job[]> {
    return Promise.resolve(sortJobs(this.#jobs.values()).map((j) => structuredClone(j)));
  }

  get(id: string): Promise<Job | undefined> {
    const job = this.#jobs.get(id);
    return Promise.resolve(job === undefined ? undefined : structuredClone(job));
  }

  /** Jobs recorded so far (cheap: no copies). */
  get size(): number {
    return this.#jobs.size;
  }
}
