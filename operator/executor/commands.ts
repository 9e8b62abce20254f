// What carrying out one Step means on the wire: the VM provider call or the agent RPCs,
// with every request field resolved from the observation the step was planned against
// (addresses, engine node ids, ports). A step names nodes by Coxswain id only; here they
// become host:port and engine ids, once per job, so every retry of the job sends the
// very same request under the same idempotency key (the agent refuses a key reused for
// a different request).
//
// Every step is one command, except forgetNode: one ForgetNode per node it names, each on
// that node's agent, all started at once (commandsRunTogether) — Redis bans a forgotten
// id for 60 s only, so the members must forget within seconds of each other. A job
// records each command with its own attempts.
import type { Clock } from '../../common/clock.ts';
import type { VmProvider } from '../ports/vm-provider.ts';
import { dataNodes, type ObservedCluster, type ObservedDataNode, type ObservedVm } from '../model/observed.ts';
import type { Step, StepKind } from '../model/step.ts';
import { FailedPreconditionError } from '../../proto/status.ts';
import type { NodeAddress } from '../../proto/generated/coxswain/agent/v1/NodeAddress.ts';
import type { JobRef } from '../../proto/generated/coxswain/agent/v1/JobRef.ts';
import type { RequestOf } from '../../proto/methods.ts';
import { nodeLabels, sinkToProto } from '../observe/labels.ts';
import { withDeadline } from './with-deadline.ts';

/**
 * Deadline of one command of each kind of step, in ms: long for data movement, 60 s for
 * joins, 10 s for a ForgetNode (one CLUSTER FORGET; its calls must land within Redis's
 * 60 s ban of each other, retries included), 30 s else.
 */
export const DEFAULT_DEADLINES_MS: Readonly<Record<StepKind, number>> = {
  createVm: 120_000,
  deleteVm: 60_000,
  restartAgent: 60_000,
  ensureVersion: 600_000,
  startDataNode: 30_000,
  stopDataNode: 30_000,
  joinPrimary: 60_000,
  joinReplica: 60_000,
  failover: 60_000,
  moveData: 600_000,
  removeNode: 30_000,
  forgetNode: 10_000,
  configureDataNode: 30_000,
  createBackup: 600_000,
  deleteBackup: 30_000,
  restoreBackup: 600_000,
};

/** The step names a node, VM or address the observation does not have: it cannot be carried out as planned. */
export class StepNotExecutableError extends FailedPreconditionError {
  constructor(message: string) {
    super(message, { reason: 'NOT_OBSERVED' });
  }
}

/** What one run of a command gets. */
export interface CommandRun {
  provider: VmProvider;
  clock: Clock;
  /** Deadline of this run, ms. */
  deadlineMs: number;
  signal: AbortSignal | undefined;
}

/** One call a job makes (and repeats, when it fails transiently). */
export interface Command {
  /** e.g. "StartDataNode on vm-3", "provider.create vm-3". */
  name: string;
  /** The same on every attempt of this command, and derived from the job id only. */
  idempotencyKey: string;
  /** Runs the call once; resolves with its output (the agent's outcome message). */
  run(ctx: CommandRun): Promise<string>;
}

/** The idempotency key of a job's command: `job/<id>`, or `job/<id>/<part>` for a job of several commands. */
export function idempotencyKey(jobId: string, part?: string): string {
  return part === undefined ? `job/${jobId}` : `job/${jobId}/${part}`;
}

/**
 * The commands that carry out `step`, with their requests resolved from `observed`.
 * Throws StepNotExecutableError when the observation lacks what a request needs.
 */
export function commandsFor(step: Step, observed: ObservedCluster, jobId: string, sinkBaseDir?: string): Command[] {
  const key = idempotencyKey(jobId);
  const job: JobRef = { jobId, stepId: '' };
  switch (step.kind) {
    case 'createVm':
      return [
        providerCommand(`provider.create ${step.vm.id}`, key, async (p, s) => {
          const vm = await p.create(step.vm, s);
          return `Created VM ${vm.id} in ${vm.zone}; its agent listens on ${vm.endpoint}`;
        }),
      ];
    case 'deleteVm':
      return [
        providerCommand(`provider.delete ${step.vmId}`, key, async (p, s) => {
          await p.delete(step.vmId, s);
          return `Deleted VM ${step.vmId}`;
        }),
      ];
    case 'restartAgent':
      return [
        providerCommand(`provider.restartAgent ${step.vmId}`, key, async (p, s) => {
          await p.restartAgent(step.vmId, step.agentRunningSince, s);
          return `Restarted the agent of ${step.vmId} for agentRunningSince ${step.agentRunningSince}`;
        }),
      ];
    case 'ensureVersion': {
      const request: RequestOf<'EnsureVersion'> = { job, version: step.version };
      return [agentCommand('EnsureVersion', step.vmId, key, (a, o) => a.ensureVersion(request, o))];
    }
    case 'startDataNode': {
      const vm = requireVm(observed, step.vmId, `start data node ${step.nodeId}`);
      const request: RequestOf<'StartDataNode'> = {
        job,
        nodeId: step.nodeId,
        port: vm.dataPort,
        version: step.version,
        nodeGroup: step.nodeGroup,
        engineParams: { ...step.config },
        labels: nodeLabels(step.runningSince, step.config),
      };
      return [agentCommand('StartDataNode', step.vmId, key, (a, o) => a.startDataNode(request, o))];
    }
    case 'stopDataNode': {
      const request: RequestOf<'StopDataNode'> = { job, nodeId: step.nodeId };
      return [agentCommand('StopDataNode', step.vmId, key, (a, o) => a.stopDataNode(request, o))];
    }
    case 'joinPrimary': {
      const request: RequestOf<'JoinNode'> = {
        job,
        nodeId: step.nodeId,
        role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA',
        clusterMember: step.via === undefined ? null : address(observed, step.via, 'the cluster member to join through', false),
        assignSlots: step.slots.map((r) => ({ start: r.start, end: r.end })),
      };
      return [agentCommand('JoinNode', step.vmId, key, (a, o) => a.joinNode(request, o))];
    }
    case 'joinReplica': {
      const request: RequestOf<'JoinNode'> = {
        job,
        nodeId: step.nodeId,
        role: 'JOIN_ROLE_REPLICA',
        replicaOf: address(observed, step.primaryId, 'the primary to follow', true),
      };
      return [agentCommand('JoinNode', step.vmId, key, (a, o) => a.joinNode(request, o))];
    }
    case 'failover': {
      const request: RequestOf<'Failover'> = { job, nodeId: step.nodeId };
      return [agentCommand('Failover', step.vmId, key, (a, o) => a.failover(request, o))];
    }
    case 'moveData': {
      const target = address(observed, step.toId, 'the primary to move data to', true);
      // Exact ranges, never a count or "all": a repeat (a retry after a deadline, a new
      // leader's step planned before this one showed) finds them at the target and moves
      // nothing more (invariant 5).
      const request: RequestOf<'MoveData'> = { job, sourceNodeId: step.fromId, target, slots: { ranges: step.slots.map((r) => ({ start: r.start, end: r.end })) } };
      return [agentCommand('MoveData', step.vmId, key, (a, o) => a.moveData(request, o))];
    }
    case 'removeNode': {
      const request: RequestOf<'RemoveNode'> = { job, nodeId: step.nodeId };
      return [agentCommand('RemoveNode', step.vmId, key, (a, o) => a.removeNode(request, o))];
    }
    case 'forgetNode':
      return forgetCommands(step, observed, jobId);
    case 'configureDataNode': {
      const node = requireNode(observed, step.nodeId, 'the node to configure');
      const request: RequestOf<'ConfigureDataNode'> = {
        job,
        nodeId: step.nodeId,
        engineParams: { ...step.params },
        labels: nodeLabels(node.runningSince, step.config),
      };
      return [agentCommand('ConfigureDataNode', step.vmId, key, (a, o) => a.configureDataNode(request, o))];
    }
    case 'createBackup': {
      const request: RequestOf<'CreateBackup'> = { job, backupId: step.backupId, sink: sinkToProto(step.sink, sinkBaseDir) };
      return [agentCommand('CreateBackup', step.vmId, key, (a, o) => a.createBackup(request, o))];
    }
    case 'deleteBackup': {
      const request: RequestOf<'DeleteBackup'> = { job, backupId: step.backupId, sink: sinkToProto(step.sink, sinkBaseDir) };
      return [agentCommand('DeleteBackup', step.vmId, key, (a, o) => a.deleteBackup(request, o))];
    }
    case 'restoreBackup':
      return restoreCommands(step, observed, jobId, sinkBaseDir);
  }
}

/** Whether a step's commands start all at once (each with its own retries) rather than one after the other. */
export function commandsRunTogether(step: Step): boolean {
  return step.kind === 'forgetNode';
}

function forgetCommands(step: Extract<Step, { kind: 'forgetNode' }>, observed: ObservedCluster, jobId: string): Command[] {
  if (step.engineNodeId === '') throw new StepNotExecutableError('forget a failed node: the step names no engine node id');
  if (step.nodeIds.length === 0) throw new StepNotExecutableError(`forget failed node ${step.engineNodeId}: the step names no data node to forget it on`);
  // One call per node, each with its own key (one job, several agents, several requests).
  return step.nodeIds.map((nodeId) => {
    const node = requireNode(observed, nodeId, `a member to forget failed node ${step.engineNodeId} on`);
    const request: RequestOf<'ForgetNode'> = { job: { jobId, stepId: nodeId }, nodeId, engineNodeId: step.engineNodeId };
    return agentCommand('ForgetNode', node.vmId, idempotencyKey(jobId, nodeId), (a, o) => a.forgetNode(request, o));
  });
}

function restoreCommands(step: Extract<Step, { kind: 'restoreBackup' }>, observed: ObservedCluster, jobId: string, sinkBaseDir: string | undefined): Command[] {
  // The agent fills the whole cluster from the backup (it routes every key to the primary
  // that owns its slot); node_ids name the nodes of the called agent it starts from, so
  // only the step's nodes on that VM are sent.
  const local = step.nodeIds.filter((id) => requireNode(observed, id, `a primary to restore backup ${step.backupId} into`).vmId === step.vmId);
  if (local.length === 0) {
    throw new StepNotExecutableError(`restore backup ${step.backupId} through ${step.vmId}: none of its primaries (${step.nodeIds.join(', ')}) runs on that VM`);
  }
  const request: RequestOf<'RestoreBackup'> = { job: { jobId, stepId: '' }, backupId: step.backupId, sink: sinkToProto(step.sink, sinkBaseDir), nodeIds: local };
  return [agentCommand('RestoreBackup', step.vmId, idempotencyKey(jobId), (a, o) => a.restoreBackup(request, o))];
}

// ---- building blocks ---------------------------------------------------------------

type AgentOf = ReturnType<VmProvider['agent']>;
interface CallOptions {
  idempotencyKey: string;
  deadlineMs: number;
  signal: AbortSignal;
}

function agentCommand(
  method: string,
  vmId: string,
  key: string,
  call: (agent: AgentOf, options: CallOptions) => Promise<{ outcome?: { message: string } | null }>,
): Command {
  const name = `${method} on ${vmId}`;
  return {
    name,
    idempotencyKey: key,
    run: async ({ provider, clock, deadlineMs, signal }) => {
      const response = await withDeadline(clock, deadlineMs, name, signal, (s) =>
        call(provider.agent(vmId), { idempotencyKey: key, deadlineMs, signal: s }),
      );
      const message = response.outcome?.message ?? '';
      return message === '' ? `${name} succeeded` : message;
    },
  };
}

function providerCommand(name: string, key: string, call: (provider: VmProvider, signal: AbortSignal) => Promise<string>): Command {
  return {
    name,
    idempotencyKey: key,
    run: ({ provider, clock, deadlineMs, signal }) => withDeadline(clock, deadlineMs, name, signal, (s) => call(provider, s)),
  };
}

function requireVm(observed: ObservedCluster, vmId: string, purpose: string): ObservedVm {
  const vm = observed.vms.find((v) => v.id === vmId);
  if (vm === undefined) throw new StepNotExecutableError(`${purpose}: VM ${vmId} is not in the observation (the VM provider does not list it)`);
  return vm;
}

function requireNode(observed: ObservedCluster, nodeId: string, what: string): ObservedDataNode {
  const node = dataNodes(observed).find((n) => n.id === nodeId);
  if (node === undefined) {
    throw new StepNotExecutableError(`data node ${nodeId} (${what}) is not in the observation: its agent did not answer, or it has no such node`);
  }
  return node;
}

/** Where to reach a node, from the observation; `needEngineId` when the agent must name it by engine id. */
function address(observed: ObservedCluster, nodeId: string, what: string, needEngineId: boolean): NodeAddress {
  const node = requireNode(observed, nodeId, what);
  if (needEngineId && node.engineNodeId === '') {
    throw new StepNotExecutableError(`data node ${nodeId} (${what}) has no engine node id yet: it has not started as a cluster node`);
  }
  return { host: node.host, port: node.port, engineNodeId: node.engineNodeId };
}
