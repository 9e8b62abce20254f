// Parsing a desired-state text (JSON with comments and trailing commas) into a tree that
// remembers where every value is. Reports every syntax error, duplicate key, excessive
// nesting and a root that is not an object, in one pass; never throws and never hangs.
import { createScanner, getLocation, parseTree, printParseErrorCode, visit } from 'jsonc-parser';
import type { JSONVisitor, Node, ParseOptions } from 'jsonc-parser';
import type { JsonPath, Problem, SourceLocation } from './problem.ts';
import { problem } from './problem.ts';
import type { SourceText } from './read-source.ts';
import { blankSourceProblem, lineColumnAt, lineStartsOf, MAX_NESTING_DEPTH } from './read-source.ts';

export interface ParsedDocument {
  source: SourceText;
  root: Node;
  /** The plain JSON value of the document (a key "__proto__" is an ordinary own field). */
  value: unknown;
  /**
   * Where the value at `path` is (or its key, with 'key'). For a path that does not
   * exist, where its nearest existing ancestor is.
   */
  locate(path: JsonPath, part?: 'key' | 'value'): SourceLocation | undefined;
}

export type ParseResult = { ok: true; doc: ParsedDocument } | { ok: false; problems: Problem[] };

const PARSE_OPTIONS: ParseOptions = { disallowComments: false, allowTrailingComma: true, allowEmptyContent: false };

/**
 * The parser recurses once per nesting level, so a text nested deeper than this is only
 * reported as too deep and never handed to it (1 MiB of "[" would overflow the stack).
 */
const SAFE_PARSE_DEPTH = 256;

/** Beyond this many syntax errors and duplicate keys, the rest are counted, not listed. */
const MAX_LISTED = 50;

/** Some problems, and how many more were found but not kept. */
interface Counted {
  problems: Problem[];
  more: number;
}

export function parseDesiredStateText(source: SourceText): ParseResult {
  const blank = blankSourceProblem(source);
  if (blank !== undefined) return { ok: false, problems: [blank] };
  const problems: Problem[] = [];
  const nesting = measureNesting(source.text);
  if (nesting.tooDeepAt !== undefined) problems.push(tooDeep(source, nesting.tooDeepAt, nesting.max));
  if (nesting.max > SAFE_PARSE_DEPTH) return { ok: false, problems };

  const syntax = syntaxProblems(source);
  const root = parseTree(source.text, [], PARSE_OPTIONS);
  const duplicates = root === undefined ? { problems: [], more: 0 } : duplicateKeyProblems(source, root);
  problems.push(...listed([syntax, duplicates]));
  if (root !== undefined && root.type !== 'object') problems.push(notObject(source, root));
  if (root === undefined || problems.length > 0) return { ok: false, problems };
  return { ok: true, doc: parsedDocument(source, root) };
}

/** The first MAX_LISTED problems in source order, and one line for the rest. */
function listed(groups: Counted[]): Problem[] {
  const all = groups.flatMap((g) => g.problems).sort(bySourceOrder);
  const more = groups.reduce((n, g) => n + g.more, 0) + Math.max(0, all.length - MAX_LISTED);
  const kept = all.slice(0, MAX_LISTED);
  if (more === 0) return kept;
  const summary = problem(
    'syntax',
    [],
    `… and ${more} more problem${more === 1 ? '' : 's'} of this kind not listed`,
    'fix the ones above first; many of the rest may be caused by them',
  );
  return [...kept, summary];
}

function bySourceOrder(a: Problem, b: Problem): number {
  return (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0);
}

// ---------------------------------------------------------------------------------------
// Nesting, measured with the scanner alone (no recursion). A closing bracket pops only
// the bracket it matches, as the parser does, so this depth bounds the parser's.

interface Nesting {
  max: number;
  tooDeepAt?: number;
}

function measureNesting(text: string): Nesting {
  const scanner = createScanner(text, true);
  const open: number[] = [];
  const nesting: Nesting = { max: 0 };
  for (let token = scanner.scan(); token !== 17 /* EOF */; token = scanner.scan()) {
    if (token === 1 /* { */ || token === 3 /* [ */) {
      open.push(token);
      if (open.length > nesting.max) nesting.max = open.length;
      if (open.length > MAX_NESTING_DEPTH && nesting.tooDeepAt === undefined) {
        nesting.tooDeepAt = scanner.getTokenOffset();
      }
    } else if ((token === 2 /* } */ && open.at(-1) === 1) || (token === 4 /* ] */ && open.at(-1) === 3)) {
      open.pop();
    }
  }
  return nesting;
}

function tooDeep(source: SourceText, offset: number, max: number): Problem {
  // getLocation stops at `offset`, so it recurses at most MAX_NESTING_DEPTH + 1 levels.
  const path = getLocation(source.text, offset).path;
  const levels = max > SAFE_PARSE_DEPTH ? `more than ${SAFE_PARSE_DEPTH}` : String(max);
  return {
    ...problem(
      'too-deep',
      path,
      `objects and arrays are nested too deeply: ${levels} levels, the limit is ${MAX_NESTING_DEPTH}`,
      'a desired state needs only a few levels; look for brackets that are opened and never closed',
    ),
    location: locationAt(source, offset, 1),
  };
}

// ---------------------------------------------------------------------------------------
// Syntax errors. jsonc-parser reports one error and then, while it recovers, often a few
// more caused by the first; those follow-ups are dropped so each mistake is told once.

type ErrorName = ReturnType<typeof printParseErrorCode>;

interface Container {
  kind: 'object' | 'array';
  offset: number;
  path: JsonPath;
}

interface SyntaxContext {
  source: SourceText;
  /** the innermost open object or array when the error was seen */
  container: Container | undefined;
  /** the object or array the parser closed last (it closes before "expected '}'") */
  lastClosed: Container | undefined;
  /** where the last complete value ended */
  lastValueEnd: number;
}

/** Errors that only say the parser lost its footing; dropped right after another error. */
const FOLLOW_UPS: ReadonlySet<ErrorName> = new Set<ErrorName>([
  'ValueExpected',
  'PropertyNameExpected',
  'CommaExpected',
  'ColonExpected',
]);

function syntaxProblems(source: SourceText): Counted {
  const collector = new SyntaxErrorCollector(source);
  visit(source.text, collector.visitor(), PARSE_OPTIONS);
  return { problems: collector.problems, more: collector.dropped };
}

/** Follows the parser through the text to tell each syntax error with its context. */
class SyntaxErrorCollector {
  readonly problems: Problem[] = [];
  dropped = 0;
  private readonly stack: Container[] = [];
  private lastClosed: Container | undefined;
  /** the JSON path of the last thing the parser read */
  private path: JsonPath = [];
  private lastValueEnd = -1;
  private lastErrorOffset = -1;
  /** an error was seen and no token after it has been read yet */
  private recovering = false;
  /** an unterminated string or comment ran to the end: "unclosed" errors follow from it */
  private unterminatedToEnd = false;
  /** a '}' closed an array (or a ']' an object): what the parser says after it is noise */
  private mismatched = false;

  private readonly source: SourceText;
  constructor(source: SourceText) {
    this.source = source;
  }

  visitor(): JSONVisitor {
    return {
      onObjectBegin: (offset, _l, _sl, _sc, at) => this.begin('object', offset, at()),
      onArrayBegin: (offset, _l, _sl, _sc, at) => this.begin('array', offset, at()),
      onObjectEnd: (offset, length) => this.end(offset, length),
      onArrayEnd: (offset, length) => this.end(offset, length),
      onObjectProperty: (property, offset, _l, _sl, _sc, at) => this.read(offset, [...at(), property]),
      onLiteralValue: (_value, offset, length, _sl, _sc, at) => {
        this.lastValueEnd = offset + length;
        this.read(offset, at());
      },
      onSeparator: (_character, offset) => this.read(offset, this.path),
      onError: (code, offset, length) => this.error(printParseErrorCode(code), offset, length),
    };
  }

  private begin(kind: Container['kind'], offset: number, path: JsonPath): void {
    this.stack.push({ kind, offset, path });
    this.read(offset, path);
  }

  private end(offset: number, length: number): void {
    this.lastClosed = this.stack.pop();
    if (length > 0) this.lastValueEnd = offset + length;
    this.read(offset, this.lastClosed?.path ?? []);
  }

  /** A token read after the last error means the parser is back on track. */
  private read(offset: number, path: JsonPath): void {
    this.path = path;
    if (offset > this.lastErrorOffset) this.recovering = false;
  }

  private error(name: ErrorName, offset: number, length: number): void {
    if (this.isConsequence(name)) return;
    const text = this.source.text;
    const container = this.stack.at(-1);
    this.recovering = true;
    this.lastErrorOffset = offset;
    if (FOLLOW_UPS.has(name) && isWrongCloser(text[offset], container)) this.mismatched = true;
    if ((name === 'UnexpectedEndOfString' || name === 'UnexpectedEndOfComment') && offset + length >= text.length) {
      this.unterminatedToEnd = true;
    }
    if (this.problems.length >= MAX_LISTED) {
      this.dropped++;
      return;
    }
    const context: SyntaxContext = { source: this.source, container, lastClosed: this.lastClosed, lastValueEnd: this.lastValueEnd };
    this.problems.push(syntaxProblem(context, name, offset, length, this.path));
  }

  /** Whether an error only follows from one already told. */
  private isConsequence(name: ErrorName): boolean {
    const closing = name === 'CloseBraceExpected' || name === 'CloseBracketExpected';
    const structural = closing || FOLLOW_UPS.has(name) || name === 'EndOfFileExpected';
    return (
      (closing && this.unterminatedToEnd) || (structural && this.mismatched) || (this.recovering && FOLLOW_UPS.has(name))
    );
  }
}

/** A '}' inside an array, or a ']' inside an object. */
function isWrongCloser(char: string | undefined, container: Container | undefined): boolean {
  return (char === '}' && container?.kind === 'array') || (char === ']' && container?.kind === 'object');
}

interface Described {
  message: string;
  hint?: string;
  /** report at another place than the error offset (the opening bracket of an unclosed one) */
  at?: { offset: number; length: number; path: JsonPath };
}

function syntaxProblem(context: SyntaxContext, name: ErrorName, offset: number, length: number, path: JsonPath): Problem {
  const described = describeSyntaxError(context, name, offset, length);
  const at = described.at ?? { offset, length, path };
  return {
    ...problem('syntax', at.path, described.message, described.hint),
    location: locationAt(context.source, at.offset, at.length),
  };
}

function describeSyntaxError(context: SyntaxContext, name: ErrorName, offset: number, length: number): Described {
  const text = context.source.text;
  const token = text.slice(offset, offset + length);
  if (FOLLOW_UPS.has(name) && isWrongCloser(text[offset], context.container)) return describeWrongCloser(context, offset);
  switch (name) {
    case 'InvalidSymbol':
      return describeInvalidSymbol(text, token, offset);
    case 'InvalidNumberFormat':
      return { message: `invalid number ${shown(token)}`, hint: NUMBER_HINT };
    case 'PropertyNameExpected':
      return {
        message: `expected a property name in double quotes, found ${found(text, offset, length)}`,
        hint: text[offset] === ',' ? "remove the extra ','" : 'write "name": value',
      };
    case 'ValueExpected':
      return describeValueExpected(context, offset, length);
    case 'ColonExpected':
      return { message: `expected ':' after the property name, found ${found(text, offset, length)}`, hint: 'write "name": value' };
    case 'CommaExpected':
      return describeCommaExpected(context, offset, token);
    case 'CloseBraceExpected':
    case 'CloseBracketExpected':
      return describeUnclosed(context, name, offset);
    case 'EndOfFileExpected':
      return {
        message: 'unexpected content after the end of the document',
        hint: "the desired state is one object { … }; remove what follows its closing '}', or look for a '}' that closes it too early",
      };
    case 'InvalidCommentToken':
      return { message: 'comments are not allowed here', hint: 'remove the comment' };
    case 'UnexpectedEndOfComment':
      return { message: "unterminated comment: '/*' has no matching '*/'", hint: "close the comment with '*/'" };
    case 'UnexpectedEndOfString':
      return {
        message: 'unterminated string',
        hint: 'add the closing \'"\'; a string cannot go on to the next line (write \\n for a line break)',
      };
    case 'UnexpectedEndOfNumber':
      return { message: `incomplete number ${shown(token)}`, hint: NUMBER_HINT };
    case 'InvalidUnicode':
      return { message: 'invalid \\u escape in a string', hint: 'write \\u and exactly four hex digits, e.g. \\u00e9' };
    case 'InvalidEscapeCharacter':
      return {
        message: 'invalid escape sequence in a string',
        hint: 'the escapes are \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX; write \\\\ for a backslash (e.g. in a Windows path)',
      };
    case 'InvalidCharacter':
      return { message: 'a string contains a raw control character (such as a tab)', hint: 'write it as an escape: \\t for a tab' };
    default:
      return { message: `syntax error (${name})` };
  }
}

const NUMBER_HINT = 'write numbers like 3, -1 or 2.5: no leading zeros, no "+", no hex, digits after "." and "e"';

function describeInvalidSymbol(text: string, word: string, offset: number): Described {
  if (/^[xX][0-9a-fA-F]+$/.test(word) && text[offset - 1] === '0') {
    return { message: `hexadecimal numbers are not JSON: 0${word}`, hint: 'write the number in decimal' };
  }
  if (/^[-+.]/.test(word)) return { message: `invalid number ${shown(word)}`, hint: NUMBER_HINT };
  if (/^(true|false|null)$/i.test(word)) {
    return { message: `unknown word ${word}`, hint: `write ${word.toLowerCase()}: true, false and null are lower-case` };
  }
  if (/^(NaN|-?Infinity|undefined)$/.test(word)) {
    return { message: `${word} is not a JSON value`, hint: 'write a number, or null' };
  }
  if (word.startsWith("'")) {
    return { message: `single quotes are not JSON: ${word}`, hint: `use double quotes: ${JSON.stringify(word.replace(/^'|'$/g, ''))}` };
  }
  if (/^[A-Za-z_$][\w$-]*$/.test(word)) {
    const after = offset + word.length;
    const isKey = /^\s*:/.test(text.slice(after, after + 200));
    return isKey
      ? { message: `property name without quotes: ${word}`, hint: `put it in double quotes: "${word}"` }
      : { message: `unexpected word ${word}`, hint: `if it is text, put it in double quotes: "${word}"` };
  }
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/^[\u0000-\u001f\u007f-\u009f]/.test(word)) {
    const code = word.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return { message: `unexpected control character U+${code}`, hint: 'remove it; the file may be damaged or not a desired state' };
  }
  const what = word.length === 1 ? 'character' : 'text';
  return { message: `unexpected ${what} ${shown(word)}`, hint: 'remove it, or put text in double quotes' };
}

function describeWrongCloser(context: SyntaxContext, offset: number): Described {
  const container = context.container;
  const [kind, close, wrong] = container?.kind === 'array' ? (['array', ']', '}'] as const) : (['object', '}', ']'] as const);
  const line = container === undefined ? 1 : lineColumnAt(lineStartsOf(context.source), container.offset).line;
  return {
    message: `expected '${close}' to close the ${kind} that starts on line ${line}, found '${wrong}'`,
    hint: `brackets must pair up: '[' with ']' and '{' with '}'; check what is missing between line ${line} and here`,
    at: { offset, length: 1, path: container?.path ?? [] },
  };
}

function describeValueExpected(context: SyntaxContext, offset: number, length: number): Described {
  const text = context.source.text;
  const what = found(text, offset, length);
  const inObject = context.container?.kind === 'object';
  if (text[offset] === ',') {
    return inObject
      ? { message: `expected a property, found ','`, hint: "remove the extra ','" }
      : { message: `expected a value, found ','`, hint: "remove the extra ',', or put a value before it" };
  }
  return {
    message: `expected a value, found ${what}`,
    hint: 'a value is a string in double quotes, a number, true, false, null, an object { … } or an array [ … ]',
  };
}

function describeCommaExpected(context: SyntaxContext, offset: number, token: string): Described {
  const { source, container, lastValueEnd } = context;
  const text = source.text;
  if (/^\d/.test(token) && /(^|[^\d.eE+-])-?0$/.test(text.slice(Math.max(0, offset - 20), offset))) {
    return { message: 'a number cannot start with 0', hint: `write ${token} instead of 0${token}` };
  }
  const between = container?.kind === 'array' ? 'array items' : 'properties';
  const starts = lineStartsOf(source);
  const previousLine = lastValueEnd >= 0 ? lineColumnAt(starts, lastValueEnd).line : undefined;
  const line = lineColumnAt(starts, offset).line;
  const hint =
    previousLine === undefined || previousLine === line
      ? "add a ',' before this"
      : `add a ',' at the end of line ${previousLine}`;
  return { message: `expected a comma between ${between}`, hint };
}

function describeUnclosed(context: SyntaxContext, name: ErrorName, offset: number): Described {
  const [kind, open, close] = name === 'CloseBraceExpected' ? (['object', '{', '}'] as const) : (['array', '[', ']'] as const);
  const opened = context.lastClosed;
  const endWords = offset >= context.source.text.length ? 'before the end of the file' : '';
  if (opened === undefined) {
    return { message: `unclosed ${kind}: expected '${close}' ${endWords}`.trimEnd(), hint: `add the missing '${close}'` };
  }
  return {
    message: `unclosed ${kind}: this '${open}' has no matching '${close}' ${endWords}`.trimEnd(),
    hint: `add the missing '${close}' where the ${kind} ends`,
    at: { offset: opened.offset, length: 1, path: opened.path },
  };
}

/** How the token at an error reads in a message: `'}'`, `"b"`, `the end of the file`. */
function found(text: string, offset: number, length: number): string {
  if (offset >= text.length) return 'the end of the file';
  const token = length > 0 ? text.slice(offset, offset + length) : (text[offset] ?? '');
  return /^[{}[\]:,]$/.test(token) ? `'${token}'` : shown(token);
}

/** A token as it appears, shortened to a readable size. */
function shown(token: string): string {
  return token.length > 40 ? `${token.slice(0, 40)}…` : token;
}

// ---------------------------------------------------------------------------------------
// Duplicate keys: JSON parsers keep one of the values silently, which hides mistakes.

function duplicateKeyProblems(source: SourceText, root: Node): Counted {
  const problems: Problem[] = [];
  let more = 0;
  const pending: Array<{ node: Node; path: JsonPath }> = [{ node: root, path: [] }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { node, path } = item;
    if (node.type === 'array') {
      (node.children ?? []).forEach((child, i) => pending.push({ node: child, path: [...path, i] }));
      continue;
    }
    if (node.type !== 'object') continue;
    const first = new Map<string, Node>();
    for (const property of node.children ?? []) {
      const [key, value] = property.children ?? [];
      if (key === undefined || typeof key.value !== 'string') continue;
      const name = key.value;
      const earlier = first.get(name);
      if (earlier === undefined) first.set(name, key);
      else if (problems.length < MAX_LISTED) problems.push(duplicateKey(source, [...path, name], key, earlier));
      else more++;
      if (value !== undefined) pending.push({ node: value, path: [...path, name] });
    }
  }
  return { problems, more };
}

function duplicateKey(source: SourceText, path: JsonPath, key: Node, first: Node): Problem {
  const name = String(path.at(-1));
  const firstLine = lineColumnAt(lineStartsOf(source), first.offset).line;
  return {
    ...problem(
      'duplicate-key',
      path,
      `duplicate key ${JSON.stringify(name)}: it is already set on line ${firstLine}`,
      'remove one of the two; a JSON reader would silently keep only one value',
    ),
    location: locationAt(source, key.offset, key.length),
  };
}

function notObject(source: SourceText, root: Node): Problem {
  const kinds: Record<Node['type'], string> = {
    array: 'an array',
    string: 'a string',
    number: 'a number',
    boolean: String(root.value),
    null: 'null',
    property: 'a property',
    object: 'an object',
  };
  return {
    ...problem(
      'not-object',
      [],
      `the desired state must be a JSON object { … }, found ${kinds[root.type]}`,
      'write the fields inside braces: { "id": 1, "name": "demo", … } (see desired-state/desired_state.jsonc)',
    ),
    location: locationAt(source, root.offset, root.length),
  };
}

// ---------------------------------------------------------------------------------------
// The parsed document.

function parsedDocument(source: SourceText, root: Node): ParsedDocument {
  return {
    source,
    root,
    value: nodeValue(root),
    locate(path, part = 'value') {
      const hit = findNode(root, path);
      const node = part === 'key' && hit.complete && hit.key !== undefined ? hit.key : hit.node;
      return locationAt(source, node.offset, node.length);
    },
  };
}

interface Found {
  node: Node;
  /** the key node of the last segment, when it is a property */
  key?: Node;
  /** whether the whole path exists */
  complete: boolean;
}

/** The node at `path`, or its nearest existing ancestor. The last of duplicate keys wins. */
function findNode(root: Node, path: JsonPath): Found {
  let node = root;
  let key: Node | undefined;
  for (const segment of path) {
    const next = typeof segment === 'number' ? arrayItem(node, segment) : propertyOf(node, segment);
    if (next === undefined) return { node, complete: false };
    node = next.value;
    key = next.key;
  }
  return key === undefined ? { node, complete: true } : { node, key, complete: true };
}

function arrayItem(node: Node, index: number): { value: Node; key?: Node } | undefined {
  if (node.type !== 'array') return undefined;
  const value = node.children?.[index];
  return value === undefined ? undefined : { value };
}

function propertyOf(node: Node, name: string): { value: Node; key: Node } | undefined {
  if (node.type !== 'object') return undefined;
  const children = node.children ?? [];
  for (let i = children.length - 1; i >= 0; i--) {
    const [key, value] = children[i]?.children ?? [];
    if (key?.value === name && value !== undefined) return { key, value };
  }
  return undefined;
}

/** The JSON value of a node; "__proto__" becomes an own field, not the prototype. */
function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      const object: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        if (key === undefined || value === undefined) continue;
        Object.defineProperty(object, String(key.value), {
          value: nodeValue(value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return object;
    }
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value as unknown;
  }
}

function locationAt(source: SourceText, offset: number, length: number): SourceLocation {
  const { line, column } = lineColumnAt(lineStartsOf(source), offset);
  return { file: source.file, line, column, length: Math.max(1, length) };
}
