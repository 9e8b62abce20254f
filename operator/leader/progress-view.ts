// What `coxswain up` shows while the leader runs in the foreground. On a terminal, a
// small block redrawn in place (state, steps done and an estimate of those to go, the job
// running now, what it waits for, refusals and errors, nodes up); elsewhere (a pipe, CI, a
// log file) one plain line each time something in that block changes, so the output reads
// as a log. The steps done are counted and never go down while one desired state is
// worked on (operator/reconciler/status-view.ts); the steps to go are the plan's estimate,
// and are labelled so: they change as the plan does.
import type { ClusterStatus, StatusProgress } from '../model/status.ts';

/** The lines of the block for `status` (no trailing newline, no escape codes). */
export function renderProgress(status: ClusterStatus): string[] {
  const lines: string[] = [];
  const nodes = status.nodeGroups.flatMap((g) => g.nodes);
  const up = nodes.filter((n) => n.up).length;
  const agentsUp = status.agents.filter((a) => a.up).length;
  const target = status.acceptedId === null ? 'no desired state accepted yet' : `desired state ${status.acceptedId}`;
  lines.push(`${status.state}  ${target}${progressLine(status)}`);
  for (const current of status.progress?.current ?? []) lines.push(`  now: ${current}`);
  for (const waiting of status.waiting) lines.push(`  waiting: ${waiting}`);
  if (status.pendingId !== null) lines.push(`  next: desired state ${status.pendingId}, once the current work ends`);
  if (status.lastError !== null) {
    const e = status.lastError;
    lines.push(`  error: ${e.step}: ${firstLine(e.reason)} (${e.attempts} attempt${e.attempts === 1 ? '' : 's'}${e.jobId === undefined ? '' : `, job ${e.jobId}`})`);
  }
  if (status.lastRefusal !== null) {
    const r = status.lastRefusal;
    lines.push(`  refused edit${r.id === null ? '' : ` ${r.id}`}: ${firstLine(r.reason)}`);
  }
  lines.push(`  ${status.nodeGroups.length} node group${status.nodeGroups.length === 1 ? '' : 's'}, ${up} of ${nodes.length} data nodes up, ${agentsUp} of ${status.agents.length} agents up`);
  return lines;
}

function progressLine(status: ClusterStatus): string {
  if (status.state !== 'WORKING_TOWARDS_DESIRED_STATE' || status.progress === null) return '';
  return `  ${progressText(status.progress, 'short')}`;
}

/**
 * What is counted and what is estimated: "7 steps done, about 23 to go (estimated from the
 * current plan)"; `short`: "… (estimate)".
 */
export function progressText(p: StatusProgress, form: 'long' | 'short' = 'long'): string {
  const done = `${p.done} step${p.done === 1 ? '' : 's'} done`;
  // A leader from before `remaining` was added sends only its total, an estimate.
  if (p.remaining === undefined) return `${done} of about ${Math.max(p.total, p.done)} (${form === 'long' ? 'the total is an estimate' : 'estimate'})`;
  if (p.remaining === null) return `${done}, planning the rest`;
  return `${done}, about ${p.remaining} to go (${form === 'long' ? 'estimated from the current plan' : 'estimate'})`;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/**
 * One line for logs and `wait`: the first line of the block, then what runs now (the first
 * job and how many more), waits, the pending id, errors and refusals.
 */
export function progressSummary(status: ClusterStatus): string {
  const [head, ...rest] = renderProgress(status);
  const details = rest.slice(0, -1).map((l) => l.trim());
  const now = details.filter((d) => d.startsWith('now: '));
  const others = details.filter((d) => !d.startsWith('now: '));
  const summary = now.length === 0 ? [] : [`${now[0] ?? ''}${now.length > 1 ? ` (+${now.length - 1} more)` : ''}`];
  const all = [...summary, ...others];
  return `${head ?? ''}${all.length > 0 ? ` — ${all.join('; ')}` : ''}`;
}

/** The key of what a plain line reports: a new line is printed only when it changes (not for a new estimate alone). */
export function plainKey(status: ClusterStatus): string {
  return JSON.stringify([
    status.state,
    status.acceptedId,
    status.pendingId,
    status.progress?.current ?? [],
    status.waiting,
    status.lastError?.step ?? null,
    status.lastRefusal?.at ?? null,
  ]);
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Width of the terminal: longer lines are cut, so each takes one row and the redraw stays in place. */
  columns?: number;
}

export interface ProgressViewOptions {
  stream: ProgressStream;
  /** Redraw in place (a terminal). @default stream.isTTY === true */
  live?: boolean;
  /** A line under the block on a terminal (how to stop, where the log is). */
  footer?: string;
  /** Time for plain lines. @default () => new Date() */
  now?: () => Date;
}

export class ProgressView {
  readonly #stream: ProgressStream;
  readonly #live: boolean;
  readonly #footer: string | undefined;
  readonly #now: () => Date;
  #drawnLines = 0;
  #lastKey: string | undefined;
  #lastBlock: string | undefined;

  constructor(options: ProgressViewOptions) {
    this.#stream = options.stream;
    this.#live = options.live ?? options.stream.isTTY === true;
    this.#footer = options.footer;
    this.#now = options.now ?? (() => new Date());
  }

  update(status: ClusterStatus): void {
    if (this.#live) {
      const columns = this.#stream.columns ?? 0;
      const width = Math.max(20, (columns > 0 ? columns : 100) - 1);
      const lines = renderProgress(status);
      if (this.#footer !== undefined) lines.push('', this.#footer);
      const block = lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
      if (block === this.#lastBlock) return;
      this.#lastBlock = block;
      // Move to the start of the block drawn last, clear to the end of the screen, draw.
      const up = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}F\x1b[J` : '';
      this.#stream.write(`${up}${block}\n`);
      this.#drawnLines = lines.length;
      return;
    }
    const key = plainKey(status);
    if (key === this.#lastKey) return;
    this.#lastKey = key;
    const time = this.#now().toISOString().slice(11, 19);
    this.#stream.write(`${time} ${progressSummary(status)}\n`);
  }

  /** Leaves the block on screen and moves below it (before printing anything else). */
  done(): void {
    this.#drawnLines = 0;
    this.#lastBlock = undefined;
  }
}
