// `tandem node -c FILE`: runs one node until SIGINT/SIGTERM.

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/interfaces.hpp"
#include "actors/partner_link.hpp"
#include "actors/supervisor.hpp"
#include "config/config.hpp"
#include "config/password.hpp"
#include "storage/alarm_store.hpp"
#include "storage/event_store.hpp"
#include "storage/history_store.hpp"
#include "tools/commands.hpp"
#include "transports/console/server.hpp"
#include "transports/http/server.hpp"
#include "transports/opcua/face/pair_space.hpp"
#include "transports/opcua/server/server.hpp"
#include "transports/partner/pki.hpp"
#include "transports/partner/tls_stream.hpp"
#include "transports/smtp/mail.hpp"

namespace tandem::tools {

namespace {

/// I/O threads by name, each an io_context with its own thread, made on first use and kept
/// (an actor restarted under the same name gets the same one). Each upstream server has its own,
/// so one server's flood of notifications never delays another's keep-alives or status replies
/// (a warm standby looked silent behind its active partner's 100,000 values a second), nor one
/// pair another's; the face has its own too.
class io_pool {
public:
  boost::asio::io_context& get(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& r = runners_[name];
    if (!r) {
      r = std::make_unique<runner>();
      r->thread = std::thread([io = &r->io] { io->run(); });
    }
    return r->io;
  }
  /// Stops every context and joins its thread; the contexts live on until the pool goes, so
  /// the objects that used them can still be destroyed.
  void stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [name, r] : runners_) {
      r->work.reset();
      r->io.stop();
      if (r->thread.joinable()) r->thread.join();
    }
  }
  ~io_pool() { stop(); }

private:
  struct runner {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
        boost::asio::make_work_guard(io);
    std::thread thread;
  };
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<runner>> runners_;
};

/// Checks face logins against the [[face.user]] hashes. A PBKDF2 check costs about 0.1 s by
/// design, so a login that matched is remembered (by an HMAC of user and password under a key of
/// this process, never the password) and a client reconnecting with it is not slowed again.
std::function<bool(const std::string&, const std::string&)>
face_user_check(const std::vector<config::user_entry>& users) {
  struct remembered {
    std::mutex mutex;
    std::set<std::string> ok; ///< HMACs of "user\0password" that matched
    std::array<unsigned char, 32> key{};
  };
  auto r = std::make_shared<remembered>();
  RAND_bytes(r->key.data(), static_cast<int>(r->key.size()));
  std::map<std::string, std::string> hashes;
  for (const auto& u : users)
    hashes[u.name] = u.password_hash;
  return [hashes, r](const std::string& user, const std::string& password) {
    auto it = hashes.find(user);
    if (it == hashes.end()) return false;
    std::string msg = user + std::string(1, '\0') + password;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), r->key.data(), static_cast<int>(r->key.size()),
         reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
    std::string tag(reinterpret_cast<char*>(mac), len);
    {
      std::lock_guard<std::mutex> g(r->mutex);
      if (r->ok.count(tag)) return true;
    }
    if (!config::verify_password(password, it->second)) return false;
    std::lock_guard<std::mutex> g(r->mutex);
    if (r->ok.size() < 10'000) r->ok.insert(tag);
    return true;
  };
}

/// Whether a TCP port can be listened on now: "" or why not (the socket is closed again).
std::string probe_listen(boost::asio::io_context& io, const config::endpoint& where) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(where.host, ec);
  if (ec) return "not an IP address";
  boost::asio::ip::tcp::acceptor a(io);
  boost::asio::ip::tcp::endpoint ep(addr, where.port);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(boost::asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(1, ec);
  return ec ? ec.message() : "";
}

/// Connects the console socket to whichever CONSOLE actor is current (it may be restarted).
class console_bridge : public transports::console_handler {
public:
  void attach(const console_actor& a) {
    std::lock_guard<std::mutex> g(mtx_);
    target_ = a;
  }
  void on_line(std::shared_ptr<console_peer> peer, std::string line) override {
    auto t = current();
    if (!t) {
      peer->send(R"({"error": "the node is starting or stopping; try again"})");
      return;
    }
    caf::anon_send(t, console_request{std::move(peer), std::move(line)});
  }
  void on_close(uint64_t id) override {
    if (auto t = current()) caf::anon_send(t, atom::closed_v, id);
  }

private:
  console_actor current() {
    std::lock_guard<std::mutex> g(mtx_);
    return target_;
  }
  std::mutex mtx_;
  console_actor target_;
};

/// Connects the HTTP transport to whichever HTTP actor is current (it may be restarted).
class http_bridge : public transports::http::http_handler {
public:
  void attach(const http_actor& a) {
    std::lock_guard<std::mutex> g(mtx_);
    target_ = a;
  }
  void on_request(http_request req) override {
    auto t = current();
    if (!t) {
      req.exchange->respond(503, "application/json",
                            "{\"error\": \"the node is starting or stopping; try again\"}\n");
      return;
    }
    caf::anon_send(t, std::move(req));
  }
  void on_close(uint64_t id) override {
    if (auto t = current()) caf::anon_send(t, atom::closed_v, id);
  }

private:
  http_actor current() {
    std::lock_guard<std::mutex> g(mtx_);
    return target_;
  }
  std::mutex mtx_;
  http_actor target_;
};

/// The password a pair's sessions use, from its password_file (first line); empty when none.
std::string read_password(const std::string& file) {
  if (file.empty()) return {};
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

/// The SMTP password of [notifications]: the first line of password_file, or the value of the
/// environment variable password_env. Read once at start; a problem is a warning (the mail then
/// goes without a password, and a server that wants one refuses it with a clear event).
std::string notification_password(const config::notifications_section& n,
                                  std::vector<std::string>& warnings) {
  if (!n.password_file.empty()) {
    std::ifstream in(n.password_file);
    if (!in) {
      warnings.push_back("notifications.password_file: cannot read " + n.password_file + ": " +
                         std::strerror(errno) + "; mail is sent without a password");
      return {};
    }
    return read_password(n.password_file);
  }
  if (!n.password_env.empty()) {
    const char* v = std::getenv(n.password_env.c_str());
    if (!v) {
      warnings.push_back("notifications.password_env: the environment variable " + n.password_env +
                         " is not set; mail is sent without a password");
      return {};
    }
    return v;
  }
  return {};
}

int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

int run_node(const std::string& config_path) {
  auto res = config::load_file(config_path);
  std::vector<std::string> warnings;
  for (auto& p : res.problems) {
    std::cerr << p.text() << "\n";
    if (p.lvl == config::problem::level::warning) warnings.push_back(p.text());
  }
  if (!res.ok()) {
    std::cerr << "tandem: refusing to start: " << res.error_count() << " error"
              << (res.error_count() == 1 ? "" : "s") << " in " << config_path << "\n";
    return exit_bad_config;
  }
  const config::node_config cfg = std::move(*res.config);

  std::error_code fec;
  std::filesystem::create_directories(cfg.node.data_dir, fec);
  if (fec) {
    std::cerr << "tandem: cannot create data directory " << cfg.node.data_dir << ": "
              << fec.message() << "\n";
    return exit_startup;
  }
  std::filesystem::permissions(cfg.node.data_dir, std::filesystem::perms::others_all,
                               std::filesystem::perm_options::remove, fec);

  std::string err, notice;
  std::shared_ptr<storage::event_store> store =
      storage::event_store::open(cfg.node.data_dir + "/events.db", err, notice);
  if (!store) {
    std::cerr << "tandem: " << err << "\n";
    return exit_startup;
  }
  if (!notice.empty()) {
    std::cerr << "tandem: " << notice << "\n";
    warnings.push_back(notice);
  }

  // Item history and alarms: one SQLite file each beside the events.
  std::string history_notice, alarm_notice;
  std::shared_ptr<storage::history_store> history =
      storage::history_store::open(cfg.node.data_dir + "/history.db", err, history_notice);
  std::shared_ptr<storage::alarm_store> alarms;
  if (history)
    alarms = storage::alarm_store::open(cfg.node.data_dir + "/alarms.db", err, alarm_notice);
  if (!history || !alarms) {
    std::cerr << "tandem: " << err << "\n";
    return exit_startup;
  }
  for (auto* n : {&history_notice, &alarm_notice})
    if (!n->empty()) {
      std::cerr << "tandem: " << *n << "\n";
      warnings.push_back(*n);
    }

  std::shared_ptr<smtp::mail_sender> mail_sender;
  if (!cfg.notifications.smtp_url.empty()) {
    smtp::smtp_options so;
    so.url = cfg.notifications.smtp_url;
    so.username = cfg.notifications.username;
    so.ca_file = cfg.notifications.ca_file;
    std::vector<std::string> pw_warnings;
    so.password = notification_password(cfg.notifications, pw_warnings);
    for (auto& w : pw_warnings) {
      std::cerr << "tandem: warning: " << w << "\n";
      warnings.push_back(w);
    }
    mail_sender = smtp::make_curl_sender(std::move(so));
  }

  // The partner link's identity and trust list (docs/PKI.md): made on first start.
  std::shared_ptr<partner::pki_store> pki;
  std::shared_ptr<partner::tls_context> tls;
  if (cfg.redundancy.node_role != config::role::independent) {
    bool created = false;
    pki = partner::pki_store::open(cfg.node.data_dir + "/pki", cfg.node.name, err, &created);
    if (pki) tls = partner::tls_context::make(pki, err);
    if (!pki || !tls) {
      std::cerr << "tandem: " << err << "\n";
      return exit_startup;
    }
    std::cout << "tandem: " << (created ? "created the " : "") << "partner-link certificate "
              << pki->own().thumbprint << " (" << pki->own().subject << ") in " << pki->dir()
              << std::endl;
  }

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  console_bridge bridge;
  transports::console_server console_srv(io, cfg.node.console_socket, bridge);
  if (!cfg.node.console_group.empty()) console_srv.allow_group(cfg.node.console_group);
  if (!console_srv.start(err)) {
    std::cerr << "tandem: " << err << "\n";
    return exit_startup;
  }

  // The status page, JSON API and /metrics (docs/HTTP.md), when http.listen is set.
  http_bridge http_handler;
  std::unique_ptr<transports::http::http_server> http_srv;
  if (cfg.http.listen) {
    http_srv = std::make_unique<transports::http::http_server>(io, cfg.http.listen->host,
                                                               cfg.http.listen->port, http_handler);
    if (!http_srv->start(err)) {
      std::cerr << "tandem: " << err << " (http.listen)\n";
      console_srv.stop();
      return exit_startup;
    }
  }

  io_pool ios; // outlives the actor system: the links and the face use its contexts
  caf::actor_system_config acfg;
  // The sharing scheduler answers messages from Asio threads in ~27 µs instead of ~105 µs.
  acfg.set("scheduler.policy", caf::atom("sharing"));
  int code = exit_ok;
  {
    caf::actor_system sys{acfg};
    node_runtime rt;
    rt.events = store;
    rt.history = history;
    rt.alarms = alarms;
    rt.wall_now = wall_now_ms;
    rt.startup_warnings = warnings;
    rt.attach_console = [&bridge](const console_actor& a) { bridge.attach(a); };
    rt.stop_accepting = [&console_srv, &http_srv] {
      console_srv.stop();
      if (http_srv) http_srv->stop();
    };
    rt.attach_http = [&http_handler](const http_actor& a) { http_handler.attach(a); };
    rt.mail_sender = mail_sender;
    rt.make_link = [&ios, &cfg](const config::pair_section& p, int index,
                                std::shared_ptr<opcua::link_events> ev) {
      auto& io = ios.get("server " + p.alias + (index == 0 ? "/primary" : "/secondary"));
      opcua::ua_link_options o;
      o.url = index == 0 ? p.primary : p.secondary;
      o.user = p.user;
      o.password = read_password(p.password_file);
      o.session_name = "tandem " + cfg.node.name + " " + p.alias;
      return opcua::make_ua_link(io, o, std::move(ev));
    };
    // The face: each pair at opc.tcp://<face.listen>/<alias>.
    std::shared_ptr<opcua::server_endpoint> face;
    if (!cfg.pairs.empty()) {
      opcua::server_options fo;
      fo.host = cfg.face.listen.host;
      fo.port = cfg.face.listen.port;
      fo.application_uri = cfg.face.application_uri;
      fo.product_uri = "urn:tandem";
      fo.application_name = "Tandem " + cfg.node.name;
      face = opcua::server_endpoint::create(ios.get("face"), fo);
      for (const auto& p : cfg.pairs) {
        opcua::pair_space_options po;
        po.alias = p.alias;
        po.application_uri = cfg.face.application_uri;
        po.anonymous = cfg.face.anonymous;
        if (!cfg.face.users.empty()) po.user_check = face_user_check(cfg.face.users);
        auto space = std::make_shared<opcua::pair_space>(po);
        rt.faces[p.alias] = space;
        face->add_endpoint("/" + p.alias, space);
      }
      auto port = face->start();
      if (!port) {
        std::cerr << "tandem: cannot serve OPC UA clients on " << cfg.face.listen.text() << ": "
                  << port.error().reason << "\n";
        console_srv.stop();
        return exit_startup;
      }
    }
    if (face) {
      rt.face_port = face->port();
      rt.client_sessions = [face] { return face->session_count(); };
    }
    // The partner link of a master or backup: always TLS with mutual authentication.
    if (cfg.redundancy.node_role != config::role::independent) {
      // A link port that cannot be opened at start is a configuration problem, said at once
      // like the face's (later, a restarted link retries instead).
      if (std::string why = probe_listen(io, cfg.redundancy.listen); !why.empty()) {
        std::cerr << "tandem: cannot open the partner link on redundancy.listen "
                  << cfg.redundancy.listen.text() << ": " << why << "\n";
        console_srv.stop();
        if (face) face->stop();
        return exit_startup;
      }
      auto o = tcp_link_options_from(cfg);
      o.tls = tls;
      rt.pki = pki;
      rt.make_partner_transport = [&io, o](partner_hello own,
                                           std::shared_ptr<partner::link_events> ev) {
        return partner::make_tcp_transport(io, o, std::move(own), std::move(ev));
      };
    }
    auto sup = sys.spawn(supervisor, cfg, rt);

    std::promise<caf::error> ended;
    sup->attach_functor([&ended](const caf::error& reason) { ended.set_value(reason); });

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    int signals_seen = 0;
    std::function<void(const boost::system::error_code&, int)> on_signal;
    on_signal = [&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (++signals_seen > 1) {
        std::cerr << "tandem: second signal; forcing exit\n";
        std::_Exit(exit_forced);
      }
      std::cerr << "tandem: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
                << ": stopping (send it again to force)\n";
      caf::anon_send(sup, atom::shutdown_v);
      signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
    std::thread io_thread([&io] { io.run(); });

    std::cout << "tandem: node " << cfg.node.name << " running (role "
              << config::to_string(cfg.redundancy.node_role) << ", " << cfg.pairs.size() << " pair"
              << (cfg.pairs.size() == 1 ? "" : "s") << "); console: " << cfg.node.console_socket
              << std::endl;
    if (http_srv)
      std::cout << "tandem: status page at http://" << cfg.http.listen->host << ":"
                << http_srv->port() << "/" << std::endl;
    if (face)
      for (const auto& p : cfg.pairs)
        std::cout << "tandem: pair " << p.alias << " served at opc.tcp://" << cfg.face.listen.host
                  << ":" << face->port() << "/" << p.alias << std::endl;

    caf::error reason = ended.get_future().get();
    if (reason && reason != caf::exit_reason::user_shutdown && reason != caf::exit_reason::normal) {
      std::cerr << "tandem: node stopped after a failure: " << caf::to_string(reason) << "\n";
      code = exit_failure;
    }
    console_srv.stop();
    if (http_srv) http_srv->stop();
    if (face) face->stop();
    signals.cancel();
    work.reset();
    io.stop();
    io_thread.join();
    ios.stop();
    sup = nullptr;
    // ~actor_system waits for every actor to finish.
  }
  mail_sender.reset(); // finishes the mail being sent, drops the rest
  store.reset();       // closes the databases after the last actor let go of them
  history.reset();
  alarms.reset();
  std::cout << "tandem: node " << cfg.node.name << " stopped" << std::endl;
  return code;
}

} // namespace tandem::tools
