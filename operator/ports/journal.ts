// The job journal (ConfD's model): every step the leader runs, and every imperative
// request, is a job with an id, intent, source, parameters, each command with its result
// and output, and a timestamp per stage. Append-only; survives restarts. The file
// implementation is operator/executor/journal-file.ts; tests use an in-memory one.
import type { Step } from '../model/step.ts';

export type JobStage = 'submitted' | 'scheduled' | 'executed' | 'finished' | 'committed';

/** One command a job ran (an agent RPC or a provider call) and how it ended. */
export interface JobCommand {
  /** e.g. "StartDataNode on vm-3" or "provider.create vm-3". */
  command: string;
  /** Attempt number, 1 for the first. */
  attempt: number;
  startedAt: string;
  endedAt: string;
  result: 'ok' | 'transient-error' | 'terminal-error';
  /** The agent's outcome message, or the error message. */
  output: string;
  /** Error reason (e.g. "STALE_LEADER", "DEADLINE_EXCEEDED") when it failed. */
  reason?: string;
}

export interface Job {
  /** Monotonic decimal id, unique within the state directory: "1", "2", … */
  id: string;
  /** What the job is for, one line (describeStep). */
  intent: string;
  /** Who or what asked: "reconcile desired state 4", "user: backup now". */
  source: string;
  /** The planner's reason. */
  why: string;
  /** The desired-state id it works towards. */
  desiredId: number;
  /** The leader epoch that ran it. */
  epoch: number;
  step: Step;
  commands: JobCommand[];
  /** RFC 3339 time of each stage reached. */
  stages: Partial<Record<JobStage, string>>;
  /** Where it ended; 'running' until finished. */
  status: 'running' | 'succeeded' | 'failed' | 'abandoned';
  /** Why it failed, for a person. */
  error?: string;
  /**
   * A succeeded job whose effect the leader never saw: what it waited for and what it
   * observed instead. The step counts as failed once more (operator/reconciler/step-failures.ts).
   */
  ineffective?: string;
}

/** One line of the journal: a whole job as it is after an event (the last line per id wins). */
export interface JournalEntry {
  job: Job;
}

export interface Journal {
  /** The next free job id. */
  nextId(): Promise<string>;
  /**
   * Appends the job's current state (a new job or an update of one). The journal keeps
   * a copy taken at the call: the caller may go on changing `job` at once.
   */
  record(job: Job): Promise<void>;
  /** Every job, latest state of each, in id order. */
  list(): Promise<Job[]>;
  /** One job, or undefined. */
  get(id: string): Promise<Job | undefined>;
}
