// Original file: proto/coxswain/agent/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ConfigureDataNodeRequest as _coxswain_agent_v1_ConfigureDataNodeRequest, ConfigureDataNodeRequest__Output as _coxswain_agent_v1_ConfigureDataNodeRequest__Output } from '../../../coxswain/agent/v1/ConfigureDataNodeRequest.ts';
import type { ConfigureDataNodeResponse as _coxswain_agent_v1_ConfigureDataNodeResponse, ConfigureDataNodeResponse__Output as _coxswain_agent_v1_ConfigureDataNodeResponse__Output } from '../../../coxswain/agent/v1/ConfigureDataNodeResponse.ts';
import type { CreateBackupRequest as _coxswain_agent_v1_CreateBackupRequest, CreateBackupRequest__Output as _coxswain_agent_v1_CreateBackupRequest__Output } from '../../../coxswain/agent/v1/CreateBackupRequest.ts';
import type { CreateBackupResponse as _coxswain_agent_v1_CreateBackupResponse, CreateBackupResponse__Output as _coxswain_agent_v1_CreateBackupResponse__Output } from '../../../coxswain/agent/v1/CreateBackupResponse.ts';
import type { DeleteBackupRequest as _coxswain_agent_v1_DeleteBackupRequest, DeleteBackupRequest__Output as _coxswain_agent_v1_DeleteBackupRequest__Output } from '../../../coxswain/agent/v1/DeleteBackupRequest.ts';
import type { DeleteBackupResponse as _coxswain_agent_v1_DeleteBackupResponse, DeleteBackupResponse__Output as _coxswain_agent_v1_DeleteBackupResponse__Output } from '../../../coxswain/agent/v1/DeleteBackupResponse.ts';
import type { EnsureVersionRequest as _coxswain_agent_v1_EnsureVersionRequest, EnsureVersionRequest__Output as _coxswain_agent_v1_EnsureVersionRequest__Output } from '../../../coxswain/agent/v1/EnsureVersionRequest.ts';
import type { EnsureVersionResponse as _coxswain_agent_v1_EnsureVersionResponse, EnsureVersionResponse__Output as _coxswain_agent_v1_EnsureVersionResponse__Output } from '../../../coxswain/agent/v1/EnsureVersionResponse.ts';
import type { FailoverRequest as _coxswain_agent_v1_FailoverRequest, FailoverRequest__Output as _coxswain_agent_v1_FailoverRequest__Output } from '../../../coxswain/agent/v1/FailoverRequest.ts';
import type { FailoverResponse as _coxswain_agent_v1_FailoverResponse, FailoverResponse__Output as _coxswain_agent_v1_FailoverResponse__Output } from '../../../coxswain/agent/v1/FailoverResponse.ts';
import type { ForgetNodeRequest as _coxswain_agent_v1_ForgetNodeRequest, ForgetNodeRequest__Output as _coxswain_agent_v1_ForgetNodeRequest__Output } from '../../../coxswain/agent/v1/ForgetNodeRequest.ts';
import type { ForgetNodeResponse as _coxswain_agent_v1_ForgetNodeResponse, ForgetNodeResponse__Output as _coxswain_agent_v1_ForgetNodeResponse__Output } from '../../../coxswain/agent/v1/ForgetNodeResponse.ts';
import type { GetStateRequest as _coxswain_agent_v1_GetStateRequest, GetStateRequest__Output as _coxswain_agent_v1_GetStateRequest__Output } from '../../../coxswain/agent/v1/GetStateRequest.ts';
import type { GetStateResponse as _coxswain_agent_v1_GetStateResponse, GetStateResponse__Output as _coxswain_agent_v1_GetStateResponse__Output } from '../../../coxswain/agent/v1/GetStateResponse.ts';
import type { JoinNodeRequest as _coxswain_agent_v1_JoinNodeRequest, JoinNodeRequest__Output as _coxswain_agent_v1_JoinNodeRequest__Output } from '../../../coxswain/agent/v1/JoinNodeRequest.ts';
import type { JoinNodeResponse as _coxswain_agent_v1_JoinNodeResponse, JoinNodeResponse__Output as _coxswain_agent_v1_JoinNodeResponse__Output } from '../../../coxswain/agent/v1/JoinNodeResponse.ts';
import type { ListBackupsRequest as _coxswain_agent_v1_ListBackupsRequest, ListBackupsRequest__Output as _coxswain_agent_v1_ListBackupsRequest__Output } from '../../../coxswain/agent/v1/ListBackupsRequest.ts';
import type { ListBackupsResponse as _coxswain_agent_v1_ListBackupsResponse, ListBackupsResponse__Output as _coxswain_agent_v1_ListBackupsResponse__Output } from '../../../coxswain/agent/v1/ListBackupsResponse.ts';
import type { MoveDataRequest as _coxswain_agent_v1_MoveDataRequest, MoveDataRequest__Output as _coxswain_agent_v1_MoveDataRequest__Output } from '../../../coxswain/agent/v1/MoveDataRequest.ts';
import type { MoveDataResponse as _coxswain_agent_v1_MoveDataResponse, MoveDataResponse__Output as _coxswain_agent_v1_MoveDataResponse__Output } from '../../../coxswain/agent/v1/MoveDataResponse.ts';
import type { RemoveNodeRequest as _coxswain_agent_v1_RemoveNodeRequest, RemoveNodeRequest__Output as _coxswain_agent_v1_RemoveNodeRequest__Output } from '../../../coxswain/agent/v1/RemoveNodeRequest.ts';
import type { RemoveNodeResponse as _coxswain_agent_v1_RemoveNodeResponse, RemoveNodeResponse__Output as _coxswain_agent_v1_RemoveNodeResponse__Output } from '../../../coxswain/agent/v1/RemoveNodeResponse.ts';
import type { RestoreBackupRequest as _coxswain_agent_v1_RestoreBackupRequest, RestoreBackupRequest__Output as _coxswain_agent_v1_RestoreBackupRequest__Output } from '../../../coxswain/agent/v1/RestoreBackupRequest.ts';
import type { RestoreBackupResponse as _coxswain_agent_v1_RestoreBackupResponse, RestoreBackupResponse__Output as _coxswain_agent_v1_RestoreBackupResponse__Output } from '../../../coxswain/agent/v1/RestoreBackupResponse.ts';
import type { StartDataNodeRequest as _coxswain_agent_v1_StartDataNodeRequest, StartDataNodeRequest__Output as _coxswain_agent_v1_StartDataNodeRequest__Output } from '../../../coxswain/agent/v1/StartDataNodeRequest.ts';
import type { StartDataNodeResponse as _coxswain_agent_v1_StartDataNodeResponse, StartDataNodeResponse__Output as _coxswain_agent_v1_StartDataNodeResponse__Output } from '../../../coxswain/agent/v1/StartDataNodeResponse.ts';
import type { StateUpdate as _coxswain_agent_v1_StateUpdate, StateUpdate__Output as _coxswain_agent_v1_StateUpdate__Output } from '../../../coxswain/agent/v1/StateUpdate.ts';
import type { StopDataNodeRequest as _coxswain_agent_v1_StopDataNodeRequest, StopDataNodeRequest__Output as _coxswain_agent_v1_StopDataNodeRequest__Output } from '../../../coxswain/agent/v1/StopDataNodeRequest.ts';
import type { StopDataNodeResponse as _coxswain_agent_v1_StopDataNodeResponse, StopDataNodeResponse__Output as _coxswain_agent_v1_StopDataNodeResponse__Output } from '../../../coxswain/agent/v1/StopDataNodeResponse.ts';
import type { WatchStateRequest as _coxswain_agent_v1_WatchStateRequest, WatchStateRequest__Output as _coxswain_agent_v1_WatchStateRequest__Output } from '../../../coxswain/agent/v1/WatchStateRequest.ts';

/**
 * The agent on one VM. Mutating RPCs are idempotent by key and, for the engine's
 * effect, by design: repeating a step that already took effect changes nothing and
 * reports `changed: false`.
 */
export interface AgentClient extends grpc.Client {
  /**
   * Apply engine parameters to a running data node, live where the engine allows.
   * Mutating.
   */
  ConfigureDataNode(argument: _coxswain_agent_v1_ConfigureDataNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ConfigureDataNodeResponse__Output>): grpc.ClientUnaryCall;
  ConfigureDataNode(argument: _coxswain_agent_v1_ConfigureDataNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_ConfigureDataNodeResponse__Output>): grpc.ClientUnaryCall;
  ConfigureDataNode(argument: _coxswain_agent_v1_ConfigureDataNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ConfigureDataNodeResponse__Output>): grpc.ClientUnaryCall;
  ConfigureDataNode(argument: _coxswain_agent_v1_ConfigureDataNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_ConfigureDataNodeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Apply engine parameters to a running data node, live where the engine allows.
   * Mutating.
   */
  configureDataNode(argument: _coxswain_agent_v1_ConfigureDataNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ConfigureDataNodeResponse__Output>): grpc.ClientUnaryCall;
  configureDataNode(argument: _coxswain_agent_v1_ConfigureDataNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_ConfigureDataNodeResponse__Output>): grpc.ClientUnaryCall;
  configureDataNode(argument: _coxswain_agent_v1_ConfigureDataNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ConfigureDataNodeResponse__Output>): grpc.ClientUnaryCall;
  configureDataNode(argument: _coxswain_agent_v1_ConfigureDataNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_ConfigureDataNodeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Back up this agent's data nodes to a sink. Mutating.
   */
  CreateBackup(argument: _coxswain_agent_v1_CreateBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_CreateBackupResponse__Output>): grpc.ClientUnaryCall;
  CreateBackup(argument: _coxswain_agent_v1_CreateBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_CreateBackupResponse__Output>): grpc.ClientUnaryCall;
  CreateBackup(argument: _coxswain_agent_v1_CreateBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_CreateBackupResponse__Output>): grpc.ClientUnaryCall;
  CreateBackup(argument: _coxswain_agent_v1_CreateBackupRequest, callback: grpc.requestCallback<_coxswain_agent_v1_CreateBackupResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Back up this agent's data nodes to a sink. Mutating.
   */
  createBackup(argument: _coxswain_agent_v1_CreateBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_CreateBackupResponse__Output>): grpc.ClientUnaryCall;
  createBackup(argument: _coxswain_agent_v1_CreateBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_CreateBackupResponse__Output>): grpc.ClientUnaryCall;
  createBackup(argument: _coxswain_agent_v1_CreateBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_CreateBackupResponse__Output>): grpc.ClientUnaryCall;
  createBackup(argument: _coxswain_agent_v1_CreateBackupRequest, callback: grpc.requestCallback<_coxswain_agent_v1_CreateBackupResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Delete a backup from a sink. Mutating.
   */
  DeleteBackup(argument: _coxswain_agent_v1_DeleteBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_DeleteBackupResponse__Output>): grpc.ClientUnaryCall;
  DeleteBackup(argument: _coxswain_agent_v1_DeleteBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_DeleteBackupResponse__Output>): grpc.ClientUnaryCall;
  DeleteBackup(argument: _coxswain_agent_v1_DeleteBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_DeleteBackupResponse__Output>): grpc.ClientUnaryCall;
  DeleteBackup(argument: _coxswain_agent_v1_DeleteBackupRequest, callback: grpc.requestCallback<_coxswain_agent_v1_DeleteBackupResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Delete a backup from a sink. Mutating.
   */
  deleteBackup(argument: _coxswain_agent_v1_DeleteBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_DeleteBackupResponse__Output>): grpc.ClientUnaryCall;
  deleteBackup(argument: _coxswain_agent_v1_DeleteBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_DeleteBackupResponse__Output>): grpc.ClientUnaryCall;
  deleteBackup(argument: _coxswain_agent_v1_DeleteBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_DeleteBackupResponse__Output>): grpc.ClientUnaryCall;
  deleteBackup(argument: _coxswain_agent_v1_DeleteBackupRequest, callback: grpc.requestCallback<_coxswain_agent_v1_DeleteBackupResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Make one engine version's binaries available on this VM. Mutating.
   */
  EnsureVersion(argument: _coxswain_agent_v1_EnsureVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_EnsureVersionResponse__Output>): grpc.ClientUnaryCall;
  EnsureVersion(argument: _coxswain_agent_v1_EnsureVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_EnsureVersionResponse__Output>): grpc.ClientUnaryCall;
  EnsureVersion(argument: _coxswain_agent_v1_EnsureVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_EnsureVersionResponse__Output>): grpc.ClientUnaryCall;
  EnsureVersion(argument: _coxswain_agent_v1_EnsureVersionRequest, callback: grpc.requestCallback<_coxswain_agent_v1_EnsureVersionResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Make one engine version's binaries available on this VM. Mutating.
   */
  ensureVersion(argument: _coxswain_agent_v1_EnsureVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_EnsureVersionResponse__Output>): grpc.ClientUnaryCall;
  ensureVersion(argument: _coxswain_agent_v1_EnsureVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_EnsureVersionResponse__Output>): grpc.ClientUnaryCall;
  ensureVersion(argument: _coxswain_agent_v1_EnsureVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_EnsureVersionResponse__Output>): grpc.ClientUnaryCall;
  ensureVersion(argument: _coxswain_agent_v1_EnsureVersionRequest, callback: grpc.requestCallback<_coxswain_agent_v1_EnsureVersionResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Planned failover: promote a replica on this agent to primary of its node group,
   * with no acknowledged write lost. Mutating.
   */
  Failover(argument: _coxswain_agent_v1_FailoverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_FailoverResponse__Output>): grpc.ClientUnaryCall;
  Failover(argument: _coxswain_agent_v1_FailoverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_FailoverResponse__Output>): grpc.ClientUnaryCall;
  Failover(argument: _coxswain_agent_v1_FailoverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_FailoverResponse__Output>): grpc.ClientUnaryCall;
  Failover(argument: _coxswain_agent_v1_FailoverRequest, callback: grpc.requestCallback<_coxswain_agent_v1_FailoverResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Planned failover: promote a replica on this agent to primary of its node group,
   * with no acknowledged write lost. Mutating.
   */
  failover(argument: _coxswain_agent_v1_FailoverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_FailoverResponse__Output>): grpc.ClientUnaryCall;
  failover(argument: _coxswain_agent_v1_FailoverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_FailoverResponse__Output>): grpc.ClientUnaryCall;
  failover(argument: _coxswain_agent_v1_FailoverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_FailoverResponse__Output>): grpc.ClientUnaryCall;
  failover(argument: _coxswain_agent_v1_FailoverRequest, callback: grpc.requestCallback<_coxswain_agent_v1_FailoverResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Make a data node on this agent forget a member of its cluster that no agent runs any
   * more: a node the cluster flags failed and that serves no slot (a removed or lost
   * node that gossip kept alive in the members' tables). Mutating.
   */
  ForgetNode(argument: _coxswain_agent_v1_ForgetNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ForgetNodeResponse__Output>): grpc.ClientUnaryCall;
  ForgetNode(argument: _coxswain_agent_v1_ForgetNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_ForgetNodeResponse__Output>): grpc.ClientUnaryCall;
  ForgetNode(argument: _coxswain_agent_v1_ForgetNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ForgetNodeResponse__Output>): grpc.ClientUnaryCall;
  ForgetNode(argument: _coxswain_agent_v1_ForgetNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_ForgetNodeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Make a data node on this agent forget a member of its cluster that no agent runs any
   * more: a node the cluster flags failed and that serves no slot (a removed or lost
   * node that gossip kept alive in the members' tables). Mutating.
   */
  forgetNode(argument: _coxswain_agent_v1_ForgetNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ForgetNodeResponse__Output>): grpc.ClientUnaryCall;
  forgetNode(argument: _coxswain_agent_v1_ForgetNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_ForgetNodeResponse__Output>): grpc.ClientUnaryCall;
  forgetNode(argument: _coxswain_agent_v1_ForgetNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ForgetNodeResponse__Output>): grpc.ClientUnaryCall;
  forgetNode(argument: _coxswain_agent_v1_ForgetNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_ForgetNodeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The state this agent observes now. Read-only.
   */
  GetState(argument: _coxswain_agent_v1_GetStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_GetStateResponse__Output>): grpc.ClientUnaryCall;
  GetState(argument: _coxswain_agent_v1_GetStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_GetStateResponse__Output>): grpc.ClientUnaryCall;
  GetState(argument: _coxswain_agent_v1_GetStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_GetStateResponse__Output>): grpc.ClientUnaryCall;
  GetState(argument: _coxswain_agent_v1_GetStateRequest, callback: grpc.requestCallback<_coxswain_agent_v1_GetStateResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The state this agent observes now. Read-only.
   */
  getState(argument: _coxswain_agent_v1_GetStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_GetStateResponse__Output>): grpc.ClientUnaryCall;
  getState(argument: _coxswain_agent_v1_GetStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_GetStateResponse__Output>): grpc.ClientUnaryCall;
  getState(argument: _coxswain_agent_v1_GetStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_GetStateResponse__Output>): grpc.ClientUnaryCall;
  getState(argument: _coxswain_agent_v1_GetStateRequest, callback: grpc.requestCallback<_coxswain_agent_v1_GetStateResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Join a started data node into the cluster as a primary without data or as a
   * replica of a given node. Mutating.
   */
  JoinNode(argument: _coxswain_agent_v1_JoinNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_JoinNodeResponse__Output>): grpc.ClientUnaryCall;
  JoinNode(argument: _coxswain_agent_v1_JoinNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_JoinNodeResponse__Output>): grpc.ClientUnaryCall;
  JoinNode(argument: _coxswain_agent_v1_JoinNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_JoinNodeResponse__Output>): grpc.ClientUnaryCall;
  JoinNode(argument: _coxswain_agent_v1_JoinNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_JoinNodeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Join a started data node into the cluster as a primary without data or as a
   * replica of a given node. Mutating.
   */
  joinNode(argument: _coxswain_agent_v1_JoinNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_JoinNodeResponse__Output>): grpc.ClientUnaryCall;
  joinNode(argument: _coxswain_agent_v1_JoinNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_JoinNodeResponse__Output>): grpc.ClientUnaryCall;
  joinNode(argument: _coxswain_agent_v1_JoinNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_JoinNodeResponse__Output>): grpc.ClientUnaryCall;
  joinNode(argument: _coxswain_agent_v1_JoinNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_JoinNodeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The backups a sink holds, or this agent knows of. Read-only.
   */
  ListBackups(argument: _coxswain_agent_v1_ListBackupsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  ListBackups(argument: _coxswain_agent_v1_ListBackupsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  ListBackups(argument: _coxswain_agent_v1_ListBackupsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  ListBackups(argument: _coxswain_agent_v1_ListBackupsRequest, callback: grpc.requestCallback<_coxswain_agent_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The backups a sink holds, or this agent knows of. Read-only.
   */
  listBackups(argument: _coxswain_agent_v1_ListBackupsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  listBackups(argument: _coxswain_agent_v1_ListBackupsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  listBackups(argument: _coxswain_agent_v1_ListBackupsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  listBackups(argument: _coxswain_agent_v1_ListBackupsRequest, callback: grpc.requestCallback<_coxswain_agent_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Move data (Redis: hash slots) from a primary on this agent to the primary of
   * another node group. Mutating.
   */
  MoveData(argument: _coxswain_agent_v1_MoveDataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_MoveDataResponse__Output>): grpc.ClientUnaryCall;
  MoveData(argument: _coxswain_agent_v1_MoveDataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_MoveDataResponse__Output>): grpc.ClientUnaryCall;
  MoveData(argument: _coxswain_agent_v1_MoveDataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_MoveDataResponse__Output>): grpc.ClientUnaryCall;
  MoveData(argument: _coxswain_agent_v1_MoveDataRequest, callback: grpc.requestCallback<_coxswain_agent_v1_MoveDataResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Move data (Redis: hash slots) from a primary on this agent to the primary of
   * another node group. Mutating.
   */
  moveData(argument: _coxswain_agent_v1_MoveDataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_MoveDataResponse__Output>): grpc.ClientUnaryCall;
  moveData(argument: _coxswain_agent_v1_MoveDataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_MoveDataResponse__Output>): grpc.ClientUnaryCall;
  moveData(argument: _coxswain_agent_v1_MoveDataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_MoveDataResponse__Output>): grpc.ClientUnaryCall;
  moveData(argument: _coxswain_agent_v1_MoveDataRequest, callback: grpc.requestCallback<_coxswain_agent_v1_MoveDataResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Take a data node out of the cluster after its data moved, stop it and delete its
   * data. Mutating.
   */
  RemoveNode(argument: _coxswain_agent_v1_RemoveNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  RemoveNode(argument: _coxswain_agent_v1_RemoveNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  RemoveNode(argument: _coxswain_agent_v1_RemoveNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  RemoveNode(argument: _coxswain_agent_v1_RemoveNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Take a data node out of the cluster after its data moved, stop it and delete its
   * data. Mutating.
   */
  removeNode(argument: _coxswain_agent_v1_RemoveNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  removeNode(argument: _coxswain_agent_v1_RemoveNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  removeNode(argument: _coxswain_agent_v1_RemoveNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  removeNode(argument: _coxswain_agent_v1_RemoveNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_RemoveNodeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Restore a backup from a sink into this agent's data nodes. Mutating. A repeat after
   * the restore succeeded answers `changed: false` (the agent keeps a marker per backup
   * and target nodes); a cluster that holds data not restored from this backup is refused.
   */
  RestoreBackup(argument: _coxswain_agent_v1_RestoreBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_RestoreBackupResponse__Output>): grpc.ClientUnaryCall;
  RestoreBackup(argument: _coxswain_agent_v1_RestoreBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_RestoreBackupResponse__Output>): grpc.ClientUnaryCall;
  RestoreBackup(argument: _coxswain_agent_v1_RestoreBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_RestoreBackupResponse__Output>): grpc.ClientUnaryCall;
  RestoreBackup(argument: _coxswain_agent_v1_RestoreBackupRequest, callback: grpc.requestCallback<_coxswain_agent_v1_RestoreBackupResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Restore a backup from a sink into this agent's data nodes. Mutating. A repeat after
   * the restore succeeded answers `changed: false` (the agent keeps a marker per backup
   * and target nodes); a cluster that holds data not restored from this backup is refused.
   */
  restoreBackup(argument: _coxswain_agent_v1_RestoreBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_RestoreBackupResponse__Output>): grpc.ClientUnaryCall;
  restoreBackup(argument: _coxswain_agent_v1_RestoreBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_RestoreBackupResponse__Output>): grpc.ClientUnaryCall;
  restoreBackup(argument: _coxswain_agent_v1_RestoreBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_RestoreBackupResponse__Output>): grpc.ClientUnaryCall;
  restoreBackup(argument: _coxswain_agent_v1_RestoreBackupRequest, callback: grpc.requestCallback<_coxswain_agent_v1_RestoreBackupResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Start a data node (declaring it on first use), keeping any data it has. Mutating.
   */
  StartDataNode(argument: _coxswain_agent_v1_StartDataNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_StartDataNodeResponse__Output>): grpc.ClientUnaryCall;
  StartDataNode(argument: _coxswain_agent_v1_StartDataNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_StartDataNodeResponse__Output>): grpc.ClientUnaryCall;
  StartDataNode(argument: _coxswain_agent_v1_StartDataNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_StartDataNodeResponse__Output>): grpc.ClientUnaryCall;
  StartDataNode(argument: _coxswain_agent_v1_StartDataNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_StartDataNodeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Start a data node (declaring it on first use), keeping any data it has. Mutating.
   */
  startDataNode(argument: _coxswain_agent_v1_StartDataNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_StartDataNodeResponse__Output>): grpc.ClientUnaryCall;
  startDataNode(argument: _coxswain_agent_v1_StartDataNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_StartDataNodeResponse__Output>): grpc.ClientUnaryCall;
  startDataNode(argument: _coxswain_agent_v1_StartDataNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_StartDataNodeResponse__Output>): grpc.ClientUnaryCall;
  startDataNode(argument: _coxswain_agent_v1_StartDataNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_StartDataNodeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Stop a data node, keeping its data. Mutating.
   */
  StopDataNode(argument: _coxswain_agent_v1_StopDataNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_StopDataNodeResponse__Output>): grpc.ClientUnaryCall;
  StopDataNode(argument: _coxswain_agent_v1_StopDataNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_StopDataNodeResponse__Output>): grpc.ClientUnaryCall;
  StopDataNode(argument: _coxswain_agent_v1_StopDataNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_StopDataNodeResponse__Output>): grpc.ClientUnaryCall;
  StopDataNode(argument: _coxswain_agent_v1_StopDataNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_StopDataNodeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Stop a data node, keeping its data. Mutating.
   */
  stopDataNode(argument: _coxswain_agent_v1_StopDataNodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_StopDataNodeResponse__Output>): grpc.ClientUnaryCall;
  stopDataNode(argument: _coxswain_agent_v1_StopDataNodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coxswain_agent_v1_StopDataNodeResponse__Output>): grpc.ClientUnaryCall;
  stopDataNode(argument: _coxswain_agent_v1_StopDataNodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coxswain_agent_v1_StopDataNodeResponse__Output>): grpc.ClientUnaryCall;
  stopDataNode(argument: _coxswain_agent_v1_StopDataNodeRequest, callback: grpc.requestCallback<_coxswain_agent_v1_StopDataNodeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The observed state as a stream: a full snapshot first, then RFC 6902 JSON patches
   * against the previous report, only when something changed. Read-only.
   */
  WatchState(argument: _coxswain_agent_v1_WatchStateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_coxswain_agent_v1_StateUpdate__Output>;
  WatchState(argument: _coxswain_agent_v1_WatchStateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_coxswain_agent_v1_StateUpdate__Output>;
  /**
   * The observed state as a stream: a full snapshot first, then RFC 6902 JSON patches
   * against the previous report, only when something changed. Read-only.
   */
  watchState(argument: _coxswain_agent_v1_WatchStateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_coxswain_agent_v1_StateUpdate__Output>;
  watchState(argument: _coxswain_agent_v1_WatchStateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_coxswain_agent_v1_StateUpdate__Output>;
  
}

/**
 * The agent on one VM. Mutating RPCs are idempotent by key and, for the engine's
 * effect, by design: repeating a step that already took effect changes nothing and
 * reports `changed: false`.
 */
export interface AgentHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Apply engine parameters to a running data node, live where the engine allows.
   * Mutating.
   */
  ConfigureDataNode: grpc.handleUnaryCall<_coxswain_agent_v1_ConfigureDataNodeRequest__Output, _coxswain_agent_v1_ConfigureDataNodeResponse>;
  
  /**
   * Back up this agent's data nodes to a sink. Mutating.
   */
  CreateBackup: grpc.handleUnaryCall<_coxswain_agent_v1_CreateBackupRequest__Output, _coxswain_agent_v1_CreateBackupResponse>;
  
  /**
   * Delete a backup from a sink. Mutating.
   */
  DeleteBackup: grpc.handleUnaryCall<_coxswain_agent_v1_DeleteBackupRequest__Output, _coxswain_agent_v1_DeleteBackupResponse>;
  
  /**
   * Make one engine version's binaries available on this VM. Mutating.
   */
  EnsureVersion: grpc.handleUnaryCall<_coxswain_agent_v1_EnsureVersionRequest__Output, _coxswain_agent_v1_EnsureVersionResponse>;
  
  /**
   * Planned failover: promote a replica on this agent to primary of its node group,
   * with no acknowledged write lost. Mutating.
   */
  Failover: grpc.handleUnaryCall<_coxswain_agent_v1_FailoverRequest__Output, _coxswain_agent_v1_FailoverResponse>;
  
  /**
   * Make a data node on this agent forget a member of its cluster that no agent runs any
   * more: a node the cluster flags failed and that serves no slot (a removed or lost
   * node that gossip kept alive in the members' tables). Mutating.
   */
  ForgetNode: grpc.handleUnaryCall<_coxswain_agent_v1_ForgetNodeRequest__Output, _coxswain_agent_v1_ForgetNodeResponse>;
  
  /**
   * The state this agent observes now. Read-only.
   */
  GetState: grpc.handleUnaryCall<_coxswain_agent_v1_GetStateRequest__Output, _coxswain_agent_v1_GetStateResponse>;
  
  /**
   * Join a started data node into the cluster as a primary without data or as a
   * replica of a given node. Mutating.
   */
  JoinNode: grpc.handleUnaryCall<_coxswain_agent_v1_JoinNodeRequest__Output, _coxswain_agent_v1_JoinNodeResponse>;
  
  /**
   * The backups a sink holds, or this agent knows of. Read-only.
   */
  ListBackups: grpc.handleUnaryCall<_coxswain_agent_v1_ListBackupsRequest__Output, _coxswain_agent_v1_ListBackupsResponse>;
  
  /**
   * Move data (Redis: hash slots) from a primary on this agent to the primary of
   * another node group. Mutating.
   */
  MoveData: grpc.handleUnaryCall<_coxswain_agent_v1_MoveDataRequest__Output, _coxswain_agent_v1_MoveDataResponse>;
  
  /**
   * Take a data node out of the cluster after its data moved, stop it and delete its
   * data. Mutating.
   */
  RemoveNode: grpc.handleUnaryCall<_coxswain_agent_v1_RemoveNodeRequest__Output, _coxswain_agent_v1_RemoveNodeResponse>;
  
  /**
   * Restore a backup from a sink into this agent's data nodes. Mutating. A repeat after
   * the restore succeeded answers `changed: false` (the agent keeps a marker per backup
   * and target nodes); a cluster that holds data not restored from this backup is refused.
   */
  RestoreBackup: grpc.handleUnaryCall<_coxswain_agent_v1_RestoreBackupRequest__Output, _coxswain_agent_v1_RestoreBackupResponse>;
  
  /**
   * Start a data node (declaring it on first use), keeping any data it has. Mutating.
   */
  StartDataNode: grpc.handleUnaryCall<_coxswain_agent_v1_StartDataNodeRequest__Output, _coxswain_agent_v1_StartDataNodeResponse>;
  
  /**
   * Stop a data node, keeping its data. Mutating.
   */
  StopDataNode: grpc.handleUnaryCall<_coxswain_agent_v1_StopDataNodeRequest__Output, _coxswain_agent_v1_StopDataNodeResponse>;
  
  /**
   * The observed state as a stream: a full snapshot first, then RFC 6902 JSON patches
   * against the previous report, only when something changed. Read-only.
   */
  WatchState: grpc.handleServerStreamingCall<_coxswain_agent_v1_WatchStateRequest__Output, _coxswain_agent_v1_StateUpdate>;
  
}

export interface AgentDefinition extends grpc.ServiceDefinition {
  ConfigureDataNode: MethodDefinition<_coxswain_agent_v1_ConfigureDataNodeRequest, _coxswain_agent_v1_ConfigureDataNodeResponse, _coxswain_agent_v1_ConfigureDataNodeRequest__Output, _coxswain_agent_v1_ConfigureDataNodeResponse__Output>
  CreateBackup: MethodDefinition<_coxswain_agent_v1_CreateBackupRequest, _coxswain_agent_v1_CreateBackupResponse, _coxswain_agent_v1_CreateBackupRequest__Output, _coxswain_agent_v1_CreateBackupResponse__Output>
  DeleteBackup: MethodDefinition<_coxswain_agent_v1_DeleteBackupRequest, _coxswain_agent_v1_DeleteBackupResponse, _coxswain_agent_v1_DeleteBackupRequest__Output, _coxswain_agent_v1_DeleteBackupResponse__Output>
  EnsureVersion: MethodDefinition<_coxswain_agent_v1_EnsureVersionRequest, _coxswain_agent_v1_EnsureVersionResponse, _coxswain_agent_v1_EnsureVersionRequest__Output, _coxswain_agent_v1_EnsureVersionResponse__Output>
  Failover: MethodDefinition<_coxswain_agent_v1_FailoverRequest, _coxswain_agent_v1_FailoverResponse, _coxswain_agent_v1_FailoverRequest__Output, _coxswain_agent_v1_FailoverResponse__Output>
  ForgetNode: MethodDefinition<_coxswain_agent_v1_ForgetNodeRequest, _coxswain_agent_v1_ForgetNodeResponse, _coxswain_agent_v1_ForgetNodeRequest__Output, _coxswain_agent_v1_ForgetNodeResponse__Output>
  GetState: MethodDefinition<_coxswain_agent_v1_GetStateRequest, _coxswain_agent_v1_GetStateResponse, _coxswain_agent_v1_GetStateRequest__Output, _coxswain_agent_v1_GetStateResponse__Output>
  JoinNode: MethodDefinition<_coxswain_agent_v1_JoinNodeRequest, _coxswain_agent_v1_JoinNodeResponse, _coxswain_agent_v1_JoinNodeRequest__Output, _coxswain_agent_v1_JoinNodeResponse__Output>
  ListBackups: MethodDefinition<_coxswain_agent_v1_ListBackupsRequest, _coxswain_agent_v1_ListBackupsResponse, _coxswain_agent_v1_ListBackupsRequest__Output, _coxswain_agent_v1_ListBackupsResponse__Output>
  MoveData: MethodDefinition<_coxswain_agent_v1_MoveDataRequest, _coxswain_agent_v1_MoveDataResponse, _coxswain_agent_v1_MoveDataRequest__Output, _coxswain_agent_v1_MoveDataResponse__Output>
  RemoveNode: MethodDefinition<_coxswain_agent_v1_RemoveNodeRequest, _coxswain_agent_v1_RemoveNodeResponse, _coxswain_agent_v1_RemoveNodeRequest__Output, _coxswain_agent_v1_RemoveNodeResponse__Output>
  RestoreBackup: MethodDefinition<_coxswain_agent_v1_RestoreBackupRequest, _coxswain_agent_v1_RestoreBackupResponse, _coxswain_agent_v1_RestoreBackupRequest__Output, _coxswain_agent_v1_RestoreBackupResponse__Output>
  StartDataNode: MethodDefinition<_coxswain_agent_v1_StartDataNodeRequest, _coxswain_agent_v1_StartDataNodeResponse, _coxswain_agent_v1_StartDataNodeRequest__Output, _coxswain_agent_v1_StartDataNodeResponse__Output>
  StopDataNode: MethodDefinition<_coxswain_agent_v1_StopDataNodeRequest, _coxswain_agent_v1_StopDataNodeResponse, _coxswain_agent_v1_StopDataNodeRequest__Output, _coxswain_agent_v1_StopDataNodeResponse__Output>
  WatchState: MethodDefinition<_coxswain_agent_v1_WatchStateRequest, _coxswain_agent_v1_StateUpdate, _coxswain_agent_v1_WatchStateRequest__Output, _coxswain_agent_v1_StateUpdate__Output>
}
