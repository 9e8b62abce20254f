#!/usr/bin/env node
// Entry point of the `coxswain` command.
// 1. The runtime (node-runtime.mjs): on a Node older than the pinned major (.node-version),
//    it runs itself again under the pinned Node that `make` installed in the cache, or says
//    how to get it. Agents and a detached leader are started with process.execPath, so they
//    run on the same Node as this process.
// 2. The code: the bundle that `make` builds in build/ when it is current
//    (operator/bin/build.mjs, fresh-build.mjs), else the TypeScript sources, which Node
//    runs itself by stripping the types (no loader) — so `npx coxswain` and
//    `npm install -g .` work without a build step, and an edited source is never shadowed
//    by an old bundle. COXSWAIN_NO_BUILD=1 always runs the sources.
// V8's compile cache (module.enableCompileCache; NODE_COMPILE_CACHE=dir moves it, by
// default under the system's temporary directory, NODE_DISABLE_COMPILE_CACHE=1 turns it
// off) keeps the compiled code, and the stripped sources, between starts. Measured on
// Node 24.22.3, 2 busy cores, medians, `coxswain agent` until it listens / `--help`:
// bundle 0.22-0.26 s, 88 MB / 0.27-0.31 s, 99 MB; sources 0.29-0.31 s, 92 MB /
// 0.29-0.31 s, 100 MB (without the cache 0.56-0.62 s, 119 MB); tsx 0.45-0.48 s, 99 MB.
import { existsSync } from 'node:fs';
import { cachedNodePath, chooseRuntime, pinnedVersion, reexec, REEXEC_ENV } from './node-runtime.mjs';

const pinned = pinnedVersion();
const cachedNode = cachedNodePath(pinned);
const choice = chooseRuntime({
  running: process.version,
  pinned,
  cachedNode,
  cachedExists: existsSync(cachedNode),
  reexecuted: process.env[REEXEC_ENV] !== undefined,
});
if (choice.action === 'reexec') await reexec(choice.node);
if (choice.action === 'fail') {
  console.error(choice.message);
  process.exit(1);
}

const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { freshBuild } = await import('./fresh-build.mjs');
const bundle = freshBuild();
const { main } = await import(bundle ?? '../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
