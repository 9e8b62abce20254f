// fast-check arbitraries for desired states, reused by the generative tests.
//
// arbDesired() draws only VALID desired states (every schema constraint and every rule
// in desired-state/rules.ts holds); arbNextDesired(prev) draws a successor that
// desired-state/transition.ts accepts. Both read their facts from the catalogue, so a
// new version, VM type or parameter there is drawn here without a change.
//
// Valid is not the same as ordinary: besides typical values they draw the edges that
// validation allows, so the planner's guards for them are reached by the generative
// tests and not only by unit tests (test/generative/guard-reach.ts measures it):
// - boundary values: replicationFactor 1 and = maxReplicationFactor (1 and 5 too),
//   runningSince and agentRunningSince = id, 16 zones, fewer zones than nodes;
// - configuration at its bounds (an integer's minimum and maximum, maxmemory exactly the
//   VM's memory, min-replicas-to-write = replicationFactor − 1) and written another way
//   the catalogue reads as the same value ("1024mb" for 1073741824, "10" for 10, …),
//   also in a successor, where the rules compare canonical values;
// - backups: a few shared ids and sinks, so an id dropped from the list comes back,
//   perhaps in another sink (validation refuses only a sink changed in one step), and
//   one sink under two spellings.
import fc from 'fast-check';
import {
  ENGINE_PARAMETERS,
  VM_TYPES,
  checkParameterValue,
  engineVersions,
  parseMemory,
  reachableVersions,
  vmTypeNames,
  type SettableParameter,
  type ValueKind,
} from '../../desired-state/catalogue.ts';
import type { BackupRef, Desired, EngineName, VmType } from '../../desired-state/types.ts';

const ENGINE: EngineName = 'redis';
/** Objects with the ordinary prototype, as JSON.parse makes them (deepStrictEqual compares prototypes). */
const PLAIN = { noNullPrototype: true } as const;
const MIB = 1024 * 1024;

// ───────────────────────────── small pieces ─────────────────────────────

// Built once: constructing a stringMatching arbitrary costs ~25 ms.
const LABEL = fc.stringMatching(/^[a-z0-9](?:[-a-z0-9]{0,14}[a-z0-9])?$/);

/** A DNS-1123 label (short, so shrunk examples stay readable). */
export const arbLabel = (): fc.Arbitrary<string> => LABEL;

/** Sink paths: a few shared ones (two spellings of one directory among them), or any string. */
const arbSinkPath = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom('backups', 'backups/nightly', '../shared/backups', 'b', './backups', 'backups/'),
    fc.string({ minLength: 1, maxLength: 24 }),
  );

/** Backup ids: mostly a few shared ones, so an id comes back across desired states (dropped, then listed again, perhaps in another sink). */
const arbBackupId = (): fc.Arbitrary<string> => fc.oneof({ weight: 2, arbitrary: fc.constantFrom('nightly', 'weekly', 'b') }, { weight: 1, arbitrary: arbLabel() });

export const arbBackup = (): fc.Arbitrary<BackupRef> =>
  fc.record({ id: arbBackupId(), sink: fc.record({ type: fc.constant('local' as const), path: arbSinkPath() }, PLAIN) }, PLAIN);

const arbBackups = (maxLength = 4): fc.Arbitrary<BackupRef[]> =>
  fc.uniqueArray(arbBackup(), { maxLength, selector: (b) => b.id });

/** The most zones the schema allows, each a different label. */
const SIXTEEN_ZONES = Array.from({ length: 16 }, (_, i) => `zone-${i}`) as [string, ...string[]];

/** Zones: any unique labels; often one or two (fewer than a group's nodes), sometimes the maximum of 16. */
const arbZones = (): fc.Arbitrary<[string, ...string[]]> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.uniqueArray(arbLabel(), { minLength: 1, maxLength: 16 }) as fc.Arbitrary<[string, ...string[]]> },
    { weight: 1, arbitrary: fc.constantFrom<[string, ...string[]]>(['zone-a'], ['zone-a', 'zone-b']) },
    { weight: 1, arbitrary: fc.constant(SIXTEEN_ZONES).map((z) => [...z] as [string, ...string[]]) },
  );

/** An integer in [min, max], at one of its bounds now and then. */
const arbBounded = (min: number, max: number): fc.Arbitrary<number> =>
  fc.oneof({ weight: 3, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constantFrom(min, max) });

const arbNodeGroups = (): fc.Arbitrary<number> => fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 1000 }));
const arbStorage = (): fc.Arbitrary<number> => fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 65536 }));

// ───────────────────────────── config values ─────────────────────────────

/** What a parameter's valid values depend on elsewhere in the desired state. */
export interface ConfigContext {
  vmType: VmType;
  replicationFactor: number;
}

const MEMORY_UNITS: ReadonlyArray<[string, number]> = [
  ['', 1],
  ['b', 1],
  ['k', 1000],
  ['kb', 1024],
  ['m', 1000 ** 2],
  ['mb', MIB],
  ['MB', MIB],
  ['g', 1000 ** 3],
  ['gb', 1024 ** 3],
  ['Gb', 1024 ** 3],
];

function arbMemory(minBytes: number, maxBytes: number): fc.Arbitrary<number | string> {
  const withUnit = fc
    .constantFrom(...MEMORY_UNITS.filter(([, unit]) => unit <= maxBytes))
    .chain(([suffix, unit]) =>
      fc.integer({ min: Math.ceil(minBytes / unit), max: Math.floor(maxBytes / unit) }).map((n) => `${n}${suffix}`),
    );
  // At a bound: the least allowed, or exactly the most (maxmemory: all of the VM's memory), in any spelling.
  const bound = fc.constantFrom(minBytes, maxBytes).chain((bytes) => fc.constantFrom(...memorySpellings(bytes)));
  return fc.oneof({ weight: 2, arbitrary: fc.integer({ min: minBytes, max: maxBytes }) }, { weight: 2, arbitrary: withUnit }, { weight: 1, arbitrary: bound });
}

/** Every way MEMORY_UNITS writes `bytes` exactly (the number itself first). */
function memorySpellings(bytes: number): (number | string)[] {
  const out: (number | string)[] = [bytes];
  for (const [suffix, unit] of MEMORY_UNITS) if (bytes % unit === 0 && (bytes > 0 || suffix === '')) out.push(`${bytes / unit}${suffix}`);
  return out;
}

function arbInteger(min: number, max: number): fc.Arbitrary<number | string> {
  return arbBounded(min, max).chain((n) => fc.constantFrom<number | string>(n, String(n)));
}

const COBL_CLASSES = ['normal', 'replica', 'slave', 'pubsub'] as const;
const arbMemoryWord = (): fc.Arbitrary<string> => arbMemory(0, 1024 * MIB).map(String);

/** Generators for the 'string' parameters, whose forms only a pattern describes. */
const STRING_VALUES: Readonly<Record<string, fc.Arbitrary<string>>> = {
  save: fc
    .array(fc.tuple(fc.nat(86400), fc.nat(100000)), { maxLength: 3 })
    .map((pairs) => pairs.map(([s, c]) => `${s} ${c}`).join(' ')),
  'client-output-buffer-limit': fc
    .array(fc.tuple(fc.constantFrom(...COBL_CLASSES), arbMemoryWord(), arbMemoryWord(), fc.nat(3600)), { minLength: 1, maxLength: 3 })
    .map((groups) => groups.map((g) => g.join(' ')).join(' ')),
  'notify-keyspace-events': fc.subarray([...'KEg$lshzxetdmnA']).map((cs) => cs.join('')),
};

function arbValue(param: SettableParameter, ctx: ConfigContext): fc.Arbitrary<number | string> {
  const kind: ValueKind = param.value;
  switch (kind.kind) {
    case 'memory': {
      const cap = param.name === 'maxmemory' ? VM_TYPES[ctx.vmType].memoryMiB * MIB : 4096 * MIB;
      return arbMemory(kind.minBytes ?? 0, cap);
    }
    case 'integer': {
      if (param.name === 'min-replicas-to-write') return arbInteger(0, ctx.replicationFactor - 1);
      return arbInteger(kind.min ?? -1000, kind.max ?? 1_000_000_000);
    }
    case 'yesno':
      return fc.constantFrom('yes', 'no');
    case 'enum':
      return fc.constantFrom(...kind.values);
    case 'string': {
      const arb = STRING_VALUES[param.name];
      if (arb === undefined) throw new Error(`test/arbitraries: no value generator for config "${param.name}"; add one to STRING_VALUES`);
      return arb;
    }
  }
}

/** Every parameter a user may set, with valid values only. */
export function arbConfig(ctx: ConfigContext, maxLength = 6): fc.Arbitrary<Record<string, number | string>> {
  const params = ENGINE_PARAMETERS[ENGINE].settable;
  return fc.subarray([...params], { maxLength }).chain((chosen) =>
    fc
      .tuple(...chosen.map((p) => arbValue(p, ctx)))
      .map((values) => Object.fromEntries(chosen.map((p, i) => [p.name, values[i] as number | string]))),
  );
}

/**
 * Spellings of `value` that the catalogue reads as the same value of `name` (its
 * canonical form, desired-state/catalogue.ts checkParameterValue): a number or its
 * string, a memory size in another unit, an integer with a leading zero. Drawn only when
 * the catalogue accepts them, so the arbitrary follows the catalogue if it gets stricter.
 */
function sameValueSpellings(name: string, value: number | string): (number | string)[] {
  const param = ENGINE_PARAMETERS[ENGINE].settable.find((p) => p.name === name);
  if (param === undefined) return [value];
  const same = checkParameterValue(param.value, value);
  if (!same.ok) return [value];
  let forms: (number | string)[] = [];
  if (param.value.kind === 'memory') {
    const bytes = parseMemory(value);
    if (bytes !== undefined) forms = [...memorySpellings(bytes), ...memorySpellings(bytes).filter((f) => typeof f === 'string').map((f) => f.toUpperCase())];
  } else if (param.value.kind === 'integer') {
    const n = Number(same.canonical);
    forms = [n, String(n), n < 0 ? `-0${-n}` : `0${n}`];
  }
  const ok = forms.filter((f) => {
    const v = checkParameterValue(param.value, f);
    return v.ok && v.canonical === same.canonical;
  });
  return [value, ...ok.filter((f) => f !== value)];
}

/** `config` with some values written another way that means the same (sameValueSpellings). */
function arbRespelled(config: Record<string, number | string>): fc.Arbitrary<Record<string, number | string>> {
  const names = Object.keys(config);
  if (names.length === 0) return fc.constant(config);
  return fc
    .tuple(
      ...names.map((name) => {
        const [value, ...others] = sameValueSpellings(name, config[name] as number | string);
        const kept = fc.constant(value as number | string);
        return others.length === 0 ? kept : fc.oneof({ weight: 2, arbitrary: kept }, { weight: 1, arbitrary: fc.constantFrom(...others) });
      }),
    )
    .map((values) => Object.fromEntries(names.map((name, i) => [name, values[i] as number | string])));
}

/** The parameters whose value must hold against `ctx` still hold (others are kept as is). */
function stillValid(config: Record<string, number | string>, ctx: ConfigContext): Record<string, number | string> {
  return Object.fromEntries(
    Object.entries(config).filter(([name, value]) => {
      if (name === 'maxmemory') return (parseMemory(value) ?? 0) <= VM_TYPES[ctx.vmType].memoryMiB * MIB;
      if (name === 'min-replicas-to-write') return Number(value) <= ctx.replicationFactor - 1;
      return true;
    }),
  );
}

/**
 * `config` with every restart-only parameter set exactly as in `from`, and every live
 * parameter of `from` still set (removing one needs a restart: its default is not known).
 */
function withRestartParameters(
  config: Record<string, number | string>,
  from: Record<string, number | string>,
): Record<string, number | string> {
  const restartOnly = new Set(ENGINE_PARAMETERS[ENGINE].settable.filter((p) => p.apply === 'restart').map((p) => p.name));
  const out = Object.fromEntries(Object.entries(config).filter(([name]) => !restartOnly.has(name)));
  for (const [name, value] of Object.entries(from)) if (restartOnly.has(name) || !(name in out)) out[name] = value;
  return out;
}

// ───────────────────────────── a valid desired state ─────────────────────────────

function build(fields: Omit<Desired, 'restoreFromBackup'>, restore: BackupRef | undefined): Desired {
  return restore === undefined ? fields : { ...fields, restoreFromBackup: restore };
}

const cloneBackup = (b: BackupRef): BackupRef => ({ id: b.id, sink: { type: b.sink.type, path: b.sink.path } });

/** A valid desired state: schema and single-state rules hold. */
export function arbDesired(): fc.Arbitrary<Desired> {
  return fc
    .record({
      id: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 1_000_000 })),
      name: arbLabel(),
      version: fc.constantFrom(...engineVersions(ENGINE)),
      running: fc.boolean(),
      nodeGroups: arbNodeGroups(),
      maxReplicationFactor: arbBounded(1, 5),
      availabilityZones: arbZones(),
      vmType: fc.constantFrom(...vmTypeNames()),
      storageGiB: arbStorage(),
      backups: arbBackups(),
      allowTemporaryVms: fc.boolean(),
    })
    .chain((base) =>
      fc
        .record({
          runningSince: arbBounded(0, base.id),
          agentRunningSince: arbBounded(0, base.id),
          replicationFactor: arbBounded(1, base.maxReplicationFactor),
          restore: base.backups.length === 0 ? fc.constant(undefined) : fc.option(fc.constantFrom(...base.backups), { nil: undefined }),
        })
        .chain((more) =>
          arbConfig({ vmType: base.vmType, replicationFactor: more.replicationFactor }).map((config) =>
            build(
              {
                ...base,
                // A cluster that never ran lists no backup while stopped but the one it restores from (transition.ts).
                backups: base.running ? base.backups : more.restore === undefined ? [] : [cloneBackup(more.restore)],
                engine: ENGINE,
                runningSince: more.runningSince,
                agentRunningSince: more.agentRunningSince,
                replicationFactor: more.replicationFactor,
                config,
              },
              more.restore === undefined ? undefined : cloneBackup(more.restore),
            ),
          ),
        ),
    );
}

// ───────────────────────────── a valid successor ─────────────────────────────

export interface NextOptions {
  /** Whether the cluster ran in any accepted version so far. @default prev.running */
  everRan?: boolean;
}

/** A value kept from `prev` half of the time, so successors often change little. */
const keepOr = <T>(kept: T, other: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof(fc.constant(kept), other);

/**
 * A successor of `prev` that checkTransition(prev, next, { everRan }) accepts: a
 * higher id, the immutable fields kept, any mix of changes to the others that the
 * transition rules allow (see the two locks below).
 */
export function arbNextDesired(prev: Desired, opts: NextOptions = {}): fc.Arbitrary<Desired> {
  const everRan = opts.everRan ?? prev.running;
  return fc
    .record({
      id: fc.integer({ min: prev.id + 1, max: prev.id + 50 }),
      running: keepOr(prev.running, fc.boolean()),
      allowTemporaryVms: keepOr(prev.allowTemporaryVms, fc.boolean()),
    })
    .chain((core) => {
      // A cluster stopped in both versions after it ran cannot move data (transition.ts).
      const stoppedLock = everRan && !prev.running && !core.running;
      const maxRf = stoppedLock ? Math.min(prev.replicationFactor, prev.maxReplicationFactor) : prev.maxReplicationFactor;
      return keepOr(Math.min(prev.replicationFactor, maxRf), arbBounded(1, maxRf)).chain((replicationFactor) => {
        // rf 1 on both sides, running on both sides, no temporary VM: nothing may roll.
        const singleCopyLock =
          prev.replicationFactor === 1 && replicationFactor === 1 && prev.running && core.running && !core.allowTemporaryVms;
        return arbNextRest(prev, { ...core, replicationFactor, everRan, stoppedLock, singleCopyLock });
      });
    });
}

interface NextCore {
  id: number;
  running: boolean;
  allowTemporaryVms: boolean;
  replicationFactor: number;
  everRan: boolean;
  stoppedLock: boolean;
  singleCopyLock: boolean;
}

function arbNextRest(prev: Desired, core: NextCore): fc.Arbitrary<Desired> {
  const rolls = !core.singleCopyLock;
  const replaces = rolls && !core.stoppedLock;
  return fc
    .record({
      version: rolls ? fc.constantFrom(...reachableVersions(prev.engine, prev.version)) : fc.constant(prev.version),
      runningSince: rolls ? keepOr(prev.runningSince, arbBounded(prev.runningSince, core.id)) : fc.constant(prev.runningSince),
      agentRunningSince: keepOr(prev.agentRunningSince, arbBounded(prev.agentRunningSince, core.id)),
      nodeGroups: core.stoppedLock ? fc.constant(prev.nodeGroups) : keepOr(prev.nodeGroups, arbNodeGroups()),
      vmType: replaces ? keepOr(prev.vmType, fc.constantFrom(...vmTypeNames())) : fc.constant(prev.vmType),
      storageGiB: replaces ? keepOr(prev.storageGiB, arbStorage()) : fc.constant(prev.storageGiB),
      availabilityZones: replaces ? keepOr(prev.availabilityZones, arbZones()) : arbZonesKeeping(prev.availabilityZones),
      backups: arbNextBackups(prev, !core.stoppedLock),
    })
    .chain((rest) => {
      const ctx = { vmType: rest.vmType, replicationFactor: core.replicationFactor };
      // Kept as it was, kept but written another way that means the same, or drawn anew.
      const kept = stillValid(prev.config, ctx);
      const config = fc
        .oneof({ weight: 2, arbitrary: fc.constant(kept) }, { weight: 1, arbitrary: arbRespelled(kept) }, { weight: 3, arbitrary: arbConfig(ctx) })
        .chain((c) => (core.singleCopyLock ? arbRespelled(withRestartParameters(c, prev.config)) : fc.constant(c)));
      return fc.tuple(config, arbNextRestore(prev, rest.backups, core.everRan)).map(([cfg, restore]) => {
        // The backup a kept restoreFromBackup names must stay listed; a cluster that never ran
        // lists no other while stopped (transition.ts).
        const listed =
          restore === undefined || rest.backups.some((b) => b.id === restore.id) ? rest.backups : [...rest.backups, cloneBackup(restore)];
        const backups = core.everRan || core.running ? listed : restore === undefined ? [] : [cloneBackup(restore)];
        return build(
          {
            id: core.id,
            name: prev.name,
            engine: prev.engine,
            version: rest.version,
            running: core.running,
            runningSince: rest.runningSince,
            agentRunningSince: rest.agentRunningSince,
            nodeGroups: rest.nodeGroups,
            replicationFactor: core.replicationFactor,
            maxReplicationFactor: prev.maxReplicationFactor,
            availabilityZones: rest.availabilityZones,
            vmType: rest.vmType,
            storageGiB: rest.storageGiB,
            config: cfg,
            backups,
            allowTemporaryVms: core.allowTemporaryVms,
          },
          restore,
        );
      });
    });
}

/** The zones of `prev`, possibly with more added (a removed zone would move nodes). */
function arbZonesKeeping(prev: readonly string[]): fc.Arbitrary<[string, ...string[]]> {
  const room = 16 - prev.length;
  return fc
    .uniqueArray(arbLabel(), { maxLength: Math.min(room, 3) })
    .map((more) => [...prev, ...more.filter((z) => !prev.includes(z))] as [string, ...string[]]);
}

/** Some of prev's backups (same sinks: a backup cannot move) and, if allowed, new ids. */
function arbNextBackups(prev: Desired, mayAdd: boolean): fc.Arbitrary<BackupRef[]> {
  const known = new Set(prev.backups.map((b) => b.id));
  const added = mayAdd ? arbBackups(3).map((bs) => bs.filter((b) => !known.has(b.id))) : fc.constant([]);
  return fc
    .tuple(fc.subarray(prev.backups.map(cloneBackup)), added)
    .map(([kept, fresh]) => [...kept, ...fresh]);
}

/** Before the cluster ran: anything from the backups; after: keep it or drop it. */
function arbNextRestore(prev: Desired, backups: BackupRef[], everRan: boolean): fc.Arbitrary<BackupRef | undefined> {
  if (everRan) {
    const kept = prev.restoreFromBackup;
    return kept === undefined ? fc.constant(undefined) : fc.option(fc.constant(cloneBackup(kept)), { nil: undefined });
  }
  if (backups.length === 0) return fc.constant(undefined);
  return fc.option(fc.constantFrom(...backups).map(cloneBackup), { nil: undefined });
}

// ───────────────────────────── a fixed example ─────────────────────────────

/** A small valid desired state for table-driven tests: 3 × 2, running, Redis 7.0. */
export function exampleDesired(overrides: Partial<Desired> = {}): Desired {
  return {
    id: 5,
    name: 'demo',
    engine: 'redis',
    version: '7.0',
    running: true,
    runningSince: 1,
    agentRunningSince: 1,
    nodeGroups: 3,
    replicationFactor: 2,
    maxReplicationFactor: 3,
    availabilityZones: ['zone-a', 'zone-b'],
    vmType: 'small',
    storageGiB: 10,
    config: { 'maxmemory-policy': 'noeviction' },
    backups: [{ id: 'nightly', sink: { type: 'local', path: 'backups' } }],
    allowTemporaryVms: false,
    ...overrides,
  };
}

// ───────────────────────────── bounded, for simulation ─────────────────────────────

export interface SimSizeOptions {
  /** Node groups at most (the simulated world runs every VM of every scenario). @default 4 */
  maxNodeGroups?: number;
}

/** `nodeGroups` folded into 1 … max; every other field as drawn (a fold keeps a state valid: nothing else depends on it). */
function foldNodeGroups(d: Desired, max: number): Desired {
  return d.nodeGroups <= max ? d : { ...d, nodeGroups: 1 + ((d.nodeGroups - 1) % max) };
}

/** A valid desired state small enough to simulate thousands of times a minute: arbDesired() with at most `maxNodeGroups` node groups. */
export function arbSimDesired(opts: SimSizeOptions = {}): fc.Arbitrary<Desired> {
  const max = opts.maxNodeGroups ?? 4;
  return arbDesired().map((d) => foldNodeGroups(d, max));
}

/**
 * A successor of `prev` (arbNextDesired) with at most `maxNodeGroups` node groups. Folding
 * keeps it valid: where a rule pins nodeGroups (a stopped cluster that ran), it equals
 * prev's, which is within the bound already.
 */
export function arbSimNextDesired(prev: Desired, opts: NextOptions & SimSizeOptions = {}): fc.Arbitrary<Desired> {
  const max = opts.maxNodeGroups ?? 4;
  return arbNextDesired(prev, opts.everRan === undefined ? {} : { everRan: opts.everRan }).map((d) => foldNodeGroups(d, max));
}
