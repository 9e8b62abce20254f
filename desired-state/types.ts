// The TypeScript view of the desired state. The shapes come from the JSON Schema
// (desired-state.schema.json → desired-state.generated.ts); nothing here restates a field.
import type { BackupRef, DesiredState } from './desired-state.generated.ts';

export type { BackupRef, DesiredState };

/** The fields the schema gives a default for. */
export type DefaultedField =
  | 'running'
  | 'runningSince'
  | 'agentRunningSince'
  | 'availabilityZones'
  | 'vmType'
  | 'storageGiB'
  | 'config'
  | 'backups'
  | 'allowTemporaryVms';

/**
 * A desired state after validation: every defaulted field is filled in, `$schema` is
 * dropped. This is what the planner, the history and the transition rules work on.
 */
export type Desired = Omit<DesiredState, '$schema' | DefaultedField | 'restoreFromBackup'> &
  Required<Pick<DesiredState, DefaultedField>> & { restoreFromBackup?: BackupRef };

export type EngineName = DesiredState['engine'];
export type EngineVersion = DesiredState['version'];
export type VmType = Desired['vmType'];
