// The composition root of one cluster's leader: everything `coxswain up` runs, in the
// order that keeps it safe.
//
//   1. read the desired-state file once: with no accepted history, an invalid file is
//      a start-up error (there is nothing to run yet);
//   2. take the lock (<stateDir>/leader.pid): one leader per state directory;
//   3. take the next fencing epoch (<stateDir>/leader/epoch), durably, before any agent
//      is contacted — so every agent refuses the previous leader from its first call on;
//   4. the cluster secret (created once, 0600), the log, the history;
//   5. the parts: VM provider, journal, reconciler (injected, so tests run the leader
//      with stand-ins; operator/leader/wiring.ts builds the real ones, with the VM
//      provider of the factory the leader was given: any provider, chosen by the caller);
//   6. the admin interface on 127.0.0.1;
//   7. the file source: first reading offered, then every edit;
//   8. <stateDir>/leader.json (0600) with the admin port and token — published once the
//      file was read — and the reconcile loop.
//
// Two ways to end: stop() (Ctrl-C, SIGTERM) leaves agents and data nodes running — the
// cluster keeps serving and the next leader adopts it; shutdown() (`coxswain down`)
// stops them too, and with purge deletes their data and the state (backups are kept).
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { formatProblems } from '../../desired-state/format.ts';
import { DesiredStateHistory } from '../../desired-state/history.ts';
import { validateDesiredStateFile, type ValidateOptions } from '../../desired-state/validate.ts';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import type { Journal } from '../ports/journal.ts';
import type { LeaderApi } from '../ports/leader-api.ts';
import type { VmProvider, VmProviderFactory } from '../ports/vm-provider.ts';
import { ADMIN_HOST, AdminServer } from './admin-server.ts';
import type { AdminEndpoint } from './admin-protocol.ts';
import { nextEpoch } from './epoch.ts';
import { FileSource } from './file-source.ts';
import { withFileStatus } from './file-status.ts';
import { acquireLeaderLock, type LeaderLock } from './lock.ts';
import { createLeaderLogger } from './logger.ts';
import { backupSinkDirs, purgeStateDir, removeIfEmpty, type PurgeResult } from './purge.ts';
import { loadOrCreateSecret } from './secret.ts';
import { stateLayout, type StateLayout } from './state-layout.ts';

/** The reconciliation part of the leader: operator/reconciler/reconciler.ts. */
export interface ReconcilerPart extends Pick<LeaderApi, 'status' | 'preview' | 'offer'> {
  /**
   * The reconcile loop; resolves once `signal` aborts and the loop has ended. Resolving
   * before that ends the leader: with 'fenced', a newer leader has taken the cluster over.
   */
  run(signal: AbortSignal): Promise<unknown>;
}

export interface LeaderParts {
  provider: VmProvider;
  journal: Journal;
  reconciler: ReconcilerPart;
  /** Releases what the parts hold besides the provider (e.g. the journal's file), once the loop has ended. */
  dispose?: () => Promise<void>;
}

/** What the parts are built from. */
export interface LeaderContext {
  layout: StateLayout;
  /** The cluster's name (from the history, else from the file). */
  cluster: string;
  epoch: number;
  /** The cluster secret; never log it. */
  secret: string;
  history: DesiredStateHistory;
  logger: Logger;
  /** Makes the VM provider, with its own options bound (operator/vm/providers.ts). */
  provider: VmProviderFactory;
}

export type PartsFactory = (context: LeaderContext) => Promise<LeaderParts>;

export interface LeaderOptions {
  stateDir: string;
  /** The desired-state file to read and watch. */
  file: string;
  /** Builds the provider, journal and reconciler. */
  parts: PartsFactory;
  /** @default pino to <stateDir>/leader.log */
  logger?: Logger;
  /** Makes the VM provider the parts use; the leader knows neither which one nor its options. */
  provider: VmProviderFactory;
  /** Quiet time after an edit before the file is read, in ms. @default 300 */
  debounceMs?: number;
  /** How long stopping waits for the reconcile loop to end, in ms. @default 15000 */
  stopTimeoutMs?: number;
}

/** The file cannot be run: no desired state was accepted yet and the file is not valid. */
export class DesiredStateFileError extends Error {
  override name = 'DesiredStateFileError';
}

export type LeaderEnd =
  | { reason: 'stopped' }
  | { reason: 'shutdown'; purge: boolean; purged: PurgeResult | undefined }
  | { reason: 'failed'; error: string };

export interface RunningLeader {
  readonly layout: StateLayout;
  readonly cluster: string;
  readonly epoch: number;
  readonly adminPort: number;
  /** What the admin interface serves. */
  readonly api: LeaderApi;
  /** Resolves once the leader has ended, and how. */
  readonly ended: Promise<LeaderEnd>;
  /** Stops the leader; agents and data nodes keep running. Idempotent. */
  stop(): Promise<LeaderEnd>;
}

/** What desired-state files are validated against: the accepted latest, and whether the cluster ever ran. */
export function validationContextOf(history: DesiredStateHistory): () => ValidateOptions {
  return () => {
    const latest = history.latest();
    return latest === undefined ? { everRan: history.everRan() } : { previous: latest.desired, everRan: history.everRan() };
  };
}

/**
 * Whether `file` can be run in the state directory: with an accepted history anything
 * goes (an invalid file is refused by the leader and the cluster keeps its state); with
 * none, the file must be valid. Returns the cluster's name; DesiredStateFileError else.
 */
export function checkDesiredStateFile(layout: StateLayout, file: string): { cluster: string } {
  const history = new DesiredStateHistory(layout.stateDir);
  const accepted = history.latest();
  if (accepted !== undefined) return { cluster: accepted.desired.name };
  const first = validateDesiredStateFile(file, validationContextOf(history)());
  if (first.verdict !== 'valid' || first.desired === undefined) {
    throw new DesiredStateFileError(`${file} cannot be run: no desired state was accepted in ${layout.stateDir} yet, and this one is not valid:\n${formatProblems(first.problems, first.source)}`);
  }
  return { cluster: first.desired.name };
}

export async function startLeader(options: LeaderOptions): Promise<RunningLeader> {
  const layout = stateLayout(options.stateDir);
  const file = path.resolve(options.file);
  const history = new DesiredStateHistory(layout.stateDir);

  // 1. The file, before anything is taken or written.
  const validationContext = validationContextOf(history);
  const { cluster } = checkDesiredStateFile(layout, file);

  // 2. + 3. The lock, then the epoch.
  await mkdir(layout.stateDir, { recursive: true, mode: 0o700 });
  const lock = await acquireLeaderLock(layout.pidFile, { stateDir: layout.stateDir });
  let epoch: number;
  try {
    epoch = await nextEpoch(layout.epochFile);
  } catch (err) {
    await lock.release();
    throw err;
  }

  // 4. Secret and log.
  const logger = (options.logger ?? createLeaderLogger(layout.logFile)).child({ cluster, epoch });
  let parts: LeaderParts | undefined;
  let admin: AdminServer | undefined;
  let source: FileSource | undefined;
  try {
    const secret = await loadOrCreateSecret(layout.secretFile, logger);
    logger.info({ stateDir: layout.stateDir, file }, `Started the leader of cluster ${cluster} with epoch ${epoch}`);

    // 5. The parts.
    parts = await options.parts({
      layout,
      cluster,
      epoch,
      secret,
      history,
      logger,
      provider: options.provider,
    });
    const leader = new Leader({ layout, cluster, epoch, file, history, logger, lock, parts, stopTimeoutMs: options.stopTimeoutMs ?? 15_000 });

    // 6. The admin interface.
    const token = randomBytes(32).toString('base64url');
    admin = await AdminServer.start({ api: leader.api, token, logger, validationContext });

    // 7. + 8. The file's first reading, then the loop.
    source = new FileSource({ file, target: parts.reconciler, validationContext, logger, ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }) });
    leader.attach(admin, source);
    await source.start();

    // Published once the file was read: whoever finds leader.json finds a leader that has read its file.
    const endpoint: AdminEndpoint = { format: 1, pid: process.pid, host: ADMIN_HOST, port: admin.port, token, epoch, file, startedAt: new Date().toISOString() };
    await writeFileAtomic(layout.adminFile, `${JSON.stringify(endpoint, null, 2)}\n`, 0o600);
    logger.info({ port: admin.port }, `Opened the admin interface on ${ADMIN_HOST}:${admin.port}`);
    leader.begin();
    return leader;
  } catch (err) {
    await source?.stop().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await parts?.provider.close().catch(() => undefined);
    await parts?.dispose?.().catch(() => undefined);
    await rm(layout.adminFile, { force: true });
    await lock.release();
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'Failed to start the leader');
    throw err;
  }
}

interface LeaderInit {
  layout: StateLayout;
  cluster: string;
  epoch: number;
  file: string;
  history: DesiredStateHistory;
  logger: Logger;
  lock: LeaderLock;
  parts: LeaderParts;
  stopTimeoutMs: number;
}

class Leader implements RunningLeader {
  readonly layout: StateLayout;
  readonly cluster: string;
  readonly epoch: number;
  readonly api: LeaderApi;
  readonly ended: Promise<LeaderEnd>;
  readonly #init: LeaderInit;
  readonly #loop = new AbortController();
  #resolveEnded!: (end: LeaderEnd) => void;
  #admin: AdminServer | undefined;
  #source: FileSource | undefined;
  #running: Promise<void> | undefined;
  /** The first way of ending wins; later calls wait for it. */
  #ending: Promise<LeaderEnd> | undefined;
  #shutdown: Promise<PurgeResult | undefined> | undefined;

  constructor(init: LeaderInit) {
    this.#init = init;
    this.layout = init.layout;
    this.cluster = init.cluster;
    this.epoch = init.epoch;
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    const { parts } = init;
    this.api = {
      status: async () => {
        const status = await parts.reconciler.status();
        return this.#source === undefined ? status : withFileStatus(status, this.#source.reading);
      },
      jobs: () => parts.journal.list(),
      job: (id) => parts.journal.get(id),
      preview: (desired) => parts.reconciler.preview(desired),
      offer: (candidate, source) => parts.reconciler.offer(candidate, source),
      shutdown: async (options) => {
        if (this.#ending !== undefined && this.#shutdown === undefined) {
          throw new Error('the leader is stopping (Ctrl-C or a failure); run coxswain down again once it has ended to stop the agents directly');
        }
        await this.#shutdownCluster(options.purge);
      },
    };
  }

  get adminPort(): number {
    return this.#admin?.port ?? 0;
  }

  /** What the leader closes when it ends: set as soon as they exist. */
  attach(admin: AdminServer, source: FileSource): void {
    this.#admin = admin;
    this.#source = source;
  }

  /** Starts the reconcile loop. */
  begin(): void {
    const { logger, parts } = this.#init;
    this.#running = parts.reconciler.run(this.#loop.signal).then(
      (result) => {
        if (this.#loop.signal.aborted) return;
        const error =
          result === 'fenced'
            ? 'a newer leader (a higher epoch) has taken this cluster over; the agents refuse this one'
            : 'the reconcile loop ended unexpectedly';
        logger.error(`The reconcile loop ended: ${error}; the leader stops`);
        void this.#end({ reason: 'failed', error });
      },
      (err: unknown) => {
        if (this.#loop.signal.aborted) return;
        const error = err instanceof Error ? err.message : String(err);
        logger.error({ err: error }, 'The reconcile loop failed; the leader stops (agents and data nodes keep running)');
        void this.#end({ reason: 'failed', error });
      },
    );
  }

  stop(): Promise<LeaderEnd> {
    // A shutdown in progress ends the leader itself when it is done.
    if (this.#shutdown !== undefined) return this.ended;
    return this.#end({ reason: 'stopped' });
  }

  /** `down`: stop the work, then every agent and data node; with purge, their data and the state too. */
  #shutdownCluster(purge: boolean): Promise<PurgeResult | undefined> {
    this.#shutdown ??= (async () => {
      const { logger, parts, layout, history } = this.#init;
      logger.info({ purge }, purge ? 'Shutting down the cluster and deleting its data (coxswain down --purge)' : 'Shutting down the cluster (coxswain down)');
      try {
        await this.#stopWork();
        // Read the backup sinks before the history goes.
        const backupDirs = purge ? backupSinkDirs(history, layout.stateDir) : [];
        await parts.provider.shutdown({ dataNodes: true, purge });
        logger.info({ purge }, 'Stopped every agent and data node');
        let purged: PurgeResult | undefined;
        if (purge) {
          purged = await purgeStateDir(layout, { backupDirs, files: [layout.pidFile, layout.adminFile, layout.logFile] });
          logger.info({ keptBackups: purged.keptBackups }, 'Deleted the cluster state');
        }
        // Answer the request first; the leader ends right after.
        setImmediate(() => void this.#end({ reason: 'shutdown', purge, purged }));
        return purged;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        logger.error({ err: error }, 'Failed to shut the cluster down; the leader stops. Run coxswain down again to finish without a leader');
        setImmediate(() => void this.#end({ reason: 'failed', error }));
        throw err;
      }
    })();
    return this.#shutdown;
  }

  /** Stops watching the file and the reconcile loop (bounded wait). Idempotent. */
  async #stopWork(): Promise<void> {
    const { logger, stopTimeoutMs } = this.#init;
    await this.#source?.stop();
    this.#loop.abort(new Error('the leader is stopping'));
    if (this.#running !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.#running.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), stopTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) logger.warn({ waitedMs: stopTimeoutMs }, 'Stopped waiting for the reconcile loop to end; a step in flight is re-planned by the next leader');
    }
  }

  #end(end: LeaderEnd): Promise<LeaderEnd> {
    this.#ending ??= (async () => {
      const { logger, parts, layout, lock } = this.#init;
      await this.#stopWork();
      await this.#admin?.close().catch(() => undefined);
      await parts.provider.close().catch((err: unknown) => logger.warn({ err: String(err) }, 'Failed to close the VM provider'));
      await parts.dispose?.().catch((err: unknown) => logger.warn({ err: String(err) }, 'Failed to close the journal'));
      await rm(layout.adminFile, { force: true });
      const purged = end.reason === 'shutdown' && end.purge;
      if (end.reason === 'stopped') logger.info('Stopped the leader; the agents and data nodes keep running');
      if (end.reason === 'shutdown') logger.info('Stopped the leader after shutting down the cluster');
      if (purged) await rm(layout.logFile, { force: true });
      await lock.release();
      if (purged) await removeIfEmpty(layout.stateDir);
      this.#resolveEnded(end);
      return end;
    })();
    return this.#ending;
  }
}
