// Module hooks (node:module register) for the planted bugs in the agent's own code
// (agent-mutants.ts). A module of agent/server imported with `?mutant=<code>` is
// loaded from its source with the mutant's one change applied (when it is the mutant's
// file) and compiled by esbuild; every `./` import of such a module carries the same
// query, so the mutant's agent/server is a module graph of its own beside the
// production one. Everything else (proto/, the world) is shared.
import { Buffer } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const QUERY = 'mutant';

/** @param {string} url */
function mutantOf(url) {
  if (!url.startsWith('file:')) return undefined;
  return new URL(url).searchParams.get(QUERY) ?? undefined;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const code = context.parentURL === undefined ? undefined : mutantOf(context.parentURL);
  if (code === undefined || !specifier.startsWith('./') || !resolved.url.startsWith('file:') || resolved.url.includes('?')) return resolved;
  return { ...resolved, url: `${resolved.url}?${QUERY}=${code}`, shortCircuit: true };
}

export async function load(url, context, nextLoad) {
  const code = mutantOf(url);
  if (code === undefined) return nextLoad(url, context);
  /** @type {{ file: string; find: string; replace: string }} */
  const mutant = JSON.parse(Buffer.from(code, 'base64url').toString('utf8'));
  const file = fileURLToPath(url);
  let source = await readFile(file, 'utf8');
  if (file.endsWith(`/${mutant.file}`)) {
    const found = source.split(mutant.find).length - 1;
    if (found !== 1) throw new Error(`planted agent bug: ${mutant.file} holds ${found} copies of the line to change, not 1`);
    source = source.replace(mutant.find, () => mutant.replace);
  }
  const out = await transform(source, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: file, sourcemap: 'inline' });
  return { format: 'module', source: out.code, shortCircuit: true };
}
