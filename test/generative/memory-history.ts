// The desired-state history in memory, for the simulated leader: the same class the
// reconciler takes (DesiredStateHistory), with the file replaced by an array, so a
// scenario writes nothing to disk and a restarted leader reads what the old one
// "persisted". It also tells the world which desired state was accepted (the world's
// safety checks need `running` and `restoreFromBackup`).
import { canonicalJson } from '../../common/canonical-json.ts';
import { DesiredStateHistory, HistoryIdNotIncreasingError, sha256Of, type HistoryEntry } from '../../desired-state/history.ts';
import type { Desired } from '../../desired-state/types.ts';

export class MemoryHistory extends DesiredStateHistory {
  readonly #entries: HistoryEntry[] = [];
  readonly #now: () => Date;
  readonly #onAppend: (desired: Desired) => void;

  constructor(now: () => Date, onAppend: (desired: Desired) => void = () => undefined) {
    super('memory-history', now);
    this.#now = now;
    this.#onAppend = onAppend;
  }

  override list(): HistoryEntry[] {
    return [...this.#entries];
  }

  override get(id: number): HistoryEntry | undefined {
    return this.#entries.find((e) => e.id === id);
  }

  override latest(): HistoryEntry | undefined {
    return this.#entries.at(-1);
  }

  override everRan(): boolean {
    return this.#entries.some((e) => e.desired.running);
  }

  override append(desired: Desired, source: string): HistoryEntry {
    const latest = this.#entries.at(-1);
    if (latest !== undefined && desired.id <= latest.id) throw new HistoryIdNotIncreasingError(desired.id, latest.id);
    const copy = JSON.parse(canonicalJson(desired)) as Desired;
    const entry: HistoryEntry = { id: copy.id, acceptedAt: this.#now().toISOString(), source, sha256: sha256Of(copy), desired: copy };
    this.#entries.push(entry);
    this.#onAppend(copy);
    return entry;
  }
}
