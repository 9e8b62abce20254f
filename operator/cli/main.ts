// The `coxswain` command: dispatch to one command, help, and the exit codes of the
// contract (0 ok, 1 failed/invalid, 2 usage). No stack trace reaches a user unless
// COXSWAIN_DEBUG=1 is set.
import { readFileSync } from 'node:fs';
import { agentCommand } from './agent-command.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Command } from './command.ts';
import { downCommand } from './down-command.ts';
import { diffCommand, historyCommand } from './history-command.ts';
import { jobCommand, jobsCommand } from './jobs-command.ts';
import { processOutput, type Output } from './output.ts';
import { planCommand } from './plan-command.ts';
import { statusCommand } from './status-command.ts';
import { submitCommand } from './submit-command.ts';
import { upCommand } from './up-command.ts';
import { UsageError } from './usage.ts';
import { validateCommand } from './validate-command.ts';
import { waitCommand } from './wait-command.ts';
import { closest } from '../../desired-state/suggest.ts';

export const COMMANDS: readonly Command[] = [
  upCommand,
  statusCommand,
  waitCommand,
  planCommand,
  jobsCommand,
  jobCommand,
  downCommand,
  validateCommand,
  submitCommand,
  historyCommand,
  diffCommand,
  agentCommand,
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `coxswain — reconcile a database cluster to the desired state you declare

Usage: coxswain COMMAND [options]      (coxswain COMMAND --help for more)

Commands:
${lines.join('\n')}

State: commands that read or write state take --state-dir DIR
(default: $COXSWAIN_STATE_DIR, else .coxswain in the working directory).`;
}

export async function main(argv: string[], io: Output = processOutput): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(overview());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-V') {
    io.out(`coxswain ${version()}`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    const guess = closest(name, COMMANDS.map((c) => c.name));
    io.err(`coxswain: unknown command "${name}"${guess ? ` — did you mean "${guess}"?` : ''}. Run 'coxswain --help' for the list.`);
    return EXIT_USAGE;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`Usage: ${command.usage}\n\n${command.help}`);
    return EXIT_OK;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`coxswain ${err.command}: ${err.message}. Usage: ${command.usage} (see 'coxswain ${err.command} --help')`);
      return EXIT_USAGE;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.err(`coxswain ${command.name}: ${message}`);
    if (process.env['COXSWAIN_DEBUG'] === '1' && err instanceof Error && err.stack) io.err(err.stack);
    return EXIT_FAILED;
  }
}
