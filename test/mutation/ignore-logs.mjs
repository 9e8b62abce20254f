// A Stryker ignorer (stryker.config.json `ignorers`): no mutants inside a call of a
// logger's level method (`log.info(…)`, `this.#log.warn(…)`, `this.#logger.error(…)`).
// What a log line says is for people reading it, not behaviour a test should pin; the
// mutants of the code around the call (whether it is reached, with which values) stay.
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
];
