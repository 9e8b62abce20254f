// Original file: proto/coxswain/agent/v1/agent.proto

import type { InstalledVersion as _coxswain_agent_v1_InstalledVersion, InstalledVersion__Output as _coxswain_agent_v1_InstalledVersion__Output } from '../../../coxswain/agent/v1/InstalledVersion.ts';
import type { DataNode as _coxswain_agent_v1_DataNode, DataNode__Output as _coxswain_agent_v1_DataNode__Output } from '../../../coxswain/agent/v1/DataNode.ts';
import type { BackupInfo as _coxswain_agent_v1_BackupInfo, BackupInfo__Output as _coxswain_agent_v1_BackupInfo__Output } from '../../../coxswain/agent/v1/BackupInfo.ts';

/**
 * Everything an agent observes on its VM.
 */
export interface AgentState {
  /**
   * The agent's id, from its configuration.
   */
  'agentId'?: (string);
  /**
   * The availability zone the agent's VM is in.
   */
  'zone'?: (string);
  /**
   * The engine adapter this agent runs, e.g. "redis".
   */
  'engine'?: (string);
  /**
   * The agent's own software version.
   */
  'agentVersion'?: (string);
  /**
   * Engine versions whose binaries are available.
   */
  'installedVersions'?: (_coxswain_agent_v1_InstalledVersion)[];
  /**
   * Data nodes on this agent, sorted by id.
   */
  'dataNodes'?: (_coxswain_agent_v1_DataNode)[];
  /**
   * Backups this agent knows of (created, or seen in a sink), sorted by id; kept across
   * agent restarts.
   */
  'backups'?: (_coxswain_agent_v1_BackupInfo)[];
}

/**
 * Everything an agent observes on its VM.
 */
export interface AgentState__Output {
  /**
   * The agent's id, from its configuration.
   */
  'agentId': (string);
  /**
   * The availability zone the agent's VM is in.
   */
  'zone': (string);
  /**
   * The engine adapter this agent runs, e.g. "redis".
   */
  'engine': (string);
  /**
   * The agent's own software version.
   */
  'agentVersion': (string);
  /**
   * Engine versions whose binaries are available.
   */
  'installedVersions': (_coxswain_agent_v1_InstalledVersion__Output)[];
  /**
   * Data nodes on this agent, sorted by id.
   */
  'dataNodes': (_coxswain_agent_v1_DataNode__Output)[];
  /**
   * Backups this agent knows of (created, or seen in a sink), sorted by id; kept across
   * agent restarts.
   */
  'backups': (_coxswain_agent_v1_BackupInfo__Output)[];
}
