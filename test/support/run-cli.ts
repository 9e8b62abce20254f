// Runs the real `coxswain` binary as a user would, with a time limit, and returns
// what it printed. Used by tests that must see the process from outside (exit code,
// no stack trace, no hang).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const COXSWAIN_BIN = fileURLToPath(new URL('../../operator/bin/coxswain.mjs', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [COXSWAIN_BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, COXSWAIN_DEBUG: '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A stack trace printed by Node looks like "    at fn (file:line:col)". */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[(:]\d+/m.test(text) || /\bError: .*\n\s+at /.test(text);
}
