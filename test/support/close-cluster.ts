// Closing an ioredis Cluster client so that it lets the process end.
//
// ioredis 6.0.0 refreshes its slot map every `slotsRefreshInterval` ms (5 s by default,
// 2 s with the writer's CLIENT_SETTINGS). When disconnect() comes while one of those
// refreshes is in flight, the refresh then fails ("Cluster is disconnecting") and its
// callback arms the next round anyway, and so on every interval for ever: the client is
// closed, yet a timer holds the test file's process open. On CI that showed as
// test/e2e/crash.test.ts and test/e2e/lifecycle.test.ts "still running 20 s after its
// last test" (test/support/exit-guard.ts) although every test in them had passed.
//
// closeCluster() disconnects, then waits (without holding the process) for a refresh in
// flight to end and clears the timer it re-armed. It reaches members ioredis does not
// declare in its types; test/support/writer.test.ts fails if they change.
import type { Cluster } from 'ioredis';

/** The parts of ioredis's Cluster that closeCluster() relies on (ioredis 6.0.0 lib/cluster/index.ts). */
interface RefreshInternals {
  isRefreshing: boolean;
  /** Set once the first periodic refresh is armed; absent before. */
  slotsTimer?: NodeJS.Timeout | null;
  clearNodesRefreshInterval(): void;
}

/** The internals, or undefined when this ioredis has other ones (test/support/writer.test.ts then fails). */
function internals(client: Cluster): RefreshInternals | undefined {
  const c = client as unknown as Partial<RefreshInternals>;
  return typeof c.isRefreshing === 'boolean' && typeof c.clearNodesRefreshInterval === 'function' ? (c as RefreshInternals) : undefined;
}

/** How often closeCluster() looks whether a refresh in flight has ended, ms. */
const POLL_MS = 20;
/** How long it waits for that at most, ms: a refresh ends within slotsRefreshTimeout (2 s for the writer's clients). */
const MAX_WAIT_MS = 10_000;

/**
 * Disconnects `client` and makes sure no slot-refresh timer outlives it. Never throws and
 * never waits more than MAX_WAIT_MS, so a clean-up that stops servers after it always
 * gets there. The returned promise settles once the timer is cleared; callers that cannot
 * wait may ignore it, since the watch itself never holds the process open.
 */
export function closeCluster(client: Cluster): Promise<void> {
  client.disconnect();
  const c = internals(client);
  if (c === undefined) return Promise.resolve();
  const giveUpAt = Date.now() + MAX_WAIT_MS;
  return new Promise((resolve) => {
    const settle = (): boolean => {
      if (c.isRefreshing && Date.now() < giveUpAt) return false;
      c.clearNodesRefreshInterval();
      resolve();
      return true;
    };
    if (settle()) return;
    const poll = setInterval(() => {
      if (settle()) clearInterval(poll);
    }, POLL_MS);
    poll.unref();
  });
}

/** Whether `client` still has a slot-refresh timer armed (for tests); throws when ioredis lacks the internals closeCluster() relies on. */
export function refreshTimerArmed(client: Cluster): boolean {
  const c = internals(client);
  if (c === undefined) {
    throw new TypeError('ioredis Cluster no longer has isRefreshing and clearNodesRefreshInterval(): test/support/close-cluster.ts needs updating for this ioredis version');
  }
  return c.slotsTimer !== undefined && c.slotsTimer !== null;
}
