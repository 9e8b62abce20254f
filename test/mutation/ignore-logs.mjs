// Stryker ignorers (stryker.config.json `ignorers`) for code that only describes:
// - LogCalls: no mutants inside a call of a logger's level method (`log.info(…)`,
//   `this.#log.warn(…)`, `this.#logger.error(…)`);
// - StepReasons: no mutants in the reason given with a planned step, the second argument
//   of `batch.add(step, why, …)` (shown by `coxswain plan` and `jobs`, and journaled,
//   never read by code: operator/model/step.ts PlannedStep.why).
// What such text says is for people reading it, not behaviour a test should pin; the
// mutants of the code around it (whether it is reached, with which values) stay.
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const LOGGER = /^(log|logger)$/;

function isLogger(node) {
  if (node.type === 'Identifier') return LOGGER.test(node.name);
  if (node.type === 'MemberExpression') {
    const p = node.property;
    if (p.type === 'PrivateName') return LOGGER.test(p.id.name);
    if (p.type === 'Identifier') return LOGGER.test(p.name);
  }
  return false;
}

function isBatch(node) {
  if (node.type === 'Identifier') return node.name === 'batch';
  return node.type === 'MemberExpression' && node.property.type === 'Identifier' && node.property.name === 'batch';
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'LogCalls', {
    shouldIgnore(path) {
      const node = path.node;
      if (node.type !== 'CallExpression' || node.callee.type !== 'MemberExpression') return undefined;
      const { object, property } = node.callee;
      if (property.type === 'Identifier' && LEVELS.has(property.name) && isLogger(object)) return 'a log call: its text and fields are not behaviour';
      return undefined;
    },
  }),
  declareValuePlugin(PluginKind.Ignore, 'StepReasons', {
    shouldIgnore(path) {
      const call = path.parent;
      if (call?.type !== 'CallExpression' || call.arguments[1] !== path.node) return undefined;
      const callee = call.callee;
      if (callee.type === 'MemberExpression' && callee.property.type === 'Identifier' && callee.property.name === 'add' && isBatch(callee.object)) {
        return "a planned step's reason: text for people";
      }
      return undefined;
    },
  }),
];
