// The leader's logger: pino, one JSON line per event, appended to <stateDir>/leader.log.
// Written synchronously: the leader logs a few lines a second at most, and a line must
// not be lost when the process exits right after it (a failed start, `down`). The
// cluster secret and the admin token are censored wherever they could appear.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { AGENT_LOG_REDACT } from '../../agent/server/logger.ts';

export interface LeaderLoggerOptions {
  /** @default "info" */
  level?: LevelWithSilent;
}

export function createLeaderLogger(logFile: string, options: LeaderLoggerOptions = {}): Logger {
  mkdirSync(path.dirname(logFile), { recursive: true, mode: 0o700 });
  return pino(
    {
      level: options.level ?? 'info',
      base: { component: 'leader', pid: process.pid },
      redact: { paths: [...AGENT_LOG_REDACT.paths, 'token', '*.token'], censor: AGENT_LOG_REDACT.censor },
    },
    pino.destination({ dest: logFile, append: true, sync: true }),
  );
}
