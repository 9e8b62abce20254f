// Stryker's test command (stryker.config.json): test/mutation/command.ts, bundled once per
// sandbox with esbuild so that each mutant's run starts without compiling TypeScript.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = '.mutation-command/command.mjs'; // in the sandbox: the working directory
if (!existsSync(built)) {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./command.ts', import.meta.url))],
    outfile: built,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
}
await import(pathToFileURL(built).href);
