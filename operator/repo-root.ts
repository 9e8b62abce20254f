// The repository's root directory, found from this module's own location by walking up
// to the package.json of "coxswain". The same code then finds the root whether it runs
// from the TypeScript sources (operator/…) or from the bundle that `make` builds in
// build/ (operator/bin/build.mjs), where every module shares one location and a path
// relative to import.meta.url would point elsewhere.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

function isOurPackage(dir: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    return pkg.name === 'coxswain';
  } catch {
    return false;
  }
}

/** The directory that holds Coxswain's package.json. */
export function repoRoot(): string {
  if (root !== undefined) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (isOurPackage(dir)) return (root = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find Coxswain's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A path inside the repository, e.g. repoPath('proto'). */
export function repoPath(...parts: string[]): string {
  return path.join(repoRoot(), ...parts);
}
