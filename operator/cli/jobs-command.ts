// coxswain jobs [--json] / coxswain job ID — the job journal: every step the leader ran,
// with its intent, where it ended, each command with its result, and a time per stage.
// Asked of the running leader; with no leader running, read from the journal file in
// the state directory (the journal is append-only, so it is safe to read at any time).
import { access } from 'node:fs/promises';
import { journalFile, readJournalFile, sortJobs } from '../executor/journal-file.ts';
import { NoLeaderError, connectLeader, type ConnectLeader } from '../leader/admin-client.ts';
import type { Job, JobStage, Journal } from '../ports/journal.ts';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.ts';
import type { Output } from './output.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { table } from './status-command.ts';
import { parseCommandLine } from './usage.ts';

export interface JobsCommandDeps {
  /** @default the admin interface of the leader running for the state directory */
  connect: ConnectLeader;
  /** The journal file of a state directory, when no leader runs; undefined when there is none. */
  openJournal: (stateDir: string) => Promise<Pick<Journal, 'list' | 'get'> | undefined>;
}

const STAGES: readonly JobStage[] = ['submitted', 'scheduled', 'executed', 'finished', 'committed'];

/** The leader's journal, else the journal file, else NoLeaderError. */
async function journalOf(deps: JobsCommandDeps, stateDir: string): Promise<Pick<Journal, 'list' | 'get'>> {
  try {
    const leader = await deps.connect(stateDir);
    return { list: () => leader.jobs(), get: (id) => leader.job(id) };
  } catch (err) {
    if (!(err instanceof NoLeaderError)) throw err;
    const journal = await deps.openJournal(stateDir);
    if (journal === undefined) throw err;
    return journal;
  }
}

export function makeJobsCommands(deps: JobsCommandDeps): { jobs: Command; job: Command } {
  const jobs: Command = {
    name: 'jobs',
    summary: 'list the jobs the leader ran (the journal)',
    usage: 'coxswain jobs [--json] [--state-dir DIR]',
    help: `Lists every job in the journal, oldest first: id, where it ended (running,
succeeded, failed, abandoned), when it was submitted, how long it took, the
attempts it made, and its intent. A failed job shows its error. Details of one
job: coxswain job ID. Works without a running leader too (reads the journal).

Options:
  --json             print the jobs as JSON (each with its step, commands and stages)
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status: 0 printed, 1 no leader and no journal, 2 usage.`,
    async run(args, io) {
      const { values } = parseCommandLine('jobs', args, { json: { type: 'boolean' }, ...stateDirOption }, { min: 0, max: 0, names: '' });
      const stateDir = resolveStateDir(values['state-dir']);
      const list = await (await journalOf(deps, stateDir)).list();
      if (values['json'] === true) {
        io.out(JSON.stringify(list, null, 2));
        return EXIT_OK;
      }
      if (list.length === 0) {
        io.out(`no jobs yet in ${stateDir}`);
        return EXIT_OK;
      }
      io.out(formatJobList(list));
      return EXIT_OK;
    },
  };
  const job: Command = {
    name: 'job',
    summary: 'show one job: intent, reason, stages, each command and its output',
    usage: 'coxswain job ID [--json] [--state-dir DIR]',
    help: `Shows one job of the journal: its intent and the planner's reason, who asked
(the desired state it worked towards), the leader epoch that ran it, the time of
each stage (submitted, scheduled, executed, finished, committed), and every
command it ran with its attempt, result and output.

Options:
  --json             print the job as JSON
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status: 0 printed, 1 no such job (or no leader and no journal), 2 usage.`,
    async run(args, io) {
      const { values, positionals } = parseCommandLine('job', args, { json: { type: 'boolean' }, ...stateDirOption }, { min: 1, max: 1, names: 'ID (a job id, see coxswain jobs)' });
      const id = positionals[0] as string;
      const stateDir = resolveStateDir(values['state-dir']);
      const journal = await journalOf(deps, stateDir);
      const found = await journal.get(id);
      if (found === undefined) {
        return notFound(io, id, stateDir, await journal.list());
      }
      io.out(values['json'] === true ? JSON.stringify(found, null, 2) : formatJob(found));
      return EXIT_OK;
    },
  };
  return { jobs, job };
}

/** The journal file of a state directory, read once (read-only), or undefined when there is none. */
export async function openJournalFile(stateDir: string): Promise<Pick<Journal, 'list' | 'get'> | undefined> {
  const file = journalFile(stateDir);
  const there = await access(file).then(
    () => true,
    () => false,
  );
  if (!there) return undefined;
  const { jobs } = await readJournalFile(file);
  return { list: () => Promise.resolve(sortJobs(jobs.values())), get: (id) => Promise.resolve(jobs.get(id)) };
}

const defaults = makeJobsCommands({ connect: connectLeader, openJournal: openJournalFile });
export const jobsCommand = defaults.jobs;
export const jobCommand = defaults.job;

function notFound(io: Output, id: string, stateDir: string, all: Job[]): number {
  const range = all.length === 0 ? 'there are no jobs yet' : `jobs are ${all[0]?.id ?? ''} … ${all.at(-1)?.id ?? ''}`;
  io.err(`coxswain job: no job ${id} in ${stateDir} (${range}); run 'coxswain jobs'`);
  return EXIT_FAILED;
}

/** A duration in ms as "0.4 s", "12 s", "3 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

function durationOf(job: Job): string {
  const start = job.stages.submitted;
  const end = job.stages.finished;
  if (start === undefined) return '';
  if (end === undefined) return job.status === 'running' ? 'running' : '';
  return formatDuration(Date.parse(end) - Date.parse(start));
}

function attemptsOf(job: Job): number {
  return job.commands.reduce((max, c) => Math.max(max, c.attempt), 0);
}

export function formatJobList(list: Job[]): string {
  const rows = [['ID', 'STATUS', 'SUBMITTED', 'TOOK', 'TRIES', 'INTENT']];
  for (const job of list) {
    rows.push([job.id, job.status, (job.stages.submitted ?? '').replace('T', ' ').slice(0, 19), durationOf(job), String(attemptsOf(job)), job.intent]);
  }
  const lines = table(rows);
  // Failed jobs get their error under them.
  const out: string[] = [lines[0] ?? ''];
  list.forEach((job, i) => {
    out.push(lines[i + 1] ?? '');
    if (job.status === 'failed' && job.error !== undefined) out.push(`      error: ${job.error.split('\n')[0] ?? ''}`);
    else if (job.status === 'succeeded' && job.ineffective !== undefined && job.stages.committed === undefined) out.push(`      not visible: ${job.ineffective}`);
  });
  return out.join('\n');
}

export function formatJob(job: Job): string {
  const lines = [`job ${job.id}: ${job.status}`, `  intent: ${job.intent}`, `  why: ${job.why}`, `  source: ${job.source} (desired state ${job.desiredId}, leader epoch ${job.epoch})`];
  if (job.error !== undefined) lines.push(`  error: ${job.error}`);
  if (job.ineffective !== undefined) lines.push(`  effect: ${job.stages.committed === undefined ? 'never seen' : 'seen late'} — ${job.ineffective}`);
  lines.push('  stages:');
  for (const stage of STAGES) {
    const at = job.stages[stage];
    if (at !== undefined) lines.push(`    ${stage.padEnd(9)}  ${at}`);
  }
  if (job.commands.length === 0) {
    lines.push('  commands: none');
  } else {
    lines.push('  commands:');
    for (const c of job.commands) {
      const took = formatDuration(Date.parse(c.endedAt) - Date.parse(c.startedAt));
      lines.push(`    ${c.command} — attempt ${c.attempt}, ${c.result}${c.reason === undefined ? '' : ` (${c.reason})`}, ${took}`);
      if (c.output !== '') lines.push(...c.output.split('\n').map((l) => `      ${l}`));
    }
  }
  lines.push(`  step: ${JSON.stringify(job.step)}`);
  return lines.join('\n');
}
