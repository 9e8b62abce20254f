#!/usr/bin/env node
// Entry point of the `coxswain` command. It runs the bundle that `make` builds in build/
// when it is current (operator/bin/build.mjs, fresh-build.mjs), else the TypeScript
// sources through tsx's loader — so `npx coxswain` and `npm install -g .` work without a
// build step, and an edited source is never shadowed by an old bundle.
// COXSWAIN_NO_BUILD=1 always runs the sources.
import { freshBuild } from './fresh-build.mjs';

const bundle = freshBuild();
let main;
if (bundle !== undefined) {
  ({ main } = await import(bundle));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
