#include "transports/opcua/face/pair_space.hpp"

#include <algorithm>

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

pair_space::pair_space(pair_space_options opts)
    : opts_(std::move(opts)), face_ns_{"http://opcfoundation.org/UA/", opts_.application_uri} {}

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

void pair_space::set_active(int server) {
  std::lock_guard<std::mutex> lock(mutex_);
  active_ = server;
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
    auto it = items_.find(h->second);
    if (it == items_.end()) continue;
    DataValue dv;
    if (u.value.empty()) {
      dv = status_only(StatusCode{u.status});
    } else {
      auto decoded = decode_exact<DataValue>(byte_span(u.value));
      if (!decoded) continue;
      dv = std::move(*decoded);
      if (active_ >= 0) maps_[static_cast<size_t>(active_)].to_face(dv);
    }
    store(it->second, std::move(dv));
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

std::optional<DataValue> pair_space::own_value(const NodeId& node) const {
  if (node.namespace_index != 0) return std::nullopt;
  const uint32_t* id = node.numeric();
  if (!id) return std::nullopt;
  switch (*id) {
  case node_ids::Server_ServiceLevel:
    return DataValue(Variant(service_level_));
  case node_ids::Server_ServerRedundancy_RedundancySupport:
    return DataValue(Variant(static_cast<int32_t>(RedundancySupport::Transparent)));
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

uint64_t pair_space::watch(const NodeId& node, uint32_t attribute, change_sink sink) {
  if (attribute != attribute_id::Value || !sink) return 0;
  std::vector<wanted_item> fresh;
  item_listener listener;
  uint64_t token = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, created] = items_.try_emplace(node);
    if (created) {
      it->second.node = node;
      if (auto own = own_value(node)) {
        it->second.last = *own; // the pair's own: never monitored upstream (handle 0)
      } else {
        it->second.handle = next_handle_++;
        it->second.last = status_only(status::BadWaitingForInitialData);
        by_handle_[it->second.handle] = node;
        refresh_namespaces();
        fresh.push_back({it->second.handle, upstream_text(node)});
        listener = listener_;
      }
    }
    token = next_watch_++;
    it->second.sinks.emplace_back(token, std::move(sink));
    watches_[token] = node;
  }
  if (listener && !fresh.empty()) listener(std::move(fresh));
  return token;
}

void pair_space::unwatch(uint64_t token) {
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
  // The item stays monitored upstream: clients come back, and its value stays current.
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
  if (!map.identity()) {
    // The client's namespace indexes are the pair's; the server's may differ.
    map.to_server(req);
    done = [map, done = std::move(done)](Response r) {
      map.to_face(r);
      done(std::move(r));
    };
  }
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
      if (!target) {
        return merge(std::vector<DataValue>(rest.nodes_to_read.size(),
                                            status_only(status::BadNoCommunication)));
      }
      size_t n = rest.nodes_to_read.size();
      target->forward(Request(std::move(rest)), [merge = std::move(merge), n](Response r) mutable {
        if (auto* rr = std::get_if<ReadResponse>(&r)) return merge(std::move(rr->results));
        StatusCode sc = response_header(r).service_result;
        merge(
            std::vector<DataValue>(n, status_only(sc.is_bad() ? sc : status::BadNoCommunication)));
      });
      return;
    }
  }
  if (!target) return done(fault_for(req, status::BadNoCommunication));
  target->forward(std::move(req), std::move(done));
}

} // namespace tandem::opcua
