// Planted bugs in the agent's own code (planted-bugs.ts, `agent`): a mutant changes one
// place of a production file of agent/server — the line(s) `find`, replaced by
// `replace` — and the simulated agents of the buggy run execute that changed code
// (sim-agent.ts AgentCode), while the run without the bug, in the same process, keeps
// the production code. The mutant is loaded as a module graph of its own
// (agent-mutant-hooks.mjs); the production files are never written.
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AgentCode } from './sim-agent.ts';

/** One change to the agent's code: in `file`, the text `find` (exactly once) becomes `replace`. */
export interface AgentMutant {
  /** Relative to the repository, e.g. 'agent/server/epoch-fence.ts'. */
  readonly file: string;
  readonly find: string;
  readonly replace: string;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The modules the simulated agent takes its classes from (the rest of agent/server follows their imports). */
const ENTRY = {
  AgentCore: 'agent/server/agent-core.ts',
  EpochFence: 'agent/server/epoch-fence.ts',
  IdempotencyStore: 'agent/server/idempotency.ts',
} as const;

let registered = false;
const loaded = new Map<string, Promise<AgentCode>>();

/** The agent's code with `mutant` applied. Throws when the change no longer matches the file exactly once. */
export function mutantAgent(mutant: AgentMutant): Promise<AgentCode> {
  if (!mutant.file.startsWith('agent/server/')) throw new Error(`planted agent bug: ${mutant.file} is not a file of agent/server`);
  const text = readFileSync(path.join(ROOT, mutant.file), 'utf8');
  const found = text.split(mutant.find).length - 1;
  if (found !== 1) throw new Error(`planted agent bug: ${mutant.file} holds ${found} copies of the text to change, not 1 (did the code move?)`);
  const code = Buffer.from(JSON.stringify(mutant)).toString('base64url');
  let agent = loaded.get(code);
  if (agent === undefined) {
    if (!registered) {
      register(new URL('./agent-mutant-hooks.mjs', import.meta.url));
      registered = true;
    }
    const load = async <T>(file: string): Promise<T> => (await import(`${pathToFileURL(path.join(ROOT, file)).href}?mutant=${code}`)) as T;
    agent = Promise.all([
      load<{ AgentCore: AgentCode['AgentCore'] }>(ENTRY.AgentCore),
      load<{ EpochFence: AgentCode['EpochFence'] }>(ENTRY.EpochFence),
      load<{ IdempotencyStore: AgentCode['IdempotencyStore'] }>(ENTRY.IdempotencyStore),
    ]).then(([core, fence, store]) => ({ AgentCore: core.AgentCore, EpochFence: fence.EpochFence, IdempotencyStore: store.IdempotencyStore }));
    loaded.set(code, agent);
  }
  return agent;
}
