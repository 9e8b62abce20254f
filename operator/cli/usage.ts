// Command-line arguments: parsed with node:util's parseArgs, and every mistake turned
// into a UsageError (exit 2 with a one-line hint) instead of a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how a command was called. The CLI prints it on one line and exits 2. */
export class UsageError extends Error {
  readonly command: string;
  constructor(
    message: string,
    command: string,
  ) {
    super(message);
    this.command = command;
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedCommandLine {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parse `args` for `command`; unknown options and missing values become UsageErrors. */
export function parseCommandLine(
  command: string,
  args: string[],
  options: OptionSpec,
  positionals: { min: number; max: number; names: string },
): ParsedCommandLine {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(describeParseError(err), command);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values['help'] === true) return { values, positionals: parsed.positionals };
  const count = parsed.positionals.length;
  if (count < positionals.min) {
    throw new UsageError(`missing ${positionals.names}`, command);
  }
  if (count > positionals.max) {
    const extra = parsed.positionals.slice(positionals.max).map((p) => `"${p}"`).join(', ');
    throw new UsageError(`unexpected argument ${extra}`, command);
  }
  return { values, positionals: parsed.positionals };
}

function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // parseArgs' messages are good but long; keep the first sentence.
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /Option '([^']+)' argument missing/.exec(message);
  if (missing) return `option ${(missing[1] ?? '').replace(/ <value>$/, '')} needs a value`;
  const unexpected = /Unexpected argument '([^']+)'/.exec(message);
  if (unexpected) return `unexpected argument "${unexpected[1]}"`;
  return message.split('. ')[0] ?? message;
}

/** A required integer argument, e.g. a version id. */
export function parseIdArgument(command: string, what: string, text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`${what} must be a whole number, got "${text}"`, command);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`${what} must be 1 or more, got "${text}"`, command);
  return value;
}
