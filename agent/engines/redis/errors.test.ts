// RedisOpError on the wire: the gRPC class of each reason (moved from cluster-ops.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isRetryable, toServiceError } from '../../../proto/status.ts';
import { redisOpError } from './errors.ts';

describe('errors (no servers)', () => {
  test('errors: gRPC classes of the agent contract, transient or terminal, what failed and what to do', () => {
    const e = redisOpError({ op: 'removeNode', reason: 'NOT_EMPTY', nodeId: 'f'.repeat(40), addr: '127.0.0.1:7000', detail: 'it owns 5 slots (0-4)', action: 'drain it first' });
    assert.equal(e.message, 'removeNode: node ffffffff… (127.0.0.1:7000): it owns 5 slots (0-4). What to do: drain it first');
    assert.equal(e.kind, 'terminal');
    assert.equal(isRetryable(e), false);
    assert.equal(e.details['nodeId'], 'f'.repeat(40));
    assert.equal(toServiceError(e).code, 9, 'FAILED_PRECONDITION on the wire');
    const u = redisOpError({ op: 'observe', reason: 'UNREACHABLE', addr: '127.0.0.1:7001', detail: 'refused', action: 'start it' });
    assert.equal(isRetryable(u), true);
    assert.equal(toServiceError(u).code, 14, 'UNAVAILABLE on the wire');
    assert.equal(isRetryable(redisOpError({ op: 'moveSlots', reason: 'OP_ABORTED', detail: 'stopped', action: 'call again' })), true);
  });
});
