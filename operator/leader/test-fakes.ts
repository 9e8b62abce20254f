// Stand-ins for the leader's tests and the command tests: a status builder, a fake
// LeaderApi whose answers a test scripts, and fake leader parts (reconciler, VM provider,
// journal) that record what the leader asked of them. Small on purpose: they check the
// leader's wiring and the commands' output, not reconciliation (the reconciler's own
// tests and the integration test in test/leader/ do that).
import type { Desired } from '../../desired-state/types.ts';
import type { ValidationResult } from '../../desired-state/validate.ts';
import { emptyObserved, type ObservedCluster } from '../model/observed.ts';
import type { Plan } from '../model/step.ts';
import type { ClusterStatus } from '../model/status.ts';
import { MemoryJournal } from '../executor/journal-memory.ts';
import type { Job } from '../ports/journal.ts';
import type { LeaderApi, OfferResult } from '../ports/leader-api.ts';
import type { VmProvider, VmProviderFactory, VmRecord } from '../ports/vm-provider.ts';
import type { AgentPort } from '../ports/agent-port.ts';
import type { LeaderParts, ReconcilerPart } from './leader.ts';

export function fakeStatus(overrides: Partial<ClusterStatus> = {}): ClusterStatus {
  return {
    cluster: 'demo',
    state: 'AT_DESIRED_STATE',
    acceptedId: 1,
    pendingId: null,
    lastRefusal: null,
    lastError: null,
    progress: null,
    waiting: [],
    nodeGroups: [
      {
        index: 0,
        nodes: [
          { id: 'vm-1', host: '127.0.0.1', port: 7001, role: 'primary', version: '7.0', up: true },
          { id: 'vm-2', host: '127.0.0.1', port: 7002, role: 'replica', version: '7.0', up: true },
        ],
      },
    ],
    agents: [
      { id: 'vm-1', endpoint: '127.0.0.1:7101', zone: 'zone-a', up: true },
      { id: 'vm-2', endpoint: '127.0.0.1:7102', zone: 'zone-b', up: true },
    ],
    epoch: 1,
    at: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function fakeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: '1',
    intent: 'start data node vm-1 (version 7.0, node group 0, runningSince 1)',
    source: 'reconcile desired state 1',
    why: 'vm-1 has no data node yet',
    desiredId: 1,
    epoch: 1,
    step: { kind: 'startDataNode', vmId: 'vm-1', nodeId: 'vm-1', nodeGroup: 0, version: '7.0', config: {}, runningSince: 1 },
    commands: [
      {
        command: 'StartDataNode on vm-1',
        attempt: 1,
        startedAt: '2025-01-01T00:00:01.000Z',
        endedAt: '2025-01-01T00:00:01.250Z',
        result: 'ok',
        output: 'started vm-1 on 127.0.0.1:7001',
      },
    ],
    stages: {
      submitted: '2025-01-01T00:00:00.900Z',
      scheduled: '2025-01-01T00:00:00.950Z',
      executed: '2025-01-01T00:00:01.000Z',
      finished: '2025-01-01T00:00:01.300Z',
      committed: '2025-01-01T00:00:02.000Z',
    },
    status: 'succeeded',
    ...overrides,
  };
}

export function emptyPlan(overrides: Partial<Plan> = {}): Plan {
  return { next: [], done: true, waiting: [], remaining: 0, blocked: [], ...overrides };
}

/** A LeaderApi whose answers the test sets, recording the calls it gets. */
export class FakeLeader implements LeaderApi {
  statuses: ClusterStatus[] = [fakeStatus()];
  jobList: Job[] = [fakeJob()];
  plan: Plan = emptyPlan();
  observed: ObservedCluster = emptyObserved();
  offerResult: OfferResult = { status: 'accepted', id: 1, message: 'accepted' };
  readonly calls: string[] = [];
  readonly previews: Desired[] = [];
  readonly offers: Array<{ candidate: ValidationResult; source: string }> = [];
  readonly shutdowns: Array<{ purge: boolean }> = [];

  /** Each call returns the next status; the last one repeats. */
  status(): Promise<ClusterStatus> {
    this.calls.push('status');
    const status = this.statuses.length > 1 ? this.statuses.shift() : this.statuses[0];
    return Promise.resolve(structuredClone(status ?? fakeStatus()));
  }

  jobs(): Promise<Job[]> {
    this.calls.push('jobs');
    return Promise.resolve(structuredClone(this.jobList));
  }

  job(id: string): Promise<Job | undefined> {
    this.calls.push(`job ${id}`);
    return Promise.resolve(structuredClone(this.jobList.find((j) => j.id === id)));
  }

  preview(desired: Desired): Promise<{ plan: Plan; observed: ObservedCluster }> {
    this.calls.push('preview');
    this.previews.push(desired);
    return Promise.resolve({ plan: structuredClone(this.plan), observed: structuredClone(this.observed) });
  }

  offer(candidate: ValidationResult, source: string): Promise<OfferResult> {
    this.calls.push('offer');
    this.offers.push({ candidate, source });
    return Promise.resolve({ ...this.offerResult, id: candidate.desired?.id ?? null, status: candidate.verdict === 'valid' ? this.offerResult.status : candidate.verdict === 'ignored' ? 'ignored' : 'refused' });
  }

  shutdown(options: { purge: boolean }): Promise<void> {
    this.calls.push('shutdown');
    this.shutdowns.push(options);
    return Promise.resolve();
  }
}

/** A reconciler stand-in: accepts valid offers into a list, runs until aborted. */
export class FakeReconciler implements ReconcilerPart {
  readonly leader = new FakeLeader();
  readonly offers: Array<{ candidate: ValidationResult; source: string }> = [];
  runs = 0;
  aborted = false;
  /** When set, run() fails with it. */
  failWith: Error | undefined;

  status(): Promise<ClusterStatus> {
    return this.leader.status();
  }

  preview(desired: Desired): Promise<{ plan: Plan; observed: ObservedCluster }> {
    return this.leader.preview(desired);
  }

  offer(candidate: ValidationResult, source: string): Promise<OfferResult> {
    this.offers.push({ candidate, source });
    if (candidate.verdict === 'valid' && candidate.desired !== undefined) return Promise.resolve({ status: 'accepted', id: candidate.desired.id, message: 'accepted' });
    return Promise.resolve({ status: candidate.verdict === 'ignored' ? 'ignored' : 'refused', id: null, message: candidate.problems.map((p) => p.message).join('\n') });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.runs++;
    if (this.failWith !== undefined) throw this.failWith;
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.aborted = true;
  }
}

/** A provider stand-in that records shutdown() and close(). */
export class FakeProvider implements VmProvider {
  readonly shutdowns: Array<{ dataNodes: boolean; purge: boolean }> = [];
  closed = 0;
  /** Runs inside shutdown() (e.g. to delete what a real provider would). */
  onShutdown: ((options: { dataNodes: boolean; purge: boolean }) => Promise<void>) | undefined;

  list(): Promise<VmRecord[]> {
    return Promise.resolve([]);
  }
  create(): Promise<VmRecord> {
    return Promise.reject(new Error('FakeProvider.create is not scripted'));
  }
  delete(): Promise<void> {
    return Promise.resolve();
  }
  restartAgent(): Promise<VmRecord> {
    return Promise.reject(new Error('FakeProvider.restartAgent is not scripted'));
  }
  agent(): AgentPort {
    throw new Error('FakeProvider.agent is not scripted');
  }
  async shutdown(options: { dataNodes: boolean; purge: boolean }): Promise<void> {
    this.shutdowns.push(options);
    await this.onShutdown?.(options);
  }
  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}

/** Fake parts and the factory that hands them out (recording the context it got). */
export function fakeParts(): { parts: LeaderParts & { reconciler: FakeReconciler; provider: FakeProvider }; factory: (ctx: unknown) => Promise<LeaderParts>; contexts: unknown[] } {
  const parts = { reconciler: new FakeReconciler(), provider: new FakeProvider(), journal: new MemoryJournal() };
  const contexts: unknown[] = [];
  return {
    parts,
    contexts,
    factory: (ctx) => {
      contexts.push(ctx);
      return Promise.resolve(parts);
    },
  };
}

/** The provider factory of a leader whose fake parts bring their own provider: never called. */
export const noProvider: VmProviderFactory = () => Promise.reject(new Error('test: the fake parts bring their own provider'));
