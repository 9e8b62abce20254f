// The VM provider of a state directory on this machine: the local provider, whose "VMs"
// are `coxswain agent` processes. Used by the leader and by `down` without a leader.
// Port bases come from the caller (`up` reads COXSWAIN_DATA_PORT_BASE and
// COXSWAIN_AGENT_PORT_BASE), so two clusters — or tests — on one machine do not collide.
import { LocalVmProvider } from '../vm/local-provider.ts';
import type { VmProvider } from '../ports/vm-provider.ts';
import type { ProviderContext } from './offline-down.ts';

export interface PortBases {
  /** @default the provider's (7001) */
  dataPortBase: number | undefined;
  /** @default the provider's (7101) */
  agentPortBase: number | undefined;
}

export function localProvider(context: ProviderContext, ports: PortBases = { dataPortBase: undefined, agentPortBase: undefined }): VmProvider {
  return new LocalVmProvider({
    clusterDir: context.layout.stateDir,
    secret: context.secret,
    epoch: () => context.epoch,
    logger: context.logger.child({ part: 'vm-provider' }),
    ...(ports.dataPortBase === undefined ? {} : { dataPortBase: ports.dataPortBase }),
    ...(ports.agentPortBase === undefined ? {} : { agentPortBase: ports.agentPortBase }),
  });
}

/** The factory `down` uses without a leader. */
export const localProviderFactory = (context: ProviderContext): Promise<VmProvider> => Promise.resolve(localProvider(context));
