// Generative tests of validation: valid states round-trip through text, successors are
// accepted, immutable fields stay immutable, and every refusal says where.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { arbDesired, arbLabel, arbNextDesired } from '../test/arbitraries/desired-state.ts';
import { formatProblem } from './format.ts';
import { formatJsonPath } from './problem.ts';
import { checkRules } from './rules.ts';
import { checkTransition } from './transition.ts';
import type { Desired, EngineName } from './types.ts';
import { validateDesiredStateText } from './validate.ts';
import '../test/support/seed.ts'; // every property runs on the run's seed

const RUNS = { numRuns: 200 };

// ───────────────────────────── serialising as text ─────────────────────────────

type Style = 'plain' | 'bom' | 'crlf' | 'comments';

/** `desired` as a desired-state file in one of the styles a person may save it in. */
function serialise(desired: Desired, style: Style): string {
  const json = JSON.stringify(desired, null, 2);
  switch (style) {
    case 'plain':
      return json;
    case 'bom':
      return `\uFEFF${json}`;
    case 'crlf':
      return json.replace(/\n/g, '\r\n');
    case 'comments':
      return withComments(desired);
  }
}

/** One top-level property per line, a `//` comment (and a blank line) between them. */
function withComments(desired: Desired): string {
  const props = Object.entries(desired).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const body = props.map((p, i) => `  // field ${i}: "quoted", {braces}, // and /* marks */\n${p}`).join(',\n\n');
  return `// a desired state\n{\n${body}\n  // the end\n}\n// after\n`;
}

const arbStyle = fc.constantFrom<Style>('plain', 'bom', 'crlf', 'comments');

void test('property: every valid desired state, written as text, validates as valid and round-trips', () => {
  fc.assert(
    fc.property(arbDesired(), arbStyle, (desired, style) => {
      const r = validateDesiredStateText({ file: 'prop.jsonc', text: serialise(desired, style) });
      assert.deepEqual(r.problems, []);
      assert.equal(r.verdict, 'valid');
      assert.deepEqual(r.desired, desired);
    }),
    RUNS,
  );
});

void test('property: the arbitrary draws states that pass every rule', () => {
  fc.assert(
    fc.property(arbDesired(), (desired) => {
      assert.deepEqual(checkRules(desired), []);
    }),
    RUNS,
  );
});

// ───────────────────────────── successors ─────────────────────────────

const arbPair = arbDesired().chain((prev) => fc.tuple(fc.constant(prev), fc.boolean()).chain(([p, ranBefore]) => {
  const everRan = ranBefore || p.running;
  return fc.tuple(fc.constant(p), arbNextDesired(p, { everRan }), fc.constant(everRan));
}));

void test('property: every successor drawn by arbNextDesired is valid and accepted by checkTransition', () => {
  fc.assert(
    fc.property(arbPair, ([prev, next, everRan]) => {
      assert.deepEqual(checkRules(next), []);
      assert.deepEqual(checkTransition(prev, next, { everRan }), []);
    }),
    RUNS,
  );
});

void test('property: a chain of successors is accepted step by step (validated as text)', () => {
  const arbChain = arbDesired().chain((first) =>
    arbNextDesired(first).chain((second) => arbNextDesired(second, { everRan: first.running || second.running }).map((third) => [first, second, third] as const)),
  );
  fc.assert(
    fc.property(arbChain, ([first, second, third]) => {
      const r2 = validateDesiredStateText({ file: 'b.jsonc', text: JSON.stringify(second) }, { previous: first });
      assert.deepEqual(r2.problems, []);
      const r3 = validateDesiredStateText(
        { file: 'c.jsonc', text: JSON.stringify(third) },
        { previous: second, everRan: first.running || second.running },
      );
      assert.deepEqual(r3.problems, []);
      assert.deepEqual(r3.desired, third);
    }),
    { numRuns: 100 },
  );
});

// ───────────────────────────── immutable fields ─────────────────────────────

type Immutable = 'name' | 'engine' | 'maxReplicationFactor';

function arbImmutableChange(prev: Desired): fc.Arbitrary<[Immutable, string | number]> {
  return fc.oneof(
    arbLabel()
      .filter((n) => n !== prev.name)
      .map((n): [Immutable, string] => ['name', n]),
    fc
      .oneof(fc.constantFrom('rondb', 'valkey', 'Redis', 'redis '), fc.string())
      .filter((e) => e !== prev.engine)
      .map((e): [Immutable, string] => ['engine', e]),
    fc
      .integer({ min: 1, max: 5 })
      .filter((m) => m !== prev.maxReplicationFactor)
      .map((m): [Immutable, number] => ['maxReplicationFactor', m]),
  );
}

void test('property: changing an immutable field in a successor is refused at that field', () => {
  const arb = arbDesired().chain((prev) =>
    fc.tuple(fc.constant(prev), arbNextDesired(prev), arbImmutableChange(prev)),
  );
  fc.assert(
    fc.property(arb, ([prev, next, [field, value]]) => {
      const candidate = { ...next, [field]: value } as Desired;
      if (field === 'engine') candidate.engine = value as EngineName;
      const problems = checkTransition(prev, candidate, { everRan: prev.running });
      const found = problems.filter((p) => p.code === 'immutable-field');
      assert.equal(found.length, 1, JSON.stringify(problems));
      assert.deepEqual(found[0]?.path, [field]);
      assert.ok(found[0]?.message.includes(JSON.stringify(prev[field])));
    }),
    RUNS,
  );
});

// ───────────────────────────── every refusal says where ─────────────────────────────

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A way to break a valid state, as data so a counterexample prints readably. */
type Mutation =
  | { op: 'set'; key: string; value: Json }
  | { op: 'delete'; key: string }
  | { op: 'config'; key: string; value: Json }
  | { op: 'backup'; key: string; value: Json }
  | { op: 'clock-ahead' }
  | { op: 'restore-unlisted' };

const FIELDS = [
  'id', 'name', 'engine', 'version', 'running', 'runningSince', 'agentRunningSince', 'nodeGroups',
  'replicationFactor', 'maxReplicationFactor', 'availabilityZones', 'vmType', 'storageGiB', 'config',
  'backups', 'allowTemporaryVms',
] as const;

const arbWrongValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 1.5, -1, 0, '', 'x', [], {}, [1], { a: 1 }, 1e300, 'UPPER', '7.1', 2000000),
  fc.string(),
  fc.integer(),
);

const arbUnknownKey = fc
  .oneof(fc.constantFrom('replicationFactr', 'nodegroups', 'Id', 'colour', '__proto__', 'constructor', 'a b', ''), fc.string({ minLength: 1, maxLength: 12 }))
  .filter((k) => !(FIELDS as readonly string[]).includes(k) && k !== '$schema' && k !== 'restoreFromBackup');

const CONFIG_KEYS = ['port', 'dir', 'tls-port', 'maxmemory', 'hz', 'appendonly', 'maxmemory-policy', 'no-such-param', 'MAXMEMORY'];

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  // a field of the wrong type or out of range
  fc.record({ op: fc.constant('set' as const), key: fc.constantFrom<string>(...FIELDS), value: arbWrongValue }),
  // an unknown top-level key
  fc.record({ op: fc.constant('set' as const), key: arbUnknownKey, value: arbWrongValue }),
  // a required field missing
  fc.record({
    op: fc.constant('delete' as const),
    key: fc.constantFrom('id', 'name', 'engine', 'version', 'nodeGroups', 'replicationFactor', 'maxReplicationFactor'),
  }),
  // a config parameter: unknown, owned, or of the wrong kind
  fc.record({ op: fc.constant('config' as const), key: fc.constantFrom(...CONFIG_KEYS), value: arbWrongValue }),
  // a broken backup
  fc.record({ op: fc.constant('backup' as const), key: fc.constantFrom('id', 'sink', 'type', 'path', 'extra'), value: arbWrongValue }),
  // a rule broken: a clock ahead of the id, restore from an unlisted backup
  fc.constant({ op: 'clock-ahead' as const }),
  fc.constant({ op: 'restore-unlisted' as const }),
);

/** Sets an own property, even "__proto__". */
function set(obj: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function mutate(doc: Record<string, Json>, m: Mutation): void {
  switch (m.op) {
    case 'set':
      return set(doc, m.key, m.value);
    case 'delete':
      delete doc[m.key];
      return;
    case 'config': {
      const config = (typeof doc['config'] === 'object' && doc['config'] !== null ? doc['config'] : {}) as Record<string, Json>;
      set(config, m.key, m.value);
      doc['config'] = config;
      return;
    }
    case 'backup': {
      const backup: Record<string, Json> = { id: 'b', sink: { type: 'local', path: 'p' } };
      if (m.key === 'type' || m.key === 'path') (backup['sink'] as Record<string, Json>)[m.key] = m.value;
      else set(backup, m.key, m.value);
      doc['backups'] = [...(Array.isArray(doc['backups']) ? doc['backups'] : []), backup];
      return;
    }
    case 'clock-ahead':
      doc['runningSince'] = Number(doc['id']) + 1;
      return;
    case 'restore-unlisted':
      doc['restoreFromBackup'] = { id: 'not-listed-anywhere-x', sink: { type: 'local', path: 'p' } };
      return;
  }
}

/** Whether a mutation left the state valid after all (a wrong value may happen to fit). */
function stillValid(text: string): boolean {
  return validateDesiredStateText({ file: 'm.jsonc', text }).verdict === 'valid';
}

void test('property: every refusal of a mutated state names where, and the report shows the JSON path', () => {
  fc.assert(
    fc.property(arbDesired(), fc.array(arbMutation, { minLength: 1, maxLength: 3 }), arbStyle, (desired, mutations, style) => {
      const doc = JSON.parse(JSON.stringify(desired)) as Record<string, Json>;
      for (const m of mutations) mutate(doc, m);
      const text = serialise(doc as unknown as Desired, style);
      if (stillValid(text)) return;
      const source = { file: 'm.jsonc', text };
      const r = validateDesiredStateText(source);
      assert.equal(r.verdict, 'invalid');
      assert.ok(r.problems.length > 0);
      for (const p of r.problems) {
        assert.ok(p.location !== undefined || p.path.length > 0, JSON.stringify(p));
        assert.ok(p.message.length > 0);
        const shown = formatProblem(p, r.source ?? source);
        assert.ok(shown.includes(formatJsonPath(p.path)), `${shown}\n--- lacks ${formatJsonPath(p.path)}`);
      }
    }),
    RUNS,
  );
});
