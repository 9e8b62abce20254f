// desired-state.generated.ts must be exactly what `make generate` writes from the schema:
// nobody edits it by hand, and nobody changes the schema and forgets to regenerate.
// The json2ts options are read from the Makefile's recipe, so the two cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileFromFile } from 'json-schema-to-typescript';
import type { Options } from 'json-schema-to-typescript';

/** The arguments of the json2ts call in the Makefile, without the input and output. */
function json2tsOptionsFromMakefile(): Partial<Options> {
  const makefile = readFileSync(new URL('../Makefile', import.meta.url), 'utf8').replace(/\\\n/g, ' ');
  const command = /json2ts\s+(.*)$/m.exec(makefile)?.[1];
  assert.ok(command !== undefined, 'the Makefile has no json2ts recipe');
  const words = [...command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
  const options: Record<string, unknown> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '-i' || word === '-o' || word === '--input' || word === '--output') {
      i++;
      continue;
    }
    if (!word.startsWith('--')) continue;
    const name = word.slice(2);
    const next = words[i + 1];
    if (next === undefined || (next.startsWith('-') && !/^-\d/.test(next))) {
      options[name] = true; // a flag without a value
      continue;
    }
    options[name] = next === 'true' ? true : next === 'false' ? false : /^-?\d+$/.test(next) ? Number(next) : next;
    i++;
  }
  return options as Partial<Options>;
}

void test('the json2ts options are read from the Makefile', () => {
  const options = json2tsOptionsFromMakefile();
  assert.equal(options.maxItems, -1);
  assert.match(options.bannerComment ?? '', /^\/\/ Generated from desired-state\.schema\.json by 'make generate'/);
});

void test('desired-state.generated.ts is current: run `make generate` after changing the schema', async () => {
  const schema = fileURLToPath(new URL('./desired-state.schema.json', import.meta.url));
  const generated = await compileFromFile(schema, json2tsOptionsFromMakefile());
  const committed = readFileSync(new URL('./desired-state.generated.ts', import.meta.url), 'utf8');
  assert.equal(committed, generated, 'desired-state.generated.ts differs from what the schema gives: run `make generate`');
});
