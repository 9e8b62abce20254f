// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';

/**
 * Make a version's binaries available.
 */
export interface EnsureVersionRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * Catalogue name of the version, e.g. "7.0".
   */
  'version'?: (string);
  /**
   * Where to fetch the binaries when they are not installed; empty = the engine's own source (e.g. the OS package).
   */
  'artifactUrl'?: (string);
  /**
   * Expected SHA-256 of the artifact, lowercase hex; empty = no check.
   */
  'artifactSha256'?: (string);
  /**
   * Engine-specific options for the installation.
   */
  'engineParams'?: ({[key: string]: string});
}

/**
 * Make a version's binaries available.
 */
export interface EnsureVersionRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * Catalogue name of the version, e.g. "7.0".
   */
  'version': (string);
  /**
   * Where to fetch the binaries when they are not installed; empty = the engine's own source (e.g. the OS package).
   */
  'artifactUrl': (string);
  /**
   * Expected SHA-256 of the artifact, lowercase hex; empty = no check.
   */
  'artifactSha256': (string);
  /**
   * Engine-specific options for the installation.
   */
  'engineParams': ({[key: string]: string});
}
