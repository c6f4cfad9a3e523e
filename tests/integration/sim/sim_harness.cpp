#include "sim_harness.hpp"

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "tests/support/opcua_peer.hpp"
#include "transports/opcua/node_ids.hpp"

namespace tandem::test {

using namespace std::chrono_literals;
using namespace tandem::opcua;

std::string builtin_sim_toml(int64_t rate_ms, int64_t items, const std::string& server_lines) {
  std::ostringstream t;
  t << "[server]\nrate_ms = " << rate_ms << "\n" << server_lines;
  t << "[[server.user]]\nname = \"op1\"\npassword = \"secret1\"\n\n";
  t << "[[folder]]\nname = \"Sim\"\n";
  auto var = [&](const std::string& body) { t << "\n[[folder.variable]]\n" << body; };
  var("name = \"Counter\"\ntype = \"Int32\"\ngenerator = \"counter\"\n");
  var("name = \"Ramp\"\ntype = \"Double\"\ngenerator = \"ramp\"\nperiod_ms = " +
      std::to_string(100 * rate_ms) + "\n");
  var("name = \"Sine\"\ntype = \"Double\"\ngenerator = \"sine\"\nperiod_ms = " +
      std::to_string(100 * rate_ms) + "\nmin = -1.0\nmax = 1.0\n");
  var("name = \"Heartbeat\"\ntype = \"Boolean\"\ngenerator = \"square\"\nperiod_ms = " +
      std::to_string(2 * rate_ms) + "\n");
  var("name = \"Random\"\ntype = \"Double\"\ngenerator = \"random\"\n");
  var("name = \"Setpoint\"\ntype = \"Double\"\nwritable = true\nvalue = 0.0\n");
  var("name = \"Text\"\ntype = \"String\"\nwritable = true\nvalue = \"hello\"\n");
  var("name = \"Array\"\ntype = \"Double\"\ngenerator = \"counter\"\nlength = 10\n");
  if (items > 0)
    var("name = \"Item\"\ntype = \"Double\"\ngenerator = \"counter\"\ncount = " +
        std::to_string(items) + "\n");
  return t.str();
}

// -- sim_process ---------------------------------------------------------------------------------

sim_process::sim_process(const temp_dir& dir, std::vector<std::string> args,
                         const std::string& name) {
  std::vector<std::string> argv{tandem_binary(), "sim", "--port", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  proc_ = std::make_unique<child_process>(argv, dir.file(name), "", "|");
  bool ready = wait_for(
      [&] { return !proc_->running() || proc_->out().find("ready ") != std::string::npos; }, 15s);
  if (!ready || !proc_->running()) {
    why_ = "tandem sim did not start: " + proc_->err().substr(0, 2000);
    return;
  }
  std::istringstream in(proc_->out());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("ready ", 0) == 0) port_ = static_cast<uint16_t>(std::stoi(line.substr(6)));
    if (line.rfind("endpoint ", 0) == 0) url_ = line.substr(9);
    if (line.rfind("namespace 1 ", 0) == 0) ns_uri_ = line.substr(12);
  }
  ok_ = port_ != 0 && !url_.empty();
  if (!ok_) why_ = "unexpected start-up lines: " + proc_->out();
}

std::vector<std::string> sim_process::replies() const {
  std::vector<std::string> out;
  std::istringstream in(proc_->out());
  for (std::string line; std::getline(in, line);)
    if (line.rfind("ok ", 0) == 0 || line.rfind("error ", 0) == 0) out.push_back(line);
  return out;
}

std::string sim_process::command(const std::string& line, std::chrono::milliseconds timeout) {
  size_t before = replies().size();
  if (!proc_->write_stdin(line + "\n")) return "";
  std::string reply;
  wait_for(
      [&] {
        auto r = replies();
        if (r.size() <= before) return false;
        reply = r[before];
        return true;
      },
      timeout);
  return reply;
}

// -- ua_session ----------------------------------------------------------------------------------

struct ua_session::shared {
  mutable std::mutex mutex;
  bool done = false;
  std::optional<error> connect_error;
  bool lost = false;
  std::string lost_reason;
};

ua_session::ua_session(boost::asio::io_context& io, const std::string& url,
                       std::chrono::milliseconds request_timeout)
    : state_(std::make_shared<shared>()) {
  client_options o;
  o.url = url;
  o.request_timeout = request_timeout;
  client_ = ua_client::create(io, o);
  client_->set_lost_handler([st = state_](const error& e) {
    std::lock_guard<std::mutex> lock(st->mutex);
    st->lost = true;
    st->lost_reason = e.reason;
  });
}

ua_session::~ua_session() {
  disconnect();
}

void ua_session::connect_async() {
  client_->connect([st = state_](const error* e) {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (e) st->connect_error = *e;
    st->done = true;
  });
}

bool ua_session::connect_done() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->done;
}

std::optional<error> ua_session::connect_error() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->connect_error;
}

std::optional<error> ua_session::connect(std::chrono::milliseconds timeout) {
  connect_async();
  if (!wait_for([&] { return connect_done(); }, timeout))
    return error{status::BadTimeout, "connect did not finish within the test's deadline"};
  return connect_error();
}

void ua_session::disconnect() {
  if (!client_) return;
  auto p = std::make_shared<std::promise<void>>();
  auto f = p->get_future();
  client_->disconnect([p] { p->set_value(); });
  f.wait_for(5s);
  client_.reset();
}

bool ua_session::lost() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->lost;
}

std::string ua_session::lost_reason() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->lost_reason;
}

result<std::vector<DataValue>> ua_session::read(const std::vector<NodeId>& nodes,
                                                uint32_t attribute) {
  ReadRequest r;
  r.timestamps_to_return = TimestampsToReturn::Both;
  for (const auto& n : nodes) {
    ReadValueId v;
    v.node_id = n;
    v.attribute_id = attribute;
    r.nodes_to_read.push_back(v);
  }
  auto resp = call<ReadResponse>(r);
  if (!resp) return resp.error();
  if (resp->results.size() != nodes.size())
    return error{status::BadUnexpectedError, "Read answered " +
                                                 std::to_string(resp->results.size()) +
                                                 " results for " + std::to_string(nodes.size())};
  return std::vector<DataValue>(resp->results.begin(), resp->results.end());
}

result<StatusCode> ua_session::write(const NodeId& node, Variant v) {
  WriteRequest w;
  WriteValue wv;
  wv.node_id = node;
  wv.value = DataValue(std::move(v));
  w.nodes_to_write.push_back(wv);
  auto resp = call<WriteResponse>(w);
  if (!resp) return resp.error();
  if (resp->results.size() != 1) return error{status::BadUnexpectedError, "Write: no result"};
  return resp->results[0];
}

result<std::vector<ReferenceDescription>> ua_session::browse(const NodeId& node,
                                                             uint32_t max_per_call) {
  BrowseRequest br;
  br.requested_max_references_per_node = max_per_call;
  BrowseDescription d;
  d.node_id = node;
  d.reference_type_id = NodeId(node_ids::HierarchicalReferences);
  d.include_subtypes = true;
  br.nodes_to_browse.push_back(d);
  auto r = call<BrowseResponse>(br);
  if (!r) return r.error();
  if (r->results.size() != 1) return error{status::BadUnexpectedError, "Browse: no result"};
  if (r->results[0].status_code.is_bad())
    return error{r->results[0].status_code, "Browse of " + node.to_string()};
  std::vector<ReferenceDescription> out(r->results[0].references.begin(),
                                        r->results[0].references.end());
  ByteString cp = r->results[0].continuation_point;
  for (int rounds = 0; !cp.empty() && rounds < 100000; ++rounds) {
    BrowseNextRequest next;
    next.continuation_points.push_back(cp);
    auto n = call<BrowseNextResponse>(next);
    if (!n) return n.error();
    if (n->results.size() != 1) return error{status::BadUnexpectedError, "BrowseNext: no result"};
    out.insert(out.end(), n->results[0].references.begin(), n->results[0].references.end());
    cp = n->results[0].continuation_point;
  }
  return out;
}

// -- ua_subscription -----------------------------------------------------------------------------

struct ua_subscription::shared {
  mutable std::mutex mutex;
  std::vector<sample> samples;
  std::vector<size_t> per_handle;
  bool stopped = false;
  std::string stop_reason;
};

result<std::shared_ptr<ua_subscription>>
ua_subscription::create(ua_session& s, const std::vector<NodeId>& items, double publishing_ms,
                        uint32_t queue_size, double sampling_ms) {
  std::shared_ptr<ua_subscription> sub(new ua_subscription());
  sub->state_ = std::make_shared<shared>();
  sub->state_->per_handle.resize(items.size());
  CreateSubscriptionRequest cs;
  cs.requested_publishing_interval = publishing_ms;
  cs.requested_lifetime_count = 300;
  cs.requested_max_keep_alive_count = 10;
  auto r = s.call<CreateSubscriptionResponse>(cs);
  if (!r) return r.error();
  sub->id_ = r->subscription_id;
  sub->revised_ms_ = r->revised_publishing_interval;

  // The pipeline starts before the items exist, so their first values are not missed.
  auto st = sub->state_;
  sub->pub_ = publisher::create(
      s.client(), 3, std::chrono::seconds(15),
      [st](uint32_t, NotificationMessage& msg) {
        auto now = std::chrono::steady_clock::now();
        std::lock_guard<std::mutex> lock(st->mutex);
        for (const auto& eo : msg.notification_data) {
          auto n = decode_notification(eo);
          if (!n) continue;
          if (auto* dc = std::get_if<DataChangeNotification>(&*n))
            for (const auto& mi : dc->monitored_items) {
              st->samples.push_back(sample{mi.client_handle, mi.value, now});
              if (mi.client_handle < st->per_handle.size()) ++st->per_handle[mi.client_handle];
            }
        }
      },
      [st](const error& e) {
        std::lock_guard<std::mutex> lock(st->mutex);
        st->stopped = true;
        st->stop_reason = e.reason;
      });
  sub->pub_->start();

  for (size_t off = 0; off < items.size(); off += 1000) {
    CreateMonitoredItemsRequest ci;
    ci.subscription_id = sub->id_;
    ci.timestamps_to_return = TimestampsToReturn::Both;
    for (size_t i = off; i < std::min(items.size(), off + 1000); ++i) {
      MonitoredItemCreateRequest m;
      m.item_to_monitor.node_id = items[i];
      m.monitoring_mode = MonitoringMode::Reporting;
      m.requested_parameters.client_handle = static_cast<uint32_t>(i);
      m.requested_parameters.sampling_interval = sampling_ms;
      m.requested_parameters.queue_size = queue_size;
      m.requested_parameters.discard_oldest = true;
      ci.items_to_create.push_back(m);
    }
    auto cr = s.call<CreateMonitoredItemsResponse>(ci);
    if (!cr) return cr.error();
    for (const auto& res : cr->results)
      sub->item_status_.push_back(res.status_code);
  }
  return sub;
}

ua_subscription::~ua_subscription() {
  stop();
}

void ua_subscription::stop() {
  if (pub_) pub_->stop();
}

std::vector<sample> ua_subscription::samples() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->samples;
}

std::vector<sample> ua_subscription::samples_of(uint32_t handle) const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  std::vector<sample> out;
  for (const auto& s : state_->samples)
    if (s.handle == handle) out.push_back(s);
  return out;
}

size_t ua_subscription::count() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->samples.size();
}

size_t ua_subscription::count_of(uint32_t handle) const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return handle < state_->per_handle.size() ? state_->per_handle[handle] : 0;
}

bool ua_subscription::stopped() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->stopped;
}

std::string ua_subscription::stop_reason() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->stop_reason;
}

// -- node-opcua client.js ------------------------------------------------------------------------

bool node_opcua_installed() {
  return std::filesystem::exists(interop_dir() + "/node_modules/node-opcua");
}

nlohmann::json node_run::event(const std::string& name) const {
  nlohmann::json found;
  for (const auto& l : lines)
    if (l.is_object() && l.value("event", "") == name) found = l;
  return found;
}

std::vector<nlohmann::json> node_run::events(const std::string& name) const {
  std::vector<nlohmann::json> out;
  for (const auto& l : lines)
    if (l.is_object() && l.value("event", "") == name) out.push_back(l);
  return out;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::string node_pki_dir() {
#ifdef SIM_IT_NODE_PKI
  return SIM_IT_NODE_PKI;
#else
  return "/tmp/tandem-sim-it-node-pki";
#endif
}

bool prepare_node_pki(const std::string& url, std::string& why) {
  std::string dir = node_pki_dir();
  std::string marker = dir + "/.ready";
  if (std::filesystem::exists(marker)) return true;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
  int fd = ::open((dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    why = "cannot open the PKI lock file";
    return false;
  }
  ::flock(fd, LOCK_EX);
  bool ok = std::filesystem::exists(marker);
  if (!ok) {
    temp_dir logs;
    child_process p({"node", interop_dir() + "/client.js", "read", url, "i=2267", "--pki", dir,
                     "--timeout-ms", "20000"},
                    logs.file("pki"));
    auto code = p.wait(40s);
    ok = code && *code == 0;
    if (ok)
      std::ofstream(marker) << "made by tests/integration/sim\n";
    else
      why = "client.js could not make its PKI: " + p.out() + p.err().substr(0, 2000);
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  return ok;
}

std::unique_ptr<child_process> start_node_client(const temp_dir& dir, std::vector<std::string> args,
                                                 const std::string& name) {
  std::vector<std::string> argv{"node", interop_dir() + "/client.js"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--pki");
  argv.push_back(node_pki_dir());
  return std::make_unique<child_process>(argv, dir.file(name));
}

node_run finish_node_client(child_process& p, std::chrono::milliseconds timeout) {
  node_run out;
  auto code = p.wait(timeout);
  out.code = code ? *code : -1;
  out.lines = json_lines(p.out());
  out.err = p.err();
  return out;
}

node_run run_node_client(const temp_dir& dir, std::vector<std::string> args,
                         const std::string& name, std::chrono::milliseconds timeout) {
  auto p = start_node_client(dir, std::move(args), name);
  return finish_node_client(*p, timeout);
}

} // namespace tandem::test
