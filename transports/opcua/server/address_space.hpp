#pragma once
/// What the OPC UA server face serves: an `address_space` the host implements (read, write,
/// browse, the namespace array, user checks), and `memory_address_space`, a simple in-memory one
/// with folders, variables and the standard Server object subset of FACTS §4.3.
///
/// Threading: the server calls an address space from the strands of its connections, possibly
/// at once; implementations must be thread-safe (memory_address_space locks a mutex).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "transports/opcua/node_ids.hpp"
#include "transports/opcua/services.hpp"

namespace tandem::opcua {

/// BadNoMatch (not in the codec's table).
inline constexpr StatusCode status_bad_no_match{0x806F0000u};

/// True when reference type `type` is `base` or (transitively) one of its subtypes, for the
/// standard ns=0 reference type hierarchy (References, Hierarchical, NonHierarchical, HasChild,
/// Aggregates, Organizes, HasComponent, HasProperty, HasSubtype, HasTypeDefinition, ...).
bool is_reference_subtype(const NodeId& type, const NodeId& base);

/// True when a reference of type `type` passes a browse filter (`filter` null = all).
bool reference_matches(const NodeId& type, const NodeId& filter, bool include_subtypes);

/// The host's address space, as the server face sees it.
class address_space {
public:
  virtual ~address_space() = default;

  /// The value of one attribute (attribute_id::Value, ::BrowseName...). A failure is a DataValue
  /// with only a Bad status (BadNodeIdUnknown, BadAttributeIdInvalid, BadNotReadable). The server
  /// adds or strips timestamps as the request asks.
  virtual DataValue read(const NodeId& node, uint32_t attribute) = 0;
  /// Writes one attribute; Good, or BadNodeIdUnknown / BadNotWritable / BadTypeMismatch...
  virtual StatusCode write(const NodeId& node, uint32_t attribute, const DataValue& value) = 0;
  /// The references of `node` in `direction` whose type passes `reference_type` (null = all) and
  /// `include_subtypes`, with every ReferenceDescription field filled. BadNodeIdUnknown when the
  /// node does not exist.
  virtual result<std::vector<ReferenceDescription>> browse(const NodeId& node,
                                                           BrowseDirection direction,
                                                           const NodeId& reference_type,
                                                           bool include_subtypes) = 0;
  /// NamespaceArray: [0] http://opcfoundation.org/UA/, [1] the server's application URI, ...
  virtual Array<String> namespace_array() = 0;

  /// Receives each new value of a watched attribute, from whichever thread changed it and with
  /// the address space's lock held: it must be quick and must not call into the address space.
  using change_sink = std::function<void(const DataValue&)>;
  /// Reports every later change of `node`'s `attribute` to `sink` until unwatch(token), in the
  /// order the changes happen. 0 when this space cannot report changes of that attribute: the
  /// server then samples it once per publishing cycle.
  virtual uint64_t watch(const NodeId& node, uint32_t attribute, change_sink sink) {
    (void)node;
    (void)attribute;
    (void)sink;
    return 0;
  }
  /// Stops a watch; when it returns, its sink is not running and will not run again.
  virtual void unwatch(uint64_t token) { (void)token; }

  /// A proxy's address space: when true, the server hands it the attribute, view and method
  /// requests (Read, Write, Browse, BrowseNext, TranslateBrowsePathsToNodeIds, RegisterNodes,
  /// UnregisterNodes, Call) once it has checked the session, instead of calling read/write/
  /// browse. Subscriptions stay in the server and use watch() and read().
  virtual bool forwards() const { return false; }
  /// Answers a forwarded request: `done` is called exactly once, from any thread, with the
  /// response or a ServiceFault (the server sets the response's request handle and timestamp).
  virtual void forward(Request req, std::function<void(Response)> done);

  /// A proxy whose values arrive in bursts (an upstream publishing cycle, a failover's catch-up
  /// of values the client never saw): when true, the changes of a Reporting item that do not fit
  /// its full queue wait for the next publishing cycle while the client keeps publishing, instead
  /// of pushing out the oldest. A client that does not publish loses the oldest, as its discard
  /// policy says, and a queue of one always keeps only the newest.
  virtual bool spreads_bursts() const { return false; }

  /// Whether the endpoint offers a user-name token policy (policyId "username").
  virtual bool allows_user_names() const { return false; }
  /// Whether anonymous clients may activate sessions (the "anonymous" token policy).
  virtual bool allows_anonymous() const { return true; }
  /// Checks a user name and plain password: Good, or BadUserAccessDenied.
  virtual StatusCode check_user(const std::string& user, const std::string& password) {
    (void)user;
    (void)password;
    return status::BadUserAccessDenied;
  }
};

/// Options of an in-memory address space.
struct memory_address_space_options {
  std::string application_uri = "urn:tandem:server"; ///< namespace 1, ServerArray[0]
  std::string product_uri = "urn:tandem";
  std::string product_name = "Tandem";
  std::string software_version = "0.1";
  uint8_t service_level = 255;
  RedundancySupport redundancy_support = RedundancySupport::Transparent;
};

/// A thread-safe in-memory address space: Root/Objects/Types/Views, the Server object subset
/// (ServerArray, NamespaceArray, ServerStatus with StartTime/CurrentTime/State, ServiceLevel,
/// ServerRedundancy.RedundancySupport, OperationLimits), plus the folders and variables the host
/// adds. Values of variables the host adds are kept as written; CurrentTime and ServerStatus are
/// computed at read time.
class memory_address_space : public address_space {
public:
  explicit memory_address_space(memory_address_space_options opts = {});

  /// Adds a folder (FolderType) organized by `parent`. false when the id exists or the parent
  /// does not.
  bool add_folder(const NodeId& id, const NodeId& parent, const QualifiedName& browse_name,
                  const LocalizedText& display_name = {});
  /// Adds a variable (BaseDataVariableType) that `parent` organizes (Organizes for a folder,
  /// HasComponent for an object). Its DataType and ValueRank follow the initial value.
  bool add_variable(const NodeId& id, const NodeId& parent, const QualifiedName& browse_name,
                    Variant value, bool writable = false, const LocalizedText& display_name = {});
  /// Sets a variable's value (any variable, writable or not). false when it is not a variable.
  bool set_value(const NodeId& id, DataValue value);
  /// ServiceLevel (i=2267), RedundancySupport (i=3709), ServerStatus.State (i=2259).
  void set_service_level(uint8_t level);
  void set_redundancy_support(RedundancySupport support);
  void set_server_state(ServerState state);
  /// Enables the user-name policy with this checker (plain password); an empty function
  /// disables it.
  void set_user_check(std::function<bool(const std::string&, const std::string&)> check);
  /// Refuses anonymous clients when false (default true).
  void set_anonymous(bool allowed);

  /// A stable reference to a variable, for hosts that update many values often (valid while
  /// the space lives; nodes are never removed). Empty when `id` is not a variable.
  struct variable_ref {
    void* node = nullptr;
    explicit operator bool() const { return node != nullptr; }
  };
  variable_ref find_variable(const NodeId& id);
  /// Sets many variables' values under one lock (watchers are told of each, in order).
  void set_values(std::vector<std::pair<variable_ref, DataValue>>& values);

  DataValue read(const NodeId& node, uint32_t attribute) override;
  StatusCode write(const NodeId& node, uint32_t attribute, const DataValue& value) override;
  result<std::vector<ReferenceDescription>> browse(const NodeId& node, BrowseDirection direction,
                                                   const NodeId& reference_type,
                                                   bool include_subtypes) override;
  Array<String> namespace_array() override;
  /// Value changes of variables (set_value, Write) are reported; computed Server variables are
  /// not (they are sampled).
  uint64_t watch(const NodeId& node, uint32_t attribute, change_sink sink) override;
  void unwatch(uint64_t token) override;
  /// Number of variables and folders added by the host (for memory accounting).
  size_t node_count() const;
  bool allows_user_names() const override;
  bool allows_anonymous() const override;
  StatusCode check_user(const std::string& user, const std::string& password) override;

private:
  /// Reference and type ids are standard (namespace 0, numeric): they are kept as numbers; a
  /// node's HasTypeDefinition reference is its `type_definition` and its first inverse reference
  /// is `parent`, so 100,000 variables stay small (about 500 bytes each).
  struct reference {
    uint32_t type = 0;
    bool forward = true;
    NodeId target;
  };
  struct node {
    NodeClass node_class = NodeClass::Object;
    bool writable = false;
    int32_t value_rank = -1;
    uint32_t type_definition = 0;   ///< 0: none
    uint32_t data_type = 0;         ///< variables
    uint32_t parent_ref = 0;        ///< the type of the first inverse reference, to `parent`
    const NodeId* parent = nullptr; ///< that reference's source (the key in `nodes_`)
    QualifiedName browse_name;
    std::unique_ptr<LocalizedText> display_name; ///< null: the browse name's text
    DataValue value;                             ///< variables
    /// References beyond the two above, and watchers: most variables have neither, so they
    /// cost one pointer until the first one comes.
    struct links {
      std::vector<reference> refs;
      std::vector<std::pair<uint64_t, change_sink>> watchers;
    };
    std::unique_ptr<links> more;
    links& more_links() {
      if (!more) more = std::make_unique<links>();
      return *more;
    }

    LocalizedText display() const {
      return display_name ? *display_name : LocalizedText(browse_name.name);
    }
  };
  node* find(const NodeId& id);
  node& add_node(const NodeId& id, NodeClass cls, const QualifiedName& name,
                 uint32_t type_definition);
  void add_reference(const NodeId& source, uint32_t type, const NodeId& target);
  void add_server_variable(uint32_t id, uint32_t parent, uint32_t ref_type, const char* name,
                           Variant value, uint32_t data_type);
  DataValue value_of(const NodeId& id, const node& n) const;
  /// Stores a variable's new value and tells its watchers. Lock held.
  void store(node& n, DataValue value);

  memory_address_space_options opts_;
  DateTime start_time_;
  ServerState state_ = ServerState::Running;
  mutable std::mutex mutex_;
  std::unordered_map<NodeId, node> nodes_;
  std::function<bool(const std::string&, const std::string&)> user_check_;
  std::unordered_map<uint64_t, node*> watched_; ///< token -> node (nodes are never removed)
  uint64_t next_watch_ = 1;
  bool anonymous_ = true;
};

} // namespace tandem::opcua
