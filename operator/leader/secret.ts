// The cluster secret: 32 random bytes, base64url, created once per state directory with
// mode 0600. The leader presents it to every agent (`authorization: Bearer …`) and the
// agents read it from the same file. It is never logged and never printed.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/** The secret file exists but cannot be used. */
export class SecretFileError extends Error {
  override name = 'SecretFileError';
}

/** A fresh secret: 32 random bytes in base64url (43 characters). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The cluster secret from `file`, created (mode 0600, exclusive) when it does not exist.
 * A file that group or others may read is narrowed to 0600, with a warning.
 */
export async function loadOrCreateSecret(file: string, logger?: Logger): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    const handle = await open(file, 'wx', 0o600);
    const secret = newSecret();
    try {
      await handle.writeFile(`${secret}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    logger?.info({ file }, 'Created the cluster secret');
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readSecret(file, logger);
}

/** The secret in an existing `file`. */
export async function readSecret(file: string, logger?: Logger): Promise<string> {
  let text: string;
  let mode: number;
  try {
    mode = (await stat(file)).mode & 0o777;
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SecretFileError(`${file}: the cluster secret is missing; was the state directory copied in part?`);
    throw new SecretFileError(`${file}: cannot read the cluster secret (${code ?? String(err)})`);
  }
  const secret = text.trim();
  if (secret === '') throw new SecretFileError(`${file}: the cluster secret file is empty; delete it only if no agent of this cluster runs, then start again`);
  if ((mode & 0o077) !== 0) {
    await chmod(file, 0o600);
    logger?.warn({ file, mode: mode.toString(8) }, 'Narrowed the cluster secret file to mode 0600: group or others could read it');
  }
  return secret;
}
