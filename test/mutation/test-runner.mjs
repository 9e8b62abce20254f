// Stryker plugin (stryker.config.json `plugins`): the test runner "coxswain" of
// test/mutation/command.ts, loaded through tsx. Stryker loads its plugins in plain
// JavaScript, in its main process and in each worker, once per process.
import { tsImport } from 'tsx/esm/api';

const runner = await tsImport('./command.ts', import.meta.url);

export const strykerPlugins = runner.strykerPlugins;
