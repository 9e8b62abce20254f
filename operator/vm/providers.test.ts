// The providers by name: "local" is the default and reads its own options from the
// environment (COXSWAIN_DATA_PORT_BASE, COXSWAIN_AGENT_PORT_BASE), refusing a wrong one
// with the variable's name; an unknown name is refused with the known ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmProviderSettingsError } from '../ports/vm-provider.ts';
import { DEFAULT_PROVIDER, localSettingsFromEnv, providerFromEnvironment, providerKind } from './providers.ts';

test('the local provider is the default and takes its port bases from the environment', () => {
  assert.equal(DEFAULT_PROVIDER, 'local');
  assert.equal(providerKind().name, 'local');
  assert.deepEqual(localSettingsFromEnv({ COXSWAIN_DATA_PORT_BASE: '23001', COXSWAIN_AGENT_PORT_BASE: '23101' }), { dataPortBase: 23001, agentPortBase: 23101 });
  assert.deepEqual(localSettingsFromEnv({ COXSWAIN_DATA_PORT_BASE: '' }), { dataPortBase: undefined, agentPortBase: undefined }, 'unset or empty: the provider default');
  assert.equal(typeof providerFromEnvironment({}), 'function');
});

test('a wrong port base or an unknown provider is refused before anything is made', () => {
  assert.throws(() => providerFromEnvironment({ COXSWAIN_DATA_PORT_BASE: '80' }), (err: unknown) => {
    assert.ok(err instanceof VmProviderSettingsError);
    assert.match(err.message, /^COXSWAIN_DATA_PORT_BASE must be a port number 1024 … 55535 \(a data node also uses port \+ 10000\), got "80"$/);
    return true;
  });
  assert.throws(() => providerFromEnvironment({ COXSWAIN_AGENT_PORT_BASE: '7101x' }), /COXSWAIN_AGENT_PORT_BASE must be a port number/);
  assert.throws(() => providerKind('pods'), /unknown VM provider "pods": known are local/);
});
