#pragma once
/// Namespace indexes between a pair's face and one of its servers.
///
/// The face has one NamespaceArray for the pair, kept stable across failovers: the URIs of the
/// servers in the order first seen, only ever appended to. Each server has its own array, whose
/// order may differ. A `namespace_map` translates every namespace index in a request going to a
/// server (face -> server) and in its response (server -> face): NodeIds, ExpandedNodeIds
/// without a URI, QualifiedNames, and the same inside Variants and DataValues. Index 0 (OPC UA)
/// and index 1 (each server's own local namespace, whose URI differs between two servers by
/// design) map to themselves; from 2 on, by URI. A face index the server does not have maps to
/// `missing` (65535), which the server answers with BadNodeIdUnknown.
///
/// Not translated: the bodies of ExtensionObjects (structures stay as the server encoded them).

#include <cstdint>
#include <string>
#include <vector>

#include "transports/opcua/services.hpp"

namespace tandem::opcua {

class namespace_map {
public:
  static constexpr uint16_t missing = 0xFFFF;

  /// The identity (both arrays equal, or not known yet).
  namespace_map() = default;
  namespace_map(const std::vector<std::string>& face, const std::vector<std::string>& server);

  bool identity() const { return identity_; }
  uint16_t to_server(uint16_t face_index) const;
  uint16_t to_face(uint16_t server_index) const;

  /// Every namespace index in a request, face -> server; in a response or value, server -> face.
  void to_server(Request& req) const;
  void to_face(Response& resp) const;
  void to_face(DataValue& dv) const;

private:
  bool identity_ = true;
  std::vector<uint16_t> to_server_, to_face_;
};

/// Appends to `face` the URIs of `server` it lacks (from index 2 on); true if it grew.
bool learn_namespaces(std::vector<std::string>& face, const std::vector<std::string>& server);

} // namespace tandem::opcua
