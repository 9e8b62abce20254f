import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { UnknownEngineError } from '../../agent/engines/registry.ts';
import type { EngineName } from '../../desired-state/types.ts';
import { parseAgentArgs, runAgentDaemon } from './agent-command.ts';
import { UsageError } from './usage.ts';

const REQUIRED = ['--data-dir', 'data', '--secret-file', 'secret', '--agent-id', 'vm-1'];

test('the agent runs Redis Cluster unless told otherwise', () => {
  assert.equal(parseAgentArgs(REQUIRED).engine, 'redis');
  assert.equal(parseAgentArgs([...REQUIRED, '--engine', 'redis']).engine, 'redis');
});

test('an unknown --engine is a usage error naming the engines the agent runs', () => {
  assert.throws(
    () => parseAgentArgs([...REQUIRED, '--engine', 'rondb']),
    (err: unknown) => err instanceof UsageError && err.message === '--engine: unknown engine "rondb"; the agent runs "redis"',
  );
});

test('the daemon checks still run on the stand-in backend: a bad agent id names its flag', () => {
  assert.throws(
    () => parseAgentArgs([...REQUIRED.slice(0, 4), '--agent-id', 'Not_A_Label']),
    (err: unknown) => err instanceof UsageError && err.message.startsWith('--agent-id:'),
  );
});

test('runAgentDaemon refuses an engine no backend runs before it opens anything', async () => {
  const options = { ...parseAgentArgs(REQUIRED), engine: 'rondb' as EngineName };
  await assert.rejects(runAgentDaemon(options, pino({ level: 'silent' })), UnknownEngineError);
});
