#pragma once
/// `verify ALIAS`: a pair only works when its two servers have the same address space. This
/// walks each server's tree below Objects (hierarchical references, the servers' own
/// namespaces; ns=0 is the standard's and differs legitimately between products) through a
/// request_forwarder, reads every variable's DataType, then lists what differs: namespaces only
/// one server has, nodes only on one side, nodes whose class, browse name or DataType differ.
/// Nodes are matched by namespace URI and identifier (index 1, each server's own namespace, by
/// index), so servers whose namespace arrays differ only in order still match node for node:
/// the face translates the indexes.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "transports/opcua/client/link.hpp"

namespace tandem::opcua {

struct space_digest {
  std::vector<std::string> namespaces;
  /// "namespace-uri|identifier" -> "NodeClass BrowseName [DataType]"
  std::map<std::string, std::string> nodes;
  /// NodeId text as the server writes it, by the same key (for messages).
  std::map<std::string, std::string> ids;
  std::string error; ///< non-empty when the walk failed
  bool truncated = false;
};

/// Walks one server; `done` is called once, from the forwarder's thread.
void walk_space(std::shared_ptr<request_forwarder> f, size_t max_nodes,
                std::function<void(space_digest)> done);

/// What differs between the primary's and the secondary's digests, for people; empty when
/// identical. At most `max_differences` lines (the last one says how many more there are).
std::vector<std::string> compare_spaces(const space_digest& primary, const space_digest& secondary,
                                        size_t max_differences = 100);

} // namespace tandem::opcua
