// Original file: proto/coxswain/agent/v1/agent.proto

import type { Outcome as _coxswain_agent_v1_Outcome, Outcome__Output as _coxswain_agent_v1_Outcome__Output } from '../../../coxswain/agent/v1/Outcome.ts';
import type { InstalledVersion as _coxswain_agent_v1_InstalledVersion, InstalledVersion__Output as _coxswain_agent_v1_InstalledVersion__Output } from '../../../coxswain/agent/v1/InstalledVersion.ts';

/**
 * Result of EnsureVersion.
 */
export interface EnsureVersionResponse {
  /**
   * What was done.
   */
  'outcome'?: (_coxswain_agent_v1_Outcome | null);
  /**
   * The version, now available.
   */
  'installed'?: (_coxswain_agent_v1_InstalledVersion | null);
}

/**
 * Result of EnsureVersion.
 */
export interface EnsureVersionResponse__Output {
  /**
   * What was done.
   */
  'outcome': (_coxswain_agent_v1_Outcome__Output | null);
  /**
   * The version, now available.
   */
  'installed': (_coxswain_agent_v1_InstalledVersion__Output | null);
}
