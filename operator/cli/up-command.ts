// coxswain up -f FILE [--state-dir DIR] [--detach] — run the leader of the cluster in
// FILE, watching FILE for edits. In the foreground it shows live progress until Ctrl-C
// (or SIGTERM), which stops the leader and leaves the agents and data nodes running: the
// cluster keeps serving, and a later `up` adopts it. `coxswain down` ends it too, and
// stops the cluster. --detach starts the same leader as a background process (its
// output goes to <stateDir>/leader.log) and returns once its admin interface answers.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { repoPath } from '../repo-root.ts';
import { AdminClient, findLeader } from '../leader/admin-client.ts';
import { checkDesiredStateFile, startLeader, type LeaderEnd, type PartsFactory, type RunningLeader } from '../leader/leader.ts';
import { LeaderRunningError, liveLockHolder } from '../leader/lock.ts';
import { ProgressView } from '../leader/progress-view.ts';
import { stateDirHint, stateLayout } from '../leader/state-layout.ts';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.ts';
import type { Output } from './output.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { parseCommandLine, UsageError } from './usage.ts';
import { VmProviderSettingsError, type VmProviderFactory } from '../ports/vm-provider.ts';
import { AGENT_PORT_BASE_ENV, DATA_PORT_BASE_ENV, providerFromEnvironment } from '../vm/providers.ts';

/** Set in the environment of the background leader `up --detach` starts. */
export const DETACHED_CHILD_ENV = 'COXSWAIN_LEADER_DETACHED';

export interface UpCommandDeps {
  /** Builds the provider, journal and reconciler. @default the real ones (operator/leader/wiring.ts) */
  parts: PartsFactory;
  /** Subscribes to the signals that stop the leader; returns the unsubscribe. @default SIGINT and SIGTERM (a second one exits at once) */
  onStopSignal: (handler: (signal: string) => void) => () => void;
  /** Whether standard output is a terminal (progress is then redrawn in place). @default process.stdout.isTTY */
  isTTY: () => boolean;
  /** How often the progress view asks for the status, in ms. @default 500 */
  statusIntervalMs: number;
  /** @default process.env */
  env: NodeJS.ProcessEnv;
  /** How long --detach waits for the background leader to answer, in ms. @default 60000 */
  detachTimeoutMs: number;
  /** Debounce of the file watch, in ms. @default 300 */
  debounceMs: number | undefined;
  /** The factory of the VM provider, with its options read from `env`. @default the local provider (operator/vm/providers.ts) */
  provider: (env: NodeJS.ProcessEnv) => VmProviderFactory;
}

const BIN = repoPath('operator', 'bin', 'coxswain.mjs');

function processStopSignals(handler: (signal: string) => void): () => void {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) handler(signal);
    else {
      process.stderr.write(`coxswain up: ${signal} again: exiting now; the agents and data nodes keep running\n`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** The provider's factory; its options from the environment are checked here, before anything starts (a wrong one is a usage error). */
function chooseProvider(deps: UpCommandDeps): VmProviderFactory {
  try {
    return deps.provider(deps.env);
  } catch (err) {
    if (err instanceof VmProviderSettingsError) throw new UsageError(err.message, 'up');
    throw err;
  }
}

export function makeUpCommand(overrides: Partial<UpCommandDeps> = {}): Command {
  const deps: UpCommandDeps = {
    // Loaded when a leader starts: the reconciler, planner and provider are not needed by --help or --detach.
    parts: async (context) => (await import('../leader/wiring.ts')).realParts(context),
    onStopSignal: processStopSignals,
    isTTY: () => process.stdout.isTTY,
    statusIntervalMs: 500,
    env: process.env,
    detachTimeoutMs: 60_000,
    debounceMs: undefined,
    provider: (env) => providerFromEnvironment(env),
    ...overrides,
  };
  return {
    name: 'up',
    summary: 'run the leader: bring the cluster to the desired state in FILE and follow its edits',
    usage: 'coxswain up -f FILE [--state-dir DIR] [--detach]',
    help: `Runs the leader of the cluster declared in FILE: it creates the VMs (locally:
agent processes), starts and joins the data nodes, and keeps the cluster at the
desired state. It watches FILE: save an edit with a higher "id" and the leader
applies it; an invalid edit is refused (coxswain status shows why) and the
cluster keeps the last accepted desired state.

In the foreground it shows the progress (state, steps done and an estimate of
those to go, the job running now). Ctrl-C stops the leader and leaves the agents
and data nodes running: the cluster keeps serving, and a later \`up\` adopts
it. \`coxswain down\` stops everything.

Options:
  -f, --file FILE    the desired-state file to run and watch
  --detach           run the leader in the background (log: DIR/leader.log) and
                     return once it answers
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Environment:
  ${DATA_PORT_BASE_ENV}   lowest port for new data nodes (default 7001; each
                            also uses port + 10000 for the cluster bus)
  ${AGENT_PORT_BASE_ENV}  lowest port for new agents (default 7101)

Exit status: 0 stopped (Ctrl-C, coxswain down) or, with --detach, started;
1 failed (invalid FILE with nothing accepted yet, a leader already running, …);
2 usage.`,
    async run(args, io) {
      const { values } = parseCommandLine('up', args, { file: { type: 'string', short: 'f' }, detach: { type: 'boolean' }, ...stateDirOption }, { min: 0, max: 0, names: '' });
      const file = values['file'];
      if (typeof file !== 'string' || file === '') throw new UsageError('missing -f FILE (the desired-state file, e.g. desired-state/desired_state.jsonc)', 'up');
      const stateDir = resolveStateDir(values['state-dir'], deps.env);
      const provider = chooseProvider(deps);
      const absFile = path.resolve(file);
      if (values['detach'] === true) return detach(io, absFile, stateDir, deps);

      const child = deps.env[DETACHED_CHILD_ENV] === '1';
      const leader = await startLeader({
        stateDir,
        file: absFile,
        parts: deps.parts,
        provider,
        ...(deps.debounceMs === undefined ? {} : { debounceMs: deps.debounceMs }),
      });
      const unsubscribe = deps.onStopSignal((signal) => {
        if (!child) io.out(`\n${signal}: stopping the leader; the agents and data nodes keep running…`);
        void leader.stop();
      });
      try {
        const end = child ? await leader.ended : await follow(io, leader, absFile, deps);
        return report(io, end, absFile, stateDir, child);
      } finally {
        unsubscribe();
      }
    },
  };
}

export const upCommand = makeUpCommand();

/** Shows progress until the leader ends. */
async function follow(io: Output, leader: RunningLeader, file: string, deps: UpCommandDeps): Promise<LeaderEnd> {
  const { layout } = leader;
  io.out(`Leader of cluster "${leader.cluster}" started (epoch ${leader.epoch}, pid ${process.pid}), watching ${file}.`);
  io.out(`State: ${layout.stateDir}   log: ${layout.logFile}   admin: 127.0.0.1:${leader.adminPort}`);
  io.out(`Edit the file (raise "id") to change the cluster; Ctrl-C stops the leader and leaves the cluster running.\n`);
  const view = new ProgressView({
    stream: { write: (text: string) => io.out(text), isTTY: deps.isTTY(), columns: process.stdout.columns },
    footer: 'Ctrl-C stops the leader (the cluster keeps running) · coxswain down stops the cluster',
  });
  let ended: LeaderEnd | undefined;
  void leader.ended.then((end) => (ended = end));
  while (ended === undefined) {
    try {
      view.update(await leader.api.status());
    } catch {
      // The leader is ending; the loop sees it next.
    }
    await Promise.race([leader.ended, new Promise((resolve) => setTimeout(resolve, deps.statusIntervalMs))]);
  }
  view.done();
  return ended;
}

function report(io: Output, end: LeaderEnd, file: string, stateDir: string, child: boolean): number {
  const hint = stateDirHint(stateDir);
  switch (end.reason) {
    case 'stopped':
      if (!child) io.out(`Stopped the leader. The cluster keeps running: 'coxswain up -f ${file}${hint}' adopts it again; 'coxswain down${hint}' stops it.`);
      return EXIT_OK;
    case 'shutdown':
      if (!child) io.out(`Stopped by 'coxswain down': the leader, its agents and data nodes are stopped${end.purge ? ', their data deleted' : ''}.`);
      return EXIT_OK;
    case 'failed':
      io.err(`coxswain up: the leader failed: ${end.error}. See ${stateLayout(stateDir).logFile}`);
      return EXIT_FAILED;
  }
}

/** --detach: check what can be checked here, start the leader in the background, wait until it answers. */
async function detach(io: Output, file: string, stateDir: string, deps: UpCommandDeps): Promise<number> {
  const layout = stateLayout(stateDir);
  checkDesiredStateFile(layout, file);
  const holder = await liveLockHolder(layout.pidFile);
  if (holder !== undefined) throw new LeaderRunningError(layout.stateDir, holder.pid);

  await mkdir(layout.stateDir, { recursive: true, mode: 0o700 });
  const log = openSync(layout.logFile, 'a', 0o600);
  let pid: number | undefined;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    const child = spawn(process.execPath, [BIN, 'up', '-f', file, '--state-dir', layout.stateDir], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...deps.env, [DETACHED_CHILD_ENV]: '1' },
      cwd: process.cwd(),
    });
    pid = child.pid;
    child.once('exit', (code, signal) => (exit = { code, signal }));
    child.once('error', () => (exit = { code: null, signal: null }));
    child.unref();
  } finally {
    closeSync(log);
  }
  if (pid === undefined) throw new Error(`could not start the background leader (${process.execPath} ${BIN})`);

  const deadline = Date.now() + deps.detachTimeoutMs;
  while (Date.now() < deadline) {
    if (exit !== undefined) {
      io.err(`coxswain up: the background leader exited (${exit.code === null ? `signal ${exit.signal ?? '?'}` : `exit ${exit.code}`}) before it answered. The end of ${layout.logFile}:`);
      io.err(readableLogTail(layout.logFile, 15));
      return EXIT_FAILED;
    }
    const endpoint = await findLeader(layout.stateDir);
    if (endpoint?.pid === pid) {
      try {
        const status = await new AdminClient(endpoint, layout.stateDir, { timeoutMs: 5000 }).status();
        const hint = stateDirHint(layout.stateDir);
        io.out(`Leader of cluster "${status.cluster}" runs in the background (pid ${pid}, epoch ${status.epoch}), watching ${file}.`);
        io.out(`Log: ${layout.logFile} (read it with 'coxswain logs -f${hint}'). Follow the cluster with 'coxswain status${hint}' or 'coxswain wait${hint}'; stop everything with 'coxswain down${hint}'.`);
        return EXIT_OK;
      } catch {
        // Not answering yet.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  io.err(`coxswain up: the background leader (pid ${pid}) did not answer within ${Math.round(deps.detachTimeoutMs / 1000)} s; stopped it. The end of ${layout.logFile}:`);
  io.err(readableLogTail(layout.logFile, 15));
  return EXIT_FAILED;
}

/** The last `lines` lines of a log, JSON lines shown as "level: msg (err)". */
export function readableLogTail(file: string, lines: number): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '  (no log)';
  }
  const tail = text.split('\n').filter((l) => l.trim() !== '').slice(-lines);
  return tail
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; err?: unknown; reason?: unknown };
        const level = entry.level === undefined ? '' : entry.level >= 50 ? 'error: ' : entry.level >= 40 ? 'warning: ' : '';
        const extra = [entry.err, entry.reason].filter((x) => typeof x === 'string').join('; ');
        return `  ${level}${entry.msg ?? line}${extra === '' ? '' : ` (${extra})`}`;
      } catch {
        return `  ${line}`;
      }
    })
    .join('\n');
}
