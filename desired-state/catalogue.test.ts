import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ENGINES,
  ENGINE_PARAMETERS,
  MAXMEMORY_POLICIES,
  VM_TYPES,
  checkParameterValue,
  describeValueKind,
  engineVersion,
  engineVersions,
  ownedParameter,
  parseMemory,
  reachableVersions,
  settableParameter,
  settableParameterNames,
  versionTransition,
  vmTypeNames,
  type ValueKind,
} from './catalogue.ts';

interface SchemaProperty {
  enum?: unknown[];
}
const schema = JSON.parse(readFileSync(new URL('./desired-state.schema.json', import.meta.url), 'utf8')) as {
  properties: Record<string, SchemaProperty>;
};
const schemaEnum = (field: string): unknown[] => schema.properties[field]?.enum ?? [];

void test('catalogue and schema list the same engines, versions and VM types', () => {
  assert.deepEqual(Object.keys(ENGINES).sort(), [...schemaEnum('engine')].sort());
  assert.deepEqual(engineVersions('redis').sort(), [...schemaEnum('version')].sort());
  assert.deepEqual(vmTypeNames().sort(), [...schemaEnum('vmType')].sort());
  assert.deepEqual(Object.keys(ENGINE_PARAMETERS).sort(), [...schemaEnum('engine')].sort());
});

void test('versions map to their product, binaries, packages and suite', () => {
  assert.deepEqual(engineVersion('redis', '7.0'), {
    product: 'Redis',
    serverBinary: 'redis-server',
    cliBinary: 'redis-cli',
    debianPackages: ['redis-server', 'redis-tools'],
    suite: 'bookworm',
  });
  assert.deepEqual(engineVersion('redis', '8.0'), {
    product: 'Valkey',
    serverBinary: 'valkey-server',
    cliBinary: 'valkey-cli',
    debianPackages: ['valkey-server', 'valkey-tools'],
    suite: 'bookworm-backports',
  });
});

void test('VM types: cpus and memory', () => {
  assert.deepEqual(VM_TYPES, {
    small: { cpus: 1, memoryMiB: 1024 },
    medium: { cpus: 2, memoryMiB: 4096 },
    large: { cpus: 4, memoryMiB: 16384 },
  });
});

void test('versionTransition: same version, upgrade, downgrade', () => {
  assert.deepEqual(versionTransition('redis', '7.0', '7.0'), { ok: true });
  assert.deepEqual(versionTransition('redis', '8.0', '8.0'), { ok: true });
  assert.deepEqual(versionTransition('redis', '7.0', '8.0'), { ok: true });
  const down = versionTransition('redis', '8.0', '7.0');
  assert.equal(down.ok, false);
  if (!down.ok) {
    assert.match(down.reason, /RDB/);
    assert.match(down.reason, /replicas could not sync/);
    assert.match(down.hint, /keep "version": "8.0"/);
  }
  assert.deepEqual(reachableVersions('redis', '7.0'), ['7.0', '8.0']);
  assert.deepEqual(reachableVersions('redis', '8.0'), ['8.0']);
});

void test('versionTransition: every pair of versions has a verdict with a reason when refused', () => {
  for (const from of engineVersions('redis')) {
    for (const to of engineVersions('redis')) {
      const v = versionTransition('redis', from, to);
      if (!v.ok) {
        assert.ok(v.reason.length > 10, `${from} → ${to}: reason`);
        assert.ok(v.hint.length > 5, `${from} → ${to}: hint`);
      }
    }
  }
});

const ownedCases: Array<[string, boolean]> = [
  ['port', true],
  ['PORT', true],
  ['Cluster-Enabled', true],
  ['tls-port', true],
  ['tls-cluster', true],
  ['tls-anything-new', true],
  ['repl-diskless-sync-delay', true],
  ['databases', true],
  ['loadmodule', true],
  ['maxmemory', false],
  ['repl-diskless-sync', false],
  ['tlsx', false],
];
for (const [name, owned] of ownedCases) {
  void test(`ownedParameter(${JSON.stringify(name)}) is ${owned ? 'owned' : 'not owned'}`, () => {
    const found = ownedParameter('redis', name);
    assert.equal(found !== undefined, owned);
    if (found !== undefined) assert.ok(found.reason.length > 10);
  });
}

void test('the owned parameters docs/desired-state.md lists are owned, each with a reason', () => {
  const documented = [
    'port', 'bind', 'cluster-enabled', 'cluster-config-file', 'cluster-port', 'cluster-announce-ip',
    'cluster-announce-port', 'cluster-announce-bus-port', 'cluster-announce-hostname', 'dir', 'dbfilename',
    'appenddirname', 'appendfilename', 'daemonize', 'supervised', 'pidfile', 'logfile', 'unixsocket',
    'unixsocketperm', 'include', 'rename-command', 'replicaof', 'slaveof', 'masterauth', 'masteruser',
    'requirepass', 'protected-mode', 'tls-port', 'databases', 'repl-diskless-sync-delay',
    'enable-debug-command', 'enable-module-command', 'loadmodule',
  ];
  for (const name of documented) assert.ok(ownedParameter('redis', name), name);
});

void test('settable parameters: lower case, unique, none owned, those docs/desired-state.md lists present', () => {
  const names = settableParameterNames('redis');
  assert.equal(new Set(names).size, names.length);
  for (const name of names) {
    assert.equal(name, name.toLowerCase());
    assert.equal(ownedParameter('redis', name), undefined, `${name} is both settable and owned`);
  }
  const documented = [
    'maxmemory', 'maxmemory-policy', 'maxmemory-samples', 'timeout', 'tcp-keepalive', 'hz', 'save', 'appendonly',
    'appendfsync', 'lazyfree-lazy-eviction', 'lazyfree-lazy-expire', 'lazyfree-lazy-server-del',
    'lazyfree-lazy-user-del', 'cluster-node-timeout', 'cluster-require-full-coverage',
    'cluster-allow-reads-when-down', 'cluster-replica-validity-factor', 'cluster-migration-barrier',
    'cluster-allow-replica-migration', 'repl-backlog-size', 'repl-timeout', 'client-output-buffer-limit',
    'slowlog-log-slower-than', 'slowlog-max-len', 'latency-monitor-threshold', 'notify-keyspace-events',
    'active-expire-effort', 'io-threads', 'tcp-backlog', 'maxclients',
  ];
  for (const name of documented) assert.ok(settableParameter('redis', name), name);
  assert.equal(settableParameter('redis', 'io-threads')?.apply, 'restart');
  assert.equal(settableParameter('redis', 'tcp-backlog')?.apply, 'restart');
  assert.equal(settableParameter('redis', 'maxmemory')?.apply, 'live');
  assert.equal(MAXMEMORY_POLICIES.length, 8);
  assert.deepEqual(settableParameter('redis', 'maxmemory-policy')?.value, { kind: 'enum', values: MAXMEMORY_POLICIES });
});

const memoryCases: Array<[number | string, number | undefined]> = [
  [0, 0],
  ['0', 0],
  [1024, 1024],
  ['256mb', 256 * 1024 * 1024],
  ['256MB', 256 * 1024 * 1024],
  ['1gb', 1024 ** 3],
  ['1g', 1000 ** 3],
  ['10k', 10_000],
  ['10kb', 10_240],
  ['5b', 5],
  ['256 megabytes', undefined],
  ['256 mb', undefined],
  ['1.5gb', undefined],
  ['-1', undefined],
  [-1, undefined],
  ['1tb', undefined],
  ['', undefined],
  ['99999999999999gb', undefined],
];
for (const [input, bytes] of memoryCases) {
  void test(`parseMemory(${JSON.stringify(input)}) = ${String(bytes)}`, () => {
    assert.equal(parseMemory(input), bytes);
  });
}

const MEMORY: ValueKind = { kind: 'memory' };
const valueCases: Array<[string, ValueKind, number | string, string | undefined]> = [
  ['memory number', MEMORY, 268435456, '268435456'],
  ['memory with unit', MEMORY, '256mb', '268435456'],
  ['memory words', MEMORY, '256 megabytes', undefined],
  ['memory below its minimum', { kind: 'memory', minBytes: 1 }, 0, undefined],
  ['integer', { kind: 'integer', min: 1, max: 64 }, 5, '5'],
  ['integer as text', { kind: 'integer', min: 1, max: 64 }, '5', '5'],
  ['integer above max', { kind: 'integer', min: 1, max: 64 }, 65, undefined],
  ['integer below min', { kind: 'integer', min: 1, max: 64 }, 0, undefined],
  ['integer with a unit', { kind: 'integer' }, '5s', undefined],
  ['negative integer', { kind: 'integer', min: -1 }, -1, '-1'],
  // The engines refuse these in CONFIG SET ("argument couldn't be parsed into an integer").
  ['integer with a leading zero', { kind: 'integer', min: 1, max: 128 }, '088', undefined],
  ['negative zero', { kind: 'integer', min: -1 }, '-0', undefined],
  ['zero as text', { kind: 'integer', min: 0 }, '0', '0'],
  ['yes', { kind: 'yesno' }, 'yes', 'yes'],
  ['no', { kind: 'yesno' }, 'no', 'no'],
  ['true is not yes', { kind: 'yesno' }, 'true', undefined],
  ['1 is not yes', { kind: 'yesno' }, 1, undefined],
  ['enum value', { kind: 'enum', values: ['a', 'b'] }, 'b', 'b'],
  ['enum other', { kind: 'enum', values: ['a', 'b'] }, 'c', undefined],
  ['string', { kind: 'string' }, 'x y', 'x y'],
  ['string is not a number', { kind: 'string' }, 5, undefined],
];
for (const [name, kind, value, canonical] of valueCases) {
  void test(`checkParameterValue: ${name}`, () => {
    const v = checkParameterValue(kind, value);
    if (canonical === undefined) {
      assert.equal(v.ok, false);
      if (!v.ok) assert.equal(v.expected, describeValueKind(kind));
    } else assert.deepEqual(v, { ok: true, canonical });
  });
}

const stringParameterCases: Array<[string, string, boolean]> = [
  ['save', '', true],
  ['save', '3600 1 300 100', true],
  ['save', '3600', false],
  ['save', 'every hour', false],
  ['client-output-buffer-limit', 'pubsub 32mb 8mb 60', true],
  ['client-output-buffer-limit', 'normal 0 0 0 replica 256mb 64mb 60', true],
  ['client-output-buffer-limit', 'pubsub 32mb 8mb', false],
  ['client-output-buffer-limit', 'clients 1 1 1', false],
  ['notify-keyspace-events', 'Ex', true],
  ['notify-keyspace-events', '', true],
  ['notify-keyspace-events', 'Q', false],
];
for (const [name, value, ok] of stringParameterCases) {
  void test(`config ${name} ${JSON.stringify(value)} is ${ok ? 'accepted' : 'refused'}`, () => {
    const param = settableParameter('redis', name);
    assert.ok(param);
    assert.equal(checkParameterValue(param.value, value).ok, ok);
  });
}

void test('describeValueKind says the accepted forms', () => {
  assert.match(describeValueKind(MEMORY), /256mb/);
  assert.match(describeValueKind(MEMORY), /kb, m, mb, g or gb/);
  assert.match(describeValueKind({ kind: 'integer', min: 1, max: 64 }), /from 1 to 64/);
  assert.equal(describeValueKind({ kind: 'yesno' }), '"yes" or "no"');
  for (const p of ENGINE_PARAMETERS.redis.settable) assert.ok(describeValueKind(p.value).length > 3, p.name);
});
