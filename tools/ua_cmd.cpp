// `tandem ua endpoints|read|write|browse|watch URL ...`: inspect any OPC UA server from the shell
// with Tandem's own client. Text for people, `--json` for scripts (one document per line).

#include <atomic>
#include <csignal>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "tools/commands.hpp"
#include "transports/opcua/client/client.hpp"
#include "transports/opcua/client/subscription.hpp"
#include "transports/opcua/client/values.hpp"

namespace tandem::tools {

namespace {

using namespace tandem::opcua;
using json = nlohmann::json;
namespace asio = boost::asio;

std::atomic<bool> stop_requested{false};
void on_signal(int) {
  stop_requested = true;
}

/// An io_context on its own thread and a connected client, for blocking use.
class blocking_client {
public:
  explicit blocking_client(const ua_options& o) : work_(asio::make_work_guard(io_)) {
    client_options co;
    co.url = o.url;
    co.user = o.user;
    co.password = o.password;
    co.session_name = "tandem ua";
    co.request_timeout = std::chrono::milliseconds(o.timeout_ms);
    co.channel.connect_timeout = std::chrono::milliseconds(o.timeout_ms);
    client_ = ua_client::create(io_, co);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~blocking_client() {
    if (connected_) {
      std::promise<void> done;
      client_->disconnect([&done] { done.set_value(); });
      done.get_future().wait_for(std::chrono::seconds(3));
    }
    work_.reset();
    io_.stop();
    thread_.join();
  }
  std::optional<error> connect() {
    std::promise<std::optional<error>> p;
    client_->connect(
        [&p](const error* e) { p.set_value(e ? std::optional<error>(*e) : std::nullopt); });
    auto r = p.get_future().get();
    connected_ = !r;
    return r;
  }
  template <class Resp, class Req> result<Resp> call(Req req) {
    std::promise<result<Resp>> p;
    client_->call<Resp>(std::move(req), [&p](result<Resp> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  std::shared_ptr<ua_client> client() { return client_; }

private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::shared_ptr<ua_client> client_;
  std::thread thread_;
  bool connected_ = false;
};

int fail(const ua_options& o, const std::string& text) {
  if (o.json)
    std::cout << json{{"error", text}}.dump() << std::endl;
  else
    std::cerr << "tandem ua: " << text << "\n";
  return exit_usage;
}

int fail(const ua_options& o, const error& e) {
  return fail(o, e.reason.empty() ? to_string(e.code) : e.reason);
}

std::optional<NodeId> parse_node(const ua_options& o, const std::string& text, int& rc) {
  auto n = NodeId::parse(text);
  if (!n) {
    rc = fail(o, "'" + text + "' is not a NodeId (" + n.error().reason +
                     "); e.g. ns=2;s=PLC1.Temp or i=2258");
    return std::nullopt;
  }
  return *n;
}

json value_json(const std::string& node, const DataValue& dv) {
  json j{{"node", node},
         {"value", dv.value ? to_json(*dv.value) : json(nullptr)},
         {"type", dv.value ? variant_type_name(dv.value->type()) : "Null"},
         {"status", to_string(dv.status_or_good())}};
  j["source_time"] = dv.source_timestamp ? json(dv.source_timestamp->to_rfc3339()) : json(nullptr);
  j["server_time"] = dv.server_timestamp ? json(dv.server_timestamp->to_rfc3339()) : json(nullptr);
  return j;
}

void print_value(const ua_options& o, const json& v) {
  if (o.json) {
    std::cout << v.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
    return;
  }
  auto s = [](const json& x) { return x.is_string() ? x.get<std::string>() : x.dump(); };
  std::cout << s(v["node"]) << " = " << s(v["value"]) << " (" << s(v["type"]) << ", "
            << s(v["status"])
            << (v["source_time"].is_null() ? "" : ", source " + s(v["source_time"]))
            << (v["server_time"].is_null() ? "" : ", server " + s(v["server_time"])) << ")"
            << std::endl;
}

int cmd_endpoints(const ua_options& o) {
  blocking_client c(o);
  if (auto e = c.connect()) return fail(o, *e);
  json list = json::array();
  for (auto& ep : c.client()->endpoints()) {
    json tokens = json::array();
    for (auto& t : ep.user_identity_tokens)
      tokens.push_back(
          {{"policy_id", t.policy_id.str()}, {"type", static_cast<int>(t.token_type)}});
    list.push_back({{"url", ep.endpoint_url.str()},
                    {"security_mode", static_cast<int>(ep.security_mode)},
                    {"security_policy", ep.security_policy_uri.str()},
                    {"application_uri", ep.server.application_uri.str()},
                    {"user_tokens", tokens},
                    {"security_level", ep.security_level}});
  }
  if (o.json) {
    std::cout << json{{"endpoints", list}}.dump() << std::endl;
  } else {
    for (auto& e : list)
      std::cout << e["url"].get<std::string>() << "  mode " << e["security_mode"] << "  "
                << e["security_policy"].get<std::string>() << "  "
                << e["application_uri"].get<std::string>() << "  logins " << e["user_tokens"].dump()
                << "\n";
  }
  return exit_ok;
}

int cmd_read(const ua_options& o) {
  if (o.nodes.empty()) return fail(o, "read needs at least one NodeId");
  ReadRequest req;
  int rc = 0;
  for (auto& t : o.nodes) {
    auto n = parse_node(o, t, rc);
    if (!n) return rc;
    ReadValueId r;
    r.node_id = *n;
    req.nodes_to_read.push_back(r);
  }
  blocking_client c(o);
  if (auto e = c.connect()) return fail(o, *e);
  auto resp = c.call<ReadResponse>(req);
  if (!resp) return fail(o, resp.error());
  if (resp->results.size() != o.nodes.size())
    return fail(o, "the server answered a different number of values");
  bool all_good = true;
  json values = json::array();
  for (size_t i = 0; i < o.nodes.size(); ++i) {
    auto v = value_json(o.nodes[i], resp->results[i]);
    all_good = all_good && !resp->results[i].status_or_good().is_bad();
    if (o.json)
      values.push_back(v);
    else
      print_value(o, v);
  }
  if (o.json)
    std::cout << json{{"values", values}}.dump(-1, ' ', false, json::error_handler_t::replace)
              << std::endl;
  return all_good ? exit_ok : exit_usage;
}

int cmd_write(const ua_options& o) {
  if (o.nodes.size() != 2) return fail(o, "usage: tandem ua write URL NODE VALUE [--type TYPE]");
  int rc = 0;
  auto n = parse_node(o, o.nodes[0], rc);
  if (!n) return rc;
  blocking_client c(o);
  if (auto e = c.connect()) return fail(o, *e);
  VariantType t = VariantType::Null;
  if (!o.type.empty()) {
    t = variant_type_from_name(o.type);
    if (t == VariantType::Null)
      return fail(o, "unknown type '" + o.type + "'; e.g. Double, Int32, Boolean, String");
  } else {
    // Write the type the node holds now.
    ReadRequest rr;
    ReadValueId rv;
    rv.node_id = *n;
    rr.nodes_to_read.push_back(rv);
    auto cur = c.call<ReadResponse>(rr);
    if (!cur) return fail(o, cur.error());
    if (cur->results.empty() || !cur->results[0].value || cur->results[0].value->is_null())
      return fail(
          o, "cannot tell the type of " + o.nodes[0] + " (" +
                 (cur->results.empty() ? "no value" : to_string(cur->results[0].status_or_good())) +
                 "); give --type");
    t = cur->results[0].value->type();
  }
  auto v = from_text(o.nodes[1], t);
  if (!v) return fail(o, v.error());
  WriteRequest req;
  WriteValue wv;
  wv.node_id = *n;
  wv.value = DataValue(std::move(*v));
  req.nodes_to_write.push_back(std::move(wv));
  auto resp = c.call<WriteResponse>(req);
  if (!resp) return fail(o, resp.error());
  StatusCode sc = resp->results.empty() ? StatusCode(status::BadUnexpectedError) : resp->results[0];
  if (o.json)
    std::cout << json{{"node", o.nodes[0]}, {"status", to_string(sc)}}.dump() << std::endl;
  else
    std::cout << o.nodes[0] << ": " << to_string(sc) << std::endl;
  return sc.is_bad() ? exit_usage : exit_ok;
}

/// Browses `node` and every hierarchical child down to `depth`, following continuation points.
int browse_tree(blocking_client& c, const ua_options& o, const NodeId& node, int depth, int level,
                json& out, std::set<std::string>& seen) {
  BrowseRequest req;
  BrowseDescription d;
  d.node_id = node;
  d.reference_type_id = NodeId(33); // HierarchicalReferences
  d.include_subtypes = true;
  req.nodes_to_browse.push_back(d);
  req.requested_max_references_per_node = 1000;
  auto resp = c.call<BrowseResponse>(req);
  if (!resp) return fail(o, resp.error());
  if (resp->results.empty()) return exit_ok;
  Array<ReferenceDescription> refs = resp->results[0].references;
  ByteString cp = resp->results[0].continuation_point;
  while (!cp.is_null() && !cp.empty()) {
    BrowseNextRequest next;
    next.continuation_points.push_back(cp);
    auto nr = c.call<BrowseNextResponse>(next);
    if (!nr) return fail(o, nr.error());
    if (nr->results.empty()) break;
    for (auto& r : nr->results[0].references)
      refs.push_back(r);
    cp = nr->results[0].continuation_point;
  }
  for (auto& r : refs) {
    std::string id = r.node_id.to_string();
    json entry{{"node", id},
               {"browse_name",
                std::to_string(r.browse_name.namespace_index) + ":" + r.browse_name.name.str()},
               {"display_name", r.display_name.text.str()},
               {"class", node_class_name(r.node_class)},
               {"level", level}};
    if (o.json)
      out.push_back(entry);
    else
      std::cout << std::string(level * 2, ' ') << r.display_name.text.str() << "  ("
                << node_class_name(r.node_class) << ")  " << id << "\n";
    if (level + 1 < depth && seen.insert(id).second && r.node_id.server_index == 0 &&
        r.node_id.namespace_uri.is_null()) {
      int rc = browse_tree(c, o, r.node_id.node_id, depth, level + 1, out, seen);
      if (rc != exit_ok) return rc;
    }
  }
  return exit_ok;
}

int cmd_browse(const ua_options& o) {
  if (o.nodes.size() > 1) return fail(o, "usage: tandem ua browse URL [NODE] [--depth N]");
  int rc = 0;
  NodeId start(85); // Objects
  if (!o.nodes.empty()) {
    auto n = parse_node(o, o.nodes[0], rc);
    if (!n) return rc;
    start = *n;
  }
  blocking_client c(o);
  if (auto e = c.connect()) return fail(o, *e);
  json out = json::array();
  std::set<std::string> seen{start.to_string()};
  rc = browse_tree(c, o, start, o.depth, 0, out, seen);
  if (rc == exit_ok && o.json)
    std::cout << json{{"nodes", out}}.dump(-1, ' ', false, json::error_handler_t::replace)
              << std::endl;
  return rc;
}

int cmd_watch(const ua_options& o) {
  if (o.nodes.empty()) return fail(o, "watch needs at least one NodeId");
  std::vector<NodeId> ids;
  int rc = 0;
  for (auto& t : o.nodes) {
    auto n = parse_node(o, t, rc);
    if (!n) return rc;
    ids.push_back(*n);
  }
  blocking_client c(o);
  if (auto e = c.connect()) return fail(o, *e);
  CreateSubscriptionRequest cs;
  cs.requested_publishing_interval = o.interval_ms;
  cs.requested_max_keep_alive_count = 10;
  cs.requested_lifetime_count = 60;
  auto sub = c.call<CreateSubscriptionResponse>(cs);
  if (!sub) return fail(o, sub.error());
  CreateMonitoredItemsRequest mi;
  mi.subscription_id = sub->subscription_id;
  for (size_t i = 0; i < ids.size(); ++i) {
    MonitoredItemCreateRequest r;
    r.item_to_monitor.node_id = ids[i];
    r.monitoring_mode = MonitoringMode::Reporting;
    r.requested_parameters.client_handle = static_cast<uint32_t>(i);
    r.requested_parameters.sampling_interval = o.interval_ms;
    r.requested_parameters.queue_size = 10;
    mi.items_to_create.push_back(r);
  }
  auto items = c.call<CreateMonitoredItemsResponse>(mi);
  if (!items) return fail(o, items.error());
  for (size_t i = 0; i < items->results.size() && i < ids.size(); ++i)
    if (items->results[i].status_code.is_bad())
      std::cerr << "tandem ua: cannot watch " << o.nodes[i] << ": "
                << to_string(items->results[i].status_code) << "\n";
  std::mutex out_mtx;
  std::promise<error> stopped;
  std::atomic<bool> stopped_set{false};
  auto start = std::chrono::steady_clock::now();
  std::atomic<int64_t> seen{0};
  auto pub = publisher::create(
      c.client(), 3, std::chrono::milliseconds(std::max<int64_t>(10000, o.interval_ms * 30)),
      [&](uint32_t, NotificationMessage& m) {
        for (auto& eo : m.notification_data) {
          auto n = decode_notification(eo);
          if (!n) continue;
          if (auto* dc = std::get_if<DataChangeNotification>(&*n)) {
            std::lock_guard<std::mutex> g(out_mtx);
            for (auto& item : dc->monitored_items) {
              if (item.client_handle >= o.nodes.size()) continue;
              print_value(o, value_json(o.nodes[item.client_handle], item.value));
              ++seen;
            }
          }
        }
      },
      [&](const error& e) {
        if (!stopped_set.exchange(true)) stopped.set_value(e);
      });
  pub->start();
  auto fut = stopped.get_future();
  for (;;) {
    if (fut.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready) {
      auto e = fut.get();
      return fail(o, e);
    }
    if (stop_requested) break;
    if (o.count > 0 && seen >= o.count) break;
    if (o.seconds > 0 &&
        std::chrono::steady_clock::now() - start >= std::chrono::seconds(o.seconds))
      break;
  }
  pub->stop();
  return exit_ok;
}

} // namespace

int run_ua(const ua_options& o) {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (o.action == "endpoints") return cmd_endpoints(o);
  if (o.action == "read") return cmd_read(o);
  if (o.action == "write") return cmd_write(o);
  if (o.action == "browse") return cmd_browse(o);
  if (o.action == "watch") return cmd_watch(o);
  return fail(o, "unknown action '" + o.action + "'; use endpoints, read, write, browse or watch");
}

} // namespace tandem::tools
