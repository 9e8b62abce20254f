import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../test/arbitraries/desired-state.ts';
import { formatJsonPath, type ProblemCode } from './problem.ts';
import { checkRules, problemPointsAtKey } from './rules.ts';
import type { Desired } from './types.ts';

void test('the example desired state passes every rule', () => {
  assert.deepEqual(checkRules(exampleDesired()), []);
});

interface Case {
  name: string;
  desired: Desired;
  code?: ProblemCode;
  path: string;
  message: string | RegExp;
  hint: string | RegExp;
  /** the problem is about the key (underline the name, not the value) */
  key?: boolean;
}

const local = (path: string) => ({ type: 'local' as const, path });
const config = (c: Record<string, number | string>) => exampleDesired({ config: c });

const cases: Case[] = [
  {
    name: 'runningSince above id',
    desired: exampleDesired({ id: 5, runningSince: 7 }),
    path: '$.runningSince',
    message: 'runningSince 7 is greater than id 5',
    hint: 'set "runningSince" to 5 or less',
  },
  {
    name: 'agentRunningSince above id',
    desired: exampleDesired({ id: 5, agentRunningSince: 6 }),
    path: '$.agentRunningSince',
    message: 'agentRunningSince 6 is greater than id 5',
    hint: 'rolling restart of the agents',
  },
  {
    name: 'replicationFactor above maxReplicationFactor',
    desired: exampleDesired({ replicationFactor: 4, maxReplicationFactor: 3 }),
    path: '$.replicationFactor',
    message: 'must be at most maxReplicationFactor (3), got 4',
    hint: 'set "replicationFactor" to 3 or less',
  },
  {
    name: 'restoreFromBackup names a backup not listed',
    desired: exampleDesired({ restoreFromBackup: { id: 'weekly', sink: local('backups') } }),
    path: '$.restoreFromBackup.id',
    message: 'restoreFromBackup names backup "weekly", which is not listed in "backups"',
    hint: 'add {"id":"weekly","sink":{"type":"local","path":"backups"}} to "backups"',
  },
  {
    name: 'restoreFromBackup misspells a listed backup',
    desired: exampleDesired({ restoreFromBackup: { id: 'nighty', sink: local('backups') } }),
    path: '$.restoreFromBackup.id',
    message: 'backup "nighty", which is not listed',
    hint: 'did you mean "nightly"?',
  },
  {
    name: 'restoreFromBackup with no backups at all',
    desired: exampleDesired({ backups: [], restoreFromBackup: { id: 'nightly', sink: local('backups') } }),
    path: '$.restoreFromBackup.id',
    message: 'not listed in "backups"',
    hint: 'a backup to restore from must be kept',
  },
  {
    name: 'restoreFromBackup with the same id in another sink path',
    desired: exampleDesired({ restoreFromBackup: { id: 'nightly', sink: local('elsewhere') } }),
    path: '$.restoreFromBackup.sink.path',
    message: 'at path "elsewhere", but backups[0] keeps it at path "backups"',
    hint: 'use the same sink as backups[0]: {"type":"local","path":"backups"}',
  },
  {
    name: 'restoreFromBackup with another sink type',
    desired: exampleDesired({
      restoreFromBackup: { id: 'nightly', sink: { type: 's3' as 'local', path: 'backups' } },
    }),
    path: '$.restoreFromBackup.sink.type',
    message: 'in a "s3" sink, but backups[0] keeps it in a "local" sink',
    hint: 'use the same sink as backups[0]',
  },
  {
    name: 'duplicate zone',
    desired: exampleDesired({ availabilityZones: ['zone-a', 'zone-b', 'zone-a'] }),
    code: 'duplicate-item',
    path: '$.availabilityZones[2]',
    message: 'zone "zone-a" is listed twice',
    hint: 'remove one of them',
  },
  {
    name: 'duplicate backup id',
    desired: exampleDesired({
      backups: [
        { id: 'a', sink: local('x') },
        { id: 'a', sink: local('y') },
      ],
    }),
    code: 'duplicate-item',
    path: '$.backups[1].id',
    message: 'backup id "a" is used twice in backups (also at backups[0])',
    hint: 'give each backup its own id',
  },
  {
    name: 'owned parameter port',
    desired: config({ port: 7000 }),
    path: '$.config.port',
    message: 'config parameter "port" is set by Coxswain: Coxswain assigns each data node its port',
    hint: 'remove "port" from "config"',
    key: true,
  },
  {
    name: 'owned parameter in upper case',
    desired: config({ DIR: '/data' }),
    path: '$.config.DIR',
    message: 'config parameter "DIR" is set by Coxswain',
    hint: 'remove "DIR"',
    key: true,
  },
  {
    name: 'owned tls-* parameter',
    desired: config({ 'tls-port': 6380 }),
    path: '$.config["tls-port"]',
    message: 'mTLS',
    hint: 'remove "tls-port"',
    key: true,
  },
  {
    name: 'owned repl-diskless-sync-delay, with the reason',
    desired: config({ 'repl-diskless-sync-delay': 5 }),
    path: '$.config["repl-diskless-sync-delay"]',
    message: /sets it to 0.*41 s instead of 1\.5 s/,
    hint: 'remove',
    key: true,
  },
  {
    name: 'owned databases',
    desired: config({ databases: 16 }),
    path: '$.config.databases',
    message: 'Redis Cluster has only database 0',
    hint: 'remove',
    key: true,
  },
  {
    name: 'unknown parameter with a suggestion',
    desired: config({ 'maxmemory-polcy': 'noeviction' }),
    path: '$.config["maxmemory-polcy"]',
    message: 'unknown config parameter "maxmemory-polcy"',
    hint: 'did you mean "maxmemory-policy"?',
    key: true,
  },
  {
    name: 'unknown parameter without a suggestion lists the known ones',
    desired: config({ 'hash-max-listpack-entries': 128 }),
    path: '$.config["hash-max-listpack-entries"]',
    message: 'unknown config parameter "hash-max-listpack-entries"',
    hint: /the parameters you may set are: .*maxmemory-policy/,
    key: true,
  },
  {
    name: 'known parameter in upper case',
    desired: config({ MAXMEMORY: '1mb' }),
    path: '$.config.MAXMEMORY',
    message: 'config parameter "MAXMEMORY" must be written in lower case',
    hint: 'write "maxmemory"',
    key: true,
  },
  {
    name: 'memory in words',
    desired: config({ maxmemory: '256 megabytes' }),
    path: '$.config.maxmemory',
    message: 'config "maxmemory" is "256 megabytes", which is not a memory size',
    hint: /bytes as an integer .* "256mb", "1gb"/,
  },
  {
    name: 'enum value misspelt',
    desired: config({ 'maxmemory-policy': 'allkeys-lru2' }),
    path: '$.config["maxmemory-policy"]',
    message: 'which is not one of "volatile-lru"',
    hint: '"noeviction"',
  },
  {
    name: 'yesno as true',
    desired: config({ appendonly: 'true' }),
    path: '$.config.appendonly',
    message: 'config "appendonly" is "true", which is not "yes" or "no"',
    hint: 'write "yes" or "no"',
  },
  {
    name: 'integer out of range',
    desired: config({ 'maxmemory-samples': 100 }),
    path: '$.config["maxmemory-samples"]',
    message: 'is 100, which is not an integer from 1 to 64',
    hint: 'write an integer from 1 to 64',
  },
  {
    name: 'integer given as a string with a unit',
    desired: config({ timeout: '30s' }),
    path: '$.config.timeout',
    message: 'config "timeout" is "30s", which is not an integer',
    hint: 'write an integer',
  },
  {
    name: 'appendfsync value',
    desired: config({ appendfsync: 'sometimes' }),
    path: '$.config.appendfsync',
    message: 'not one of "always", "everysec", "no"',
    hint: 'write one of',
  },
  {
    name: 'save in the wrong form',
    desired: config({ save: 'hourly' }),
    path: '$.config.save',
    message: 'config "save" is "hourly", which is not in the accepted form',
    hint: 'pairs "<seconds> <changes>"',
  },
  {
    name: 'a number for a string parameter',
    desired: config({ 'notify-keyspace-events': 1 }),
    path: '$.config["notify-keyspace-events"]',
    message: 'is 1, which is not in the accepted form',
    hint: 'letters from K E g',
  },
  {
    name: 'maxmemory above the VM memory',
    desired: exampleDesired({ vmType: 'small', config: { maxmemory: '2gb' } }),
    path: '$.config.maxmemory',
    message: 'config "maxmemory" is "2gb" (2048 MiB), more than the 1024 MiB of a "small" VM',
    hint: 'set "maxmemory" to at most "1024mb"',
  },
  {
    name: 'min-replicas-to-write above the replicas',
    desired: exampleDesired({ replicationFactor: 2, config: { 'min-replicas-to-write': 2 } }),
    path: '$.config["min-replicas-to-write"]',
    message: 'with replicationFactor 2 each primary has 1 replica, so every write would be refused',
    hint: 'set it to 1 or less, or raise "replicationFactor" to 3',
  },
  {
    name: 'min-replicas-to-write beyond maxReplicationFactor',
    desired: exampleDesired({ replicationFactor: 1, maxReplicationFactor: 1, config: { 'min-replicas-to-write': '1' } }),
    path: '$.config["min-replicas-to-write"]',
    message: 'each primary has 0 replicas',
    hint: 'needs a maxReplicationFactor of 2',
  },
  {
    name: 'min-replicas-to-write beyond the catalogue\'s range: the replicas are the bound that applies',
    desired: exampleDesired({ replicationFactor: 2, config: { 'min-replicas-to-write': 3_000_000_000 } }),
    path: '$.config["min-replicas-to-write"]',
    message: 'config "min-replicas-to-write" is 3000000000, but with replicationFactor 2 each primary has 1 replica',
    hint: 'set it to 1 or less',
  },
  {
    name: 'a negative min-replicas-to-write keeps the catalogue\'s range',
    desired: exampleDesired({ replicationFactor: 2, config: { 'min-replicas-to-write': -1 } }),
    path: '$.config["min-replicas-to-write"]',
    message: 'config "min-replicas-to-write" is -1, which is not',
    hint: 'from 0 to 2147483647',
  },
];

for (const c of cases) {
  void test(`rule: ${c.name}`, () => {
    const problems = checkRules(c.desired);
    assert.equal(problems.length, 1, JSON.stringify(problems, null, 2));
    const [p] = problems;
    assert.ok(p);
    assert.equal(p.code, c.code ?? 'rule');
    assert.equal(formatJsonPath(p.path), c.path);
    if (typeof c.message === 'string') assert.ok(p.message.includes(c.message), p.message);
    else assert.match(p.message, c.message);
    assert.ok(p.hint !== undefined);
    if (typeof c.hint === 'string') assert.ok(p.hint.includes(c.hint), p.hint);
    else assert.match(p.hint, c.hint);
    assert.equal(problemPointsAtKey(p), c.key === true);
  });
}

const accepted: Array<[string, Desired]> = [
  ['runningSince equal to id', exampleDesired({ id: 5, runningSince: 5, agentRunningSince: 5 })],
  ['replicationFactor equal to max', exampleDesired({ replicationFactor: 3, maxReplicationFactor: 3 })],
  ['restoreFromBackup naming a listed backup', exampleDesired({ restoreFromBackup: { id: 'nightly', sink: local('backups') } })],
  ['integer memory', config({ maxmemory: 268435456 })],
  ['memory 0', config({ maxmemory: 0 })],
  ['memory with unit', config({ maxmemory: '1gb', 'repl-backlog-size': '64mb' })],
  ['maxmemory equal to the VM memory', exampleDesired({ vmType: 'small', config: { maxmemory: '1024mb' } })],
  ['maxmemory on a large VM', exampleDesired({ vmType: 'large', config: { maxmemory: '12gb' } })],
  ['integer as a number', config({ 'maxmemory-samples': 10, timeout: 0, hz: 10 })],
  ['integer as a string', config({ 'maxmemory-samples': '10', 'slowlog-log-slower-than': '-1' })],
  ['restart-only parameters', config({ 'io-threads': 4, 'tcp-backlog': 511 })],
  ['save disabled', config({ save: '' })],
  ['client-output-buffer-limit', config({ 'client-output-buffer-limit': 'pubsub 32mb 8mb 60' })],
  ['min-replicas-to-write equal to the replicas', exampleDesired({ replicationFactor: 3, config: { 'min-replicas-to-write': 2 } })],
  ['no config at all', config({})],
];
for (const [name, d] of accepted) {
  void test(`rule accepts: ${name}`, () => {
    assert.deepEqual(checkRules(d), []);
  });
}

void test('every problem is reported, not only the first', () => {
  const d = exampleDesired({
    id: 2,
    runningSince: 3,
    agentRunningSince: 4,
    replicationFactor: 3,
    maxReplicationFactor: 2,
    config: { port: 1, maxmemory: 'lots', 'no-such-thing': 'x' },
  });
  const paths = checkRules(d).map((p) => formatJsonPath(p.path));
  assert.deepEqual(paths, [
    '$.runningSince',
    '$.agentRunningSince',
    '$.replicationFactor',
    '$.config.port',
    '$.config.maxmemory',
    '$.config["no-such-thing"]',
  ]);
});
