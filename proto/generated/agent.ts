import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentClient as _coxswain_agent_v1_AgentClient, AgentDefinition as _coxswain_agent_v1_AgentDefinition } from './coxswain/agent/v1/Agent.ts';
import type { AgentState as _coxswain_agent_v1_AgentState, AgentState__Output as _coxswain_agent_v1_AgentState__Output } from './coxswain/agent/v1/AgentState.ts';
import type { BackupInfo as _coxswain_agent_v1_BackupInfo, BackupInfo__Output as _coxswain_agent_v1_BackupInfo__Output } from './coxswain/agent/v1/BackupInfo.ts';
import type { BackupPart as _coxswain_agent_v1_BackupPart, BackupPart__Output as _coxswain_agent_v1_BackupPart__Output } from './coxswain/agent/v1/BackupPart.ts';
import type { ConfigureDataNodeRequest as _coxswain_agent_v1_ConfigureDataNodeRequest, ConfigureDataNodeRequest__Output as _coxswain_agent_v1_ConfigureDataNodeRequest__Output } from './coxswain/agent/v1/ConfigureDataNodeRequest.ts';
import type { ConfigureDataNodeResponse as _coxswain_agent_v1_ConfigureDataNodeResponse, ConfigureDataNodeResponse__Output as _coxswain_agent_v1_ConfigureDataNodeResponse__Output } from './coxswain/agent/v1/ConfigureDataNodeResponse.ts';
import type { CreateBackupRequest as _coxswain_agent_v1_CreateBackupRequest, CreateBackupRequest__Output as _coxswain_agent_v1_CreateBackupRequest__Output } from './coxswain/agent/v1/CreateBackupRequest.ts';
import type { CreateBackupResponse as _coxswain_agent_v1_CreateBackupResponse, CreateBackupResponse__Output as _coxswain_agent_v1_CreateBackupResponse__Output } from './coxswain/agent/v1/CreateBackupResponse.ts';
import type { DataNode as _coxswain_agent_v1_DataNode, DataNode__Output as _coxswain_agent_v1_DataNode__Output } from './coxswain/agent/v1/DataNode.ts';
import type { DeleteBackupRequest as _coxswain_agent_v1_DeleteBackupRequest, DeleteBackupRequest__Output as _coxswain_agent_v1_DeleteBackupRequest__Output } from './coxswain/agent/v1/DeleteBackupRequest.ts';
import type { DeleteBackupResponse as _coxswain_agent_v1_DeleteBackupResponse, DeleteBackupResponse__Output as _coxswain_agent_v1_DeleteBackupResponse__Output } from './coxswain/agent/v1/DeleteBackupResponse.ts';
import type { DiskUsage as _coxswain_agent_v1_DiskUsage, DiskUsage__Output as _coxswain_agent_v1_DiskUsage__Output } from './coxswain/agent/v1/DiskUsage.ts';
import type { EnsureVersionRequest as _coxswain_agent_v1_EnsureVersionRequest, EnsureVersionRequest__Output as _coxswain_agent_v1_EnsureVersionRequest__Output } from './coxswain/agent/v1/EnsureVersionRequest.ts';
import type { EnsureVersionResponse as _coxswain_agent_v1_EnsureVersionResponse, EnsureVersionResponse__Output as _coxswain_agent_v1_EnsureVersionResponse__Output } from './coxswain/agent/v1/EnsureVersionResponse.ts';
import type { FailoverRequest as _coxswain_agent_v1_FailoverRequest, FailoverRequest__Output as _coxswain_agent_v1_FailoverRequest__Output } from './coxswain/agent/v1/FailoverRequest.ts';
import type { FailoverResponse as _coxswain_agent_v1_FailoverResponse, FailoverResponse__Output as _coxswain_agent_v1_FailoverResponse__Output } from './coxswain/agent/v1/FailoverResponse.ts';
import type { ForgetNodeRequest as _coxswain_agent_v1_ForgetNodeRequest, ForgetNodeRequest__Output as _coxswain_agent_v1_ForgetNodeRequest__Output } from './coxswain/agent/v1/ForgetNodeRequest.ts';
import type { ForgetNodeResponse as _coxswain_agent_v1_ForgetNodeResponse, ForgetNodeResponse__Output as _coxswain_agent_v1_ForgetNodeResponse__Output } from './coxswain/agent/v1/ForgetNodeResponse.ts';
import type { GetStateRequest as _coxswain_agent_v1_GetStateRequest, GetStateRequest__Output as _coxswain_agent_v1_GetStateRequest__Output } from './coxswain/agent/v1/GetStateRequest.ts';
import type { GetStateResponse as _coxswain_agent_v1_GetStateResponse, GetStateResponse__Output as _coxswain_agent_v1_GetStateResponse__Output } from './coxswain/agent/v1/GetStateResponse.ts';
import type { InstalledVersion as _coxswain_agent_v1_InstalledVersion, InstalledVersion__Output as _coxswain_agent_v1_InstalledVersion__Output } from './coxswain/agent/v1/InstalledVersion.ts';
import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from './coxswain/agent/v1/JobRef.ts';
import type { JoinNodeRequest as _coxswain_agent_v1_JoinNodeRequest, JoinNodeRequest__Output as _coxswain_agent_v1_JoinNodeRequest__Output } from './coxswain/agent/v1/JoinNodeRequest.ts';
import type { JoinNodeResponse as _coxswain_agent_v1_JoinNodeResponse, JoinNodeResponse__Output as _coxswain_agent_v1_JoinNodeResponse__Output } from './coxswain/agent/v1/JoinNodeResponse.ts';
import type { ListBackupsRequest as _coxswain_agent_v1_ListBackupsRequest, ListBackupsRequest__Output as _coxswain_agent_v1_ListBackupsRequest__Output } from './coxswain/agent/v1/ListBackupsRequest.ts';
import type { ListBackupsResponse as _coxswain_agent_v1_ListBackupsResponse, ListBackupsResponse__Output as _coxswain_agent_v1_ListBackupsResponse__Output } from './coxswain/agent/v1/ListBackupsResponse.ts';
import type { LocalSink as _coxswain_agent_v1_LocalSink, LocalSink__Output as _coxswain_agent_v1_LocalSink__Output } from './coxswain/agent/v1/LocalSink.ts';
import type { MoveDataRequest as _coxswain_agent_v1_MoveDataRequest, MoveDataRequest__Output as _coxswain_agent_v1_MoveDataRequest__Output } from './coxswain/agent/v1/MoveDataRequest.ts';
import type { MoveDataResponse as _coxswain_agent_v1_MoveDataResponse, MoveDataResponse__Output as _coxswain_agent_v1_MoveDataResponse__Output } from './coxswain/agent/v1/MoveDataResponse.ts';
import type { NodeAddress as _coxswain_agent_v1_NodeAddress, NodeAddress__Output as _coxswain_agent_v1_NodeAddress__Output } from './coxswain/agent/v1/NodeAddress.ts';
import type { Outcome as _coxswain_agent_v1_Outcome, Outcome__Output as _coxswain_agent_v1_Outcome__Output } from './coxswain/agent/v1/Outcome.ts';
import type { RemoveNodeRequest as _coxswain_agent_v1_RemoveNodeRequest, RemoveNodeRequest__Output as _coxswain_agent_v1_RemoveNodeRequest__Output } from './coxswain/agent/v1/RemoveNodeRequest.ts';
import type { RemoveNodeResponse as _coxswain_agent_v1_RemoveNodeResponse, RemoveNodeResponse__Output as _coxswain_agent_v1_RemoveNodeResponse__Output } from './coxswain/agent/v1/RemoveNodeResponse.ts';
import type { RestoreBackupRequest as _coxswain_agent_v1_RestoreBackupRequest, RestoreBackupRequest__Output as _coxswain_agent_v1_RestoreBackupRequest__Output } from './coxswain/agent/v1/RestoreBackupRequest.ts';
import type { RestoreBackupResponse as _coxswain_agent_v1_RestoreBackupResponse, RestoreBackupResponse__Output as _coxswain_agent_v1_RestoreBackupResponse__Output } from './coxswain/agent/v1/RestoreBackupResponse.ts';
import type { Sink as _coxswain_agent_v1_Sink, Sink__Output as _coxswain_agent_v1_Sink__Output } from './coxswain/agent/v1/Sink.ts';
import type { SlotRange as _coxswain_agent_v1_SlotRange, SlotRange__Output as _coxswain_agent_v1_SlotRange__Output } from './coxswain/agent/v1/SlotRange.ts';
import type { SlotRanges as _coxswain_agent_v1_SlotRanges, SlotRanges__Output as _coxswain_agent_v1_SlotRanges__Output } from './coxswain/agent/v1/SlotRanges.ts';
import type { StartDataNodeRequest as _coxswain_agent_v1_StartDataNodeRequest, StartDataNodeRequest__Output as _coxswain_agent_v1_StartDataNodeRequest__Output } from './coxswain/agent/v1/StartDataNodeRequest.ts';
import type { StartDataNodeResponse as _coxswain_agent_v1_StartDataNodeResponse, StartDataNodeResponse__Output as _coxswain_agent_v1_StartDataNodeResponse__Output } from './coxswain/agent/v1/StartDataNodeResponse.ts';
import type { StateUpdate as _coxswain_agent_v1_StateUpdate, StateUpdate__Output as _coxswain_agent_v1_StateUpdate__Output } from './coxswain/agent/v1/StateUpdate.ts';
import type { StopDataNodeRequest as _coxswain_agent_v1_StopDataNodeRequest, StopDataNodeRequest__Output as _coxswain_agent_v1_StopDataNodeRequest__Output } from './coxswain/agent/v1/StopDataNodeRequest.ts';
import type { StopDataNodeResponse as _coxswain_agent_v1_StopDataNodeResponse, StopDataNodeResponse__Output as _coxswain_agent_v1_StopDataNodeResponse__Output } from './coxswain/agent/v1/StopDataNodeResponse.ts';
import type { WatchStateRequest as _coxswain_agent_v1_WatchStateRequest, WatchStateRequest__Output as _coxswain_agent_v1_WatchStateRequest__Output } from './coxswain/agent/v1/WatchStateRequest.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  coxswain: {
    agent: {
      v1: {
        /**
         * The agent on one VM. Mutating RPCs are idempotent by key and, for the engine's
         * effect, by design: repeating a step that already took effect changes nothing and
         * reports `changed: false`.
         */
        Agent: SubtypeConstructor<typeof grpc.Client, _coxswain_agent_v1_AgentClient> & { service: _coxswain_agent_v1_AgentDefinition }
        AgentState: MessageTypeDefinition<_coxswain_agent_v1_AgentState, _coxswain_agent_v1_AgentState__Output>
        BackupInfo: MessageTypeDefinition<_coxswain_agent_v1_BackupInfo, _coxswain_agent_v1_BackupInfo__Output>
        BackupPart: MessageTypeDefinition<_coxswain_agent_v1_BackupPart, _coxswain_agent_v1_BackupPart__Output>
        BackupStatus: EnumTypeDefinition
        ConfigureDataNodeRequest: MessageTypeDefinition<_coxswain_agent_v1_ConfigureDataNodeRequest, _coxswain_agent_v1_ConfigureDataNodeRequest__Output>
        ConfigureDataNodeResponse: MessageTypeDefinition<_coxswain_agent_v1_ConfigureDataNodeResponse, _coxswain_agent_v1_ConfigureDataNodeResponse__Output>
        CreateBackupRequest: MessageTypeDefinition<_coxswain_agent_v1_CreateBackupRequest, _coxswain_agent_v1_CreateBackupRequest__Output>
        CreateBackupResponse: MessageTypeDefinition<_coxswain_agent_v1_CreateBackupResponse, _coxswain_agent_v1_CreateBackupResponse__Output>
        DataNode: MessageTypeDefinition<_coxswain_agent_v1_DataNode, _coxswain_agent_v1_DataNode__Output>
        DeleteBackupRequest: MessageTypeDefinition<_coxswain_agent_v1_DeleteBackupRequest, _coxswain_agent_v1_DeleteBackupRequest__Output>
        DeleteBackupResponse: MessageTypeDefinition<_coxswain_agent_v1_DeleteBackupResponse, _coxswain_agent_v1_DeleteBackupResponse__Output>
        DiskUsage: MessageTypeDefinition<_coxswain_agent_v1_DiskUsage, _coxswain_agent_v1_DiskUsage__Output>
        EnsureVersionRequest: MessageTypeDefinition<_coxswain_agent_v1_EnsureVersionRequest, _coxswain_agent_v1_EnsureVersionRequest__Output>
        EnsureVersionResponse: MessageTypeDefinition<_coxswain_agent_v1_EnsureVersionResponse, _coxswain_agent_v1_EnsureVersionResponse__Output>
        FailoverRequest: MessageTypeDefinition<_coxswain_agent_v1_FailoverRequest, _coxswain_agent_v1_FailoverRequest__Output>
        FailoverResponse: MessageTypeDefinition<_coxswain_agent_v1_FailoverResponse, _coxswain_agent_v1_FailoverResponse__Output>
        ForgetNodeRequest: MessageTypeDefinition<_coxswain_agent_v1_ForgetNodeRequest, _coxswain_agent_v1_ForgetNodeRequest__Output>
        ForgetNodeResponse: MessageTypeDefinition<_coxswain_agent_v1_ForgetNodeResponse, _coxswain_agent_v1_ForgetNodeResponse__Output>
        GetStateRequest: MessageTypeDefinition<_coxswain_agent_v1_GetStateRequest, _coxswain_agent_v1_GetStateRequest__Output>
        GetStateResponse: MessageTypeDefinition<_coxswain_agent_v1_GetStateResponse, _coxswain_agent_v1_GetStateResponse__Output>
        InstalledVersion: MessageTypeDefinition<_coxswain_agent_v1_InstalledVersion, _coxswain_agent_v1_InstalledVersion__Output>
        JobRef: MessageTypeDefinition<_coxswain_agent_v1_JobRef, _coxswain_agent_v1_JobRef__Output>
        JoinNodeRequest: MessageTypeDefinition<_coxswain_agent_v1_JoinNodeRequest, _coxswain_agent_v1_JoinNodeRequest__Output>
        JoinNodeResponse: MessageTypeDefinition<_coxswain_agent_v1_JoinNodeResponse, _coxswain_agent_v1_JoinNodeResponse__Output>
        JoinRole: EnumTypeDefinition
        ListBackupsRequest: MessageTypeDefinition<_coxswain_agent_v1_ListBackupsRequest, _coxswain_agent_v1_ListBackupsRequest__Output>
        ListBackupsResponse: MessageTypeDefinition<_coxswain_agent_v1_ListBackupsResponse, _coxswain_agent_v1_ListBackupsResponse__Output>
        LocalSink: MessageTypeDefinition<_coxswain_agent_v1_LocalSink, _coxswain_agent_v1_LocalSink__Output>
        MoveDataRequest: MessageTypeDefinition<_coxswain_agent_v1_MoveDataRequest, _coxswain_agent_v1_MoveDataRequest__Output>
        MoveDataResponse: MessageTypeDefinition<_coxswain_agent_v1_MoveDataResponse, _coxswain_agent_v1_MoveDataResponse__Output>
        NodeAddress: MessageTypeDefinition<_coxswain_agent_v1_NodeAddress, _coxswain_agent_v1_NodeAddress__Output>
        NodeRole: EnumTypeDefinition
        Outcome: MessageTypeDefinition<_coxswain_agent_v1_Outcome, _coxswain_agent_v1_Outcome__Output>
        RemoveNodeRequest: MessageTypeDefinition<_coxswain_agent_v1_RemoveNodeRequest, _coxswain_agent_v1_RemoveNodeRequest__Output>
        RemoveNodeResponse: MessageTypeDefinition<_coxswain_agent_v1_RemoveNodeResponse, _coxswain_agent_v1_RemoveNodeResponse__Output>
        RestoreBackupRequest: MessageTypeDefinition<_coxswain_agent_v1_RestoreBackupRequest, _coxswain_agent_v1_RestoreBackupRequest__Output>
        RestoreBackupResponse: MessageTypeDefinition<_coxswain_agent_v1_RestoreBackupResponse, _coxswain_agent_v1_RestoreBackupResponse__Output>
        Sink: MessageTypeDefinition<_coxswain_agent_v1_Sink, _coxswain_agent_v1_Sink__Output>
        SlotRange: MessageTypeDefinition<_coxswain_agent_v1_SlotRange, _coxswain_agent_v1_SlotRange__Output>
        SlotRanges: MessageTypeDefinition<_coxswain_agent_v1_SlotRanges, _coxswain_agent_v1_SlotRanges__Output>
        StartDataNodeRequest: MessageTypeDefinition<_coxswain_agent_v1_StartDataNodeRequest, _coxswain_agent_v1_StartDataNodeRequest__Output>
        StartDataNodeResponse: MessageTypeDefinition<_coxswain_agent_v1_StartDataNodeResponse, _coxswain_agent_v1_StartDataNodeResponse__Output>
        StateUpdate: MessageTypeDefinition<_coxswain_agent_v1_StateUpdate, _coxswain_agent_v1_StateUpdate__Output>
        StopDataNodeRequest: MessageTypeDefinition<_coxswain_agent_v1_StopDataNodeRequest, _coxswain_agent_v1_StopDataNodeRequest__Output>
        StopDataNodeResponse: MessageTypeDefinition<_coxswain_agent_v1_StopDataNodeResponse, _coxswain_agent_v1_StopDataNodeResponse__Output>
        WatchStateRequest: MessageTypeDefinition<_coxswain_agent_v1_WatchStateRequest, _coxswain_agent_v1_WatchStateRequest__Output>
      }
    }
  }
}

