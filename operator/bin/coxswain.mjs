#!/usr/bin/env node
// Entry point of the `coxswain` command. The sources are TypeScript run through tsx's
// loader, so `npx coxswain` and a global `npm install -g .` work without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
