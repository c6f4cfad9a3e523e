#include "transports/opcua/face/verify.hpp"

#include <algorithm>
#include <deque>
#include <set>

#include "transports/opcua/node_ids.hpp"

namespace tandem::opcua {

namespace {

constexpr size_t browse_batch = 50;
constexpr size_t read_batch = 500;

/// "ns=2;s=A.B" -> "s=A.B" (the identifier without its namespace index).
std::string identifier_of(const NodeId& id) {
  std::string text = id.to_string();
  if (text.rfind("ns=", 0) == 0) {
    auto semi = text.find(';');
    if (semi != std::string::npos) return text.substr(semi + 1);
  }
  return text;
}

struct walker : std::enable_shared_from_this<walker> {
  std::shared_ptr<request_forwarder> f;
  size_t max_nodes = 0;
  std::function<void(space_digest)> done;
  space_digest out;
  std::deque<NodeId> queue;
  std::set<std::string> seen;
  std::vector<ByteString> continuations;
  std::vector<std::pair<std::string, NodeId>> variables; ///< (key, id): DataTypes to read
  size_t next_variable = 0;

  void finish(std::string error = "") {
    if (!error.empty()) out.error = std::move(error);
    auto d = std::move(done);
    done = nullptr;
    if (d) d(std::move(out));
  }

  void start() {
    ReadRequest r;
    ReadValueId ns;
    ns.node_id = NodeId(node_ids::Server_NamespaceArray);
    r.nodes_to_read.push_back(ns);
    auto self = shared_from_this();
    f->forward(Request(std::move(r)), [self](Response resp) {
      auto* rr = std::get_if<ReadResponse>(&resp);
      if (!rr)
        return self->finish("cannot read its NamespaceArray: " +
                            to_string(response_header(resp).service_result));
      if (rr->results.size() != 1 || !rr->results[0].value)
        return self->finish("its NamespaceArray has no value");
      auto* arr = rr->results[0].value->get_if<Array<String>>();
      if (!arr) return self->finish("its NamespaceArray is not an array of strings");
      for (const auto& s : *arr)
        self->out.namespaces.push_back(s.is_null() ? "" : s.str());
      self->queue.push_back(NodeId(node_ids::ObjectsFolder));
      self->next();
    });
  }

  /// A namespace for keys: its URI, but index 1 is each server's own namespace, whose URI
  /// differs between two servers by design (and Tandem maps 1 to 1).
  std::string uri_of(uint16_t ns) const {
    if (ns == 1) return "(server namespace)";
    return ns < out.namespaces.size() ? out.namespaces[ns] : "ns" + std::to_string(ns);
  }

  /// A DataType, as a key-like text: "i=11", or "<uri>|<identifier>".
  std::string type_text(const NodeId& id) const {
    if (id.namespace_index == 0) return id.to_string();
    return uri_of(id.namespace_index) + "|" + identifier_of(id);
  }

  void take(const Array<ReferenceDescription>& refs) {
    for (const auto& r : refs) {
      if (!r.node_id.is_local()) continue;
      const NodeId& id = r.node_id.node_id;
      if (id.namespace_index == 0) continue; // the standard's nodes
      std::string key = uri_of(id.namespace_index) + "|" + identifier_of(id);
      if (!seen.insert(key).second) continue;
      if (out.nodes.size() >= max_nodes) {
        out.truncated = true;
        continue;
      }
      out.nodes[key] = std::string(node_class_name(r.node_class)) + " " +
                       (r.browse_name.name.is_null() ? "" : r.browse_name.name.str());
      out.ids[key] = id.to_string();
      if (r.node_class == NodeClass::Variable) variables.emplace_back(key, id);
      queue.push_back(id);
    }
  }

  void handle_results(Response resp) {
    const Array<BrowseResult>* results = nullptr;
    if (auto* b = std::get_if<BrowseResponse>(&resp))
      results = &b->results;
    else if (auto* n = std::get_if<BrowseNextResponse>(&resp))
      results = &n->results;
    if (!results)
      return finish("browse failed: " + to_string(response_header(resp).service_result));
    for (const auto& r : *results) {
      if (r.status_code.is_bad()) continue; // a node that went away meanwhile
      take(r.references);
      if (!r.continuation_point.is_null() && !r.continuation_point.empty())
        continuations.push_back(r.continuation_point);
    }
    next();
  }

  void next() {
    auto self = shared_from_this();
    if (!continuations.empty()) {
      BrowseNextRequest bn;
      bn.continuation_points = Array<ByteString>(continuations.begin(), continuations.end());
      continuations.clear();
      f->forward(Request(std::move(bn)),
                 [self](Response r) { self->handle_results(std::move(r)); });
      return;
    }
    if (queue.empty() || out.truncated) return read_types();
    BrowseRequest b;
    b.requested_max_references_per_node = 1000;
    while (!queue.empty() && b.nodes_to_browse.size() < browse_batch) {
      BrowseDescription d;
      d.node_id = queue.front();
      queue.pop_front();
      d.browse_direction = BrowseDirection::Forward;
      d.reference_type_id = NodeId(node_ids::HierarchicalReferences);
      d.include_subtypes = true;
      b.nodes_to_browse.push_back(std::move(d));
    }
    f->forward(Request(std::move(b)), [self](Response r) { self->handle_results(std::move(r)); });
  }

  /// After the walk: each variable's DataType joins its description ("Variable Level i=11").
  void read_types() {
    if (next_variable >= variables.size()) return finish();
    ReadRequest r;
    r.timestamps_to_return = TimestampsToReturn::Neither;
    size_t end = std::min(variables.size(), next_variable + read_batch);
    for (size_t i = next_variable; i < end; ++i) {
      ReadValueId v;
      v.node_id = variables[i].second;
      v.attribute_id = attribute_id::DataType;
      r.nodes_to_read.push_back(std::move(v));
    }
    auto self = shared_from_this();
    f->forward(Request(std::move(r)), [self, end](Response resp) {
      auto* rr = std::get_if<ReadResponse>(&resp);
      if (!rr)
        return self->finish("cannot read DataTypes: " +
                            to_string(response_header(resp).service_result));
      for (size_t i = self->next_variable; i < end; ++i) {
        size_t k = i - self->next_variable;
        const NodeId* type = k < rr->results.size() && rr->results[k].value
                                 ? rr->results[k].value->get_if<NodeId>()
                                 : nullptr;
        self->out.nodes[self->variables[i].first] +=
            " " + (type ? self->type_text(*type) : std::string("(no DataType)"));
      }
      self->next_variable = end;
      self->read_types();
    });
  }
};

std::string join(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? ", " : "") + v[i];
  return out + "]";
}

} // namespace

void walk_space(std::shared_ptr<request_forwarder> f, size_t max_nodes,
                std::function<void(space_digest)> done) {
  if (!f) {
    space_digest d;
    d.error = "not connected";
    return done(std::move(d));
  }
  auto w = std::make_shared<walker>();
  w->f = std::move(f);
  w->max_nodes = max_nodes;
  w->done = std::move(done);
  w->start();
}

std::vector<std::string> compare_spaces(const space_digest& a, const space_digest& b,
                                        size_t max_differences) {
  std::vector<std::string> out;
  size_t more = 0;
  auto add = [&](std::string line) {
    if (out.size() < max_differences)
      out.push_back(std::move(line));
    else
      ++more;
  };
  if (!a.error.empty()) add("the primary cannot be compared: " + a.error);
  if (!b.error.empty()) add("the secondary cannot be compared: " + b.error);
  if (!a.error.empty() || !b.error.empty()) return out;
  // Index 1 is each server's own namespace and the order is translated by the face: only a
  // namespace one server lacks is a difference.
  auto missing = [](const std::vector<std::string>& x, const std::vector<std::string>& y) {
    std::vector<std::string> out;
    for (size_t i = 2; i < x.size(); ++i)
      if (std::find(y.begin() + std::min<size_t>(2, y.size()), y.end(), x[i]) == y.end())
        out.push_back(x[i]);
    return out;
  };
  auto only_a = missing(a.namespaces, b.namespaces), only_b = missing(b.namespaces, a.namespaces);
  if (!only_a.empty() || !only_b.empty())
    add("NamespaceArray differs: only on the primary " + join(only_a) + ", only on the secondary " +
        join(only_b));
  if (a.truncated || b.truncated)
    add("more nodes than the comparison limit; only the first part was compared");
  for (const auto& [key, what] : a.nodes) {
    auto it = b.nodes.find(key);
    if (it == b.nodes.end())
      add(a.ids.at(key) + " (" + what + ") is only on the primary");
    else if (it->second != what)
      add(a.ids.at(key) + " is " + what + " on the primary, " + it->second + " on the secondary");
  }
  for (const auto& [key, what] : b.nodes)
    if (a.nodes.count(key) == 0) add(b.ids.at(key) + " (" + what + ") is only on the secondary");
  if (more > 0) out.push_back("... and " + std::to_string(more) + " more differences");
  return out;
}

} // namespace tandem::opcua
