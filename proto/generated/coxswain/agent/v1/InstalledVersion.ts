// Original file: proto/coxswain/agent/v1/agent.proto


/**
 * An engine version whose binaries are available on this VM.
 */
export interface InstalledVersion {
  /**
   * Catalogue name of the version, e.g. "7.0" or "8.0".
   */
  'version'?: (string);
  /**
   * Programs this version provides, e.g. ["redis-server", "redis-cli"].
   */
  'programs'?: (string)[];
}

/**
 * An engine version whose binaries are available on this VM.
 */
export interface InstalledVersion__Output {
  /**
   * Catalogue name of the version, e.g. "7.0" or "8.0".
   */
  'version': (string);
  /**
   * Programs this version provides, e.g. ["redis-server", "redis-cli"].
   */
  'programs': (string)[];
}
