// coxswain validate FILE [--previous FILE] [--json]
import { formatProblems } from '../../desired-state/format.ts';
import { diffDesired, formatPatch } from '../../desired-state/history.ts';
import type { Desired } from '../../desired-state/types.ts';
import { validateDesiredStateFile, type ValidationResult } from '../../desired-state/validate.ts';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.ts';
import type { Output } from './output.ts';
import { parseCommandLine } from './usage.ts';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a desired-state file (and, with --previous, the change from an accepted one)',
  usage: 'coxswain validate FILE [--previous FILE] [--json]',
  help: `Checks FILE against the desired-state schema and rules and lists every problem
with file:line:col, the JSON path, and what to do. With --previous, also checks
the transition from PREVIOUS (the last accepted desired state) to FILE: the id
must increase, immutable fields stay, versions move only in directions the
engine supports, and so on.

Options:
  --previous FILE   the desired state accepted before FILE
  --json            print {"verdict", "problems"} as JSON instead of text

Exit status: 0 valid, 1 invalid (or ignored: id not above the previous one), 2 usage.`,
  async run(args, io) {
    const { values, positionals } = parseCommandLine(
      'validate',
      args,
      { previous: { type: 'string' }, json: { type: 'boolean' } },
      { min: 1, max: 1, names: 'FILE (the desired-state file to check)' },
    );
    const file = positionals[0] as string;
    const json = values['json'] === true;

    let previous: Desired | undefined;
    if (typeof values['previous'] === 'string') {
      const prev = validateDesiredStateFile(values['previous']);
      if (prev.verdict !== 'valid' || prev.desired === undefined) {
        report(io, prev, json, `the previous desired state ${values['previous']} is itself invalid; fix it or leave out --previous`);
        return EXIT_FAILED;
      }
      previous = prev.desired;
    }

    const result = validateDesiredStateFile(file, previous === undefined ? {} : { previous });
    if (result.verdict !== 'valid' || result.desired === undefined) {
      report(io, result, json, result.verdict === 'ignored' ? `${file} would be ignored` : undefined);
      return EXIT_FAILED;
    }
    if (json) {
      io.out(JSON.stringify({ verdict: result.verdict, problems: [] }));
      return EXIT_OK;
    }
    io.out(`${file}: valid — ${describe(result.desired)}`);
    if (previous !== undefined) {
      const patch = diffDesired(previous, result.desired);
      io.out(patch.length === 0 ? 'no change from the previous desired state but the id' : `changes from id ${previous.id}:\n${indent(formatPatch(patch))}`);
    }
    return EXIT_OK;
  },
};

function report(io: Output, result: ValidationResult, json: boolean, headline?: string): void {
  if (json) {
    io.out(JSON.stringify({ verdict: result.verdict, problems: result.problems }));
    return;
  }
  if (headline !== undefined) io.out(`${headline}:`);
  io.out(formatProblems(result.problems, result.source));
}

/** One line a person reads to see what the file asks for. */
export function describe(d: Desired): string {
  const nodes = d.nodeGroups * d.replicationFactor;
  return (
    `id ${d.id}, cluster "${d.name}", ${d.engine} ${d.version}, ` +
    `${d.nodeGroups} node group${d.nodeGroups === 1 ? '' : 's'} × ${d.replicationFactor} (${nodes} data node${nodes === 1 ? '' : 's'}), ` +
    `${d.running ? 'running' : 'stopped'}, ${d.backups.length} backup${d.backups.length === 1 ? '' : 's'}`
  );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
