// Where Coxswain keeps its state: --state-dir, else $COXSWAIN_STATE_DIR, else
// `.coxswain` in the working directory.
import path from 'node:path';

export const STATE_DIR_ENV = 'COXSWAIN_STATE_DIR';
export const DEFAULT_STATE_DIR = '.coxswain';

export function resolveStateDir(option: string | boolean | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = typeof option === 'string' && option !== '' ? option : env[STATE_DIR_ENV] || DEFAULT_STATE_DIR;
  return path.resolve(chosen);
}

export const stateDirOption = { 'state-dir': { type: 'string' } } as const;
