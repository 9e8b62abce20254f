// One event of the leader's log (operator/leader/logger.ts: pino, one JSON line per event)
// as a person reads it: time, level, message, then the fields that say something about
// the event, key=value, on one line. The fields every line carries (pid, component,
// cluster, epoch, …) are left out. Whatever could be a credential is censored here too:
// the logger already redacts `secret`, `token` and `authorization` fields, and this adds
// any field so named at any depth, and the text of the cluster secret and the admin token
// themselves should a bug ever put them in a message.

/** What replaces a credential. */
export const REDACTED = '[Redacted]';

/** Fields on every line of the leader's log, left out of the readable form. */
const COMMON_FIELDS: ReadonlySet<string> = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component', 'cluster', 'epoch', 'part', 'v']);

/** A field whose value is a credential, whatever its depth. */
const CREDENTIAL_KEY = /secret|token|authorization|password|passwd|credential/i;

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Readonly<Record<string, string>> = { TRACE: '90', DEBUG: '90', INFO: '32', WARN: '33', ERROR: '31', FATAL: '35' };

export interface LogFormatOptions {
  /** ANSI colours for the level (a terminal only). */
  colour: boolean;
  /** Credential texts to censor wherever they appear (the cluster secret, the admin token). */
  secrets: readonly string[];
}

/** One line of the log file as a readable line (a line that is not a pino event is shown as it is, censored). */
export function formatLogLine(line: string, options: LogFormatOptions): string {
  const event = parseEvent(line);
  if (event === undefined) return censorText(line, options.secrets);
  const levelName = typeof event['level'] === 'number' ? (LEVELS[event['level']] ?? String(event['level'])) : String(event['level'] ?? '?');
  const level = levelName.padEnd(5);
  const time = typeof event['time'] === 'number' || typeof event['time'] === 'string' ? new Date(event['time']).toISOString() : '?';
  const message = typeof event['msg'] === 'string' ? event['msg'] : '';
  const fields = Object.entries(redactFields(event))
    .filter(([key]) => !COMMON_FIELDS.has(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  const shownLevel = options.colour ? `\u001b[${COLOURS[levelName] ?? '0'}m${level}\u001b[0m` : level;
  return censorText([time, shownLevel, message, ...fields].join('  ').replace(/ +$/, ''), options.secrets);
}

/** One line of the log file as it is, unless it holds a credential: then with the credential censored. */
export function rawLogLine(line: string, secrets: readonly string[]): string {
  const event = parseEvent(line);
  const redacted = event === undefined ? line : hasCredential(event) ? JSON.stringify(redactFields(event)) : line;
  return censorText(redacted, secrets);
}

function parseEvent(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function formatValue(value: unknown): string {
  // An error logged as an object: its message (never its stack).
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { message?: unknown }).message === 'string') {
    return formatValue((value as { message: string }).message);
  }
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function hasCredential(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, v]) => (CREDENTIAL_KEY.test(key) && v !== REDACTED) || hasCredential(v));
}

/** A copy with every field named like a credential censored, at any depth. */
function redactFields<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redactFields) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = CREDENTIAL_KEY.test(key) ? REDACTED : redactFields(v);
  return out as T;
}

function censorText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join(REDACTED);
  return out;
}
