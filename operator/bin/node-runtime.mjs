// Which Node.js runs the `coxswain` command. The project pins one runtime, the version in
// .node-version; `make` installs it (operator/bin/install-node.sh) into
// ${XDG_CACHE_HOME:-~/.cache}/coxswain/node-<version> when the machine's `node` is another
// version, and runs everything with it. Outside make (`npx coxswain`, a shell alias), the
// entry point (coxswain.mjs) asks chooseRuntime():
// - a Node of the pinned major or later: run here (the pinned major is the contract,
//   package.json "engines"; agents and a detached leader inherit it through process.execPath);
// - an older Node, with the pinned runtime in the cache: run again under that one;
// - an older Node, nothing cached: say so, and how to get it (exit 1).
// Plain JavaScript that any Node since 14 parses, so an old Node can print the message.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The pinned version, e.g. "24.22.3" (the repository's .node-version). */
export function pinnedVersion() {
  return readFileSync(path.join(root, '.node-version'), 'utf8').trim();
}

/** Where `make` installs the pinned runtime: the same rule as the Makefile's NODE_CACHE. */
export function cachedNodePath(version, env = process.env, home = os.homedir()) {
  const cache = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : path.join(home, '.cache');
  return path.join(cache, 'coxswain', `node-${version}`, 'bin', 'node');
}

/**
 * What to do, from the running version, the pinned one and whether the cached runtime
 * exists. `reexecuted` is true in the process started by a previous re-execution: it never
 * re-executes again, whatever it finds.
 * Returns { action: 'run' } | { action: 'reexec', node } | { action: 'fail', message }.
 */
export function chooseRuntime({ running, pinned, cachedNode, cachedExists, reexecuted }) {
  const major = (v) => Number(String(v).replace(/^v/, '').split('.')[0]);
  if (major(running) >= major(pinned)) return { action: 'run' };
  if (cachedExists && !reexecuted) return { action: 'reexec', node: cachedNode };
  return {
    action: 'fail',
    message:
      `coxswain: needs Node.js ${major(pinned)} or later; this is Node.js v${String(running).replace(/^v/, '')} (${process.execPath}).\n` +
      `  In the clone, \`make deps\` installs the pinned Node v${pinned} into ${path.dirname(path.dirname(cachedNode))}, ` +
      `and coxswain then runs on it by itself (as do \`make demo\` and \`make test\`).\n` +
      `  Or install Node.js ${major(pinned)} and put it first on PATH.`,
  };
}

/** The marker a re-executed process carries in its environment. */
export const REEXEC_ENV = 'COXSWAIN_REEXECUTED_ON';

/**
 * Runs this command again under `node` with the same arguments, standard streams and
 * environment, and ends this process the way the child ended. SIGTERM and SIGHUP sent to
 * this process are passed on; so is SIGINT unless standard input is a terminal (Ctrl-C
 * already reaches the child, in the same foreground process group, and the leader treats
 * a second SIGINT as "exit at once").
 */
export async function reexec(node) {
  const { spawn } = await import('node:child_process');
  const child = spawn(node, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [REEXEC_ENV]: process.version },
  });
  const forward = (signal) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, forward(signal));
  process.on('SIGINT', process.stdin.isTTY ? () => {} : forward('SIGINT'));
  const [code, signal] = await new Promise((resolve) => {
    child.once('error', (err) => {
      console.error(`coxswain: could not start ${node}: ${err.message}`);
      resolve([1, null]);
    });
    child.once('exit', (c, s) => resolve([c, s]));
  });
  if (signal !== null) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
}
