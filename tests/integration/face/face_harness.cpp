#include "face_harness.hpp"

#include <csignal>
#include <ctime>
#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "transports/opcua/client/client.hpp"
#include "transports/opcua/services.hpp"

namespace tandem::test::face {

using namespace std::chrono_literals;

std::vector<json> lines_of(const child_process& p) {
  std::vector<json> out;
  std::string all = p.out();
  size_t pos = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    if (nl == std::string::npos) break; // a line still being written
    auto j = json::parse(all.substr(pos, nl - pos), nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
    pos = nl + 1;
  }
  return out;
}

std::vector<json> values_of(const child_process& p) {
  std::vector<json> out;
  for (auto& j : lines_of(p))
    if (j.value("event", "") == "value") out.push_back(j);
  return out;
}

std::string reconnection_event(const std::vector<json>& lines) {
  static const char* const lost[] = {"connection_lost",
                                     "reconnecting",
                                     "reconnection_attempt_failed",
                                     "connection_reestablished",
                                     "after_reconnection",
                                     "session_restored",
                                     "session_repaired",
                                     "session_repaired_failed",
                                     "reconnection_canceled",
                                     "session_closed"};
  for (auto& j : lines) {
    auto ev = j.value("event", "");
    for (const char* l : lost)
      if (ev == l) return ev;
  }
  return "";
}

int64_t unix_ms(const std::string& rfc3339) {
  std::tm tm{};
  strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  auto dot = rfc3339.find('.');
  if (dot != std::string::npos) ms += std::stoi(rfc3339.substr(dot + 1, 3));
  return ms;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

int64_t source_of(const json& v) {
  return v.contains("sourceTimestamp") && v["sourceTimestamp"].is_string()
             ? unix_ms(v["sourceTimestamp"])
             : -1;
}

} // namespace

value_figures figures_of(const std::vector<json>& values, int64_t from_ms, int64_t to_ms) {
  value_figures f;
  int64_t prev_source = -1, prev_arrival = -1;
  bool have_counter = false;
  int64_t prev_counter = 0;
  for (auto& v : values) {
    int64_t src = source_of(v);
    if (src < from_ms || src >= to_ms) continue;
    ++f.count;
    if (v.value("status", "") == "Good") {
      ++f.good;
    } else {
      if (f.bad++ == 0) f.first_bad = v.dump();
      continue; // a Bad value carries the last value again: no sample of its own
    }
    if (prev_source >= 0) f.max_source_gap_ms = std::max(f.max_source_gap_ms, src - prev_source);
    prev_source = src;
    if (v.contains("t_ms") && v["t_ms"].is_number()) {
      int64_t t = v["t_ms"].get<int64_t>();
      if (prev_arrival >= 0)
        f.max_arrival_gap_ms = std::max(f.max_arrival_gap_ms, t - prev_arrival);
      prev_arrival = t;
    }
    if (v["value"].is_number()) {
      auto c = static_cast<int64_t>(v["value"].get<double>());
      if (have_counter) {
        if (c > prev_counter + 1) f.missing += c - prev_counter - 1;
        if (c <= prev_counter) ++f.repeated;
      }
      have_counter = true;
      prev_counter = c;
    }
  }
  return f;
}

size_t good_values_since(const std::vector<json>& values, int64_t from_ms) {
  size_t n = 0;
  for (auto& v : values)
    if (v.value("status", "") == "Good" && source_of(v) >= from_ms) ++n;
  return n;
}

std::unique_ptr<child_process> subscribe(const temp_dir& dir, const std::string& url,
                                         const std::string& node_id, const std::string& name,
                                         int publish_ms, int seconds) {
  return std::make_unique<child_process>(
      std::vector<std::string>{"node", interop_dir() + "/client.js", "subscribe", url, node_id,
                               "--publish-ms", std::to_string(publish_ms), "--queue-size", "50",
                               "--seconds", std::to_string(seconds), "--print-values"},
      dir.file(name));
}

std::string pair_toml(const pair_options& p) {
  return "[[pair]]\nalias = \"" + p.alias + "\"\nprimary = \"" + p.primary + "\"\nsecondary = \"" +
         p.secondary + "\"\nmode = \"" + p.mode +
         "\"\nreturn_to_primary = " + (p.return_to_primary ? "true" : "false") +
         "\nreturn_settle_ms = " + std::to_string(p.return_settle_ms) +
         "\nstatus_interval_ms = " + std::to_string(p.status_interval_ms) +
         "\nstatus_timeout_ms = " + std::to_string(p.status_timeout_ms) + "\n" + p.extra +
         p.monitors;
}

namespace {

std::string node_toml(uint16_t face_port, const std::vector<pair_options>& pairs) {
  std::string t = "[node]\nname = \"face-node\"\ndata_dir = \"data\"\n[face]\nlisten = "
                  "\"127.0.0.1:" +
                  std::to_string(face_port) + "\"\n";
  for (auto& p : pairs)
    t += pair_toml(p);
  return t;
}

} // namespace

face_node::face_node(const temp_dir& dir, const std::vector<pair_options>& pairs)
    : face_port_(free_port()),
      node_(dir, "node", node_toml(face_port_, pairs), dir.path() + "/data/console.sock") {}

std::string face_node::url(const std::string& alias) const {
  return "opc.tcp://127.0.0.1:" + std::to_string(face_port_) + "/" + alias;
}

bool face_node::wait_started(const std::string& alias, const std::string& standby_state) {
  return wait_for(
      [&] {
        auto q = pair(alias);
        return q.is_object() && q["active"] == "primary" && q["primary"]["state"] == "connected" &&
               q["secondary"]["state"] == standby_state;
      },
      std::chrono::seconds(30));
}

json face_node::pair(const std::string& alias) {
  auto j = node_.console("pairs");
  if (!j.contains("pairs") || !j["pairs"].is_array()) return json();
  for (auto& p : j["pairs"])
    if (p.value("alias", "") == alias) return p;
  return json();
}

std::vector<json> face_node::events() {
  auto j = node_.console("events 100");
  std::vector<json> out;
  if (j.contains("events") && j["events"].is_array())
    for (auto& e : j["events"])
      out.push_back(e);
  return out;
}

std::vector<json> face_node::events_of(const std::string& alias, const std::string& kind) {
  std::vector<json> out;
  for (auto& e : events()) {
    auto src = e.value("source", "");
    if (e.value("kind", "") == kind &&
        (src == "pair/" + alias || src.rfind("server/" + alias + "/", 0) == 0))
      out.push_back(e);
  }
  return out;
}

int face_node::stop() {
  node_.proc().signal(SIGTERM);
  auto code = node_.proc().wait(20s);
  return code ? *code : -1;
}

sim_pair::sim_pair(const temp_dir& dir, int rate_ms, const std::string& prefix, peer_kind kind)
    : a(dir, 0, {"--items", "5", "--rate-ms", std::to_string(rate_ms)}, prefix + "primary", kind),
      b(dir, 0, {"--items", "5", "--rate-ms", std::to_string(rate_ms)}, prefix + "secondary",
        kind) {}

pair_options sim_pair::options(const std::string& mode) const {
  pair_options p;
  p.primary = a.url();
  p.secondary = b.url();
  p.mode = mode;
  return p;
}

std::string write_double(const std::string& url, const std::string& node_id, double value) {
  auto node = opcua::NodeId::parse(node_id);
  if (!node) return "bad NodeId " + node_id;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });
  std::string outcome;
  {
    opcua::client_options o;
    o.url = url;
    o.request_timeout = 5s;
    auto client = opcua::ua_client::create(io, o);
    auto connected = std::make_shared<std::promise<std::string>>();
    auto cf = connected->get_future();
    client->connect([connected](const opcua::error* e) {
      connected->set_value(e ? "connect: " + e->reason : "");
    });
    if (cf.wait_for(10s) != std::future_status::ready) {
      outcome = "connect: no answer in 10 s";
    } else {
      outcome = cf.get();
    }
    if (outcome.empty()) {
      opcua::WriteRequest w;
      opcua::WriteValue wv;
      wv.node_id = *node;
      wv.attribute_id = opcua::attribute_id::Value;
      wv.value = opcua::DataValue(opcua::Variant(value));
      w.nodes_to_write.push_back(wv);
      auto written = std::make_shared<std::promise<std::string>>();
      auto wf = written->get_future();
      client->call<opcua::WriteResponse>(
          std::move(w), [written](opcua::result<opcua::WriteResponse> r) {
            if (!r)
              written->set_value("write: " + r.error().reason);
            else if (r->results.size() != 1)
              written->set_value("write: no result");
            else if (!r->results[0].is_good())
              written->set_value("write: " + opcua::to_string(r->results[0]));
            else
              written->set_value("");
          });
      outcome = wf.wait_for(10s) == std::future_status::ready ? wf.get() : "write: no answer";
    }
    auto closed = std::make_shared<std::promise<void>>();
    auto df = closed->get_future();
    client->disconnect([closed] { closed->set_value(); });
    df.wait_for(5s);
  }
  work.reset();
  io.stop();
  runner.join();
  return outcome;
}

bool holds_for(const std::function<bool()>& pred, std::chrono::milliseconds duration) {
  auto end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end) {
    if (!pred()) return false;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

} // namespace tandem::test::face
