import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { pino } from 'pino';
import { ClusterCredential } from './credential.ts';
import { createAgentLogger } from './logger.ts';
import { UnauthenticatedError } from '../../proto/status.ts';

const SECRET = 'correct-horse-battery-staple-42';

function capture(): { lines: string[]; logger: ReturnType<typeof createAgentLogger> } {
  const lines: string[] = [];
  return { lines, logger: createAgentLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } }) };
}

function meta(authorization?: string): Metadata {
  const m = new Metadata();
  if (authorization !== undefined) m.set('authorization', authorization);
  return m;
}

test('matches only the exact secret, whatever the length of the guess', () => {
  const c = ClusterCredential.fromSecret(SECRET);
  assert.equal(c.matches(SECRET), true);
  for (const guess of ['', 'c', SECRET.slice(0, -1), `${SECRET}2`, SECRET.toUpperCase(), 'x'.repeat(10_000)]) {
    assert.equal(c.matches(guess), false, guess.slice(0, 20));
  }
});

test('verify accepts "Bearer <secret>" and refuses the rest with a message that says what to send', () => {
  const c = ClusterCredential.fromSecret(SECRET);
  c.verify(meta(`Bearer ${SECRET}`));
  c.verify(meta(`bearer ${SECRET}`));
  const cases: [Metadata, RegExp][] = [
    [meta(), /missing credential: send metadata "authorization: Bearer <cluster secret>"/],
    [meta(SECRET), /malformed credential/],
    [meta(`Basic ${SECRET}`), /malformed credential/],
    [meta('Bearer nope'), /credential rejected/],
  ];
  for (const [m, message] of cases) assert.throws(() => c.verify(m), (e: unknown) => e instanceof UnauthenticatedError && message.test(e.message));
  const two = meta(`Bearer ${SECRET}`);
  two.add('authorization', 'Bearer other');
  assert.throws(() => c.verify(two), UnauthenticatedError);
});

test('the credential object does not reveal the secret', () => {
  const c = ClusterCredential.fromSecret(SECRET);
  assert.equal(JSON.stringify({ c }).includes(SECRET), false);
  assert.equal(String(Object.values(c)).includes(SECRET), false);
});

test('reads the secret file, ignores surrounding whitespace, warns about a loose mode', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-cred-'));
  try {
    const file = path.join(dir, 'secret');
    await writeFile(file, `${SECRET}\n`);
    await chmod(file, 0o600);
    const quiet = capture();
    const c = await ClusterCredential.fromFile(file, quiet.logger);
    assert.equal(c.matches(SECRET), true);
    assert.deepEqual(quiet.lines, []);

    await chmod(file, 0o640);
    const loud = capture();
    await ClusterCredential.fromFile(file, loud.logger);
    assert.equal(loud.lines.length, 1);
    assert.match(loud.lines[0] ?? '', /chmod 600/);
    assert.equal(loud.lines.join('').includes(SECRET), false);

    await writeFile(file, '  \n');
    await assert.rejects(ClusterCredential.fromFile(file, quiet.logger), /is empty/);
    await writeFile(file, 'short');
    await chmod(file, 0o600);
    const short = capture();
    await ClusterCredential.fromFile(file, short.logger);
    assert.match(short.lines[0] ?? '', /shorter than 16 bytes/);
    await assert.rejects(ClusterCredential.fromFile(path.join(dir, 'nope'), quiet.logger), /ENOENT.*chmod 600/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the agent logger censors the authorization header and secret fields', () => {
  const { lines, logger } = capture();
  logger.info({ metadata: { authorization: `Bearer ${SECRET}`, 'coxswain-epoch': '3' } }, 'Received GetState');
  logger.info({ secret: SECRET, options: { secret: SECRET } }, 'Loaded options');
  logger.child({ method: 'GetState' }).debug({ authorization: `Bearer ${SECRET}` }, 'Checked');
  const text = lines.join('');
  assert.equal(lines.length, 3);
  assert.equal(text.includes(SECRET), false);
  assert.match(text, /"coxswain-epoch":"3"/);
  assert.match(text, /\[Redacted\]/);
  // A plain pino logger would leak it: the redaction is what protects the secret.
  const raw: string[] = [];
  pino({}, { write: (l: string) => void raw.push(l) }).info({ secret: SECRET });
  assert.equal(raw.join('').includes(SECRET), true);
});
