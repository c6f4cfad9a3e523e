#include "transports/opcua/server/address_space.hpp"

#include <algorithm>
#include <utility>

namespace tandem::opcua {

namespace {

/// The supertype of a standard ns=0 reference type; 0 when unknown or References itself.
uint32_t reference_supertype(uint32_t id) {
  switch (id) {
  case 32: // NonHierarchicalReferences
  case 33: // HierarchicalReferences
    return 31;
  case 34: // HasChild
  case 35: // Organizes
  case 36: // HasEventSource
    return 33;
  case 44: // Aggregates
  case 45: // HasSubtype
    return 34;
  case 46: // HasProperty
  case 47: // HasComponent
    return 44;
  case 49: // HasOrderedComponent
    return 47;
  case 48: // HasNotifier
    return 36;
  case 37: // HasModellingRule
  case 38: // HasEncoding
  case 39: // HasDescription
  case 40: // HasTypeDefinition
  case 41: // GeneratesEvent
    return 32;
  default:
    return 0;
  }
}

uint32_t data_type_of(const Variant& v) {
  if (v.is_null()) return 24; // BaseDataType
  return static_cast<uint32_t>(v.type());
}

/// Whether a display name says no more than the browse name (then it is not stored).
bool same_text(const LocalizedText& display, const QualifiedName& browse) {
  return display.text.is_null() || (display.locale.is_null() && display.text == browse.name);
}

DataValue bad(StatusCode sc) {
  DataValue dv;
  dv.status = sc;
  return dv;
}

} // namespace

bool is_reference_subtype(const NodeId& type, const NodeId& base) {
  if (type == base) return true;
  const uint32_t* t = type.numeric();
  const uint32_t* b = base.numeric();
  if (!t || !b || type.namespace_index != 0 || base.namespace_index != 0) return false;
  for (uint32_t cur = *t; cur != 0; cur = reference_supertype(cur))
    if (cur == *b) return true;
  return false;
}

bool reference_matches(const NodeId& type, const NodeId& filter, bool include_subtypes) {
  if (filter.is_null()) return true;
  return include_subtypes ? is_reference_subtype(type, filter) : type == filter;
}

memory_address_space::memory_address_space(memory_address_space_options opts)
    : opts_(std::move(opts)), start_time_(DateTime::now()) {
  using namespace node_ids;
  add_node(NodeId(RootFolder), NodeClass::Object, {0, "Root"}, FolderType);
  add_node(NodeId(ObjectsFolder), NodeClass::Object, {0, "Objects"}, FolderType);
  add_node(NodeId(TypesFolder), NodeClass::Object, {0, "Types"}, FolderType);
  add_node(NodeId(ViewsFolder), NodeClass::Object, {0, "Views"}, FolderType);
  add_reference(NodeId(RootFolder), Organizes, NodeId(ObjectsFolder));
  add_reference(NodeId(RootFolder), Organizes, NodeId(TypesFolder));
  add_reference(NodeId(RootFolder), Organizes, NodeId(ViewsFolder));

  add_node(NodeId(Server), NodeClass::Object, {0, "Server"}, ServerType);
  add_reference(NodeId(ObjectsFolder), Organizes, NodeId(Server));

  const uint32_t string_type = 12, datetime_type = 13, uint32_type = 7, byte_type = 3,
                 int32_type = 6;
  add_server_variable(Server_ServerArray, Server, HasProperty, "ServerArray",
                      Variant(Array<String>{String(opts_.application_uri)}), string_type);
  add_server_variable(Server_NamespaceArray, Server, HasProperty, "NamespaceArray", Variant(),
                      string_type);
  add_server_variable(Server_ServerStatus, Server, HasComponent, "ServerStatus", Variant(),
                      862); // ServerStatusDataType
  add_server_variable(Server_ServerStatus_StartTime, Server_ServerStatus, HasComponent, "StartTime",
                      Variant(start_time_), datetime_type);
  add_server_variable(Server_ServerStatus_CurrentTime, Server_ServerStatus, HasComponent,
                      "CurrentTime", Variant(), datetime_type);
  add_server_variable(Server_ServerStatus_State, Server_ServerStatus, HasComponent, "State",
                      Variant(), 852); // ServerState
  add_server_variable(Server_ServiceLevel, Server, HasProperty, "ServiceLevel",
                      Variant(opts_.service_level), byte_type);

  add_node(NodeId(Server_ServerRedundancy), NodeClass::Object, {0, "ServerRedundancy"},
           2034); // ServerRedundancyType
  add_reference(NodeId(Server), HasComponent, NodeId(Server_ServerRedundancy));
  add_server_variable(Server_ServerRedundancy_RedundancySupport, Server_ServerRedundancy,
                      HasProperty, "RedundancySupport",
                      Variant(static_cast<int32_t>(opts_.redundancy_support)),
                      851); // RedundancySupport

  // ServerCapabilities (2268) / OperationLimits (11704)
  add_node(NodeId(2268), NodeClass::Object, {0, "ServerCapabilities"}, 2013);
  add_reference(NodeId(Server), HasComponent, NodeId(2268));
  add_node(NodeId(11704), NodeClass::Object, {0, "OperationLimits"}, 11564);
  add_reference(NodeId(2268), HasComponent, NodeId(11704));
  add_server_variable(Server_OperationLimits_MaxNodesPerRead, 11704, HasProperty, "MaxNodesPerRead",
                      Variant(uint32_t{1000}), uint32_type);
  add_server_variable(Server_OperationLimits_MaxNodesPerWrite, 11704, HasProperty,
                      "MaxNodesPerWrite", Variant(uint32_t{1000}), uint32_type);
  add_server_variable(Server_OperationLimits_MaxNodesPerBrowse, 11704, HasProperty,
                      "MaxNodesPerBrowse", Variant(uint32_t{1000}), uint32_type);
  add_server_variable(Server_OperationLimits_MaxMonitoredItemsPerCall, 11704, HasProperty,
                      "MaxMonitoredItemsPerCall", Variant(uint32_t{1000}), uint32_type);
  (void)int32_type;
}

memory_address_space::node* memory_address_space::find(const NodeId& id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

memory_address_space::node& memory_address_space::add_node(const NodeId& id, NodeClass cls,
                                                           const QualifiedName& name,
                                                           uint32_t type_definition) {
  node& n = nodes_[id];
  n.node_class = cls;
  n.browse_name = name;
  n.type_definition = type_definition;
  return n;
}

void memory_address_space::add_reference(const NodeId& source, uint32_t type,
                                         const NodeId& target) {
  auto src = nodes_.find(source);
  if (src != nodes_.end()) src->second.more_links().refs.push_back({type, true, target});
  if (node* t = find(target)) {
    if (!t->parent && src != nodes_.end()) {
      t->parent = &src->first;
      t->parent_ref = type;
    } else {
      t->more_links().refs.push_back({type, false, source});
    }
  }
}

void memory_address_space::add_server_variable(uint32_t id, uint32_t parent, uint32_t ref_type,
                                               const char* name, Variant value,
                                               uint32_t data_type) {
  bool property = ref_type == node_ids::HasProperty;
  node& n = add_node(NodeId(id), NodeClass::Variable, {0, name},
                     property ? node_ids::PropertyType : node_ids::BaseDataVariableType);
  n.data_type = data_type;
  n.value_rank = value.is_array() ? 1 : -1;
  if (id == node_ids::Server_NamespaceArray || id == node_ids::Server_ServerArray) n.value_rank = 1;
  n.value = DataValue(std::move(value));
  n.value.source_timestamp = start_time_;
  add_reference(NodeId(parent), ref_type, NodeId(id));
}

bool memory_address_space::add_folder(const NodeId& id, const NodeId& parent,
                                      const QualifiedName& browse_name,
                                      const LocalizedText& display_name) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (find(id) || !find(parent)) return false;
  node& n = add_node(id, NodeClass::Object, browse_name, node_ids::FolderType);
  if (!same_text(display_name, browse_name))
    n.display_name = std::make_unique<LocalizedText>(display_name);
  add_reference(parent, node_ids::Organizes, id);
  return true;
}

bool memory_address_space::add_variable(const NodeId& id, const NodeId& parent,
                                        const QualifiedName& browse_name, Variant value,
                                        bool writable, const LocalizedText& display_name) {
  std::lock_guard<std::mutex> lock(mutex_);
  node* p = find(parent);
  if (find(id) || !p) return false;
  bool folder = p->type_definition == node_ids::FolderType;
  node& n = add_node(id, NodeClass::Variable, browse_name, node_ids::BaseDataVariableType);
  if (!same_text(display_name, browse_name))
    n.display_name = std::make_unique<LocalizedText>(display_name);
  n.data_type = data_type_of(value);
  n.value_rank = value.is_array() ? 1 : -1;
  n.writable = writable;
  n.value = DataValue(std::move(value));
  n.value.source_timestamp = DateTime::now();
  add_reference(parent, folder ? node_ids::Organizes : node_ids::HasComponent, id);
  return true;
}

bool memory_address_space::set_value(const NodeId& id, DataValue value) {
  std::lock_guard<std::mutex> lock(mutex_);
  node* n = find(id);
  if (!n || n->node_class != NodeClass::Variable) return false;
  if (!value.source_timestamp) value.source_timestamp = DateTime::now();
  store(*n, std::move(value));
  return true;
}

void address_space::forward(Request req, std::function<void(Response)> done) {
  ServiceFault f;
  f.response_header.request_handle = request_header(req).request_handle;
  f.response_header.service_result = status::BadServiceUnsupported;
  done(Response(std::move(f)));
}

void memory_address_space::store(node& n, DataValue value) {
  n.value = std::move(value);
  if (n.more)
    for (auto& [token, sink] : n.more->watchers)
      sink(n.value);
}

uint64_t memory_address_space::watch(const NodeId& id, uint32_t attribute, change_sink sink) {
  if (attribute != attribute_id::Value || !sink) return 0;
  std::lock_guard<std::mutex> lock(mutex_);
  node* n = find(id);
  if (!n || n->node_class != NodeClass::Variable) return 0;
  // Server variables computed at read time never pass through store(): sample them.
  if (id.namespace_index == 0) return 0;
  uint64_t token = next_watch_++;
  n->more_links().watchers.emplace_back(token, std::move(sink));
  watched_.emplace(token, n);
  return token;
}

void memory_address_space::unwatch(uint64_t token) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto w = watched_.find(token);
  if (w == watched_.end()) return;
  auto& v = w->second->more_links().watchers;
  v.erase(std::remove_if(v.begin(), v.end(), [&](const auto& e) { return e.first == token; }),
          v.end());
  if (v.empty()) v.shrink_to_fit();
  watched_.erase(w);
}

size_t memory_address_space::node_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return nodes_.size();
}

void memory_address_space::set_service_level(uint8_t level) {
  set_value(NodeId(node_ids::Server_ServiceLevel), DataValue(Variant(level)));
}

void memory_address_space::set_redundancy_support(RedundancySupport support) {
  set_value(NodeId(node_ids::Server_ServerRedundancy_RedundancySupport),
            DataValue(Variant(static_cast<int32_t>(support))));
}

void memory_address_space::set_server_state(ServerState state) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = state;
}

void memory_address_space::set_user_check(
    std::function<bool(const std::string&, const std::string&)> check) {
  std::lock_guard<std::mutex> lock(mutex_);
  user_check_ = std::move(check);
}

void memory_address_space::set_anonymous(bool allowed) {
  std::lock_guard<std::mutex> lock(mutex_);
  anonymous_ = allowed;
}

bool memory_address_space::allows_anonymous() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return anonymous_;
}

memory_address_space::variable_ref memory_address_space::find_variable(const NodeId& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  node* n = find(id);
  return variable_ref{n && n->node_class == NodeClass::Variable ? n : nullptr};
}

void memory_address_space::set_values(std::vector<std::pair<variable_ref, DataValue>>& values) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [ref, value] : values)
    if (ref) store(*static_cast<node*>(ref.node), std::move(value));
}

bool memory_address_space::allows_user_names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<bool>(user_check_);
}

StatusCode memory_address_space::check_user(const std::string& user, const std::string& password) {
  std::function<bool(const std::string&, const std::string&)> check;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    check = user_check_;
  }
  if (check && check(user, password)) return status::Good;
  return status::BadUserAccessDenied;
}

Array<String> memory_address_space::namespace_array() {
  return Array<String>{String("http://opcfoundation.org/UA/"), String(opts_.application_uri)};
}

DataValue memory_address_space::value_of(const NodeId& id, const node& n) const {
  using namespace node_ids;
  const uint32_t* num = id.namespace_index == 0 ? id.numeric() : nullptr;
  if (!num) return n.value;
  DateTime now = DateTime::now();
  DataValue dv;
  dv.source_timestamp = now;
  switch (*num) {
  case Server_NamespaceArray:
    dv.value = Variant(
        Array<String>{String("http://opcfoundation.org/UA/"), String(opts_.application_uri)});
    return dv;
  case Server_ServerStatus_CurrentTime:
    dv.value = Variant(now);
    return dv;
  case Server_ServerStatus_State:
    dv.value = Variant(static_cast<int32_t>(state_));
    return dv;
  case Server_ServerStatus: {
    ServerStatusDataType st;
    st.start_time = start_time_;
    st.current_time = now;
    st.state = state_;
    st.build_info.product_uri = String(opts_.product_uri);
    st.build_info.manufacturer_name = String("Tandem");
    st.build_info.product_name = String(opts_.product_name);
    st.build_info.software_version = String(opts_.software_version);
    st.build_info.build_number = String("0");
    st.build_info.build_date = start_time_;
    auto eo = make_extension_object(st);
    if (!eo) return bad(status::BadInternalError);
    dv.value = Variant(std::move(*eo));
    return dv;
  }
  default:
    return n.value;
  }
}

DataValue memory_address_space::read(const NodeId& id, uint32_t attribute) {
  std::lock_guard<std::mutex> lock(mutex_);
  node* n = find(id);
  if (!n) return bad(status::BadNodeIdUnknown);
  bool variable = n->node_class == NodeClass::Variable;
  switch (attribute) {
  case attribute_id::NodeId:
    return DataValue(Variant(id));
  case attribute_id::NodeClass:
    return DataValue(Variant(static_cast<int32_t>(n->node_class)));
  case attribute_id::BrowseName:
    return DataValue(Variant(n->browse_name));
  case attribute_id::DisplayName:
    return DataValue(Variant(n->display()));
  case attribute_id::Description:
    return DataValue(Variant(LocalizedText()));
  case attribute_id::WriteMask:
  case attribute_id::UserWriteMask:
    return DataValue(Variant(uint32_t{0}));
  case attribute_id::EventNotifier:
    if (variable) break;
    return DataValue(Variant(uint8_t{0}));
  case attribute_id::Value:
    if (!variable) break;
    return value_of(id, *n);
  case attribute_id::DataType:
    if (!variable) break;
    return DataValue(Variant(NodeId(n->data_type)));
  case attribute_id::ValueRank:
    if (!variable) break;
    return DataValue(Variant(n->value_rank));
  case attribute_id::ArrayDimensions:
    if (!variable) break;
    return DataValue(Variant(n->value_rank == 1 ? Array<uint32_t>{0u} : Array<uint32_t>()));
  case attribute_id::AccessLevel:
  case attribute_id::UserAccessLevel:
    if (!variable) break;
    return DataValue(Variant(static_cast<uint8_t>(n->writable ? 3 : 1)));
  case attribute_id::MinimumSamplingInterval:
    if (!variable) break;
    return DataValue(Variant(0.0));
  case attribute_id::Historizing:
    if (!variable) break;
    return DataValue(Variant(false));
  default:
    break;
  }
  return bad(status::BadAttributeIdInvalid);
}

StatusCode memory_address_space::write(const NodeId& id, uint32_t attribute,
                                       const DataValue& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  node* n = find(id);
  if (!n) return status::BadNodeIdUnknown;
  if (n->node_class != NodeClass::Variable) {
    return attribute == attribute_id::Value ? status::BadAttributeIdInvalid
                                            : status::BadNotWritable;
  }
  if (attribute != attribute_id::Value || !n->writable) return status::BadNotWritable;
  if (!value.value) return status::BadTypeMismatch;
  const Variant& old = n->value.value ? *n->value.value : Variant();
  if (!old.is_null() &&
      (old.type() != value.value->type() || old.is_array() != value.value->is_array()))
    return status::BadTypeMismatch;
  DataValue stored;
  stored.value = value.value;
  stored.status = value.status;
  stored.source_timestamp = value.source_timestamp ? value.source_timestamp : DateTime::now();
  store(*n, std::move(stored));
  return status::Good;
}

result<std::vector<ReferenceDescription>> memory_address_space::browse(const NodeId& id,
                                                                       BrowseDirection direction,
                                                                       const NodeId& reference_type,
                                                                       bool include_subtypes) {
  std::lock_guard<std::mutex> lock(mutex_);
  node* n = find(id);
  if (!n) return error{status::BadNodeIdUnknown, "unknown node " + id.to_string()};
  std::vector<ReferenceDescription> out;
  auto add = [&](uint32_t type, bool forward, const NodeId& target) {
    if (direction == BrowseDirection::Forward && !forward) return;
    if (direction == BrowseDirection::Inverse && forward) return;
    if (!reference_matches(NodeId(type), reference_type, include_subtypes)) return;
    ReferenceDescription d;
    d.reference_type_id = NodeId(type);
    d.is_forward = forward;
    d.node_id = ExpandedNodeId(target);
    if (const node* t = find(target)) {
      d.browse_name = t->browse_name;
      d.display_name = t->display();
      d.node_class = t->node_class;
      if (t->type_definition != 0) d.type_definition = ExpandedNodeId(NodeId(t->type_definition));
    } else {
      // Targets outside this space (type definitions): known by id only.
      d.node_class =
          type != node_ids::HasTypeDefinition ? NodeClass::Unspecified
          : (target.is(node_ids::BaseDataVariableType) || target.is(node_ids::PropertyType))
              ? NodeClass::VariableType
              : NodeClass::ObjectType;
    }
    out.push_back(std::move(d));
  };
  if (n->type_definition != 0) add(node_ids::HasTypeDefinition, true, NodeId(n->type_definition));
  if (n->parent) add(n->parent_ref, false, *n->parent);
  if (n->more)
    for (const auto& r : n->more->refs)
      add(r.type, r.forward, r.target);
  return out;
}

} // namespace tandem::opcua
