// Names the planner gives and reads: VM ids ("vm-<n>"), node group names ("ng<i>"), and
// short lists of ids for messages. VM ids carry a number so that a new VM's id is
// deterministic (1 + the highest number observed) and so that "lowest id first" orders
// vm-2 before vm-10, as a person reading the status would expect.

/** The number of a VM id "vm-<n>", or -1 when the id does not have that form. */
export function vmNumber(id: string): number {
  // Hand-parsed: this runs inside sort comparisons over thousands of VMs.
  const len = id.length;
  if (len < 4 || len > 18 || id.charCodeAt(0) !== 118 || id.charCodeAt(1) !== 109 || id.charCodeAt(2) !== 45) return -1;
  let n = 0;
  for (let i = 3; i < len; i++) {
    const c = id.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** The id of the VM numbered `n`. */
export function vmId(n: number): string {
  return `vm-${n}`;
}

/** Orders VM (and data node) ids by their number, then as text: vm-2 before vm-10. */
export function compareIds(a: string, b: string): number {
  const na = vmNumber(a);
  const nb = vmNumber(b);
  if (na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How a node group is named in messages. */
export function groupName(index: number): string {
  return `ng${index}`;
}

/** "vm-1", "vm-1 and vm-2", "vm-1, vm-2, vm-3 and 4 more": ids for a message, at most `max` named. */
export function listIds(ids: readonly string[], max = 5): string {
  if (ids.length === 0) return '';
  if (ids.length === 1) return ids[0] ?? '';
  if (ids.length <= max) return `${ids.slice(0, -1).join(', ')} and ${ids[ids.length - 1] ?? ''}`;
  return `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}

/** "1 node", "3 nodes". */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}
