// The `coxswain` command: dispatch to one command, help, and the exit codes of the
// contract (0 ok, 1 failed/invalid, 2 usage). No stack trace reaches a user unless
// COXSWAIN_DEBUG=1 is set.
import { readFileSync } from 'node:fs';
import { repoPath } from '../repo-root.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Command } from './command.ts';
import { processOutput, type Output } from './output.ts';
import { UsageError } from './usage.ts';
import { closest } from '../../desired-state/suggest.ts';

/**
 * The commands, each loaded only when it runs: `wait` or `status` need not load the
 * leader, the planner, gRPC and the Redis client (0.65 s → 0.35 s a call, most of what
 * is left being the TypeScript loader), and an agent does not carry the leader's code.
 */
export const COMMAND_LOADERS: ReadonlyArray<readonly [name: string, load: () => Promise<Command>]> = [
  ['up', async () => (await import('./up-command.ts')).upCommand],
  ['status', async () => (await import('./status-command.ts')).statusCommand],
  ['wait', async () => (await import('./wait-command.ts')).waitCommand],
  ['plan', async () => (await import('./plan-command.ts')).planCommand],
  ['jobs', async () => (await import('./jobs-command.ts')).jobsCommand],
  ['job', async () => (await import('./jobs-command.ts')).jobCommand],
  ['down', async () => (await import('./down-command.ts')).downCommand],
  ['validate', async () => (await import('./validate-command.ts')).validateCommand],
  ['submit', async () => (await import('./submit-command.ts')).submitCommand],
  ['history', async () => (await import('./history-command.ts')).historyCommand],
  ['diff', async () => (await import('./history-command.ts')).diffCommand],
  ['logs', async () => (await import('./logs-command.ts')).logsCommand],
  ['agent', async () => (await import('./agent-command.ts')).agentCommand],
];

/** Every command, loaded (for the overview and the tests). */
export async function loadCommands(): Promise<Command[]> {
  return Promise.all(COMMAND_LOADERS.map(([, load]) => load()));
}

function version(): string {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
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
    io.out(overview(await loadCommands()));
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-V') {
    io.out(`coxswain ${version()}`);
    return EXIT_OK;
  }
  const entry = COMMAND_LOADERS.find(([n]) => n === name);
  if (entry === undefined) {
    const guess = closest(name, COMMAND_LOADERS.map(([n]) => n));
    io.err(`coxswain: unknown command "${name}"${guess ? ` — did you mean "${guess}"?` : ''}. Run 'coxswain --help' for the list.`);
    return EXIT_USAGE;
  }
  const command = await entry[1]();
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
