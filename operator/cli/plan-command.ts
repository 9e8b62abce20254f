// coxswain plan -f FILE — what the running leader would do now to reach FILE, executing
// nothing: FILE is validated against the accepted desired state (as an edit would be),
// then the leader observes the cluster and plans. Prints the next steps (those it would
// run at once) with the planner's reason for each, what it would wait for, and an
// estimate of the steps after them.
import { canonicalJson } from '../../common/canonical-json.ts';
import { DesiredStateHistory } from '../../desired-state/history.ts';
import { formatProblems } from '../../desired-state/format.ts';
import type { Desired } from '../../desired-state/types.ts';
import { validateDesiredStateFile, validateDesiredStateText } from '../../desired-state/validate.ts';
import { connectLeader, type ConnectLeader } from '../leader/admin-client.ts';
import type { ObservedCluster } from '../model/observed.ts';
import { describeStep, type Plan } from '../model/step.ts';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { parseCommandLine, UsageError } from './usage.ts';
import { describe } from './validate-command.ts';

export interface PlanCommandDeps {
  /** @default the admin interface of the leader running for the state directory */
  connect: ConnectLeader;
}

export function makePlanCommand(deps: PlanCommandDeps = { connect: connectLeader }): Command {
  return {
    name: 'plan',
    summary: 'show the steps the leader would take now towards a desired-state file, executing nothing',
    usage: 'coxswain plan -f FILE [--json] [--state-dir DIR]',
    help: `Validates FILE against the accepted desired state (as an edit of the watched
file would be), asks the running leader to observe the cluster and plan towards
FILE, and prints the steps it would run now — all at once — each with its
reason, what it would wait for, and an estimate of the steps after them.
Nothing is executed and FILE is not offered: to apply it, save it as the
watched file.

A FILE that holds the accepted desired state itself (same id) is planned too:
that shows the work left towards it.

Options:
  -f, --file FILE    the desired-state file
  --json             print {"plan", "observed"} as JSON
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status: 0 printed; 1 FILE invalid or ignored, the plan is blocked (the
desired state cannot be reached from here), or no leader is running; 2 usage.`,
    async run(args, io) {
      const { values } = parseCommandLine('plan', args, { file: { type: 'string', short: 'f' }, json: { type: 'boolean' }, ...stateDirOption }, { min: 0, max: 0, names: '' });
      const file = values['file'];
      if (typeof file !== 'string' || file === '') throw new UsageError('missing -f FILE', 'plan');
      const stateDir = resolveStateDir(values['state-dir']);

      const history = new DesiredStateHistory(stateDir);
      const latest = history.latest();
      const result = validateDesiredStateFile(file, { ...(latest === undefined ? {} : { previous: latest.desired }), everRan: history.everRan() });
      let desired: Desired;
      let note = '';
      if (result.verdict === 'valid' && result.desired !== undefined) {
        desired = result.desired;
      } else {
        const accepted = result.verdict === 'ignored' && result.source !== undefined ? validateDesiredStateText(result.source).desired : undefined;
        if (accepted === undefined || latest === undefined || canonicalJson(accepted) !== canonicalJson(latest.desired)) {
          io.out(`${file} ${result.verdict === 'ignored' ? 'would be ignored' : 'would be refused'}; nothing to plan:`);
          io.out(formatProblems(result.problems, result.source));
          return EXIT_FAILED;
        }
        desired = accepted;
        note = ' (the accepted desired state)';
      }

      const leader = await deps.connect(stateDir);
      const { plan, observed } = await leader.preview(desired);
      if (values['json'] === true) {
        io.out(JSON.stringify({ plan, observed }, null, 2));
      } else {
        io.out(`Plan towards ${file}${note}: ${describe(desired)}`);
        io.out(formatPlan(plan, observed));
      }
      return plan.blocked.length > 0 ? EXIT_FAILED : EXIT_OK;
    },
  };
}

export const planCommand = makePlanCommand();

/** The plan as a person reads it: numbered steps with their reasons, then waits, blocks and the estimate. */
export function formatPlan(plan: Plan, observed: ObservedCluster): string {
  const lines: string[] = [];
  const nodes = observed.vms.flatMap((vm) => vm.dataNodes);
  lines.push(`Observed now: ${observed.vms.length} VM${observed.vms.length === 1 ? '' : 's'}, ${nodes.filter((n) => n.up).length} of ${nodes.length} data nodes up.`);
  if (plan.blocked.length > 0) {
    lines.push('', 'Blocked — this desired state cannot be reached from here:');
    for (const reason of plan.blocked) lines.push(`  - ${reason}`);
  }
  if (plan.done) {
    lines.push('', 'Nothing to do: the cluster is at this desired state.');
    return lines.join('\n');
  }
  if (plan.next.length > 0) {
    lines.push('', `Next, all at once (${plan.next.length} step${plan.next.length === 1 ? '' : 's'}):`);
    plan.next.forEach((planned, i) => {
      lines.push(`  ${i + 1}. ${describeStep(planned.step)}`);
      lines.push(`     why: ${planned.why}`);
    });
  }
  if (plan.waiting.length > 0) {
    lines.push('', 'Waiting for:');
    for (const waiting of plan.waiting) lines.push(`  - ${waiting}`);
  }
  const after = Math.max(0, plan.remaining - plan.next.length);
  if (plan.blocked.length === 0) lines.push('', after === 0 ? 'Then: nothing more is expected.' : `Then: about ${after} more step${after === 1 ? '' : 's'} (an estimate; each round is planned from a new observation).`);
  return lines.join('\n');
}
