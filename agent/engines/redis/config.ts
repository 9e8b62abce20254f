// redis.conf for one data node (Redis 7.0 and Valkey 8.0 read the same file).
//
// Three parts, always in this order, so the same spec renders the same bytes and a
// changed configuration can be found by comparing text:
//   1. what Coxswain owns: the user may not set these (a user parameter of the same
//      name is refused, see ownedDirective);
//   2. Coxswain's defaults, which a user parameter of the same name replaces;
//   3. the user's parameters, sorted by name.
//
// Values are quoted the way the server's own parser (sdssplitargs) reads them, so a
// value with spaces, quotes or a newline stays one value of one directive: it cannot
// end the line and start a directive of its own.
import path from 'node:path';
import { ownedParameter } from '../../../desired-state/catalogue.ts';
import type { DataNodeSpec } from '../engine.ts';
import { InvalidSpecError } from '../errors.ts';

export const CONFIG_FILE = 'redis.conf';
export const LOG_FILE = 'redis.log';
/** The server's own pid file; it removes it on a clean shutdown. The supervisor keeps its own record. */
export const PID_FILE = 'redis.pid';
export const CLUSTER_CONFIG_FILE = 'nodes.conf';
export const AOF_DIR = 'appendonlydir';
export const RDB_FILE = 'dump.rdb';

/** The cluster bus listens on the client port + 10000 (Redis's default cluster-port). */
export const CLUSTER_BUS_OFFSET = 10000;

/**
 * cluster-node-timeout in ms: Coxswain's default 2000 (Redis's is 15000; 5000 before).
 *
 * What it buys. A node is flagged "fail" and its primary role failed over after about
 * this long: a crashed primary's slots are served again after ~3 s instead of ~6 s,
 * and a primary cut off in a minority stops taking writes after 2 s. And forming and
 * growing a cluster is faster: a primary that joins or founds a cluster reports
 * cluster_state:ok only this long after it last knew no other serving primary (Redis's
 * rejoin delay, min(cluster-node-timeout, 5 s)). Measured through the agent's JoinNode
 * (founding 3 s after the nodes started, 3 primaries then 3 replicas, on a busy 2-core
 * machine): formed in 5.6-5.7 s with 5000, 2.7 s with 2000, 1.7 s with 1000; over gRPC
 * with 2000, 2.8-3.4 s (test/agent/agent-form-cluster.test.ts prints it). Gossip is
 * faster too: a node pings every node it has not heard from for half the timeout.
 *
 * What it costs. A node whose main thread does not answer the cluster bus for 2 s is
 * suspected, and flagged "fail" once most primaries agree: a primary stalled that long
 * (a fork of a multi-GB data set on a VM without huge-page tuning, a disk so slow that
 * AOF writes block, a starved VM) is failed over although it would have come back.
 * With replicas that are in sync that costs no acknowledged write, but it costs a
 * failover. Deployments on such machines raise it in the desired state's "config"
 * (`cluster-node-timeout`, applied live). Planned failovers (CLUSTER FAILOVER) do not
 * depend on it.
 */
export const CLUSTER_NODE_TIMEOUT_MS = 2000;

/**
 * Directives Coxswain sets that are not in the catalogue's owned list because no user
 * would set them, but which the supervisor's identity check relies on: the process
 * title must start with the program path so /proc/<pid>/cmdline names the binary.
 */
const AGENT_OWNED: Readonly<Record<string, string>> = {
  'set-proc-title': "the agent recognises its data nodes by their process title after an agent restart",
  'proc-title-template': "the agent recognises its data nodes by their process title after an agent restart",
};

/** Why Coxswain owns a directive, or undefined when the user may set it. */
export function ownedDirective(name: string): string | undefined {
  return ownedParameter('redis', name)?.reason ?? AGENT_OWNED[name.toLowerCase()];
}

/** Characters a value may have and still be written without quotes. */
const BARE = /^[A-Za-z0-9_.,:/@+=%*-]+$/;

/**
 * A value as the server's config parser reads it back unchanged: bare when it is
 * plainly safe, else in double quotes with \\ \" \n \r \t and other control
 * characters escaped (\xHH). Non-ASCII text stays as UTF-8.
 */
export function quoteConfigValue(value: string): string {
  if (BARE.test(value)) return value;
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Directive names as Redis writes them: lower case letters, digits and dashes. */
const DIRECTIVE = /^[a-z][a-z0-9-]*$/;

function line(name: string, value: string | number): string {
  return `${name} ${typeof value === 'number' ? String(value) : quoteConfigValue(value)}`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Renders redis.conf for a data node. Throws InvalidSpecError for a parameter Coxswain owns or cannot write. */
export function renderRedisConfig(spec: DataNodeSpec): string {
  const user = checkedParameters(spec.parameters);
  if (spec.port + CLUSTER_BUS_OFFSET > 65535) {
    throw new InvalidSpecError(
      'port',
      `port ${spec.port} is too high for Redis Cluster: its cluster bus port would be ${spec.port + CLUSTER_BUS_OFFSET}, ` +
        `above 65535; choose a port of at most ${65535 - CLUSTER_BUS_OFFSET}`,
    );
  }
  const dir = spec.dataDir;
  const owned: Array<[string, string | number]> = [
    ['port', spec.port],
    ['bind', spec.bindHost],
    // No credentials yet (they come with the cluster secret): on a loopback address
    // protected mode costs nothing; on any other address it would refuse the other
    // nodes' replication connections, so it must be off there.
    ['protected-mode', isLoopback(spec.bindHost) ? 'yes' : 'no'],
    // docs/redis-cluster.md trap 6: a daemonized server re-parents itself away from
    // the agent, which then cannot see it exit. The agent detaches it itself and keeps
    // its pid.
    ['daemonize', 'no'],
    ['supervised', 'no'],
    ['cluster-enabled', 'yes'],
    ['cluster-config-file', CLUSTER_CONFIG_FILE],
    ['dir', dir],
    ['dbfilename', RDB_FILE],
    ['appenddirname', AOF_DIR],
    ['logfile', path.join(dir, LOG_FILE)],
    ['pidfile', path.join(dir, PID_FILE)],
    // docs/redis-cluster.md trap 2: the default of 5 s makes every restarted replica
    // wait before its full resync; a rolling restart took 41 s instead of 1.5 s.
    ['repl-diskless-sync-delay', 0],
    ['set-proc-title', 'yes'],
    ['proc-title-template', '{title} {listen-addr} {server-mode}'],
  ];
  const defaults: Array<[string, string | number]> = [
    // The AOF is the durability mechanism: every write is logged and fsynced each second.
    ['appendonly', 'yes'],
    // No periodic RDB snapshots: with the AOF they add nothing to durability but fork
    // the server (copy-on-write memory, latency) every few minutes. Backups call BGSAVE
    // when they need an RDB, and SHUTDOWN then writes no RDB, so stops are quick.
    ['save', ''],
    // docs/redis-cluster.md trap 5: with migration allowed, draining a primary to
    // weight 0 made its replica move to another primary, so the drained node group lost
    // its replica and the leader's topology was wrong. Coxswain places every replica
    // itself.
    ['cluster-allow-replica-migration', 'no'],
    ['cluster-node-timeout', CLUSTER_NODE_TIMEOUT_MS],
  ];

  const out: string[] = [
    `# redis.conf of data node ${spec.nodeId}, version ${spec.version}. Written by Coxswain at every`,
    '# start: edit the desired state\'s "config" instead of this file.',
    '',
    '# Owned by Coxswain',
    ...owned.map(([n, v]) => line(n, v)),
    '',
    '# Coxswain defaults (a parameter of the same name in "config" replaces the line)',
    ...defaults.filter(([n]) => !user.has(n)).map(([n, v]) => line(n, v)),
    '',
    '# From the desired state\'s "config", sorted by name',
    ...[...user.entries()].map(([n, v]) => line(n, v)),
  ];
  return `${out.join('\n')}\n`;
}

/** The user's parameters, checked and sorted by name (code-unit order, not locale). */
function checkedParameters(params: Readonly<Record<string, string | number>>): Map<string, string | number> {
  const names = Object.keys(params).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out = new Map<string, string | number>();
  for (const name of names) {
    const field = `parameters.${name}`;
    const value = params[name];
    if (!DIRECTIVE.test(name)) {
      throw new InvalidSpecError(
        field,
        `engine parameter name ${JSON.stringify(name)} is not a redis.conf directive: write it in lower case letters, digits and '-', e.g. "maxmemory-policy"`,
      );
    }
    const reason = ownedDirective(name);
    if (reason !== undefined) {
      throw new InvalidSpecError(field, `engine parameter "${name}" is set by Coxswain (${reason}); remove it`);
    }
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        throw new InvalidSpecError(field, `engine parameter "${name}" is ${String(value)}; write an integer or a string`);
      }
    } else if (typeof value !== 'string') {
      throw new InvalidSpecError(field, `engine parameter "${name}" is neither a string nor an integer; write one of those`);
    }
    out.set(name, value);
  }
  return out;
}
