#!/usr/bin/env node
// Builds the `coxswain` command into one bundle of JavaScript (build/cli/, split into
// chunks so each command still loads only what it needs), which the entry point
// operator/bin/coxswain.mjs runs instead of the TypeScript sources while it is current.
// Why: the leader starts one agent per VM, and CLI calls are frequent. On Node 20 through
// tsx, every module was transformed and resolved on the loader's thread at each start; an
// agent took ~1.4 s and ~115 MB to start, ~0.6 s and ~80 MB bundled. On Node 24 the
// sources run without a loader (type stripping) and V8's compile cache keeps the result
// (coxswain.mjs): an agent until it listens, 2 busy cores, medians — bundle 0.22-0.26 s /
// 88 MB, sources 0.29-0.31 s / 92 MB (0.56-0.62 s / 119 MB with a cold cache), tsx
// 0.45-0.48 s / 99 MB. The bundle stays: the fastest, the least memory, no cold start. The npm packages stay outside the bundle
// (resolved from node_modules as usual).
//
// build/manifest.json lists every source file that went in, with the build's time:
// operator/bin/fresh-build.mjs compares their modification times with it, so an edited
// source makes the command fall back to the sources until the next `make`.
// Data files that modules read next to themselves (the JSON Schema, the .proto files)
// are copied beside the bundle.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = path.join(root, 'build', 'cli');
const startedAt = Date.now();

rmSync(path.join(root, 'build'), { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'operator/cli/main.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  packages: 'external',
  outdir: out,
  chunkNames: 'chunk-[hash]',
  metafile: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
cpSync(path.join(root, 'desired-state', 'desired-state.schema.json'), path.join(out, 'desired-state.schema.json'));
cpSync(path.join(root, 'proto', 'coxswain'), path.join(out, 'coxswain'), { recursive: true, filter: (f) => !f.endsWith('.ts') });
const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules')).sort();
writeFileSync(path.join(root, 'build', 'manifest.json'), `${JSON.stringify({ builtAtMs: startedAt, inputs }, null, 1)}\n`);
console.log(`build: bundled ${inputs.length} source files into build/cli/ in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
