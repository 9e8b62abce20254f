// Where the leader keeps the facts only it can know (LeaderFacts: which backup filled the
// cluster, whether it was ever formed). They decide what the planner may do — a formed
// cluster is never founded again, a restored one is never restored again — so they
// survive restarts: the file store replaces <stateDir>/leader/facts.json atomically
// (temporary file, fsync, rename, fsync of the directory), and a reader sees the old
// facts or the new, never a mix. The in-memory store serves tests and the simulated world.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import type { LeaderFacts } from '../model/observed.ts';

export interface FactsStore {
  /** The persisted facts; a cluster that has none yet gets { restoredFrom: undefined, formed: false }. */
  load(): Promise<LeaderFacts>;
  /** Persists `facts` durably before resolving. */
  save(facts: LeaderFacts): Promise<void>;
}

/** The facts of a cluster nothing happened to yet. */
export function initialFacts(): LeaderFacts {
  return { restoredFrom: undefined, formed: false };
}

/** The facts file of a state directory: <stateDir>/leader/facts.json. */
export function factsFile(stateDir: string): string {
  return path.join(stateDir, 'leader', 'facts.json');
}

/** The facts file exists but does not hold facts: a person must look at it. */
export class FactsFileError extends Error {
  override name = 'FactsFileError';
  readonly file: string;
  readonly problem: string;
  constructor(
    file: string,
    problem: string,
  ) {
    super(
      `${file}: the leader's facts file ${problem}. It records whether the cluster was formed and which backup filled it; ` +
        'restore it from a copy, or (only if the cluster never held data) delete it, then start the leader again',
    );
    this.file = file;
    this.problem = problem;
  }
}

/** Facts in a JSON file, replaced atomically on each save. */
export class FileFactsStore implements FactsStore {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }

  async load(): Promise<LeaderFacts> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return initialFacts();
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new FactsFileError(this.file, 'is not valid JSON');
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FactsFileError(this.file, 'is not a JSON object');
    const v = value as Record<string, unknown>;
    if (typeof v['formed'] !== 'boolean') throw new FactsFileError(this.file, 'lacks "formed" (true or false)');
    const restoredFrom = v['restoredFrom'];
    if (restoredFrom !== null && restoredFrom !== undefined && typeof restoredFrom !== 'string') {
      throw new FactsFileError(this.file, 'has a "restoredFrom" that is not a backup id');
    }
    return { restoredFrom: typeof restoredFrom === 'string' ? restoredFrom : undefined, formed: v['formed'] };
  }

  async save(facts: LeaderFacts): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const body = { restoredFrom: facts.restoredFrom ?? null, formed: facts.formed };
    await writeFileAtomic(this.file, `${JSON.stringify(body, null, 2)}\n`, 0o600);
  }
}

/** Facts in memory: for tests, and for the leaders of one simulated scenario (share one store). */
export class MemoryFactsStore implements FactsStore {
  #facts: LeaderFacts;
  /** How many times save() was called. */
  saves = 0;

  constructor(facts: LeaderFacts = initialFacts()) {
    this.#facts = { ...facts };
  }

  load(): Promise<LeaderFacts> {
    return Promise.resolve({ ...this.#facts });
  }

  save(facts: LeaderFacts): Promise<void> {
    this.#facts = { ...facts };
    this.saves++;
    return Promise.resolve();
  }
}
