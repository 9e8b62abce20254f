// A simulated VM's agent state dir (agent/server/state-dir.ts), for the REAL epoch fence
// and idempotency store that sim-agent.ts runs: files in memory (SimVm.agentFiles, which
// outlive the agent's process as a disk does), written on virtual time. A write takes
// DISK_WRITE_MS (the fsyncs of a small file and its directory), longer under a
// 'disk-slow' fault, and counts only if the process that made it still runs when it
// completes: a process that died meanwhile wrote nothing (the rename never happened).
import type { StateDir } from '../../agent/server/state-dir.ts';
import type { VirtualClock } from '../support/virtual-clock.ts';

/** Virtual time of one durable write, ms. */
export const DISK_WRITE_MS = 2;

export interface SimStateDirOptions {
  /** The VM's agent files, by path in the state dir. */
  files: Map<string, string>;
  /** This directory's path in the state dir ('' or 'idempotency/'). */
  prefix: string;
  /** For messages: the VM. */
  vmId: string;
  clock: VirtualClock;
  /** Whether the agent process that opened this directory still runs. */
  alive: () => boolean;
  /** Extra virtual time of a write now, ms (a 'disk-slow' fault). */
  slowMs: () => number;
}

export class SimStateDir implements StateDir {
  readonly #o: SimStateDirOptions;

  constructor(options: SimStateDirOptions) {
    this.#o = options;
  }

  where(name: string): string {
    return `${this.#o.vmId}:<agent data dir>/${this.#o.prefix}${name}`;
  }

  read(name: string): Promise<string | undefined> {
    return Promise.resolve(this.#o.files.get(this.#o.prefix + name));
  }

  async write(name: string, content: string): Promise<void> {
    await this.#o.clock.sleep(DISK_WRITE_MS + this.#o.slowMs());
    if (!this.#o.alive()) throw new Error(`the agent process died before ${this.where(name)} was written`);
    this.#o.files.set(this.#o.prefix + name, content);
  }

  list(): Promise<string[]> {
    const { files, prefix } = this.#o;
    const names: string[] = [];
    for (const path of files.keys()) {
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes('/')) names.push(path.slice(prefix.length));
    }
    return Promise.resolve(names);
  }

  remove(name: string): Promise<void> {
    this.#o.files.delete(this.#o.prefix + name);
    return Promise.resolve();
  }

  removeLeftovers(): Promise<void> {
    // A write is one step here: it never leaves a temporary file.
    return Promise.resolve();
  }
}
