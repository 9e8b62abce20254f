// coxswain logs on a log the leader's own logger wrote: one readable line per event
// (time, level, message, fields), --json as written, -n, a plain error without a log,
// -f through growth and a rewrite of the file, colours only on a terminal, and no
// credential printed in any form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLeaderLogger } from '../leader/logger.ts';
import { stateLayout } from '../leader/state-layout.ts';
import { makeLogsCommand } from './logs-command.ts';
import { memoryOutput } from './output.ts';

const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I';
const TOKEN = 'dG9rZW4tdG9rZW4tdG9rZW4tdG9rZW4tdG9rZW4tdG9r';

/** A state directory with a secret, a leader.json and a log the leader's logger wrote. */
function stateWithLog(): { dir: string; stateDir: string; logFile: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-logs-'));
  const stateDir = path.join(dir, 'state');
  const layout = stateLayout(stateDir);
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(layout.secretFile, `${SECRET}\n`, { mode: 0o600 });
  writeFileSync(layout.adminFile, JSON.stringify({ format: 1, pid: 1, host: '127.0.0.1', port: 1, token: TOKEN, epoch: 1, file: '/f', startedAt: '' }), { mode: 0o600 });
  const logger = createLeaderLogger(layout.logFile).child({ cluster: 'demo', epoch: 3 });
  logger.info({ stateDir, file: '/srv/cluster/desired_state.jsonc' }, 'Started the leader of cluster demo with epoch 3');
  logger.info({ desiredId: 2, source: 'file:/srv/cluster/desired_state.jsonc' }, 'Accepted desired state 2 from file:/srv/cluster/desired_state.jsonc');
  // Credentials where the logger redacts them, and where only the reader can.
  logger.warn({ secret: SECRET, token: TOKEN, headers: { authorization: `Bearer ${SECRET}` }, reason: 'id 1 is not greater than the accepted id 2\n   hint: set "id" to 3 or more' }, 'Ignored an edit of the desired-state file');
  logger.error({ err: `agent said: bad secret ${SECRET}`, apiToken: TOKEN }, 'Failed an admin request');
  return { dir, stateDir, logFile: layout.logFile };
}

const ESC = '\u001b';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('logs: one readable line per event, with its fields, and never a credential', async () => {
  const { dir, stateDir } = stateWithLog();
  try {
    const io = memoryOutput();
    assert.equal(await makeLogsCommand({ isTTY: () => false }).run(['--state-dir', stateDir], io), 0, io.stderr);
    const lines = io.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4, io.stdout);
    assert.match(lines[0] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}INFO {3}Started the leader of cluster demo with epoch 3 {2}stateDir=\S+ {2}file=\/srv\/cluster\/desired_state\.jsonc$/);
    assert.match(lines[1] ?? '', /INFO {3}Accepted desired state 2 from file:\/srv\/cluster\/desired_state\.jsonc {2}desiredId=2 {2}source=file:\/srv\/cluster\/desired_state\.jsonc$/);
    assert.match(lines[2] ?? '', /WARN {3}Ignored an edit of the desired-state file {2}.*reason="id 1 is not greater than the accepted id 2\\n {3}hint: set \\"id\\" to 3 or more"/);
    assert.match(lines[3] ?? '', /ERROR {2}Failed an admin request {2}err="agent said: bad secret \[Redacted\]" {2}apiToken=\[Redacted\]$/);
    assert.doesNotMatch(io.stdout, /pid=|component=|cluster=|epoch=/, 'the fields of every line are left out');
    assert.ok(!io.stdout.includes(ESC), 'no colours when not a terminal');
    assert.ok(!io.stdout.includes(SECRET) && !io.stdout.includes(TOKEN), io.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('logs --json prints the lines as written (credentials still censored); -n keeps the last N; a terminal gets colours', async () => {
  const { dir, stateDir, logFile } = stateWithLog();
  try {
    const written = readFileSync(logFile, 'utf8').trimEnd().split('\n');
    const io = memoryOutput();
    assert.equal(await makeLogsCommand({ isTTY: () => true }).run(['--json', '--state-dir', stateDir], io), 0);
    const printed = io.stdout.trimEnd().split('\n');
    assert.equal(printed.length, written.length);
    assert.equal(printed[0], written[0], 'a line without credentials is printed as written');
    assert.equal(printed[1], written[1]);
    for (const line of printed) assert.doesNotThrow(() => JSON.parse(line));
    assert.ok(!io.stdout.includes(SECRET) && !io.stdout.includes(TOKEN), io.stdout);
    assert.ok(!io.stdout.includes(ESC), '--json has no colours');

    const two = memoryOutput();
    assert.equal(await makeLogsCommand({ isTTY: () => true }).run(['-n', '2', '--state-dir', stateDir], two), 0);
    const lines = two.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(lines[0]?.includes(`${ESC}[33mWARN ${ESC}[0m  Ignored an edit`), lines[0]);
    assert.ok(lines[1]?.includes(`${ESC}[31mERROR${ESC}[0m  Failed an admin request`), lines[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('logs without a log: exit 1 naming the state directory looked at and how to start a leader', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-logs-'));
  try {
    const stateDir = path.join(dir, 'elsewhere');
    const io = memoryOutput();
    assert.equal(await makeLogsCommand().run(['--state-dir', stateDir], io), 1);
    assert.equal(io.stdout, '');
    assert.equal(
      io.stderr.trim(),
      `coxswain logs: no leader log in ${stateDir} (looked for ${path.join(stateDir, 'leader.log')}): no leader has run with this state directory, ` +
        `or coxswain down --purge deleted it. Start one with: coxswain up -f FILE --state-dir ${stateDir}`,
    );
    await assert.rejects(makeLogsCommand().run(['-n', 'x', '--state-dir', stateDir], memoryOutput()), /-n must be a whole number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('logs -f prints lines as they are written, a line written in two pieces once, and goes on with a rewritten log', async () => {
  const { dir, stateDir, logFile } = stateWithLog();
  try {
    const io = memoryOutput();
    const stop = new AbortController();
    const running = makeLogsCommand({ isTTY: () => false, pollMs: 20, signal: stop.signal }).run(['-f', '-n', '0', '--state-dir', stateDir], io);
    await sleep(100);
    assert.equal(io.stdout, '', '-n 0 prints none of the old events');
    const event = (msg: string): string => `${JSON.stringify({ level: 30, time: Date.parse('2025-01-01T00:00:00Z'), pid: 1, component: 'leader', msg, desiredId: 7 })}\n`;
    appendFileSync(logFile, event('Accepted desired state 7 from the file'));
    const half = event('Queued desired state 8');
    appendFileSync(logFile, half.slice(0, 20));
    await sleep(100);
    appendFileSync(logFile, half.slice(20));
    await sleep(100);
    // The log is replaced (rotated): the rest of the old one, then the new one from its start.
    renameSync(logFile, `${logFile}.1`);
    writeFileSync(logFile, event('Started the leader of cluster demo with epoch 4'));
    await sleep(150);
    rmSync(logFile); // down --purge
    await sleep(100);
    writeFileSync(logFile, event('Started the leader of cluster demo with epoch 5'));
    await sleep(150);
    stop.abort();
    assert.equal(await running, 0);
    assert.deepEqual(io.stdout.trimEnd().split('\n'), [
      '2025-01-01T00:00:00.000Z  INFO   Accepted desired state 7 from the file  desiredId=7',
      '2025-01-01T00:00:00.000Z  INFO   Queued desired state 8  desiredId=7',
      '2025-01-01T00:00:00.000Z  INFO   Started the leader of cluster demo with epoch 4  desiredId=7',
      '2025-01-01T00:00:00.000Z  INFO   Started the leader of cluster demo with epoch 5  desiredId=7',
    ]);
    assert.match(io.stderr, /leader\.log was rewritten; following the new log/);
    assert.match(io.stderr, /leader\.log was deleted; waiting for a new one/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
