// The data node supervisor: starts, stops and watches the engine processes of one
// agent, and finds them again after the agent restarts. Engine-neutral: everything
// engine-specific goes through an EngineAdapter.
//
// Data nodes outlive the agent. Each one is spawned detached (its own session and
// process group) with stdout/stderr going to a file, never a pipe, so the agent can
// exit or restart while its nodes keep serving. `close()` stops watching and leaves
// the nodes running; a new supervisor on the same base directory `recover()`s them.
//
// Layout: <baseDir>/<nodeId>/ holds the node's config, data and logs (the adapter's
// files) and the supervisor's record (node.json + node.pid, see node-record.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataNodeSpec, EngineAdapter, NodeEndpoint, ProbeResult } from './engines/engine.ts';
import { NODE_ID_PATTERN, specProblem } from './engines/engine.ts';
import {
  abortedError,
  InvalidSpecError,
  NodeBusyError,
  NodeConflictError,
  PortInUseError,
  StartFailedError,
  StartTimeoutError,
  StopFailedError,
  SupervisorClosedError,
} from './engines/errors.ts';
import { OUTPUT_FILE, readRecord, removeRecord, writeRecord, type NodeRecord } from './node-record.ts';
import { canBind, findPortHolder, isRunning, readCmdline, readProcStat } from '../common/process-inspect.ts';
import { errorText } from '../common/error-text.ts';

/** The subset of a pino logger the supervisor uses. */
export interface SupervisorLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const SILENT: SupervisorLogger = { info() {}, warn() {}, error() {} };

export interface SupervisorOptions {
  /** Absolute directory that holds one directory per data node. */
  baseDir: string;
  adapter: EngineAdapter;
  /**
   * How often an adopted process (not our child, so no 'exit' event) is checked for
   * life, in ms. A check is one kill(pid, 0) and one read of /proc/<pid>/stat, so it
   * costs nothing measurable; 1 s reports a crashed node inside Redis's own failure
   * detection (cluster-node-timeout, 2 s by default), so the leader usually hears of it
   * from the agent first. Children the supervisor spawned report their exit at once.
   * @default 1000
   */
  adoptedPollMs?: number;
  /** Time a start may take until the node is ready, when the caller gives none. @default 60000 */
  startTimeoutMs?: number;
  /**
   * Time a stop waits for a graceful exit before SIGKILL. Covers Redis's
   * shutdown-timeout (10 s, a primary waiting for its replicas to catch up) plus
   * flushing the AOF. @default 20000
   */
  stopGraceMs?: number;
  /** @default silent */
  logger?: SupervisorLogger;
}

/** What the caller gives to start a node; the supervisor adds the data directory. */
export interface StartSpec {
  nodeId: string;
  version: string;
  port: number;
  /** @default the adapter's first kind ("data" for redis) */
  kind?: string;
  /** @default "127.0.0.1" */
  bindHost?: string;
  /** @default {} */
  parameters?: Readonly<Record<string, string | number>>;
  /**
   * Opaque labels kept in the node's record (e.g. { nodeGroup: "0" }). A start of a
   * stopped node replaces the labels it had; a node that already runs with other labels
   * is refused (NodeConflictError), like one with another configuration. @default {}
   */
  labels?: Readonly<Record<string, string>>;
}

/** What a reconfiguration of a data node changes. */
export interface ReconfigureChange {
  /** Parameters to set, merged into those the node's configuration is rendered from. @default {} */
  parameters?: Readonly<Record<string, string>>;
  /** The names among `parameters` that take effect only at the node's next start. @default [] */
  pendingRestart?: readonly string[];
  /** Labels to set; the node's other labels stay. @default {} */
  labels?: Readonly<Record<string, string>>;
}

export interface ReconfigureOptions {
  signal?: AbortSignal;
  /**
   * Runs under the node's lock after the new configuration was rendered (so it is known
   * to be valid) and before anything is saved: e.g. apply the parameters to the running
   * process. When it throws, nothing is saved. @default nothing
   */
  apply?: () => Promise<void>;
}

export interface ReconfigureResult {
  node: DataNodeStatus;
  /**
   * True when the parameters were saved in the node's configuration file and record.
   * False for a record of an older agent that does not list the parameters its file was
   * rendered from: then only the labels are saved, and the next start renders them all.
   */
  saved: boolean;
}

export interface StartOptions {
  signal?: AbortSignal;
  /** @default the supervisor's startTimeoutMs */
  timeoutMs?: number;
}

export interface StopOptions {
  signal?: AbortSignal;
  /** @default the supervisor's stopGraceMs */
  graceMs?: number;
}

export type NodeOrigin = 'spawned' | 'adopted';

/** Which identity check failed when a recorded node was not adopted. */
export type FailedCheck = 'record' | 'process' | 'cmdline' | 'port' | 'engine-node-id';

export interface DataNodeStatus {
  nodeId: string;
  engine: string;
  kind: string;
  /** Catalogue version, e.g. "7.0". */
  version: string;
  /** Version the process reported when last probed, e.g. "7.0.15". */
  runningVersion: string | null;
  port: number;
  bindHost: string;
  /** The process, while it runs. */
  pid: number | null;
  /** True while the supervisor sees the process alive (spawned: no exit yet; adopted: last check). */
  up: boolean;
  /** How the supervisor came to watch the process; null when none runs. */
  origin: NodeOrigin | null;
  engineNodeId: string | null;
  startedAt: string | null;
  nodeDir: string;
  labels: Record<string, string>;
  /** The engine parameters its configuration is rendered from; null for a record of an older agent. */
  parameters: Record<string, string | number> | null;
  /** Parameters saved by a reconfiguration that take effect at the next start. */
  pendingRestart: string[];
  /** Why the node is down, when it was not stopped by this supervisor. */
  down: { check: FailedCheck | 'exited'; reason: string } | null;
}

/** An exit of a data node process. For adopted processes code and signal are unknown (null). */
export interface DataNodeExit {
  nodeId: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the supervisor had asked it to stop. */
  expected: boolean;
  origin: NodeOrigin;
}

export interface StartResult {
  node: DataNodeStatus;
  /** False when the node already ran as asked (adopted or still running): nothing was started. */
  changed: boolean;
  /** Time from spawn to ready, when a process was started. */
  readyAfterMs: number | null;
}

export interface StopResult {
  /** Undefined when the supervisor has never heard of the node. */
  node: DataNodeStatus | undefined;
  /** False when the node was not running. */
  changed: boolean;
  /** True when it had to be killed with SIGKILL after the grace period. */
  killed: boolean;
}

export interface RecoveryReport {
  /** Nodes whose process passed every identity check and is watched again, not restarted. */
  adopted: DataNodeStatus[];
  /** Nodes with a pid record that did not pass; their processes were left alone. */
  down: Array<{ nodeId: string; pid: number | null; check: FailedCheck; reason: string }>;
  /** Nodes that were stopped cleanly (a record without a pid). */
  stopped: string[];
}

type Phase = 'starting' | 'running' | 'stopping' | 'down';

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Node {
  record: NodeRecord;
  nodeDir: string;
  phase: Phase;
  origin: NodeOrigin | null;
  runningVersion: string | null;
  down: DataNodeStatus['down'];
  child?: ChildProcess;
  childExitHandler?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** Resolves when the current process has gone. */
  exited?: Promise<ExitInfo>;
  resolveExited?: (info: ExitInfo) => void;
}

type Verdict =
  | { ok: true; probe: ProbeResult }
  | { ok: false; check: FailedCheck; reason: string };

const DEFAULTS = { adoptedPollMs: 1000, startTimeoutMs: 60_000, stopGraceMs: 20_000 };
const KILL_WAIT_MS = 5000;
/** A running node that a start finds silent for this many probes in a row … */
const UNANSWERED_PROBES = 3;
/** … of this long each is stopped and started again (see start()). */
const PROBE_MS = 1000;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** "key: had → wants" for every label that differs, sorted by key. */
function differentLabels(had: Readonly<Record<string, string>>, wants: Readonly<Record<string, string>>): string[] {
  const keys = [...new Set([...Object.keys(had), ...Object.keys(wants)])].sort();
  return keys
    .filter((k) => had[k] !== wants[k])
    .map((k) => `${k}: ${had[k] === undefined ? '(none)' : JSON.stringify(had[k])} → ${wants[k] === undefined ? '(none)' : JSON.stringify(wants[k])}`);
}

/** The last `lines` non-empty lines of a file, or '' when it cannot be read. */
async function tail(file: string, lines = 12): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join('\n');
}

export class DataNodeSupervisor {
  readonly #adapter: EngineAdapter;
  readonly #baseDir: string;
  readonly #opts: typeof DEFAULTS;
  readonly #log: SupervisorLogger;
  readonly #nodes = new Map<string, Node>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #exitListeners = new Set<(exit: DataNodeExit) => void>();
  #pollTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: SupervisorOptions) {
    if (!path.isAbsolute(options.baseDir)) {
      throw new InvalidSpecError('baseDir', `the supervisor's base directory ${JSON.stringify(options.baseDir)} is not absolute`);
    }
    this.#adapter = options.adapter;
    this.#baseDir = options.baseDir;
    this.#opts = {
      adoptedPollMs: options.adoptedPollMs ?? DEFAULTS.adoptedPollMs,
      startTimeoutMs: options.startTimeoutMs ?? DEFAULTS.startTimeoutMs,
      stopGraceMs: options.stopGraceMs ?? DEFAULTS.stopGraceMs,
    };
    this.#log = options.logger ?? SILENT;
  }

  /** The directory of a node. */
  nodeDir(nodeId: string): string {
    return path.join(this.#baseDir, nodeId);
  }

  /** Calls `listener` for every exit of a data node process. Returns the unsubscribe function. */
  onExit(listener: (exit: DataNodeExit) => void): () => void {
    this.#exitListeners.add(listener);
    return () => this.#exitListeners.delete(listener);
  }

  /** The nodes this supervisor knows, sorted by id. */
  list(): DataNodeStatus[] {
    return [...this.#nodes.values()].map((n) => this.#status(n)).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
  }

  // ───────────────────────────── start ─────────────────────────────

  /**
   * Starts a data node and waits until it is ready. Idempotent: a node that already
   * runs as asked (also one found running from an earlier agent) is left alone.
   * On any failure nothing is left behind: the process is killed, the pid record
   * removed (or the previous one put back), and a directory this call created is removed.
   */
  async start(request: StartSpec, options: StartOptions = {}): Promise<StartResult> {
    this.#checkOpen('start a data node');
    const what = `start of data node ${request.nodeId}`;
    if (options.signal?.aborted === true) {
      throw abortedError(options.signal, `The ${what} was not begun: its signal was already aborted.`);
    }
    const spec = this.#spec(request);
    const labels = { ...(request.labels ?? {}) };
    const files = this.#adapter.render(spec); // throws InvalidSpecError before anything is touched
    const configSha256 = sha256(files.map((f) => `${f.name}\0${f.content}`).join('\0'));
    return this.#withLock(spec.nodeId, options.signal, what, async () => {
      this.#checkOpen('start a data node');
      let node = this.#nodes.get(spec.nodeId);
      // An adopted process is only checked every adoptedPollMs: one killed since the last
      // check would pass for running, and the start would change nothing (seen end to end:
      // a node killed right after an agent restart stayed down for the leader's 30 s wait).
      if (node !== undefined && node.phase === 'running') await this.#checkAdopted(node);
      if (node === undefined || node.phase === 'down') {
        // A node we do not watch may still run from before an agent restart: adopt it
        // rather than start a second one.
        const record = await readRecord(spec.dataDir).catch(() => undefined);
        if (record !== undefined && record.port !== spec.port) {
          throw new NodeConflictError(
            `Cannot start data node ${spec.nodeId} on port ${spec.port}: it was created with port ${record.port}, and a node keeps its port. ` +
              `Start it with port ${record.port}, or remove the node and create a new one.`,
          );
        }
        if (record !== undefined && record.pid !== null) {
          const verdict = await this.#identify(record);
          if (verdict.ok) node = this.#adopt(record, spec.dataDir, verdict.probe);
        }
      }
      if (node !== undefined && node.phase === 'running') {
        const silence = await this.#unanswering(node);
        if (silence !== undefined) {
          // Running is not enough: a start promises a node that answers. A process that
          // runs but does not answer (hung or stopped; seen: a Valkey 8.0 node after a
          // failover) is stopped — SIGKILL after the grace period — and started again.
          this.#log.warn(
            { nodeId: spec.nodeId, pid: node.record.pid, why: silence },
            `Data node ${spec.nodeId} runs (pid ${node.record.pid ?? '?'}) but does not answer (${silence}): stopping it to start it again`,
          );
          await this.#stopRunning(node, options.signal === undefined ? {} : { signal: options.signal });
        }
      }
      if (node !== undefined && (node.phase === 'running' || node.phase === 'stopping')) {
        return this.#alreadyRunning(node, spec, configSha256, labels);
      }
      return this.#spawnAndWait(spec, labels, configSha256, options);
    });
  }

  /**
   * Why a running node counts as not answering — no reply to UNANSWERED_PROBES probes in
   * a row, each given PROBE_MS — or undefined when it answered one (loading its data set
   * is an answer).
   */
  async #unanswering(node: Node): Promise<string | undefined> {
    let last = '';
    for (let i = 0; i < UNANSWERED_PROBES; i++) {
      const probe = await this.#adapter.probe(this.#adapter.endpoint(node.record), { timeoutMs: PROBE_MS });
      if (probe.up) return undefined;
      last = probe.detail ?? 'no reply';
      if (node.origin === 'adopted') await this.#checkAdopted(node);
      if (node.phase !== 'running') return undefined; // it exited meanwhile: the start starts it
    }
    return `${UNANSWERED_PROBES} probes of ${PROBE_MS} ms each: ${last}`;
  }

  #alreadyRunning(node: Node, spec: DataNodeSpec, configSha256: string, labels: Record<string, string>): StartResult {
    const r = node.record;
    if (node.phase === 'stopping') {
      throw new NodeBusyError(
        `Cannot start data node ${spec.nodeId}: an interrupted stop left it shutting down. Repeat the stop, then start it.`,
      );
    }
    if (r.version !== spec.version || r.bindHost !== spec.bindHost || r.configSha256 !== configSha256) {
      const differs = r.version !== spec.version ? `version ${r.version}, not ${spec.version}` : 'another configuration';
      throw new NodeConflictError(
        `Data node ${spec.nodeId} already runs (pid ${r.pid ?? '?'}) with ${differs}. ` +
          'Stop it first (after a planned failover, if it is a primary), then start it with the new settings.',
      );
    }
    const labelDiff = differentLabels(r.labels, labels);
    if (labelDiff.length > 0) {
      throw new NodeConflictError(
        `Data node ${spec.nodeId} already runs (pid ${r.pid ?? '?'}) with other labels (${labelDiff.join('; ')}). ` +
          'Labels change when a node is started: stop it first, then start it with the new labels (or set them with a reconfiguration).',
      );
    }
    return { node: this.#status(node), changed: false, readyAfterMs: null };
  }

  async #spawnAndWait(spec: DataNodeSpec, labels: Record<string, string>, configSha256: string, options: StartOptions): Promise<StartResult> {
    const { nodeId } = spec;
    const signal = options.signal;
    const timeoutMs = options.timeoutMs ?? this.#opts.startTimeoutMs;
    const binaries = await this.#adapter.resolve(spec.version, spec.kind);
    await this.#checkPorts(spec);

    const dirExisted = await exists(spec.dataDir);
    const previousRecord = dirExisted ? await readRecord(spec.dataDir).catch(() => undefined) : undefined;
    let child: ChildProcess | undefined;
    let node: Node | undefined;
    try {
      await this.#adapter.prepare(spec);
      if (signal?.aborted === true) throw abortedError(signal, `The start of data node ${nodeId} was aborted before its server was started.`);
      const launch = this.#adapter.launchCommand(spec, binaries);
      const [program, ...args] = launch.argv;
      if (program === undefined) throw new StartFailedError(`The ${this.#adapter.engine} adapter gave an empty command for ${nodeId}.`);

      // stdout/stderr to a file, not a pipe: a pipe would break (SIGPIPE) when the agent exits.
      const out = await open(path.join(spec.dataDir, OUTPUT_FILE), 'a', 0o600);
      let started: Promise<void>;
      try {
        const c = spawn(program, args, {
          cwd: launch.cwd,
          env: { ...launch.env },
          detached: true,
          stdio: ['ignore', out.fd, out.fd],
        });
        child = c;
        // Listen before any await: 'spawn' or 'error' follows on the next tick.
        started = new Promise<void>((resolve, reject) => {
          c.once('spawn', resolve);
          c.once('error', reject);
        });
      } finally {
        await out.close(); // the child has its own copy of the descriptor
      }
      const spawned = child;
      await started.catch((err: unknown) => {
        throw new StartFailedError(`Could not run ${program} for data node ${nodeId}: ${errorText(err)}.`, err);
      });
      const spawnedAt = performance.now();
      const pid = spawned.pid;
      if (pid === undefined) throw new StartFailedError(`${program} for data node ${nodeId} started without a pid.`);
      spawned.unref(); // the agent may exit while the node runs

      const record: NodeRecord = {
        format: 1,
        nodeId,
        engine: this.#adapter.engine,
        kind: spec.kind,
        version: spec.version,
        port: spec.port,
        bindHost: spec.bindHost,
        labels,
        parameters: { ...spec.parameters },
        pendingRestart: [],
        binary: program,
        binaryVersion: binaries.server.version,
        configSha256,
        pid,
        procStartTime: (await readProcStat(pid))?.startTime ?? null,
        engineNodeId: null,
        startedAt: new Date().toISOString(),
        stoppedAt: null,
      };
      node = { record, nodeDir: spec.dataDir, phase: 'starting', origin: 'spawned', runningVersion: null, down: null };
      this.#watchChild(node, spawned);
      this.#nodes.set(nodeId, node);
      // The record is written before the wait: if the agent dies now, the next one finds the process.
      await writeRecord(spec.dataDir, record);

      const probe = await this.#waitReady(node, spec, timeoutMs, signal, launch.logFile);
      const readyAfterMs = Math.round((performance.now() - spawnedAt) * 10) / 10;
      node.record = { ...record, engineNodeId: probe.engineNodeId ?? null };
      node.runningVersion = probe.version ?? null;
      await writeRecord(spec.dataDir, node.record);
      node.phase = 'running';
      this.#log.info({ nodeId, pid, port: spec.port, version: probe.version, readyAfterMs }, 'Started data node');
      return { node: this.#status(node), changed: true, readyAfterMs };
    } catch (err) {
      const cleanup = await this.#undoStart(spec, child, node, dirExisted, previousRecord);
      if (cleanup !== '' && err instanceof Error) err.message += ` Clean-up after the failure also failed: ${cleanup}`;
      throw err;
    }
  }

  /** Probes until ready; throws when the process exits, the deadline passes or the signal aborts. */
  async #waitReady(node: Node, spec: DataNodeSpec, timeoutMs: number, signal: AbortSignal | undefined, logFile: string | undefined): Promise<ProbeResult> {
    const { nodeId } = spec;
    const pid = node.record.pid;
    const endpoint = this.#adapter.endpoint(spec);
    const begun = performance.now();
    const deadline = begun + timeoutMs;
    let exit: ExitInfo | undefined;
    void node.exited?.then((e) => (exit = e));
    let last: ProbeResult | undefined;
    for (;;) {
      if (exit !== undefined) {
        const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
        const logs = await this.#logTails(spec.dataDir, logFile);
        throw new StartFailedError(
          `Data node ${nodeId} (${node.record.binary}, pid ${pid}) ${how} before it was ready. ` +
            `Fix the engine parameter or the machine problem its log names (in ${spec.dataDir}).${logs}`,
        );
      }
      if (signal?.aborted === true) {
        throw abortedError(
          signal,
          `The start of data node ${nodeId} was aborted before it was ready; the server it had started (pid ${pid}) was killed.`,
        );
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        const state = last === undefined ? 'it was not probed' : last.detail ?? 'it answered but was not ready';
        throw new StartTimeoutError(
          `Data node ${nodeId} was not ready within ${timeoutMs} ms (last probe: ${state}); the server it had started (pid ${pid}) was killed. Its log: ${logFile ?? spec.dataDir}.`,
        );
      }
      last = await this.#adapter.probe(endpoint, { timeoutMs: Math.min(1000, remaining) });
      if (last.ready && exit === undefined) {
        if (last.pid !== undefined && last.pid !== pid) {
          throw new StartFailedError(
            `Port ${spec.port} answered for data node ${nodeId}, but from pid ${last.pid}, not from the server just started (pid ${pid}): ` +
              'another process took the port. Choose another port.',
          );
        }
        if (!this.#adapter.runsVersion(last, spec.version)) {
          throw new StartFailedError(
            `Data node ${nodeId} runs ${last.product ?? '?'} ${last.version ?? '?'}, not version ${spec.version} of ${this.#adapter.engine}. ` +
              'Check which program the catalogue names for this version and what is installed under that name.',
          );
        }
        return last;
      }
      // Every 5 ms for the first 200 ms (an empty node is ready in about 10 ms), then
      // every 50 ms while a node loads a large data set.
      const now = performance.now();
      const waitMs = Math.min(now - begun < 200 ? 5 : 50, Math.max(0, deadline - now));
      await Promise.race([sleep(waitMs, undefined, signal === undefined ? {} : { signal }).catch(() => undefined), node.exited]);
    }
  }

  async #logTails(nodeDir: string, logFile: string | undefined): Promise<string> {
    const parts: string[] = [];
    for (const file of [path.join(nodeDir, OUTPUT_FILE), logFile]) {
      if (file === undefined) continue;
      const text = await tail(file);
      if (text !== '') parts.push(`\n--- last lines of ${file} ---\n${text}`);
    }
    return parts.join('');
  }

  /** Leaves nothing of a failed start behind. Returns what could not be undone, or ''. */
  async #undoStart(
    spec: DataNodeSpec,
    child: ChildProcess | undefined,
    node: Node | undefined,
    dirExisted: boolean,
    previousRecord: NodeRecord | undefined,
  ): Promise<string> {
    const problems: string[] = [];
    // The node stays 'starting': the exit that follows is reported by start()'s error, not as an exit event.
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const pid = child.pid;
      try {
        process.kill(-pid, 'SIGKILL'); // its own process group: takes any fork of the server with it
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      const c = child;
      const exited = new Promise<boolean>((resolve) => {
        c.once('exit', () => resolve(true));
        if (c.exitCode !== null || c.signalCode !== null) resolve(true);
      });
      if (!(await Promise.race([exited, sleep(KILL_WAIT_MS).then(() => false)]))) problems.push(`pid ${pid} did not exit after SIGKILL`);
    }
    if (node !== undefined) this.#unwatchChild(node);
    this.#nodes.delete(spec.nodeId);
    try {
      if (!dirExisted) {
        await rm(spec.dataDir, { recursive: true, force: true });
      } else if (previousRecord !== undefined) {
        await writeRecord(spec.dataDir, previousRecord);
      } else {
        await removeRecord(spec.dataDir);
      }
    } catch (err) {
      problems.push(errorText(err));
    }
    if (previousRecord !== undefined && dirExisted) {
      // Known again, as it was: down.
      this.#nodes.set(spec.nodeId, {
        record: previousRecord,
        nodeDir: spec.dataDir,
        phase: 'down',
        origin: null,
        runningVersion: null,
        down: null,
      });
    }
    return problems.join('; ');
  }

  /** Refuses a port that is in use, naming what holds it when /proc shows it. */
  async #checkPorts(spec: DataNodeSpec): Promise<void> {
    for (const use of this.#adapter.ports(spec)) {
      if (await canBind(spec.bindHost, use.port)) continue;
      const holder = await findPortHolder(use.port);
      const owner = holder === undefined ? undefined : [...this.#nodes.values()].find((n) => n.record.pid === holder.pid && n.phase !== 'down');
      throw new PortInUseError({
        nodeId: spec.nodeId,
        port: use.port,
        host: spec.bindHost,
        purpose: use.purpose,
        ...(holder === undefined
          ? {}
          : { holder: owner === undefined ? holder : { pid: holder.pid, command: `data node ${owner.record.nodeId}: ${holder.command}` } }),
      });
    }
  }

  // ───────────────────────────── reconfigure ─────────────────────────────

  /**
   * Saves new parameters and labels of a data node (running or not) in its configuration
   * file and record, so that the node keeps them when it is started again and a later
   * start with the same full configuration finds it "already running as asked". The new
   * configuration is rendered first (an invalid parameter is refused before anything
   * happens), then `options.apply` runs (e.g. CONFIG SET on the live process), then the
   * file and the record are written — all under the node's lock.
   */
  async reconfigure(nodeId: string, change: ReconfigureChange, options: ReconfigureOptions = {}): Promise<ReconfigureResult> {
    this.#checkOpen('reconfigure a data node');
    return this.#withLock(nodeId, options.signal, `reconfiguration of data node ${nodeId}`, async () => {
      const node = this.#nodes.get(nodeId);
      if (node === undefined) {
        throw new InvalidSpecError('nodeId', `data node ${nodeId} is not known to this supervisor; start it before reconfiguring it`);
      }
      const r = node.record;
      const parameters = change.parameters ?? {};
      let prepared: { spec: DataNodeSpec; configSha256: string } | undefined;
      if (r.parameters !== undefined) {
        const spec: DataNodeSpec = {
          nodeId,
          kind: r.kind,
          version: r.version,
          port: r.port,
          bindHost: r.bindHost,
          dataDir: node.nodeDir,
          parameters: { ...r.parameters, ...parameters },
        };
        const files = this.#adapter.render(spec); // throws InvalidSpecError before anything is touched
        prepared = { spec, configSha256: sha256(files.map((f) => `${f.name}\0${f.content}`).join('\0')) };
      }
      await options.apply?.();
      if (prepared !== undefined) await this.#adapter.prepare(prepared.spec);
      const pending = new Set([...(r.pendingRestart ?? []), ...(change.pendingRestart ?? [])]);
      node.record = {
        ...r,
        labels: { ...r.labels, ...(change.labels ?? {}) },
        ...(prepared === undefined
          ? {}
          : { parameters: { ...prepared.spec.parameters }, configSha256: prepared.configSha256, pendingRestart: [...pending].sort() }),
      };
      await writeRecord(node.nodeDir, node.record);
      this.#log.info(
        { nodeId, parameters: Object.keys(parameters), labels: Object.keys(change.labels ?? {}), saved: prepared !== undefined },
        prepared === undefined ? 'Saved labels of data node (its record predates saved parameters)' : 'Saved configuration of data node',
      );
      return { node: this.#status(node), saved: prepared !== undefined || Object.keys(parameters).length === 0 };
    });
  }

  // ───────────────────────────── stop ─────────────────────────────

  /**
   * Stops a data node gracefully, keeping its data: the engine's stop request (SIGTERM
   * if it cannot be delivered), then SIGKILL after the grace period. Idempotent: a node
   * that is not running, or not known at all, is fine.
   */
  async stop(nodeId: string, options: StopOptions = {}): Promise<StopResult> {
    this.#checkOpen('stop a data node');
    if (!NODE_ID_PATTERN.test(nodeId)) {
      throw new InvalidSpecError('nodeId', `node id ${JSON.stringify(nodeId)} is not valid: no data node can have it`);
    }
    return this.#withLock(nodeId, options.signal, `stop of data node ${nodeId}`, async () => {
      let node = this.#nodes.get(nodeId);
      if (node === undefined || node.phase === 'down') {
        // Perhaps it still runs from before an agent restart and recover() was not called.
        const record = await readRecord(this.nodeDir(nodeId)).catch(() => undefined);
        if (record !== undefined && record.pid !== null) {
          const verdict = await this.#identify(record);
          if (verdict.ok) node = this.#adopt(record, this.nodeDir(nodeId), verdict.probe);
        }
      }
      if (node === undefined) return { node: undefined, changed: false, killed: false };
      if (node.phase === 'down') {
        // A record still naming a process that is gone (it crashed, or a stop was
        // interrupted) is brought up to date; a live process that failed the identity
        // checks is left alone, and so is its record.
        const pid = node.record.pid;
        if (pid !== null && !(await isRunning(pid, node.record.procStartTime))) {
          node.record = { ...node.record, pid: null, procStartTime: null, stoppedAt: new Date().toISOString() };
          await writeRecord(node.nodeDir, node.record);
        }
        return { node: this.#status(node), changed: false, killed: false };
      }
      return this.#stopRunning(node, options);
    });
  }

  async #stopRunning(node: Node, options: StopOptions): Promise<StopResult> {
    const { nodeId } = node.record;
    const pid = node.record.pid;
    if (pid === null) throw new Error(`data node ${nodeId} is running without a pid`); // cannot happen
    const graceMs = options.graceMs ?? this.#opts.stopGraceMs;
    const signal = options.signal;
    node.phase = 'stopping';
    const endpoint: NodeEndpoint = this.#adapter.endpoint(node.record);
    try {
      await this.#adapter.requestStop(endpoint);
    } catch (err) {
      this.#log.warn({ nodeId, pid, error: errorText(err) }, 'Sent SIGTERM: the stop request could not be delivered');
      await this.#signal(node, 'SIGTERM');
    }
    let killed = false;
    if (!(await this.#waitGone(node, graceMs, signal))) {
      this.#log.warn({ nodeId, pid, graceMs }, 'Killed data node with SIGKILL: it did not exit within the grace period');
      await this.#signal(node, 'SIGKILL');
      killed = true;
      if (!(await this.#waitGone(node, KILL_WAIT_MS, signal))) {
        throw new StopFailedError(`Data node ${nodeId} (pid ${pid}) did not exit, even ${KILL_WAIT_MS} ms after SIGKILL.`);
      }
    }
    node.record = { ...node.record, pid: null, procStartTime: null, stoppedAt: new Date().toISOString() };
    await writeRecord(node.nodeDir, node.record);
    this.#log.info({ nodeId, pid, killed }, 'Stopped data node');
    return { node: this.#status(node), changed: true, killed };
  }

  /** True once the process is gone; false after `ms`. Throws when the signal aborts. */
  async #waitGone(node: Node, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    const until = performance.now() + ms;
    for (;;) {
      if (node.origin === 'adopted') await this.#checkAdopted(node);
      if (node.phase === 'down') return true;
      if (signal?.aborted === true) {
        throw abortedError(
          signal,
          `The stop of data node ${node.record.nodeId} was interrupted; the node was asked to shut down and may still be exiting. Repeat the stop.`,
        );
      }
      const left = until - performance.now();
      if (left <= 0) return false;
      await Promise.race([
        sleep(Math.min(node.origin === 'adopted' ? 20 : 200, left), undefined, signal === undefined ? {} : { signal }).catch(() => undefined),
        node.exited,
      ]);
    }
  }

  /** Sends a signal to a node's process group (or the process), after checking it is still the same process. */
  async #signal(node: Node, sig: NodeJS.Signals): Promise<void> {
    const pid = node.record.pid;
    if (pid === null) return;
    const stat = await readProcStat(pid);
    if (stat === undefined) return;
    if (node.record.procStartTime !== null && stat.startTime !== node.record.procStartTime) return; // not ours any more
    try {
      process.kill(stat.pgrp === pid ? -pid : pid, sig);
    } catch {
      // gone meanwhile
    }
  }

  // ───────────────────────────── watching ─────────────────────────────

  #newExitPromise(node: Node): void {
    node.exited = new Promise<ExitInfo>((resolve) => {
      node.resolveExited = resolve;
    });
  }

  #watchChild(node: Node, child: ChildProcess): void {
    this.#newExitPromise(node);
    const handler = (code: number | null, signal: NodeJS.Signals | null): void => this.#handleExit(node, { code, signal });
    node.child = child;
    node.childExitHandler = handler;
    child.once('exit', handler);
    // An exit before the listener was attached (a server that fails at once) is not
    // emitted again, but the child keeps its code.
    if (child.exitCode !== null || child.signalCode !== null) {
      child.off('exit', handler);
      handler(child.exitCode, child.signalCode);
    }
  }

  #unwatchChild(node: Node): void {
    if (node.child !== undefined && node.childExitHandler !== undefined) node.child.off('exit', node.childExitHandler);
    delete node.child;
    delete node.childExitHandler;
  }

  #handleExit(node: Node, info: ExitInfo): void {
    if (node.phase === 'down') return;
    const pid = node.record.pid ?? 0;
    const wasStarting = node.phase === 'starting';
    const expected = node.phase === 'stopping';
    const origin = node.origin ?? 'spawned';
    node.phase = 'down';
    node.origin = null;
    this.#unwatchChild(node);
    node.resolveExited?.(info);
    if (wasStarting) return; // a failed start is reported by start() itself
    if (!expected) {
      const how = info.signal !== null ? `killed by ${info.signal}` : info.code !== null ? `exited with code ${info.code}` : 'gone';
      node.down = { check: 'exited', reason: `pid ${pid} ${how} without being asked to stop` };
      this.#log.error({ nodeId: node.record.nodeId, pid, code: info.code, signal: info.signal }, 'Lost data node: its process exited');
    }
    const exit: DataNodeExit = { nodeId: node.record.nodeId, pid, code: info.code, signal: info.signal, expected, origin };
    for (const listener of this.#exitListeners) {
      try {
        listener(exit);
      } catch (err) {
        this.#log.error({ nodeId: exit.nodeId, error: errorText(err) }, 'Exit listener threw');
      }
    }
  }

  async #checkAdopted(node: Node): Promise<void> {
    const pid = node.record.pid;
    if (node.origin !== 'adopted' || pid === null || node.phase === 'down') return;
    if (!(await isRunning(pid, node.record.procStartTime))) this.#handleExit(node, { code: null, signal: null });
  }

  #ensurePolling(): void {
    if (this.#pollTimer !== undefined || this.#closed) return;
    this.#pollTimer = setInterval(() => {
      const adopted = [...this.#nodes.values()].filter((n) => n.origin === 'adopted' && n.phase !== 'down');
      if (adopted.length === 0) {
        clearInterval(this.#pollTimer);
        this.#pollTimer = undefined;
        return;
      }
      for (const node of adopted) {
        // A failed check must not become an unhandled rejection: the next poll checks again.
        this.#checkAdopted(node).catch((err: unknown) =>
          this.#log.warn({ nodeId: node.record.nodeId, error: errorText(err) }, 'Failed to check an adopted data node; will check again'),
        );
      }
    }, this.#opts.adoptedPollMs);
    this.#pollTimer.unref(); // watching must not keep the agent alive
  }

  // ───────────────────────────── recovery ─────────────────────────────

  /**
   * Finds the nodes of an earlier agent in the base directory. A node whose process is
   * alive, whose command line names the recorded program, whose port answers from that
   * pid and whose engine node id matches the record is adopted: watched again, not
   * restarted. Any other is reported down with the check that failed; its process (if
   * any) is left alone, since after pid reuse it may be someone else's.
   */
  async recover(): Promise<RecoveryReport> {
    this.#checkOpen('recover data nodes');
    const report: RecoveryReport = { adopted: [], down: [], stopped: [] };
    const entries = await readdir(this.#baseDir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    for (const nodeId of names) {
      await this.#withLock(nodeId, undefined, `recovery of data node ${nodeId}`, async () => {
        const existing = this.#nodes.get(nodeId);
        if (existing !== undefined && existing.phase !== 'down') return; // already watched
        const nodeDir = this.nodeDir(nodeId);
        let record: NodeRecord | undefined;
        try {
          record = await readRecord(nodeDir);
        } catch (err) {
          report.down.push({ nodeId, pid: null, check: 'record', reason: `its record cannot be read: ${errorText(err)}` });
          return;
        }
        if (record === undefined || !NODE_ID_PATTERN.test(nodeId)) return; // not a node directory
        if (record.nodeId !== nodeId) {
          report.down.push({ nodeId, pid: record.pid, check: 'record', reason: `its record names node ${record.nodeId}, not ${nodeId}` });
          return;
        }
        if (record.pid === null) {
          this.#nodes.set(nodeId, { record, nodeDir, phase: 'down', origin: null, runningVersion: null, down: null });
          report.stopped.push(nodeId);
          return;
        }
        const verdict = await this.#identify(record);
        if (verdict.ok) {
          const node = this.#adopt(record, nodeDir, verdict.probe);
          report.adopted.push(this.#status(node));
          if (record.engineNodeId === null && node.record.engineNodeId !== null) await writeRecord(nodeDir, node.record);
          return;
        }
        this.#nodes.set(nodeId, {
          record,
          nodeDir,
          phase: 'down',
          origin: null,
          runningVersion: null,
          down: { check: verdict.check, reason: verdict.reason },
        });
        report.down.push({ nodeId, pid: record.pid, check: verdict.check, reason: verdict.reason });
        this.#log.warn({ nodeId, pid: record.pid, check: verdict.check, reason: verdict.reason }, 'Did not adopt data node');
      });
    }
    return report;
  }

  /** The identity checks, in order; the first that fails decides. */
  async #identify(record: NodeRecord): Promise<Verdict> {
    const pid = record.pid;
    if (pid === null) return { ok: false, check: 'process', reason: 'its record has no pid (it was stopped)' };
    const stat = await readProcStat(pid);
    if (stat === undefined || stat.state === 'Z' || stat.state === 'X') {
      return { ok: false, check: 'process', reason: `its process (pid ${pid}) is gone` };
    }
    if (record.procStartTime !== null && stat.startTime !== record.procStartTime) {
      return { ok: false, check: 'process', reason: `pid ${pid} now belongs to another process (it started at another time): the pid was reused` };
    }
    // The server sets its title to "<argv[0]> <address> [cluster]": argv[0] is the path it was started from.
    const cmdline = (await readCmdline(pid)) ?? '';
    const program = cmdline.startsWith(`${record.binary} `) || cmdline === record.binary ? record.binary : (cmdline.split(/\s+/)[0] ?? '');
    if (path.basename(program) !== path.basename(record.binary)) {
      return { ok: false, check: 'cmdline', reason: `pid ${pid} runs "${cmdline}", not ${path.basename(record.binary)}` };
    }
    const probe = await this.#adapter.probe(this.#adapter.endpoint(record), { timeoutMs: 1000 });
    if (!probe.up) {
      return { ok: false, check: 'port', reason: `port ${record.port} does not answer (${probe.detail ?? 'no reply'})` };
    }
    if (probe.pid !== undefined && probe.pid !== pid) {
      return { ok: false, check: 'port', reason: `port ${record.port} is served by pid ${probe.pid}, not by pid ${pid}` };
    }
    // A node still loading its data set cannot tell its engine node id yet; the pid the
    // port reports, with the start time and command line, already names the process.
    if (record.engineNodeId !== null && probe.ready && probe.engineNodeId !== record.engineNodeId) {
      return {
        ok: false,
        check: 'engine-node-id',
        reason: `port ${record.port} reports engine node id ${probe.engineNodeId ?? '(none)'}, but the record has ${record.engineNodeId}`,
      };
    }
    return { ok: true, probe };
  }

  #adopt(record: NodeRecord, nodeDir: string, probe: ProbeResult): Node {
    const node: Node = {
      record: { ...record, engineNodeId: record.engineNodeId ?? probe.engineNodeId ?? null },
      nodeDir,
      phase: 'running',
      origin: 'adopted',
      runningVersion: probe.version ?? null,
      down: null,
    };
    this.#newExitPromise(node);
    this.#nodes.set(record.nodeId, node);
    this.#ensurePolling();
    this.#log.info({ nodeId: record.nodeId, pid: record.pid, port: record.port }, 'Adopted data node');
    return node;
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /**
   * Stops watching, WITHOUT stopping the data nodes: what a rolling agent restart does.
   * Waits for operations in progress to finish first. Later exits are not reported.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#locks.values()]);
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    for (const node of this.#nodes.values()) this.#unwatchChild(node);
    this.#exitListeners.clear();
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new SupervisorClosedError(operation);
  }

  /**
   * Runs operations on one node one at a time. A caller whose signal aborts while it
   * waits for its turn gives up without running; the next in line still waits for the
   * operation before it.
   */
  async #withLock<T>(nodeId: string, signal: AbortSignal | undefined, what: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(nodeId) ?? Promise.resolve();
    const turn =
      signal === undefined
        ? previous
        : new Promise<void>((resolve, reject) => {
            const onAbort = (): void => reject(abortedError(signal, `The ${what} was not begun: it was aborted while another operation on the node ran.`));
            if (signal.aborted) onAbort();
            signal.addEventListener('abort', onAbort, { once: true });
            void previous.then(() => {
              signal.removeEventListener('abort', onAbort);
              resolve();
            });
          });
    const run = turn.then(fn);
    const settled = Promise.allSettled([previous, run]).then(() => undefined);
    this.#locks.set(nodeId, settled);
    try {
      return await run;
    } finally {
      if (this.#locks.get(nodeId) === settled) this.#locks.delete(nodeId);
    }
  }

  #spec(request: StartSpec): DataNodeSpec {
    const spec: DataNodeSpec = {
      nodeId: request.nodeId,
      kind: request.kind ?? this.#adapter.kinds[0] ?? 'data',
      version: request.version,
      port: request.port,
      bindHost: request.bindHost ?? '127.0.0.1',
      dataDir: this.nodeDir(request.nodeId),
      parameters: request.parameters ?? {},
    };
    const problem = specProblem(spec, this.#adapter.kinds);
    if (problem !== undefined) throw new InvalidSpecError(problem[0], problem[1]);
    return spec;
  }

  #status(node: Node): DataNodeStatus {
    const r = node.record;
    const up = node.phase === 'running' || node.phase === 'stopping';
    return {
      nodeId: r.nodeId,
      engine: r.engine,
      kind: r.kind,
      version: r.version,
      runningVersion: up ? node.runningVersion : null,
      port: r.port,
      bindHost: r.bindHost,
      pid: up ? r.pid : null,
      up,
      origin: up ? node.origin : null,
      engineNodeId: r.engineNodeId,
      startedAt: r.startedAt,
      nodeDir: node.nodeDir,
      labels: { ...r.labels },
      parameters: r.parameters === undefined ? null : { ...r.parameters },
      pendingRestart: [...(r.pendingRestart ?? [])],
      down: up ? null : node.down,
    };
  }
}
