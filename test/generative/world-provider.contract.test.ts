// The VM provider contract (operator/ports/vm-provider.contract.ts) against the simulated
// world's provider (world-provider.ts): what the generative tests assume of VMs is what
// the local provider does and a pod provider must do. Virtual time: every call is driven
// by the world's clock (world-test-kit.ts).
import { providerContract, type ContractSubject } from '../../operator/ports/vm-provider.contract.ts';
import { makeKit } from './world-test-kit.ts';

/** The contract's subject: a world's provider; `kit.leader(1, 1)` is the next leader's provider on the same world (same leader instance and epoch: no fencing in the way). */
function subject(options: Parameters<typeof makeKit>[0] = {}): Promise<ContractSubject> {
  const kit = makeKit(options);
  return Promise.resolve({
    provider: kit.provider,
    settle: (call) => kit.drive(call),
    sleep: (ms) => kit.wait(ms),
    killAgent: (vmId) => {
      kit.world.crashAgent(vmId);
      return Promise.resolve();
    },
    dataNodeVersion: '7.0',
    reopen: () => Promise.resolve(kit.leader(1, 1)),
    dispose: () => Promise.resolve(),
  });
}

providerContract('the simulated world', () => subject());
providerContract('the simulated world, with agents that boot for 3 s after create', () => subject({ agentStartMs: 3000 }));
