import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { installProcessGuard, UNCAUGHT_EXIT_CODE } from './process-guard.ts';
import { callSignal } from './server/deadline.ts';
import { createAgentLogger } from './server/logger.ts';

const SECRET = 'guard-test-secret-77aa88bb99cc';

function setUp(): { target: EventEmitter; lines: Record<string, unknown>[]; exits: number[]; remove: () => void } {
  const target = new EventEmitter();
  const lines: Record<string, unknown>[] = [];
  const exits: number[] = [];
  const logger = createAgentLogger({ destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  const remove = installProcessGuard({ logger, process: target, exit: (code) => void exits.push(code) });
  return { target, lines, exits, remove };
}

/** The reason a cancelled call's signal aborts with, as the service makes it. */
function cancelledReason(method: string): unknown {
  const call = Object.assign(new EventEmitter(), { getDeadline: () => Date.now() + 60_000 });
  const s = callSignal(call, { maxMs: 60_000, method });
  call.emit('cancelled');
  s.dispose();
  return s.signal.reason;
}

test('an unhandled rejection of a call is logged as one line naming the call, and the agent keeps serving', () => {
  const { target, lines, exits, remove } = setUp();
  try {
    target.emit('unhandledRejection', cancelledReason('GetState'));
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line?.['level'], 50);
    assert.equal(line?.['guard'], 'unhandledRejection');
    assert.equal(line?.['call'], 'GetState');
    assert.match(String(line?.['msg']), /^Caught an unhandled rejection of GetState: the caller cancelled GetState; kept serving$/);
    assert.match(String(line?.['action']), /keeps serving/);
    assert.deepEqual(exits, [], 'a rejection does not end the agent');

    // Not a call's: no call named, still serving. A wrapped reason is traced through its cause.
    target.emit('unhandledRejection', new TypeError('x is not a function'));
    target.emit('unhandledRejection', new Error('probe failed', { cause: cancelledReason('ListBackups') }));
    assert.equal(lines[1]?.['call'], undefined);
    assert.equal(lines[2]?.['call'], 'ListBackups');
    assert.deepEqual(exits, []);
  } finally {
    remove();
  }
});

test('an uncaught exception is logged as one fatal line and ends the process with status 70; no secret is logged', () => {
  const { target, lines, exits, remove } = setUp();
  try {
    const err = Object.assign(new Error('listener threw'), { metadata: { authorization: `Bearer ${SECRET}` } });
    target.emit('uncaughtException', err, 'uncaughtException');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.['level'], 60);
    assert.equal(lines[0]?.['guard'], 'uncaughtException');
    assert.equal(lines[0]?.['exitCode'], UNCAUGHT_EXIT_CODE);
    assert.match(String(lines[0]?.['msg']), /^Caught an uncaught exception: listener threw; exiting/);
    assert.deepEqual(exits, [UNCAUGHT_EXIT_CODE]);
    assert.ok(!JSON.stringify(lines).includes(SECRET), 'the secret is redacted');
  } finally {
    remove();
  }
});

test('installed by several agents, the guard stays until the last one removes it', () => {
  const { target, remove } = setUp();
  const logger = createAgentLogger({ destination: { write: () => undefined } });
  const second = installProcessGuard({ logger, process: target, exit: () => undefined });
  assert.equal(target.listenerCount('unhandledRejection'), 1, 'one guard, counted twice');
  remove();
  remove(); // a second call of the same remover counts once
  assert.equal(target.listenerCount('unhandledRejection'), 1);
  second();
  assert.equal(target.listenerCount('unhandledRejection'), 0);
  assert.equal(target.listenerCount('uncaughtException'), 0);
});
