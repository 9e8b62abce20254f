// coxswain logs [--state-dir DIR] [--json] [-f|--follow] [-n N] — the leader's log
// (<stateDir>/leader.log, pino JSON) as a person reads it: one line per event with its
// time, level, message and fields (log-format.ts); --json prints the lines as written.
// -f follows the file as it grows, and goes on with the new file when the leader's
// log is rewritten (truncated, replaced, or deleted by down --purge and written again).
// The cluster secret and the admin token are never printed, even if a line held them.
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { readAdminEndpoint } from '../leader/admin-protocol.ts';
import { stateDirHint, stateLayout } from '../leader/state-layout.ts';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.ts';
import { formatLogLine, rawLogLine } from './log-format.ts';
import type { Output } from './output.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { parseCommandLine, UsageError } from './usage.ts';

export interface LogsCommandDeps {
  /** Whether standard output is a terminal (levels in colour). @default process.stdout.isTTY, unless NO_COLOR is set */
  isTTY: () => boolean;
  /** How often -f looks at the file, in ms. @default 250 */
  pollMs: number;
  /** Ends -f (tests); without it -f runs until Ctrl-C. */
  signal: AbortSignal | undefined;
}

/** The largest piece read at once, in bytes. */
const CHUNK = 64 * 1024;

export function makeLogsCommand(overrides: Partial<LogsCommandDeps> = {}): Command {
  const deps: LogsCommandDeps = {
    isTTY: () => process.stdout.isTTY === true && (process.env['NO_COLOR'] ?? '') === '',
    pollMs: 250,
    signal: undefined,
    ...overrides,
  };
  return {
    name: 'logs',
    summary: "print the leader's log readably (-f follows it)",
    usage: 'coxswain logs [--json] [-f|--follow] [-n N] [--state-dir DIR]',
    help: `Prints the leader's log (DIR/leader.log), one line per event: the time (UTC), the
level, the message, and the event's fields as key=value. Credentials (the cluster
secret, the admin token) are never printed.

Options:
  --json             print the log lines as the leader wrote them (pino JSON)
  -f, --follow       keep printing events as the leader writes them (Ctrl-C stops);
                     goes on with the new log when the leader's log is rewritten
  -n N               only the last N events (default: all)
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status: 0 printed, 1 no log in the state directory, 2 usage.`,
    async run(args, io) {
      const { values } = parseCommandLine(
        'logs',
        args,
        { json: { type: 'boolean' }, follow: { type: 'boolean', short: 'f' }, n: { type: 'string', short: 'n' }, ...stateDirOption },
        { min: 0, max: 0, names: '' },
      );
      const last = typeof values['n'] === 'string' ? parseCount(values['n']) : undefined;
      const stateDir = resolveStateDir(values['state-dir']);
      const layout = stateLayout(stateDir);
      const secrets = await knownSecrets(stateDir);
      const colour = values['json'] !== true && deps.isTTY();
      const show = (line: string): void => {
        if (line.trim() === '') return;
        io.out(values['json'] === true ? rawLogLine(line, secrets) : formatLogLine(line, { colour, secrets }));
      };

      let fd: number;
      try {
        fd = openSync(layout.logFile, 'r');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') throw new Error(`cannot read ${layout.logFile}: ${code ?? String(err)}`, { cause: err });
        io.err(
          `coxswain logs: no leader log in ${stateDir} (looked for ${layout.logFile}): no leader has run with this state directory, ` +
            `or coxswain down --purge deleted it. Start one with: coxswain up -f FILE${stateDirHint(stateDir)}`,
        );
        return EXIT_FAILED;
      }
      const tail = new LineReader(fd);
      const lines = tail.readAvailable();
      for (const line of last === undefined ? lines : lines.slice(Math.max(0, lines.length - last))) show(line);
      if (values['follow'] !== true) {
        tail.close();
        return EXIT_OK;
      }
      await follow(layout.logFile, tail, show, io, deps);
      return EXIT_OK;
    },
  };
}

export const logsCommand = makeLogsCommand();

/** Reads whole lines from an open file, from where it stopped last. */
class LineReader {
  #position = 0;
  #partial = '';

  readonly fd: number;
  constructor(fd: number) {
    this.fd = fd;
  }

  get position(): number {
    return this.#position;
  }

  /** The inode of the open file. */
  get ino(): number {
    return fstatSync(this.fd).ino;
  }

  /** Every complete line written since the last call. */
  readAvailable(): string[] {
    const buffer = Buffer.alloc(CHUNK);
    const pieces: string[] = [];
    for (;;) {
      const n = readSync(this.fd, buffer, 0, CHUNK, this.#position);
      if (n === 0) break;
      this.#position += n;
      pieces.push(buffer.toString('utf8', 0, n));
    }
    const text = this.#partial + pieces.join('');
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    return lines;
  }

  /** The last line, even without its newline (the writer is gone). */
  rest(): string[] {
    const rest = this.#partial;
    this.#partial = '';
    return rest === '' ? [] : [rest];
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** -f: prints new lines as they come; when the file at `file` is another one (or shorter), reads the rest of the old one, then the new one from its start. */
async function follow(file: string, first: LineReader, show: (line: string) => void, io: Output, deps: LogsCommandDeps): Promise<void> {
  let reader: LineReader | undefined = first;
  const signal = deps.signal;
  try {
    while (signal?.aborted !== true) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deps.pollMs);
        signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (reader !== undefined) for (const line of reader.readAvailable()) show(line);
      let now: { ino: number; size: number } | undefined;
      try {
        now = statSync(file);
      } catch {
        now = undefined; // deleted (down --purge): wait for a new one
      }
      const rewritten = reader !== undefined && now !== undefined && (now.ino !== reader.ino || now.size < reader.position);
      if (reader !== undefined && (now === undefined || rewritten)) {
        for (const line of reader.rest()) show(line);
        reader.close();
        reader = undefined;
        io.err(now === undefined ? `coxswain logs: ${file} was deleted; waiting for a new one` : `coxswain logs: ${file} was rewritten; following the new log`);
      }
      if (reader === undefined && now !== undefined) {
        try {
          reader = new LineReader(openSync(file, 'r'));
          for (const line of reader.readAvailable()) show(line);
        } catch {
          reader = undefined;
        }
      }
    }
    if (reader !== undefined) for (const line of [...reader.readAvailable(), ...reader.rest()]) show(line);
  } finally {
    reader?.close();
  }
}

/** The cluster secret and the running leader's admin token, to censor wherever they appear. */
async function knownSecrets(stateDir: string): Promise<string[]> {
  const layout = stateLayout(stateDir);
  const out: string[] = [];
  try {
    const secret = readFileSync(layout.secretFile, 'utf8').trim();
    if (secret !== '') out.push(secret);
  } catch {
    // no secret file (or not readable): nothing to censor from it
  }
  const endpoint = await readAdminEndpoint(layout.adminFile).catch(() => undefined);
  if (endpoint !== undefined) out.push(endpoint.token);
  return out;
}

function parseCount(text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`-n must be a whole number of events, got "${text}"`, 'logs');
  return Number(text);
}
