// Generative scenarios per second: runs test/generative/run.ts (when it exists) for a
// fixed number of scenarios without saving regressions, and reads its last line,
//   generative: <N> scenarios, <F> failures, <R> scenarios/s
// A missing runner, a time-out or an unreadable line is reported, not guessed.
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const GENERATIVE_RUNNER = fileURLToPath(new URL('../generative/run.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface GenerativeFigure {
  scenarios: number;
  failures: number;
  perSecond: number;
  /** The runner's own line. */
  line: string;
}

export type GenerativeOutcome = { ok: true; figure: GenerativeFigure } | { ok: false; reason: string };

/** Reads the runner's summary line; undefined when there is none. */
export function parseGenerativeLine(output: string): GenerativeFigure | undefined {
  const lines = output.split('\n').filter((l) => /^generative: \d+ scenarios, /.test(l));
  const line = lines[lines.length - 1];
  if (line === undefined) return undefined;
  const m = /^generative: (\d+) scenarios, (\d+) failures?, ([\d.]+) scenarios\/s/.exec(line);
  if (m === null) return undefined;
  return { scenarios: Number(m[1]), failures: Number(m[2]), perSecond: Number(m[3]), line };
}

export async function runGenerative(runs: number, seed: number, timeoutMs: number): Promise<GenerativeOutcome> {
  try {
    await access(GENERATIVE_RUNNER);
  } catch {
    return { ok: false, reason: 'test/generative/run.ts does not exist yet' };
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', GENERATIVE_RUNNER, '--runs', String(runs), '--seed', String(seed), '--no-save'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const figure = parseGenerativeLine(out);
      if (figure !== undefined) resolve({ ok: true, figure });
      else if (timedOut) resolve({ ok: false, reason: `test/generative/run.ts did not finish ${runs} scenarios within ${timeoutMs / 1000} s` });
      else resolve({ ok: false, reason: `test/generative/run.ts exited with ${String(code)} without its summary line: ${(err || out).trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
}
