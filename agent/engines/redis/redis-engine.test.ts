import assert from 'node:assert/strict';
import { chmod, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isRunning } from '../../../common/process-inspect.ts';
import { EngineNotInstalledError, UnknownVersionError } from '../errors.ts';
import { findOnPath, parseInfo, parseVersionOutput, RedisEngine } from './redis-engine.ts';
import { freePort, Leftovers, rawSpec, startRaw, tempDir } from './test-servers.ts';

/** A directory on a PATH of its own, holding the named programs (symlinks or scripts). */
async function fakePath(leftovers: Leftovers, programs: Record<string, string>): Promise<string> {
  const dir = await tempDir('coxswain-path-');
  leftovers.dirs.add(dir);
  for (const [name, what] of Object.entries(programs)) {
    const file = path.join(dir, name);
    if (what.startsWith('/')) {
      await symlink(what, file);
    } else {
      await writeFile(file, `#!/bin/sh\necho '${what}'\n`);
      await chmod(file, 0o755);
    }
  }
  return dir;
}

async function realPath(program: string): Promise<string> {
  const found = await findOnPath(program, process.env.PATH ?? '');
  assert.ok(found, `${program} is installed`);
  return found;
}

describe('parsers', () => {
  test('parseVersionOutput reads servers and clis of both products', () => {
    assert.deepEqual(parseVersionOutput('Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64'), {
      product: 'Redis',
      version: '7.0.15',
    });
    assert.deepEqual(parseVersionOutput('Valkey server v=8.0.1 sha=00000000:0'), { product: 'Valkey', version: '8.0.1' });
    assert.deepEqual(parseVersionOutput('redis-cli 7.0.15\n'), { product: 'Redis', version: '7.0.15' });
    assert.deepEqual(parseVersionOutput('valkey-cli 8.0.1\n'), { product: 'Valkey', version: '8.0.1' });
    assert.equal(parseVersionOutput('something else 1.2.3'), undefined);
  });

  test('parseInfo reads fields and skips section headers', () => {
    const info = parseInfo('# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\n\r\n# Persistence\r\nloading:0\r\n');
    assert.equal(info.get('redis_version'), '7.2.4');
    assert.equal(info.get('server_name'), 'valkey');
    assert.equal(info.get('loading'), '0');
  });
});

describe('installed check', () => {
  test('finds both real versions with their programs and versions', async () => {
    const engine = new RedisEngine();
    assert.deepEqual(engine.versions(), ['7.0', '8.0']);
    const redis = await engine.resolve('7.0', 'data');
    assert.equal(redis.server.name, 'redis-server');
    assert.equal(redis.server.product, 'Redis');
    assert.match(redis.server.version, /^7\.0\.\d+$/);
    assert.equal(redis.tools.cli?.name, 'redis-cli');
    const valkey = await engine.resolve('8.0', 'data');
    assert.equal(valkey.server.name, 'valkey-server');
    assert.equal(valkey.server.product, 'Valkey');
    assert.match(valkey.server.version, /^8\.0\.\d+$/);
    assert.equal(valkey.tools.cli?.name, 'valkey-cli');
    // The path as found on PATH, not resolved: redis-server is a symlink to redis-check-rdb.
    assert.equal(path.basename(redis.server.path), 'redis-server');
  });

  test('a missing binary says what is missing and how to install it', async (t) => {
    const leftovers = new Leftovers();
    t.after(() => leftovers.cleanup());
    const empty = await fakePath(leftovers, {});
    const engine = new RedisEngine({ path: empty });
    await assert.rejects(engine.resolve('8.0', 'data'), (err: unknown) => {
      assert.ok(err instanceof EngineNotInstalledError);
      assert.equal(err.kind, 'terminal');
      assert.equal(err.reason, 'ENGINE_NOT_INSTALLED');
      assert.equal(
        err.message,
        "Valkey 8.0 is not installed: valkey-server was not found on PATH. Run 'make engines' (agent/engines/redis/install-debian.sh) or install valkey-server from bookworm-backports.",
      );
      return true;
    });
    await assert.rejects(
      engine.resolve('7.0', 'data'),
      new EngineNotInstalledError(
        { engine: 'redis', version: '7.0', program: 'redis-server' },
        "Redis 7.0 is not installed: redis-server was not found on PATH. Run 'make engines' (agent/engines/redis/install-debian.sh) or install redis-server from bookworm.",
      ),
    );
  });

  test('a server without its cli is not installed either', async (t) => {
    const leftovers = new Leftovers();
    t.after(() => leftovers.cleanup());
    const dir = await fakePath(leftovers, { 'valkey-server': await realPath('valkey-server') });
    await assert.rejects(new RedisEngine({ path: dir }).resolve('8.0', 'data'), /valkey-cli was not found on PATH.*valkey-server and valkey-tools from bookworm-backports/);
  });

  test('a redis-server 6.x on PATH is not taken for 7.0', async (t) => {
    const leftovers = new Leftovers();
    t.after(() => leftovers.cleanup());
    const dir = await fakePath(leftovers, {
      'redis-server': 'Redis server v=6.2.14 sha=00000000:0 malloc=jemalloc-5.2.1 bits=64 build=1',
      'redis-cli': await realPath('redis-cli'),
    });
    await assert.rejects(
      new RedisEngine({ path: dir }).resolve('7.0', 'data'),
      (err: unknown) =>
        err instanceof EngineNotInstalledError &&
        err.program === 'redis-server' &&
        err.message.includes(`redis-server on PATH (${path.join(dir, 'redis-server')}) is Redis 6.2.14, not Redis 7.0.x`),
    );
  });

  test('Valkey answering to the name redis-server is not taken for Redis 7.0', async (t) => {
    const leftovers = new Leftovers();
    t.after(() => leftovers.cleanup());
    const dir = await fakePath(leftovers, {
      'redis-server': await realPath('valkey-server'),
      'redis-cli': await realPath('redis-cli'),
    });
    await assert.rejects(new RedisEngine({ path: dir }).resolve('7.0', 'data'), /is Valkey 8\.0\.\d+, not Redis 7\.0\.x/);
  });

  test('a version the catalogue does not list', async () => {
    await assert.rejects(new RedisEngine().resolve('6.2', 'data'), UnknownVersionError);
  });
});

describe('probe and stop against real servers', () => {
  for (const [version, product] of [
    ['7.0', 'redis'],
    ['8.0', 'valkey'],
  ] as const) {
    test(`probe reports ${product} ${version} with its pid and cluster node id; requestStop shuts it down`, async (t) => {
      const leftovers = new Leftovers();
      t.after(() => leftovers.cleanup());
      const dir = await tempDir();
      leftovers.dirs.add(dir);
      const engine = new RedisEngine();
      const spec = await rawSpec(dir, version);
      const pid = await startRaw(engine, spec, leftovers);

      const probe = await engine.probe(engine.endpoint(spec));
      assert.equal(probe.up, true);
      assert.equal(probe.ready, true);
      assert.equal(probe.product, product);
      assert.ok(probe.version?.startsWith(`${version}.`), `version ${probe.version ?? '?'}`);
      assert.equal(probe.pid, pid);
      assert.match(probe.engineNodeId ?? '', /^[0-9a-f]{40}$/);
      assert.equal(engine.runsVersion(probe, version), true);
      assert.equal(engine.runsVersion(probe, version === '7.0' ? '8.0' : '7.0'), false);

      await engine.requestStop(engine.endpoint(spec));
      for (let i = 0; i < 300 && (await isRunning(pid)); i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await isRunning(pid), false, 'the server exited after SHUTDOWN');
    });
  }

  test('probe of a port nobody listens on: down, with the reason, quickly', async () => {
    const engine = new RedisEngine();
    const port = await freePort();
    const started = performance.now();
    const probe = await engine.probe({ host: '127.0.0.1', port }, { timeoutMs: 500 });
    assert.equal(probe.up, false);
    assert.equal(probe.ready, false);
    assert.match(probe.detail ?? '', /ECONNREFUSED|refused/);
    assert.ok(performance.now() - started < 500);
  });

  test('requestStop to a port nobody listens on fails (so the supervisor falls back to a signal)', async () => {
    await assert.rejects(new RedisEngine().requestStop({ host: '127.0.0.1', port: await freePort() }, { timeoutMs: 500 }));
  });

  test('launch command: the program as found on PATH, the config file, only PATH in the environment', async () => {
    const searchPath = process.env.PATH ?? '';
    const engine = new RedisEngine({ path: searchPath });
    const binaries = await engine.resolve('7.0', 'data');
    const spec = await rawSpec('/srv/coxswain/n1', '7.0');
    const launch = engine.launchCommand(spec, binaries);
    assert.deepEqual(launch.argv, [binaries.server.path, '/srv/coxswain/n1/redis.conf']);
    assert.deepEqual(launch.env, { PATH: searchPath });
    assert.equal(launch.cwd, '/srv/coxswain/n1');
    assert.deepEqual(
      engine.ports(spec).map((p) => p.port),
      [spec.port, spec.port + 10000],
    );
  });
});
