// The one list of AgentBackend's methods (agent/backend.ts) and the daemon's check of a
// backend against it (agent/daemon.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { AGENT_BACKEND_METHODS, type AgentBackend } from './backend.ts';
import { AgentOptionsError, resolveAgentOptions } from './daemon.ts';
import { FakeBackend } from './fake-backend.ts';

const silent = pino({ level: 'silent' });

/** The backend's methods as own properties, so that one can be left out. */
function methodsOf(backend: AgentBackend): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const m of AGENT_BACKEND_METHODS) copy[m] = backend[m].bind(backend);
  return copy;
}

function problemsFor(backend: unknown): readonly string[] {
  try {
    resolveAgentOptions({ dataDir: 'd', secretFile: 's', agentId: 'vm-1', zone: 'zone-a', backend: backend as AgentBackend, logger: silent });
    return [];
  } catch (err) {
    assert.ok(err instanceof AgentOptionsError, String(err));
    return err.problems;
  }
}

test('the list names every method the daemon relies on, forgetNode included, each once', () => {
  assert.ok(AGENT_BACKEND_METHODS.includes('forgetNode'));
  assert.ok(AGENT_BACKEND_METHODS.includes('getState'));
  assert.equal(new Set(AGENT_BACKEND_METHODS).size, AGENT_BACKEND_METHODS.length);
  assert.equal(AGENT_BACKEND_METHODS.length, 15);
  assert.ok(!(AGENT_BACKEND_METHODS as readonly string[]).includes('onStateChange'), 'optional: not required of a backend');
});

test('a complete backend passes the daemon check, with or without the optional onStateChange', () => {
  assert.deepEqual(problemsFor(new FakeBackend()), []);
  assert.deepEqual(problemsFor(methodsOf(new FakeBackend())), []);
});

test('the daemon refuses a backend that lacks forgetNode, naming it', () => {
  const { forgetNode: _left, ...rest } = methodsOf(new FakeBackend());
  assert.deepEqual(problemsFor(rest), ['backend: not an AgentBackend, missing forgetNode']);
});

test('the daemon refuses a backend that lacks any one method of the list', () => {
  for (const m of AGENT_BACKEND_METHODS) {
    const backend = methodsOf(new FakeBackend());
    delete backend[m];
    assert.deepEqual(problemsFor(backend), [`backend: not an AgentBackend, missing ${m}`], m);
  }
});
