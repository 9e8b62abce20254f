import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { DataNodeSpec } from '../engine.ts';
import { InvalidSpecError } from '../errors.ts';
import { CLUSTER_NODE_TIMEOUT_MS, quoteConfigValue, renderRedisConfig } from './config.ts';
import { RedisEngine } from './redis-engine.ts';
import { Leftovers, rawSpec, startRaw, tempDir } from './test-servers.ts';

const base: DataNodeSpec = {
  nodeId: 'ng0-r1',
  kind: 'data',
  version: '7.0',
  port: 7001,
  bindHost: '127.0.0.1',
  dataDir: '/var/lib/coxswain/ng0-r1',
  parameters: {},
};

/** The directive lines (no comments, no blank lines). */
function directives(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

function valueOf(text: string, name: string): string[] {
  return directives(text)
    .filter((l) => l.split(' ')[0] === name)
    .map((l) => l.slice(name.length + 1));
}

describe('renderRedisConfig', () => {
  test('sets what Coxswain owns and its defaults', () => {
    const text = renderRedisConfig(base);
    const expect: Record<string, string> = {
      port: '7001',
      bind: '127.0.0.1',
      'protected-mode': 'yes',
      daemonize: 'no',
      'cluster-enabled': 'yes',
      'cluster-config-file': 'nodes.conf',
      dir: '/var/lib/coxswain/ng0-r1',
      appendonly: 'yes',
      appenddirname: 'appendonlydir',
      'repl-diskless-sync-delay': '0',
      'cluster-allow-replica-migration': 'no',
      'cluster-node-timeout': String(CLUSTER_NODE_TIMEOUT_MS),
      logfile: '/var/lib/coxswain/ng0-r1/redis.log',
      pidfile: '/var/lib/coxswain/ng0-r1/redis.pid',
      save: '""',
    };
    for (const [name, value] of Object.entries(expect)) assert.deepEqual(valueOf(text, name), [value], name);
    assert.ok(text.endsWith('\n'));
  });

  test('turns protected mode off on a non-loopback address (replicas on other VMs must connect)', () => {
    assert.deepEqual(valueOf(renderRedisConfig({ ...base, bindHost: '10.0.0.5' }), 'protected-mode'), ['no']);
    assert.deepEqual(valueOf(renderRedisConfig({ ...base, bindHost: '::1' }), 'protected-mode'), ['yes']);
  });

  test('is deterministic: same spec, same bytes, whatever the order of the parameters', () => {
    const a = renderRedisConfig({ ...base, parameters: { 'maxmemory-policy': 'allkeys-lru', maxmemory: '1gb', hz: 20 } });
    const b = renderRedisConfig({ ...base, parameters: { hz: 20, maxmemory: '1gb', 'maxmemory-policy': 'allkeys-lru' } });
    assert.equal(a, b);
    const user = directives(a).slice(-3);
    assert.deepEqual(user, ['hz 20', 'maxmemory 1gb', 'maxmemory-policy allkeys-lru']);
    assert.notEqual(a, renderRedisConfig({ ...base, parameters: { hz: 21, maxmemory: '1gb', 'maxmemory-policy': 'allkeys-lru' } }));
  });

  test('a user parameter replaces the default of the same name (one line, not two)', () => {
    const text = renderRedisConfig({ ...base, parameters: { save: '900 1', 'cluster-node-timeout': 15000, appendonly: 'no' } });
    assert.deepEqual(valueOf(text, 'save'), ['"900 1"']);
    assert.deepEqual(valueOf(text, 'cluster-node-timeout'), ['15000']);
    assert.deepEqual(valueOf(text, 'appendonly'), ['no']);
  });

  test('refuses parameters Coxswain owns, naming the parameter and the reason', () => {
    for (const name of ['port', 'dir', 'cluster-enabled', 'daemonize', 'include', 'rename-command', 'tls-port', 'proc-title-template', 'repl-diskless-sync-delay']) {
      assert.throws(
        () => renderRedisConfig({ ...base, parameters: { [name]: 'x' } }),
        (err: unknown) => err instanceof InvalidSpecError && err.field === `parameters.${name}` && err.message.includes(`"${name}" is set by Coxswain`),
        name,
      );
    }
  });

  test('refuses names that are not directives (no way to smuggle a line in through the name)', () => {
    for (const name of ['', 'PORT', 'maxmemory policy', 'hz\ninclude /etc/passwd', '-x', 'a"b']) {
      assert.throws(() => renderRedisConfig({ ...base, parameters: { [name]: 1 } }), InvalidSpecError, JSON.stringify(name));
    }
  });

  test('refuses a port whose cluster bus port would pass 65535', () => {
    assert.throws(() => renderRedisConfig({ ...base, port: 60000 }), /cluster bus port would be 70000/);
  });

  test('keeps a hostile value inside its directive', () => {
    const text = renderRedisConfig({
      ...base,
      parameters: { 'syslog-ident': 'x"\ninclude /etc/passwd\nport 1', 'maxmemory-policy': "a' \\\" b" },
    });
    assert.equal(text.split('\n').filter((l) => l.startsWith('include')).length, 0);
    assert.deepEqual(valueOf(text, 'port'), ['7001']);
    assert.deepEqual(valueOf(text, 'syslog-ident'), ['"x\\"\\ninclude /etc/passwd\\nport 1"']);
  });
});

describe('quoteConfigValue', () => {
  const cases: Array<[string, string]> = [
    ['allkeys-lru', 'allkeys-lru'],
    ['1gb', '1gb'],
    ['/var/lib/x', '/var/lib/x'],
    ['', '""'],
    ['900 1', '"900 1"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ["it's", '"it\'s"'],
    ['a\nb\rc\td', '"a\\nb\\rc\\td"'],
    ['bell\u0007', '"bell\\x07"'],
    ['#hash', '"#hash"'],
    ['grüße', '"grüße"'],
  ];
  for (const [input, output] of cases) {
    test(`${JSON.stringify(input)} → ${output}`, () => assert.equal(quoteConfigValue(input), output));
  }
});

// The real parsers decide: every value must come back from CONFIG GET exactly as given.
for (const version of ['7.0', '8.0']) {
  test(`redis.conf round-trips through the real ${version} server (quoting, dir with spaces and quotes)`, async (t) => {
    const leftovers = new Leftovers();
    t.after(() => leftovers.cleanup());
    const dir = await tempDir(`coxswain cfg "q" 'x' `);
    leftovers.dirs.add(dir);
    const nodeDir = path.join(dir, 'node one');
    const ident = 'id "quoted" \\ back\n#include /etc/passwd\tport 1 grüße';
    const spec = await rawSpec(nodeDir, version, { 'syslog-ident': ident, save: '900 1 300 10', 'maxmemory-policy': 'allkeys-lru' });
    await startRaw(new RedisEngine(), spec, leftovers);
    const client = new Redis({ port: spec.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    t.after(() => client.disconnect());
    await client.connect();
    const get = async (name: string): Promise<string> => {
      const reply = (await client.call('CONFIG', ['GET', name])) as string[];
      return String(reply[1]);
    };
    assert.equal(await get('syslog-ident'), ident);
    assert.equal(await get('dir'), nodeDir);
    assert.equal(await get('port'), String(spec.port));
    assert.equal(await get('save'), '900 1 300 10');
    assert.equal(await get('maxmemory-policy'), 'allkeys-lru');
    assert.equal(await get('appendonly'), 'yes');
    assert.equal(await get('repl-diskless-sync-delay'), '0');
    assert.equal(await get('cluster-allow-replica-migration'), 'no');
    assert.equal(await get('cluster-node-timeout'), String(CLUSTER_NODE_TIMEOUT_MS));
    assert.equal(await get('daemonize'), 'no');
    assert.equal(await get('logfile'), path.join(nodeDir, 'redis.log'));
  });
}
