import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../test/arbitraries/desired-state.ts';
import { formatJsonPath, type ProblemCode } from './problem.ts';
import { checkRules } from './rules.ts';
import { checkTransition } from './transition.ts';
import type { Desired, EngineName } from './types.ts';

const local = (path: string) => ({ type: 'local' as const, path });
const prev = (o: Partial<Desired> = {}) => exampleDesired({ id: 5, ...o });
const next = (o: Partial<Desired> = {}) => exampleDesired({ id: 6, ...o });
/** replicationFactor 1 and running on both sides */
const single = (o: Partial<Desired> = {}) => ({ replicationFactor: 1, running: true, ...o });

interface Refused {
  name: string;
  /** undefined: the first desired state. */
  previous: Desired | undefined;
  candidate: Desired;
  everRan?: boolean;
  code: ProblemCode;
  path: string;
  message: string | RegExp;
  hint: string | RegExp;
}

const refused: Refused[] = [
  {
    name: 'id equal to the accepted id is ignored',
    previous: prev(),
    candidate: exampleDesired({ id: 5 }),
    code: 'id-not-increasing',
    path: '$.id',
    message: 'id 5 is not greater than the accepted id 5, so this desired state is ignored',
    hint: 'set "id" to 6 or more',
  },
  {
    name: 'id lower than the accepted id is ignored',
    previous: prev(),
    candidate: exampleDesired({ id: 3 }),
    code: 'id-not-increasing',
    path: '$.id',
    message: 'id 3 is not greater than the accepted id 5, so this desired state is ignored',
    hint: 'set "id" to 6 or more',
  },
  {
    name: 'name changed',
    previous: prev(),
    candidate: next({ name: 'other' }),
    code: 'immutable-field',
    path: '$.name',
    message: 'name cannot change once the cluster exists: it was "demo", this desired state has "other"',
    hint: 'create a new cluster',
  },
  {
    name: 'engine changed',
    previous: prev(),
    candidate: next({ engine: 'rondb' as EngineName }),
    code: 'immutable-field',
    path: '$.engine',
    message: 'it was "redis", this desired state has "rondb"',
    hint: 'keep "engine": "redis"',
  },
  {
    name: 'maxReplicationFactor changed',
    previous: prev(),
    candidate: next({ maxReplicationFactor: 5 }),
    code: 'immutable-field',
    path: '$.maxReplicationFactor',
    message: 'it was 3, this desired state has 5',
    hint: /keep "maxReplicationFactor": 3 .*from 1 to 3/,
  },
  {
    name: 'runningSince lowered',
    previous: prev({ runningSince: 4 }),
    candidate: next({ runningSince: 2 }),
    code: 'transition',
    path: '$.runningSince',
    message: 'runningSince would go back from 4 to 2; it is a logical clock and never decreases',
    hint: 'keep it at 4, or raise it (up to the id, 6) to ask for a rolling restart',
  },
  {
    name: 'agentRunningSince lowered',
    previous: prev({ agentRunningSince: 3 }),
    candidate: next({ agentRunningSince: 0 }),
    code: 'transition',
    path: '$.agentRunningSince',
    message: 'agentRunningSince would go back from 3 to 0',
    hint: 'keep it at 3, or raise it (up to the id, 6) to ask for a rolling restart of the agents',
  },
  {
    name: 'downgrade 8.0 → 7.0',
    previous: prev({ version: '8.0' }),
    candidate: next({ version: '7.0' }),
    code: 'transition',
    path: '$.version',
    message: /version cannot change from 8\.0 to 7\.0: .*RDB/,
    hint: 'keep "version": "8.0"',
  },
  {
    name: 'restoreFromBackup added after the cluster ran',
    previous: prev({ running: true }),
    candidate: next({ restoreFromBackup: { id: 'nightly', sink: local('backups') } }),
    code: 'transition',
    path: '$.restoreFromBackup',
    message: 'restoreFromBackup cannot be added once the cluster has run',
    hint: 'remove "restoreFromBackup"',
  },
  {
    name: 'restoreFromBackup added after the cluster ran in an earlier version (everRan from history)',
    previous: prev({ running: false }),
    candidate: next({ running: false, restoreFromBackup: { id: 'nightly', sink: local('backups') } }),
    everRan: true,
    code: 'transition',
    path: '$.restoreFromBackup',
    message: 'cannot be added once the cluster has run',
    hint: 'create a new cluster that restores from it',
  },
  {
    name: 'restoreFromBackup changed after the cluster ran',
    previous: prev({
      backups: [{ id: 'a', sink: local('x') }, { id: 'b', sink: local('x') }],
      restoreFromBackup: { id: 'a', sink: local('x') },
    }),
    candidate: next({
      backups: [{ id: 'a', sink: local('x') }, { id: 'b', sink: local('x') }],
      restoreFromBackup: { id: 'b', sink: local('x') },
    }),
    code: 'transition',
    path: '$.restoreFromBackup',
    message: 'restoreFromBackup cannot change once the cluster has run (it was "a" (local "x"), now "b" (local "x"))',
    hint: 'keep "restoreFromBackup" as it was, or remove it',
  },
  {
    name: 'a backup moved to another sink',
    previous: prev(),
    candidate: next({ backups: [{ id: 'nightly', sink: local('elsewhere') }] }),
    code: 'transition',
    path: '$.backups[0].sink',
    message: 'backup "nightly" was kept in local "backups" and cannot move to local "elsewhere"',
    hint: 'add a backup with a new id',
  },
  {
    name: 'rf 1, running: version change without temporary VMs',
    previous: prev(single()),
    candidate: next(single({ version: '8.0' })),
    code: 'transition',
    path: '$.version',
    message: /the version change 7\.0 → 8\.0 cannot be done without downtime: .*replicationFactor 1 .*only copy/,
    hint: /"allowTemporaryVms": true.*raise "replicationFactor" to 2 in a desired state of its own/,
  },
  {
    name: 'rf 1, running: a rolling restart (runningSince raised)',
    previous: prev(single({ runningSince: 1 })),
    candidate: next(single({ runningSince: 6 })),
    code: 'transition',
    path: '$.runningSince',
    message: 'raising runningSince from 1 to 6 (a rolling restart) cannot be done without downtime',
    hint: 'allowTemporaryVms',
  },
  {
    name: 'rf 1, running: vmType change',
    previous: prev(single()),
    candidate: next(single({ vmType: 'medium' })),
    code: 'transition',
    path: '$.vmType',
    message: 'the VM type change small → medium cannot be done without downtime',
    hint: 'allowTemporaryVms',
  },
  {
    name: 'rf 1, running: storageGiB change',
    previous: prev(single()),
    candidate: next(single({ storageGiB: 20 })),
    code: 'transition',
    path: '$.storageGiB',
    message: 'the storage change 10 → 20 GiB',
    hint: 'allowTemporaryVms',
  },
  {
    name: 'rf 1, running: a zone removed (an added rule, docs/desired-state.md)',
    previous: prev(single({ availabilityZones: ['zone-a', 'zone-b'] })),
    candidate: next(single({ availabilityZones: ['zone-a'] })),
    code: 'transition',
    path: '$.availabilityZones',
    message: 'removing zone "zone-b" (its nodes move to other zones) cannot be done without downtime',
    hint: 'allowTemporaryVms',
  },
  {
    name: 'rf 1, running: a restart-only parameter changed (an added rule, docs/desired-state.md)',
    previous: prev(single({ config: { 'io-threads': 2 } })),
    candidate: next(single({ config: { 'io-threads': 4 } })),
    code: 'transition',
    path: '$.config["io-threads"]',
    message: 'changing config "io-threads" (applied only by a restart)',
    hint: 'allowTemporaryVms',
  },
  {
    name: 'rf 1, running: a restart-only parameter added (an added rule, docs/desired-state.md)',
    previous: prev(single({ config: {} })),
    candidate: next(single({ config: { 'tcp-backlog': 1024 } })),
    code: 'transition',
    path: '$.config["tcp-backlog"]',
    message: 'changing config "tcp-backlog"',
    hint: 'allowTemporaryVms',
  },
  {
    name: 'rf 1, running: a live parameter removed (its default comes back only by a restart; an added rule, docs/desired-state.md)',
    previous: prev(single({ config: { maxmemory: '99MB', 'maxmemory-policy': 'noeviction' } })),
    candidate: next(single({ config: { 'maxmemory-policy': 'noeviction' } })),
    code: 'transition',
    path: '$.config.maxmemory',
    message: 'removing config "maxmemory" (its default comes back only by a restart) cannot be done without downtime',
    hint: /^keep "maxmemory" with the value you want instead .*; or set "allowTemporaryVms": true/,
  },
  {
    name: 'never ran, stopped: a backup listed in the first desired state (an added rule, docs/desired-state.md)',
    previous: undefined,
    candidate: next({ running: false }),
    everRan: false,
    code: 'transition',
    path: '$.backups[0]',
    message: 'backup "nightly" cannot be taken: the cluster has never run, so it holds no data to back up, and "running" is false',
    hint: 'list it once the cluster runs',
  },
  {
    name: 'never ran, stopped: a backup added to a stopped cluster (an added rule, docs/desired-state.md)',
    previous: prev({ running: false, backups: [] }),
    candidate: next({ running: false, restoreFromBackup: { id: 'old', sink: local('r') }, backups: [{ id: 'old', sink: local('r') }, { id: 'new', sink: local('b') }] }),
    everRan: false,
    code: 'transition',
    path: '$.backups[1]',
    message: 'backup "new" cannot be taken: the cluster has never run',
    hint: 'remove it for now',
  },
  {
    name: 'stopped on both sides after it ran: nodeGroups change (an added rule, docs/desired-state.md)',
    previous: prev({ running: false }),
    candidate: next({ running: false, nodeGroups: 4 }),
    everRan: true,
    code: 'transition',
    path: '$.nodeGroups',
    message: 'changing nodeGroups from 3 to 4 (data moves between node groups) needs the data nodes running',
    hint: 'make this change in a desired state with "running": true',
  },
  {
    name: 'stopped on both sides after it ran: replicationFactor raised (an added rule, docs/desired-state.md)',
    previous: prev({ running: false, replicationFactor: 1 }),
    candidate: next({ running: false, replicationFactor: 2 }),
    everRan: true,
    code: 'transition',
    path: '$.replicationFactor',
    message: 'raising replicationFactor from 1 to 2 (new replicas copy the data) needs the data nodes running',
    hint: '"running": true',
  },
  {
    name: 'stopped on both sides after it ran: a new backup (an added rule, docs/desired-state.md)',
    previous: prev({ running: false }),
    candidate: next({ running: false, backups: [{ id: 'nightly', sink: local('backups') }, { id: 'new', sink: local('b') }] }),
    everRan: true,
    code: 'transition',
    path: '$.backups[1]',
    message: 'taking the new backup "new" needs the data nodes running',
    hint: '"running": true',
  },
  {
    name: 'stopped on both sides after it ran: vmType change (an added rule, docs/desired-state.md)',
    previous: prev({ running: false }),
    candidate: next({ running: false, vmType: 'large' }),
    everRan: true,
    code: 'transition',
    path: '$.vmType',
    message: 'the VM type change small → large (data is copied to new VMs) needs the data nodes running',
    hint: '"running": true',
  },
];

for (const c of refused) {
  void test(`transition refused: ${c.name}`, () => {
    const problems = checkTransition(c.previous, c.candidate, { everRan: c.everRan ?? c.previous?.running ?? false });
    assert.equal(problems.length, 1, JSON.stringify(problems, null, 2));
    const [p] = problems;
    assert.ok(p);
    assert.equal(p.code, c.code);
    assert.equal(formatJsonPath(p.path), c.path);
    if (typeof c.message === 'string') assert.ok(p.message.includes(c.message), p.message);
    else assert.match(p.message, c.message);
    assert.ok(p.hint !== undefined);
    if (typeof c.hint === 'string') assert.ok(p.hint.includes(c.hint), p.hint);
    else assert.match(p.hint, c.hint);
  });
}

interface Allowed {
  name: string;
  previous: Desired | undefined;
  candidate: Desired;
  everRan?: boolean;
}

const allowed: Allowed[] = [
  { name: 'first version: anything valid, restoreFromBackup too', previous: undefined, candidate: next({ restoreFromBackup: { id: 'nightly', sink: local('backups') } }) },
  { name: 'id raised, nothing else changed', previous: prev(), candidate: next() },
  { name: 'upgrade 7.0 → 8.0 with replicas', previous: prev(), candidate: next({ version: '8.0' }) },
  { name: 'runningSince raised with replicas', previous: prev({ runningSince: 1 }), candidate: next({ runningSince: 6 }) },
  { name: 'agentRunningSince raised with rf 1 (agents only, data nodes untouched)', previous: prev(single()), candidate: next(single({ agentRunningSince: 6 })) },
  { name: 'rf 1 on both sides with allowTemporaryVms', previous: prev(single()), candidate: next(single({ version: '8.0', runningSince: 6, vmType: 'large', storageGiB: 50, allowTemporaryVms: true })) },
  { name: 'rf 1 → 2 together with a version change', previous: prev(single()), candidate: next({ replicationFactor: 2, version: '8.0' }) },
  { name: 'rf 2 → 1 together with a version change', previous: prev({ replicationFactor: 2 }), candidate: next(single({ version: '8.0' })) },
  { name: 'rf 1, stopped before', previous: prev(single({ running: false })), candidate: next(single({ version: '8.0', vmType: 'medium' })) },
  { name: 'rf 1, stopped now', previous: prev(single()), candidate: next(single({ running: false, version: '8.0', runningSince: 6 })) },
  { name: 'rf 1, nodeGroups change (resharding online)', previous: prev(single()), candidate: next(single({ nodeGroups: 5 })) },
  { name: 'rf 1, a zone added', previous: prev(single()), candidate: next(single({ availabilityZones: ['zone-a', 'zone-b', 'zone-c'] })) },
  { name: 'rf 1, a live parameter changed', previous: prev(single()), candidate: next(single({ config: { maxmemory: '512mb', 'maxmemory-policy': 'allkeys-lru' } })) },
  { name: 'rf 1, a live parameter removed with allowTemporaryVms', previous: prev(single({ config: { maxmemory: '99MB' } })), candidate: next(single({ config: {}, allowTemporaryVms: true })) },
  { name: 'rf 1, a live parameter removed while stopping', previous: prev(single({ config: { maxmemory: '99MB' } })), candidate: next(single({ config: {}, running: false })) },
  { name: 'rf 1, a live parameter removed while starting', previous: prev(single({ config: { maxmemory: '99MB' }, running: false })), candidate: next(single({ config: {} })) },
  { name: 'rf 1 → 2, a live parameter removed (the replica comes first)', previous: prev(single({ config: { maxmemory: '99MB' } })), candidate: next({ replicationFactor: 2, config: {} }) },
  { name: 'rf 2, a live parameter removed', previous: prev({ config: { maxmemory: '99MB' } }), candidate: next({ config: {} }) },
  { name: 'rf 1, a restart-only parameter respelt with the same value', previous: prev(single({ config: { 'io-threads': 4 } })), candidate: next(single({ config: { 'io-threads': '4' } })) },
  { name: 'restoreFromBackup set while the cluster never ran', previous: prev({ running: false }), candidate: next({ restoreFromBackup: { id: 'nightly', sink: local('backups') } }), everRan: false },
  { name: 'restoreFromBackup kept unchanged after it ran', previous: prev({ restoreFromBackup: { id: 'nightly', sink: local('backups') } }), candidate: next({ restoreFromBackup: { id: 'nightly', sink: local('backups') } }) },
  { name: 'restoreFromBackup removed after it ran', previous: prev({ restoreFromBackup: { id: 'nightly', sink: local('backups') } }), candidate: next() },
  { name: 'a backup removed', previous: prev(), candidate: next({ backups: [] }) },
  { name: 'a backup added with a new id', previous: prev(), candidate: next({ backups: [{ id: 'nightly', sink: local('backups') }, { id: 'weekly', sink: local('w') }] }) },
  { name: 'stopped on both sides, never ran: anything but backups', previous: prev({ running: false, backups: [] }), candidate: next({ running: false, nodeGroups: 7, vmType: 'large', backups: [] }), everRan: false },
  { name: 'never ran, stopped: the backup it restores from may be listed', previous: undefined, candidate: next({ running: false, restoreFromBackup: { id: 'nightly', sink: local('backups') } }), everRan: false },
  { name: 'never ran: backups listed together with running: true', previous: prev({ running: false, backups: [] }), candidate: next({ backups: [{ id: 'new', sink: local('b') }] }), everRan: false },
  { name: 'stopped after it ran: a backup listed (taken with the nodes running, then stopped)', previous: prev({ running: false, backups: [] }), candidate: next({ running: false, backups: [] }), everRan: true },
  { name: 'stopped on both sides after it ran: version change and restart', previous: prev({ running: false }), candidate: next({ running: false, version: '8.0', runningSince: 6 }), everRan: true },
  { name: 'stopped on both sides after it ran: replicas removed', previous: prev({ running: false, replicationFactor: 3 }), candidate: next({ running: false, replicationFactor: 2 }), everRan: true },
  { name: 'stopping with a node-group change in the same version', previous: prev(), candidate: next({ running: false, nodeGroups: 4 }), everRan: true },
];

for (const c of allowed) {
  void test(`transition allowed: ${c.name}`, () => {
    assert.deepEqual(checkTransition(c.previous, c.candidate, { everRan: c.everRan ?? c.previous?.running ?? false }), []);
  });
}

void test('an ignored desired state reports only the id, whatever else is wrong', () => {
  const problems = checkTransition(prev({ version: '8.0' }), exampleDesired({ id: 4, name: 'x', version: '7.0', runningSince: 0 }), { everRan: true });
  assert.deepEqual(
    problems.map((p) => p.code),
    ['id-not-increasing'],
  );
});

void test('several problems are reported together', () => {
  const problems = checkTransition(
    prev(single({ runningSince: 3 })),
    next(single({ name: 'x', maxReplicationFactor: 4, runningSince: 2, vmType: 'large' })),
    { everRan: true },
  );
  assert.deepEqual(
    problems.map((p) => `${p.code} ${formatJsonPath(p.path)}`),
    ['immutable-field $.name', 'immutable-field $.maxReplicationFactor', 'transition $.runningSince', 'transition $.vmType'],
  );
});

void test('rf 1: every rolling change is named, one problem each', () => {
  const problems = checkTransition(
    prev(single({ runningSince: 1 })),
    next(single({ version: '8.0', runningSince: 6, vmType: 'medium', storageGiB: 11 })),
    { everRan: true },
  );
  assert.deepEqual(
    problems.map((p) => formatJsonPath(p.path)),
    ['$.version', '$.runningSince', '$.vmType', '$.storageGiB'],
  );
});

void test('a backup named by restoreFromBackup cannot be removed from backups (a single-state rule)', () => {
  const before = prev({ running: false, restoreFromBackup: { id: 'nightly', sink: local('backups') } });
  const after = next({ running: false, backups: [], restoreFromBackup: { id: 'nightly', sink: local('backups') } });
  assert.deepEqual(checkTransition(before, after, { everRan: false }), []);
  const problems = checkRules(after);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.code, 'rule');
  assert.equal(formatJsonPath(problems[0]?.path ?? []), '$.restoreFromBackup.id');
  assert.match(problems[0]?.message ?? '', /not listed in "backups"/);
});
