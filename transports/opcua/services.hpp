#pragma once
/// OPC UA service messages and structures (OPC 10000-4, FACTS.md §3 and §3.1) with UA Binary
/// encode/decode and the request/response dispatchers.
///
/// Each structure lists its fields once, in wire order, in a static `fields(self, visitor)`; the
/// same list drives encoding, decoding and error paths ("ReadRequest.nodesToRead[2].nodeId").
/// Messages (the bodies of MSG/OPN/CLO) and ExtensionObject bodies carry `binary_encoding_id`, the
/// ns=0 numeric TypeId of their DefaultBinary encoding.

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "transports/opcua/binary.hpp"

namespace tandem::opcua {

// -- enumerations (Int32 on the wire) ------------------------------------------------------------

enum class MessageSecurityMode : int32_t { Invalid = 0, None = 1, Sign = 2, SignAndEncrypt = 3 };
enum class SecurityTokenRequestType : int32_t { Issue = 0, Renew = 1 };
enum class TimestampsToReturn : int32_t { Source = 0, Server = 1, Both = 2, Neither = 3 };
enum class BrowseDirection : int32_t { Forward = 0, Inverse = 1, Both = 2 };
enum class NodeClass : int32_t {
  Unspecified = 0,
  Object = 1,
  Variable = 2,
  Method = 4,
  ObjectType = 8,
  VariableType = 16,
  ReferenceType = 32,
  DataType = 64,
  View = 128,
};
/// "Object", "Variable"... ("Unspecified" for anything else).
const char* node_class_name(NodeClass c);
enum class MonitoringMode : int32_t { Disabled = 0, Sampling = 1, Reporting = 2 };
enum class DataChangeTrigger : int32_t { Status = 0, StatusValue = 1, StatusValueTimestamp = 2 };
enum class ServerState : int32_t {
  Running = 0,
  Failed = 1,
  NoConfiguration = 2,
  Suspended = 3,
  Shutdown = 4,
  Test = 5,
  CommunicationFault = 6,
  Unknown = 7,
};
enum class RedundancySupport : int32_t {
  None = 0,
  Cold = 1,
  Warm = 2,
  Hot = 3,
  Transparent = 4,
  HotAndMirrored = 5,
};
enum class UserTokenType : int32_t {
  Anonymous = 0,
  UserName = 1,
  Certificate = 2,
  IssuedToken = 3
};
enum class ApplicationType : int32_t {
  Server = 0,
  Client = 1,
  ClientAndServer = 2,
  DiscoveryServer = 3,
};

/// DataChangeFilter.deadbandType (a UInt32 on the wire).
namespace deadband_type {
inline constexpr uint32_t None = 0, Absolute = 1, Percent = 2;
}
/// BrowseDescription.resultMask bits.
namespace browse_result_mask {
inline constexpr uint32_t ReferenceType = 1, IsForward = 2, NodeClass = 4, BrowseName = 8,
                          DisplayName = 16, TypeDefinition = 32, All = 63;
}
/// Attribute ids (ReadValueId.attributeId).
namespace attribute_id {
inline constexpr uint32_t NodeId = 1, NodeClass = 2, BrowseName = 3, DisplayName = 4,
                          Description = 5, WriteMask = 6, UserWriteMask = 7, IsAbstract = 8,
                          Symmetric = 9, InverseName = 10, ContainsNoLoops = 11, EventNotifier = 12,
                          Value = 13, DataType = 14, ValueRank = 15, ArrayDimensions = 16,
                          AccessLevel = 17, UserAccessLevel = 18, MinimumSamplingInterval = 19,
                          Historizing = 20, Executable = 21, UserExecutable = 22;
}

// Field-list helper: `TANDEM_OPCUA_FIELDS(F("name", member) ...)` would hide too much; the lists
// are written out so each struct reads like its row in the spec.

// -- headers and common structures ---------------------------------------------------------------

struct RequestHeader {
  static constexpr const char* type_name = "RequestHeader";
  NodeId authentication_token;
  DateTime timestamp;
  uint32_t request_handle = 0;
  uint32_t return_diagnostics = 0;
  String audit_entry_id;
  uint32_t timeout_hint = 0; ///< ms, 0 = none
  ExtensionObject additional_header;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("authenticationToken", s.authentication_token);
    v("timestamp", s.timestamp);
    v("requestHandle", s.request_handle);
    v("returnDiagnostics", s.return_diagnostics);
    v("auditEntryId", s.audit_entry_id);
    v("timeoutHint", s.timeout_hint);
    v("additionalHeader", s.additional_header);
  }
};

struct ResponseHeader {
  static constexpr const char* type_name = "ResponseHeader";
  DateTime timestamp;
  uint32_t request_handle = 0;
  StatusCode service_result;
  DiagnosticInfo service_diagnostics;
  Array<String> string_table;
  ExtensionObject additional_header;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("timestamp", s.timestamp);
    v("requestHandle", s.request_handle);
    v("serviceResult", s.service_result);
    v("serviceDiagnostics", s.service_diagnostics);
    v("stringTable", s.string_table);
    v("additionalHeader", s.additional_header);
  }
};

struct ServiceFault {
  static constexpr const char* type_name = "ServiceFault";
  static constexpr uint32_t binary_encoding_id = 397;
  ResponseHeader response_header;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
  }
};

struct ChannelSecurityToken {
  static constexpr const char* type_name = "ChannelSecurityToken";
  uint32_t channel_id = 0;
  uint32_t token_id = 0;
  DateTime created_at;
  uint32_t revised_lifetime = 0; ///< ms

  template <class S, class V> static void fields(S& s, V&& v) {
    v("channelId", s.channel_id);
    v("tokenId", s.token_id);
    v("createdAt", s.created_at);
    v("revisedLifetime", s.revised_lifetime);
  }
};

struct ApplicationDescription {
  static constexpr const char* type_name = "ApplicationDescription";
  String application_uri;
  String product_uri;
  LocalizedText application_name;
  ApplicationType application_type = ApplicationType::Server;
  String gateway_server_uri;
  String discovery_profile_uri;
  Array<String> discovery_urls;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("applicationUri", s.application_uri);
    v("productUri", s.product_uri);
    v("applicationName", s.application_name);
    v("applicationType", s.application_type);
    v("gatewayServerUri", s.gateway_server_uri);
    v("discoveryProfileUri", s.discovery_profile_uri);
    v("discoveryUrls", s.discovery_urls);
  }
};

struct UserTokenPolicy {
  static constexpr const char* type_name = "UserTokenPolicy";
  String policy_id;
  UserTokenType token_type = UserTokenType::Anonymous;
  String issued_token_type;
  String issuer_endpoint_url;
  String security_policy_uri;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("policyId", s.policy_id);
    v("tokenType", s.token_type);
    v("issuedTokenType", s.issued_token_type);
    v("issuerEndpointUrl", s.issuer_endpoint_url);
    v("securityPolicyUri", s.security_policy_uri);
  }
};

struct EndpointDescription {
  static constexpr const char* type_name = "EndpointDescription";
  String endpoint_url;
  ApplicationDescription server;
  ByteString server_certificate;
  MessageSecurityMode security_mode = MessageSecurityMode::None;
  String security_policy_uri;
  Array<UserTokenPolicy> user_identity_tokens;
  String transport_profile_uri;
  uint8_t security_level = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("endpointUrl", s.endpoint_url);
    v("server", s.server);
    v("serverCertificate", s.server_certificate);
    v("securityMode", s.security_mode);
    v("securityPolicyUri", s.security_policy_uri);
    v("userIdentityTokens", s.user_identity_tokens);
    v("transportProfileUri", s.transport_profile_uri);
    v("securityLevel", s.security_level);
  }
};

struct SignatureData {
  static constexpr const char* type_name = "SignatureData";
  String algorithm;
  ByteString signature;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("algorithm", s.algorithm);
    v("signature", s.signature);
  }
};

struct SignedSoftwareCertificate {
  static constexpr const char* type_name = "SignedSoftwareCertificate";
  ByteString certificate_data;
  ByteString signature;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("certificateData", s.certificate_data);
    v("signature", s.signature);
  }
};

// -- identity tokens (ExtensionObject bodies) ----------------------------------------------------

struct AnonymousIdentityToken {
  static constexpr const char* type_name = "AnonymousIdentityToken";
  static constexpr uint32_t binary_encoding_id = 321;
  String policy_id;

  template <class S, class V> static void fields(S& s, V&& v) { v("policyId", s.policy_id); }
};

struct UserNameIdentityToken {
  static constexpr const char* type_name = "UserNameIdentityToken";
  static constexpr uint32_t binary_encoding_id = 324;
  String policy_id;
  String user_name;
  ByteString password;         ///< plain UTF-8 when encryption_algorithm is null
  String encryption_algorithm; ///< null = not encrypted

  template <class S, class V> static void fields(S& s, V&& v) {
    v("policyId", s.policy_id);
    v("userName", s.user_name);
    v("password", s.password);
    v("encryptionAlgorithm", s.encryption_algorithm);
  }
};

struct X509IdentityToken {
  static constexpr const char* type_name = "X509IdentityToken";
  static constexpr uint32_t binary_encoding_id = 327;
  String policy_id;
  ByteString certificate_data;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("policyId", s.policy_id);
    v("certificateData", s.certificate_data);
  }
};

struct IssuedIdentityToken {
  static constexpr const char* type_name = "IssuedIdentityToken";
  static constexpr uint32_t binary_encoding_id = 940;
  String policy_id;
  ByteString token_data;
  String encryption_algorithm;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("policyId", s.policy_id);
    v("tokenData", s.token_data);
    v("encryptionAlgorithm", s.encryption_algorithm);
  }
};

// -- attribute and view structures ---------------------------------------------------------------

struct ReadValueId {
  static constexpr const char* type_name = "ReadValueId";
  NodeId node_id;
  uint32_t attribute_id = attribute_id::Value;
  String index_range;
  QualifiedName data_encoding;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("nodeId", s.node_id);
    v("attributeId", s.attribute_id);
    v("indexRange", s.index_range);
    v("dataEncoding", s.data_encoding);
  }
};

struct WriteValue {
  static constexpr const char* type_name = "WriteValue";
  NodeId node_id;
  uint32_t attribute_id = attribute_id::Value;
  String index_range;
  DataValue value;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("nodeId", s.node_id);
    v("attributeId", s.attribute_id);
    v("indexRange", s.index_range);
    v("value", s.value);
  }
};

struct ViewDescription {
  static constexpr const char* type_name = "ViewDescription";
  NodeId view_id;
  DateTime timestamp;
  uint32_t view_version = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("viewId", s.view_id);
    v("timestamp", s.timestamp);
    v("viewVersion", s.view_version);
  }
};

struct BrowseDescription {
  static constexpr const char* type_name = "BrowseDescription";
  NodeId node_id;
  BrowseDirection browse_direction = BrowseDirection::Forward;
  NodeId reference_type_id;
  bool include_subtypes = false;
  uint32_t node_class_mask = 0;
  uint32_t result_mask = browse_result_mask::All;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("nodeId", s.node_id);
    v("browseDirection", s.browse_direction);
    v("referenceTypeId", s.reference_type_id);
    v("includeSubtypes", s.include_subtypes);
    v("nodeClassMask", s.node_class_mask);
    v("resultMask", s.result_mask);
  }
};

struct ReferenceDescription {
  static constexpr const char* type_name = "ReferenceDescription";
  NodeId reference_type_id;
  bool is_forward = true;
  ExpandedNodeId node_id;
  QualifiedName browse_name;
  LocalizedText display_name;
  NodeClass node_class = NodeClass::Unspecified;
  ExpandedNodeId type_definition;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("referenceTypeId", s.reference_type_id);
    v("isForward", s.is_forward);
    v("nodeId", s.node_id);
    v("browseName", s.browse_name);
    v("displayName", s.display_name);
    v("nodeClass", s.node_class);
    v("typeDefinition", s.type_definition);
  }
};

struct BrowseResult {
  static constexpr const char* type_name = "BrowseResult";
  StatusCode status_code;
  ByteString continuation_point;
  Array<ReferenceDescription> references;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("statusCode", s.status_code);
    v("continuationPoint", s.continuation_point);
    v("references", s.references);
  }
};

struct RelativePathElement {
  static constexpr const char* type_name = "RelativePathElement";
  NodeId reference_type_id;
  bool is_inverse = false;
  bool include_subtypes = true;
  QualifiedName target_name;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("referenceTypeId", s.reference_type_id);
    v("isInverse", s.is_inverse);
    v("includeSubtypes", s.include_subtypes);
    v("targetName", s.target_name);
  }
};

struct RelativePath {
  static constexpr const char* type_name = "RelativePath";
  Array<RelativePathElement> elements;

  template <class S, class V> static void fields(S& s, V&& v) { v("elements", s.elements); }
};

struct BrowsePath {
  static constexpr const char* type_name = "BrowsePath";
  NodeId starting_node;
  RelativePath relative_path;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("startingNode", s.starting_node);
    v("relativePath", s.relative_path);
  }
};

struct BrowsePathTarget {
  static constexpr const char* type_name = "BrowsePathTarget";
  ExpandedNodeId target_id;
  uint32_t remaining_path_index = 0xFFFFFFFFu;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("targetId", s.target_id);
    v("remainingPathIndex", s.remaining_path_index);
  }
};

struct BrowsePathResult {
  static constexpr const char* type_name = "BrowsePathResult";
  StatusCode status_code;
  Array<BrowsePathTarget> targets;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("statusCode", s.status_code);
    v("targets", s.targets);
  }
};

struct CallMethodRequest {
  static constexpr const char* type_name = "CallMethodRequest";
  NodeId object_id;
  NodeId method_id;
  Array<Variant> input_arguments;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("objectId", s.object_id);
    v("methodId", s.method_id);
    v("inputArguments", s.input_arguments);
  }
};

struct CallMethodResult {
  static constexpr const char* type_name = "CallMethodResult";
  StatusCode status_code;
  Array<StatusCode> input_argument_results;
  Array<DiagnosticInfo> input_argument_diagnostic_infos;
  Array<Variant> output_arguments;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("statusCode", s.status_code);
    v("inputArgumentResults", s.input_argument_results);
    v("inputArgumentDiagnosticInfos", s.input_argument_diagnostic_infos);
    v("outputArguments", s.output_arguments);
  }
};

// -- monitored items and subscriptions -----------------------------------------------------------

struct DataChangeFilter {
  static constexpr const char* type_name = "DataChangeFilter";
  static constexpr uint32_t binary_encoding_id = 724;
  DataChangeTrigger trigger = DataChangeTrigger::StatusValue;
  uint32_t deadband_type = deadband_type::None;
  double deadband_value = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("trigger", s.trigger);
    v("deadbandType", s.deadband_type);
    v("deadbandValue", s.deadband_value);
  }
};

struct MonitoringParameters {
  static constexpr const char* type_name = "MonitoringParameters";
  uint32_t client_handle = 0;
  double sampling_interval = -1; ///< -1 = the publishing interval
  ExtensionObject filter;        ///< e.g. make_extension_object(DataChangeFilter{...})
  uint32_t queue_size = 1;
  bool discard_oldest = true;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("clientHandle", s.client_handle);
    v("samplingInterval", s.sampling_interval);
    v("filter", s.filter);
    v("queueSize", s.queue_size);
    v("discardOldest", s.discard_oldest);
  }
};

struct MonitoredItemCreateRequest {
  static constexpr const char* type_name = "MonitoredItemCreateRequest";
  ReadValueId item_to_monitor;
  MonitoringMode monitoring_mode = MonitoringMode::Reporting;
  MonitoringParameters requested_parameters;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("itemToMonitor", s.item_to_monitor);
    v("monitoringMode", s.monitoring_mode);
    v("requestedParameters", s.requested_parameters);
  }
};

struct MonitoredItemCreateResult {
  static constexpr const char* type_name = "MonitoredItemCreateResult";
  StatusCode status_code;
  uint32_t monitored_item_id = 0;
  double revised_sampling_interval = 0;
  uint32_t revised_queue_size = 0;
  ExtensionObject filter_result;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("statusCode", s.status_code);
    v("monitoredItemId", s.monitored_item_id);
    v("revisedSamplingInterval", s.revised_sampling_interval);
    v("revisedQueueSize", s.revised_queue_size);
    v("filterResult", s.filter_result);
  }
};

struct MonitoredItemModifyRequest {
  static constexpr const char* type_name = "MonitoredItemModifyRequest";
  uint32_t monitored_item_id = 0;
  MonitoringParameters requested_parameters;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("monitoredItemId", s.monitored_item_id);
    v("requestedParameters", s.requested_parameters);
  }
};

struct MonitoredItemModifyResult {
  static constexpr const char* type_name = "MonitoredItemModifyResult";
  StatusCode status_code;
  double revised_sampling_interval = 0;
  uint32_t revised_queue_size = 0;
  ExtensionObject filter_result;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("statusCode", s.status_code);
    v("revisedSamplingInterval", s.revised_sampling_interval);
    v("revisedQueueSize", s.revised_queue_size);
    v("filterResult", s.filter_result);
  }
};

struct SubscriptionAcknowledgement {
  static constexpr const char* type_name = "SubscriptionAcknowledgement";
  uint32_t subscription_id = 0;
  uint32_t sequence_number = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("subscriptionId", s.subscription_id);
    v("sequenceNumber", s.sequence_number);
  }
};

struct NotificationMessage {
  static constexpr const char* type_name = "NotificationMessage";
  uint32_t sequence_number = 0;
  DateTime publish_time;
  /// DataChangeNotification / StatusChangeNotification / EventNotificationList bodies; see
  /// decode_notification().
  Array<ExtensionObject> notification_data;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("sequenceNumber", s.sequence_number);
    v("publishTime", s.publish_time);
    v("notificationData", s.notification_data);
  }
};

struct MonitoredItemNotification {
  static constexpr const char* type_name = "MonitoredItemNotification";
  uint32_t client_handle = 0;
  DataValue value;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("clientHandle", s.client_handle);
    v("value", s.value);
  }
};

struct DataChangeNotification {
  static constexpr const char* type_name = "DataChangeNotification";
  static constexpr uint32_t binary_encoding_id = 811;
  Array<MonitoredItemNotification> monitored_items;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("monitoredItems", s.monitored_items);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct StatusChangeNotification {
  static constexpr const char* type_name = "StatusChangeNotification";
  static constexpr uint32_t binary_encoding_id = 820;
  StatusCode status;
  DiagnosticInfo diagnostic_info;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("status", s.status);
    v("diagnosticInfo", s.diagnostic_info);
  }
};

struct EventFieldList {
  static constexpr const char* type_name = "EventFieldList";
  uint32_t client_handle = 0;
  Array<Variant> event_fields;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("clientHandle", s.client_handle);
    v("eventFields", s.event_fields);
  }
};

struct EventNotificationList {
  static constexpr const char* type_name = "EventNotificationList";
  static constexpr uint32_t binary_encoding_id = 916;
  Array<EventFieldList> events;

  template <class S, class V> static void fields(S& s, V&& v) { v("events", s.events); }
};

struct TransferResult {
  static constexpr const char* type_name = "TransferResult";
  StatusCode status_code;
  Array<uint32_t> available_sequence_numbers;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("statusCode", s.status_code);
    v("availableSequenceNumbers", s.available_sequence_numbers);
  }
};

// -- server object structures (Variant ExtensionObject bodies) -----------------------------------

struct BuildInfo {
  static constexpr const char* type_name = "BuildInfo";
  static constexpr uint32_t binary_encoding_id = 340;
  String product_uri;
  String manufacturer_name;
  String product_name;
  String software_version;
  String build_number;
  DateTime build_date;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("productUri", s.product_uri);
    v("manufacturerName", s.manufacturer_name);
    v("productName", s.product_name);
    v("softwareVersion", s.software_version);
    v("buildNumber", s.build_number);
    v("buildDate", s.build_date);
  }
};

struct ServerStatusDataType {
  static constexpr const char* type_name = "ServerStatusDataType";
  static constexpr uint32_t binary_encoding_id = 864;
  DateTime start_time;
  DateTime current_time;
  ServerState state = ServerState::Running;
  BuildInfo build_info;
  uint32_t seconds_till_shutdown = 0;
  LocalizedText shutdown_reason;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("startTime", s.start_time);
    v("currentTime", s.current_time);
    v("state", s.state);
    v("buildInfo", s.build_info);
    v("secondsTillShutdown", s.seconds_till_shutdown);
    v("shutdownReason", s.shutdown_reason);
  }
};

struct RedundantServerDataType {
  static constexpr const char* type_name = "RedundantServerDataType";
  static constexpr uint32_t binary_encoding_id = 855;
  String server_id;
  uint8_t service_level = 0;
  ServerState server_state = ServerState::Running;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("serverId", s.server_id);
    v("serviceLevel", s.service_level);
    v("serverState", s.server_state);
  }
};

// -- service messages ----------------------------------------------------------------------------

/// Declares a request or response message struct: name, binary encoding id, then the members and
/// the field list.
#define TANDEM_OPCUA_MESSAGE(Name, Id)                                                             \
  static constexpr const char* type_name = #Name;                                                  \
  static constexpr uint32_t binary_encoding_id = Id;

struct OpenSecureChannelRequest {
  TANDEM_OPCUA_MESSAGE(OpenSecureChannelRequest, 446)
  RequestHeader request_header;
  uint32_t client_protocol_version = 0;
  SecurityTokenRequestType request_type = SecurityTokenRequestType::Issue;
  MessageSecurityMode security_mode = MessageSecurityMode::None;
  ByteString client_nonce;
  uint32_t requested_lifetime = 600000;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("clientProtocolVersion", s.client_protocol_version);
    v("requestType", s.request_type);
    v("securityMode", s.security_mode);
    v("clientNonce", s.client_nonce);
    v("requestedLifetime", s.requested_lifetime);
  }
};

struct OpenSecureChannelResponse {
  TANDEM_OPCUA_MESSAGE(OpenSecureChannelResponse, 449)
  ResponseHeader response_header;
  uint32_t server_protocol_version = 0;
  ChannelSecurityToken security_token;
  ByteString server_nonce;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("serverProtocolVersion", s.server_protocol_version);
    v("securityToken", s.security_token);
    v("serverNonce", s.server_nonce);
  }
};

struct CloseSecureChannelRequest {
  TANDEM_OPCUA_MESSAGE(CloseSecureChannelRequest, 452)
  RequestHeader request_header;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
  }
};

struct CloseSecureChannelResponse {
  TANDEM_OPCUA_MESSAGE(CloseSecureChannelResponse, 455)
  ResponseHeader response_header;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
  }
};

struct FindServersRequest {
  TANDEM_OPCUA_MESSAGE(FindServersRequest, 422)
  RequestHeader request_header;
  String endpoint_url;
  Array<String> locale_ids;
  Array<String> server_uris;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("endpointUrl", s.endpoint_url);
    v("localeIds", s.locale_ids);
    v("serverUris", s.server_uris);
  }
};

struct FindServersResponse {
  TANDEM_OPCUA_MESSAGE(FindServersResponse, 425)
  ResponseHeader response_header;
  Array<ApplicationDescription> servers;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("servers", s.servers);
  }
};

struct GetEndpointsRequest {
  TANDEM_OPCUA_MESSAGE(GetEndpointsRequest, 428)
  RequestHeader request_header;
  String endpoint_url;
  Array<String> locale_ids;
  Array<String> profile_uris;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("endpointUrl", s.endpoint_url);
    v("localeIds", s.locale_ids);
    v("profileUris", s.profile_uris);
  }
};

struct GetEndpointsResponse {
  TANDEM_OPCUA_MESSAGE(GetEndpointsResponse, 431)
  ResponseHeader response_header;
  Array<EndpointDescription> endpoints;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("endpoints", s.endpoints);
  }
};

struct CreateSessionRequest {
  TANDEM_OPCUA_MESSAGE(CreateSessionRequest, 461)
  RequestHeader request_header;
  ApplicationDescription client_description;
  String server_uri;
  String endpoint_url;
  String session_name;
  ByteString client_nonce;
  ByteString client_certificate;
  double requested_session_timeout = 60000;
  uint32_t max_response_message_size = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("clientDescription", s.client_description);
    v("serverUri", s.server_uri);
    v("endpointUrl", s.endpoint_url);
    v("sessionName", s.session_name);
    v("clientNonce", s.client_nonce);
    v("clientCertificate", s.client_certificate);
    v("requestedSessionTimeout", s.requested_session_timeout);
    v("maxResponseMessageSize", s.max_response_message_size);
  }
};

struct CreateSessionResponse {
  TANDEM_OPCUA_MESSAGE(CreateSessionResponse, 464)
  ResponseHeader response_header;
  NodeId session_id;
  NodeId authentication_token;
  double revised_session_timeout = 0;
  ByteString server_nonce;
  ByteString server_certificate;
  Array<EndpointDescription> server_endpoints;
  Array<SignedSoftwareCertificate> server_software_certificates;
  SignatureData server_signature;
  uint32_t max_request_message_size = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("sessionId", s.session_id);
    v("authenticationToken", s.authentication_token);
    v("revisedSessionTimeout", s.revised_session_timeout);
    v("serverNonce", s.server_nonce);
    v("serverCertificate", s.server_certificate);
    v("serverEndpoints", s.server_endpoints);
    v("serverSoftwareCertificates", s.server_software_certificates);
    v("serverSignature", s.server_signature);
    v("maxRequestMessageSize", s.max_request_message_size);
  }
};

struct ActivateSessionRequest {
  TANDEM_OPCUA_MESSAGE(ActivateSessionRequest, 467)
  RequestHeader request_header;
  SignatureData client_signature;
  Array<SignedSoftwareCertificate> client_software_certificates;
  Array<String> locale_ids;
  ExtensionObject user_identity_token; ///< see decode_identity_token()
  SignatureData user_token_signature;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("clientSignature", s.client_signature);
    v("clientSoftwareCertificates", s.client_software_certificates);
    v("localeIds", s.locale_ids);
    v("userIdentityToken", s.user_identity_token);
    v("userTokenSignature", s.user_token_signature);
  }
};

struct ActivateSessionResponse {
  TANDEM_OPCUA_MESSAGE(ActivateSessionResponse, 470)
  ResponseHeader response_header;
  ByteString server_nonce;
  Array<StatusCode> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("serverNonce", s.server_nonce);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct CloseSessionRequest {
  TANDEM_OPCUA_MESSAGE(CloseSessionRequest, 473)
  RequestHeader request_header;
  bool delete_subscriptions = true;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("deleteSubscriptions", s.delete_subscriptions);
  }
};

struct CloseSessionResponse {
  TANDEM_OPCUA_MESSAGE(CloseSessionResponse, 476)
  ResponseHeader response_header;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
  }
};

struct CancelRequest {
  TANDEM_OPCUA_MESSAGE(CancelRequest, 479)
  RequestHeader request_header;
  uint32_t request_handle = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("requestHandle", s.request_handle);
  }
};

struct CancelResponse {
  TANDEM_OPCUA_MESSAGE(CancelResponse, 482)
  ResponseHeader response_header;
  uint32_t cancel_count = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("cancelCount", s.cancel_count);
  }
};

struct ReadRequest {
  TANDEM_OPCUA_MESSAGE(ReadRequest, 631)
  RequestHeader request_header;
  double max_age = 0;
  TimestampsToReturn timestamps_to_return = TimestampsToReturn::Both;
  Array<ReadValueId> nodes_to_read;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("maxAge", s.max_age);
    v("timestampsToReturn", s.timestamps_to_return);
    v("nodesToRead", s.nodes_to_read);
  }
};

struct ReadResponse {
  TANDEM_OPCUA_MESSAGE(ReadResponse, 634)
  ResponseHeader response_header;
  Array<DataValue> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct WriteRequest {
  TANDEM_OPCUA_MESSAGE(WriteRequest, 673)
  RequestHeader request_header;
  Array<WriteValue> nodes_to_write;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("nodesToWrite", s.nodes_to_write);
  }
};

struct WriteResponse {
  TANDEM_OPCUA_MESSAGE(WriteResponse, 676)
  ResponseHeader response_header;
  Array<StatusCode> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct BrowseRequest {
  TANDEM_OPCUA_MESSAGE(BrowseRequest, 527)
  RequestHeader request_header;
  ViewDescription view;
  uint32_t requested_max_references_per_node = 0;
  Array<BrowseDescription> nodes_to_browse;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("view", s.view);
    v("requestedMaxReferencesPerNode", s.requested_max_references_per_node);
    v("nodesToBrowse", s.nodes_to_browse);
  }
};

struct BrowseResponse {
  TANDEM_OPCUA_MESSAGE(BrowseResponse, 530)
  ResponseHeader response_header;
  Array<BrowseResult> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct BrowseNextRequest {
  TANDEM_OPCUA_MESSAGE(BrowseNextRequest, 533)
  RequestHeader request_header;
  bool release_continuation_points = false;
  Array<ByteString> continuation_points;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("releaseContinuationPoints", s.release_continuation_points);
    v("continuationPoints", s.continuation_points);
  }
};

struct BrowseNextResponse {
  TANDEM_OPCUA_MESSAGE(BrowseNextResponse, 536)
  ResponseHeader response_header;
  Array<BrowseResult> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct TranslateBrowsePathsToNodeIdsRequest {
  TANDEM_OPCUA_MESSAGE(TranslateBrowsePathsToNodeIdsRequest, 554)
  RequestHeader request_header;
  Array<BrowsePath> browse_paths;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("browsePaths", s.browse_paths);
  }
};

struct TranslateBrowsePathsToNodeIdsResponse {
  TANDEM_OPCUA_MESSAGE(TranslateBrowsePathsToNodeIdsResponse, 557)
  ResponseHeader response_header;
  Array<BrowsePathResult> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct RegisterNodesRequest {
  TANDEM_OPCUA_MESSAGE(RegisterNodesRequest, 560)
  RequestHeader request_header;
  Array<NodeId> nodes_to_register;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("nodesToRegister", s.nodes_to_register);
  }
};

struct RegisterNodesResponse {
  TANDEM_OPCUA_MESSAGE(RegisterNodesResponse, 563)
  ResponseHeader response_header;
  Array<NodeId> registered_node_ids;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("registeredNodeIds", s.registered_node_ids);
  }
};

struct UnregisterNodesRequest {
  TANDEM_OPCUA_MESSAGE(UnregisterNodesRequest, 566)
  RequestHeader request_header;
  Array<NodeId> nodes_to_unregister;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("nodesToUnregister", s.nodes_to_unregister);
  }
};

struct UnregisterNodesResponse {
  TANDEM_OPCUA_MESSAGE(UnregisterNodesResponse, 569)
  ResponseHeader response_header;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
  }
};

struct CallRequest {
  TANDEM_OPCUA_MESSAGE(CallRequest, 712)
  RequestHeader request_header;
  Array<CallMethodRequest> methods_to_call;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("methodsToCall", s.methods_to_call);
  }
};

struct CallResponse {
  TANDEM_OPCUA_MESSAGE(CallResponse, 715)
  ResponseHeader response_header;
  Array<CallMethodResult> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct CreateMonitoredItemsRequest {
  TANDEM_OPCUA_MESSAGE(CreateMonitoredItemsRequest, 751)
  RequestHeader request_header;
  uint32_t subscription_id = 0;
  TimestampsToReturn timestamps_to_return = TimestampsToReturn::Both;
  Array<MonitoredItemCreateRequest> items_to_create;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("subscriptionId", s.subscription_id);
    v("timestampsToReturn", s.timestamps_to_return);
    v("itemsToCreate", s.items_to_create);
  }
};

struct CreateMonitoredItemsResponse {
  TANDEM_OPCUA_MESSAGE(CreateMonitoredItemsResponse, 754)
  ResponseHeader response_header;
  Array<MonitoredItemCreateResult> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct ModifyMonitoredItemsRequest {
  TANDEM_OPCUA_MESSAGE(ModifyMonitoredItemsRequest, 763)
  RequestHeader request_header;
  uint32_t subscription_id = 0;
  TimestampsToReturn timestamps_to_return = TimestampsToReturn::Both;
  Array<MonitoredItemModifyRequest> items_to_modify;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("subscriptionId", s.subscription_id);
    v("timestampsToReturn", s.timestamps_to_return);
    v("itemsToModify", s.items_to_modify);
  }
};

struct ModifyMonitoredItemsResponse {
  TANDEM_OPCUA_MESSAGE(ModifyMonitoredItemsResponse, 766)
  ResponseHeader response_header;
  Array<MonitoredItemModifyResult> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct SetMonitoringModeRequest {
  TANDEM_OPCUA_MESSAGE(SetMonitoringModeRequest, 769)
  RequestHeader request_header;
  uint32_t subscription_id = 0;
  MonitoringMode monitoring_mode = MonitoringMode::Reporting;
  Array<uint32_t> monitored_item_ids;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("subscriptionId", s.subscription_id);
    v("monitoringMode", s.monitoring_mode);
    v("monitoredItemIds", s.monitored_item_ids);
  }
};

struct SetMonitoringModeResponse {
  TANDEM_OPCUA_MESSAGE(SetMonitoringModeResponse, 772)
  ResponseHeader response_header;
  Array<StatusCode> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct DeleteMonitoredItemsRequest {
  TANDEM_OPCUA_MESSAGE(DeleteMonitoredItemsRequest, 781)
  RequestHeader request_header;
  uint32_t subscription_id = 0;
  Array<uint32_t> monitored_item_ids;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("subscriptionId", s.subscription_id);
    v("monitoredItemIds", s.monitored_item_ids);
  }
};

struct DeleteMonitoredItemsResponse {
  TANDEM_OPCUA_MESSAGE(DeleteMonitoredItemsResponse, 784)
  ResponseHeader response_header;
  Array<StatusCode> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct CreateSubscriptionRequest {
  TANDEM_OPCUA_MESSAGE(CreateSubscriptionRequest, 787)
  RequestHeader request_header;
  double requested_publishing_interval = 1000;
  uint32_t requested_lifetime_count = 60;
  uint32_t requested_max_keep_alive_count = 10;
  uint32_t max_notifications_per_publish = 0;
  bool publishing_enabled = true;
  uint8_t priority = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("requestedPublishingInterval", s.requested_publishing_interval);
    v("requestedLifetimeCount", s.requested_lifetime_count);
    v("requestedMaxKeepAliveCount", s.requested_max_keep_alive_count);
    v("maxNotificationsPerPublish", s.max_notifications_per_publish);
    v("publishingEnabled", s.publishing_enabled);
    v("priority", s.priority);
  }
};

struct CreateSubscriptionResponse {
  TANDEM_OPCUA_MESSAGE(CreateSubscriptionResponse, 790)
  ResponseHeader response_header;
  uint32_t subscription_id = 0;
  double revised_publishing_interval = 0;
  uint32_t revised_lifetime_count = 0;
  uint32_t revised_max_keep_alive_count = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("subscriptionId", s.subscription_id);
    v("revisedPublishingInterval", s.revised_publishing_interval);
    v("revisedLifetimeCount", s.revised_lifetime_count);
    v("revisedMaxKeepAliveCount", s.revised_max_keep_alive_count);
  }
};

struct ModifySubscriptionRequest {
  TANDEM_OPCUA_MESSAGE(ModifySubscriptionRequest, 793)
  RequestHeader request_header;
  uint32_t subscription_id = 0;
  double requested_publishing_interval = 1000;
  uint32_t requested_lifetime_count = 60;
  uint32_t requested_max_keep_alive_count = 10;
  uint32_t max_notifications_per_publish = 0;
  uint8_t priority = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("subscriptionId", s.subscription_id);
    v("requestedPublishingInterval", s.requested_publishing_interval);
    v("requestedLifetimeCount", s.requested_lifetime_count);
    v("requestedMaxKeepAliveCount", s.requested_max_keep_alive_count);
    v("maxNotificationsPerPublish", s.max_notifications_per_publish);
    v("priority", s.priority);
  }
};

struct ModifySubscriptionResponse {
  TANDEM_OPCUA_MESSAGE(ModifySubscriptionResponse, 796)
  ResponseHeader response_header;
  double revised_publishing_interval = 0;
  uint32_t revised_lifetime_count = 0;
  uint32_t revised_max_keep_alive_count = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("revisedPublishingInterval", s.revised_publishing_interval);
    v("revisedLifetimeCount", s.revised_lifetime_count);
    v("revisedMaxKeepAliveCount", s.revised_max_keep_alive_count);
  }
};

struct SetPublishingModeRequest {
  TANDEM_OPCUA_MESSAGE(SetPublishingModeRequest, 799)
  RequestHeader request_header;
  bool publishing_enabled = true;
  Array<uint32_t> subscription_ids;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("publishingEnabled", s.publishing_enabled);
    v("subscriptionIds", s.subscription_ids);
  }
};

struct SetPublishingModeResponse {
  TANDEM_OPCUA_MESSAGE(SetPublishingModeResponse, 802)
  ResponseHeader response_header;
  Array<StatusCode> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct PublishRequest {
  TANDEM_OPCUA_MESSAGE(PublishRequest, 826)
  RequestHeader request_header;
  Array<SubscriptionAcknowledgement> subscription_acknowledgements;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("subscriptionAcknowledgements", s.subscription_acknowledgements);
  }
};

struct PublishResponse {
  TANDEM_OPCUA_MESSAGE(PublishResponse, 829)
  ResponseHeader response_header;
  uint32_t subscription_id = 0;
  Array<uint32_t> available_sequence_numbers;
  bool more_notifications = false;
  NotificationMessage notification_message;
  Array<StatusCode> results; ///< one per acknowledgement
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("subscriptionId", s.subscription_id);
    v("availableSequenceNumbers", s.available_sequence_numbers);
    v("moreNotifications", s.more_notifications);
    v("notificationMessage", s.notification_message);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct RepublishRequest {
  TANDEM_OPCUA_MESSAGE(RepublishRequest, 832)
  RequestHeader request_header;
  uint32_t subscription_id = 0;
  uint32_t retransmit_sequence_number = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("subscriptionId", s.subscription_id);
    v("retransmitSequenceNumber", s.retransmit_sequence_number);
  }
};

struct RepublishResponse {
  TANDEM_OPCUA_MESSAGE(RepublishResponse, 835)
  ResponseHeader response_header;
  NotificationMessage notification_message;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("notificationMessage", s.notification_message);
  }
};

struct TransferSubscriptionsRequest {
  TANDEM_OPCUA_MESSAGE(TransferSubscriptionsRequest, 841)
  RequestHeader request_header;
  Array<uint32_t> subscription_ids;
  bool send_initial_values = true;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("subscriptionIds", s.subscription_ids);
    v("sendInitialValues", s.send_initial_values);
  }
};

struct TransferSubscriptionsResponse {
  TANDEM_OPCUA_MESSAGE(TransferSubscriptionsResponse, 844)
  ResponseHeader response_header;
  Array<TransferResult> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

struct DeleteSubscriptionsRequest {
  TANDEM_OPCUA_MESSAGE(DeleteSubscriptionsRequest, 847)
  RequestHeader request_header;
  Array<uint32_t> subscription_ids;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("requestHeader", s.request_header);
    v("subscriptionIds", s.subscription_ids);
  }
};

struct DeleteSubscriptionsResponse {
  TANDEM_OPCUA_MESSAGE(DeleteSubscriptionsResponse, 850)
  ResponseHeader response_header;
  Array<StatusCode> results;
  Array<DiagnosticInfo> diagnostic_infos;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("responseHeader", s.response_header);
    v("results", s.results);
    v("diagnosticInfos", s.diagnostic_infos);
  }
};

#undef TANDEM_OPCUA_MESSAGE

// -- codecs --------------------------------------------------------------------------------------

/// Every structure with a codec (defined once in services.cpp).
#define TANDEM_OPCUA_STRUCTURES(X)                                                                 \
  X(RequestHeader)                                                                                 \
  X(ResponseHeader)                                                                                \
  X(ChannelSecurityToken)                                                                          \
  X(ApplicationDescription)                                                                        \
  X(UserTokenPolicy)                                                                               \
  X(EndpointDescription)                                                                           \
  X(SignatureData)                                                                                 \
  X(SignedSoftwareCertificate)                                                                     \
  X(AnonymousIdentityToken)                                                                        \
  X(UserNameIdentityToken)                                                                         \
  X(X509IdentityToken)                                                                             \
  X(IssuedIdentityToken)                                                                           \
  X(ReadValueId)                                                                                   \
  X(WriteValue)                                                                                    \
  X(ViewDescription)                                                                               \
  X(BrowseDescription)                                                                             \
  X(ReferenceDescription)                                                                          \
  X(BrowseResult)                                                                                  \
  X(RelativePathElement)                                                                           \
  X(RelativePath)                                                                                  \
  X(BrowsePath)                                                                                    \
  X(BrowsePathTarget)                                                                              \
  X(BrowsePathResult)                                                                              \
  X(CallMethodRequest)                                                                             \
  X(CallMethodResult)                                                                              \
  X(DataChangeFilter)                                                                              \
  X(MonitoringParameters)                                                                          \
  X(MonitoredItemCreateRequest)                                                                    \
  X(MonitoredItemCreateResult)                                                                     \
  X(MonitoredItemModifyRequest)                                                                    \
  X(MonitoredItemModifyResult)                                                                     \
  X(SubscriptionAcknowledgement)                                                                   \
  X(NotificationMessage)                                                                           \
  X(MonitoredItemNotification)                                                                     \
  X(DataChangeNotification)                                                                        \
  X(StatusChangeNotification)                                                                      \
  X(EventFieldList)                                                                                \
  X(EventNotificationList)                                                                         \
  X(TransferResult)                                                                                \
  X(BuildInfo)                                                                                     \
  X(ServerStatusDataType)                                                                          \
  X(RedundantServerDataType)                                                                       \
  TANDEM_OPCUA_REQUESTS(X)                                                                         \
  TANDEM_OPCUA_RESPONSES(X)

/// Requests the server-side dispatcher knows.
#define TANDEM_OPCUA_REQUESTS(X)                                                                   \
  X(OpenSecureChannelRequest)                                                                      \
  X(CloseSecureChannelRequest)                                                                     \
  X(FindServersRequest)                                                                            \
  X(GetEndpointsRequest)                                                                           \
  X(CreateSessionRequest)                                                                          \
  X(ActivateSessionRequest)                                                                        \
  X(CloseSessionRequest)                                                                           \
  X(CancelRequest)                                                                                 \
  X(ReadRequest)                                                                                   \
  X(WriteRequest)                                                                                  \
  X(BrowseRequest)                                                                                 \
  X(BrowseNextRequest)                                                                             \
  X(TranslateBrowsePathsToNodeIdsRequest)                                                          \
  X(RegisterNodesRequest)                                                                          \
  X(UnregisterNodesRequest)                                                                        \
  X(CallRequest)                                                                                   \
  X(CreateMonitoredItemsRequest)                                                                   \
  X(ModifyMonitoredItemsRequest)                                                                   \
  X(SetMonitoringModeRequest)                                                                      \
  X(DeleteMonitoredItemsRequest)                                                                   \
  X(CreateSubscriptionRequest)                                                                     \
  X(ModifySubscriptionRequest)                                                                     \
  X(SetPublishingModeRequest)                                                                      \
  X(PublishRequest)                                                                                \
  X(RepublishRequest)                                                                              \
  X(TransferSubscriptionsRequest)                                                                  \
  X(DeleteSubscriptionsRequest)

/// Responses the client-side dispatcher knows (ServiceFault first).
#define TANDEM_OPCUA_RESPONSES(X)                                                                  \
  X(ServiceFault)                                                                                  \
  X(OpenSecureChannelResponse)                                                                     \
  X(CloseSecureChannelResponse)                                                                    \
  X(FindServersResponse)                                                                           \
  X(GetEndpointsResponse)                                                                          \
  X(CreateSessionResponse)                                                                         \
  X(ActivateSessionResponse)                                                                       \
  X(CloseSessionResponse)                                                                          \
  X(CancelResponse)                                                                                \
  X(ReadResponse)                                                                                  \
  X(WriteResponse)                                                                                 \
  X(BrowseResponse)                                                                                \
  X(BrowseNextResponse)                                                                            \
  X(TranslateBrowsePathsToNodeIdsResponse)                                                         \
  X(RegisterNodesResponse)                                                                         \
  X(UnregisterNodesResponse)                                                                       \
  X(CallResponse)                                                                                  \
  X(CreateMonitoredItemsResponse)                                                                  \
  X(ModifyMonitoredItemsResponse)                                                                  \
  X(SetMonitoringModeResponse)                                                                     \
  X(DeleteMonitoredItemsResponse)                                                                  \
  X(CreateSubscriptionResponse)                                                                    \
  X(ModifySubscriptionResponse)                                                                    \
  X(SetPublishingModeResponse)                                                                     \
  X(PublishResponse)                                                                               \
  X(RepublishResponse)                                                                             \
  X(TransferSubscriptionsResponse)                                                                 \
  X(DeleteSubscriptionsResponse)

#define TANDEM_OPCUA_DECLARE_CODEC(T)                                                              \
  void decode(reader& r, T& v);                                                                    \
  void encode(writer& w, const T& v);
TANDEM_OPCUA_STRUCTURES(TANDEM_OPCUA_DECLARE_CODEC)
#undef TANDEM_OPCUA_DECLARE_CODEC

/// Structures compare equal when their encodings are equal (convenient in tests; not fast).
template <class T, std::enable_if_t<is_structure<T>::value, int> = 0>
bool operator==(const T& a, const T& b) {
  auto ea = encode_to_vector(a);
  auto eb = encode_to_vector(b);
  return ea.ok() && eb.ok() && *ea == *eb;
}
template <class T, std::enable_if_t<is_structure<T>::value, int> = 0>
bool operator!=(const T& a, const T& b) {
  return !(a == b);
}

// -- dispatch ------------------------------------------------------------------------------------

#define TANDEM_OPCUA_COMMA_LIST(T) , T
namespace detail {
struct dummy_first {};
template <class... Ts> struct drop_first;
template <class... Ts> struct drop_first<dummy_first, Ts...> { using type = std::variant<Ts...>; };
} // namespace detail

/// Any request a server may receive.
using Request =
    detail::drop_first<detail::dummy_first TANDEM_OPCUA_REQUESTS(TANDEM_OPCUA_COMMA_LIST)>::type;
/// Any response a client may receive (ServiceFault included).
using Response =
    detail::drop_first<detail::dummy_first TANDEM_OPCUA_RESPONSES(TANDEM_OPCUA_COMMA_LIST)>::type;
#undef TANDEM_OPCUA_COMMA_LIST

/// Appends a message body: its TypeId (FourByte form) then its fields.
template <class T> result<void> encode_message(const T& msg, std::vector<uint8_t>& out) {
  size_t start = out.size();
  writer w(out);
  encode(w, NodeId(T::binary_encoding_id));
  encode(w, msg);
  if (!w.ok()) {
    out.resize(start);
    return w.error(T::type_name);
  }
  return {};
}
result<void> encode_request(const Request& msg, std::vector<uint8_t>& out);
result<void> encode_response(const Response& msg, std::vector<uint8_t>& out);

/// Reads a message body's TypeId (must be ns=0 numeric).
result<uint32_t> peek_type_id(byte_span body);
/// Reads TypeId + RequestHeader only: lets a server answer a request it cannot decode (e.g. with
/// ServiceFault BadServiceUnsupported and the right requestHandle).
result<RequestHeader> peek_request_header(byte_span body, const decode_limits& limits = {});

/// Decodes a request body (TypeId + fields, to its last byte). Unknown TypeIds give
/// BadServiceUnsupported; malformed bodies BadDecodingError with the field path. `base_offset` is
/// added to reported offsets (24 for a MSG body in its chunk).
result<Request> decode_request(byte_span body, const decode_limits& limits = {},
                               size_t base_offset = 0);
/// Decodes a response body; unknown TypeIds give BadUnknownResponse.
result<Response> decode_response(byte_span body, const decode_limits& limits = {},
                                 size_t base_offset = 0);

namespace detail {
/// Reads a message TypeId (an ExpandedNodeId that must be ns=0 numeric and local).
bool read_message_type_id(reader& r, uint32_t& id);
template <class T> struct type_tag { using type = T; };
} // namespace detail

/// Decodes one specific message type (TypeId must match, body consumed to its last byte).
template <class T>
result<T> decode_message(byte_span body, const decode_limits& limits = {}, size_t base_offset = 0) {
  reader r(body, limits, base_offset);
  uint32_t id = 0;
  if (!detail::read_message_type_id(r, id)) return r.error("TypeId");
  if (id != T::binary_encoding_id)
    return error{status::BadDecodingError, std::string("expected ") + T::type_name +
                                               " (i=" + std::to_string(T::binary_encoding_id) +
                                               "), got TypeId i=" + std::to_string(id)};
  T msg;
  decode(r, msg);
  if (r.ok() && !r.at_end())
    r.fail(std::to_string(r.remaining()) + " trailing bytes after the message");
  if (!r.ok()) return r.error(T::type_name);
  return std::move(msg);
}

const RequestHeader& request_header(const Request& r);
RequestHeader& request_header(Request& r);
const ResponseHeader& response_header(const Response& r);
ResponseHeader& response_header(Response& r);
uint32_t binary_encoding_id(const Request& r);
uint32_t binary_encoding_id(const Response& r);
/// "ReadRequest" for 631, ... ; nullptr when unknown.
const char* message_type_name(uint32_t binary_encoding_id);
/// The response TypeId that answers a request TypeId (631 -> 634); 0 when unknown.
uint32_t response_type_for(uint32_t request_type_id);

/// A ServiceFault answering `request` with `result` (requestHandle echoed, timestamp set).
ServiceFault make_service_fault(const RequestHeader& request, StatusCode result,
                                DateTime now = DateTime::now());

// -- ExtensionObject bodies ----------------------------------------------------------------------

/// Wraps a structure with a binary encoding id into an ExtensionObject (Binary body).
template <class T> result<ExtensionObject> make_extension_object(const T& v) {
  ExtensionObject eo;
  eo.type_id = NodeId(T::binary_encoding_id);
  eo.encoding = ExtensionObjectEncoding::Binary;
  writer w(eo.body.mutable_bytes());
  encode(w, v);
  if (!w.ok()) return w.error(T::type_name);
  return std::move(eo);
}

/// Decodes an ExtensionObject body as T (TypeId must be T's, body binary and fully consumed).
template <class T>
result<T> decode_extension_object(const ExtensionObject& eo, const decode_limits& limits = {}) {
  if (!eo.type_id.is(T::binary_encoding_id))
    return error{status::BadDecodingError, std::string("ExtensionObject TypeId ") +
                                               eo.type_id.to_string() + " is not " + T::type_name};
  if (eo.encoding != ExtensionObjectEncoding::Binary)
    return error{status::BadDecodingError,
                 std::string("ExtensionObject for ") + T::type_name + " has no binary body"};
  return decode_exact<T>(eo.body.span(), limits, T::type_name);
}

/// Decodes an ExtensionObject as the first of Ts whose TypeId matches; BadDecodingError with
/// the TypeId when none does.
template <class... Ts>
result<std::variant<Ts...>> decode_extension_object_as(const ExtensionObject& eo,
                                                       const decode_limits& limits = {}) {
  std::optional<result<std::variant<Ts...>>> out;
  auto try_one = [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (out || !eo.type_id.is(T::binary_encoding_id)) return;
    auto r = decode_extension_object<T>(eo, limits);
    if (r)
      out.emplace(std::variant<Ts...>(std::in_place_type<T>, std::move(*r)));
    else
      out.emplace(r.error());
  };
  (try_one(detail::type_tag<Ts>{}), ...);
  if (out) return std::move(*out);
  return error{status::BadDecodingError,
               "unexpected ExtensionObject TypeId " + eo.type_id.to_string()};
}

using Notification =
    std::variant<DataChangeNotification, StatusChangeNotification, EventNotificationList>;
/// One NotificationMessage.notificationData entry.
inline result<Notification> decode_notification(const ExtensionObject& eo,
                                                const decode_limits& limits = {}) {
  return decode_extension_object_as<DataChangeNotification, StatusChangeNotification,
                                    EventNotificationList>(eo, limits);
}

using IdentityToken = std::variant<std::monostate, AnonymousIdentityToken, UserNameIdentityToken,
                                   X509IdentityToken, IssuedIdentityToken>;
/// ActivateSessionRequest.userIdentityToken; a null ExtensionObject counts as anonymous
/// (monostate).
result<IdentityToken> decode_identity_token(const ExtensionObject& eo,
                                            const decode_limits& limits = {});

} // namespace tandem::opcua
