// Stopping a VM's data nodes without its agent. The agent's supervisor keeps one record
// per node in <dataDir>/nodes/<nodeId>/node.json (agent/node-record.ts) with the pid,
// its /proc start time and the program it ran; each node runs detached in its own
// process group. When the agent cannot be asked (it is dead, or refuses a stale
// leader), the provider stops the nodes from these records: only a process that is
// still the recorded one (same start time, same program) is signalled, so a reused pid
// is never hit. A node stopped here gets its record updated as the supervisor would
// (pid null), so the next agent sees it stopped, not lost.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readRecord, writeRecord } from '../../agent/node-record.ts';
import { readCmdline, readProcStat } from '../../common/process-inspect.ts';
import type { Clock } from '../../common/clock.ts';
import { stopProcess } from './agent-process.ts';

/** A data node process found through its agent's records. */
export interface RecordedNode {
  nodeId: string;
  pid: number;
  nodeDir: string;
}

/** Data nodes recorded under an agent's data dir whose recorded process still runs. */
export async function runningRecordedNodes(dataDir: string): Promise<RecordedNode[]> {
  const nodesDir = path.join(dataDir, 'nodes');
  const names = await readdir(nodesDir).catch(() => [] as string[]);
  const found: RecordedNode[] = [];
  for (const nodeId of names.sort()) {
    const nodeDir = path.join(nodesDir, nodeId);
    const record = await readRecord(nodeDir).catch(() => undefined);
    if (record === undefined || record.pid === null) continue;
    const stat = await readProcStat(record.pid);
    if (stat === undefined || stat.state === 'Z' || stat.state === 'X') continue;
    if (record.procStartTime !== null && stat.startTime !== record.procStartTime) continue; // the pid was reused
    // A server's title is "<argv[0]> <address> [cluster]": its program comes first.
    const program = ((await readCmdline(record.pid)) ?? '').split(/\s+/)[0] ?? '';
    if (path.basename(program) !== path.basename(record.binary)) continue;
    found.push({ nodeId, pid: record.pid, nodeDir });
  }
  return found;
}

/**
 * Stops every recorded data node of an agent that still runs: SIGTERM (Redis saves and
 * shuts down), SIGKILL to its group after `graceMs`. Returns the pids it stopped.
 */
export async function stopRecordedNodes(dataDir: string, options: { graceMs: number; clock: Clock; vmId: string }): Promise<number[]> {
  const nodes = await runningRecordedNodes(dataDir);
  await Promise.all(
    nodes.map(async (n) => {
      await stopProcess(n.pid, { graceMs: options.graceMs, clock: options.clock, what: `data node ${n.nodeId} of VM ${options.vmId}` });
      const record = await readRecord(n.nodeDir).catch(() => undefined);
      if (record !== undefined && record.pid === n.pid) {
        await writeRecord(n.nodeDir, { ...record, pid: null, procStartTime: null, stoppedAt: new Date().toISOString() });
      }
    }),
  );
  return nodes.map((n) => n.pid);
}
