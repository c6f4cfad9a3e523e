#pragma once
/// Well-known ns=0 numeric node ids (FACTS.md §2.6, §4.3), for
/// `NodeId(node_ids::Server_ServiceLevel)`.

#include <cstdint>

namespace tandem::opcua::node_ids {

// Folders and objects
inline constexpr uint32_t RootFolder = 84;
inline constexpr uint32_t ObjectsFolder = 85;
inline constexpr uint32_t TypesFolder = 86;
inline constexpr uint32_t ViewsFolder = 87;
inline constexpr uint32_t Server = 2253;

// Reference types
inline constexpr uint32_t References = 31;
inline constexpr uint32_t HierarchicalReferences = 33;
inline constexpr uint32_t Organizes = 35;
inline constexpr uint32_t HasTypeDefinition = 40;
inline constexpr uint32_t HasSubtype = 45;
inline constexpr uint32_t HasProperty = 46;
inline constexpr uint32_t HasComponent = 47;

// Types
inline constexpr uint32_t FolderType = 61;
inline constexpr uint32_t BaseDataVariableType = 63;
inline constexpr uint32_t PropertyType = 68;
inline constexpr uint32_t ServerType = 2004;

// Server object variables
inline constexpr uint32_t Server_ServerArray = 2254;
inline constexpr uint32_t Server_NamespaceArray = 2255;
inline constexpr uint32_t Server_ServerStatus = 2256;
inline constexpr uint32_t Server_ServerStatus_StartTime = 2257;
inline constexpr uint32_t Server_ServerStatus_CurrentTime = 2258;
inline constexpr uint32_t Server_ServerStatus_State = 2259;
inline constexpr uint32_t Server_ServerStatus_BuildInfo = 2260;
inline constexpr uint32_t Server_ServerStatus_SecondsTillShutdown = 2992;
inline constexpr uint32_t Server_ServerStatus_ShutdownReason = 2993;
inline constexpr uint32_t Server_ServiceLevel = 2267;
inline constexpr uint32_t Server_ServerRedundancy = 2296;
inline constexpr uint32_t Server_ServerRedundancy_RedundancySupport = 3709;
inline constexpr uint32_t Server_ServerRedundancy_CurrentServerId = 11312;
inline constexpr uint32_t Server_ServerRedundancy_RedundantServerArray = 11313;
inline constexpr uint32_t Server_ServerRedundancy_ServerUriArray = 11314;
inline constexpr uint32_t Server_EstimatedReturnTime = 12885;
inline constexpr uint32_t Server_OperationLimits_MaxNodesPerRead = 11705;
inline constexpr uint32_t Server_OperationLimits_MaxNodesPerWrite = 11707;
inline constexpr uint32_t Server_OperationLimits_MaxNodesPerBrowse = 11710;
inline constexpr uint32_t Server_OperationLimits_MaxMonitoredItemsPerCall = 11714;

} // namespace tandem::opcua::node_ids
