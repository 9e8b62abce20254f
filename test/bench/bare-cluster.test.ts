// CLUSTER NODES parsing and the two kinds of agreement the baseline waits for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agreementProblem, parseClusterNodes, topologyDigest } from './bare-cluster.ts';
import type { ClusterNodeLine } from './bare-cluster.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

// A 2-node view right after CLUSTER FAILOVER promoted B: some nodes still list A as a primary.
const fresh = `${A} 127.0.0.1:7000@17000 myself,slave ${B} 0 0 2 connected
${B} 127.0.0.1:7001@17001 master - 0 1700000000000 3 connected 0-16383
`;
const stale = `${A} 127.0.0.1:7000@17000 master - 0 0 2 connected
${B} 127.0.0.1:7001@17001 myself,master - 0 1700000000000 3 connected 0-16383
`;

test('parseClusterNodes reads ids, addresses without bus port, roles, primaries and slots', () => {
  const lines = parseClusterNodes(`${A} 127.0.0.1:7000@17000,host-a myself,master - 0 0 1 connected 0-5460 5462 [5461->-${C}]
${C} 127.0.0.1:7002@17002 slave,fail? ${A} 0 0 1 disconnected
`);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[0], {
    id: A,
    address: '127.0.0.1:7000',
    role: 'master',
    troubles: [],
    masterId: undefined,
    slots: ['0-5460', '5462', `[5461->-${C}]`],
  });
  assert.equal(lines[1]?.role, 'slave');
  assert.equal(lines[1]?.masterId, A);
  assert.deepEqual(lines[1]?.troubles, ['fail?']);
});

function views(...texts: string[]): Map<string, { state: string; lines: ClusterNodeLine[] }> {
  return new Map(texts.map((t, i) => [`node${i}`, { state: 'ok', lines: parseClusterNodes(t) }]));
}

test('full agreement needs the same roles everywhere; slot agreement only the slot map', () => {
  assert.notEqual(topologyDigest(parseClusterNodes(fresh)), topologyDigest(parseClusterNodes(stale)));
  assert.equal(topologyDigest(parseClusterNodes(fresh), 'slots'), topologyDigest(parseClusterNodes(stale), 'slots'));
  assert.match(agreementProblem(views(fresh, stale), 2) ?? '', /another topology/);
  assert.equal(agreementProblem(views(fresh, stale), 2, 'slots'), undefined);
  assert.equal(agreementProblem(views(fresh, fresh), 2), undefined);
});

test('no agreement while a node is not ok, misses a member, suspects one or sees a migration', () => {
  const notOk = new Map([['n0', { state: 'fail', lines: parseClusterNodes(fresh) }]]);
  assert.match(agreementProblem(notOk, 2) ?? '', /cluster_state:fail/);
  assert.match(agreementProblem(views(fresh), 3) ?? '', /knows 2 nodes, expected 3/);
  const suspect = fresh.replace('myself,slave', 'myself,slave,fail?');
  assert.match(agreementProblem(views(suspect), 2) ?? '', /fail\?/);
  const migrating = fresh.replace('0-16383', `0-16383 [7->-${A}]`);
  assert.match(agreementProblem(views(migrating), 2) ?? '', /slot migration/);
});
