// coxswain down [--purge] — stop the cluster: the leader, every agent and every data
// node; with --purge, also delete their data and the cluster's state (backups are
// kept). Through the running leader when there is one; otherwise directly with the VM
// provider of the state directory.
import { readdir } from 'node:fs/promises';
import { isRunning } from '../../common/process-inspect.ts';
import path from 'node:path';
import { NoLeaderError, connectLeader, findLeader, type ConnectLeader } from '../leader/admin-client.ts';
import { NotAStateDirError, shutdownWithoutLeader, type ProviderFactory } from '../leader/offline-down.ts';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { parseCommandLine } from './usage.ts';

export interface DownCommandDeps {
  /** @default the admin interface of the leader running for the state directory */
  connect: ConnectLeader;
  /** The VM provider of a state directory, for a down without a leader. */
  provider: ProviderFactory;
  /** The pid of the leader running for the state directory, when one runs. */
  leaderPid: (stateDir: string) => Promise<number | undefined>;
  /** Resolves true once the process `pid` has exited, false after `timeoutMs`. */
  processGone: (pid: number, timeoutMs: number) => Promise<boolean>;
}

/** Polls until `pid` has exited. */
export async function waitProcessGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isRunning(pid))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !(await isRunning(pid));
}

export function makeDownCommand(overrides: Partial<DownCommandDeps> & Pick<DownCommandDeps, 'provider'>): Command {
  const deps: DownCommandDeps = {
    connect: connectLeader,
    leaderPid: async (stateDir) => (await findLeader(stateDir))?.pid,
    processGone: waitProcessGone,
    ...overrides,
  };
  return {
    name: 'down',
    summary: 'stop the leader, agents and data nodes (--purge: and delete their data)',
    usage: 'coxswain down [--purge] [--state-dir DIR]',
    help: `Stops the cluster of the state directory: the leader, every agent and every
data node. Without --purge the data is kept: coxswain up -f FILE starts the
same cluster again. With --purge the data nodes' data and the cluster's state
(history, journal, secret, log) are deleted too; backups in local sinks are
kept (remove a backup from "backups" while the cluster runs to delete it).

With a leader running, it is asked to do this; with none (stopped with Ctrl-C,
or crashed), the agents are stopped directly.

Options:
  --purge            also delete the data and the state (not the backups)
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status: 0 stopped (or nothing to stop), 1 failed, 2 usage.`,
    async run(args, io) {
      const { values } = parseCommandLine('down', args, { purge: { type: 'boolean' }, ...stateDirOption }, { min: 0, max: 0, names: '' });
      const stateDir = resolveStateDir(values['state-dir']);
      const purge = values['purge'] === true;
      let leader;
      try {
        leader = await deps.connect(stateDir);
      } catch (err) {
        if (!(err instanceof NoLeaderError)) throw err;
      }
      if (leader !== undefined) {
        const pid = await deps.leaderPid(stateDir);
        await leader.shutdown({ purge });
        // The leader answers, then ends: wait for its process, so nothing is left when down returns.
        if (pid !== undefined && !(await deps.processGone(pid, 30_000))) {
          io.err(`coxswain down: the agents and data nodes are stopped, but the leader process (pid ${pid}) has not ended after 30 s; see ${path.join(stateDir, 'leader.log')}`);
          return EXIT_FAILED;
        }
        io.out(`Stopped the leader of ${stateDir} and every agent and data node.`);
      } else {
        let result;
        try {
          result = await shutdownWithoutLeader({ stateDir, purge, provider: deps.provider });
        } catch (err) {
          if (!(err instanceof NotAStateDirError)) throw err;
          io.err(`coxswain down: ${err.message}`);
          return EXIT_FAILED;
        }
        if (result.kind === 'nothing') {
          io.out(`Nothing to stop: there is no cluster in ${stateDir}.`);
          return EXIT_OK;
        }
        io.out(`No leader was running for ${stateDir}; stopped every agent and data node directly.`);
      }
      if (purge) io.out(await purgeSummary(stateDir));
      return EXIT_OK;
    },
  };
}

/** What --purge left: nothing, or the backups it kept. */
async function purgeSummary(stateDir: string): Promise<string> {
  const left = await readdir(stateDir).catch(() => undefined);
  if (left === undefined || left.length === 0) return `Deleted the data and the cluster state (${stateDir} is gone).`;
  return `Deleted the data and the cluster state; kept in ${stateDir}: ${left.sort().join(', ')} (backups, and whatever is not the cluster's state, are kept on purpose).`;
}

/** The local provider, loaded only for a down without a leader. */
// The default provider with its default options: a shutdown finds every VM in the provider's
// inventory and needs none of the options `up` reads from the environment.
export const downCommand = makeDownCommand({ provider: async (context) => (await import('../vm/providers.ts')).providerFromEnvironment({})(context) });
