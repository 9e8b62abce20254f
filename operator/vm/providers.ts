// The VM providers a leader can be wired with, by name: "local" (agent processes on this
// machine, operator/vm/local-provider.ts) is the default and, for now, the only one; a
// pod provider for Kubernetes is added here as another kind. Each kind reads its own
// options from the environment (VmProviderKind.fromEnvironment), so the leader and the
// commands never know them. The provider itself is loaded only when a factory is called.
import path from 'node:path';
import { VmProviderSettingsError, type VmProviderFactory, type VmProviderKind } from '../ports/vm-provider.ts';

/** Lowest port for new data nodes of the local provider. @default 7001 */
export const DATA_PORT_BASE_ENV = 'COXSWAIN_DATA_PORT_BASE';
/** Lowest port for new agents of the local provider. @default 7101 */
export const AGENT_PORT_BASE_ENV = 'COXSWAIN_AGENT_PORT_BASE';

/** The local provider's options that come from the environment (undefined: the provider's default). */
export interface LocalProviderSettings {
  dataPortBase: number | undefined;
  agentPortBase: number | undefined;
}

/** A port base from the environment, or undefined when unset. */
export function portFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < 1024 || value > 55535) {
    throw new VmProviderSettingsError(`${name} must be a port number 1024 … 55535 (a data node also uses port + 10000), got "${text}"`);
  }
  return value;
}

export function localSettingsFromEnv(env: NodeJS.ProcessEnv): LocalProviderSettings {
  return { dataPortBase: portFromEnv(env, DATA_PORT_BASE_ENV), agentPortBase: portFromEnv(env, AGENT_PORT_BASE_ENV) };
}

/** The factory of local providers with these settings: VMs live in <stateDir>/vms/. */
export function localProviderFactory(settings: LocalProviderSettings): VmProviderFactory {
  return async (context) => {
    const { LocalVmProvider } = await import('./local-provider.ts');
    return new LocalVmProvider({
      clusterDir: path.resolve(context.stateDir),
      secret: context.secret,
      epoch: () => context.epoch,
      logger: context.logger.child({ part: 'vm-provider' }),
      ...(settings.dataPortBase === undefined ? {} : { dataPortBase: settings.dataPortBase }),
      ...(settings.agentPortBase === undefined ? {} : { agentPortBase: settings.agentPortBase }),
    });
  };
}

export const localProviderKind: VmProviderKind = {
  name: 'local',
  fromEnvironment: (env) => localProviderFactory(localSettingsFromEnv(env)),
};

export const DEFAULT_PROVIDER = 'local';

const KINDS: ReadonlyMap<string, VmProviderKind> = new Map([[localProviderKind.name, localProviderKind]]);

/** The provider kind called `name`; VmProviderSettingsError for an unknown one. */
export function providerKind(name: string = DEFAULT_PROVIDER): VmProviderKind {
  const kind = KINDS.get(name);
  if (kind === undefined) throw new VmProviderSettingsError(`unknown VM provider "${name}": known are ${[...KINDS.keys()].join(', ')}`);
  return kind;
}

/** The factory of the provider called `name`, with its options from `env`. */
export function providerFromEnvironment(env: NodeJS.ProcessEnv, name: string = DEFAULT_PROVIDER): VmProviderFactory {
  return providerKind(name).fromEnvironment(env);
}
