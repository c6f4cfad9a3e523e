#include "transports/opcua/face/pair_space.hpp"

#include <algorithm>
#include <unordered_set>

#include "transports/opcua/binary.hpp"

namespace tandem::opcua {

namespace {

DataValue status_only(StatusCode sc) {
  DataValue dv;
  dv.status = sc;
  return dv;
}

Response fault_for(const Request& req, StatusCode sc) {
  ServiceFault f;
  f.response_header.request_handle = request_header(req).request_handle;
  f.response_header.timestamp = DateTime::now();
  f.response_header.service_result = sc;
  return Response(std::move(f));
}

/// Timestamps of a locally answered Value, as the request asks.
void stamp(DataValue& dv, TimestampsToReturn t, DateTime now) {
  if (t == TimestampsToReturn::Source || t == TimestampsToReturn::Both) {
    if (!dv.source_timestamp) dv.source_timestamp = now;
  } else {
    dv.source_timestamp.reset();
  }
  if (t == TimestampsToReturn::Server || t == TimestampsToReturn::Both)
    dv.server_timestamp = now;
  else
    dv.server_timestamp.reset();
}

} // namespace

namespace {

/// The Tandem folder's variables: browse name and initial value.
const std::vector<std::pair<const char*, Variant>>& tandem_variables() {
  static const std::vector<std::pair<const char*, Variant>> vars{
      {"Mode", Variant(String(""))},
      {"ActiveServer", Variant(String("none"))},
      {"PrimaryState", Variant(String("idle"))},
      {"SecondaryState", Variant(String("idle"))},
      {"FailoverCount", Variant(uint32_t{0})},
      {"LastFailoverTime", Variant(DateTime{})},
      {"LastFailoverFrom", Variant(String(""))},
      {"LastFailoverTo", Variant(String(""))},
      {"LastFailoverCause", Variant(String(""))},
  };
  return vars;
}

NodeId tandem_node(const std::string& name, uint16_t ns) {
  return NodeId(ns, String(name.empty() ? "Tandem" : "Tandem." + name));
}

} // namespace

pair_space::pair_space(pair_space_options opts)
    : opts_(std::move(opts)), face_ns_{"http://opcfoundation.org/UA/", opts_.application_uri},
      local_(std::make_shared<memory_address_space>()) {
  local_->add_folder(tandem_node("", 2), NodeId(node_ids::ObjectsFolder), {2, "Tandem"});
  for (const auto& [name, value] : tandem_variables())
    local_->add_variable(tandem_node(name, 2), tandem_node("", 2), {2, name}, value);
}

void pair_space::set_pair_info(const pair_info& info) {
  std::lock_guard<std::mutex> lock(mutex_);
  pair_info old = info_;
  info_ = info;
  auto set = [&](const char* name, Variant v) {
    local_->set_value(tandem_node(name, 2), DataValue(v));
  };
  if (info.mode != old.mode) set("Mode", String(info.mode));
  if (info.active != old.active) set("ActiveServer", String(info.active));
  if (info.primary_state != old.primary_state) set("PrimaryState", String(info.primary_state));
  if (info.secondary_state != old.secondary_state)
    set("SecondaryState", String(info.secondary_state));
  if (info.failovers != old.failovers) set("FailoverCount", info.failovers);
  if (info.last_failover_ms != old.last_failover_ms)
    set("LastFailoverTime", DateTime::from_unix_ms(info.last_failover_ms));
  if (info.last_failover_from != old.last_failover_from)
    set("LastFailoverFrom", String(info.last_failover_from));
  if (info.last_failover_to != old.last_failover_to)
    set("LastFailoverTo", String(info.last_failover_to));
  if (info.last_failover_cause != old.last_failover_cause)
    set("LastFailoverCause", String(info.last_failover_cause));
}

void pair_space::refresh_namespaces() {
  bool changed = false;
  for (size_t i = 0; i < 2; ++i) {
    if (!forwarders_[i]) continue;
    auto ns = forwarders_[i]->namespaces();
    if (!ns || ns == server_ns_[i]) continue;
    server_ns_[i] = std::move(ns);
    learn_namespaces(face_ns_, *server_ns_[i]);
    changed = true;
  }
  if (!changed) return;
  ++ns_version_;
  if (tandem_ns_ == 0) {
    // After the first server's namespaces, so its indexes stay what clients configured.
    face_ns_.push_back(tandem_uri);
    tandem_ns_ = static_cast<uint16_t>(face_ns_.size() - 1);
  }
  local_map_ = namespace_map(face_ns_, {face_ns_[0], "urn:tandem:local", tandem_uri});
  for (size_t i = 0; i < 2; ++i)
    maps_[i] = server_ns_[i] ? namespace_map(face_ns_, *server_ns_[i]) : namespace_map();
}

std::string pair_space::upstream_text(const NodeId& node) const {
  if (node.namespace_index < 2 || node.namespace_index >= face_ns_.size()) return node.to_string();
  NodeId local = node;
  local.namespace_index = 0;
  return ExpandedNodeId(std::move(local), String(face_ns_[node.namespace_index]), 0).to_string();
}

void pair_space::set_forwarder(int server, std::shared_ptr<request_forwarder> f) {
  if (server < 0 || server > 1) return;
  std::lock_guard<std::mutex> lock(mutex_);
  forwarders_[static_cast<size_t>(server)] = std::move(f);
}

std::shared_ptr<request_forwarder> pair_space::forwarder(int server) const {
  if (server < 0 || server > 1) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  return forwarders_[static_cast<size_t>(server)];
}

void pair_space::set_item_listener(item_listener l) {
  std::vector<wanted_item> now;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    listener_ = l;
    for (const auto& [node, it] : items_)
      if (it.handle != 0) now.push_back({it.handle, upstream_text(node)});
  }
  if (l && !now.empty()) l(std::move(now));
}

void pair_space::set_client_listener(client_listener l) {
  std::vector<std::string> now;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    client_listener_ = l;
    for (const auto& [node, it] : items_)
      if (it.handle != 0 && it.local) now.push_back(upstream_text(node));
  }
  if (l && !now.empty()) l(std::move(now));
}

void pair_space::set_active(int server) {
  std::vector<wanted_item> fresh;
  item_listener listener;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    active_ = server;
    if (!prewatch_pending_.empty()) {
      refresh_namespaces();
      if (prewatch_tried_ != ns_version_) resolve_prewatch(fresh);
      listener = listener_;
    }
  }
  if (listener && !fresh.empty()) listener(std::move(fresh));
}

int pair_space::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return active_;
}

void pair_space::set_service_level(uint8_t level) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (level == service_level_) return;
  service_level_ = level;
  auto it = items_.find(NodeId(node_ids::Server_ServiceLevel));
  if (it != items_.end()) {
    DataValue dv{Variant(level)};
    dv.source_timestamp = DateTime::now();
    store(it->second, std::move(dv));
  }
}

void pair_space::set_redundancy(RedundancySupport support, std::vector<std::string> server_uris) {
  std::lock_guard<std::mutex> lock(mutex_);
  redundancy_ = support;
  server_uris_ = std::move(server_uris);
  auto now = DateTime::now();
  for (auto id : {node_ids::Server_ServerRedundancy_RedundancySupport,
                  node_ids::Server_ServerRedundancy_ServerUriArray}) {
    auto it = items_.find(NodeId(id));
    if (it == items_.end()) continue;
    if (auto v = own_value(NodeId(id))) {
      DataValue dv = std::move(*v);
      dv.source_timestamp = now;
      store(it->second, std::move(dv));
    }
  }
}

void pair_space::store(item& it, DataValue dv) {
  it.last = std::move(dv);
  for (auto& [token, sink] : it.sinks)
    sink(it.last);
}

void pair_space::deliver(const std::vector<item_update>& updates) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& u : updates) {
    auto h = by_handle_.find(u.handle);
    if (h == by_handle_.end()) continue;
    item& it = *h->second;
    DataValue dv;
    if (u.value.empty()) {
      dv = status_only(StatusCode{u.status});
    } else {
      auto decoded = decode_exact<DataValue>(byte_span(u.value));
      if (!decoded) continue;
      dv = std::move(*decoded);
      if (active_ >= 0) maps_[static_cast<size_t>(active_)].to_face(dv);
    }
    store(it, std::move(dv));
  }
}

void pair_space::set_all_bad(StatusCode sc) {
  std::lock_guard<std::mutex> lock(mutex_);
  DateTime now = DateTime::now();
  for (auto& [node, it] : items_) {
    if (it.handle == 0) continue; // the pair's own nodes stay true
    if (it.last.status_or_good() == sc) continue;
    DataValue dv = it.last;
    dv.status = sc;
    dv.source_timestamp = now;
    store(it, std::move(dv));
  }
}

std::vector<pair_space::wanted_item> pair_space::items() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<wanted_item> out;
  for (const auto& [node, it] : items_)
    if (it.handle != 0) out.push_back({it.handle, upstream_text(node)});
  return out;
}

std::vector<std::string> pair_space::client_items() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [node, it] : items_)
    if (it.handle != 0 && it.local) out.push_back(upstream_text(node));
  return out;
}

std::vector<std::string> pair_space::partner_items() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [node, it] : items_)
    if (it.handle != 0 && it.partner) out.push_back(upstream_text(node));
  return out;
}

std::optional<DataValue> pair_space::own_value(const NodeId& node) const {
  if (node.namespace_index != 0) return std::nullopt;
  const uint32_t* id = node.numeric();
  if (!id) return std::nullopt;
  switch (*id) {
  case node_ids::Server_ServiceLevel:
    return DataValue(Variant(service_level_));
  case node_ids::Server_ServerRedundancy_RedundancySupport:
    return DataValue(Variant(static_cast<int32_t>(redundancy_)));
  case node_ids::Server_ServerRedundancy_ServerUriArray: {
    if (server_uris_.empty()) return std::nullopt; // independent: the server's own answer
    Array<String> uris;
    for (const auto& u : server_uris_)
      uris.push_back(String(u));
    return DataValue(Variant(std::move(uris)));
  }
  case node_ids::Server_NamespaceArray: {
    Array<String> uris;
    for (const auto& u : face_ns_)
      uris.push_back(String(u));
    return DataValue(Variant(std::move(uris)));
  }
  default:
    return std::nullopt;
  }
}

DataValue pair_space::read(const NodeId& node, uint32_t attribute) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (is_tandem(node)) {
    DataValue dv = local_->read(local_id(node), attribute);
    local_map_.to_face(dv);
    return dv;
  }
  if (attribute != attribute_id::Value) return status_only(status::BadWaitingForInitialData);
  if (auto own = own_value(node)) return *own;
  auto it = items_.find(node);
  if (it == items_.end()) return status_only(status::BadWaitingForInitialData);
  return it->second.last;
}

StatusCode pair_space::write(const NodeId&, uint32_t, const DataValue&) {
  return status::BadServiceUnsupported; // writes are forwarded
}

result<std::vector<ReferenceDescription>> pair_space::browse(const NodeId&, BrowseDirection,
                                                             const NodeId&, bool) {
  return error{status::BadServiceUnsupported, "browse is forwarded"};
}

Array<String> pair_space::namespace_array() {
  std::lock_guard<std::mutex> lock(mutex_);
  refresh_namespaces();
  Array<String> uris;
  for (const auto& u : face_ns_)
    uris.push_back(String(u));
  return uris;
}

namespace {
constexpr uint64_t local_watch = uint64_t{1} << 63; ///< tokens of the Tandem folder's watches
} // namespace

pair_space::item& pair_space::item_of(const NodeId& node, std::vector<wanted_item>& fresh) {
  auto [it, created] = items_.try_emplace(node);
  if (created) {
    it->second.node = node;
    if (auto own = own_value(node)) {
      it->second.last = *own; // the pair's own: never monitored upstream (handle 0)
    } else {
      it->second.handle = next_handle_++;
      it->second.last = status_only(status::BadWaitingForInitialData);
      by_handle_[it->second.handle] = &it->second;
      refresh_namespaces();
      fresh.push_back({it->second.handle, upstream_text(node)});
    }
  }
  return it->second;
}

void pair_space::resolve_prewatch(std::vector<wanted_item>& fresh) {
  prewatch_tried_ = ns_version_;
  std::vector<ExpandedNodeId> waiting;
  for (auto& e : prewatch_pending_) {
    NodeId node = e.node_id;
    if (!e.namespace_uri.is_null()) {
      auto at = std::find(face_ns_.begin(), face_ns_.end(), e.namespace_uri.str());
      if (at == face_ns_.end()) {
        waiting.push_back(std::move(e));
        continue;
      }
      node.namespace_index = static_cast<uint16_t>(at - face_ns_.begin());
    }
    if (is_tandem(node)) continue; // the pair's own folder is never monitored upstream
    item_of(node, fresh).partner = true;
  }
  prewatch_pending_ = std::move(waiting);
}

size_t pair_space::prewatch(const std::vector<std::string>& node_ids) {
  size_t refused = 0;
  std::vector<wanted_item> fresh;
  item_listener listener;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& text : node_ids) {
      auto e = ExpandedNodeId::parse(text);
      if (!e || e->server_index != 0 || prewatch_pending_.size() >= max_prewatch_pending) {
        ++refused;
        continue;
      }
      prewatch_pending_.push_back(std::move(*e));
    }
    refresh_namespaces();
    resolve_prewatch(fresh);
    listener = listener_;
  }
  if (listener && !fresh.empty()) listener(std::move(fresh));
  return refused;
}

size_t pair_space::prewatch_pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return prewatch_pending_.size();
}

size_t pair_space::unprewatch(const std::vector<std::string>& node_ids) {
  std::lock_guard<std::mutex> lock(mutex_);
  refresh_namespaces();
  size_t ended = 0;
  std::unordered_set<std::string> waiting; // texts whose namespace URI is not known here yet
  for (const auto& text : node_ids) {
    auto e = ExpandedNodeId::parse(text);
    if (!e || e->server_index != 0) continue;
    NodeId node = e->node_id;
    if (!e->namespace_uri.is_null()) {
      auto at = std::find(face_ns_.begin(), face_ns_.end(), e->namespace_uri.str());
      if (at == face_ns_.end()) {
        waiting.insert(e->to_string());
        continue;
      }
      node.namespace_index = static_cast<uint16_t>(at - face_ns_.begin());
    }
    auto it = items_.find(node);
    if (it == items_.end() || !it->second.partner) continue;
    // Its linger starts now: an item only the partner wanted was never counted idle, and one
    // a client here left meanwhile keeps counting from when that client left.
    it->second.partner = false;
    ++ended;
  }
  if (!waiting.empty()) {
    auto before = prewatch_pending_.size();
    prewatch_pending_.erase(
        std::remove_if(prewatch_pending_.begin(), prewatch_pending_.end(),
                       [&](const ExpandedNodeId& e) { return waiting.count(e.to_string()) > 0; }),
        prewatch_pending_.end());
    ended += before - prewatch_pending_.size();
  }
  return ended;
}

uint64_t pair_space::watch(const NodeId& node, uint32_t attribute, change_sink sink) {
  if (attribute != attribute_id::Value || !sink) return 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (is_tandem(node)) {
      uint64_t token = local_->watch(local_id(node), attribute, std::move(sink));
      return token == 0 ? 0 : token | local_watch;
    }
  }
  std::vector<wanted_item> fresh;
  std::vector<std::string> begun;
  item_listener listener;
  client_listener clients;
  uint64_t token = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& it = item_of(node, fresh);
    it.idle_sweeps = 0;
    if (!it.local) {
      it.local = true;
      if (it.handle != 0) begun.push_back(upstream_text(node));
    }
    listener = listener_;
    clients = client_listener_;
    token = next_watch_++;
    it.sinks.emplace_back(token, std::move(sink));
    watches_[token] = node;
  }
  if (listener && !fresh.empty()) listener(std::move(fresh));
  if (clients && !begun.empty()) clients(std::move(begun));
  return token;
}

void pair_space::unwatch(uint64_t token) {
  if (token & local_watch) return local_->unwatch(token & ~local_watch);
  std::lock_guard<std::mutex> lock(mutex_);
  auto w = watches_.find(token);
  if (w == watches_.end()) return;
  auto it = items_.find(w->second);
  if (it != items_.end()) {
    auto& v = it->second.sinks;
    v.erase(std::remove_if(v.begin(), v.end(), [&](const auto& e) { return e.first == token; }),
            v.end());
  }
  watches_.erase(w);
  // The item stays monitored upstream until collect_unwatched: clients come back (a screen
  // shown again), and its value stays current meanwhile.
}

std::vector<uint32_t> pair_space::collect_unwatched(uint32_t sweeps,
                                                    std::vector<std::string>* ended) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<uint32_t> gone;
  for (auto it = items_.begin(); it != items_.end();) {
    auto& x = it->second;
    // Only the partner wants it: nothing lingers.
    if (x.handle == 0 || !x.sinks.empty() || (x.partner && !x.local)) {
      x.idle_sweeps = 0;
      ++it;
      continue;
    }
    if (++x.idle_sweeps < sweeps) {
      ++it;
      continue;
    }
    // No client here for the whole linger: the partner is told even when the item stays for
    // it, else two nodes whose clients both once watched an item would keep it for each other.
    if (x.local) {
      x.local = false;
      if (ended) ended->push_back(upstream_text(it->first));
    }
    if (x.partner) {
      x.idle_sweeps = 0;
      ++it;
      continue;
    }
    gone.push_back(x.handle);
    by_handle_.erase(x.handle);
    it = items_.erase(it);
  }
  return gone;
}

bool pair_space::allows_user_names() const {
  return static_cast<bool>(opts_.user_check);
}

StatusCode pair_space::check_user(const std::string& user, const std::string& password) {
  if (opts_.user_check && opts_.user_check(user, password)) return status::Good;
  return status::BadUserAccessDenied;
}

void pair_space::forward(Request req, std::function<void(Response)> done) {
  std::shared_ptr<request_forwarder> target;
  namespace_map map;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    refresh_namespaces();
    if (active_ >= 0) {
      target = forwarders_[static_cast<size_t>(active_)];
      map = maps_[static_cast<size_t>(active_)];
    }
  }
  if (auto* browse = std::get_if<BrowseRequest>(&req))
    return answer_browse(std::move(*browse), target, map, std::move(done));
  auto* read = std::get_if<ReadRequest>(&req);
  if (read) {
    // The pair's own nodes are answered here; the rest goes upstream, merged in order.
    std::vector<std::optional<DataValue>> own(read->nodes_to_read.size());
    size_t own_count = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      DateTime now = DateTime::now();
      for (size_t i = 0; i < read->nodes_to_read.size(); ++i) {
        const auto& n = read->nodes_to_read[i];
        if (is_tandem(n.node_id)) {
          DataValue dv = local_->read(local_id(n.node_id), n.attribute_id);
          local_map_.to_face(dv);
          if (n.attribute_id == attribute_id::Value) stamp(dv, read->timestamps_to_return, now);
          own[i] = std::move(dv);
          ++own_count;
          continue;
        }
        if (n.attribute_id != attribute_id::Value) continue;
        if (auto v = own_value(n.node_id)) {
          stamp(*v, read->timestamps_to_return, now);
          own[i] = std::move(v);
          ++own_count;
        }
      }
    }
    if (own_count > 0) {
      ReadRequest rest = *read;
      rest.nodes_to_read.clear();
      for (size_t i = 0; i < own.size(); ++i)
        if (!own[i]) rest.nodes_to_read.push_back(read->nodes_to_read[i]);
      auto merge = [own = std::move(own), done = std::move(done),
                    header = read->request_header](std::vector<DataValue> upstream) mutable {
        ReadResponse resp;
        resp.response_header.request_handle = header.request_handle;
        resp.response_header.timestamp = DateTime::now();
        size_t k = 0;
        for (auto& o : own)
          resp.results.push_back(o ? std::move(*o)
                                   : (k < upstream.size()
                                          ? std::move(upstream[k++])
                                          : status_only(status::BadNoCommunication)));
        done(Response(std::move(resp)));
      };
      if (rest.nodes_to_read.empty()) return merge({});
      size_t n = rest.nodes_to_read.size();
      return send_upstream(Request(std::move(rest)), target, map,
                           [merge = std::move(merge), n](Response r) mutable {
                             if (auto* rr = std::get_if<ReadResponse>(&r))
                               return merge(std::move(rr->results));
                             StatusCode sc = response_header(r).service_result;
                             merge(std::vector<DataValue>(
                                 n, status_only(sc.is_bad() ? sc : status::BadNoCommunication)));
                           });
    }
  }
  send_upstream(std::move(req), target, map, std::move(done));
}

void pair_space::answer_browse(BrowseRequest req, std::shared_ptr<request_forwarder> target,
                               namespace_map map, std::function<void(Response)> done) {
  // The Tandem folder's nodes are browsed here; Objects gets a reference to the folder.
  std::vector<std::optional<BrowseResult>> own(req.nodes_to_browse.size());
  std::vector<bool> objects(req.nodes_to_browse.size(), false);
  std::optional<ReferenceDescription> folder;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < req.nodes_to_browse.size(); ++i) {
      const auto& d = req.nodes_to_browse[i];
      if (!is_tandem(d.node_id)) {
        objects[i] = tandem_ns_ != 0 && d.node_id.is(node_ids::ObjectsFolder) &&
                     d.browse_direction != BrowseDirection::Inverse &&
                     (d.reference_type_id.is_null() ||
                      (d.include_subtypes
                           ? is_reference_subtype(NodeId(node_ids::Organizes), d.reference_type_id)
                           : d.reference_type_id.is(node_ids::Organizes))) &&
                     (d.node_class_mask == 0 ||
                      (d.node_class_mask & static_cast<uint32_t>(NodeClass::Object)) != 0);
        continue;
      }
      BrowseResult r;
      auto refs = local_->browse(local_id(d.node_id), d.browse_direction, d.reference_type_id,
                                 d.include_subtypes);
      if (!refs) {
        r.status_code = refs.error().code;
      } else {
        for (auto& ref : *refs)
          if (d.node_class_mask == 0 ||
              (d.node_class_mask & static_cast<uint32_t>(ref.node_class)) != 0)
            r.references.push_back(std::move(ref));
      }
      own[i] = std::move(r);
    }
    if (tandem_ns_ != 0) {
      ReferenceDescription f;
      f.reference_type_id = NodeId(node_ids::Organizes);
      f.is_forward = true;
      f.node_id = ExpandedNodeId(tandem_node("", tandem_ns_));
      f.browse_name = QualifiedName{tandem_ns_, "Tandem"};
      f.display_name = LocalizedText("Tandem");
      f.node_class = NodeClass::Object;
      f.type_definition = ExpandedNodeId(NodeId(node_ids::FolderType));
      folder = std::move(f);
    }
    BrowseResponse local;
    for (auto& o : own)
      if (o) local.results.push_back(*o);
    Response translated(std::move(local));
    local_map_.to_face(translated);
    auto& results = std::get<BrowseResponse>(translated).results;
    size_t k = 0;
    for (auto& o : own)
      if (o) o = std::move(results[k++]);
  }
  BrowseRequest rest = req;
  rest.nodes_to_browse.clear();
  for (size_t i = 0; i < own.size(); ++i)
    if (!own[i]) rest.nodes_to_browse.push_back(req.nodes_to_browse[i]);
  auto merge = [own = std::move(own), objects = std::move(objects), folder = std::move(folder),
                done = std::move(done), header = req.request_header](Response upstream) mutable {
    auto* br = std::get_if<BrowseResponse>(&upstream);
    if (!br && !own.empty() && std::any_of(own.begin(), own.end(), [](auto& o) { return !o; }))
      return done(std::move(upstream)); // the upstream part failed: its fault answers
    BrowseResponse resp;
    if (br) resp = std::move(*br);
    resp.response_header.request_handle = header.request_handle;
    resp.response_header.timestamp = DateTime::now();
    Array<BrowseResult> merged;
    size_t k = 0;
    for (size_t i = 0; i < own.size(); ++i) {
      if (own[i]) {
        merged.push_back(std::move(*own[i]));
        continue;
      }
      BrowseResult r = k < resp.results.size() ? std::move(resp.results[k++]) : BrowseResult{};
      if (objects[i] && folder && r.status_code.is_good()) r.references.push_back(*folder);
      merged.push_back(std::move(r));
    }
    resp.results = std::move(merged);
    done(Response(std::move(resp)));
  };
  if (rest.nodes_to_browse.empty()) return merge(Response(BrowseResponse{}));
  send_upstream(Request(std::move(rest)), std::move(target), std::move(map), std::move(merge));
}

void pair_space::send_upstream(Request req, std::shared_ptr<request_forwarder> target,
                               namespace_map map, std::function<void(Response)> done) {
  if (!target) return done(fault_for(req, status::BadNoCommunication));
  if (!map.identity()) {
    // The client's namespace indexes are the pair's; the server's may differ.
    map.to_server(req);
    done = [map, done = std::move(done)](Response r) {
      map.to_face(r);
      done(std::move(r));
    };
  }
  target->forward(std::move(req), std::move(done));
}

} // namespace tandem::opcua
