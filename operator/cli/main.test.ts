// Help for every command, and the history commands end to end in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { COMMAND_LOADERS, loadCommands, main } from './main.ts';
import { memoryOutput } from './output.ts';

const example = readFileSync(new URL('../../desired-state/desired_state.jsonc', import.meta.url), 'utf8');

test('every command has help, listed in the overview', async () => {
  const overview = memoryOutput();
  assert.equal(await main(['--help'], overview), 0);
  const commands = await loadCommands();
  assert.deepEqual(commands.map((c) => c.name), COMMAND_LOADERS.map(([name]) => name), 'each loader loads the command of its name');
  for (const command of commands) {
    assert.match(overview.stdout, new RegExp(`\\n  ${command.name} +\\S`));
    const io = memoryOutput();
    assert.equal(await main([command.name, '--help'], io), 0);
    assert.match(io.stdout, new RegExp(`^Usage: coxswain ${command.name}`));
    assert.ok(io.stdout.length > 150, `help of ${command.name} is too thin`);
  }
});

test('no command prints usage and exits 2', async () => {
  const io = memoryOutput();
  assert.equal(await main([], io), 2);
  assert.match(io.stdout, /Usage: coxswain COMMAND/);
});

test('submit, history and diff: accepted versions are listed and diffed; a refused one changes nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-history-'));
  try {
    const stateDir = path.join(dir, 'state');
    const v1 = path.join(dir, 'v1.jsonc');
    const v2 = path.join(dir, 'v2.jsonc');
    const bad = path.join(dir, 'bad.jsonc');
    writeFileSync(v1, example);
    writeFileSync(v2, example.replace('"id": 1,', '"id": 2,').replace('"replicationFactor": 2,', '"replicationFactor": 3,'));
    writeFileSync(bad, example.replace('"id": 1,', '"id": 3,').replace('"name": "demo",', '"name": "other",'));

    const s1 = memoryOutput();
    assert.equal(await main(['submit', '-f', v1, '--state-dir', stateDir], s1), 0, s1.stdout + s1.stderr);
    assert.match(s1.stdout, /accepted: id 1/);
    const s2 = memoryOutput();
    assert.equal(await main(['submit', '-f', v2, '--state-dir', stateDir], s2), 0, s2.stdout + s2.stderr);

    const historyFiles = readdirSync(path.join(stateDir, 'history'));
    const before = historyFiles.map((f) => readFileSync(path.join(stateDir, 'history', f), 'utf8')).join('');
    const refused = memoryOutput();
    assert.equal(await main(['submit', '-f', bad, '--state-dir', stateDir], refused), 1);
    assert.match(refused.stdout, /refused/);
    assert.match(refused.stdout, /bad\.jsonc:\d+:\d+: error: \$\.name: .*"demo".*"other"/);
    const after = historyFiles.map((f) => readFileSync(path.join(stateDir, 'history', f), 'utf8')).join('');
    assert.equal(after, before, 'a refused submit must not change the history');

    const again = memoryOutput();
    assert.equal(await main(['submit', '-f', v2, '--state-dir', stateDir], again), 1);
    assert.match(again.stdout, /ignored/);

    const history = memoryOutput();
    assert.equal(await main(['history', '--state-dir', stateDir], history), 0);
    assert.match(history.stdout, /^ {3}1 .*file:.*v1\.jsonc\n.*3 node groups × 2/m);
    assert.match(history.stdout, /^ {3}2 .*file:.*v2\.jsonc\n.*3 node groups × 3/m);

    const diff = memoryOutput();
    assert.equal(await main(['diff', '1', '2', '--state-dir', stateDir, '--json'], diff), 0);
    const patch = JSON.parse(diff.stdout) as Array<{ op: string; path: string; value?: unknown }>;
    assert.deepEqual(
      patch.filter((op) => op.op !== 'test' && op.path !== '/id').map((op) => [op.op, op.path, op.value]),
      [['replace', '/replicationFactor', 3]],
    );
    const missing = memoryOutput();
    assert.equal(await main(['diff', '1', '9', '--state-dir', stateDir], missing), 1);
    assert.match(missing.stderr, /no accepted version 9 .*accepted: 1, 2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
