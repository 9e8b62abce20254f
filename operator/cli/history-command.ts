// coxswain history / coxswain diff A B — the versioned desired-state history.
import { diffDesired, formatPatch, DesiredStateHistory, type HistoryEntry } from '../../desired-state/history.ts';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { parseCommandLine, parseIdArgument } from './usage.ts';
import { describe } from './validate-command.ts';

export const historyCommand: Command = {
  name: 'history',
  summary: 'list the accepted desired-state versions',
  usage: 'coxswain history [--json] [--state-dir DIR]',
  help: `Lists every accepted desired state, oldest first: id, when it was accepted,
where it came from, and a one-line summary.

Options:
  --json             print the entries (with the full desired states) as JSON
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)`,
  async run(args, io) {
    const { values } = parseCommandLine('history', args, { json: { type: 'boolean' }, ...stateDirOption }, { min: 0, max: 0, names: '' });
    const stateDir = resolveStateDir(values['state-dir']);
    const entries = new DesiredStateHistory(stateDir).list();
    if (values['json'] === true) {
      io.out(JSON.stringify(entries, null, 2));
      return EXIT_OK;
    }
    if (entries.length === 0) {
      io.out(`no desired state accepted yet in ${stateDir}`);
      return EXIT_OK;
    }
    for (const entry of entries) io.out(historyLine(entry));
    return EXIT_OK;
  },
};

function historyLine(e: HistoryEntry): string {
  return `${String(e.id).padStart(4)}  ${e.acceptedAt}  ${e.sha256.slice(0, 12)}  ${e.source}\n      ${describe(e.desired)}`;
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'show the JSON patch between two accepted versions',
  usage: 'coxswain diff A B [--json] [--state-dir DIR]',
  help: `Prints the changes from accepted version A to accepted version B as a JSON
patch (RFC 6902): one line per operation, or the patch itself with --json.

Options:
  --json             print the JSON patch
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status: 0 printed, 1 a version does not exist, 2 usage.`,
  async run(args, io) {
    const { values, positionals } = parseCommandLine(
      'diff',
      args,
      { json: { type: 'boolean' }, ...stateDirOption },
      { min: 2, max: 2, names: 'the two version ids A and B (see coxswain history)' },
    );
    const [a, b] = positionals.map((p, i) => parseIdArgument('diff', i === 0 ? 'A' : 'B', p)) as [number, number];
    const stateDir = resolveStateDir(values['state-dir']);
    const history = new DesiredStateHistory(stateDir);
    const from = history.get(a);
    const to = history.get(b);
    for (const [id, entry] of [[a, from], [b, to]] as const) {
      if (entry === undefined) {
        const ids = history.list().map((e) => e.id);
        io.err(`coxswain diff: no accepted version ${id} in ${stateDir} (accepted: ${ids.length === 0 ? 'none yet' : ids.join(', ')}); run 'coxswain history'`);
        return EXIT_FAILED;
      }
    }
    const patch = diffDesired((from as HistoryEntry).desired, (to as HistoryEntry).desired);
    if (values['json'] === true) io.out(JSON.stringify(patch, null, 2));
    else io.out(patch.length === 0 ? `versions ${a} and ${b} are the same` : formatPatch(patch));
    return EXIT_OK;
  },
};
