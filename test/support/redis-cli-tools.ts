// Test support: runs redis-cli / valkey-cli (the tool that belongs to a node's server)
// and `--cluster check`, to check from outside what the agent's operations did
// (agent/engines/redis/cluster-ops.ts) and to compare them with the tool.
import { spawn } from 'node:child_process';
import { abortedError, redisOpError } from '../../agent/engines/redis/errors.ts';
import { command, formatAddr, withNode } from '../../agent/engines/redis/redis-connection.ts';
import type { NodeAddress } from '../../agent/engines/redis/redis-connection.ts';
import { parseInfo } from '../../agent/engines/redis/topology.ts';
import type { OpOptions } from '../../agent/engines/redis/cluster-ops.ts';

export interface CheckResult {
  ok: boolean;
  /** The tool's output without colour codes. */
  output: string;
  tool: string;
}

/** Server flavour and version from INFO server. */
export async function serverKind(addr: NodeAddress, opts: OpOptions = {}): Promise<{ kind: 'redis' | 'valkey'; version: string }> {
  return withNode(
    addr,
    async (c) => {
      const info = parseInfo(await command<string>(c, 'INFO', 'server'));
      if (info['server_name'] === 'valkey') return { kind: 'valkey' as const, version: info['valkey_version'] ?? '' };
      return { kind: 'redis' as const, version: info['redis_version'] ?? '' };
    },
    { signal: opts.signal, op: 'serverKind' },
  );
}

/** The command-line tool that belongs to the server at addr. */
export async function cliFor(addr: NodeAddress, opts: OpOptions = {}): Promise<string> {
  return (await serverKind(addr, opts)).kind === 'valkey' ? 'valkey-cli' : 'redis-cli';
}

export interface ToolRun {
  code: number | null;
  output: string;
  ms: number;
}

// eslint-disable-next-line no-control-regex -- ANSI colour codes are control characters
const ANSI = /\x1b\[[0-9;]*m/g;

/** Runs redis-cli / valkey-cli, killing it when the signal fires or time runs out. */
export function runTool(tool: string, args: string[], opts: OpOptions & { timeoutMs?: number } = {}): Promise<ToolRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(abortedError(tool, opts.signal));
      return;
    }
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    const timer = setTimeout(kill, opts.timeoutMs ?? 60_000);
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      reject(
        redisOpError({
          op: tool,
          reason: 'TOOL_FAILED',
          detail: `cannot run ${tool}: ${err.message}`,
          action: `install ${tool} (agent/engines/redis/install-debian.sh)`,
          cause: err,
        }),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      if (opts.signal?.aborted) {
        reject(abortedError(tool, opts.signal));
        return;
      }
      resolve({ code, output: output.replace(ANSI, ''), ms: Date.now() - started });
    });
  });
}

/**
 * `redis-cli --cluster check` (or valkey-cli for a Valkey node). ok means exit code 0
 * and no [ERR]/[WARNING] line: every slot covered, all nodes agree, no open slots.
 */
export async function clusterCheck(addr: NodeAddress, opts: OpOptions = {}): Promise<CheckResult> {
  const tool = await cliFor(addr, opts);
  const run = await runTool(tool, ['--cluster', 'check', formatAddr(addr)], { signal: opts.signal, timeoutMs: 30_000 });
  const ok = run.code === 0 && !/\[(ERR|WARNING)\]/.test(run.output) && /All 16384 slots covered/.test(run.output);
  return { ok, output: run.output, tool };
}
