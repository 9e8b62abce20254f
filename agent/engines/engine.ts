// The engine adapter: everything the agent needs to know about one database engine to
// run its processes on a VM. The supervisor (agent/supervisor.ts) is engine-neutral and
// drives any engine through this interface.
//
// A data node is one engine process with its own directory. Engines with several
// process kinds name them with `kind`: Redis has one kind, "data"; RonDB will have
// "mgmd" (ndb_mgmd), "ndbmtd" and "mysqld", each with its own binary, config and
// probe. Cluster operations (join, failover, slot moves, backups) are not part of
// this interface: they live beside it (agent/engines/redis/cluster-ops.ts).
//
// Errors: methods throw the typed errors of ./errors.ts (EngineNotInstalledError,
// UnknownVersionError, InvalidSpecError …), which extend proto/status.ts: each is
// transient or terminal and carries its gRPC code.
import path from 'node:path';

/** Everything an engine needs to prepare and launch one data node. */
export interface DataNodeSpec {
  /**
   * Coxswain's id of the node, chosen by the agent/leader and stable for the node's life
   * ("ng0-r1"): letters, digits, '-', '_', '.', at most 63, not starting with '.' or '-'.
   */
  readonly nodeId: string;
  /** The process kind, one of the adapter's `kinds` ("data" for Redis). */
  readonly kind: string;
  /** Catalogue version, e.g. "7.0" (Redis) or "8.0" (Valkey). */
  readonly version: string;
  /** The engine's client port (1 … 65535). Engines may use more ports: see `ports()`. */
  readonly port: number;
  /** Address to listen on. The supervisor fills in 127.0.0.1 when the caller gives none. */
  readonly bindHost: string;
  /**
   * The node's own directory (absolute). Everything the node owns lives under it:
   * config, data files, logs, and the supervisor's pid record.
   */
  readonly dataDir: string;
  /** User engine parameters (the desired state's `config`), already validated by name. */
  readonly parameters: Readonly<Record<string, string | number>>;
}

/** One program of an engine version, found on PATH with its version checked. */
export interface InstalledProgram {
  /** Program name as in the catalogue, e.g. "valkey-server". */
  readonly name: string;
  /** Absolute path it was found at. */
  readonly path: string;
  /** Product the program says it is, e.g. "Redis", "Valkey". */
  readonly product: string;
  /** Full version it reports, e.g. "8.0.1". */
  readonly version: string;
}

/** The programs of one engine version and kind, all installed and of the right version. */
export interface ResolvedBinaries {
  readonly engine: string;
  /** Catalogue version, e.g. "8.0". */
  readonly version: string;
  readonly kind: string;
  /** The server process of this kind (what `launchCommand` runs). */
  readonly server: InstalledProgram;
  /** Companion tools the engine's operations use, by role (Redis: "cli"). */
  readonly tools: Readonly<Record<string, InstalledProgram>>;
}

/** A port a data node listens on, and what for. */
export interface PortUse {
  readonly port: number;
  /** "client port", "cluster bus port" ... for messages. */
  readonly purpose: string;
}

/** A file the engine wants in the node directory. */
export interface NodeFile {
  /** Path relative to the node directory, e.g. "redis.conf". */
  readonly name: string;
  readonly content: string;
}

/** The result of preparing a node directory. */
export interface PreparedNode {
  readonly dataDir: string;
  /** Files written or already up to date, relative to the node directory. */
  readonly files: readonly string[];
  /** True when a file's content differed from what was there (or it was new). */
  readonly changed: boolean;
}

/** How to launch a data node's process. The supervisor adds detaching and log capture. */
export interface LaunchCommand {
  /** argv[0] is the absolute path of the program. */
  readonly argv: readonly string[];
  /** The complete environment of the process (not merged with the agent's). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The engine's own log file (absolute), for the last lines in error messages. */
  readonly logFile?: string;
}

/** Where a running node is reached for probes and stop requests. */
export interface NodeEndpoint {
  readonly host: string;
  readonly port: number;
}

/** What a data node says about itself. */
export interface ProbeResult {
  /** The port answered the engine's protocol. */
  readonly up: boolean;
  /** Up and serving requests (e.g. not loading its data set). */
  readonly ready: boolean;
  /** Why it is not up or not ready ("connection refused", "loading the data set"). */
  readonly detail?: string;
  /** Product that answered, lower case: "redis", "valkey". */
  readonly product?: string;
  /** Full version that answered, e.g. "7.0.15". */
  readonly version?: string;
  /** Operating-system pid the server reports for itself. */
  readonly pid?: number;
  /** The engine's own id of the node (Redis: 40-hex cluster node id). */
  readonly engineNodeId?: string;
}

export interface ProbeOptions {
  /** Time allowed for the whole probe. @default 1000 */
  readonly timeoutMs?: number;
}

export interface StopRequestOptions {
  /** Time allowed to deliver the request. @default 2000 */
  readonly timeoutMs?: number;
}

export interface EngineAdapter {
  /** Engine name as in the desired state, e.g. "redis". */
  readonly engine: string;
  /** Process kinds this engine runs; Redis: ["data"]. */
  readonly kinds: readonly string[];

  /** Catalogue versions this adapter can run, e.g. ["7.0", "8.0"]. */
  versions(): readonly string[];

  /**
   * The programs of `version` for `kind`, found on PATH with their versions checked.
   * Throws UnknownVersionError, or EngineNotInstalledError saying what is missing and
   * how to install it.
   */
  resolve(version: string, kind: string): Promise<ResolvedBinaries>;

  /**
   * Checks a spec and returns the files the node needs (pure: no I/O). Throws
   * InvalidSpecError. Two calls with the same spec give the same files, byte for byte,
   * so a changed configuration shows as changed text.
   */
  render(spec: DataNodeSpec): readonly NodeFile[];

  /** Creates the node directory and writes `render(spec)` into it (atomically, only when changed). */
  prepare(spec: DataNodeSpec): Promise<PreparedNode>;

  /** Every port the node will listen on (Redis: the client port and the cluster bus port). */
  ports(spec: DataNodeSpec): readonly PortUse[];

  /** The process to run for the node. */
  launchCommand(spec: DataNodeSpec, binaries: ResolvedBinaries): LaunchCommand;

  /** Where to reach the node (a wildcard bind address becomes loopback). */
  endpoint(spec: Pick<DataNodeSpec, 'bindHost' | 'port'>): NodeEndpoint;

  /** Asks the node who and how it is. Never throws: a node that does not answer is `up: false`. */
  probe(endpoint: NodeEndpoint, options?: ProbeOptions): Promise<ProbeResult>;

  /** True when a probe shows the product and version series the catalogue's `version` names. */
  runsVersion(probe: ProbeResult, version: string): boolean;

  /**
   * Asks the node to shut down gracefully, keeping its data. Resolves once the request
   * was delivered (the process may still be exiting); throws when it could not be
   * delivered or the node refused, so the caller can fall back to a signal.
   */
  requestStop(endpoint: NodeEndpoint, options?: StopRequestOptions): Promise<void>;
}

/** A node id: it names a directory, so no '/', and no '.' or '-' first. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,62}$/;

/**
 * The checks every engine makes on a spec before touching the disk: the node id (it
 * names a directory), the port, the bind address, the kind and the data directory.
 * Returns the problem as [field, message], or undefined.
 */
export function specProblem(spec: DataNodeSpec, kinds: readonly string[]): [field: string, message: string] | undefined {
  if (!NODE_ID_PATTERN.test(spec.nodeId)) {
    return [
      'nodeId',
      `node id ${JSON.stringify(spec.nodeId)} is not valid: use letters, digits, '-', '_' and '.', at most 63, not starting with '.' or '-'`,
    ];
  }
  if (!kinds.includes(spec.kind)) {
    return ['kind', `node kind ${JSON.stringify(spec.kind)} is not one of ${kinds.map((k) => `"${k}"`).join(', ')}`];
  }
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) {
    return ['port', `port ${String(spec.port)} is not an integer from 1 to 65535`];
  }
  if (!/^[A-Za-z0-9.:-]+$/.test(spec.bindHost)) {
    return ['bindHost', `bind address ${JSON.stringify(spec.bindHost)} is not an IP address or host name`];
  }
  if (!path.isAbsolute(spec.dataDir)) {
    return ['dataDir', `data directory ${JSON.stringify(spec.dataDir)} is not an absolute path`];
  }
  return undefined;
}
