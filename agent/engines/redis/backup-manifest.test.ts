// The pure parts of backups: ids, the manifest, RDB headers and version compatibility.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentCallError, DataLossError, FailedPreconditionError, InvalidArgumentError } from '../../../proto/status.ts';
import {
  CONSISTENCY_TEXT,
  LOADABLE_RDB_VERSION,
  MANIFEST_KIND,
  MANIFEST_SCHEMA_VERSION,
  catalogueVersionOf,
  checkBackupId,
  manifestKey,
  parseManifest,
  parseRdbHeader,
  rdbFileName,
  restoreCompatibility,
  serializeManifest,
  serverVersionFromInfo,
} from './backup-manifest.ts';
import type { BackupManifest, NodeGroupRecord } from './backup-manifest.ts';

const ID_A = 'a'.repeat(40);
const ID_B = 'b'.repeat(40);

function group(index: number, primaryId: string, over: Partial<NodeGroupRecord> = {}): NodeGroupRecord {
  return {
    index,
    primaryId,
    primaryAddr: `127.0.0.1:${7000 + index}`,
    replicas: 1,
    slots: index === 0 ? [{ start: 0, end: 8191 }] : [{ start: 8192, end: 16383 }],
    slotCount: 8192,
    keys: 10,
    keysWithExpiry: 2,
    keysSource: 'rdb',
    server: { product: 'Redis', version: '7.0.15', catalogueVersion: '7.0' },
    rdbVersion: 10,
    savedAt: '2024-05-01T00:00:00.000Z',
    file: { name: rdbFileName(index, primaryId), bytes: 100, sha256: 'c'.repeat(64) },
    ...over,
  };
}

function manifest(over: Partial<BackupManifest> = {}): BackupManifest {
  const nodeGroups = over.nodeGroups ?? [group(0, ID_A), group(1, ID_B)];
  return {
    kind: MANIFEST_KIND,
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    backupId: 'nightly',
    engine: 'redis',
    server: { product: 'Redis', version: '7.0.15', catalogueVersion: '7.0' },
    rdbVersion: 10,
    startedAt: '2024-05-01T00:00:00.000Z',
    finishedAt: '2024-05-01T00:00:01.000Z',
    consistency: CONSISTENCY_TEXT,
    totals: {
      nodeGroups: nodeGroups.length,
      keys: nodeGroups.reduce((n, g) => n + g.keys, 0),
      bytes: nodeGroups.reduce((n, g) => n + g.file.bytes, 0),
    },
    ...over,
    nodeGroups,
  };
}

describe('backup ids', () => {
  test('DNS-1123 labels are accepted', () => {
    for (const id of ['a', 'nightly', 'n-2024-05-01', '0', 'x'.repeat(63)]) assert.equal(checkBackupId(id), id);
    assert.equal(manifestKey('nightly'), 'nightly/manifest.json');
  });

  test('path traversal is refused with a message that says so', () => {
    for (const id of ['../x', '..', 'a/b', '/etc', 'a\\b', 'x/../../y']) {
      assert.throws(
        () => checkBackupId(id),
        (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError);
          assert.equal(err.field, 'backupId');
          assert.match(err.message, /must not contain "\/", "\\" or "\.\."/);
          assert.match(err.message, /outside the backup's own directory/);
          return true;
        },
        id,
      );
    }
  });

  test('other bad ids are refused as not DNS-1123 labels', () => {
    for (const id of ['', 'Upper', '-a', 'a-', 'a_b', 'a.b', 'x'.repeat(64)]) {
      assert.throws(() => checkBackupId(id), /not a valid backup id: use a DNS-1123 label/, id);
    }
  });

  test('rdb file names need a real node id', () => {
    assert.equal(rdbFileName(2, ID_A), `2-${ID_A}.rdb`);
    assert.throws(() => rdbFileName(0, '../../x'), InvalidArgumentError);
  });
});

describe('manifest', () => {
  test('round trip', () => {
    const m = manifest();
    const text = serializeManifest(m);
    assert.ok(text.endsWith('\n'));
    assert.deepEqual(parseManifest(text, 'nightly'), m);
  });

  test('a manifest under another id is refused', () => {
    assert.throws(() => parseManifest(serializeManifest(manifest()), 'other'), (err: unknown) => {
      assert.ok(err instanceof DataLossError);
      assert.match(err.message, /names backup "nightly"/);
      return true;
    });
  });

  test('a newer schema version asks for a newer Coxswain', () => {
    const text = JSON.stringify({ ...manifest(), schemaVersion: 2 });
    assert.throws(() => parseManifest(text, 'nightly'), (err: unknown) => {
      assert.ok(err instanceof FailedPreconditionError);
      assert.equal(err.reason, 'MANIFEST_TOO_NEW');
      return true;
    });
  });

  test('malformed manifests are DATA_LOSS naming the field', () => {
    const cases: [string, RegExp][] = [
      ['{', /not valid JSON/],
      [JSON.stringify({ ...manifest(), kind: 'x' }), /kind is "x"/],
      [JSON.stringify({ ...manifest(), totals: { nodeGroups: 2, keys: 999, bytes: 200 } }), /totals.keys/],
      [JSON.stringify(manifest({ nodeGroups: [group(0, ID_A, { file: { name: 'x.rdb', bytes: 1, sha256: 'c'.repeat(64) } })] })), /nodeGroups\[0\]\.file\.name/],
      [JSON.stringify(manifest({ nodeGroups: [group(0, ID_A, { file: { name: rdbFileName(0, ID_A), bytes: 1, sha256: 'xyz' } })] })), /sha256 is not a SHA-256/],
      [JSON.stringify(manifest({ nodeGroups: [group(0, ID_A, { slots: [{ start: 5, end: 2 }] })] })), /slots\[0\] is not a slot range/],
      [JSON.stringify(manifest({ nodeGroups: [] })), /no node groups/],
    ];
    for (const [text, pattern] of cases) {
      assert.throws(() => parseManifest(text, 'nightly'), (err: unknown) => {
        assert.ok(err instanceof DataLossError, String(err));
        assert.match(err.message, pattern);
        assert.match(err.message, /delete it and take a new one/);
        return true;
      });
    }
  });
});

// ---------------------------------------------------------------------------------
// RDB headers, built byte by byte as the servers write them

function len(n: number): Buffer {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0x80;
  b.writeUInt32BE(n, 1);
  return b;
}
const str = (s: string): Buffer => Buffer.concat([len(Buffer.byteLength(s)), Buffer.from(s)]);
const int8 = (v: number): Buffer => Buffer.from([0xc0, v & 0xff]);
const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(5);
  b[0] = 0xc2;
  b.writeInt32LE(v, 1);
  return b;
};
const aux = (k: string, v: Buffer): Buffer => Buffer.concat([Buffer.from([0xfa]), str(k), v]);

describe('RDB headers', () => {
  test('Redis 7.0: aux fields, a function library, SELECTDB and RESIZEDB', () => {
    const buf = Buffer.concat([
      Buffer.from('REDIS0010'),
      aux('redis-ver', str('7.0.15')),
      aux('redis-bits', int8(64)),
      aux('ctime', int32(1_700_000_000)),
      Buffer.from([0xf5]),
      str('#!lua name=mylib\nredis.register_function(...)'),
      Buffer.from([0xfe]),
      len(0),
      Buffer.from([0xfb]),
      len(33_334),
      len(3_333),
      Buffer.from([0x00]), // a string key follows
    ]);
    const h = parseRdbHeader(buf);
    assert.equal(h.rdbVersion, 10);
    assert.equal(h.aux['redis-ver'], '7.0.15');
    assert.equal(h.aux['redis-bits'], '64');
    assert.equal(h.aux['ctime'], '1700000000');
    assert.equal(h.keys, 33_334);
    assert.equal(h.expires, 3_333);
  });

  test('Valkey 8.0: format 11', () => {
    const buf = Buffer.concat([Buffer.from('REDIS0011'), aux('valkey-ver', str('8.0.1')), Buffer.from([0xfe, 0x00, 0xfb, 0x02, 0x01])]);
    const h = parseRdbHeader(buf);
    assert.equal(h.rdbVersion, 11);
    assert.equal(h.aux['valkey-ver'], '8.0.1');
    assert.equal(h.keys, 2);
    assert.equal(h.expires, 1);
  });

  test('an empty data set has no RESIZEDB: 0 keys', () => {
    const h = parseRdbHeader(Buffer.concat([Buffer.from('REDIS0010'), aux('redis-ver', str('7.0.15')), Buffer.from([0xff])]));
    assert.equal(h.keys, 0);
  });

  test('counts are unknown when the header is cut short or has a module record', () => {
    const cut = Buffer.concat([Buffer.from('REDIS0010'), aux('redis-ver', str('7.0.15'))]).subarray(0, 15);
    assert.equal(parseRdbHeader(cut).keys, undefined);
    const mod = Buffer.concat([Buffer.from('REDIS0010'), Buffer.from([0xf7, 0x01])]);
    assert.equal(parseRdbHeader(mod).keys, undefined);
  });

  test('not an RDB file', () => {
    assert.throws(() => parseRdbHeader(Buffer.from('hello world'), 'file x'), (err: unknown) => {
      assert.ok(err instanceof DataLossError);
      assert.match(err.message, /file x is not an RDB file/);
      return true;
    });
  });
});

describe('versions and compatibility', () => {
  test('catalogue versions of servers', () => {
    assert.equal(catalogueVersionOf('Redis', '7.0.15'), '7.0');
    assert.equal(catalogueVersionOf('Valkey', '8.0.1'), '8.0');
    assert.equal(catalogueVersionOf('Redis', '7.2.4'), null);
    assert.equal(catalogueVersionOf('Redis', '8.0.1'), null, 'Redis 8.0 is not Valkey 8.0');
    // Valkey also answers redis_version:7.2.4; server_name decides.
    assert.deepEqual(serverVersionFromInfo({ server_name: 'valkey', redis_version: '7.2.4', valkey_version: '8.0.1' }), {
      product: 'Valkey',
      version: '8.0.1',
      catalogueVersion: '8.0',
    });
    assert.deepEqual(serverVersionFromInfo({ redis_version: '7.0.15' }), { product: 'Redis', version: '7.0.15', catalogueVersion: '7.0' });
  });

  test('every catalogue version has a known RDB format', () => {
    assert.deepEqual(Object.keys(LOADABLE_RDB_VERSION).sort(), ['7.0', '8.0']);
  });

  test('7.0 → 8.0 is fine, 8.0 → 7.0 is refused with the reason and what to do', () => {
    const redis = { product: 'Redis', version: '7.0.15', catalogueVersion: '7.0' };
    const valkey = { product: 'Valkey', version: '8.0.1', catalogueVersion: '8.0' };
    assert.deepEqual(restoreCompatibility(manifest(), valkey), { ok: true });
    assert.deepEqual(restoreCompatibility(manifest(), redis), { ok: true });
    const v8 = manifest({
      server: valkey,
      rdbVersion: 11,
      nodeGroups: [group(0, ID_A, { server: valkey, rdbVersion: 11 })],
    });
    assert.deepEqual(restoreCompatibility(v8, valkey), { ok: true });
    const verdict = restoreCompatibility(v8, redis);
    assert.equal(verdict.ok, false);
    if (verdict.ok) return;
    assert.match(verdict.reason, /taken on Valkey 8\.0\.1 and its RDB files have format 11/);
    assert.match(verdict.reason, /runs Redis 7\.0\.15, which loads RDB formats up to 10/);
    assert.equal(verdict.action, 'restore it into a cluster of version "8.0"');
    const unknown = restoreCompatibility(manifest(), { product: 'Redis', version: '7.2.4', catalogueVersion: null });
    assert.equal(unknown.ok, false);
  });

  test('errors are the agent contract types', () => {
    try {
      checkBackupId('../x');
      assert.fail('expected a throw');
    } catch (err) {
      assert.ok(err instanceof AgentCallError);
      assert.equal(err.kind, 'terminal');
    }
  });
});
