// The VM provider contract (operator/ports/vm-provider.contract.ts) against the
// reconciler's FakeCluster: the unit tests of observe, the executor and the reconciler
// assume of VMs what every provider does. Its calls answer at once; a killed agent is
// one that stops answering (agentUp false), its data node untouched.
import assert from 'node:assert/strict';
import { providerContract } from '../../ports/vm-provider.contract.ts';
import { FakeCluster } from './fake-cluster.ts';

providerContract('the reconciler\'s FakeCluster', () => {
  const fake = new FakeCluster();
  return Promise.resolve({
    provider: fake,
    settle: (call) => call,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
    killAgent: (vmId) => {
      const vm = fake.vms.get(vmId);
      assert.ok(vm !== undefined, `${vmId} exists`);
      vm.agentUp = false;
      return Promise.resolve();
    },
    dataNodeVersion: '7.0',
    // The fake is the cluster's state itself: the next leader's provider is the same object.
    reopen: () => Promise.resolve(fake),
    dispose: () => Promise.resolve(),
  });
});
