#pragma once
/// OPC UA StatusCode (OPC 10000-4 §7.39, FACTS.md §2.5 and §5): a U32 whose top 16 bits name the
/// code.

#include <cstdint>
#include <string>

namespace tandem::opcua {

/// A StatusCode value. The high 16 bits identify the code; the low bits carry info flags.
struct StatusCode {
  uint32_t value = 0;

  constexpr StatusCode() = default;
  constexpr StatusCode(uint32_t v) : value(v) {} // NOLINT: implicit on purpose (wire value)

  /// The code without the info bits (`value & 0xFFFF0000`); compare codes with this.
  constexpr uint32_t code() const { return value & 0xFFFF0000u; }
  constexpr uint32_t severity() const { return value >> 30; }
  constexpr bool is_good() const { return severity() == 0; }
  constexpr bool is_uncertain() const { return severity() == 1; }
  constexpr bool is_bad() const { return severity() >= 2; }
  /// True when both carry the same code, ignoring info bits.
  constexpr bool same_code(StatusCode o) const { return code() == o.code(); }
  constexpr bool structure_changed() const { return (value & 0x8000u) != 0; }
  constexpr bool semantics_changed() const { return (value & 0x4000u) != 0; }

  friend constexpr bool operator==(StatusCode a, StatusCode b) { return a.value == b.value; }
  friend constexpr bool operator!=(StatusCode a, StatusCode b) { return a.value != b.value; }
};

/// X-macro over every named code this codec knows (FACTS.md §5 plus a few the codec itself uses).
#define TANDEM_OPCUA_STATUS_CODES(X)                                                               \
  X(Good, 0x00000000)                                                                              \
  X(GoodSubscriptionTransferred, 0x002D0000)                                                       \
  X(Uncertain, 0x40000000)                                                                         \
  X(UncertainNoCommunicationLastUsableValue, 0x408F0000)                                           \
  X(UncertainLastUsableValue, 0x40900000)                                                          \
  X(Bad, 0x80000000)                                                                               \
  X(BadUnexpectedError, 0x80010000)                                                                \
  X(BadInternalError, 0x80020000)                                                                  \
  X(BadOutOfMemory, 0x80030000)                                                                    \
  X(BadCommunicationError, 0x80050000)                                                             \
  X(BadEncodingError, 0x80060000)                                                                  \
  X(BadDecodingError, 0x80070000)                                                                  \
  X(BadEncodingLimitsExceeded, 0x80080000)                                                         \
  X(BadRequestTooLarge, 0x80B80000)                                                                \
  X(BadResponseTooLarge, 0x80B90000)                                                               \
  X(BadUnknownResponse, 0x80090000)                                                                \
  X(BadTimeout, 0x800A0000)                                                                        \
  X(BadServiceUnsupported, 0x800B0000)                                                             \
  X(BadShutdown, 0x800C0000)                                                                       \
  X(BadServerNotConnected, 0x800D0000)                                                             \
  X(BadServerHalted, 0x800E0000)                                                                   \
  X(BadNothingToDo, 0x800F0000)                                                                    \
  X(BadTooManyOperations, 0x80100000)                                                              \
  X(BadSecurityChecksFailed, 0x80130000)                                                           \
  X(BadUserAccessDenied, 0x801F0000)                                                               \
  X(BadIdentityTokenInvalid, 0x80200000)                                                           \
  X(BadIdentityTokenRejected, 0x80210000)                                                          \
  X(BadSecureChannelIdInvalid, 0x80220000)                                                         \
  X(BadInvalidTimestamp, 0x80230000)                                                               \
  X(BadNonceInvalid, 0x80240000)                                                                   \
  X(BadSessionIdInvalid, 0x80250000)                                                               \
  X(BadSessionClosed, 0x80260000)                                                                  \
  X(BadSessionNotActivated, 0x80270000)                                                            \
  X(BadSubscriptionIdInvalid, 0x80280000)                                                          \
  X(BadRequestHeaderInvalid, 0x802A0000)                                                           \
  X(BadTimestampsToReturnInvalid, 0x802B0000)                                                      \
  X(BadRequestCancelledByClient, 0x802C0000)                                                       \
  X(BadNoCommunication, 0x80310000)                                                                \
  X(BadWaitingForInitialData, 0x80320000)                                                          \
  X(BadConfigurationError, 0x80890000)                                                             \
  X(BadDeviceFailure, 0x808B0000)                                                                  \
  X(BadSensorFailure, 0x808C0000)                                                                  \
  X(BadOutOfService, 0x808D0000)                                                                   \
  X(BadNodeIdInvalid, 0x80330000)                                                                  \
  X(BadNodeIdUnknown, 0x80340000)                                                                  \
  X(BadAttributeIdInvalid, 0x80350000)                                                             \
  X(BadIndexRangeInvalid, 0x80360000)                                                              \
  X(BadIndexRangeNoData, 0x80370000)                                                               \
  X(BadDataEncodingInvalid, 0x80380000)                                                            \
  X(BadDataEncodingUnsupported, 0x80390000)                                                        \
  X(BadNotReadable, 0x803A0000)                                                                    \
  X(BadNotWritable, 0x803B0000)                                                                    \
  X(BadOutOfRange, 0x803C0000)                                                                     \
  X(BadNotSupported, 0x803D0000)                                                                   \
  X(BadNotFound, 0x803E0000)                                                                       \
  X(BadObjectDeleted, 0x803F0000)                                                                  \
  X(BadNotImplemented, 0x80400000)                                                                 \
  X(BadMonitoringModeInvalid, 0x80410000)                                                          \
  X(BadMonitoredItemIdInvalid, 0x80420000)                                                         \
  X(BadMonitoredItemFilterInvalid, 0x80430000)                                                     \
  X(BadMonitoredItemFilterUnsupported, 0x80440000)                                                 \
  X(BadFilterNotAllowed, 0x80450000)                                                               \
  X(BadContinuationPointInvalid, 0x804A0000)                                                       \
  X(BadNoContinuationPoints, 0x804B0000)                                                           \
  X(BadReferenceTypeIdInvalid, 0x804C0000)                                                         \
  X(BadBrowseDirectionInvalid, 0x804D0000)                                                         \
  X(BadNodeNotInView, 0x804E0000)                                                                  \
  X(BadSecurityPolicyRejected, 0x80550000)                                                         \
  X(BadTooManySessions, 0x80560000)                                                                \
  X(BadTypeMismatch, 0x80740000)                                                                   \
  X(BadMethodInvalid, 0x80750000)                                                                  \
  X(BadArgumentsMissing, 0x80760000)                                                               \
  X(BadTooManySubscriptions, 0x80770000)                                                           \
  X(BadTooManyPublishRequests, 0x80780000)                                                         \
  X(BadNoSubscription, 0x80790000)                                                                 \
  X(BadSequenceNumberUnknown, 0x807A0000)                                                          \
  X(BadMessageNotAvailable, 0x807B0000)                                                            \
  X(BadInsufficientClientProfile, 0x807C0000)                                                      \
  X(BadTcpServerTooBusy, 0x807D0000)                                                               \
  X(BadTcpMessageTypeInvalid, 0x807E0000)                                                          \
  X(BadTcpSecureChannelUnknown, 0x807F0000)                                                        \
  X(BadTcpMessageTooLarge, 0x80800000)                                                             \
  X(BadTcpNotEnoughResources, 0x80810000)                                                          \
  X(BadTcpInternalError, 0x80820000)                                                               \
  X(BadTcpEndpointUrlInvalid, 0x80830000)                                                          \
  X(BadRequestInterrupted, 0x80840000)                                                             \
  X(BadRequestTimeout, 0x80850000)                                                                 \
  X(BadSecureChannelClosed, 0x80860000)                                                            \
  X(BadSecureChannelTokenUnknown, 0x80870000)                                                      \
  X(BadSequenceNumberInvalid, 0x80880000)                                                          \
  X(BadProtocolVersionUnsupported, 0x80BE0000)                                                     \
  X(BadNotConnected, 0x808A0000)                                                                   \
  X(BadConnectionRejected, 0x80AC0000)                                                             \
  X(BadDisconnect, 0x80AD0000)                                                                     \
  X(BadConnectionClosed, 0x80AE0000)                                                               \
  X(BadInvalidState, 0x80AF0000)                                                                   \
  X(BadMaxConnectionsReached, 0x80B70000)                                                          \
  X(BadTooManyMonitoredItems, 0x80DB0000)

/// Named constants: `status::BadDecodingError`, `status::Good`, ...
namespace status {
#define TANDEM_OPCUA_DEFINE_STATUS(name, value) inline constexpr StatusCode name{value##u};
TANDEM_OPCUA_STATUS_CODES(TANDEM_OPCUA_DEFINE_STATUS)
#undef TANDEM_OPCUA_DEFINE_STATUS
} // namespace status

/// The symbolic name of `sc.code()` ("BadDecodingError"), or nullptr when the code is not in the
/// table.
const char* status_name(StatusCode sc);

/// "BadNodeIdUnknown (0x80340000)"; unknown codes print as "0x80990000".
std::string to_string(StatusCode sc);

/// Looks a code up by its symbolic name; returns false when unknown.
bool status_from_name(const std::string& name, StatusCode& out);

} // namespace tandem::opcua
