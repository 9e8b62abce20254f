// Test support (not a test file): `coxswain agent …` as a real child process, the way a
// VM runs it, so tests can kill it (SIGKILL, SIGTERM) and start the next one on the
// same data directory; and the cluster secret file it reads.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Writes `secret` to `<dir>/cluster-secret` (mode 0600); returns the file. */
export async function writeSecret(dir: string, secret: string): Promise<string> {
  const file = path.join(dir, 'cluster-secret');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

export interface SpawnedAgent {
  child: ChildProcess;
  /** host:port it serves on. */
  endpoint: string;
  /** Everything it wrote to standard output and error so far. */
  output(): string;
}

/** Runs `coxswain agent ARGS` through the real entry point; resolves with the endpoint once it serves. */
export function spawnAgent(args: string[], logFile: string): Promise<SpawnedAgent> {
  return spawnServing([path.join(ROOT, 'operator/bin/coxswain.mjs'), 'agent', ...args], logFile);
}

/**
 * Runs `node ARGV` in the repository (any agent program that prints "agent ID listening
 * on HOST:PORT" once it serves, e.g. test/agent/slow-fake-agent.ts with `--import tsx`);
 * resolves with the endpoint. Its output goes to `logFile` when it exits.
 */
export async function spawnServing(argv: string[], logFile: string): Promise<SpawnedAgent> {
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  // Kept reading all along (a full pipe would block it), into the log file at its exit.
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent process did not start in 20 s:\n${output}`)), 20_000);
    const onListening = (): void => {
      const m = /^agent \S+ listening on (\S+)$/m.exec(output);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        child.stdout?.off('data', onListening);
        child.stderr?.off('data', onListening);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onListening);
    child.stderr?.on('data', onListening);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the agent process exited with ${code}:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  // Written synchronously when it exits, so that nothing writes into the test's
  // directory once killChild() has returned.
  child.once('exit', () => {
    try {
      writeFileSync(logFile, output);
    } catch {
      // the directory is gone already
    }
  });
  return { child, endpoint, output: () => output };
}

/** SIGKILLs a child that still runs and waits for its exit (clean-up). */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    return; // gone
  }
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
}
