// "Succeeded but never visible": what the simulated agent answers when an
// 'effect-invisible' fault (test/arbitraries/faults.ts) hides a call's effect. The agent
// says the call succeeded, with the response the real agent would give, and the world
// does not change where anyone can see it:
//   CreateBackup       the backup is written under the writing VM's own directory (what
//                      the agents did with a relative local sink path before the leader
//                      resolved it against the state directory): the sink, as the leader
//                      lists it through any agent, never holds it. A later call to the same
//                      VM finds it there and answers "already existed", as the real agent did;
//   ConfigureDataNode  "Configured …", while the node keeps its parameters and labels;
//   JoinNode           "Joined …", while the node stays outside the cluster.
// The leader can only see that the step's effect never shows (operator/executor/
// effect-visible.ts) and must not run the step for ever (the liveness check, liveness.ts).
import { sinkKey } from '../../operator/model/observed.ts';
import type { DecodedResponseOf, RequestOf } from '../../proto/methods.ts';
import { InvalidArgumentError, NotFoundError } from '../../proto/status.ts';
import type { InvisibleMethod } from '../arbitraries/faults.ts';
import type { SimVm, World } from './world.ts';

type Invisible<M extends InvisibleMethod> = (world: World, vm: SimVm, request: RequestOf<M>) => DecodedResponseOf<M>;

/** Backups written under a VM's own directory: VM id → `${sinkKey} ${backupId}`. */
const written = new WeakMap<World, Map<string, Set<string>>>();

const createBackup: Invisible<'CreateBackup'> = (world, vm, r) => {
  const id = need(r.backupId, 'backup_id');
  const path = r.sink?.local?.path ?? '';
  if (path === '') throw new InvalidArgumentError('sink', 'a local sink with a path is required');
  const byVm = written.get(world) ?? new Map<string, Set<string>>();
  written.set(world, byVm);
  const mine = byVm.get(vm.record.id) ?? new Set<string>();
  byVm.set(vm.record.id, mine);
  const what = `${sinkKey({ type: 'local', path })} ${id}`;
  const again = mine.has(what);
  mine.add(what);
  world.note(`backup ${id} written under ${vm.record.id}'s own directory (${path}): no listing of the sink shows it`);
  return {
    outcome: outcome(r.job, !again, again ? `Backup ${id} already existed` : `Created backup ${id}`),
    backup: {
      backupId: id,
      sink: { local: { path }, kind: 'local' },
      status: 'BACKUP_STATUS_COMPLETE',
      createdAt: new Date(world.clock.now()).toISOString(),
      parts: [],
      detail: '',
    },
  };
};

const configureDataNode: Invisible<'ConfigureDataNode'> = (world, vm, r) => {
  const n = vm.nodes.get(need(r.nodeId, 'node_id'));
  if (n === undefined) throw new NotFoundError(`data node ${r.nodeId ?? ''} is not on this agent`);
  const params = { ...(r.engineParams ?? {}) };
  const changed = Object.keys(params)
    .filter((k) => n.config[k] !== params[k])
    .sort();
  world.note(`${n.id} reported configured (${changed.join(', ') || 'nothing new'}), but keeps its parameters and labels`);
  return {
    outcome: outcome(r.job, changed.length > 0, changed.length > 0 ? `Configured ${changed.join(', ')} on data node ${n.id}` : `Data node ${n.id} already had these parameters`),
    applied: changed,
    pendingRestart: [],
  };
};

const joinNode: Invisible<'JoinNode'> = (world, vm, r) => {
  const nodeId = need(r.nodeId, 'node_id');
  const node = world.getState(vm).state?.dataNodes.find((d) => d.id === nodeId);
  if (node === undefined) throw new NotFoundError(`data node ${nodeId} is not on this agent`);
  const replica = r.role === 'JOIN_ROLE_REPLICA';
  world.note(`${nodeId} reported joined as a ${replica ? 'replica' : 'primary'}, but stays outside the cluster`);
  return {
    outcome: outcome(r.job, true, replica ? `Joined data node ${nodeId} as a replica of ${r.replicaOf?.engineNodeId ?? ''}` : `Joined data node ${nodeId} as a primary`),
    node,
  };
};

const INVISIBLE: { [M in InvisibleMethod]: Invisible<M> } = { CreateBackup: createBackup, ConfigureDataNode: configureDataNode, JoinNode: joinNode };

/** Whether an 'effect-invisible' fault can hide `method`. */
export function canBeInvisible(method: string): method is InvisibleMethod {
  return Object.hasOwn(INVISIBLE, method);
}

/** The agent's success answer to `request`, leaving the world as it was where anyone can see it. */
export function invisibleEffect<M extends InvisibleMethod>(method: M, world: World, vm: SimVm, request: RequestOf<M>): DecodedResponseOf<M> {
  return (INVISIBLE[method] as Invisible<M>)(world, vm, request);
}

function need(value: string | undefined, field: string): string {
  if (value === undefined || value === '') throw new InvalidArgumentError(field, 'is required');
  return value;
}

function outcome(job: RequestOf<'JoinNode'>['job'], changed: boolean, message: string): DecodedResponseOf<'JoinNode'>['outcome'] {
  return { message, changed, job: { jobId: job?.jobId ?? '', stepId: job?.stepId ?? '' } };
}
