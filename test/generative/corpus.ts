// The regression corpus: every failure the generative tests find is saved as a JSON
// file under test/regressions/ — the scenario as data (desired states, faults, world
// parameters), the check that failed and the seed it was found with — and replayed in
// every `make test` from the data, so it survives changes to the generators.
//
// A file may carry `knownFailure`: a bug found and reported but not fixed yet. Its
// replay then asserts the scenario STILL fails that check (so the file keeps biting),
// and tells whoever fixes the bug to delete `knownFailure`, which turns the file into a
// guard that the scenario passes.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCENARIO_FORMAT, type Scenario } from './scenario.ts';

export const CORPUS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'regressions');

export interface RegressionFile {
  format: typeof SCENARIO_FORMAT;
  /** What the scenario is about, one line. */
  title: string;
  /** The check that failed when it was found. */
  check: string;
  /** The failure messages when it was found. */
  found: string[];
  /** fast-check's seed and path of the run that found it (informative: the replay uses `scenario`). */
  seed?: number;
  path?: string;
  /** Set while the bug is open: the replay asserts the scenario still fails with `check`. */
  knownFailure?: { check: string; diagnosis: string };
  scenario: Scenario;
}

export class CorpusError extends Error {
  override name = 'CorpusError';
}

/** Every regression file, by file name. */
export function loadCorpus(dir = CORPUS_DIR): { file: string; regression: RegressionFile }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return names.map((name) => {
    const file = path.join(dir, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CorpusError(`${file}: not valid JSON (${(err as Error).message}); fix or delete the file`);
    }
    return { file, regression: checkShape(file, parsed) };
  });
}

function checkShape(file: string, v: unknown): RegressionFile {
  const o = v as Partial<RegressionFile> | null;
  const problems: string[] = [];
  if (o === null || typeof o !== 'object') throw new CorpusError(`${file}: must be a JSON object`);
  if (o.format !== SCENARIO_FORMAT) problems.push(`format must be ${SCENARIO_FORMAT}`);
  if (typeof o.check !== 'string') problems.push('check must be a string');
  const s = o.scenario as Partial<Scenario> | undefined;
  if (s === undefined || typeof s !== 'object') problems.push('scenario is missing');
  else {
    if (!Array.isArray(s.steps) || s.steps.length === 0) problems.push('scenario.steps must list at least one desired state');
    if (!Array.isArray(s.faults)) problems.push('scenario.faults must be a list');
    if (s.world === undefined || typeof s.world !== 'object') problems.push('scenario.world is missing');
    if (typeof s.writeEveryMs !== 'number') problems.push('scenario.writeEveryMs must be a number');
    if (typeof s.leader !== 'object' || s.leader === null) problems.push('scenario.leader ({ settleIntervalMs, observeIntervalMs }) is missing');
  }
  if (problems.length > 0) throw new CorpusError(`${file}: ${problems.join('; ')}`);
  return o as RegressionFile;
}

/** Saves a regression file named after its check and a hash of the scenario; returns its path. */
export function saveRegression(r: RegressionFile, dir = CORPUS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(r, null, 2)}\n`;
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) >>> 0;
  const file = path.join(dir, `${r.check}-${h.toString(16).padStart(8, '0')}.json`);
  writeFileSync(file, text);
  return file;
}
