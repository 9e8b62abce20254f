// `coxswain down` with no leader running (it was stopped with Ctrl-C, or crashed): the
// agents and data nodes are stopped directly with the VM provider of the state
// directory. The command acts as a short-lived leader: it takes the lock (so no leader
// starts meanwhile) and the next fencing epoch (so an agent still serving an older
// leader's call obeys this one), then asks the provider to stop everything.
import { access, readdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { DesiredStateHistory } from '../../desired-state/history.ts';
import type { VmProviderContext, VmProviderFactory } from '../ports/vm-provider.ts';
import { nextEpoch } from './epoch.ts';
import { acquireLeaderLock } from './lock.ts';
import { createLeaderLogger } from './logger.ts';
import { backupSinkDirs, purgeStateDir, removeIfEmpty, type PurgeResult } from './purge.ts';
import { readSecret } from './secret.ts';
import { stateLayout } from './state-layout.ts';

/** What the provider of a state directory is made from (operator/ports/vm-provider.ts). */
export type ProviderContext = VmProviderContext;
export type ProviderFactory = VmProviderFactory;

export type OfflineDownResult =
  /** The state directory holds no cluster. */
  | { kind: 'nothing' }
  | { kind: 'stopped'; purged: PurgeResult | undefined };

export interface OfflineDownOptions {
  stateDir: string;
  purge: boolean;
  provider: ProviderFactory;
  /** @default pino to <stateDir>/leader.log */
  logger?: Logger;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/**
 * A directory that holds files but none of a state directory's own (history/, journal/,
 * vms/, leader/, secret): a mistaken --state-dir. Without this check `down --purge` took
 * the lock in it and deleted everything in it (seen: pointed at the parent of a test's
 * state directory, it deleted the parent).
 */
export class NotAStateDirError extends Error {
  override name = 'NotAStateDirError';
}

export async function shutdownWithoutLeader(options: OfflineDownOptions): Promise<OfflineDownResult> {
  const layout = stateLayout(options.stateDir);
  if (!(await exists(layout.stateDir)) || (await readdir(layout.stateDir)).length === 0) return { kind: 'nothing' };
  const own = [layout.historyDir, layout.journalDir, layout.vmsDir, layout.leaderDir, layout.secretFile];
  if (!(await Promise.all(own.map(exists))).some(Boolean)) {
    throw new NotAStateDirError(
      `${layout.stateDir} is not a Coxswain state directory: it has none of history/, journal/, vms/, leader/ or secret. ` +
        'Nothing was stopped or deleted. Pass the --state-dir that coxswain up used (default: $COXSWAIN_STATE_DIR or .coxswain).',
    );
  }
  const hasVms = await exists(layout.vmsDir);
  const lock = await acquireLeaderLock(layout.pidFile, { stateDir: layout.stateDir });
  const logger = (options.logger ?? createLeaderLogger(layout.logFile)).child({ command: 'down' });
  let purged: PurgeResult | undefined;
  try {
    if (hasVms) {
      const epoch = await nextEpoch(layout.epochFile);
      const secret = await readSecret(layout.secretFile, logger);
      const provider = await options.provider({ stateDir: layout.stateDir, epoch, secret, logger });
      try {
        logger.info({ epoch, purge: options.purge }, 'Stopping every agent and data node without a leader (coxswain down)');
        await provider.shutdown({ dataNodes: true, purge: options.purge });
        logger.info('Stopped every agent and data node');
      } finally {
        await provider.close();
      }
    }
    if (options.purge) {
      const backupDirs = backupSinkDirs(new DesiredStateHistory(layout.stateDir), layout.stateDir);
      purged = await purgeStateDir(layout, { backupDirs, files: [layout.pidFile] });
    }
  } finally {
    await lock.release();
  }
  if (options.purge) await removeIfEmpty(layout.stateDir);
  return { kind: 'stopped', purged };
}
