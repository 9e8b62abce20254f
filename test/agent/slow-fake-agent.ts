// Test support (not a test file): an agent PROCESS over the fake backend, the way
// `coxswain agent` runs one over the Redis backend (operator/cli/agent-command.ts):
// startAgent, pino lines to standard output, "agent ID listening on HOST:PORT" once it
// serves, SIGTERM stops it. Every backend operation first waits --delay-ms while
// observing the call's signal, so a test can cancel a call in the middle of its work.
//
//   node --import tsx test/agent/slow-fake-agent.ts --data-dir DIR --secret-file FILE --delay-ms N
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { AgentBackend, BackendContext } from '../../agent/backend.ts';
import { startAgent } from '../../agent/daemon.ts';
import { FakeBackend } from '../../agent/fake-backend.ts';
import { sleep } from '../../agent/server/deadline.ts';
import { createAgentLogger } from '../../agent/server/logger.ts';

/** The backend operations that do a call's work (each gets the call's context last). */
const OPERATIONS = [
  'getState', 'ensureVersion', 'startDataNode', 'stopDataNode', 'joinNode', 'removeNode', 'forgetNode',
  'failover', 'moveData', 'createBackup', 'restoreBackup', 'deleteBackup', 'listBackups', 'configureDataNode',
] as const satisfies readonly (keyof AgentBackend)[];

/** `backend` with every operation delayed by `ms` (aborted with the call's signal). */
export function slowBackend(backend: FakeBackend, ms: number): AgentBackend {
  const slow: Record<string, unknown> = {
    hasDataNode: (nodeId: string) => backend.hasDataNode(nodeId),
    onStateChange: (listener: () => void) => backend.onStateChange(listener),
  };
  for (const op of OPERATIONS) {
    const run = backend[op].bind(backend) as (request: unknown, ctx: BackendContext) => Promise<unknown>;
    slow[op] = async (request: unknown, ctx: BackendContext) => {
      await sleep(ms, ctx.signal);
      return run(request, ctx);
    };
  }
  return slow as unknown as AgentBackend;
}

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'secret-file': { type: 'string' },
    'delay-ms': { type: 'string', default: '0' },
    'agent-id': { type: 'string', default: 'vm-slow' },
  },
});
const dataDir = values['data-dir'];
const secretFile = values['secret-file'];
if (dataDir === undefined || secretFile === undefined) {
  console.error('usage: slow-fake-agent.ts --data-dir DIR --secret-file FILE [--delay-ms N] [--agent-id ID]');
  process.exit(2);
}
const agentId = values['agent-id'];
const backend = slowBackend(new FakeBackend({ installedVersions: ['7.0'] }), Number(values['delay-ms']));
const agent = await startAgent({
  agentId,
  zone: 'zone-a',
  dataDir,
  secretFile,
  backend,
  logger: createAgentLogger({ destination: pino.destination(1) }),
});
console.log(`agent ${agentId} listening on ${agent.endpoint}`);
process.once('SIGTERM', () => void agent.stop());
