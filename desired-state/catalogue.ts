// The engine catalogue: every engine fact that validation relies on, as data.
// Versions and their binaries, which version changes an engine can make, VM sizes,
// and the engine parameters a user may set (with the kind of value each takes) or
// may not set (because Coxswain owns them, with the reason). Nothing else in
// desired-state/ hard-codes an engine fact; a test keeps this file and the JSON
// Schema's enums in step.
import type { EngineName, EngineVersion, VmType } from './types.ts';

// ───────────────────────────── versions ─────────────────────────────

export interface EngineVersionInfo {
  /** What a person calls it: "Redis", "Valkey". */
  product: string;
  serverBinary: string;
  cliBinary: string;
  /** Debian packages that provide the binaries. */
  debianPackages: readonly string[];
  /** Debian suite the packages come from. */
  suite: string;
}

/** A version change the engine can or cannot make, with the evidence or the reason. */
export type VersionChange =
  | { from: EngineVersion; to: EngineVersion; allowed: true; evidence: string }
  | { from: EngineVersion; to: EngineVersion; allowed: false; reason: string; hint: string };

export interface EngineInfo {
  versions: Readonly<Record<EngineVersion, EngineVersionInfo>>;
  /** Every change between two different versions that is known; any other is refused. */
  versionChanges: readonly VersionChange[];
}

export const ENGINES: Readonly<Record<EngineName, EngineInfo>> = {
  redis: {
    versions: {
      '7.0': {
        product: 'Redis',
        serverBinary: 'redis-server',
        cliBinary: 'redis-cli',
        debianPackages: ['redis-server', 'redis-tools'],
        suite: 'bookworm',
      },
      '8.0': {
        product: 'Valkey',
        serverBinary: 'valkey-server',
        cliBinary: 'valkey-cli',
        debianPackages: ['valkey-server', 'valkey-tools'],
        suite: 'bookworm-backports',
      },
    },
    versionChanges: [
      {
        from: '7.0',
        to: '8.0',
        allowed: true,
        evidence: 'a rolling upgrade Redis 7.0 → Valkey 8.0 ran live with zero client errors (docs/redis-cluster.md)',
      },
      {
        from: '8.0',
        to: '7.0',
        allowed: false,
        reason:
          'Redis 7.0 cannot load the RDB files Valkey 8.0 writes (a newer RDB format), so in a rolling ' +
          'downgrade the 7.0 replicas could not sync from the 8.0 primaries',
        hint: 'keep "version": "8.0"; to run Redis 7.0, create a new cluster on "7.0" and move the data with a client',
      },
    ],
  },
};

export function engineVersions(engine: EngineName): EngineVersion[] {
  return Object.keys(ENGINES[engine].versions) as EngineVersion[];
}

export function engineVersion(engine: EngineName, version: EngineVersion): EngineVersionInfo | undefined {
  return (ENGINES[engine] as EngineInfo | undefined)?.versions[version];
}

export type TransitionVerdict = { ok: true } | { ok: false; reason: string; hint: string };

/** Whether a running cluster of `engine` can move from version `from` to `to`. */
export function versionTransition(engine: EngineName, from: EngineVersion, to: EngineVersion): TransitionVerdict {
  if (from === to) return { ok: true };
  const info = ENGINES[engine] as EngineInfo | undefined;
  const change = info?.versionChanges.find((c) => c.from === from && c.to === to);
  if (change === undefined) {
    return {
      ok: false,
      reason: `no tested way leads from ${engine} ${from} to ${to}`,
      hint: `keep "version": "${from}"`,
    };
  }
  return change.allowed ? { ok: true } : { ok: false, reason: change.reason, hint: change.hint };
}

/** The versions a cluster on `from` may move to next, `from` itself included. */
export function reachableVersions(engine: EngineName, from: EngineVersion): EngineVersion[] {
  return engineVersions(engine).filter((to) => versionTransition(engine, from, to).ok);
}

// ───────────────────────────── VM types ─────────────────────────────

export interface VmTypeInfo {
  cpus: number;
  memoryMiB: number;
}

export const VM_TYPES: Readonly<Record<VmType, VmTypeInfo>> = {
  small: { cpus: 1, memoryMiB: 1024 },
  medium: { cpus: 2, memoryMiB: 4096 },
  large: { cpus: 4, memoryMiB: 16384 },
};

export function vmTypeNames(): VmType[] {
  return Object.keys(VM_TYPES) as VmType[];
}

// ───────────────────────── engine parameters ─────────────────────────

/** The kind of value a parameter takes. */
export type ValueKind =
  /** bytes: an integer, or a number with a unit (256mb, 1gb); Redis's memtoull forms */
  | { kind: 'memory'; minBytes?: number }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'yesno' }
  | { kind: 'enum'; values: readonly string[] }
  /** free text, optionally with a pattern; `forms` says in words what is accepted */
  | { kind: 'string'; pattern?: RegExp; forms?: string };

/** How a change of the parameter reaches the nodes. */
export type ApplyMode = 'live' | 'restart';

export interface SettableParameter {
  name: string;
  value: ValueKind;
  /** 'live': CONFIG SET on each node; 'restart': a rolling restart of the data nodes. */
  apply: ApplyMode;
}

export interface OwnedParameter {
  /** A parameter name, or a prefix ending in '*' ("tls-*"). */
  name: string;
  reason: string;
}

export interface EngineParameters {
  owned: readonly OwnedParameter[];
  settable: readonly SettableParameter[];
}

const INT_MAX = 2_147_483_647;
const MEMORY = { kind: 'memory' } as const;
const YESNO = { kind: 'yesno' } as const;
const int = (min?: number, max?: number): ValueKind => ({
  kind: 'integer',
  ...(min === undefined ? {} : { min }),
  ...(max === undefined ? {} : { max }),
});
const live = (name: string, value: ValueKind): SettableParameter => ({ name, value, apply: 'live' });
const restart = (name: string, value: ValueKind): SettableParameter => ({ name, value, apply: 'restart' });

const ANNOUNCE = 'each node announces the address and ports its agent advertises; Coxswain sets them';
const FILES = 'Coxswain places the data files where its backups, restores and restarts find them';
const CREDENTIALS = 'the credentials between nodes and for clients are managed by Coxswain';

const REDIS_OWNED: readonly OwnedParameter[] = [
  { name: 'port', reason: 'Coxswain assigns each data node its port and records it in the topology' },
  { name: 'bind', reason: 'each node listens on the address its agent advertises; Coxswain sets it' },
  { name: 'cluster-enabled', reason: 'Coxswain runs Redis Cluster, so every node is in cluster mode' },
  { name: 'cluster-config-file', reason: `each node keeps its cluster state in a file Coxswain manages; ${FILES}` },
  { name: 'cluster-port', reason: 'Coxswain assigns the cluster bus port of each node' },
  { name: 'cluster-announce-ip', reason: ANNOUNCE },
  { name: 'cluster-announce-port', reason: ANNOUNCE },
  { name: 'cluster-announce-bus-port', reason: ANNOUNCE },
  { name: 'cluster-announce-hostname', reason: ANNOUNCE },
  { name: 'dir', reason: FILES },
  { name: 'dbfilename', reason: FILES },
  { name: 'appenddirname', reason: FILES },
  { name: 'appendfilename', reason: FILES },
  {
    name: 'daemonize',
    reason: 'the agent runs each server as a supervised child process; "daemonize yes" would detach it from its supervisor',
  },
  { name: 'supervised', reason: 'the agent is the supervisor of each server' },
  { name: 'pidfile', reason: 'the agent tracks each server by its process, not by a pid file' },
  { name: 'logfile', reason: "the agent captures each server's log output" },
  { name: 'unixsocket', reason: 'Coxswain and the agents reach the nodes over TCP only' },
  { name: 'unixsocketperm', reason: 'Coxswain and the agents reach the nodes over TCP only' },
  { name: 'include', reason: 'an included file could override the parameters Coxswain owns' },
  {
    name: 'rename-command',
    reason: 'Coxswain drives the nodes with CONFIG, CLUSTER, FAILOVER and other commands under their own names',
  },
  { name: 'replicaof', reason: 'Coxswain sets up replication inside each node group (CLUSTER REPLICATE)' },
  { name: 'slaveof', reason: 'Coxswain sets up replication inside each node group (CLUSTER REPLICATE)' },
  { name: 'masterauth', reason: CREDENTIALS },
  { name: 'masteruser', reason: CREDENTIALS },
  { name: 'requirepass', reason: CREDENTIALS },
  { name: 'protected-mode', reason: 'Coxswain sets it to fit the address each node listens on' },
  { name: 'tls-*', reason: 'TLS comes with mTLS support in a later version; until then Coxswain owns every tls-* parameter' },
  { name: 'databases', reason: 'Redis Cluster has only database 0' },
  {
    name: 'repl-diskless-sync-delay',
    reason:
      'Coxswain sets it to 0: with the default of 5 s every restarted replica waits before its full resync, ' +
      'and a rolling restart took 41 s instead of 1.5 s',
  },
  { name: 'enable-debug-command', reason: 'DEBUG can crash or stall a node behind the operator\'s back' },
  { name: 'enable-module-command', reason: 'modules change a node in ways Coxswain cannot observe or undo' },
  { name: 'loadmodule', reason: 'modules change a node in ways Coxswain cannot observe or undo' },
];

/** The eight eviction policies of Redis 7.0 and Valkey 8.0. */
export const MAXMEMORY_POLICIES = [
  'volatile-lru',
  'allkeys-lru',
  'volatile-lfu',
  'allkeys-lfu',
  'volatile-random',
  'allkeys-random',
  'volatile-ttl',
  'noeviction',
] as const;

/** `save`: "" (no snapshots) or pairs "<seconds> <changes>". */
const SAVE_PATTERN = /^(?:\d+ \d+(?: \d+ \d+)*)?$/;
/** `client-output-buffer-limit`: groups "<class> <hard> <soft> <seconds>". */
const COBL_GROUP = String.raw`(?:normal|replica|slave|pubsub) \d+(?:[kmg]b?|b)? \d+(?:[kmg]b?|b)? \d+`;
const COBL_PATTERN = new RegExp(`^${COBL_GROUP}(?: ${COBL_GROUP})*$`, 'i');
/** `notify-keyspace-events`: "" or letters from the set Redis 7.0 knows. */
const NOTIFY_PATTERN = /^[KEg$lshzxetdmnA]*$/;

const REDIS_SETTABLE: readonly SettableParameter[] = [
  // memory and eviction
  live('maxmemory', MEMORY),
  live('maxmemory-policy', { kind: 'enum', values: MAXMEMORY_POLICIES }),
  live('maxmemory-samples', int(1, 64)),
  live('lfu-log-factor', int(0, INT_MAX)),
  live('lfu-decay-time', int(0, INT_MAX)),
  live('active-expire-effort', int(1, 10)),
  live('lazyfree-lazy-eviction', YESNO),
  live('lazyfree-lazy-expire', YESNO),
  live('lazyfree-lazy-server-del', YESNO),
  live('lazyfree-lazy-user-del', YESNO),
  live('activedefrag', YESNO),
  // clients and networking
  live('timeout', int(0, INT_MAX)),
  live('tcp-keepalive', int(0, INT_MAX)),
  live('maxclients', int(1, INT_MAX)),
  live('client-output-buffer-limit', {
    kind: 'string',
    pattern: COBL_PATTERN,
    forms: 'one or more groups "<class> <hard limit> <soft limit> <soft seconds>", class normal, replica or pubsub, e.g. "pubsub 32mb 8mb 60"',
  }),
  restart('tcp-backlog', int(0, INT_MAX)),
  restart('io-threads', int(1, 128)),
  // server
  live('hz', int(1, 500)),
  live('notify-keyspace-events', {
    kind: 'string',
    pattern: NOTIFY_PATTERN,
    forms: '"" (off) or letters from K E g $ l s h z x e t d m n A, e.g. "Ex"',
  }),
  live('slowlog-log-slower-than', int(-1)),
  live('slowlog-max-len', int(0)),
  live('latency-monitor-threshold', int(0)),
  // persistence
  live('save', {
    kind: 'string',
    pattern: SAVE_PATTERN,
    forms: '"" (no snapshots) or pairs "<seconds> <changes>", e.g. "3600 1 300 100"',
  }),
  live('appendonly', YESNO),
  live('appendfsync', { kind: 'enum', values: ['always', 'everysec', 'no'] }),
  // replication
  live('repl-backlog-size', { kind: 'memory', minBytes: 1 }),
  live('repl-timeout', int(1, INT_MAX)),
  live('repl-diskless-sync', YESNO),
  live('min-replicas-to-write', int(0, INT_MAX)),
  live('min-replicas-max-lag', int(0, INT_MAX)),
  // cluster
  live('cluster-node-timeout', int(1)),
  live('cluster-require-full-coverage', YESNO),
  live('cluster-allow-reads-when-down', YESNO),
  live('cluster-replica-validity-factor', int(0, INT_MAX)),
  live('cluster-migration-barrier', int(0, INT_MAX)),
  live('cluster-allow-replica-migration', YESNO),
];

export const ENGINE_PARAMETERS: Readonly<Record<EngineName, EngineParameters>> = {
  redis: { owned: REDIS_OWNED, settable: REDIS_SETTABLE },
};

function parametersOf(engine: EngineName): EngineParameters {
  return (ENGINE_PARAMETERS[engine] as EngineParameters | undefined) ?? { owned: [], settable: [] };
}

/**
 * The owned parameter `name` falls under, if any. Redis matches parameter names
 * without regard to case, so "PORT" is owned as much as "port".
 */
export function ownedParameter(engine: EngineName, name: string): OwnedParameter | undefined {
  const lower = name.toLowerCase();
  return parametersOf(engine).owned.find((p) =>
    p.name.endsWith('*') ? lower.startsWith(p.name.slice(0, -1)) : lower === p.name,
  );
}

/** The settable parameter called exactly `name` (lower case), if any. */
export function settableParameter(engine: EngineName, name: string): SettableParameter | undefined {
  return parametersOf(engine).settable.find((p) => p.name === name);
}

export function settableParameterNames(engine: EngineName): string[] {
  return parametersOf(engine).settable.map((p) => p.name);
}

// ───────────────────────── parameter values ─────────────────────────

const MEMORY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
};

/** Bytes of a memory size as Redis reads it (`256mb`, `1gb`, `1000`), or undefined. */
export function parseMemory(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = /^(\d+)([a-z]*)$/i.exec(value);
  if (m === null) return undefined;
  const unit = MEMORY_UNITS[(m[2] ?? '').toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Number(m[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * An integer as Redis and Valkey read one in CONFIG SET and redis.conf (their string2ll):
 * decimal digits with an optional minus, no leading zero ("088" and "-0" are refused with
 * "argument couldn't be parsed into an integer"), so no accepted value is one the engine
 * would then refuse, and no two accepted spellings of one value differ.
 */
function parseInteger(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (!/^(0|-?[1-9]\d*)$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** What a value of this kind is, in a few words: "a memory size", "an integer from 1 to 64". */
export function valueKindNoun(kind: ValueKind): string {
  switch (kind.kind) {
    case 'memory':
      return 'a memory size';
    case 'integer':
      return `an integer${rangeText(kind.min, kind.max)}`;
    case 'yesno':
      return '"yes" or "no"';
    case 'enum':
      return `one of ${kind.values.map((v) => `"${v}"`).join(', ')}`;
    case 'string':
      return kind.forms === undefined ? 'a string' : 'in the accepted form';
  }
}

/** The accepted forms of a kind of value, in words a person can act on. */
export function describeValueKind(kind: ValueKind): string {
  switch (kind.kind) {
    case 'memory':
      return (
        'a memory size: bytes as an integer (e.g. 268435456) or a number with a unit ' +
        'b, k, kb, m, mb, g or gb (e.g. "256mb", "1gb")' +
        (kind.minBytes !== undefined && kind.minBytes > 0 ? `, at least ${kind.minBytes} byte${kind.minBytes === 1 ? '' : 's'}` : '; 0 means no limit')
      );
    case 'string':
      return kind.forms ?? 'a string';
    case 'integer':
      return `${valueKindNoun(kind)}, in decimal digits without a leading zero (e.g. 8, not "08")`;
    default:
      return valueKindNoun(kind);
  }
}

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

export type ValueVerdict = { ok: true; canonical: string } | { ok: false; expected: string };

/**
 * Checks a value against its kind. On success `canonical` is the value as the engine
 * would report it back (bytes for memory sizes, decimal integers), so two spellings
 * of the same value compare equal.
 */
export function checkParameterValue(kind: ValueKind, value: number | string): ValueVerdict {
  const canonical = canonicalValue(kind, value);
  return canonical === undefined ? { ok: false, expected: describeValueKind(kind) } : { ok: true, canonical };
}

function canonicalValue(kind: ValueKind, value: number | string): string | undefined {
  switch (kind.kind) {
    case 'memory': {
      const bytes = parseMemory(value);
      return bytes === undefined || bytes < (kind.minBytes ?? 0) ? undefined : String(bytes);
    }
    case 'integer': {
      const n = parseInteger(value);
      if (n === undefined) return undefined;
      if ((kind.min !== undefined && n < kind.min) || (kind.max !== undefined && n > kind.max)) return undefined;
      return String(n);
    }
    case 'yesno':
      return value === 'yes' || value === 'no' ? value : undefined;
    case 'enum':
      return typeof value === 'string' && kind.values.includes(value) ? value : undefined;
    case 'string':
      if (typeof value !== 'string') return undefined;
      return kind.pattern === undefined || kind.pattern.test(value) ? value : undefined;
  }
}
