// Replays every scenario of the regression corpus (test/regressions/*.json) from its
// data: each must pass — or, while its bug is open (`knownFailure`), still fail with the
// check it was saved for.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CorpusError, loadCorpus } from './corpus.ts';
import { systemUnderTest } from './harness.ts';
import { report } from './run.ts';
import { runScenario } from './runner.ts';

const corpus = loadCorpus();

describe('the regression corpus', () => {
  it('is not empty', () => {
    assert.ok(corpus.length > 0, 'test/regressions/ holds the scenarios that once failed');
  });

  for (const { file, regression } of corpus) {
    const name = path.basename(file);
    it(`${name}: ${regression.knownFailure === undefined ? 'passes' : `still fails with ${regression.knownFailure.check} (open bug)`}`, async () => {
      const sut = systemUnderTest();
      const result = await runScenario(regression.scenario, sut);
      const known = regression.knownFailure;
      if (known === undefined) {
        assert.ok(result.ok, `${name} fails again:\n${report(regression.scenario, result)}`);
        return;
      }
      assert.ok(
        result.failures.some((f) => f.check === known.check),
        `${name} no longer fails with ${known.check} — if the bug is fixed, delete "knownFailure" from the file and its entry in ` +
          `test/generative/known-issues.ts, so the file guards the fix.\nIt was: ${known.diagnosis}\nNow:\n${report(regression.scenario, result)}`,
      );
    });
  }
});

describe('loading the corpus', () => {
  it('names the file and the problem of a malformed regression', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coxswain-corpus-'));
    try {
      writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ format: 1, check: 'x', scenario: { steps: [], faults: [] } }));
      assert.throws(() => loadCorpus(dir), (e: unknown) => e instanceof CorpusError && /bad\.json: .*at least one desired state/.test(e.message));
      writeFileSync(path.join(dir, 'bad.json'), '{ not json');
      assert.throws(() => loadCorpus(dir), (e: unknown) => e instanceof CorpusError && /bad\.json: not valid JSON/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
