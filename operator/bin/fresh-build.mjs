// Whether the bundle in build/ (operator/bin/build.mjs) is current: it exists, and no
// source file that went into it changed or vanished since it was built. Returns the
// bundle's entry module, or undefined to run the sources (Node strips their types). About 1 ms: one stat per file.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function freshBuild() {
  if (process.env.COXSWAIN_NO_BUILD === '1') return undefined;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  try {
    const manifest = JSON.parse(readFileSync(path.join(root, 'build', 'manifest.json'), 'utf8'));
    for (const input of manifest.inputs) {
      if (statSync(path.join(root, input)).mtimeMs > manifest.builtAtMs) return undefined;
    }
    return pathToFileURL(path.join(root, 'build', 'cli', 'main.js')).href;
  } catch {
    return undefined; // no build, or a source file is gone
  }
}
