import assert from 'node:assert/strict';
import { test } from 'node:test';
import jsonpatch from 'fast-json-patch';
import { pino } from 'pino';
import { StateFollower, followState } from './state-follower.ts';
import type { StateStream } from './state-follower.ts';
import { InvalidArgumentError, UnavailableError } from '../../proto/status.ts';
import type { AgentState__Output } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';
import type { StateUpdate__Output } from '../../proto/generated/coxswain/agent/v1/StateUpdate.ts';

const silent = pino({ level: 'silent' });
const retry = { delaysMs: [1], maxAttempts: 3, jitter: 0 };

function state(agentVersion: string): AgentState__Output {
  return { agentId: 'vm-1', zone: 'z', engine: 'redis', agentVersion, installedVersions: [], dataNodes: [], backups: [] };
}
const snapshot = (sequence: number, s: AgentState__Output): StateUpdate__Output => ({ sequence: String(sequence), snapshot: s, update: 'snapshot' });
const patch = (sequence: number, from: AgentState__Output, to: AgentState__Output): StateUpdate__Output => ({
  sequence: String(sequence),
  patchJson: JSON.stringify(jsonpatch.compare(from, to)),
  update: 'patchJson',
});

test('a snapshot and the patches after it give each state in turn', () => {
  const f = new StateFollower();
  const [a, b, c] = [state('1'), state('2'), state('3')];
  assert.deepEqual(f.apply(snapshot(1, a)), { kind: 'state', state: a, sequence: 1 });
  assert.deepEqual(f.apply(patch(2, a, b)), { kind: 'state', state: b, sequence: 2 });
  assert.deepEqual(f.apply(patch(3, b, c)), { kind: 'state', state: c, sequence: 3 });
});

test('a gap, a patch before the snapshot, or a patch that does not apply asks for a new snapshot', () => {
  const [a, b] = [state('1'), state('2')];
  assert.equal(new StateFollower().apply(patch(2, a, b)).kind, 'resync');
  const f = new StateFollower();
  f.apply(snapshot(1, a));
  const gap = f.apply(patch(3, a, b));
  assert.equal(gap.kind, 'resync');
  assert.match(gap.kind === 'resync' ? gap.reason : '', /expected sequence 2, got 3/);
  const bad = f.apply({ sequence: '2', patchJson: JSON.stringify([{ op: 'test', path: '/agentVersion', value: 'nope' }]), update: 'patchJson' });
  assert.equal(bad.kind, 'resync');
  assert.equal(f.apply({ sequence: '2', patchJson: '{', update: 'patchJson' }).kind, 'resync');
});

function streamOf(updates: (StateUpdate__Output | Error)[]): StateStream & { cancelled: boolean } {
  const s = {
    cancelled: false,
    cancel() {
      s.cancelled = true;
    },
    async *[Symbol.asyncIterator]() {
      for (const u of updates) {
        if (u instanceof Error) throw u;
        yield u;
      }
    },
  };
  return s;
}

async function take(gen: AsyncGenerator<AgentState__Output>, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const s of gen) {
    out.push(s.agentVersion);
    if (out.length === n) break;
  }
  return out;
}

test('followState drops a stream with a gap and opens a new one, which starts with a snapshot', async () => {
  const [a, b, c, d] = [state('1'), state('2'), state('3'), state('4')];
  const streams = [streamOf([snapshot(1, a), patch(2, a, b), patch(4, b, c)]), streamOf([snapshot(1, d)])];
  let opened = 0;
  const open = async (): Promise<StateStream> => streams[opened++] ?? streamOf([]);
  assert.deepEqual(await take(followState(open, { logger: silent, retry, endpoint: 'e' }), 3), ['1', '2', '4']);
  assert.equal(opened, 2);
  assert.equal(streams[0]?.cancelled, true);
});

test('followState reconnects after a transient failure and throws a terminal one', async () => {
  const a = state('1');
  let opened = 0;
  const flaky = async (): Promise<StateStream> => (opened++ === 0 ? streamOf([new UnavailableError('agent restarting')]) : streamOf([snapshot(1, a)]));
  assert.deepEqual(await take(followState(flaky, { logger: silent, retry, endpoint: 'e' }), 1), ['1']);
  assert.equal(opened, 2);
  const refused = async (): Promise<StateStream> => streamOf([new InvalidArgumentError('interval_ms', 'too small')]);
  await assert.rejects(take(followState(refused, { logger: silent, retry, endpoint: 'e' }), 1), InvalidArgumentError);
  const down = async (): Promise<StateStream> => streamOf([new UnavailableError('down')]);
  await assert.rejects(take(followState(down, { logger: silent, retry, endpoint: 'e' }), 1), UnavailableError);
});
