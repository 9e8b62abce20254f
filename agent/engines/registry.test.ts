import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentBackendFactory, agentEngineNames, DEFAULT_AGENT_ENGINE, isAgentEngine, UnknownEngineError } from './registry.ts';
import { ENGINES } from '../../desired-state/catalogue.ts';

test('the agent runs every engine of the desired state, Redis Cluster ("redis") by default', () => {
  assert.deepEqual(agentEngineNames(), Object.keys(ENGINES).sort());
  assert.deepEqual(agentEngineNames(), ['redis']);
  assert.equal(DEFAULT_AGENT_ENGINE, 'redis');
  assert.equal(typeof agentBackendFactory('redis'), 'function');
});

test('an unknown engine is refused with a typed error naming the known ones', () => {
  assert.equal(isAgentEngine('rondb'), false);
  assert.equal(isAgentEngine('toString'), false, 'not fooled by what every object has');
  assert.throws(
    () => agentBackendFactory('rondb'),
    (err: unknown) =>
      err instanceof UnknownEngineError && err.engine === 'rondb' && err.known.join() === 'redis' && err.message === 'unknown engine "rondb"; the agent runs "redis"',
  );
});
