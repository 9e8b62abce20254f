// Original file: proto/coxswain/agent/v1/agent.proto

import type { LocalSink as _coxswain_agent_v1_LocalSink, LocalSink__Output as _coxswain_agent_v1_LocalSink__Output } from '../../../coxswain/agent/v1/LocalSink.ts';

/**
 * Where backups are kept. More kinds (an object store) are added as further oneof members.
 */
export interface Sink {
  /**
   * A directory on the VM.
   */
  'local'?: (_coxswain_agent_v1_LocalSink | null);
  /**
   * The kind of sink; exactly one must be set.
   */
  'kind'?: "local";
}

/**
 * Where backups are kept. More kinds (an object store) are added as further oneof members.
 */
export interface Sink__Output {
  /**
   * A directory on the VM.
   */
  'local'?: (_coxswain_agent_v1_LocalSink__Output | null);
  /**
   * The kind of sink; exactly one must be set.
   */
  'kind'?: "local";
}
