// Time as the agent's own logic takes it (the idempotency store's record times and
// pruning): the system's, or a virtual clock in the generative tests
// (test/generative/sim-clock.ts implements this interface), which must never wait for real.

export interface AgentClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once `ms` have passed, unless the returned function was called first. Must not keep the process alive. */
  timer(ms: number, fn: () => void): () => void;
}

export const systemAgentClock: AgentClock = {
  now: () => Date.now(),
  timer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};
