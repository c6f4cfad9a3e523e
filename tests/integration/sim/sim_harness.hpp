#pragma once
/// Helpers for the `tandem sim` integration tests: the simulation server as a child process on
/// a port it picks itself (--port 0, read back from its `ready PORT` line) with its stdin
/// commands, TOML for the built-in address space with extra [server] settings, synchronous
/// wrappers around the project's own ua_client (calls, subscriptions that record every value),
/// and the stock node-opcua client CLI (tests/interop/client.js).

#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"
#include "transports/opcua/client/client.hpp"
#include "transports/opcua/client/subscription.hpp"
#include "transports/opcua/node_ids.hpp"

namespace tandem::test {

/// TOML that builds the same address space as `tandem sim --items N --rate-ms R` (folder Sim:
/// Counter, Ramp, Sine, Heartbeat, Random, Setpoint, Text, Array, ItemNNNN), with `server_lines`
/// added to its [server] table (e.g. "max_sessions = 3\ntoken_lifetime_ms = 1000\n").
std::string builtin_sim_toml(int64_t rate_ms, int64_t items, const std::string& server_lines = "");

/// A `tandem sim` process listening on a free loopback port, stdin piped for its commands.
class sim_process {
public:
  /// Starts `tandem sim --port 0 <args>` and waits (up to 15 s) for `ready PORT`.
  sim_process(const temp_dir& dir, std::vector<std::string> args, const std::string& name = "sim");
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  uint16_t port() const { return port_; }
  /// The URL from its `endpoint` line (opc.tcp://127.0.0.1:PORT/sim).
  const std::string& url() const { return url_; }
  /// The URI from its `namespace 1` line.
  const std::string& namespace_uri() const { return ns_uri_; }
  /// Sends one stdin command and waits for its reply line ("ok ..." or "error ..."); "" when
  /// no reply came within `timeout`.
  std::string command(const std::string& line,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  child_process& proc() { return *proc_; }

private:
  std::vector<std::string> replies() const;
  std::unique_ptr<child_process> proc_;
  bool ok_ = false;
  std::string why_, url_, ns_uri_;
  uint16_t port_ = 0;
};

/// Unix milliseconds of a DateTime.
inline int64_t unix_ms(const opcua::DateTime& t) {
  return t.to_unix_ms();
}

/// One of the project's ua_client sessions, driven synchronously from the test thread (never
/// from the io_context's threads).
class ua_session {
public:
  ua_session(boost::asio::io_context& io, const std::string& url,
             std::chrono::milliseconds request_timeout = std::chrono::seconds(5));
  ~ua_session();
  ua_session(const ua_session&) = delete;
  ua_session& operator=(const ua_session&) = delete;

  /// Opens the channel and an activated session; the error when it failed.
  std::optional<opcua::error> connect(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Starts connect() and returns at once: wait with connected()/connect_error().
  void connect_async();
  bool connect_done() const;
  /// After connect_done(): the failure, if any.
  std::optional<opcua::error> connect_error() const;
  /// Closes the session and the channel (waits up to 5 s).
  void disconnect();
  /// True once the connection was lost after connect() succeeded.
  bool lost() const;
  std::string lost_reason() const;

  template <class Resp, class Req>
  opcua::result<Resp> call(Req req, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto p = std::make_shared<std::promise<opcua::result<Resp>>>();
    auto f = p->get_future();
    client_->call<Resp>(std::move(req), [p](opcua::result<Resp> r) { p->set_value(std::move(r)); });
    if (f.wait_for(timeout) != std::future_status::ready)
      return opcua::error{opcua::status::BadTimeout,
                          "no answer from the client within the test's deadline"};
    return f.get();
  }

  /// Reads the Value attribute (or `attribute`) of each node.
  opcua::result<std::vector<opcua::DataValue>>
  read(const std::vector<opcua::NodeId>& nodes, uint32_t attribute = opcua::attribute_id::Value);
  /// Writes one Value; the operation's status.
  opcua::result<opcua::StatusCode> write(const opcua::NodeId& node, opcua::Variant v);
  /// Every forward hierarchical reference of `node`, following continuation points.
  opcua::result<std::vector<opcua::ReferenceDescription>> browse(const opcua::NodeId& node,
                                                                 uint32_t max_per_call = 0);

  const std::shared_ptr<opcua::ua_client>& client() const { return client_; }

private:
  std::shared_ptr<opcua::ua_client> client_;
  struct shared;
  std::shared_ptr<shared> state_;
};

/// One value received by a ua_subscription.
struct sample {
  uint32_t handle = 0; ///< index of the item in the list given to create()
  opcua::DataValue value;
  std::chrono::steady_clock::time_point arrival;
};

/// A subscription on a ua_session with a Publish pipeline that records every value.
class ua_subscription {
public:
  /// Creates the subscription and its items (client handle = index in `items`), then starts
  /// publishing. Item results are in item_status().
  static opcua::result<std::shared_ptr<ua_subscription>>
  create(ua_session& s, const std::vector<opcua::NodeId>& items, double publishing_ms,
         uint32_t queue_size = 10, double sampling_ms = -1);
  ~ua_subscription();

  std::vector<sample> samples() const;
  /// Values of item `handle` received so far.
  std::vector<sample> samples_of(uint32_t handle) const;
  size_t count() const;
  size_t count_of(uint32_t handle) const;
  /// Set when publishing stopped (session or channel gone, subscription deleted).
  bool stopped() const;
  std::string stop_reason() const;
  uint32_t id() const { return id_; }
  double revised_publishing_ms() const { return revised_ms_; }
  const std::vector<opcua::StatusCode>& item_status() const { return item_status_; }
  /// Stops the Publish pipeline.
  void stop();

private:
  ua_subscription() = default;
  struct shared;
  std::shared_ptr<shared> state_;
  std::shared_ptr<opcua::publisher> pub_;
  uint32_t id_ = 0;
  double revised_ms_ = 0;
  std::vector<opcua::StatusCode> item_status_;
};

/// Whether tests/interop has node-opcua installed (the node tests skip without it).
bool node_opcua_installed();

/// A client.js run: exit code, the JSON lines it printed, its stderr.
struct node_run {
  int code = -1;
  std::vector<nlohmann::json> lines;
  std::string err;
  /// The last line whose "event" is `name` (null when none).
  nlohmann::json event(const std::string& name) const;
  /// Every line whose "event" is `name`.
  std::vector<nlohmann::json> events(const std::string& name) const;
};

/// Parses JSON lines (others are skipped).
std::vector<nlohmann::json> json_lines(const std::string& text);

/// The node-opcua client PKI folder the tests share (in the build tree, so its certificate is
/// made once). Call prepare_node_pki() with a live server before starting clients in parallel.
std::string node_pki_dir();
/// Makes sure the shared PKI exists (one client.js read of i=2267 against `url` under a file
/// lock if it does not), so that parallel clients do not all create it.
bool prepare_node_pki(const std::string& url, std::string& why);

/// Starts `node client.js <args> --pki <shared>` with output under `dir` as `name`.
std::unique_ptr<child_process> start_node_client(const temp_dir& dir, std::vector<std::string> args,
                                                 const std::string& name);
/// Waits for a started client to exit and collects its output.
node_run finish_node_client(child_process& p,
                            std::chrono::milliseconds timeout = std::chrono::seconds(40));
/// Runs client.js to completion.
node_run run_node_client(const temp_dir& dir, std::vector<std::string> args,
                         const std::string& name,
                         std::chrono::milliseconds timeout = std::chrono::seconds(40));

} // namespace tandem::test
