// The manifest of a Redis Cluster backup, the names inside a backup, what an RDB file
// says about itself, and which server can load which backup. Pure: no I/O.
//
// A backup `<id>` in a sink is
//   <id>/<nodeGroupIndex>-<primaryId>.rdb   one RDB snapshot per node group
//   <id>/manifest.json                      written last; a backup without it is incomplete
// The manifest is schema-versioned (`kind` + `schemaVersion`). A reader refuses a newer
// schema version instead of guessing; a newer writer keeps every field of version 1.
import { ENGINES } from '../../../desired-state/catalogue.ts';
import type { EngineVersionInfo } from '../../../desired-state/catalogue.ts';
import { DataLossError, FailedPreconditionError, InvalidArgumentError } from '../../../proto/status.ts';
import type { SlotRange } from '../../../common/slot-ranges.ts';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_KIND = 'coxswain/redis-cluster-backup';
export const MANIFEST_SCHEMA_VERSION = 1;

// ---------------------------------------------------------------------------------
// Backup ids and file names

/** A DNS-1123 label, as the desired state's `backups[].id`. */
const BACKUP_ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Checks a backup id and returns it. An id is a DNS-1123 label (the desired state's
 * rule), which also keeps it one segment inside the sink: "/", "\\" and ".." are
 * refused with a message that says so. Throws INVALID_ARGUMENT on "backupId".
 */
export function checkBackupId(id: string): string {
  if (BACKUP_ID.test(id)) return id;
  const shown = JSON.stringify(id);
  if (id.includes('/') || id.includes('\\') || id.includes('..')) {
    throw new InvalidArgumentError(
      'backupId',
      `${shown} is refused: a backup id must not contain "/", "\\" or ".." (it would name a place outside the backup's own directory in the sink); use a DNS-1123 label such as "nightly-2024-05-01"`,
    );
  }
  throw new InvalidArgumentError(
    'backupId',
    `${shown} is not a valid backup id: use a DNS-1123 label (1–63 lower-case letters, digits and "-", starting and ending with a letter or digit)`,
  );
}

/** "<id>/" — the prefix of everything of one backup. */
export function backupPrefix(id: string): string {
  return `${checkBackupId(id)}/`;
}

export function manifestKey(id: string): string {
  return `${backupPrefix(id)}${MANIFEST_FILE}`;
}

/** "<index>-<primaryId>.rdb" */
export function rdbFileName(nodeGroupIndex: number, primaryId: string): string {
  if (!/^[0-9a-f]{40}$/.test(primaryId)) {
    throw new InvalidArgumentError('primaryId', `${JSON.stringify(primaryId)} is not a cluster node id (40 hex digits)`);
  }
  return `${nodeGroupIndex}-${primaryId}.rdb`;
}

// ---------------------------------------------------------------------------------
// The manifest

/** A server as INFO server reports it, with the catalogue version it belongs to. */
export interface ServerVersion {
  /** "Redis" or "Valkey". */
  product: string;
  /** Full version, e.g. "7.0.15", "8.0.1". */
  version: string;
  /** The catalogue's version ("7.0", "8.0"), or null when the catalogue does not list it. */
  catalogueVersion: string | null;
}

export interface BackupFileRecord {
  /** Name inside the backup, e.g. "0-<primaryId>.rdb". */
  name: string;
  bytes: number;
  /** SHA-256 of the file, lower-case hex. */
  sha256: string;
}

export interface NodeGroupRecord {
  /** Position in the backup: node groups ordered by their lowest slot. */
  index: number;
  primaryId: string;
  /** host:port of the primary when the backup was taken (for people; restore ignores it). */
  primaryAddr: string;
  replicas: number;
  /** Slots the primary owned, sorted and merged. */
  slots: SlotRange[];
  slotCount: number;
  /** Keys in the snapshot. */
  keys: number;
  /** Keys with a time to live in the snapshot, when known. */
  keysWithExpiry: number | null;
  /**
   * Where `keys` comes from: "rdb" = the snapshot's own count (exact); "dbsize" = DBSIZE
   * right after the save (exact only when nobody wrote meanwhile).
   */
  keysSource: 'rdb' | 'dbsize';
  server: ServerVersion;
  /** RDB format version of the file ("REDIS0010" → 10). */
  rdbVersion: number;
  /** When the snapshot was taken (the save's LASTSAVE), ISO 8601. */
  savedAt: string;
  file: BackupFileRecord;
}

export interface BackupManifest {
  kind: typeof MANIFEST_KIND;
  schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  backupId: string;
  engine: 'redis';
  /** The newest server among the primaries: a restore target must load its RDB format. */
  server: ServerVersion;
  /** The highest RDB format version among the files. */
  rdbVersion: number;
  startedAt: string;
  finishedAt: string;
  /** What the snapshot guarantees, in words (see backup.ts). */
  consistency: string;
  nodeGroups: NodeGroupRecord[];
  totals: { nodeGroups: number; keys: number; bytes: number };
}

export const CONSISTENCY_TEXT =
  "per node group: each RDB is a point-in-time snapshot of its primary's slots; the points of different node groups differ by milliseconds (no cross-shard atomicity)";

/** The manifest as stored: stable key order, two-space indent, final newline. */
export function serializeManifest(m: BackupManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

type Json = unknown;

class ManifestShapeError extends Error {}

function obj(v: Json, where: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ManifestShapeError(`${where} is not an object`);
  return v as Record<string, Json>;
}
function str(o: Record<string, Json>, k: string, where: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new ManifestShapeError(`${where}.${k} is not a string`);
  return v;
}
function int(o: Record<string, Json>, k: string, where: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ManifestShapeError(`${where}.${k} is not a non-negative integer`);
  return v;
}
function arr(o: Record<string, Json>, k: string, where: string): Json[] {
  const v = o[k];
  if (!Array.isArray(v)) throw new ManifestShapeError(`${where}.${k} is not an array`);
  return v;
}
function server(v: Json, where: string): ServerVersion {
  const o = obj(v, where);
  const cv = o['catalogueVersion'];
  if (cv !== null && typeof cv !== 'string') throw new ManifestShapeError(`${where}.catalogueVersion is neither a string nor null`);
  return { product: str(o, 'product', where), version: str(o, 'version', where), catalogueVersion: cv };
}

/**
 * Parses and checks a manifest. `expectedId` is the id it was read under: a manifest
 * that names another backup was copied or renamed by hand and is refused. A manifest
 * of a newer schema version is FAILED_PRECONDITION (upgrade Coxswain); anything
 * malformed is DATA_LOSS naming the field.
 */
export function parseManifest(text: string, expectedId: string): BackupManifest {
  let raw: Json;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DataLossError(`the manifest of backup "${expectedId}" is not valid JSON (${(err as Error).message}); the backup is damaged: delete it and take a new one`);
  }
  try {
    const o = obj(raw, 'manifest');
    if (o['kind'] !== MANIFEST_KIND) throw new ManifestShapeError(`kind is ${JSON.stringify(o['kind'])}, not "${MANIFEST_KIND}"`);
    const sv = o['schemaVersion'];
    if (typeof sv === 'number' && sv > MANIFEST_SCHEMA_VERSION) {
      throw new FailedPreconditionError(
        `backup "${expectedId}" has manifest schema version ${sv}; this Coxswain reads up to ${MANIFEST_SCHEMA_VERSION}. Use a newer Coxswain to read it`,
        { reason: 'MANIFEST_TOO_NEW' },
      );
    }
    if (sv !== MANIFEST_SCHEMA_VERSION) throw new ManifestShapeError(`schemaVersion is ${JSON.stringify(sv)}`);
    const backupId = str(o, 'backupId', 'manifest');
    if (backupId !== expectedId) throw new ManifestShapeError(`it names backup "${backupId}"`);
    if (o['engine'] !== 'redis') throw new ManifestShapeError(`engine is ${JSON.stringify(o['engine'])}, not "redis"`);
    const groups = arr(o, 'nodeGroups', 'manifest').map((g, i): NodeGroupRecord => {
      const w = `nodeGroups[${i}]`;
      const go = obj(g, w);
      const slots = arr(go, 'slots', w).map((r, j) => {
        const ro = obj(r, `${w}.slots[${j}]`);
        const start = int(ro, 'start', `${w}.slots[${j}]`);
        const end = int(ro, 'end', `${w}.slots[${j}]`);
        if (end < start || end > 16383) throw new ManifestShapeError(`${w}.slots[${j}] is not a slot range`);
        return { start, end };
      });
      const fo = obj(go['file'], `${w}.file`);
      const file: BackupFileRecord = { name: str(fo, 'name', `${w}.file`), bytes: int(fo, 'bytes', `${w}.file`), sha256: str(fo, 'sha256', `${w}.file`) };
      if (!/^[0-9a-f]{64}$/.test(file.sha256)) throw new ManifestShapeError(`${w}.file.sha256 is not a SHA-256`);
      const primaryId = str(go, 'primaryId', w);
      const index = int(go, 'index', w);
      if (index !== i) throw new ManifestShapeError(`${w}.index is ${index}`);
      if (file.name !== rdbFileName(index, primaryId)) throw new ManifestShapeError(`${w}.file.name is "${file.name}"`);
      const kwe = go['keysWithExpiry'];
      if (kwe !== null && (typeof kwe !== 'number' || !Number.isSafeInteger(kwe))) throw new ManifestShapeError(`${w}.keysWithExpiry is not an integer`);
      const ks = go['keysSource'];
      if (ks !== 'rdb' && ks !== 'dbsize') throw new ManifestShapeError(`${w}.keysSource is ${JSON.stringify(ks)}`);
      return {
        index,
        primaryId,
        primaryAddr: str(go, 'primaryAddr', w),
        replicas: int(go, 'replicas', w),
        slots,
        slotCount: int(go, 'slotCount', w),
        keys: int(go, 'keys', w),
        keysWithExpiry: kwe,
        keysSource: ks,
        server: server(go['server'], `${w}.server`),
        rdbVersion: int(go, 'rdbVersion', w),
        savedAt: str(go, 'savedAt', w),
        file,
      };
    });
    if (groups.length === 0) throw new ManifestShapeError('it lists no node groups');
    const to = obj(o['totals'], 'totals');
    const totals = { nodeGroups: int(to, 'nodeGroups', 'totals'), keys: int(to, 'keys', 'totals'), bytes: int(to, 'bytes', 'totals') };
    if (totals.nodeGroups !== groups.length) throw new ManifestShapeError('totals.nodeGroups does not match nodeGroups');
    if (totals.keys !== groups.reduce((n, g) => n + g.keys, 0)) throw new ManifestShapeError('totals.keys is not the sum of the node groups');
    if (totals.bytes !== groups.reduce((n, g) => n + g.file.bytes, 0)) throw new ManifestShapeError('totals.bytes is not the sum of the files');
    return {
      kind: MANIFEST_KIND,
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      backupId,
      engine: 'redis',
      server: server(o['server'], 'server'),
      rdbVersion: int(o, 'rdbVersion', 'manifest'),
      startedAt: str(o, 'startedAt', 'manifest'),
      finishedAt: str(o, 'finishedAt', 'manifest'),
      consistency: str(o, 'consistency', 'manifest'),
      nodeGroups: groups,
      totals,
    };
  } catch (err) {
    if (!(err instanceof ManifestShapeError)) throw err;
    throw new DataLossError(`the manifest of backup "${expectedId}" is malformed: ${err.message}; the backup is damaged: delete it and take a new one`);
  }
}

// ---------------------------------------------------------------------------------
// What an RDB file says about itself

export interface RdbHeader {
  /** "REDIS0011" → 11. */
  rdbVersion: number;
  /** Auxiliary fields before the data ("redis-ver", "valkey-ver", "ctime", …), as text. */
  aux: Record<string, string>;
  /**
   * Keys and keys with a time to live, from the RESIZEDB record the server writes from
   * its dictionary sizes at the moment of the snapshot; undefined when the header could
   * not be read that far (an unknown record, or more than the bytes given).
   */
  keys: number | undefined;
  expires: number | undefined;
}

const RDB_OPCODE = { FUNCTION2: 0xf5, MODULE_AUX: 0xf7, AUX: 0xfa, RESIZEDB: 0xfb, SELECTDB: 0xfe, EOF: 0xff } as const;

class Truncated extends Error {}

/**
 * Reads the start of an RDB file: magic, format version, aux fields and the first
 * database's RESIZEDB counts (cluster mode has only database 0). Throws DATA_LOSS when
 * the bytes are not an RDB file at all.
 */
export function parseRdbHeader(buf: Buffer, name = 'the file'): RdbHeader {
  const magic = /^(REDIS|VALKEY)(\d{3,4})/.exec(buf.subarray(0, 10).toString('latin1'));
  if (!magic?.[2]) {
    throw new DataLossError(`${name} is not an RDB file: it starts with ${JSON.stringify(buf.subarray(0, 9).toString('latin1'))} instead of "REDIS00nn"`);
  }
  const rdbVersion = Number(magic[2]);
  let pos = magic[0].length;
  const aux: Record<string, string> = {};
  const need = (n: number): void => {
    if (pos + n > buf.length) throw new Truncated();
  };
  const byte = (): number => {
    need(1);
    return buf[pos++] as number;
  };
  /** A length; `encoded` is set for the special string encodings (ints, LZF). */
  const length = (): { n: number; encoded: number | undefined } => {
    const b = byte();
    const type = b >> 6;
    if (type === 0) return { n: b & 0x3f, encoded: undefined };
    if (type === 1) return { n: ((b & 0x3f) << 8) | byte(), encoded: undefined };
    if (type === 3) return { n: 0, encoded: b & 0x3f };
    if (b === 0x80) {
      need(4);
      const n = buf.readUInt32BE(pos);
      pos += 4;
      return { n, encoded: undefined };
    }
    if (b === 0x81) {
      need(8);
      const n = Number(buf.readBigUInt64BE(pos));
      pos += 8;
      return { n, encoded: undefined };
    }
    throw new Truncated(); // unknown length encoding: stop reading, counts unknown
  };
  const string = (): string => {
    const { n, encoded } = length();
    if (encoded === undefined) {
      need(n);
      const s = buf.subarray(pos, pos + n).toString('utf8');
      pos += n;
      return s;
    }
    if (encoded === 0) {
      need(1);
      return String(buf.readInt8(pos++));
    }
    if (encoded === 1) {
      need(2);
      const v = buf.readInt16LE(pos);
      pos += 2;
      return String(v);
    }
    if (encoded === 2) {
      need(4);
      const v = buf.readInt32LE(pos);
      pos += 4;
      return String(v);
    }
    if (encoded === 3) {
      const clen = length().n;
      length(); // uncompressed length
      need(clen);
      pos += clen;
      return '';
    }
    throw new Truncated();
  };
  try {
    for (;;) {
      const op = byte();
      if (op === RDB_OPCODE.AUX) {
        const k = string();
        aux[k] = string();
      } else if (op === RDB_OPCODE.FUNCTION2) {
        string();
      } else if (op === RDB_OPCODE.SELECTDB) {
        length();
      } else if (op === RDB_OPCODE.RESIZEDB) {
        const keys = length().n;
        const expires = length().n;
        return { rdbVersion, aux, keys, expires };
      } else if (op === RDB_OPCODE.EOF) {
        return { rdbVersion, aux, keys: 0, expires: 0 };
      } else {
        // A module aux record, a key without RESIZEDB before it, or something newer.
        return { rdbVersion, aux, keys: undefined, expires: undefined };
      }
    }
  } catch (err) {
    if (err instanceof Truncated) return { rdbVersion, aux, keys: undefined, expires: undefined };
    throw err;
  }
}

// ---------------------------------------------------------------------------------
// Versions and compatibility

/**
 * The newest RDB format the server of each catalogue version loads (and writes).
 * Redis 7.0 writes format 10; Valkey 8.0 writes 11, which Redis 7.0 refuses
 * ("Can't handle RDB format version 11": COMPATIBILITY.md rows 2a/2b, and
 * restore.test.ts on the real servers). Loading is backwards compatible: Valkey 8.0
 * loads format 10 (rows 1a/1b).
 */
export const LOADABLE_RDB_VERSION: Readonly<Record<string, number>> = { '7.0': 10, '8.0': 11 };

/** The catalogue version of a server ("Valkey", "8.0.1" → "8.0"), or null. */
export function catalogueVersionOf(product: string, version: string): string | null {
  const versions: Readonly<Record<string, EngineVersionInfo>> = ENGINES.redis.versions;
  for (const [v, info] of Object.entries(versions)) {
    if (info.product.toLowerCase() === product.toLowerCase() && version.startsWith(`${v}.`)) return v;
  }
  return null;
}

/** The server of an INFO server reply (fields as parsed by topology.ts's parseInfo). */
export function serverVersionFromInfo(info: Record<string, string>): ServerVersion {
  const valkey = info['server_name'] === 'valkey';
  const product = valkey ? 'Valkey' : 'Redis';
  const version = (valkey ? info['valkey_version'] : info['redis_version']) ?? 'unknown';
  return { product, version, catalogueVersion: catalogueVersionOf(product, version) };
}

export type Compatibility = { ok: true } | { ok: false; reason: string; action: string };

/**
 * Whether a cluster running `target` can load the RDB files of `manifest`. Decided by
 * the RDB format: every file's format must be one the target's server loads.
 */
export function restoreCompatibility(manifest: BackupManifest, target: ServerVersion): Compatibility {
  const what = `${target.product} ${target.version}`;
  if (target.catalogueVersion === null) {
    return { ok: false, reason: `the target cluster runs ${what}, which the catalogue does not list`, action: 'restore into a cluster of a catalogue version ("7.0", "8.0")' };
  }
  const loadable = LOADABLE_RDB_VERSION[target.catalogueVersion];
  if (loadable === undefined) {
    return { ok: false, reason: `it is not known which RDB formats ${what} loads`, action: 'add the version to LOADABLE_RDB_VERSION after checking it' };
  }
  const newest = manifest.nodeGroups.reduce((m, g) => Math.max(m, g.rdbVersion), 0);
  if (newest > loadable) {
    const from = manifest.server;
    const hint =
      Object.entries(LOADABLE_RDB_VERSION)
        .filter(([, f]) => f >= newest)
        .map(([v]) => `"${v}"`)
        .join(' or ') || 'a newer version';
    return {
      ok: false,
      reason:
        `backup "${manifest.backupId}" was taken on ${from.product} ${from.version} and its RDB files have format ${newest}; ` +
        `the target cluster runs ${what}, which loads RDB formats up to ${loadable} (an older server cannot read a newer RDB format)`,
      action: `restore it into a cluster of version ${hint}`,
    };
  }
  return { ok: true };
}
