// Generated from desired-state.schema.json by 'make generate'. Do not edit; a test checks it is current.

/**
 * The cluster a person wants Coxswain to run (desired state v1). The same schema is the spec of the Kubernetes custom resource, so it stays within the structural-schema subset: every node has a type, no uniqueItems (x-kubernetes-list-type instead), no additionalProperties:false (Coxswain's validator treats every object with properties as closed, as kubectl's strict field validation does).
 */
export interface DesiredState {
  /**
   * Optional: the path or URL of this schema, so an editor validates and completes the file. Ignored by Coxswain.
   */
  $schema?: string;
  /**
   * Version of this desired state. A new desired state must have a higher id than the one accepted last, else it is ignored. In Kubernetes, metadata.generation plays this role.
   */
  id: number;
  /**
   * Cluster name: a DNS-1123 label (lower-case letters, digits and '-', at most 63). Immutable.
   */
  name: string;
  /**
   * Database engine. Immutable. "redis" runs Redis Cluster (Redis 7.0 or Valkey 8.0).
   */
  engine: "redis";
  /**
   * Engine version from the engine's catalogue: "7.0" is Redis 7.0 (redis-server), "8.0" is Valkey 8.0 (valkey-server). A change is a rolling upgrade; a direction the engine cannot take (8.0 to 7.0) is refused.
   */
  version: "7.0" | "8.0";
  /**
   * Whether the database runs. false stops every data node and keeps its data; true starts them again.
   */
  running?: boolean;
  /**
   * Logical clock, at most id. Raising it asks for a rolling restart of the data nodes (one node per node group at a time, replicas first, planned failover before a primary).
   */
  runningSince?: number;
  /**
   * Logical clock, at most id. Raising it asks for a rolling restart of the agents; data nodes keep running.
   */
  agentRunningSince?: number;
  /**
   * Number of node groups (Redis shards: one primary and its replicas). Mutable: node groups are added and removed online, data moved first.
   */
  nodeGroups: number;
  /**
   * Data nodes per node group (1 = primary only). Mutable, 1 to maxReplicationFactor.
   */
  replicationFactor: number;
  /**
   * Upper bound of replicationFactor, 1 to 5. Immutable.
   */
  maxReplicationFactor: number;
  /**
   * Zones to spread the replicas of each node group across (unique names).
   *
   * @minItems 1
   * @maxItems 16
   */
  availabilityZones?: [string, ...string[]];
  /**
   * Size of each VM from the catalogue: small (1 CPU, 1 GiB), medium (2 CPU, 4 GiB), large (4 CPU, 16 GiB). A change replaces VMs one at a time.
   */
  vmType?: "small" | "medium" | "large";
  /**
   * Disk of each VM in GiB. A change replaces VMs one at a time.
   */
  storageGiB?: number;
  /**
   * Engine parameters (for redis: redis.conf directives such as maxmemory-policy). Applied live where the engine allows, else by rolling restart. Parameters Coxswain owns (port, cluster-enabled, dir, ...) are refused.
   */
  config?: {
    [k: string]: number | string;
  };
  /**
   * Backups that must exist. Adding one takes it; removing one deletes it.
   *
   * @maxItems 1000
   */
  backups?: BackupRef[];
  restoreFromBackup?: BackupRef1;
  /**
   * Lets the leader add a VM for the duration of an operation (e.g. to upgrade with replicationFactor 1 without downtime).
   */
  allowTemporaryVms?: boolean;
}
export interface BackupRef {
  /**
   * Backup name: a DNS-1123 label.
   */
  id: string;
  /**
   * Where the backup is kept.
   */
  sink: {
    /**
     * "local": a directory on the machine. An object store comes later.
     */
    type: "local";
    /**
     * Directory of a local sink; relative paths are relative to the state directory.
     */
    path: string;
  };
}
/**
 * Fill a new cluster from this backup. Only on a cluster that never ran, and it must name a backup listed in backups.
 */
export interface BackupRef1 {
  /**
   * Backup name: a DNS-1123 label.
   */
  id: string;
  /**
   * Where the backup is kept.
   */
  sink: {
    /**
     * "local": a directory on the machine. An object store comes later.
     */
    type: "local";
    /**
     * Directory of a local sink; relative paths are relative to the state directory.
     */
    path: string;
  };
}
