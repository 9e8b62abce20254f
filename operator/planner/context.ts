// What every concern of the planner reads and writes: the desired state, the index of
// the observation, the target layout, the batch being built, and two facts derived once
// per call — whether data nodes should run now, and whether the cluster is still being
// formed (slots not yet all assigned for the first time).
import type { Desired } from '../../desired-state/types.ts';
import type { Batch } from './batch.ts';
import type { Layout } from './layout.ts';
import type { ClusterView } from './view.ts';

export interface PlanContext {
  readonly desired: Desired;
  readonly view: ClusterView;
  readonly layout: Layout;
  readonly batch: Batch;
  /**
   * Data nodes should run now: `running` is desired, or the cluster holds data and work
   * that needs running nodes remains (see running.ts: the work is done first, then the
   * cluster stops).
   */
  readonly running: boolean;
  /** Never formed and some slot is still unassigned: bootstrap assigns slots. */
  readonly forming: boolean;
  /** A restore is still to be done into this cluster. */
  readonly restorePending: boolean;
  /**
   * Node groups whose primary must run a newer version before slots can move into them
   * (node-groups.ts adds them; rolling.ts upgrades them even while running is false).
   */
  readonly upgradeFirst: Set<number>;
}
