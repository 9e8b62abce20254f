// The VM provider's contract (VmProvider) in front of the simulated world, for one
// leader. VM creation, deletion and agent restarts take virtual time and can fail as the
// scenario's faults say (before or after their effect).
//
// Fencing: the world's provider refuses a call from a leader whose epoch is lower than
// one it has seen (StaleLeaderError), like a cloud API that takes the leader's fencing
// token. The LocalVmProvider relies on the leader lock instead (one leader per state
// directory); here two leaders do run at once (a restarted leader and the old one that
// has not noticed yet), so the provider must fence too, or the old leader could
// restart or delete VMs behind the new one's back.
import type { VmSpec } from '../../operator/model/step.ts';
import type { AgentPort } from '../../operator/ports/agent-port.ts';
import type { VmProvider, VmRecord } from '../../operator/ports/vm-provider.ts';
import { CancelledError } from '../../proto/status.ts';
import { WorldAgent, type SimContext } from './world-agent.ts';
import type { Caller } from './world.ts';

/** Virtual time each provider call takes, ms. */
const PROVIDER_MS = { create: 2000, delete: 500, restartAgent: 1000 } as const;

export class WorldProvider implements VmProvider {
  readonly #ctx: SimContext;
  readonly #caller: Caller;
  readonly #agents = new Map<string, WorldAgent>();

  constructor(ctx: SimContext, caller: Caller) {
    this.#ctx = ctx;
    this.#caller = caller;
  }

  list(signal?: AbortSignal): Promise<VmRecord[]> {
    if (signal?.aborted === true) return Promise.reject(new CancelledError('provider.list was cancelled'));
    return Promise.resolve(this.#ctx.world.vms().map((vm) => ({ ...vm.record })));
  }

  create(spec: VmSpec, signal?: AbortSignal): Promise<VmRecord> {
    return this.#call(`provider.create ${spec.id}`, PROVIDER_MS.create, signal, () => this.#ctx.world.createVm(spec));
  }

  delete(vmId: string, signal?: AbortSignal): Promise<void> {
    const effect = (): void => this.#ctx.world.deleteVm(vmId);
    const oracle = this.#ctx.oracle;
    return this.#call(`provider.delete ${vmId}`, PROVIDER_MS.delete, signal, oracle === undefined ? effect : () => oracle.around({ caller: this.#caller, method: 'provider.delete', vmId }, effect));
  }

  restartAgent(vmId: string, agentRunningSince: number, signal?: AbortSignal): Promise<VmRecord> {
    return this.#call(`provider.restartAgent ${vmId}`, PROVIDER_MS.restartAgent, signal, () => this.#ctx.world.restartAgent(vmId, agentRunningSince));
  }

  agent(vmId: string): AgentPort {
    let a = this.#agents.get(vmId);
    if (a === undefined) {
      a = new WorldAgent(this.#ctx, vmId, this.#ctx.world.vm(vmId)?.record.endpoint ?? `sim-${vmId}:7100`, this.#caller);
      this.#agents.set(vmId, a);
    }
    return a;
  }

  shutdown(options: { dataNodes: boolean; purge: boolean }): Promise<void> {
    const world = this.#ctx.world;
    for (const vm of world.vms()) {
      if (options.purge) world.deleteVm(vm.record.id);
      else world.stopVm(vm.record.id, options.dataNodes);
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#agents.clear();
    return Promise.resolve();
  }

  async #call<T>(what: string, ms: number, signal: AbortSignal | undefined, effect: () => T): Promise<T> {
    const { world, clock, faults } = this.#ctx;
    if (signal?.aborted === true) throw new CancelledError(`${what} was cancelled`);
    world.providerFence(this.#caller, what);
    this.#ctx.oracle?.reached('provider', this.#caller, what, true);
    const fault = faults.providerCall(++world.providerCalls, what);
    await clock.sleep(ms, signal);
    if (fault !== undefined) {
      if (fault.effect) effect();
      throw fault.error;
    }
    return effect();
  }
}
