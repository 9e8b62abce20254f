// Where one cluster's leader keeps its files inside the state directory. Every part of
// the leader and the command line names these paths through this one table, so the
// layout is written down once:
//
//   <stateDir>/history/       accepted desired states (desired-state/history.ts)
//   <stateDir>/journal/       the job journal (operator/executor/journal-file.ts)
//   <stateDir>/vms/           the local VM provider's inventory and VM directories
//   <stateDir>/secret         the cluster secret (0600), shared with the agents
//   <stateDir>/leader/epoch   the fencing epoch, +1 at each leader start
//   <stateDir>/leader.json    how to reach the running leader's admin interface (0600)
//   <stateDir>/leader.pid     the lock: one leader per state directory
//   <stateDir>/leader.log     the leader's log (pino, one JSON line per event)
import path from 'node:path';
import { DEFAULT_STATE_DIR, STATE_DIR_ENV } from '../cli/state-dir.ts';

export interface StateLayout {
  stateDir: string;
  historyDir: string;
  journalDir: string;
  vmsDir: string;
  secretFile: string;
  leaderDir: string;
  epochFile: string;
  adminFile: string;
  pidFile: string;
  logFile: string;
}

export function stateLayout(stateDir: string): StateLayout {
  const dir = path.resolve(stateDir);
  return {
    stateDir: dir,
    historyDir: path.join(dir, 'history'),
    journalDir: path.join(dir, 'journal'),
    vmsDir: path.join(dir, 'vms'),
    secretFile: path.join(dir, 'secret'),
    leaderDir: path.join(dir, 'leader'),
    epochFile: path.join(dir, 'leader', 'epoch'),
    adminFile: path.join(dir, 'leader.json'),
    pidFile: path.join(dir, 'leader.pid'),
    logFile: path.join(dir, 'leader.log'),
  };
}

/** What a person is told when a command needs the leader and none runs. */
export function noLeaderMessage(stateDir: string): string {
  return `no leader is running for ${stateDir}; start one with: coxswain up -f FILE${stateDirHint(stateDir)}`;
}

/** ` --state-dir DIR` when DIR is not the default one, so a suggested command works as printed. */
export function stateDirHint(stateDir: string, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[STATE_DIR_ENV];
  const implicit = path.resolve(cwd, fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_STATE_DIR);
  return path.resolve(stateDir) === implicit ? '' : ` --state-dir ${stateDir}`;
}
