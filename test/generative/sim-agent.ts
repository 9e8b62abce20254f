// The agent process of a simulated VM: the REAL agent core (agent/server/agent-core.ts)
// with the real epoch fence, idempotency store and request validation, over a backend
// that acts on the simulated world (WorldBackend, below) on virtual time.
//
// What survives the process is what survives the real agent's: the files of its state
// dir (the leader epoch and the idempotency records), kept on the VM (SimVm.agentFiles,
// sim-state-dir.ts). When the agent restarts or crashes (SimVm.agentIncarnation
// changes), the next call starts a new process: a new fence and a new store opened from
// those files, so calls in flight, duplicates waiting for them and raises of the epoch
// being written are forgotten, exactly as a new real process forgets them.
//
// The seam with the simulated transport (world-agent.ts) is one Delivery per request the
// network hands to the agent: the transport registers it under the AbortSignal it gives
// the core, and the backend finds it again from BackendContext.signal. Through it the
// backend knows the caller (for the world's stale-leader check and the oracle), the
// faults decided for the call, and the checks of the agent's contract (agent-contract.ts).
import { pino } from 'pino';
import { AgentCore } from '../../agent/server/agent-core.ts';
import { EpochFence } from '../../agent/server/epoch-fence.ts';
import { IdempotencyStore } from '../../agent/server/idempotency.ts';
import type { AgentBackend, BackendContext } from '../../agent/backend.ts';
import { isMutating, type DecodedRequestOf, type DecodedResponseOf, type RequestOf, type ResponseOf, type UnaryMethod } from '../../proto/methods.ts';
import { CancelledError, UnavailableError } from '../../proto/status.ts';
import type { AgentState } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';
import { workEnded, workStarted } from './agent-contract.ts';
import type { CallDecision } from './faults.ts';
import { canBeInvisible, invisibleEffect } from './invisible-effects.ts';
import { SimStateDir } from './sim-state-dir.ts';
import type { SimContext } from './world-agent.ts';
import type { Caller, SimVm } from './world.ts';

/** The agent's code the simulated agents run: the production classes, or a planted bug's mutant of them (agent-mutants.ts). */
export interface AgentCode {
  readonly AgentCore: typeof AgentCore;
  readonly EpochFence: typeof EpochFence;
  readonly IdempotencyStore: typeof IdempotencyStore;
}

export const PRODUCTION_AGENT: AgentCode = { AgentCore, EpochFence, IdempotencyStore };

/** Virtual one-way network time, ms. */
export const NET_MS = 1;

/** Virtual processing time of each RPC, ms (roughly the real agent's order of magnitude). */
const PROCESSING_MS: Readonly<Record<UnaryMethod, number>> = {
  GetState: 2,
  EnsureVersion: 50,
  StartDataNode: 30,
  StopDataNode: 20,
  JoinNode: 100,
  RemoveNode: 50,
  ForgetNode: 10,
  Failover: 300,
  MoveData: 400,
  CreateBackup: 300,
  RestoreBackup: 1000,
  DeleteBackup: 20,
  ListBackups: 5,
  ConfigureDataNode: 10,
};

/** Longer than any scenario: work that only an abort ends. */
const FOREVER_MS = 365 * 24 * 3600 * 1000;

const silent = pino({ level: 'silent' });

/** One request the network hands to an agent. */
export interface Delivery {
  readonly method: UnaryMethod;
  readonly caller: Caller;
  readonly vm: SimVm;
  /** The agent process it reached. */
  readonly incarnation: number;
  /** The idempotency key it carries ('' for a read). */
  readonly key: string;
  /** The method and the canonical JSON of the request as the agent decodes it: what "the same request" means. */
  readonly request: string;
  /** What the faults decided for it ({} for a copy). */
  readonly decision: CallDecision;
  /** A copy the faults made besides the leader's calls: one validation must refuse, or another request under a key in use. */
  readonly stray?: 'malformed' | 'reused-key';
  /** Set once it reached the backend (the fence admitted it). */
  reached: boolean;
  /** A 'reused-key' copy that found its key free again (the first work failed transiently meanwhile), so it may run. */
  keyWasFree?: boolean;
}

const deliveries = new WeakMap<AbortSignal, Delivery>();

/** Registers the delivery whose core call runs under `signal`. */
export function deliverUnder(signal: AbortSignal, delivery: Delivery): void {
  deliveries.set(signal, delivery);
}

function deliveryOf(ctx: BackendContext): Delivery {
  const d = deliveries.get(ctx.signal);
  if (d === undefined) throw new Error('sim-agent: a backend call without its delivery (the core must pass the transport\'s signal through)');
  return d;
}

/** A running agent process of a VM. */
export interface SimAgentProcess {
  readonly vm: SimVm;
  readonly incarnation: number;
  /** The core, once the process has opened its fence and store from the files. */
  readonly core: Promise<AgentCore>;
  /** Whether this process still runs. */
  alive(): boolean;
}

const processes = new WeakMap<SimVm, SimAgentProcess>();

/** The process that runs the agent of `vm` now: the one already running, or a new one started from its files. */
export function agentProcess(ctx: SimContext, vm: SimVm): SimAgentProcess {
  const running = processes.get(vm);
  if (running !== undefined && running.incarnation === vm.agentIncarnation) return running;
  const incarnation = vm.agentIncarnation;
  const vmId = vm.record.id;
  const alive = (): boolean => vm.agentUp && vm.agentIncarnation === incarnation && ctx.world.vm(vmId) === vm;
  const dir = (prefix: string): SimStateDir =>
    new SimStateDir({
      files: vm.agentFiles,
      prefix,
      vmId,
      clock: ctx.clock,
      alive,
      slowMs: () => ctx.faults.diskSlowMs(ctx.world.mutatingCalls),
    });
  const code = ctx.agentCode ?? PRODUCTION_AGENT;
  const core = (async (): Promise<AgentCore> => {
    // As agent/daemon.ts opens them: the epoch in the data dir, the records in idempotency/.
    const fence = await code.EpochFence.open(dir(''), silent);
    // A scenario is shorter than the retention: pruning at open is all there is to do, and a
    // periodic timer would keep the virtual clock from ever running out of events.
    const idempotency = await code.IdempotencyStore.open({ dir: dir('idempotency/'), logger: silent, clock: ctx.clock, pruneIntervalMs: 0 });
    return new code.AgentCore({ backend: new WorldBackend(ctx, vm, incarnation), fence, idempotency, agentId: vmId, zone: vm.record.zone });
  })();
  const process: SimAgentProcess = { vm, incarnation, core, alive };
  processes.set(vm, process);
  return process;
}

/** A silent logger for the core (the world's trace says what happened). */
export const SILENT_LOGGER = silent;

/**
 * The agent's backend (agent/backend.ts) over the simulated world, for one agent process:
 * each operation takes its virtual time (with the faults' delays), then applies the
 * world's effect if the process still runs.
 */
class WorldBackend implements AgentBackend {
  readonly #ctx: SimContext;
  readonly #vm: SimVm;
  readonly #incarnation: number;

  constructor(ctx: SimContext, vm: SimVm, incarnation: number) {
    this.#ctx = ctx;
    this.#vm = vm;
    this.#incarnation = incarnation;
  }

  async getState(_r: DecodedRequestOf<'GetState'>, c: BackendContext): Promise<AgentState> {
    this.#reached(deliveryOf(c));
    await this.#ctx.clock.sleep(2 * NET_MS + PROCESSING_MS.GetState, c.signal);
    this.#checkRunning('GetState');
    const { state } = this.#ctx.world.getState(this.#vm);
    if (state === null) throw new Error('world: GetState without a state');
    return state;
  }

  hasDataNode(nodeId: string, c: BackendContext): Promise<boolean> {
    this.#reached(deliveryOf(c));
    return Promise.resolve(this.#vm.nodes.has(nodeId));
  }

  ensureVersion = this.#op('EnsureVersion', (vm, r) => this.#ctx.world.ensureVersion(vm, r));
  startDataNode = this.#op('StartDataNode', (vm, r) => this.#ctx.world.startDataNode(vm, r));
  stopDataNode = this.#op('StopDataNode', (vm, r) => this.#ctx.world.stopDataNode(vm, r));
  joinNode = this.#op('JoinNode', (vm, r) => this.#ctx.world.joinNode(vm, r));
  removeNode = this.#op('RemoveNode', (vm, r) => this.#ctx.world.removeNode(vm, r));
  forgetNode = this.#op('ForgetNode', (vm, r) => this.#ctx.world.forgetNode(vm, r));
  failover = this.#op('Failover', (vm, r) => this.#ctx.world.failover(vm, r));
  moveData = this.#op('MoveData', (vm, r) => this.#ctx.world.moveData(vm, r));
  createBackup = this.#op('CreateBackup', (vm, r) => this.#ctx.world.createBackup(vm, r));
  restoreBackup = this.#op('RestoreBackup', (vm, r) => this.#ctx.world.restoreBackup(vm, r));
  deleteBackup = this.#op('DeleteBackup', (vm, r) => this.#ctx.world.deleteBackup(vm, r));
  listBackups = this.#op('ListBackups', (_vm, r) => this.#ctx.world.listBackups(r));
  configureDataNode = this.#op('ConfigureDataNode', (vm, r) => this.#ctx.world.configureDataNode(vm, r));

  /** The first time a delivery reaches the backend: the world's and the oracle's stale-leader checks. */
  #reached(d: Delivery): void {
    if (d.reached) return;
    d.reached = true;
    const mutating = isMutating(d.method);
    this.#ctx.world.agentAccepted(this.#vm, d.caller, d.method, mutating);
    this.#ctx.oracle?.reached(this.#vm.record.id, d.caller, d.method, mutating);
  }

  #op<M extends UnaryMethod>(method: M, effect: (vm: SimVm, request: RequestOf<M>) => DecodedResponseOf<M>): (r: DecodedRequestOf<M>, c: BackendContext) => Promise<ResponseOf<M>> {
    return async (request, c) => {
      const d = deliveryOf(c);
      this.#reached(d);
      const mutating = isMutating(method);
      if (mutating) workStarted(this.#ctx.world, d);
      try {
        const { clock } = this.#ctx;
        const decision = d.decision;
        if (decision.fail !== undefined) {
          // Fails before any effect.
          await clock.sleep(2 * NET_MS, c.signal);
          throw decision.fail;
        }
        const took = 2 * NET_MS + PROCESSING_MS[method] + (decision.slowMs ?? 0);
        // A call that times out without its effect, or hangs, works until its deadline or the caller's abort.
        const endless = decision.hangs === true || (decision.timeout !== undefined && !decision.timeout.effect);
        try {
          await clock.sleep(endless ? FOREVER_MS : took, c.signal);
        } catch (err) {
          if (mutating && decision.timeout === undefined) {
            this.#diesIfFaulty(c.signal.reason instanceof CancelledError ? 'the caller cancelled a call' : `${method} passed its deadline`);
          }
          throw err;
        }
        this.#checkRunning(method);
        const response = this.#apply(method, d, request as RequestOf<M>, effect);
        if (mutating) workEnded(this.#ctx.world, d, true);
        return response as ResponseOf<M>;
      } catch (err) {
        if (mutating) workEnded(this.#ctx.world, d, false, err);
        throw err;
      }
    };
  }

  /** Applies the effect (the world's, or an 'effect-invisible' fault's), judged by the oracle. */
  #apply<M extends UnaryMethod>(method: M, d: Delivery, request: RequestOf<M>, effect: (vm: SimVm, request: RequestOf<M>) => DecodedResponseOf<M>): DecodedResponseOf<M> {
    const { world, faults, oracle } = this.#ctx;
    const vm = this.#vm;
    let apply = (): DecodedResponseOf<M> => effect(vm, request);
    if (d.decision.invisible === true && canBeInvisible(method)) {
      apply = () => {
        const response = invisibleEffect(method, world, vm, request as RequestOf<typeof method>) as DecodedResponseOf<M>;
        const jobId = (request as { job?: { jobId?: string } | null }).job?.jobId;
        if (jobId !== undefined && jobId !== '') faults.invisibleJobs.add(jobId);
        return response;
      };
    }
    return oracle === undefined || !isMutating(method) ? apply() : oracle.around({ caller: d.caller, method, vmId: vm.record.id }, apply);
  }

  /** A mutating call to this agent was cancelled: it dies if a fault says it does. */
  #diesIfFaulty(why: string): void {
    const { world, faults } = this.#ctx;
    const vmId = this.#vm.record.id;
    if (!this.#running() || !faults.diesOnCancel(vmId)) return;
    world.note(`${why}: the agent of ${vmId} dies with it (agent-dies-on-cancel)`);
    world.crashAgent(vmId);
  }

  #running(): boolean {
    const vm = this.#vm;
    return vm.agentUp && vm.agentIncarnation === this.#incarnation && this.#ctx.world.vm(vm.record.id) === vm;
  }

  #checkRunning(method: string): void {
    if (!this.#running()) throw new UnavailableError(`${method} on ${this.#vm.record.endpoint}: the agent stopped while the call ran`);
  }
}
