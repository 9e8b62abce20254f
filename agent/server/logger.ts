// The agent's logger: pino, one JSON line per event, with the cluster secret censored
// wherever it could appear (the authorization header, any `secret` field).
import { pino } from 'pino';
import type { DestinationStream, LevelWithSilent, Logger } from 'pino';
import { SECRET_REDACT_PATHS } from './credential.ts';

export interface AgentLoggerOptions {
  /** @default "info" */
  level?: LevelWithSilent;
  /** Where lines go. @default standard error */
  destination?: DestinationStream;
  /** Fields on every line, e.g. { agentId }. */
  base?: Record<string, unknown>;
}

/** The redaction every logger that sees agent calls must have. */
export const AGENT_LOG_REDACT = { paths: [...SECRET_REDACT_PATHS], censor: '[Redacted]' };

export function createAgentLogger(options: AgentLoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { component: 'agent', ...options.base },
      redact: AGENT_LOG_REDACT,
    },
    options.destination ?? pino.destination(2),
  );
}
