// The local VM provider's inventory: which VMs this cluster has, with their ports and
// labels, in <clusterDir>/vms/inventory.json. It is the provider's only memory across a
// leader restart, so it is written atomically (temporary file, fsync, rename, fsync of
// the directory) and BEFORE any process is started for a VM: a leader killed between
// the two finds the VM on restart, and restarting its agent repairs the rest.
//
// The file stores what the VM should be (its `intent`); whether its agent actually runs
// is found out again on every list(), from the pid and /proc.
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { VmType } from '../../desired-state/types.ts';
import { VM_TYPES } from '../../desired-state/catalogue.ts';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import { VmStateFileError } from './errors.ts';

export const INVENTORY_FILE = 'inventory.json';
const FORMAT = 1;

/** One VM as the inventory keeps it. */
export interface InventoryEntry {
  id: string;
  zone: string;
  /**
   * Size of the VM. Locally a "VM" is a process on this machine: vmType and storageGiB
   * are recorded (so a change can be planned and observed) but limit nothing.
   */
  vmType: VmType;
  storageGiB: number;
  nodeGroup: number;
  temporary: boolean;
  /** The agentRunningSince its agent was last (re)started for. */
  agentRunningSince: number;
  /** Address the agent listens on and its data node binds to. */
  host: string;
  agentPort: number;
  dataPort: number;
  /** 'running': its agent should run; 'stopped': stopped on purpose (`coxswain down`). */
  intent: 'running' | 'stopped';
  /** ISO time of creation. */
  createdAt: string;
}

interface InventoryFile {
  format: typeof FORMAT;
  vms: InventoryEntry[];
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** The first problem of an entry, or undefined when it is well formed. */
function entryProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'is not an object';
  const e = v as Record<string, unknown>;
  if (typeof e.id !== 'string' || e.id === '') return 'has no id';
  if (typeof e.zone !== 'string' || e.zone === '') return `(${e.id}) has no zone`;
  if (typeof e.vmType !== 'string' || !Object.hasOwn(VM_TYPES, e.vmType)) return `(${e.id}) has an unknown vmType ${JSON.stringify(e.vmType)}`;
  if (!isCount(e.storageGiB) || !isCount(e.nodeGroup) || !isCount(e.agentRunningSince)) {
    return `(${e.id}) needs whole numbers storageGiB, nodeGroup and agentRunningSince`;
  }
  if (typeof e.temporary !== 'boolean') return `(${e.id}) needs temporary true or false`;
  if (typeof e.host !== 'string' || e.host === '') return `(${e.id}) has no host`;
  if (!isPort(e.agentPort) || !isPort(e.dataPort)) return `(${e.id}) needs ports 1 … 65535`;
  if (e.intent !== 'running' && e.intent !== 'stopped') return `(${e.id}) has intent ${JSON.stringify(e.intent)}, not "running" or "stopped"`;
  if (typeof e.createdAt !== 'string') return `(${e.id}) has no createdAt`;
  return undefined;
}

/**
 * Reads the inventory (synchronously: the provider's constructor needs it, and it is a
 * small file). A missing file is an empty inventory; anything unreadable is a
 * VmStateFileError that says what to do.
 */
export function loadInventory(vmsDir: string): InventoryEntry[] {
  const file = path.join(vmsDir, INVENTORY_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new VmStateFileError(file, `cannot be read (${(err as Error).message}); check its permissions`);
  }
  const fix = 'restore it from a backup, or remove it after stopping every agent of this cluster by hand';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new VmStateFileError(file, `is not valid JSON (${(err as Error).message}); ${fix}`);
  }
  if (typeof value !== 'object' || value === null) throw new VmStateFileError(file, `is not a VM inventory; ${fix}`);
  const inv = value as Record<string, unknown>;
  if (inv.format !== FORMAT) {
    throw new VmStateFileError(file, `has format ${JSON.stringify(inv.format)}; this Coxswain reads format ${FORMAT} only`);
  }
  if (!Array.isArray(inv.vms)) throw new VmStateFileError(file, `has no "vms" list; ${fix}`);
  const seen = new Set<string>();
  const entries: InventoryEntry[] = [];
  for (const [i, v] of (inv.vms as unknown[]).entries()) {
    const problem = entryProblem(v);
    if (problem !== undefined) throw new VmStateFileError(file, `vms[${i}] ${problem}; ${fix}`);
    const e = v as InventoryEntry;
    if (seen.has(e.id)) throw new VmStateFileError(file, `lists VM ${e.id} twice; ${fix}`);
    seen.add(e.id);
    entries.push({ ...e });
  }
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Writes the inventory atomically and durably (creating the directory when needed). */
export async function saveInventory(vmsDir: string, entries: readonly InventoryEntry[]): Promise<void> {
  await mkdir(vmsDir, { recursive: true, mode: 0o700 });
  const content: InventoryFile = {
    format: FORMAT,
    vms: [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
  await writeFileAtomic(path.join(vmsDir, INVENTORY_FILE), `${JSON.stringify(content, null, 2)}\n`, 0o600);
}

/** Removes the inventory file (purge). */
export async function removeInventory(vmsDir: string): Promise<void> {
  await rm(path.join(vmsDir, INVENTORY_FILE), { force: true });
}
