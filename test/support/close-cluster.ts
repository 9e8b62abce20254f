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
// flight to end and clears the timer it re-armed. It reaches two members ioredis does not
// declare in its types; test/support/close-cluster.test.ts fails if they change.
import type { Cluster } from 'ioredis';

/** The parts of ioredis's Cluster that closeCluster() relies on (ioredis 6.0.0 lib/cluster/index.ts). */
interface RefreshInternals {
  isRefreshing: boolean;
  slotsTimer: NodeJS.Timeout | null;
  clearNodesRefreshInterval(): void;
}

function internals(client: Cluster): RefreshInternals {
  const c = client as unknown as Partial<RefreshInternals>;
  if (typeof c.isRefreshing !== 'boolean' || typeof c.clearNodesRefreshInterval !== 'function' || !('slotsTimer' in c)) {
    throw new TypeError('ioredis Cluster no longer has isRefreshing, slotsTimer and clearNodesRefreshInterval(): test/support/close-cluster.ts needs updating for this ioredis version');
  }
  return c as RefreshInternals;
}

/** How often closeCluster() looks whether a refresh in flight has ended, ms. */
const POLL_MS = 20;

/**
 * Disconnects `client` and makes sure no slot-refresh timer outlives it. The returned
 * promise settles once the timer is cleared (at most about slotsRefreshTimeout after the
 * call); callers that cannot wait may ignore it, since the watch itself never holds the
 * process open.
 */
export function closeCluster(client: Cluster): Promise<void> {
  const c = internals(client);
  client.disconnect();
  return new Promise((resolve) => {
    const settle = (): boolean => {
      if (c.isRefreshing) return false;
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

/** Whether `client` still has a slot-refresh timer armed (for tests). */
export function refreshTimerArmed(client: Cluster): boolean {
  return internals(client).slotsTimer !== null;
}
