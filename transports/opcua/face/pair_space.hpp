#pragma once
/// What OPC UA clients see of a redundant pair at opc.tcp://host:port/<alias>: an address space
/// for the server face that is a proxy of the pair's active server.
///
///  * Read, Write, Browse, BrowseNext, TranslateBrowsePathsToNodeIds, RegisterNodes,
///    UnregisterNodes and Call are forwarded to the active server's session (`forward`); with
///    no active server they get BadNoCommunication. A Read mixing the pair's own nodes
///    (ServiceLevel, RedundancySupport) with others is split and merged.
///  * Subscriptions live in the face: a client's monitored item watches a pair item; the first
///    watch of a node asks the PAIR (the item listener) to monitor it upstream, and the PAIR
///    delivers the active server's changes (`deliver`), so a failover changes where values come
///    from, never the client's subscription, sequence numbers or session.
///  * ServiceLevel (i=2267) and RedundancySupport (i=3709) are the pair's, not the server's.
///  * NamespaceArray (i=2255) is the pair's too: the servers' namespace URIs in the order first
///    seen, never reordered, so a failover to a server that orders them differently changes no
///    index a client holds; requests and responses are translated (`namespace_map`), and items
///    are asked for upstream by namespace URI ("nsu=...") from index 2 on.
///  * Objects/Tandem, in the pair's own namespace ("urn:tandem:pair", appended once the first
///    server's namespaces are known), holds variables a SCADA can alarm on: Mode,
///    ActiveServer, PrimaryState, SecondaryState, FailoverCount, LastFailoverTime,
///    LastFailoverFrom, LastFailoverTo, LastFailoverCause. They are answered here (Read,
///    Browse, subscriptions) and set by the PAIR (`set_pair_info`).
///
/// Threading: the face calls it from its connection strands, the PAIR actor from its own
/// thread; one mutex guards it, and watch sinks run under it (they only queue).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/server.hpp"
#include "transports/opcua/client/link.hpp"
#include "transports/opcua/face/namespaces.hpp"
#include "transports/opcua/server/address_space.hpp"

namespace tandem::opcua {

/// What a pair's Tandem folder shows, in the words of CONSOLE.md.
struct pair_info {
  std::string mode;            ///< cold | warm | hot
  std::string active = "none"; ///< primary | secondary | none
  std::string primary_state = "idle";
  std::string secondary_state = "idle";
  uint32_t failovers = 0;
  int64_t last_failover_ms = 0; ///< Unix ms; 0: none yet
  std::string last_failover_from, last_failover_to, last_failover_cause;
};

struct pair_space_options {
  std::string alias;
  std::string application_uri = "urn:tandem"; ///< the node's, for ServerArray
  bool anonymous = true;
  /// Checks a user name and plain password (empty: no user-name logins).
  std::function<bool(const std::string&, const std::string&)> user_check;
};

class pair_space : public address_space {
public:
  /// An item clients want: the handle the PAIR uses upstream and the NodeId text.
  struct wanted_item {
    uint32_t handle = 0;
    std::string node_id;
  };
  using item_listener = std::function<void(std::vector<wanted_item>)>;
  /// Told NodeId texts (as the item listener's) of items this node's clients begin to watch.
  using client_listener = std::function<void(std::vector<std::string>)>;

  explicit pair_space(pair_space_options opts);

  // -- wiring ------------------------------------------------------------------------------------
  /// The forwarder of server 0 (primary) or 1 (secondary).
  void set_forwarder(int server, std::shared_ptr<request_forwarder> f);
  std::shared_ptr<request_forwarder> forwarder(int server) const;
  /// Where new items go (the PAIR); called at once with the items wanted so far.
  void set_item_listener(item_listener l);
  /// Where items go that this node's clients begin to watch: watched by none of them before, or
  /// not for unused_item_linger_ms (the PAIR tells the partner node). Called at once with the
  /// items this node's clients watch so far.
  void set_client_listener(client_listener l);

  // -- from the PAIR -----------------------------------------------------------------------------
  /// The server requests go to: 0, 1, or -1 (none: BadNoCommunication).
  void set_active(int server);
  int active() const;
  void set_service_level(uint8_t level);
  /// The node's redundancy as OPC UA clients see it: RedundancySupport (Transparent for an
  /// independent node: the pair is one server) and, for a master or backup, ServerUriArray
  /// (i=11314: the ApplicationUris of the two nodes' faces).
  void set_redundancy(RedundancySupport support, std::vector<std::string> server_uris);
  /// The Tandem folder's values (changed ones are reported to subscribed clients).
  void set_pair_info(const pair_info& info);
  /// The namespace URI of the Tandem folder's nodes.
  static constexpr const char* tandem_uri = "urn:tandem:pair";
  /// Changes of the active server's items, in order. Updates with an empty value carry only a
  /// status (an item the server refused, for instance).
  void deliver(const std::vector<item_update>& updates);
  /// Every item's value becomes bad with `sc` (no server left), keeping its last value.
  void set_all_bad(StatusCode sc);
  /// The handles of every item clients asked for.
  std::vector<wanted_item> items() const;
  /// NodeId texts of the items this node's clients watch, or watched within the linger (those
  /// the partner node is told of).
  std::vector<std::string> client_items() const;
  /// NodeId texts of the items watched for the partner node (`prewatch`).
  std::vector<std::string> partner_items() const;
  /// Items the partner node's clients watch, as NodeId text like the item listener's: they
  /// become items of this face with no client yet, monitored through the PAIR like any other, so
  /// clients that move here after a takeover find them subscribed and with a value. A text whose
  /// namespace URI neither server has shown yet waits until one does (at most
  /// `max_prewatch_pending`). Answers how many texts were refused (not a NodeId, or another
  /// server's).
  size_t prewatch(const std::vector<std::string>& node_ids);
  /// Texts waiting for their namespace URI.
  size_t prewatch_pending() const;
  /// The partner node's clients no longer watch these (NodeId text as for `prewatch`): the
  /// items stop being watched for the partner. An item a client here watches stays; one no
  /// client here watches is swept like any other (`collect_unwatched`, after the full linger).
  /// Answers how many items (or pending texts) were watched for the partner.
  size_t unprewatch(const std::vector<std::string>& node_ids);
  /// Called by the PAIR on a timer: counts one more sweep for every item no client watches, and
  /// when an item has been unwatched for `sweeps` sweeps in a row: it stops being this node's
  /// clients' (its text goes to `ended`, for the partner), and unless it is watched for the
  /// partner it is forgotten and its handle answered (the PAIR deletes it upstream). A client
  /// that watches the node later gets a new item. An item only the partner watches is never
  /// counted.
  std::vector<uint32_t> collect_unwatched(uint32_t sweeps,
                                          std::vector<std::string>* ended = nullptr);
  static constexpr size_t max_prewatch_pending = 100000;

  // -- address_space ---------------------------------------------------------------------------
  DataValue read(const NodeId& node, uint32_t attribute) override;
  StatusCode write(const NodeId& node, uint32_t attribute, const DataValue& value) override;
  result<std::vector<ReferenceDescription>> browse(const NodeId& node, BrowseDirection direction,
                                                   const NodeId& reference_type,
                                                   bool include_subtypes) override;
  Array<String> namespace_array() override;
  uint64_t watch(const NodeId& node, uint32_t attribute, change_sink sink) override;
  void unwatch(uint64_t token) override;
  bool forwards() const override { return true; }
  bool spreads_bursts() const override { return true; }
  void forward(Request req, std::function<void(Response)> done) override;
  bool allows_user_names() const override;
  bool allows_anonymous() const override { return opts_.anonymous; }
  StatusCode check_user(const std::string& user, const std::string& password) override;

private:
  struct item {
    uint32_t handle = 0;
    NodeId node;
    DataValue last; ///< BadWaitingForInitialData until the first value
    std::vector<std::pair<uint64_t, change_sink>> sinks;
    bool partner = false; ///< the partner node's clients watch it (kept)
    /// This node's clients watch it, or did within the linger (the partner was told).
    bool local = false;
    uint32_t idle_sweeps = 0; ///< sweeps in a row that found no client watching it
  };
  /// The pair's own value of a node, if it is one of the pair's own nodes. Lock held.
  std::optional<DataValue> own_value(const NodeId& node) const;
  /// Learns the servers' namespace arrays from their forwarders (cheap when unchanged) and
  /// rebuilds the maps when one changed. Lock held.
  void refresh_namespaces();
  /// An item's NodeId text for the servers (by URI from index 2 on). Lock held.
  std::string upstream_text(const NodeId& node) const;
  /// Whether a node is one of the Tandem folder's. Lock held.
  bool is_tandem(const NodeId& node) const {
    return tandem_ns_ != 0 && node.namespace_index == tandem_ns_;
  }
  /// The Tandem folder's node in `local_` (namespace 2 there). Lock held.
  NodeId local_id(NodeId node) const {
    node.namespace_index = 2;
    return node;
  }
  /// Answers a Browse of the Tandem folder's nodes and adds the folder to Objects. Lock not held.
  void answer_browse(BrowseRequest req, std::shared_ptr<request_forwarder> target,
                     namespace_map map, std::function<void(Response)> done);
  /// Sends a request to the active server, translating namespace indexes both ways.
  static void send_upstream(Request req, std::shared_ptr<request_forwarder> target,
                            namespace_map map, std::function<void(Response)> done);
  void store(item& it, DataValue dv);
  /// The item of a node, created (and added to `fresh` for the listener) if new. Lock held.
  item& item_of(const NodeId& node, std::vector<wanted_item>& fresh);
  /// Creates the items of pending prewatch texts whose namespace is known now. Lock held.
  void resolve_prewatch(std::vector<wanted_item>& fresh);

  pair_space_options opts_;
  mutable std::mutex mutex_;
  std::array<std::shared_ptr<request_forwarder>, 2> forwarders_;
  int active_ = -1;
  std::vector<std::string> face_ns_; ///< the pair's NamespaceArray
  std::array<std::shared_ptr<const std::vector<std::string>>, 2> server_ns_;
  std::array<namespace_map, 2> maps_;
  uint16_t tandem_ns_ = 0; ///< the Tandem namespace's index in face_ns_; 0 until known
  /// The Tandem folder's nodes, kept in namespace 2 of a small address space of their own.
  std::shared_ptr<memory_address_space> local_;
  namespace_map local_map_; ///< face <-> local_
  pair_info info_;
  uint8_t service_level_ = 1;
  RedundancySupport redundancy_ = RedundancySupport::Transparent;
  std::vector<std::string> server_uris_;
  item_listener listener_;
  client_listener client_listener_;
  uint32_t next_handle_ = 1;
  std::unordered_map<NodeId, item> items_; ///< by node
  /// handle -> its item in items_ (whose elements never move), so `deliver` finds an item
  /// without hashing its NodeId.
  std::unordered_map<uint32_t, item*> by_handle_;
  std::unordered_map<uint64_t, NodeId> watches_; ///< token -> node
  uint64_t next_watch_ = 1;
  /// The partner's items whose namespace URI is not known yet, parsed.
  std::vector<ExpandedNodeId> prewatch_pending_;
  uint64_t ns_version_ = 0; ///< counts changes of face_ns_
  /// The ns_version_ the pending items were last resolved against: set_active tries them again
  /// only when the namespaces changed since.
  uint64_t prewatch_tried_ = 0;
};

} // namespace tandem::opcua
