// The batch of steps one plan() call returns, with the rules that let concerns add to
// it independently and still produce a batch that is safe to run all at once:
// - at most one step per VM;
// - per node group, a step "claims" the group: 'exclusive' (a disruptive step: stop,
//   failover, slot move, removal of a node that holds data) needs the group unclaimed,
//   'shared' (starts, joins, removals in a group without data) tolerates other shared
//   steps, 'none' (create VM, install a version, live config) never conflicts;
// - a 'global' step (backup, restore) runs with no other claimed step in the batch;
// - a step that changes the topology needs every up member to agree on it first.
// Concerns run in priority order, so the first to claim a group wins it. The batch also
// gathers what the plan waits for, what blocks it, and the estimate of steps left.
import type { PlannedStep, Step } from '../model/step.ts';
import { listIds } from './names.ts';

export type Claim = 'exclusive' | 'shared' | 'none';

export interface AddOptions {
  /** Node groups the step touches. @default [] */
  groups?: readonly number[];
  /** How it claims them. @default 'none' */
  claim?: Claim;
  /** It changes the cluster topology (needs agreement). @default false */
  topology?: boolean;
  /** It must run alone among claimed steps (backup, restore, agent rolling restart). @default false */
  global?: boolean;
  /**
   * It joins this node: the topology needs to agree only among the other members (the
   * node's own view may differ: a half-joined node, see ClusterView.agreesWithout).
   */
  joins?: string;
}

const NOT_AGREED = 'the nodes do not agree on the topology yet';
const MAX_WAITING = 20;

/** The VM of a data node, by node id (the observation's; by convention a node's id is its VM's). */
export type VmOfNode = (nodeId: string) => string | undefined;

/** The VMs a step acts on (a step is refused when one of them already has a step). */
export function stepVms(step: Step, vmOfNode?: VmOfNode): string[] {
  switch (step.kind) {
    case 'createVm':
      return [step.vm.id];
    case 'forgetNode':
      return [...new Set(step.nodeIds.map((id) => vmOfNode?.(id) ?? id))];
    default:
      return [step.vmId];
  }
}

export class Batch {
  readonly steps: PlannedStep[] = [];
  readonly #topologyAgrees: boolean;
  readonly #agreesWithout: ((nodeId: string) => boolean) | undefined;
  readonly #vmOfNode: VmOfNode | undefined;
  readonly #vms = new Set<string>();
  readonly #claims = new Map<number, 'exclusive' | 'shared'>();
  #global = false;
  #claimed = 0;
  readonly #waiting = new Map<string, string[]>();
  readonly #blocked: string[] = [];
  #estimate = 0;

  constructor(topologyAgrees: boolean, vmOfNode?: VmOfNode, agreesWithout?: (nodeId: string) => boolean) {
    this.#topologyAgrees = topologyAgrees;
    this.#agreesWithout = agreesWithout;
    this.#vmOfNode = vmOfNode;
  }

  /** Whether a step with these options could be added now (ignoring VM conflicts). */
  canClaim(groups: readonly number[], claim: Claim, global = false): boolean {
    if (global) return this.#claimed === 0 && !this.#global;
    if (claim === 'none') return true;
    if (this.#global) return false;
    for (const g of groups) {
      const c = this.#claims.get(g);
      if (c === 'exclusive' || (c === 'shared' && claim === 'exclusive')) return false;
    }
    return true;
  }

  /** The VM already has a step in this batch. */
  uses(vmId: string): boolean {
    return this.#vms.has(vmId);
  }

  /** A claimed (or global) step is in the batch. */
  get hasClaims(): boolean {
    return this.#claimed > 0 || this.#global;
  }

  /** Adds the step when the rules allow; returns whether it was added. */
  add(step: Step, why: string, opts: AddOptions = {}): boolean {
    const groups = opts.groups ?? [];
    const claim = opts.claim ?? 'none';
    const global = opts.global ?? false;
    const agrees = this.#topologyAgrees || (opts.joins !== undefined && this.#agreesWithout?.(opts.joins) === true);
    if (opts.topology === true && !agrees) {
      this.wait(NOT_AGREED);
      return false;
    }
    const vms = stepVms(step, this.#vmOfNode);
    if (vms.some((v) => this.#vms.has(v))) return false;
    if (!this.canClaim(groups, claim, global)) return false;
    for (const v of vms) this.#vms.add(v);
    if (global) this.#global = true;
    if (claim !== 'none') {
      this.#claimed++;
      for (const g of groups) if (this.#claims.get(g) !== 'exclusive') this.#claims.set(g, claim);
    }
    this.steps.push({ step, why });
    return true;
  }

  /** Something the plan waits for (deduplicated). */
  wait(message: string): void {
    if (!this.#waiting.has(message)) this.#waiting.set(message, []);
  }

  /** Waits for `what` of a VM or node; gathered into one line per `what`. */
  waitOn(what: string, id: string): void {
    const ids = this.#waiting.get(what);
    if (ids === undefined) this.#waiting.set(what, [id]);
    else if (!ids.includes(id)) ids.push(id);
  }

  /** Work that cannot be done from here. */
  block(message: string): void {
    if (!this.#blocked.includes(message)) this.#blocked.push(message);
  }

  /** Adds to the estimate of steps left (this batch's steps included). */
  estimate(steps: number): void {
    this.#estimate += Math.max(0, steps);
  }

  get waiting(): string[] {
    const out: string[] = [];
    for (const [what, ids] of this.#waiting) {
      out.push(ids.length === 0 ? what : `${what}: ${listIds(ids)}`);
      if (out.length === MAX_WAITING) {
        const more = this.#waiting.size - MAX_WAITING;
        if (more > 0) out.push(`… and ${more} more`);
        break;
      }
    }
    return out;
  }

  get blocked(): string[] {
    return [...this.#blocked];
  }

  get estimated(): number {
    return this.#estimate;
  }
}
