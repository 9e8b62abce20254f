// How a data node's configuration label (configKey: canonical JSON, values as strings)
// differs from the desired `config`, and how each difference can reach the node:
// 'live' parameters by ConfigureDataNode (CONFIG SET), everything else by a restart.
//
// A parameter that was REMOVED from the desired config is treated as restart-only,
// whatever its kind: the catalogue knows no engine defaults, so "back to the default"
// can only be had by starting the node without the parameter (with replicationFactor 1
// and no temporary VMs, validation refuses such a removal in a running cluster:
// desired-state/transition.ts removedLiveParameters). Unknown names and an
// unreadable label also need a restart (the start writes the whole configuration).
import { settableParameter } from '../../desired-state/catalogue.ts';
import type { EngineName } from '../../desired-state/types.ts';

export interface ConfigDiff {
  /** Nothing differs. */
  equal: boolean;
  /** Parameters to set live, with their desired values (only when they can be). */
  live: Record<string, string>;
  /** Why a restart is needed for the configuration: one entry per parameter. */
  restart: string[];
}

/** The desired config with every value as a string, keys sorted (what nodes carry as a label). */
export function desiredConfigStrings(config: Readonly<Record<string, string | number>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(config).sort()) out[k] = String(config[k]);
  return out;
}

/** A node's configuration from its label; undefined when the label is not a JSON object of strings. */
export function parseConfigKey(key: string): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v !== 'string') return undefined;
    out[k] = v;
  }
  return out;
}

/** How the node's label `nodeKey` differs from the desired configuration. */
export function diffConfig(
  engine: EngineName,
  nodeKey: string,
  desired: Readonly<Record<string, string>>,
  desiredKey: string,
): ConfigDiff {
  if (nodeKey === desiredKey) return { equal: true, live: {}, restart: [] };
  const current = parseConfigKey(nodeKey);
  if (current === undefined) return { equal: false, live: {}, restart: ['its configuration label cannot be read'] };
  const live: Record<string, string> = {};
  const restart: string[] = [];
  const names = [...new Set([...Object.keys(current), ...Object.keys(desired)])].sort();
  for (const name of names) {
    const was = current[name];
    const want = desired[name];
    if (was === want) continue;
    if (want === undefined) {
      restart.push(`config "${name}" was removed: the engine's default applies after a restart`);
      continue;
    }
    const param = settableParameter(engine, name);
    if (param?.apply === 'live') live[name] = want;
    else restart.push(`config "${name}" ${was === undefined ? 'is new' : `changes from "${was}"`} to "${want}" (applied by a restart)`);
  }
  // Only the label's form differed (same parameters and values): nothing to do.
  const equal = restart.length === 0 && Object.keys(live).length === 0;
  return { equal, live, restart };
}
