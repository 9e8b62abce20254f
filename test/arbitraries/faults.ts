// Faults for the generative state tests, as plain data (JSON in a regression file,
// never fast-check internals), and the fast-check arbitraries that draw them.
//
// A fault names WHEN by the ordinal of a call the leader makes ("the 7th mutating agent
// call", "after the 12th"), not by wall time or by a generator's seed, so a saved
// scenario replays the same faults after the generators or the reconciler's timing
// change. A trigger that a run never reaches fires once the run is at rest, so every
// fault of a scenario happens.
import fc from 'fast-check';

/** Objects with the ordinary prototype, as JSON.parse makes them (deepStrictEqual compares prototypes). */
const PLAIN = { noNullPrototype: true } as const;

/** Errors a call can be made to fail with: the first four are transient (retried), the rest terminal. */
export const CALL_ERRORS = ['unavailable', 'deadline-exceeded', 'resource-exhausted', 'aborted', 'internal', 'failed-precondition', 'unknown'] as const;
export type CallError = (typeof CALL_ERRORS)[number];

/** `times` of a call fault that never ends. */
export const PERMANENT = 1_000_000;

export const TRANSIENT_CALL_ERRORS: readonly CallError[] = ['unavailable', 'deadline-exceeded', 'resource-exhausted', 'aborted'];

/**
 * Agent methods whose effect an 'effect-invisible' fault can hide (test/generative/invisible-effects.ts):
 * a backup written where no listing of its sink looks, a configuration the node never
 * shows, a join the agent reports done while the node stays outside the cluster.
 */
export const INVISIBLE_METHODS = ['CreateBackup', 'ConfigureDataNode', 'JoinNode'] as const;
export type InvisibleMethod = (typeof INVISIBLE_METHODS)[number];

/** How a stale edit differs from the accepted desired state, besides its id (test/generative/stale-edits.ts). */
export const STALE_CHANGES = ['none', 'replicas', 'node-groups', 'running'] as const;
export type StaleChange = (typeof STALE_CHANGES)[number];

/**
 * Calls that open the window of a fault in a repair ('in-repair'): the leader's mutating
 * agent calls by method, its VM provider calls, and 'offer' (the next desired state
 * offered to the leader, which waits as pending while the leader works).
 */
export const WINDOW_CALLS = [
  'StartDataNode',
  'StopDataNode',
  'JoinNode',
  'Failover',
  'MoveData',
  'RemoveNode',
  'EnsureVersion',
  'provider.create',
  'provider.delete',
  'provider.restartAgent',
  'offer',
] as const;
export type WindowCall = (typeof WINDOW_CALLS)[number];

/** A crash, as 'crash' draws it (the first fault of an 'in-repair'). */
export interface CrashSpec {
  what: 'node' | 'agent' | 'vm';
  afterCall: number;
  delayMs: number;
  vm: number;
}

/**
 * The second fault of an 'in-repair': a crash of the window call's VM ('same'), of a VM of
 * another node group ('other': the next such VM by id; the next VM when there is one
 * group) or of the VM of another group's primary ('other-primary': its slots are then
 * served by no up primary until it is back or replaced), or a leader restart.
 */
export type SecondFault = { kind: 'crash'; what: 'node' | 'agent' | 'vm'; vm: 'same' | 'other' | 'other-primary' } | { kind: 'leader-restart'; zombieMs: number };

export type Fault =
  /**
   * The `call`-th mutating agent call (1-based, over the whole scenario) fails before it
   * has any effect, and so do the next `times - 1` attempts with the same idempotency
   * key — or, when `sticky`, the next calls of the same method to the same VM whatever
   * their key (a fault that outlasts a job, and can outlast the retry budget).
   */
  | { kind: 'call-fails'; call: number; error: CallError; times: number; sticky: boolean }
  /** The `call`-th mutating call times out: the caller gets DEADLINE_EXCEEDED; the effect happened (`effect`) or not. */
  | { kind: 'call-times-out'; call: number; effect: boolean }
  /** The `call`-th mutating call is delivered twice: a copy with the same key arrives `delayMs` later. */
  | { kind: 'call-duplicated'; call: number; delayMs: number }
  /** The `call`-th mutating call takes `ms` longer (past its deadline it times out, and the agent drops it). */
  | { kind: 'call-slow'; call: number; ms: number }
  /** The `read`-th GetState fails with UNAVAILABLE: that agent looks down in that observation. */
  | { kind: 'read-fails'; read: number }
  /** The `call`-th VM provider call (create, delete, restartAgent) fails with a transient or terminal error, before or after its effect. */
  | { kind: 'provider-fails'; call: number; transient: boolean; effect: boolean }
  /**
   * `delayMs` after the `afterCall`-th mutating call starts (0: the scenario's start), a
   * process dies on VM number `vm` (of the VMs existing then, sorted by id, modulo their
   * count): its data node, its agent, or the whole VM (both; the disk survives).
   */
  | { kind: 'crash'; what: 'node' | 'agent' | 'vm'; afterCall: number; delayMs: number; vm: number }
  /**
   * `delayMs` after the `afterCall`-th mutating call starts, a new leader starts with the
   * next epoch from what the old one persisted (history, journal, facts); the old one
   * keeps running for `zombieMs` (it must be fenced off), then stops.
   */
  | { kind: 'leader-restart'; afterCall: number; delayMs: number; zombieMs: number }
  /**
   * Succeeded but never visible: the first call of `method` at or after the `call`-th
   * mutating call, and every later call of `method` to the same VM, answer success while
   * the world never shows their effect (a backup written under that VM's own directory,
   * which no listing of the sink sees — the old per-VM resolution of a relative sink path;
   * a configuration or a join the agent reports done and the node never shows).
   */
  | { kind: 'effect-invisible'; call: number; method: InvisibleMethod }
  /**
   * An agent that dies on a cancelled call: from the `call`-th mutating call on, the agent
   * of the VM it went to crashes (its process dies; the data node keeps running) whenever
   * the caller cancels a mutating call to it — its deadline passes or the caller aborts.
   * When `hangs`, that call never answers by itself, so its deadline cancels it.
   */
  | { kind: 'agent-dies-on-cancel'; call: number; hangs: boolean }
  /**
   * An edit that does not raise the id: `delayMs` after the `afterCall`-th mutating call,
   * the leader is offered the accepted desired state with `change` made and its id lowered
   * by `lowerBy` (0: the same id). The leader must ignore it and stay on what it accepted.
   */
  | { kind: 'stale-edit'; afterCall: number; delayMs: number; lowerBy: number; change: StaleChange }
  /**
   * A malformed copy of the `call`-th mutating call, under a key of its own, reaches its
   * agent `delayMs` after the call (a client's bug, or version skew): the `pick`-th of the
   * ways to break that request that the contract forbids (test/generative/malformed.ts).
   * The agent must refuse it, and nothing may run. Nobody waits for its answer.
   */
  | { kind: 'call-malformed'; call: number; delayMs: number; pick: number }
  /**
   * `delayMs` after the `call`-th mutating call, while its work runs or once it has
   * answered, its agent receives another request under the same idempotency key (the
   * job's step named differently): the agent must refuse it (INVALID_ARGUMENT), and
   * nothing may run. Nobody waits for its answer.
   */
  | { kind: 'key-reused'; call: number; delayMs: number }
  /**
   * From the `afterCall`-th mutating call on (0: from the start), every agent's disk is
   * slow: each durable write (the leader epoch, an idempotency record) takes `ms` longer,
   * so calls arrive while a raise of the epoch or a record is still being written.
   */
  | { kind: 'disk-slow'; afterCall: number; ms: number }
  /**
   * A fault inside the repair of another, placed by the repair's calls rather than at a
   * random moment: `first` crashes a VM's node, agent or whole VM (as 'crash'); from then
   * on, the `nth` call of `window.call` to that VM opens the window (the leader starting
   * the node again, the provider restarting the agent …), and `delayMs` after that call
   * starts, `second` happens: that VM's node, agent or VM crashes again, another VM's
   * does, or the leader restarts. Without `first` the window is the leader's own work —
   * the `nth` such call to any VM after mutating call #`afterCall` (a replacement's create
   * or removal, a failover, a move) or, for 'offer', the `nth` desired state offered after
   * it. A window that never opens has its second fault at rest, as any trigger a run
   * never reaches.
   */
  | { kind: 'in-repair'; first?: CrashSpec; afterCall?: number; window: { call: WindowCall; nth: number }; delayMs: number; second: SecondFault };

export type FaultKind = Fault['kind'];

export interface FaultOptions {
  /** Faults per scenario at most. @default 4 */
  maxFaults?: number;
  /** Highest call ordinal a fault is placed at. @default 80 */
  maxCall?: number;
  /** Fault kinds to draw from. @default every kind */
  kinds?: readonly FaultKind[];
}

const ALL_KINDS: readonly FaultKind[] = [
  'call-fails',
  'call-times-out',
  'call-duplicated',
  'call-slow',
  'read-fails',
  'provider-fails',
  'crash',
  'leader-restart',
  'effect-invisible',
  'agent-dies-on-cancel',
  'stale-edit',
  'call-malformed',
  'key-reused',
  'disk-slow',
  'in-repair',
];

/** The calls that repair each kind of crash: the window a second fault is placed in. */
const REPAIR_CALLS: Readonly<Record<CrashSpec['what'], readonly WindowCall[]>> = {
  // The leader starts the node again; a primary that failed over comes back as a replica (re-pointed by JoinNode).
  node: ['StartDataNode', 'JoinNode'],
  // The provider restarts the agent (its data node kept running).
  agent: ['provider.restartAgent'],
  // The provider restarts the agent, then the leader starts the node.
  vm: ['provider.restartAgent', 'StartDataNode', 'JoinNode'],
};

/**
 * Calls of the leader's own work that a second fault is placed in, without a first one:
 * a rolling restart's stop and failover, a move, a removal, an install, a replacement's or
 * a new node group's VM and its node's start and join, an offer that waits as pending.
 */
const WORK_CALLS: readonly WindowCall[] = [
  'Failover',
  'StopDataNode',
  'MoveData',
  'RemoveNode',
  'EnsureVersion',
  'provider.create',
  'provider.delete',
  'StartDataNode',
  'JoinNode',
  'offer',
];

const arbCrashWhat = (): fc.Arbitrary<CrashSpec['what']> => fc.constantFrom('node' as const, 'agent' as const, 'vm' as const);

/** A fault inside the repair of a crash, or inside the leader's own work (see 'in-repair'). */
export function arbInRepair(maxCall = 80): fc.Arbitrary<Extract<Fault, { kind: 'in-repair' }>> {
  const second: fc.Arbitrary<SecondFault> = fc.oneof(
    fc.record({ kind: fc.constant('crash' as const), what: arbCrashWhat(), vm: fc.constantFrom('same' as const, 'other' as const, 'other-primary' as const) }, PLAIN),
    fc.record({ kind: fc.constant('leader-restart' as const), zombieMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20_000 })) }, PLAIN),
  );
  // Within the call (most calls take a few ms to a few s of virtual time) or just after it.
  const delayMs = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 }));
  const nth = fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) });
  const afterRepair = fc
    .record({ what: arbCrashWhat(), afterCall: fc.integer({ min: 0, max: maxCall }), delayMs: fc.integer({ min: 0, max: 5000 }), vm: fc.nat(31) }, PLAIN)
    .chain((first) =>
      fc.record({
        kind: fc.constant('in-repair' as const),
        first: fc.constant(first),
        window: fc.record({ call: fc.constantFrom(...REPAIR_CALLS[first.what]), nth }, PLAIN),
        delayMs,
        second,
      }, PLAIN),
    );
  const inWork = fc.record({
    kind: fc.constant('in-repair' as const),
    // Mostly early: a scenario makes a few dozen mutating calls.
    afterCall: fc.oneof(fc.integer({ min: 0, max: Math.min(20, maxCall) }), fc.integer({ min: 0, max: maxCall })),
    window: fc.record({ call: fc.constantFrom(...WORK_CALLS), nth }, PLAIN),
    delayMs,
    second,
  }, PLAIN);
  return fc.oneof({ weight: 2, arbitrary: afterRepair }, { weight: 1, arbitrary: inWork });
}

/** One fault of the given kinds. */
export function arbFault(opts: FaultOptions = {}): fc.Arbitrary<Fault> {
  const maxCall = opts.maxCall ?? 80;
  const call = fc.integer({ min: 1, max: maxCall });
  const kinds = new Set(opts.kinds ?? ALL_KINDS);
  const arbs: fc.Arbitrary<Fault>[] = [];
  if (kinds.has('call-fails')) {
    arbs.push(
      fc.record({
        kind: fc.constant('call-fails' as const),
        call,
        error: fc.constantFrom(...CALL_ERRORS),
        // Mostly short faults; sometimes one long enough to outlast the retry budget, or for good.
        times: fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 1, max: 3 }) },
          { weight: 1, arbitrary: fc.integer({ min: 4, max: 40 }) },
          { weight: 1, arbitrary: fc.constant(PERMANENT) },
        ),
        sticky: fc.boolean(),
      }, PLAIN),
    );
  }
  if (kinds.has('call-times-out')) arbs.push(fc.record({ kind: fc.constant('call-times-out' as const), call, effect: fc.boolean() }, PLAIN));
  if (kinds.has('call-duplicated')) {
    arbs.push(fc.record({ kind: fc.constant('call-duplicated' as const), call, delayMs: fc.integer({ min: 0, max: 10_000 }) }, PLAIN));
  }
  if (kinds.has('call-slow')) arbs.push(fc.record({ kind: fc.constant('call-slow' as const), call, ms: fc.integer({ min: 100, max: 120_000 }) }, PLAIN));
  if (kinds.has('read-fails')) arbs.push(fc.record({ kind: fc.constant('read-fails' as const), read: fc.integer({ min: 1, max: maxCall * 4 }) }, PLAIN));
  if (kinds.has('provider-fails')) {
    arbs.push(
      fc.record({
        kind: fc.constant('provider-fails' as const),
        call: fc.integer({ min: 1, max: Math.max(1, Math.ceil(maxCall / 4)) }),
        transient: fc.boolean(),
        effect: fc.boolean(),
      }, PLAIN),
    );
  }
  if (kinds.has('crash')) {
    arbs.push(
      fc.record({
        kind: fc.constant('crash' as const),
        what: fc.constantFrom('node' as const, 'agent' as const, 'vm' as const),
        afterCall: fc.integer({ min: 0, max: maxCall }),
        delayMs: fc.integer({ min: 0, max: 5000 }),
        vm: fc.nat(31),
      }, PLAIN),
    );
  }
  if (kinds.has('leader-restart')) {
    arbs.push(
      fc.record({
        kind: fc.constant('leader-restart' as const),
        afterCall: fc.integer({ min: 0, max: maxCall }),
        delayMs: fc.integer({ min: 0, max: 3000 }),
        zombieMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20_000 })),
      }, PLAIN),
    );
  }
  if (kinds.has('effect-invisible')) {
    arbs.push(fc.record({ kind: fc.constant('effect-invisible' as const), call, method: fc.constantFrom(...INVISIBLE_METHODS) }, PLAIN));
  }
  if (kinds.has('agent-dies-on-cancel')) {
    arbs.push(fc.record({ kind: fc.constant('agent-dies-on-cancel' as const), call, hangs: fc.boolean() }, PLAIN));
  }
  if (kinds.has('stale-edit')) {
    arbs.push(
      fc.record({
        kind: fc.constant('stale-edit' as const),
        afterCall: fc.integer({ min: 0, max: maxCall }),
        delayMs: fc.integer({ min: 0, max: 5000 }),
        lowerBy: fc.integer({ min: 0, max: 2 }),
        change: fc.constantFrom(...STALE_CHANGES),
      }, PLAIN),
    );
  }
  if (kinds.has('call-malformed')) {
    arbs.push(fc.record({ kind: fc.constant('call-malformed' as const), call, delayMs: fc.integer({ min: 0, max: 5000 }), pick: fc.nat(63) }, PLAIN));
  }
  if (kinds.has('key-reused')) arbs.push(fc.record({ kind: fc.constant('key-reused' as const), call, delayMs: fc.integer({ min: 0, max: 5000 }) }, PLAIN));
  if (kinds.has('disk-slow')) {
    arbs.push(fc.record({ kind: fc.constant('disk-slow' as const), afterCall: fc.integer({ min: 0, max: maxCall }), ms: fc.integer({ min: 10, max: 3000 }) }, PLAIN));
  }
  if (arbs.length === 0 && !kinds.has('in-repair')) throw new Error('test/arbitraries/faults: no fault kind to draw from');
  // A fault in a repair is drawn three times as often as each other kind: the orders of
  // faults that matter are rare at random moments, and its windows are many.
  const weighted = arbs.map((arbitrary) => ({ weight: 1, arbitrary }));
  if (kinds.has('in-repair')) weighted.push({ weight: 3, arbitrary: arbInRepair(maxCall) });
  return fc.oneof(...weighted);
}

/** A list of faults (often none: a scenario without faults checks the plain path). */
export function arbFaults(opts: FaultOptions = {}): fc.Arbitrary<Fault[]> {
  // Cross-shrinking lets a failing scenario lose all its faults when none matters.
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 1, arbitrary: fc.constant<Fault[]>([]) },
    { weight: 3, arbitrary: fc.array(arbFault(opts), { minLength: 1, maxLength: opts.maxFaults ?? 4 }) },
  );
}

/** Whether a fault can keep a step failing past the reconciler's retry budget (so ERROR_STATE is a fair end). */
export function canExhaustRetries(f: Fault): boolean {
  return f.kind === 'call-fails' && f.sticky && f.times >= 4;
}

/** A one-line description, for reports. */
export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'call-fails':
      return `mutating call #${f.call} fails with ${f.error} ×${f.times}${f.sticky ? ' (sticky: same method and VM)' : ' (same key)'}`;
    case 'call-times-out':
      return `mutating call #${f.call} times out ${f.effect ? 'after' : 'before'} its effect`;
    case 'call-duplicated':
      return `mutating call #${f.call} is delivered twice (copy ${f.delayMs} ms later)`;
    case 'call-slow':
      return `mutating call #${f.call} takes ${f.ms} ms longer`;
    case 'read-fails':
      return `GetState #${f.read} fails`;
    case 'provider-fails':
      return `provider call #${f.call} fails (${f.transient ? 'transient' : 'terminal'}, ${f.effect ? 'after' : 'before'} its effect)`;
    case 'crash':
      return `the ${f.what === 'vm' ? 'whole VM' : f.what === 'node' ? 'data node' : 'agent'} of VM #${f.vm} dies ${f.delayMs} ms after mutating call #${f.afterCall}`;
    case 'leader-restart':
      return `the leader restarts ${f.delayMs} ms after mutating call #${f.afterCall} (old one runs ${f.zombieMs} ms more)`;
    case 'effect-invisible':
      return `${f.method} from mutating call #${f.call} on, to that VM, succeeds but its effect is never visible`;
    case 'agent-dies-on-cancel':
      return `the agent that gets mutating call #${f.call} dies whenever a call to it is cancelled${f.hangs ? ' (that call hangs until its deadline)' : ''}`;
    case 'stale-edit':
      return `${f.delayMs} ms after mutating call #${f.afterCall}, an edit ${f.change === 'none' ? 'of nothing' : `of ${f.change}`} with ${f.lowerBy === 0 ? 'the accepted id' : `the accepted id − ${f.lowerBy}`} is offered`;
    case 'call-malformed':
      return `a malformed copy (way #${f.pick}) of mutating call #${f.call} arrives ${f.delayMs} ms after it`;
    case 'key-reused':
      return `${f.delayMs} ms after mutating call #${f.call}, another request arrives under its idempotency key`;
    case 'disk-slow':
      return `from mutating call #${f.afterCall} on, every agent's durable writes take ${f.ms} ms longer`;
    case 'in-repair': {
      const second =
        f.second.kind === 'leader-restart'
          ? `the leader restarts (old one runs ${f.second.zombieMs} ms more)`
          : `the ${f.second.what === 'vm' ? 'whole VM' : f.second.what === 'node' ? 'data node' : 'agent'} of ${f.second.vm === 'same' ? 'that VM' : f.second.vm === 'other' ? 'a VM of another node group' : 'the primary of another node group'} dies`;
      const nth = f.window.nth === 1 ? 'the first' : `call #${f.window.nth} of`;
      const after = f.first === undefined && (f.afterCall ?? 0) > 0 ? ` after mutating call #${f.afterCall ?? 0}` : '';
      const window =
        f.window.call === 'offer'
          ? `${nth === 'the first' ? 'the next' : `offer #${f.window.nth}`} desired state offered${after}`
          : `${nth} ${f.window.call} ${f.first === undefined ? 'to any VM' : 'to that VM'}${after}`;
      const first = f.first === undefined ? '' : `${describeFault({ kind: 'crash', ...f.first })}; then `;
      return `${first}${f.delayMs} ms after ${window}, ${second}`;
    }
  }
}
