// Clean-up that must also run when the bench is interrupted (Ctrl-C, SIGTERM): the
// servers it starts are detached (their own process group, so a terminal's Ctrl-C does
// not reach them) and the Coxswain clusters run in the background. Each side registers
// what would stop its processes and remove its directory, and unregisters it once it
// has cleaned up itself; run.ts runs what is left on a signal.
type Cleanup = () => Promise<void>;

const pending = new Set<Cleanup>();

/** Registers `fn`; returns the function that unregisters it. */
export function registerCleanup(fn: Cleanup): () => void {
  pending.add(fn);
  return () => pending.delete(fn);
}

/** Runs every registered clean-up once (in parallel), whatever fails. */
export async function runPendingCleanups(): Promise<void> {
  const all = [...pending];
  pending.clear();
  await Promise.allSettled(all.map((fn) => fn()));
}
