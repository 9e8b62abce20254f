// coxswain submit -f FILE — accept a desired state into the versioned history.
import { submitDesiredStateFile } from '../../desired-state/accept.ts';
import { formatProblems } from '../../desired-state/format.ts';
import { DesiredStateHistory } from '../../desired-state/history.ts';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { parseCommandLine, UsageError } from './usage.ts';
import { describe } from './validate-command.ts';

export const submitCommand: Command = {
  name: 'submit',
  summary: 'accept a desired-state file as the next version in the history',
  usage: 'coxswain submit -f FILE [--state-dir DIR]',
  help: `Validates FILE against the last accepted desired state (id must increase,
immutable fields unchanged, ...) and, when valid, appends it to the versioned
history in the state directory. An invalid file changes nothing.

Options:
  -f, --file FILE    the desired-state file
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status: 0 accepted, 1 refused or ignored, 2 usage.`,
  async run(args, io) {
    const { values } = parseCommandLine(
      'submit',
      args,
      { file: { type: 'string', short: 'f' }, ...stateDirOption },
      { min: 0, max: 0, names: '' },
    );
    const file = values['file'];
    if (typeof file !== 'string') throw new UsageError('missing -f FILE', 'submit');
    const history = new DesiredStateHistory(resolveStateDir(values['state-dir']));
    const outcome = submitDesiredStateFile(history, file, `file:${file}`);
    if (outcome.status === 'accepted') {
      io.out(`accepted: ${describe(outcome.entry.desired)}`);
      return EXIT_OK;
    }
    io.out(`${outcome.status === 'ignored' ? 'ignored' : 'refused'}: ${file}; the accepted desired state is unchanged.`);
    io.out(formatProblems(outcome.problems, outcome.source));
    return EXIT_FAILED;
  },
};
