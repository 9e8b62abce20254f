// Strangers: members of the cluster that no observed node is — a node removed while some
// member could not be told, or the node of a lost VM — left in every member's CLUSTER
// NODES as a failed (`fail`) member without slots. Nothing else repairs them and they
// are not harmless (they count in the cluster's size, its failure reports and its
// digests), so every up member is made to forget each one (forgetNode: one ForgetNode
// per member, all at once — Redis bans a forgotten id for 60 s, after which a member that
// still knows it gossips it back to the others).
//
// The guard (strangersHidden): a stranger is an id some up node reports failed that no
// observed node carries; that is only proof when nothing is hidden. So the planner
// forgets only while every VM runs with an answering agent (none being created, failed
// or stopped: such an agent hides its node, whose id would look like a stranger's), every
// data node is up with a known role (a down member keeps the stranger and would gossip it
// back; a down node's id may not be reported) and every replica follows an observed node
// (a replica cannot forget its own primary: the agent refuses, WRONG_ROLE). Otherwise it
// waits and says so; `done` stays false (differences.ts) while a stranger is reported.
//
// Place and claims: right after the repairs (drift.ts), before any topology work, as a
// `global` step — nothing else claims a node group in its batch, so no node joins or
// leaves while the members forget (a node joining meanwhile could learn the stranger
// from a member that has not forgotten it yet) — and its step uses the VM of every
// member it names. It needs no topology agreement: forgetting a failed, slotless member
// is checked by each agent on its own node (NOT_FAILED, NOT_EMPTY), and after a forget
// that reached only some members the digests differ until the rest forget too — the
// retry must not wait for an agreement only it can bring. One stranger per batch (each
// step uses every member's VM); the rest follow in the next batches.
import { strangers, type ObservedDataNode } from '../model/observed.ts';
import { shortEngineId } from '../model/step.ts';
import type { PlanContext } from './context.ts';
import { compareIds, listIds, plural } from './names.ts';
import type { ClusterView } from './view.ts';

const WAIT = 'failed nodes no VM runs are forgotten once every agent answers and every node is up';

/** Why the strangers of this observation cannot be trusted (some node is hidden), or undefined when they can. */
export function strangersHidden(view: ClusterView): string | undefined {
  for (const vm of view.vms) {
    if (!view.alive(vm)) return `${vm.id} is ${vm.state === 'running' ? 'without an answering agent' : vm.state}`;
  }
  for (const vm of view.vms) {
    const n = view.node(vm);
    if (n === undefined) continue;
    if (!n.up || n.role === 'unknown') return `${n.id} is down`;
    if (n.role === 'replica' && (n.primaryId === undefined || !view.nodeById.has(n.primaryId))) return `the primary of replica ${n.id} is not an observed node`;
  }
  return undefined;
}

/** The up members (primaries and replicas), lowest id first: the nodes that must forget a stranger. */
export function strangerForgetters(view: ClusterView): ObservedDataNode[] {
  return [...view.members].sort((a, b) => compareIds(a.id, b.id));
}

export function forgetStrangers(ctx: PlanContext): void {
  const { view, batch } = ctx;
  if (!ctx.running || ctx.forming) return;
  const ids = strangers(view.observed);
  if (ids.length === 0) return;
  batch.estimate(ids.length);
  const hidden = strangersHidden(view);
  if (hidden !== undefined) {
    batch.wait(`${WAIT} (${hidden})`);
    return;
  }
  const members = strangerForgetters(view);
  if (members.length === 0) return;
  const nodeIds = members.map((n) => n.id);
  for (const id of ids) {
    const reporters = members.filter((n) => n.failedMembers?.includes(id) === true).map((n) => n.id);
    batch.add(
      { kind: 'forgetNode', engineNodeId: id, nodeIds },
      `Node ${shortEngineId(id)} is a failed member without slots that no VM of the cluster runs (${plural(reporters.length, 'member')} report it: ${listIds(reporters)}): ` +
        `every member forgets it at once`,
      { global: true },
    );
  }
}
