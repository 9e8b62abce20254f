// The VM provider seam: the leader's core and the reconciler know VM providers only
// through the port (operator/ports/vm-provider.ts), so a pod provider can take the local
// one's place. Read from the import lines of the files themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const operatorDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** The module specifiers a TypeScript file imports (static and dynamic), resolved against the operator directory. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gms), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => path.relative(operatorDir, path.resolve(path.dirname(file), s)));
}

const core = [
  path.join(operatorDir, 'leader', 'leader.ts'),
  path.join(operatorDir, 'leader', 'wiring.ts'),
  ...readdirSync(path.join(operatorDir, 'reconciler'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => path.join(operatorDir, 'reconciler', f)),
];

test('the leader, its wiring and the reconciler import no VM provider, only the port', () => {
  for (const file of core) {
    const imports = importsOf(file);
    assert.ok(imports.length > 0, `${path.relative(operatorDir, file)}: its imports are read`);
    const providers = imports.filter((i) => i.startsWith(`vm${path.sep}`) || i.includes('local-provider') || i.includes('providers'));
    assert.deepEqual(providers, [], `${path.relative(operatorDir, file)} imports a VM provider: ${providers.join(', ')}`);
  }
  assert.ok(
    importsOf(path.join(operatorDir, 'leader', 'leader.ts')).includes(path.join('ports', 'vm-provider.ts')),
    'leader.ts takes its provider through the port',
  );
});

test('the reading of import lines sees a local provider import where there is one', () => {
  // The check above would pass vacuously if importsOf read nothing: it must see this one.
  assert.ok(importsOf(path.join(operatorDir, 'vm', 'providers.ts')).includes(path.join('vm', 'local-provider.ts')));
});
