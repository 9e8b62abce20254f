// Parsing CLUSTER NODES / CLUSTER INFO / CLUSTER SHARDS and judging agreement, from
// text recorded on Redis 7.0.15 and Valkey 8.0.1 (3 primaries × 1 replica, loopback).
// No servers: the judge is a pure function of the nodes' views.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  failedMembers,
  judgeAgreement,
  mergeTopology,
  parseClusterInfo,
  parseClusterNodes,
  parseClusterShards,
  slotOwners,
  topologyDigest,
  withoutFailed,
  withoutStrangers,
} from './topology.ts';
import type { ClusterNodeRecord, NodeView } from './topology.ts';
import { redisOpError } from './errors.ts';
import { normalRanges, SLOT_COUNT, slotsIn, slotsToRanges } from '../../../common/slot-ranges.ts';

// ---------------------------------------------------------------------------------
// Recorded text (CLUSTER NODES of one node; the others' views are derived by moving
// the `myself` flag, which is all that differs between agreeing views).

const REDIS70_PRIMARY_VIEW = `4698d9527ba0fa8c4f9fbde05f85c84af5c4a6e8 127.0.0.1:23003@33003 master - 0 1795306309000 3 connected 10923-16383
33b02ad131e8aeff034835b606dc79bf3c9b148b 127.0.0.1:23005@33005 slave 8e0b1f2f6c8303c86778afe415ead3c4b8b9def0 0 1795306310647 1 connected
0ce57501f4866791b24260ff0f3e76b3d0166ea3 127.0.0.1:23002@33002 master - 0 1795306309641 2 connected 5461-10922
463f7b76b2da394b7635a202331d7e9fa2980ec8 127.0.0.1:23004@33004 slave 4698d9527ba0fa8c4f9fbde05f85c84af5c4a6e8 0 1795306307000 3 connected
8e0b1f2f6c8303c86778afe415ead3c4b8b9def0 127.0.0.1:23001@33001 myself,master - 0 1795306308000 1 connected 0-5460
7cf141a31a432b2b177d271bbf19889e34e11aa7 127.0.0.1:23007@33007 slave 0ce57501f4866791b24260ff0f3e76b3d0166ea3 0 1795306308635 2 connected
`;

const REDIS70_MIGRATING_SOURCE = `4698d9527ba0fa8c4f9fbde05f85c84af5c4a6e8 127.0.0.1:23003@33003 master - 0 1795306309000 3 connected 10923-16383
8e0b1f2f6c8303c86778afe415ead3c4b8b9def0 127.0.0.1:23001@33001 myself,master - 0 1795306308000 1 connected 0-5460 [100->-0ce57501f4866791b24260ff0f3e76b3d0166ea3] [5000->-0ce57501f4866791b24260ff0f3e76b3d0166ea3]
0ce57501f4866791b24260ff0f3e76b3d0166ea3 127.0.0.1:23002@33002 master - 0 1795306309641 2 connected 5461-10922
`;

const REDIS70_IMPORTING_TARGET = `0ce57501f4866791b24260ff0f3e76b3d0166ea3 127.0.0.1:23002@33002 myself,master - 0 1795306309000 2 connected 5461-10922 [100-<-8e0b1f2f6c8303c86778afe415ead3c4b8b9def0]
8e0b1f2f6c8303c86778afe415ead3c4b8b9def0 127.0.0.1:23001@33001 master - 0 1795306309940 1 connected 0-5460
4698d9527ba0fa8c4f9fbde05f85c84af5c4a6e8 127.0.0.1:23003@33003 master - 0 1795306307000 3 connected 10923-16383
`;

const REDIS70_FAIL = `4698d9527ba0fa8c4f9fbde05f85c84af5c4a6e8 127.0.0.1:23003@33003 master - 0 1795306332795 3 connected 10923-16383
33b02ad131e8aeff034835b606dc79bf3c9b148b 127.0.0.1:23005@33005 slave 8e0b1f2f6c8303c86778afe415ead3c4b8b9def0 0 1795306334000 1 connected
0ce57501f4866791b24260ff0f3e76b3d0166ea3 127.0.0.1:23002@33002 master - 0 1795306334816 2 connected 5461-10922
463f7b76b2da394b7635a202331d7e9fa2980ec8 127.0.0.1:23004@33004 slave 4698d9527ba0fa8c4f9fbde05f85c84af5c4a6e8 0 1795306333800 3 connected
8e0b1f2f6c8303c86778afe415ead3c4b8b9def0 127.0.0.1:23001@33001 myself,master - 0 1795306332000 1 connected 0-5460
7cf141a31a432b2b177d271bbf19889e34e11aa7 127.0.0.1:23007@33007 slave,fail 0ce57501f4866791b24260ff0f3e76b3d0166ea3 1795306316680 1795306313661 2 disconnected
`;

const REDIS70_HANDSHAKE = `3983f14172a5e0e3c29d7824ec8270b0929c5a38 127.0.0.1:23099@33099 handshake - 0 0 0 disconnected
8e0b1f2f6c8303c86778afe415ead3c4b8b9def0 127.0.0.1:23001@33001 myself,master - 0 1795306312000 1 connected 0-16383
`;

/** A node that never met another one does not know its own ip. */
const REDIS70_FRESH = `0a97fd82322ef5efbd4b7ef1dbdfc01128bfab35 :23001@33001 myself,master - 0 0 0 connected
`;

const VALKEY80_REPLICA_VIEW = `b0f6d19abd6732a51f29c44d490a08af7b8180c2 127.0.0.1:23014@33014 myself,slave 00bbcfba4fee930fdc0eba4bd42a6566807f43a5 0 0 3 connected
00bbcfba4fee930fdc0eba4bd42a6566807f43a5 127.0.0.1:23013@33013 master - 0 1795306308082 3 connected 10923-16383
dd703910926d32462432cf187b45a0a26af42d03 127.0.0.1:23011@33011 master - 0 1795306309089 1 connected 0-5460
898b4ea5aa03f02fc05798ef3af82f91699b14b1 127.0.0.1:23015@33015 slave dd703910926d32462432cf187b45a0a26af42d03 0 1795306310094 1 connected
4507d02543994d7c469fc4c6fe0b3ceb497c5841 127.0.0.1:23016@33016 slave 6ea09f303d6a08967b94ff9f1546f7cc51610929 0 1795306308000 2 connected
6ea09f303d6a08967b94ff9f1546f7cc51610929 127.0.0.1:23012@33012 master - 0 1795306310000 2 connected 5461-10922
`;

const VALKEY80_MIGRATING_SOURCE = `dd703910926d32462432cf187b45a0a26af42d03 127.0.0.1:23011@33011 myself,master - 0 0 1 connected 0-5460 [100->-6ea09f303d6a08967b94ff9f1546f7cc51610929]
6ea09f303d6a08967b94ff9f1546f7cc51610929 127.0.0.1:23012@33012 master - 0 1795306310000 2 connected 5461-10922
`;

const VALKEY80_IMPORTING_TARGET = `6ea09f303d6a08967b94ff9f1546f7cc51610929 127.0.0.1:23012@33012 myself,master - 0 0 2 connected 5461-10922 [100-<-dd703910926d32462432cf187b45a0a26af42d03]
dd703910926d32462432cf187b45a0a26af42d03 127.0.0.1:23011@33011 master - 0 1795306309000 1 connected 0-5460
`;

const VALKEY80_FAIL_LINE = `4507d02543994d7c469fc4c6fe0b3ceb497c5841 127.0.0.1:23016@33016 slave,fail 6ea09f303d6a08967b94ff9f1546f7cc51610929 1795306316443 1795306311405 2 disconnected`;

const INFO_OK = `cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:6\r\ncluster_size:3\r\ncluster_current_epoch:6\r\ncluster_my_epoch:3\r\n`;

// ---------------------------------------------------------------------------------
// Helpers

const R = {
  p1: '8e0b1f2f6c8303c86778afe415ead3c4b8b9def0',
  p2: '0ce57501f4866791b24260ff0f3e76b3d0166ea3',
  p3: '4698d9527ba0fa8c4f9fbde05f85c84af5c4a6e8',
  r1: '33b02ad131e8aeff034835b606dc79bf3c9b148b',
  r2: '7cf141a31a432b2b177d271bbf19889e34e11aa7',
  r3: '463f7b76b2da394b7635a202331d7e9fa2980ec8',
};

/** The same CLUSTER NODES text as node `id` would print it. */
function asSeenBy(text: string, id: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(' myself,', ' '))
    .map((l) => (l.startsWith(`${id} `) ? l.replace(/^(\S+ \S+ )/, '$1myself,') : l))
    .join('\n');
}

function view(text: string, info = INFO_OK, shards?: string[][]): NodeView {
  const nodes = parseClusterNodes(text);
  const self = nodes.find((r) => r.myself);
  assert.ok(self, 'fixture has a myself line');
  return { addr: { host: '127.0.0.1', port: self.port }, reachable: true, myId: self.id, nodes, info: parseClusterInfo(info), shards };
}

/** Every node's view of an agreeing cluster. */
function allViews(text: string): NodeView[] {
  return parseClusterNodes(text).map((r) => view(asSeenBy(text, r.id)));
}

/** Replaces the view of node `id`. */
function replace(views: NodeView[], id: string, v: NodeView): NodeView[] {
  return views.map((x) => (x.reachable && x.myId === id ? v : x));
}

function byId(records: ClusterNodeRecord[], id: string): ClusterNodeRecord {
  const r = records.find((x) => x.id === id);
  assert.ok(r, `record ${id}`);
  return r;
}

// ---------------------------------------------------------------------------------

describe('parseClusterNodes', () => {
  test('Redis 7.0: primaries, replicas, slots, epochs, links, myself', () => {
    const nodes = parseClusterNodes(REDIS70_PRIMARY_VIEW);
    assert.equal(nodes.length, 6);
    const me = byId(nodes, R.p1);
    assert.deepEqual(
      { myself: me.myself, role: me.role, primaryId: me.primaryId, host: me.host, port: me.port, busPort: me.busPort, configEpoch: me.configEpoch, linkState: me.linkState, slots: me.slots },
      { myself: true, role: 'primary', primaryId: null, host: '127.0.0.1', port: 23001, busPort: 33001, configEpoch: 1, linkState: 'connected', slots: [{ start: 0, end: 5460 }] },
    );
    const rep = byId(nodes, R.r1);
    assert.equal(rep.role, 'replica');
    assert.equal(rep.primaryId, R.p1);
    assert.deepEqual(rep.slots, []);
    assert.deepEqual(rep.flags, ['slave']);
    assert.equal(nodes.filter((n) => n.role === 'primary').reduce((n, p) => n + slotsIn(p.slots), 0), SLOT_COUNT);
  });

  test('Valkey 8.0 writes the same format (seen from a replica; pong 0 for itself)', () => {
    const nodes = parseClusterNodes(VALKEY80_REPLICA_VIEW);
    assert.equal(nodes.length, 6);
    const me = nodes.find((n) => n.myself);
    assert.equal(me?.role, 'replica');
    assert.equal(me?.primaryId, '00bbcfba4fee930fdc0eba4bd42a6566807f43a5');
    assert.equal(me?.pongReceivedMs, 0);
  });

  test('migrating and importing markers, both versions', () => {
    const src = byId(parseClusterNodes(REDIS70_MIGRATING_SOURCE), R.p1);
    assert.deepEqual(src.migrating, [{ slot: 100, peerId: R.p2 }, { slot: 5000, peerId: R.p2 }]);
    assert.deepEqual(src.slots, [{ start: 0, end: 5460 }], 'markers are not slot ranges');
    const dst = byId(parseClusterNodes(REDIS70_IMPORTING_TARGET), R.p2);
    assert.deepEqual(dst.importing, [{ slot: 100, peerId: R.p1 }]);
    const vsrc = parseClusterNodes(VALKEY80_MIGRATING_SOURCE).find((n) => n.myself);
    assert.deepEqual(vsrc?.migrating, [{ slot: 100, peerId: '6ea09f303d6a08967b94ff9f1546f7cc51610929' }]);
    const vdst = parseClusterNodes(VALKEY80_IMPORTING_TARGET).find((n) => n.myself);
    assert.deepEqual(vdst?.importing, [{ slot: 100, peerId: 'dd703910926d32462432cf187b45a0a26af42d03' }]);
  });

  test('fail, pfail (fail?), handshake, noaddr flags; a fresh node without ip', () => {
    assert.deepEqual(byId(parseClusterNodes(REDIS70_FAIL), R.r2).flags, ['slave', 'fail']);
    assert.deepEqual(parseClusterNodes(VALKEY80_FAIL_LINE)[0]?.flags, ['slave', 'fail']);
    const pfail = VALKEY80_FAIL_LINE.replace('slave,fail', 'slave,fail?');
    assert.deepEqual(parseClusterNodes(pfail)[0]?.flags, ['slave', 'pfail']);
    const hs = parseClusterNodes(REDIS70_HANDSHAKE)[0];
    assert.deepEqual(hs?.flags, ['handshake']);
    assert.equal(hs?.linkState, 'disconnected');
    const noaddr = parseClusterNodes(`${R.p3} :0@0 master,noaddr - 1 1 3 disconnected 10923-16383`)[0];
    assert.deepEqual(noaddr?.flags, ['master', 'noaddr']);
    const fresh = parseClusterNodes(REDIS70_FRESH)[0];
    assert.equal(fresh?.host, '');
    assert.equal(fresh?.port, 23001);
  });

  test('hostname, IPv6, single slots, unknown flags of newer servers', () => {
    const [a] = parseClusterNodes(`${R.p1} 10.0.0.5:7000@17000,node-a.example myself,master,nofailover,someflag - 0 0 1 connected 0 2-3 5`);
    assert.equal(a?.hostname, 'node-a.example');
    assert.deepEqual(a?.flags, ['myself', 'master', 'nofailover']);
    assert.deepEqual(a?.slots, [{ start: 0, end: 0 }, { start: 2, end: 3 }, { start: 5, end: 5 }]);
    const [b] = parseClusterNodes(`${R.p2} ::1:7001@17001 master - 0 0 2 connected`);
    assert.equal(b?.host, '::1');
    assert.equal(b?.port, 7001);
  });

  test('a malformed line is refused with the line in the message', () => {
    assert.throws(() => parseClusterNodes('not a cluster nodes line'), /cannot parse CLUSTER NODES line "not a cluster nodes line"/);
    assert.throws(() => parseClusterNodes(`${R.p1} 127.0.0.1:1@2 master - 0 0 1 connected 16384`), /bad slot range/);
  });
});

describe('parseClusterInfo, parseClusterShards, slot ranges', () => {
  test('CLUSTER INFO', () => {
    const info = parseClusterInfo(INFO_OK);
    assert.equal(info.state, 'ok');
    assert.equal(info.slotsAssigned, 16384);
    assert.equal(info.knownNodes, 6);
    assert.equal(parseClusterInfo('cluster_state:fail\r\n').state, 'fail');
  });

  test('CLUSTER SHARDS (RESP2 nested arrays) → node ids per shard', () => {
    const reply = [
      ['slots', [0, 16383], 'nodes', [['id', R.p1, 'port', 23001, 'role', 'master'], ['id', R.r1, 'port', 23005, 'role', 'replica']]],
      ['slots', [], 'nodes', [['id', R.r2, 'port', 23007, 'role', 'replica']]],
    ];
    assert.deepEqual(parseClusterShards(reply), [[R.p1, R.r1], [R.r2]]);
    assert.deepEqual(parseClusterShards('nonsense'), []);
  });

  test('ranges', () => {
    assert.deepEqual(normalRanges([{ start: 5, end: 9 }, { start: 0, end: 4 }, { start: 20, end: 30 }]), [
      { start: 0, end: 9 },
      { start: 20, end: 30 },
    ]);
    assert.deepEqual(slotsToRanges([3, 1, 2, 7]), [{ start: 1, end: 3 }, { start: 7, end: 7 }]);
  });
});

describe('judgeAgreement', () => {
  test('every node of a recorded 3×1 cluster (Redis 7.0) agrees', () => {
    const j = judgeAgreement(allViews(REDIS70_PRIMARY_VIEW));
    assert.deepEqual(j.disagreements, []);
    assert.equal(j.agreed, true);
    assert.equal(j.unassignedSlots, 0);
    assert.equal(j.topology.nodes.length, 6);
    assert.equal(slotOwners(j.topology)[5461], R.p2);
  });

  test('every node of a recorded 3×1 cluster (Valkey 8.0) agrees, shards consistent', () => {
    const text = VALKEY80_REPLICA_VIEW;
    const nodes = parseClusterNodes(text);
    const shards = nodes
      .filter((n) => n.role === 'primary')
      .map((p) => [p.id, ...nodes.filter((n) => n.primaryId === p.id).map((n) => n.id)]);
    const j = judgeAgreement(nodes.map((r) => view(asSeenBy(text, r.id), INFO_OK, shards)));
    assert.deepEqual(j.disagreements, []);
  });

  test('trap 1: one node still sees a replica as a slotless primary', () => {
    const stale = asSeenBy(REDIS70_PRIMARY_VIEW, R.p3).replace(`${R.r1} 127.0.0.1:23005@33005 slave ${R.p1}`, `${R.r1} 127.0.0.1:23005@33005 master -`);
    const j = judgeAgreement(replace(allViews(REDIS70_PRIMARY_VIEW), R.p3, view(stale)));
    assert.equal(j.agreed, false);
    assert.ok(j.disagreements.some((d) => d.includes('views of node 33b02ad1') && d.includes('primary with no slots') && d.includes('replica of 8e0b1f2f')), j.disagreements.join('\n'));
  });

  test('a node that does not know another one, and one that knows only itself', () => {
    const without = asSeenBy(REDIS70_PRIMARY_VIEW, R.p2).split('\n').filter((l) => !l.startsWith(R.r2)).join('\n');
    const j = judgeAgreement(replace(allViews(REDIS70_PRIMARY_VIEW), R.p2, view(without)));
    assert.ok(j.disagreements.some((d) => /node 7cf141a3… \(127.0.0.1:23007\) is not known to node 0ce57501…/.test(d)), j.disagreements.join('\n'));
    const alone = judgeAgreement([...allViews(REDIS70_PRIMARY_VIEW), view(`${'a'.repeat(40)} 127.0.0.1:23999@33999 myself,master - 0 0 0 connected`)]);
    assert.ok(alone.disagreements.some((d) => d.includes('is not known to')));
  });

  test('fail, handshake and missing links are disagreements', () => {
    const fail = judgeAgreement([view(REDIS70_FAIL)]);
    assert.ok(fail.disagreements.some((d) => d.includes('in state fail')));
    assert.ok(fail.disagreements.some((d) => d.includes('has no link to node 7cf141a3…')));
    const hs = judgeAgreement([view(REDIS70_HANDSHAKE)]);
    assert.ok(hs.disagreements.some((d) => d.includes('in state handshake')), hs.disagreements.join('\n'));
    assert.equal(hs.topology.nodes.length, 1, 'handshake entries are not members');
  });

  test('open slots are disagreements unless allowed (the move operations resume them)', () => {
    const views = [view(REDIS70_MIGRATING_SOURCE), view(REDIS70_IMPORTING_TARGET), view(asSeenBy(REDIS70_IMPORTING_TARGET, R.p3))];
    const strict = judgeAgreement(views);
    assert.ok(strict.disagreements.some((d) => d.includes('slot 100 migrating to 0ce57501…')));
    assert.ok(strict.disagreements.some((d) => d.includes('slot 100 importing from 8e0b1f2f…')));
    assert.equal(judgeAgreement(views, { allowOpenSlots: true }).agreed, true);
    const merged = mergeTopology(views);
    assert.deepEqual(merged.nodes.find((n) => n.id === R.p1)?.migrating.map((m) => m.slot), [100, 5000]);
  });

  test('cluster_state:fail with every slot assigned is a disagreement; partial coverage is not', () => {
    const failing = view(asSeenBy(REDIS70_PRIMARY_VIEW, R.p3), INFO_OK.replace('cluster_state:ok', 'cluster_state:fail'));
    const j = judgeAgreement(replace(allViews(REDIS70_PRIMARY_VIEW), R.p3, failing));
    assert.ok(j.disagreements.some((d) => d.includes('cluster_state:fail although all 16384 slots are assigned')));
    // Tolerated for a node named in stateNotRequiredOf (a slotless primary that just joined), for no other.
    const views = replace(allViews(REDIS70_PRIMARY_VIEW), R.p3, failing);
    assert.equal(judgeAgreement(views, { stateNotRequiredOf: new Set([R.p3]) }).agreed, true);
    assert.equal(judgeAgreement(views, { stateNotRequiredOf: new Set([R.p1]) }).agreed, false);
    // Two empty primaries that met: nothing assigned, state fail, yet they agree.
    const empty = `${'b'.repeat(40)} 127.0.0.1:24001@34001 myself,master - 0 0 1 connected\n${'c'.repeat(40)} 127.0.0.1:24002@34002 master - 0 0 2 connected\n`;
    const fail = 'cluster_state:fail\r\n';
    const e = judgeAgreement([view(empty, fail), view(asSeenBy(empty, 'c'.repeat(40)), fail)]);
    assert.equal(e.agreed, true, e.disagreements.join('\n'));
    assert.equal(e.unassignedSlots, SLOT_COUNT);
  });

  test('a fresh node that does not know its own address is not agreed (clients would get no endpoint)', () => {
    const j = judgeAgreement([view(REDIS70_FRESH.replace('myself,master - 0 0 0 connected', 'myself,master - 0 0 0 connected 0-16383'))]);
    assert.ok(j.disagreements.some((d) => d.includes('does not know its own address')));
  });

  test('Valkey 8: a replica filed under another shard than its primary (no failover to it)', () => {
    const text = VALKEY80_REPLICA_VIEW;
    const nodes = parseClusterNodes(text);
    const good = nodes
      .filter((n) => n.role === 'primary')
      .map((p) => [p.id, ...nodes.filter((n) => n.primaryId === p.id).map((n) => n.id)]);
    const split = [...good.map((s) => s.filter((id) => id !== 'b0f6d19abd6732a51f29c44d490a08af7b8180c2')), ['b0f6d19abd6732a51f29c44d490a08af7b8180c2']];
    const views = nodes.map((r, i) => view(asSeenBy(text, r.id), INFO_OK, i === 0 ? split : good));
    const j = judgeAgreement(views);
    assert.ok(j.disagreements.some((d) => d.includes('files replica node b0f6d19a') && d.includes('another shard')), j.disagreements.join('\n'));
  });

  test('an unreachable node is a disagreement that names it and the cause', () => {
    const views: NodeView[] = [
      ...allViews(REDIS70_PRIMARY_VIEW),
      {
        addr: { host: '127.0.0.1', port: 23009 },
        reachable: false,
        error: redisOpError({ op: 'observeCluster', reason: 'UNREACHABLE', detail: 'cannot reach the node (ECONNREFUSED)', action: 'start it' }),
      },
    ];
    const j = judgeAgreement(views);
    assert.deepEqual(j.disagreements, ['node (127.0.0.1:23009) is unreachable: cannot reach the node (ECONNREFUSED)']);
  });

  test('withoutStrangers: a lone reset node and a stopped, forgotten address are not members; a lone node before formation is', () => {
    const members = allViews(REDIS70_PRIMARY_VIEW);
    const reset = view(`${'a'.repeat(40)} 127.0.0.1:23999@33999 myself,master - 0 0 0 connected`);
    const stopped: NodeView = {
      addr: { host: '127.0.0.1', port: 23998 },
      reachable: false,
      error: redisOpError({ op: 'observeCluster', reason: 'UNREACHABLE', detail: 'cannot reach the node (ECONNREFUSED)', action: 'start it' }),
    };
    const down: NodeView = { ...stopped, addr: { host: '127.0.0.1', port: 23007 } }; // a member (r2) that is down
    const kept = withoutStrangers([...members, reset, stopped, down]);
    assert.deepEqual(
      kept.map((v) => v.addr.port),
      [...members.map((v) => v.addr.port), 23007],
      'the reset node and the unlisted address are left out; a member that is down is kept',
    );
    const j = judgeAgreement(withoutStrangers([...members, reset, stopped]));
    assert.deepEqual(j.disagreements, []);
    // Nodes that all know only themselves: a cluster being formed; nothing is left out.
    const fresh = [reset, view(`${'b'.repeat(40)} 127.0.0.1:23997@33997 myself,master - 0 0 0 connected`)];
    assert.equal(withoutStrangers(fresh).length, 2);
    // A lone node the members know (it has just met them) is kept.
    const known = view(`${R.r2} 127.0.0.1:23007@33007 myself,master - 0 0 0 connected`);
    assert.equal(withoutStrangers([...members.filter((v) => v.reachable && v.myId !== R.r2), known]).length, members.length);
  });

  test('withoutFailed: a member down and flagged fail by every node that lists it is left out; one only suspected (fail?) is not', () => {
    const flag = (flags: string) => (text: string): string =>
      text
        .split('\n')
        .map((l) => (l.startsWith(`${R.r2} `) ? l.replace(' slave ', ` slave,${flags} `) : l))
        .join('\n');
    const down: NodeView = {
      addr: { host: '127.0.0.1', port: 23007 },
      reachable: false,
      error: redisOpError({ op: 'observeCluster', reason: 'UNREACHABLE', detail: 'cannot reach the node (ECONNREFUSED)', action: 'start it' }),
    };
    const others = parseClusterNodes(REDIS70_PRIMARY_VIEW).filter((r) => r.id !== R.r2);
    const failed = [...others.map((r) => view(flag('fail')(asSeenBy(REDIS70_PRIMARY_VIEW, r.id)))), down];
    assert.ok(judgeAgreement(failed).disagreements.length > 0);
    const kept = withoutFailed(failed);
    assert.equal(kept.length, 5, 'its unreachable address is dropped');
    assert.deepEqual(judgeAgreement(kept).disagreements, []);
    assert.equal(judgeAgreement(kept).topology.nodes.length, 5);
    const suspected = [...others.map((r) => view(flag('fail?')(asSeenBy(REDIS70_PRIMARY_VIEW, r.id)))), down];
    assert.equal(withoutFailed(suspected).length, 6, 'fail? is only a suspicion: kept');
    const oneSays = [...others.map((r, i) => view((i === 0 ? flag('fail') : flag('fail?'))(asSeenBy(REDIS70_PRIMARY_VIEW, r.id)))), down];
    assert.equal(withoutFailed(oneSays).length, 6, 'kept until every node that lists it flags it fail');
    // A failed primary that still serves slots (no failover yet) is a real gap: kept.
    const primaryDown: NodeView = { ...down, addr: { host: '127.0.0.1', port: 23003 } };
    const flagP3 = (text: string): string =>
      text
        .split('\n')
        .map((l) => (l.startsWith(`${R.p3} `) ? l.replace(' master ', ' master,fail ') : l))
        .join('\n');
    const withoutP3 = parseClusterNodes(REDIS70_PRIMARY_VIEW).filter((r) => r.id !== R.p3);
    assert.equal(withoutFailed([...withoutP3.map((r) => view(flagP3(asSeenBy(REDIS70_PRIMARY_VIEW, r.id)))), primaryDown]).length, 6);
  });

  test('mergeTopology prefers what a node says about itself', () => {
    // r1 says it is primary (just promoted); the others have not heard yet.
    const promoted = asSeenBy(REDIS70_PRIMARY_VIEW, R.r1)
      .replace(`${R.r1} 127.0.0.1:23005@33005 myself,slave ${R.p1}`, `${R.r1} 127.0.0.1:23005@33005 myself,master -`)
      .replace(/(33b02ad131e8aeff034835b606dc79bf3c9b148b .* connected)$/m, '$1 0-5460');
    const t = mergeTopology(replace(allViews(REDIS70_PRIMARY_VIEW), R.r1, view(promoted)));
    assert.equal(t.nodes.find((n) => n.id === R.r1)?.role, 'primary');
    assert.equal(t.nodes.find((n) => n.id === R.r1)?.slotCount, 5461);
  });
});

describe('topologyDigest', () => {
  const digestOf = (text: string): string => topologyDigest(parseClusterNodes(text));

  test('every node of an agreeing cluster has the same digest (Redis 7.0 and Valkey 8.0); 16 hex digits', () => {
    for (const text of [REDIS70_PRIMARY_VIEW, VALKEY80_REPLICA_VIEW]) {
      const digests = parseClusterNodes(text).map((r) => digestOf(asSeenBy(text, r.id)));
      assert.equal(new Set(digests).size, 1, 'all views give one digest');
      assert.match(digests[0] ?? '', /^[0-9a-f]{16}$/);
    }
    assert.notEqual(digestOf(REDIS70_PRIMARY_VIEW), digestOf(VALKEY80_REPLICA_VIEW));
  });

  test('addresses, epochs, ping/pong times, link state, line order, pfail, handshakes and slot markers do not count', () => {
    const base = digestOf(REDIS70_PRIMARY_VIEW);
    const lines = REDIS70_PRIMARY_VIEW.trim().split('\n');
    const noisy = lines
      .map((l) => {
        const f = l.split(' ');
        f[1] = (f[1] ?? '').replace('127.0.0.1', '10.1.2.3'); // address
        f[4] = '123'; // ping sent
        f[5] = '456'; // pong received
        f[6] = '99'; // config epoch
        if (!(f[2] ?? '').includes('myself')) f[7] = 'disconnected';
        return f.join(' ');
      })
      .reverse();
    assert.equal(digestOf(noisy.join('\n')), base);
    const pfail = REDIS70_PRIMARY_VIEW.replace(`${R.r2} 127.0.0.1:23007@33007 slave `, `${R.r2} 127.0.0.1:23007@33007 slave,fail? `);
    assert.notEqual(pfail, REDIS70_PRIMARY_VIEW);
    assert.equal(digestOf(pfail), base, 'pfail is one node\'s suspicion: no change');
    const handshake = `${REDIS70_PRIMARY_VIEW}3983f14172a5e0e3c29d7824ec8270b0929c5a38 127.0.0.1:23099@33099 handshake - 0 0 0 disconnected\n`;
    assert.equal(digestOf(handshake), base);
    const marker = REDIS70_PRIMARY_VIEW.replace('connected 0-5460', `connected 0-5460 [100->-${R.p2}]`);
    assert.equal(digestOf(marker), base, 'a half-moved slot still belongs to its owner');
  });

  test('a failed node, a role, a primary, a slot or a member that differs changes the digest', () => {
    const base = digestOf(REDIS70_PRIMARY_VIEW);
    assert.equal(digestOf(asSeenBy(REDIS70_FAIL, R.p1)), digestOf(REDIS70_FAIL));
    assert.notEqual(digestOf(REDIS70_FAIL), base, 'r2 flagged fail');
    // Trap 1: a replica still seen as a slotless primary.
    const stale = REDIS70_PRIMARY_VIEW.replace(`${R.r1} 127.0.0.1:23005@33005 slave ${R.p1}`, `${R.r1} 127.0.0.1:23005@33005 master -`);
    assert.notEqual(digestOf(stale), base);
    const otherPrimary = REDIS70_PRIMARY_VIEW.replace(`${R.r1} 127.0.0.1:23005@33005 slave ${R.p1}`, `${R.r1} 127.0.0.1:23005@33005 slave ${R.p2}`);
    assert.notEqual(digestOf(otherPrimary), base);
    const moved = REDIS70_PRIMARY_VIEW.replace('connected 0-5460', 'connected 0-5459').replace('connected 5461-10922', 'connected 5460-10922');
    assert.notEqual(digestOf(moved), base);
    const fewer = REDIS70_PRIMARY_VIEW.split('\n').filter((l) => !l.startsWith(R.r3)).join('\n');
    assert.notEqual(digestOf(fewer), base, 'a node one view does not know');
  });
});

describe('failedMembers', () => {
  const failedOf = (text: string): string[] => failedMembers(parseClusterNodes(text));
  // A removed node that gossip kept: a slotless primary every member flags fail.
  const GHOST = 'ffee0000000000000000000000000000000000aa';
  const GHOST2 = '0011000000000000000000000000000000000bb1';
  const ghostLine = (id: string, flags: string, slots = ''): string =>
    `${id} 127.0.0.1:23042@33042 ${flags} - 1795306316680 1795306313661 0 disconnected${slots}\n`;

  test('none in a healthy cluster', () => {
    assert.deepEqual(failedOf(REDIS70_PRIMARY_VIEW), []);
    assert.deepEqual(failedOf(VALKEY80_REPLICA_VIEW), []);
    assert.deepEqual(failedOf(REDIS70_FRESH), []);
  });

  test('the members flagged fail that serve no slot, sorted: slotless primaries and replicas', () => {
    assert.deepEqual(failedOf(REDIS70_FAIL), [R.r2], 'a failed replica serves no slot');
    assert.deepEqual(failedOf(REDIS70_PRIMARY_VIEW + ghostLine(GHOST, 'master,fail')), [GHOST]);
    assert.deepEqual(failedOf(REDIS70_FAIL + ghostLine(GHOST, 'master,fail') + ghostLine(GHOST2, 'master,fail,noaddr')), [GHOST2, R.r2, GHOST].sort());
    // The same from every member that flags it.
    for (const id of [R.p1, R.p2, R.p3, R.r1]) assert.deepEqual(failedOf(asSeenBy(REDIS70_FAIL, id)), [R.r2]);
  });

  test('a node flagged only fail? (pfail) too: a ghost one member alone still knows never becomes fail', () => {
    assert.deepEqual(failedOf(REDIS70_PRIMARY_VIEW + ghostLine(GHOST, 'slave,fail?')), [GHOST]);
    assert.deepEqual(failedOf(REDIS70_PRIMARY_VIEW + ghostLine(GHOST, 'master,fail?', ' 16000-16383')), [], 'unless it serves slots');
  });

  test('not one that serves slots, not the node itself, not a handshake entry', () => {
    assert.deepEqual(failedOf(REDIS70_PRIMARY_VIEW.replace(`${R.p3} 127.0.0.1:23003@33003 master `, `${R.p3} 127.0.0.1:23003@33003 master,fail `)), [], 'a failed primary that still serves slots');
    assert.deepEqual(failedOf(REDIS70_PRIMARY_VIEW + ghostLine(GHOST, 'master,fail', ' 16000-16383')), [], 'a failed primary that still serves slots');
    assert.deepEqual(failedOf(asSeenBy(REDIS70_FAIL, R.r2)), [], 'the node itself');
    assert.deepEqual(failedOf(REDIS70_PRIMARY_VIEW + ghostLine(GHOST, 'handshake,fail')), [], 'a handshake entry has a temporary id');
  });
});
