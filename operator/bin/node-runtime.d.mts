// Types of node-runtime.mjs (plain JavaScript, so that an old Node can run it), for the tests.
export function pinnedVersion(): string;
export function cachedNodePath(version: string, env?: NodeJS.ProcessEnv, home?: string): string;
export type RuntimeChoice = { action: 'run' } | { action: 'reexec'; node: string } | { action: 'fail'; message: string };
export function chooseRuntime(o: { running: string; pinned: string; cachedNode: string; cachedExists: boolean; reexecuted: boolean }): RuntimeChoice;
export const REEXEC_ENV: string;
export function reexec(node: string): Promise<never>;
