// The Redis Cluster engine adapter: Redis 7.0 (redis-server) and Valkey 8.0
// (valkey-server), one kind of process, "data". Versions and binaries come from the
// catalogue (desired-state/catalogue.ts); this file finds them on PATH, checks what
// they are, writes redis.conf, and talks to a running node with a short-lived ioredis
// connection.
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ENGINES, type EngineVersionInfo } from '../../../desired-state/catalogue.ts';
import { writeFileAtomic } from '../../../common/atomic-file.ts';
import {
  specProblem,
  type DataNodeSpec,
  type EngineAdapter,
  type InstalledProgram,
  type LaunchCommand,
  type NodeEndpoint,
  type NodeFile,
  type PortUse,
  type PreparedNode,
  type ProbeOptions,
  type ProbeResult,
  type ResolvedBinaries,
  type StopRequestOptions,
} from '../engine.ts';
import { EngineNotInstalledError, InvalidSpecError, UnknownVersionError } from '../errors.ts';
import { CLUSTER_BUS_OFFSET, CONFIG_FILE, LOG_FILE, renderRedisConfig } from './config.ts';
import { errorText } from '../../../common/error-text.ts';

export const REDIS_KIND = 'data';

/** The one line every "not installed" message ends with. */
const INSTALL_SCRIPT = "Run 'make engines' (agent/engines/redis/install-debian.sh)";

export interface RedisEngineOptions {
  /**
   * The PATH to search for the engine's programs, and the PATH data nodes run with.
   * @default process.env.PATH, read at each call
   */
  path?: string;
  /** Time allowed for `<program> --version`. @default 5000 */
  versionTimeoutMs?: number;
}

/** What `<program> --version` says: "Redis server v=7.0.15 …", "valkey-cli 8.0.1". */
export interface ProgramVersion {
  product: string;
  version: string;
}

/** Parses the first line of `--version` output; undefined when it is not a Redis-family program. */
export function parseVersionOutput(output: string): ProgramVersion | undefined {
  const server = /^(\w+) server v=(\d+\.\d+\.\d+)/.exec(output);
  if (server?.[1] !== undefined && server[2] !== undefined) return { product: server[1], version: server[2] };
  const cli = /^(\w+)-cli (\d+\.\d+\.\d+)/.exec(output);
  if (cli?.[1] !== undefined && cli[2] !== undefined) return { product: capitalise(cli[1]), version: cli[2] };
  return undefined;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Fields of an INFO reply, "name:value" per line. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) continue;
    const colon = l.indexOf(':');
    if (colon > 0) out.set(l.slice(0, colon), l.slice(colon + 1));
  }
  return out;
}

export class RedisEngine implements EngineAdapter {
  readonly engine = 'redis';
  readonly kinds: readonly string[] = [REDIS_KIND];
  readonly #options: RedisEngineOptions;
  /** `--version` results by program path, valid while the file is unchanged. */
  readonly #versionCache = new Map<string, { key: string; version: ProgramVersion | undefined }>();

  constructor(options: RedisEngineOptions = {}) {
    this.#options = options;
  }

  versions(): readonly string[] {
    return Object.keys(ENGINES.redis.versions);
  }

  #info(version: string): EngineVersionInfo {
    const versions: Readonly<Record<string, EngineVersionInfo>> = ENGINES.redis.versions;
    const info = Object.hasOwn(versions, version) ? versions[version] : undefined;
    if (info === undefined) throw new UnknownVersionError(this.engine, version, this.versions());
    return info;
  }

  #searchPath(): string {
    return this.#options.path ?? process.env.PATH ?? '';
  }

  async resolve(version: string, kind: string): Promise<ResolvedBinaries> {
    const info = this.#info(version);
    if (kind !== REDIS_KIND) {
      throw new InvalidSpecError('kind', `redis has one node kind, "${REDIS_KIND}"; got ${JSON.stringify(kind)}`);
    }
    // Both checks run at once, but a failure is reported in a fixed order (the server
    // first), so the same machine always gets the same message.
    const [server, cli] = await Promise.allSettled([
      this.#installed(version, info, info.serverBinary),
      this.#installed(version, info, info.cliBinary),
    ]);
    if (server.status === 'rejected') throw server.reason;
    if (cli.status === 'rejected') throw cli.reason;
    return { engine: this.engine, version, kind, server: server.value, tools: { cli: cli.value } };
  }

  /** A program of `version`, on PATH and of the right product and version series. */
  async #installed(version: string, info: EngineVersionInfo, program: string): Promise<InstalledProgram> {
    const what = `${info.product} ${version}`;
    const pkg = info.debianPackages.includes(program) ? program : info.debianPackages.join(' and ');
    const fix = `${INSTALL_SCRIPT} or install ${pkg} from ${info.suite}.`;
    const notInstalled = (why: string): EngineNotInstalledError =>
      new EngineNotInstalledError({ engine: this.engine, version, program }, `${what} is not installed: ${why}. ${fix}`);

    const found = await findOnPath(program, this.#searchPath());
    if (found === undefined) throw notInstalled(`${program} was not found on PATH`);
    const reported = await this.#programVersion(found);
    if (reported === undefined) {
      throw notInstalled(`${program} on PATH (${found}) did not report a version with --version`);
    }
    const sameProduct = reported.product.toLowerCase() === info.product.toLowerCase();
    if (!sameProduct || !reported.version.startsWith(`${version}.`)) {
      throw notInstalled(`${program} on PATH (${found}) is ${reported.product} ${reported.version}, not ${info.product} ${version}.x`);
    }
    return { name: program, path: found, product: reported.product, version: reported.version };
  }

  async #programVersion(file: string): Promise<ProgramVersion | undefined> {
    const st = await stat(file);
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    const cached = this.#versionCache.get(file);
    if (cached?.key === key) return cached.version;
    const output = await new Promise<string>((resolve) => {
      execFile(
        file,
        ['--version'],
        { timeout: this.#options.versionTimeoutMs ?? 5000, env: { PATH: this.#searchPath() } },
        (_err, stdout) => resolve(String(stdout)),
      );
    });
    const version = parseVersionOutput(output);
    this.#versionCache.set(file, { key, version });
    return version;
  }

  render(spec: DataNodeSpec): readonly NodeFile[] {
    const problem = specProblem(spec, this.kinds);
    if (problem !== undefined) throw new InvalidSpecError(problem[0], problem[1]);
    this.#info(spec.version);
    return [{ name: CONFIG_FILE, content: renderRedisConfig(spec) }];
  }

  async prepare(spec: DataNodeSpec): Promise<PreparedNode> {
    const files = this.render(spec);
    await mkdir(spec.dataDir, { recursive: true, mode: 0o700 });
    let changed = false;
    for (const file of files) {
      const target = path.join(spec.dataDir, file.name);
      const current = await readFile(target, 'utf8').catch(() => undefined);
      if (current === file.content) continue;
      await writeFileAtomic(target, file.content, 0o600);
      changed = true;
    }
    return { dataDir: spec.dataDir, files: files.map((f) => f.name), changed };
  }

  ports(spec: DataNodeSpec): readonly PortUse[] {
    return [
      { port: spec.port, purpose: 'client port' },
      { port: spec.port + CLUSTER_BUS_OFFSET, purpose: 'cluster bus port' },
    ];
  }

  launchCommand(spec: DataNodeSpec, binaries: ResolvedBinaries): LaunchCommand {
    return {
      // The program path exactly as found on PATH, never resolved: redis-server is a
      // symlink to redis-check-rdb, and the binary picks its mode from argv[0].
      argv: [binaries.server.path, path.join(spec.dataDir, CONFIG_FILE)],
      // Only PATH: the agent's environment (which may hold its credentials) is not
      // handed to a process that outlives it.
      env: { PATH: this.#searchPath() },
      cwd: spec.dataDir,
      logFile: path.join(spec.dataDir, LOG_FILE),
    };
  }

  endpoint(spec: Pick<DataNodeSpec, 'bindHost' | 'port'>): NodeEndpoint {
    const host = spec.bindHost === '0.0.0.0' ? '127.0.0.1' : spec.bindHost === '::' ? '::1' : spec.bindHost;
    return { host, port: spec.port };
  }

  async probe(endpoint: NodeEndpoint, options: ProbeOptions = {}): Promise<ProbeResult> {
    const timeoutMs = options.timeoutMs ?? 1000;
    return withClient(endpoint, timeoutMs, async (client) => {
      // INFO answers while the server loads its data set; most commands do not.
      const info = parseInfo(String(await client.call('INFO', ['server', 'persistence'])));
      const product = info.get('server_name') ?? 'redis';
      const version = info.get(`${product}_version`) ?? info.get('redis_version');
      const pidText = info.get('process_id');
      const about = {
        product,
        ...(version === undefined ? {} : { version }),
        ...(pidText === undefined ? {} : { pid: Number(pidText) }),
      };
      if (info.get('loading') === '1') {
        return { up: true, ready: false, detail: 'loading its data set', ...about };
      }
      let engineNodeId: string | undefined;
      try {
        engineNodeId = String(await client.call('CLUSTER', ['MYID']));
      } catch {
        // Not in cluster mode (e.g. a temporary server for a restore): no cluster node id.
      }
      return { up: true, ready: true, ...about, ...(engineNodeId === undefined ? {} : { engineNodeId }) };
    }).catch((err: unknown): ProbeResult => ({ up: false, ready: false, detail: errorText(err) }));
  }

  runsVersion(probe: ProbeResult, version: string): boolean {
    const versions: Readonly<Record<string, EngineVersionInfo>> = ENGINES.redis.versions;
    const info = Object.hasOwn(versions, version) ? versions[version] : undefined;
    return (
      info !== undefined &&
      probe.product === info.product.toLowerCase() &&
      probe.version !== undefined &&
      probe.version.startsWith(`${version}.`)
    );
  }

  /**
   * SHUTDOWN NOSAVE when the AOF is on: the server still flushes and fsyncs the AOF
   * before it exits (NOSAVE only skips the RDB snapshot), and the AOF is what it loads
   * at the next start, so an RDB written now would cost time proportional to the data
   * set for nothing. With the AOF off (e.g. during a restore, docs/redis-cluster.md
   * trap 3) the data would only be in memory: then SHUTDOWN SAVE, so it is written to
   * dump.rdb first.
   */
  async requestStop(endpoint: NodeEndpoint, options: StopRequestOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 2000;
    await withClient(endpoint, timeoutMs, async (client) => {
      const reply = await client.call('CONFIG', ['GET', 'appendonly']);
      const aof = Array.isArray(reply) && String(reply[1]) === 'yes';
      try {
        await client.call('SHUTDOWN', [aof ? 'NOSAVE' : 'SAVE']);
      } catch (err) {
        // Success closes the connection without a reply; a primary may also hold the
        // reply while its replicas catch up (shutdown-timeout). Only a reply refusing
        // the shutdown is a failure.
        if (err instanceof Error && err.name === 'ReplyError') {
          throw new Error(`the server refused SHUTDOWN: ${err.message}`, { cause: err });
        }
      }
    });
  }
}

/** Runs `fn` with a fresh single-node connection, all within `timeoutMs`. */
async function withClient<T>(endpoint: NodeEndpoint, timeoutMs: number, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: endpoint.host,
    port: endpoint.port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    autoResubscribe: false,
    protocol: 2,
    disableClientInfo: true,
  });
  // Without a listener an 'error' event would be thrown as an uncaught exception. The
  // awaited calls only say "Connection is closed."; the event has the cause (ECONNREFUSED …).
  let cause: Error | undefined;
  client.on('error', (err: Error) => {
    cause ??= err;
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${endpoint.host}:${endpoint.port} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([client.connect().then(() => fn(client)), deadline]);
  } catch (err) {
    if (cause !== undefined && err instanceof Error && err.message.startsWith('Connection is closed')) throw cause;
    throw err;
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** The first executable file called `name` in the directories of `searchPath`, not resolved through symlinks. */
export async function findOnPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter)) {
    // An empty entry means the working directory: never look there for a server binary.
    if (dir === '' || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      const st = await stat(candidate);
      if (!st.isFile()) continue;
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
