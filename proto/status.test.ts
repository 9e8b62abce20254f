import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import {
  AgentCallError,
  DeadlineExceededError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  STATUS_TABLE,
  StaleLeaderError,
  TerminalError,
  TransientError,
  UnavailableError,
  asAgentCallError,
  fromServiceError,
  isRetryable,
  kindOfCode,
  toServiceError,
} from './status.ts';

const CODES = Object.values(status).filter((v): v is status => typeof v === 'number' && v !== status.OK);

test('every gRPC code but OK has one generic row, and each row rebuilds an error of its code and kind', () => {
  for (const code of CODES) {
    const generic = STATUS_TABLE.filter((r) => r.code === code && r.reason === status[code]);
    assert.equal(generic.length, 1, status[code]);
  }
  for (const row of STATUS_TABLE) {
    const err = row.revive('msg', {});
    assert.equal(err.code, row.code, row.reason);
    assert.equal(err.kind, row.kind, row.reason);
    assert.ok(row.kind === 'transient' ? err instanceof TransientError : err instanceof TerminalError, row.reason);
  }
});

test('exactly UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED and ABORTED are retried', () => {
  const transient = CODES.filter((c) => kindOfCode(c) === 'transient').sort();
  assert.deepEqual(transient, [status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.ABORTED, status.UNAVAILABLE].sort());
  assert.equal(isRetryable(new UnavailableError('x')), true);
  assert.equal(isRetryable(new InvalidArgumentError('f', 'bad')), false);
  assert.equal(isRetryable({ code: status.UNAVAILABLE }), true, 'a raw gRPC error');
  assert.equal(isRetryable({ code: status.INTERNAL }), false);
  assert.equal(isRetryable(new Error('plain')), false);
});

test('InvalidArgumentError crosses the wire with its field', () => {
  const back = fromServiceError(toServiceError(new InvalidArgumentError('replica_of.engine_node_id', 'required — give the primary’s id')));
  assert.ok(back instanceof InvalidArgumentError);
  assert.equal(back.field, 'replica_of.engine_node_id');
  assert.equal(back.problem, 'required — give the primary’s id');
  assert.equal(back.message, 'replica_of.engine_node_id: required — give the primary’s id');
});

test('StaleLeaderError crosses the wire with both epochs', () => {
  const wire = toServiceError(new StaleLeaderError(3, 5));
  assert.equal(wire.code, status.FAILED_PRECONDITION);
  assert.match(wire.details, /^stale leader: epoch 3 < 5 seen/);
  const back = fromServiceError(wire);
  assert.ok(back instanceof StaleLeaderError);
  assert.equal(back.presentedEpoch, 3);
  assert.equal(back.seenEpoch, 5);
  assert.equal(back.message, wire.details);
});

test('a status without our metadata becomes the generic class of its code', () => {
  const back = fromServiceError({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: new Metadata() });
  assert.ok(back instanceof DeadlineExceededError);
  const unknownReason = new Metadata();
  unknownReason.set('coxswain-error-reason', 'SOMETHING_NEW');
  const revived = fromServiceError({ code: status.NOT_FOUND, details: 'x', metadata: unknownReason });
  assert.equal(revived.code, status.NOT_FOUND);
  assert.equal(revived.reason, 'SOMETHING_NEW', 'a reason without a row of its own is kept');
  const slotsOwned = fromServiceError(toServiceError(new FailedPreconditionError('slots 0-9 are served by node x', { reason: 'SLOTS_OWNED' })));
  assert.ok(slotsOwned instanceof FailedPreconditionError);
  assert.equal(slotsOwned.reason, 'SLOTS_OWNED');
  assert.equal(fromServiceError({ code: 99 as status, details: 'odd' }).code, status.UNKNOWN);
});

test('anything else thrown becomes INTERNAL; an abort carries its reason', () => {
  const internal = asAgentCallError(new TypeError('boom'));
  assert.ok(internal instanceof InternalError);
  assert.match(internal.message, /boom/);
  const controller = new AbortController();
  controller.abort(new DeadlineExceededError('too slow'));
  const abortError = Object.assign(new Error('aborted'), { name: 'AbortError', cause: controller.signal.reason as unknown });
  assert.ok(asAgentCallError(abortError) instanceof DeadlineExceededError);
  assert.ok(asAgentCallError(new InternalError('x')) instanceof AgentCallError);
});
