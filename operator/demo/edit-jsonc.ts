// Sets fields in a JSONC file and keeps its comments and layout (jsonc-parser's modify),
// the way a person editing desired_state.jsonc would. Used by the demo:
//   node operator/demo/edit-jsonc.ts IN OUT field=jsonValue ...
import { readFileSync, writeFileSync } from 'node:fs';
import { applyEdits, modify } from 'jsonc-parser';

export function editJsonc(text: string, changes: Record<string, unknown>): string {
  let out = text;
  for (const [field, value] of Object.entries(changes)) {
    out = applyEdits(out, modify(out, field.split('.'), value, { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input, output, ...assignments] = process.argv.slice(2);
  if (input === undefined || output === undefined) {
    console.error('usage: edit-jsonc.ts IN OUT field=jsonValue ...');
    process.exit(2);
  }
  const changes: Record<string, unknown> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    changes[a.slice(0, eq)] = JSON.parse(a.slice(eq + 1)) as unknown;
  }
  writeFileSync(output, editJsonc(readFileSync(input, 'utf8'), changes));
}
