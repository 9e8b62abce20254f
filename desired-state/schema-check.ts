// Checking a parsed desired state against the JSON Schema (desired-state.schema.json),
// and turning Ajv's errors into one Problem per real issue, each located in the source.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { AnySchemaObject, ErrorObject, KeywordDefinition, ValidateFunction } from 'ajv';
import type { ParsedDocument } from './parse.ts';
import type { JsonPath, Problem, ProblemCode, SourceLocation } from './problem.ts';
import { formatJsonPath, problem } from './problem.ts';
import { aboveBoundMessage, crossFieldMaximumOf } from './cross-field-bounds.ts';
import { closest, didYouMean } from './suggest.ts';
import type { Desired } from './types.ts';

export type SchemaResult = { ok: true; desired: Desired } | { ok: false; problems: Problem[] };

/** Validates the document; on success, a copy with every default filled and `$schema` dropped. */
export function checkSchema(doc: ParsedDocument): SchemaResult {
  const data = structuredClone(doc.value);
  const validate = compiledSchema();
  if (validate(data) && isRecord(data)) {
    delete data['$schema'];
    // The schema just accepted it, and useDefaults filled every defaulted field.
    return { ok: true, desired: data as Desired };
  }
  return { ok: false, problems: problemsFromErrors(doc, (validate.errors ?? []) as SchemaError[]) };
}

// ---------------------------------------------------------------------------------------
// The compiled schema: built once, on first use.

const SCHEMA_URL = new URL('./desired-state.schema.json', import.meta.url);
let compiled: ValidateFunction | undefined;

function compiledSchema(): ValidateFunction {
  if (compiled === undefined) {
    const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as AnySchemaObject;
    const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true, verbose: true });
    for (const keyword of kubernetesKeywords) ajv.addKeyword(keyword);
    compiled = ajv.compile(closeObjects(structuredClone(schema)));
  }
  return compiled;
}

/**
 * Every object schema that lists `properties` and says nothing about other fields is
 * made closed (additionalProperties: false), as kubectl's strict field validation does.
 * The schema file itself stays within the Kubernetes structural subset.
 */
function closeObjects(schema: AnySchemaObject): AnySchemaObject {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isRecord(node)) return;
    if (isRecord(node['properties']) && !('additionalProperties' in node)) node['additionalProperties'] = false;
    for (const key of ['properties', 'definitions', '$defs', 'patternProperties']) {
      const children = node[key];
      if (isRecord(children)) Object.values(children).forEach(visit);
    }
    for (const key of ['items', 'additionalProperties', 'anyOf', 'allOf', 'oneOf', 'not', 'if', 'then', 'else']) {
      visit(node[key]);
    }
  };
  visit(schema);
  return schema;
}

// ---------------------------------------------------------------------------------------
// The Kubernetes extensions, enforced (the API server enforces them on a custom resource).

/** What a compiled keyword function looks like to Ajv (the type is not exported by ajv). */
interface KeywordCheck {
  (data: unknown, context?: { instancePath: string }): boolean;
  errors?: Array<Partial<ErrorObject>>;
}

const kubernetesKeywords: KeywordDefinition[] = [
  {
    keyword: 'x-kubernetes-list-type',
    type: 'array',
    schemaType: 'string',
    errors: true,
    compile: (listType: unknown, parentSchema: AnySchemaObject): KeywordCheck => {
      if (listType === 'set') return uniqueCheck('x-kubernetes-list-type', (item) => [item]);
      if (listType === 'map') {
        if (!Array.isArray(parentSchema['x-kubernetes-list-map-keys'])) {
          throw new Error('x-kubernetes-list-type "map" needs x-kubernetes-list-map-keys');
        }
        return () => true; // x-kubernetes-list-map-keys checks the keys
      }
      if (listType === 'atomic') return () => true;
      throw new Error(`x-kubernetes-list-type must be "atomic", "set" or "map", not ${JSON.stringify(listType)}`);
    },
  },
  {
    keyword: 'x-kubernetes-list-map-keys',
    type: 'array',
    schemaType: 'array',
    errors: true,
    compile: (keys: unknown): KeywordCheck => {
      const names = (Array.isArray(keys) ? keys : []).map(String);
      return uniqueCheck('x-kubernetes-list-map-keys', (item) =>
        isRecord(item) && names.every((k) => Object.hasOwn(item, k)) ? names.map((k) => item[k]) : undefined,
      );
    },
  },
  {
    keyword: 'x-kubernetes-int-or-string',
    schemaType: 'boolean',
    errors: true,
    compile: (enabled: unknown): KeywordCheck => {
      const check: KeywordCheck = (data) => {
        check.errors = [];
        if (enabled !== true || Number.isInteger(data) || typeof data === 'string') return true;
        check.errors = [{ keyword: 'x-kubernetes-int-or-string', params: { type: ['string', 'integer'] }, message: 'must be a string or an integer' }];
        return false;
      };
      return check;
    },
  },
];

/**
 * A check that no two items of an array have the same identity (`identity` returns
 * undefined for an item that has none; the item's own schema reports that). Each later
 * duplicate gets an error at its own path.
 */
function uniqueCheck(keyword: string, identity: (item: unknown) => unknown[] | undefined): KeywordCheck {
  const check: KeywordCheck = (data, context) => {
    check.errors = [];
    if (!Array.isArray(data)) return true;
    const first = new Map<string, number>();
    data.forEach((item, index) => {
      const id = identity(item);
      if (id === undefined) return;
      const key = JSON.stringify(id);
      const earlier = first.get(key);
      if (earlier === undefined) first.set(key, index);
      else {
        check.errors?.push({
          keyword,
          instancePath: `${context?.instancePath ?? ''}/${index}`,
          params: { duplicateOf: earlier, identity: id },
          message: 'must not repeat an item',
        });
      }
    });
    return check.errors.length === 0;
  };
  return check;
}

// ---------------------------------------------------------------------------------------
// From Ajv's errors to problems.

/** Ajv's error with `verbose: true`: the failing value and the schema holding the keyword. */
type SchemaError = ErrorObject & { data?: unknown; parentSchema?: AnySchemaObject };

function problemsFromErrors(doc: ParsedDocument, errors: SchemaError[]): Problem[] {
  const kept = dropMisspeltRequired(dropRedundant(collapseAnyOf(errors)));
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const faulty = new Set(kept.map((e) => e.instancePath));
  for (const error of kept) {
    const p = problemFromError(doc, error, faulty);
    const key = `${formatJsonPath(p.path)}\n${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(p);
  }
  return problems;
}

/**
 * anyOf fails with one error per branch plus its own. When one branch has the value's
 * type, its errors are the real ones; otherwise one "must be a string or an integer".
 */
function collapseAnyOf(errors: SchemaError[]): SchemaError[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  if (anyOfs.length === 0) return errors;
  const branches = new Map<SchemaError, SchemaError[]>();
  for (const e of errors) {
    const owner = anyOfs.find((a) => a !== e && e.schemaPath.startsWith(`${a.schemaPath}/`) && isWithin(e.instancePath, a.instancePath));
    if (owner === undefined) continue;
    const list = branches.get(owner);
    if (list === undefined) branches.set(owner, [e]);
    else list.push(e);
  }
  const inBranch = new Set([...branches.values()].flat());
  const out: SchemaError[] = [];
  for (const e of errors) {
    if (inBranch.has(e)) continue;
    if (e.keyword !== 'anyOf') {
      out.push(e);
      continue;
    }
    const own = branches.get(e) ?? [];
    const typed = own.filter((b) => !own.some((t) => t.keyword === 'type' && sameBranch(t, b, e)));
    out.push(...(typed.length > 0 ? typed : [anyOfAsType(e)]));
  }
  return out;
}

function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

function sameBranch(a: SchemaError, b: SchemaError, anyOf: SchemaError): boolean {
  const branch = (e: SchemaError) => e.schemaPath.slice(anyOf.schemaPath.length + 1).split('/')[0];
  return branch(a) === branch(b) && a.instancePath === anyOf.instancePath;
}

/** A failed anyOf whose branches are all type mismatches, as one type error. */
function anyOfAsType(e: SchemaError): SchemaError {
  const branches = Array.isArray(e.parentSchema?.['anyOf']) ? (e.parentSchema['anyOf'] as unknown[]) : [];
  const types = branches.flatMap((b) => (isRecord(b) ? [b['type']].flat() : [])).filter((t) => typeof t === 'string');
  return { ...e, keyword: 'type', params: { type: types } };
}

/** Keywords about the value itself; a wrong type makes the others noise. */
const VALUE_KEYWORDS: ReadonlySet<string> = new Set([
  'enum', 'const', 'pattern', 'format', 'minLength', 'maxLength', 'minimum', 'maximum',
  'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'x-kubernetes-int-or-string',
]);

/**
 * One issue, told once: a value of the wrong type also fails its enum or pattern, and an
 * empty string fails both minLength and its pattern.
 */
function dropRedundant(errors: SchemaError[]): SchemaError[] {
  const mistyped = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const empty = new Set(errors.filter((e) => e.keyword === 'minLength' && e.data === '').map((e) => e.instancePath));
  return errors.filter(
    (e) =>
      !(mistyped.has(e.instancePath) && VALUE_KEYWORDS.has(e.keyword)) &&
      !(e.keyword === 'pattern' && empty.has(e.instancePath)),
  );
}

/** `"pth"` unknown and `"path"` missing is one mistake: keep the unknown field only. */
function dropMisspeltRequired(errors: SchemaError[]): SchemaError[] {
  const misspelt = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'additionalProperties') continue;
    const properties = e.parentSchema?.['properties'];
    const meant = closest(String(e.params['additionalProperty']), isRecord(properties) ? Object.keys(properties) : []);
    if (meant !== undefined) misspelt.add(`${e.instancePath}\n${meant}`);
  }
  return errors.filter((e) => !(e.keyword === 'required' && misspelt.has(`${e.instancePath}\n${String(e.params['missingProperty'])}`)));
}

/** One schema error being described: the error, where it is, and what was written there. */
interface ErrorContext {
  doc: ParsedDocument;
  error: SchemaError;
  path: JsonPath;
  /** the value as written in the source (so a number reads as the person typed it) */
  raw: string | undefined;
  /** Instance paths (JSON pointers) with a schema error of their own. */
  faulty: ReadonlySet<string>;
}

interface Described {
  code: ProblemCode;
  path?: JsonPath;
  message: string;
  hint?: string | undefined;
  location?: SourceLocation | undefined;
}

function problemFromError(doc: ParsedDocument, error: SchemaError, faulty: ReadonlySet<string>): Problem {
  const path = toJsonPath(error.instancePath, doc.value);
  const d = describeError({ doc, error, path, raw: rawText(doc, path), faulty });
  const at = d.path ?? path;
  const base = problem(d.code, at, d.message, d.hint);
  const location = d.location ?? doc.locate(at);
  return location === undefined ? base : { ...base, location };
}

function describeError(cx: ErrorContext): Described {
  const params = cx.error.params as Record<string, unknown>;
  switch (cx.error.keyword) {
    case 'required':
      return missingField(cx, String(params['missingProperty']));
    case 'additionalProperties':
      return unknownField(cx, String(params['additionalProperty']));
    case 'type':
    case 'x-kubernetes-int-or-string':
      return wrongType(cx);
    case 'enum':
      return badEnum(cx);
    case 'pattern':
      return badPattern(cx);
    case 'x-kubernetes-list-type':
    case 'x-kubernetes-list-map-keys':
      return duplicateItem(cx);
    default:
      return aboveOtherField(cx) ?? outOfRange(cx) ?? { code: 'bad-value', message: cx.error.message ?? 'is not valid', hint: description(cx.error.parentSchema) };
  }
}

function missingField(cx: ErrorContext, name: string): Described {
  const path = [...cx.path, name];
  const field = propertySchema(cx.error.parentSchema, name);
  const what = field === undefined ? '' : ` (${summarize(field)})`;
  const about = description(field);
  return {
    code: 'missing-field',
    path,
    message: `missing required field ${JSON.stringify(name)}`,
    hint: `add ${JSON.stringify(name)}${what}${about === undefined ? '' : `: ${about}`}`,
  };
}

function unknownField(cx: ErrorContext, name: string): Described {
  const path = [...cx.path, name];
  const properties = cx.error.parentSchema?.['properties'];
  const allowed = isRecord(properties) ? Object.keys(properties) : [];
  const suggestion = didYouMean(name, allowed);
  const list = allowed.map((a) => JSON.stringify(a)).join(', ');
  return {
    code: 'unknown-field',
    path,
    message: `unknown field ${JSON.stringify(name)}`,
    hint: suggestion !== '' ? suggestion : allowed.length > 0 ? `the fields allowed here are ${list}` : 'remove it',
    location: cx.doc.locate(path, 'key'),
  };
}

const TYPE_ORDER = ['string', 'integer', 'number', 'boolean', 'object', 'array', 'null'];

function wrongType(cx: ErrorContext): Described {
  const wanted = [(cx.error.params as { type?: unknown }).type]
    .flat()
    .filter((t): t is string => typeof t === 'string')
    .sort((a, b) => TYPE_ORDER.indexOf(a) - TYPE_ORDER.indexOf(b));
  const data = cx.error.data;
  const got = isRecord(data) || Array.isArray(data) || data === null ? literal(data, cx.raw) : `${typeof data} ${literal(data, cx.raw)}`;
  return {
    code: cx.path.length === 0 ? 'not-object' : 'wrong-type',
    message: `must be ${wanted.map(withArticle).join(' or ')}, got ${got}`,
    hint: typeHint(cx, wanted) ?? description(cx.error.parentSchema) ?? `write ${wanted.map(example).join(' or ')}`,
  };
}

const EXAMPLES: Record<string, string> = {
  string: 'a string ("text")',
  integer: 'an integer (3)',
  number: 'a number (2.5)',
  boolean: 'true or false',
  object: 'an object ({ … })',
  array: 'a list ([ … ])',
  null: 'null',
};

function example(type: string): string {
  return EXAMPLES[type] ?? withArticle(type);
}

/** A hint for the usual type slips: quotes around a number, a fraction, a missing quote. */
function typeHint(cx: ErrorContext, wanted: string[]): string | undefined {
  const data = cx.error.data;
  const wantsNumber = wanted.includes('integer') || wanted.includes('number');
  if (typeof data === 'string' && wantsNumber && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(data)) {
    const n = Number(data);
    if (wanted.includes('number') || Number.isInteger(n)) return `write ${data.trim()} without quotes`;
  }
  if (typeof data === 'number' && wanted.includes('integer') && !Number.isInteger(data) && Number.isFinite(data)) {
    return `use a whole number, such as ${Math.round(data)}`;
  }
  if (typeof data === 'string' && wanted.includes('boolean') && /^(true|false)$/i.test(data.trim())) {
    return `write ${data.trim().toLowerCase()} without quotes`;
  }
  if ((typeof data === 'number' || typeof data === 'boolean') && wanted.includes('string')) {
    const written = cx.raw ?? String(data);
    const allowed = enumStrings(cx.error.parentSchema);
    const meant = allowed.includes(written) ? written : suggestValue(written, allowed);
    return `put it in double quotes: ${JSON.stringify(meant ?? written)}`;
  }
  if (data === null) return `give ${wanted.map(withArticle).join(' or ')}, or remove the field`;
  return undefined;
}

function badEnum(cx: ErrorContext): Described {
  const values = ((cx.error.params as { allowedValues?: unknown }).allowedValues ?? []) as unknown[];
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  const data = cx.error.data;
  const suggestion = typeof data === 'string' ? suggestValue(data, values.filter((v) => typeof v === 'string')) : undefined;
  return {
    code: 'bad-value',
    message: `must be ${values.length === 1 ? list : `one of ${list}`}, got ${literal(data, cx.raw)}`,
    hint: suggestion !== undefined ? `did you mean ${JSON.stringify(suggestion)}?` : description(cx.error.parentSchema),
  };
}

/** The allowed value a person probably meant: a near spelling, or the one it begins ("7" → "7.0"). */
function suggestValue(input: string, allowed: readonly string[]): string | undefined {
  const near = closest(input, allowed);
  if (near !== undefined) return near;
  const extending = allowed.filter((a) => input !== '' && a.startsWith(input));
  return extending.length === 1 ? extending[0] : undefined;
}

function enumStrings(schema: AnySchemaObject | undefined): string[] {
  const values = schema?.['enum'];
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
}

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

function badPattern(cx: ErrorContext): Described {
  const pattern = String((cx.error.params as { pattern?: unknown }).pattern);
  const data = cx.error.data;
  const got = literal(data, cx.raw);
  if (pattern !== DNS_LABEL) {
    return { code: 'bad-value', message: `must match the pattern ${pattern}, got ${got}`, hint: description(cx.error.parentSchema) };
  }
  const fixed = typeof data === 'string' ? asDnsLabel(data) : '';
  return {
    code: 'bad-value',
    message:
      `must be a DNS-1123 label: lower-case letters a-z, digits 0-9 and '-', ` +
      `starting and ending with a letter or digit, got ${got}`,
    hint: `for example ${JSON.stringify(fixed !== '' ? fixed : 'my-cluster')}`,
  };
}

/** The nearest DNS-1123 label to `s`: "My_Cluster" → "my-cluster". */
function asDnsLabel(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
}

function duplicateItem(cx: ErrorContext): Described {
  const params = cx.error.params as { duplicateOf?: unknown; identity?: unknown };
  const list = cx.path.slice(0, -1);
  const first = formatJsonPath([...list, Number(params.duplicateOf)]);
  const listName = String(list.at(-1) ?? 'the list');
  const identity = [params.identity].flat() as unknown[];
  if (cx.error.keyword === 'x-kubernetes-list-type') {
    return {
      code: 'duplicate-item',
      message: `duplicate item ${JSON.stringify(identity[0])}: already listed at ${first}`,
      hint: `remove one; each item of ${listName} may appear only once`,
    };
  }
  // A custom keyword's error carries its own schema value: here, the key names.
  const keys = (Array.isArray(cx.error.schema) ? (cx.error.schema as unknown[]) : []).map(String);
  const values = identity.map((v) => JSON.stringify(v)).join(', ');
  const key = keys[0];
  return {
    code: 'duplicate-item',
    message: `duplicate ${keys.join(', ')} ${values}: ${first} has the same`,
    hint: `give each item of ${listName} its own ${keys.map((k) => JSON.stringify(k)).join(', ')}`,
    location: keys.length === 1 && key !== undefined ? cx.doc.locate([...cx.path, key]) : undefined,
  };
}

/**
 * A value above the schema's maximum where another field sets a tighter one
 * (cross-field-bounds.ts): the bound that applies is named, not the schema's. Only when
 * that other field is itself valid and below the schema's bound; else the schema's.
 */
function aboveOtherField(cx: ErrorContext): Described | undefined {
  if (cx.error.keyword !== 'maximum' || cx.path.length !== 1 || typeof cx.path[0] !== 'string') return undefined;
  const cross = crossFieldMaximumOf(cx.path[0]);
  if (cross === undefined || cx.faulty.has(`/${cross.bound}`) || !isRecord(cx.doc.value)) return undefined;
  const bound = cx.doc.value[cross.bound];
  const limit = Number((cx.error.params as { limit?: unknown }).limit);
  if (typeof bound !== 'number' || !Number.isSafeInteger(bound) || !(bound < limit)) return undefined;
  return { code: 'out-of-range', message: aboveBoundMessage(cross.bound, bound, literal(cx.error.data, cx.raw)), hint: cross.hint(bound) };
}

/** Messages for minimum/maximum, lengths and counts; undefined for other keywords. */
function outOfRange(cx: ErrorContext): Described | undefined {
  const limit = String((cx.error.params as { limit?: unknown }).limit);
  const data = cx.error.data;
  const got = literal(data, cx.raw);
  const size = Array.isArray(data) || typeof data === 'string' ? data.length : isRecord(data) ? Object.keys(data).length : 0;
  const count = (unit: string) => `${limit} ${unit}${limit === '1' ? '' : 's'}`;
  const messages: Record<string, () => string> = {
    minimum: () => `must be at least ${limit}, got ${got}`,
    maximum: () => `must be at most ${limit}, got ${got}`,
    exclusiveMinimum: () => `must be greater than ${limit}, got ${got}`,
    exclusiveMaximum: () => `must be less than ${limit}, got ${got}`,
    minLength: () => (data === '' ? 'must not be empty' : `must be at least ${count('character')} long, got ${size}`),
    maxLength: () => `must be at most ${count('character')} long, got ${size}`,
    minItems: () => `must have at least ${count('item')}, got ${size}`,
    maxItems: () => `must have at most ${count('item')}, got ${size}`,
    minProperties: () => `must have at least ${limit} ${limit === '1' ? 'entry' : 'entries'}, got ${size}`,
    maxProperties: () => `must have at most ${limit} ${limit === '1' ? 'entry' : 'entries'}, got ${size}`,
  };
  const message = messages[cx.error.keyword];
  if (message === undefined) return undefined;
  const schema = cx.error.parentSchema;
  return { code: 'out-of-range', message: message(), hint: description(schema) ?? rangeHint(cx.error.keyword, schema) };
}

/** The allowed range as an instruction, for a schema without a description. */
function rangeHint(keyword: string, schema: AnySchemaObject | undefined): string {
  const bounds = (min: string, max: string, unit: string) => {
    const [lo, hi] = [schema?.[min] as unknown, schema?.[max] as unknown];
    if (lo !== undefined && hi !== undefined) return `from ${String(lo)} to ${String(hi)}${unit}`;
    return lo !== undefined ? `at least ${String(lo)}${unit}` : `at most ${String(hi)}${unit}`;
  };
  if (/Length$/.test(keyword)) return `write ${bounds('minLength', 'maxLength', ' characters')}`;
  if (/Items$/.test(keyword)) return `list ${bounds('minItems', 'maxItems', ' items')}`;
  if (/Properties$/.test(keyword)) return `give ${bounds('minProperties', 'maxProperties', ' entries')}`;
  return `use a number ${bounds('minimum', 'maximum', '')}`;
}

// ---------------------------------------------------------------------------------------
// Small helpers.

/** "/backups/0/sink" → ['backups', 0, 'sink'] (indexes are numbers where the data is an array). */
function toJsonPath(pointer: string, root: unknown): JsonPath {
  if (pointer === '') return [];
  const path: Array<string | number> = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(segment)) {
      path.push(Number(segment));
      node = node[Number(segment)];
    } else {
      path.push(segment);
      node = isRecord(node) && Object.hasOwn(node, segment) ? node[segment] : undefined;
    }
  }
  return path;
}

/** A value as it reads in a message: `"3"`, `2.5` (as written), `true`, `null`, `an object`. */
function literal(data: unknown, raw: string | undefined): string {
  if (typeof data === 'string') return JSON.stringify(data.length > 60 ? `${data.slice(0, 60)}…` : data);
  if (typeof data === 'number') return raw !== undefined && raw.length <= 40 ? raw : String(data);
  if (typeof data === 'boolean' || data === null) return String(data);
  return Array.isArray(data) ? 'an array' : 'an object';
}

function withArticle(type: string): string {
  if (type === 'null') return 'null';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** "an integer from 1 to 5", "one of "7.0", "8.0"", "a string", "an object". */
function summarize(schema: AnySchemaObject): string {
  const type = schema['type'];
  if (Array.isArray(schema['enum'])) return `one of ${(schema['enum'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (type === 'integer' || type === 'number') {
    const min = schema['minimum'];
    const max = schema['maximum'];
    const range = min !== undefined && max !== undefined ? ` from ${String(min)} to ${String(max)}` : min !== undefined ? ` ≥ ${String(min)}` : '';
    return `${withArticle(String(type))}${range}`;
  }
  if (type === 'array') return 'a list';
  return typeof type === 'string' ? withArticle(type) : 'a value';
}

function propertySchema(schema: AnySchemaObject | undefined, name: string): AnySchemaObject | undefined {
  const properties = schema?.['properties'];
  const field = isRecord(properties) ? properties[name] : undefined;
  return isRecord(field) ? field : undefined;
}

/** The schema's description of a field, used as a hint. */
function description(schema: AnySchemaObject | undefined): string | undefined {
  const text = schema?.['description'];
  return typeof text === 'string' ? text : undefined;
}

/** The source text of the value at `path` (for numbers: what the person wrote). */
function rawText(doc: ParsedDocument, path: JsonPath): string | undefined {
  let node = doc.root;
  for (const segment of path) {
    const next =
      typeof segment === 'number'
        ? node.type === 'array' ? node.children?.[segment] : undefined
        : node.type === 'object' ? node.children?.findLast((p) => p.children?.[0]?.value === segment)?.children?.[1] : undefined;
    if (next === undefined) return undefined;
    node = next;
  }
  return doc.source.text.slice(node.offset, node.offset + node.length);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
