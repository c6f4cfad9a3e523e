#include "transports/console/server.hpp"

#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

namespace tandem::transports {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

std::string peer_user(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return "uid ?";
  std::string who = "uid " + std::to_string(cred.uid);
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[1024];
  if (::getpwuid_r(cred.uid, &pw, buf, sizeof buf, &found) == 0 && found)
    who += std::string(" (") + found->pw_name + ")";
  return who;
}

namespace {

std::atomic<uint64_t> next_peer_id{1};

class session : public console_peer, public std::enable_shared_from_this<session> {
public:
  session(local::socket sock, console_handler& handler, const console_limits& limits,
          std::function<void(uint64_t)> on_gone)
      : sock_(std::move(sock)), strand_(asio::make_strand(sock_.get_executor())), handler_(handler),
        limits_(limits), on_gone_(std::move(on_gone)), id_(next_peer_id++),
        who_(peer_user(sock_.native_handle())) {}

  uint64_t id() const override { return id_; }
  std::string who() const override { return who_; }

  void send(std::string line) override {
    line += '\n';
    asio::post(strand_, [self = shared_from_this(), line = std::move(line)]() mutable {
      self->enqueue(std::move(line));
    });
  }

  void start() {
    asio::post(strand_, [self = shared_from_this()] { self->read(); });
  }

  void close() {
    asio::post(strand_, [self = shared_from_this()] { self->shutdown(); });
  }

private:
  void read() {
    sock_.async_read_some(asio::buffer(buf_),
                          asio::bind_executor(strand_, [self = shared_from_this()](
                                                           boost::system::error_code ec, size_t n) {
                            if (ec) return self->shutdown();
                            self->consume(n);
                            if (self->open_) self->read();
                          }));
  }

  void consume(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      char c = buf_[i];
      if (c == '\n') {
        if (discarding_) {
          discarding_ = false;
          send(R"({"error": "command line longer than )" + std::to_string(limits_.max_line) +
               R"( bytes; refused"})");
        } else {
          if (!line_.empty() && line_.back() == '\r') line_.pop_back();
          handler_.on_line(shared_from_this(), std::move(line_));
        }
        line_.clear();
      } else if (!discarding_) {
        if (line_.size() >= limits_.max_line) {
          discarding_ = true;
          line_.clear();
        } else {
          line_ += c;
        }
      }
    }
  }

  void enqueue(std::string line) {
    if (!open_) return;
    queued_bytes_ += line.size();
    if (queued_bytes_ > limits_.max_queued_bytes) return shutdown(); // client stopped reading
    queue_.push_back(std::move(line));
    if (queue_.size() == 1) write();
  }

  void write() {
    asio::async_write(sock_, asio::buffer(queue_.front()),
                      asio::bind_executor(strand_, [self = shared_from_this()](
                                                       boost::system::error_code ec, size_t) {
                        // The buffer being written is queue_.front(); it stays until here.
                        if (ec || !self->open_) return self->shutdown();
                        self->queued_bytes_ -= self->queue_.front().size();
                        self->queue_.pop_front();
                        if (!self->queue_.empty()) self->write();
                      }));
  }

  void shutdown() {
    if (!open_) return;
    open_ = false;
    boost::system::error_code ignored;
    sock_.shutdown(local::socket::shutdown_both, ignored);
    sock_.close(ignored);
    // queue_ is left alone: a write in flight still refers to its front; the session's
    // destructor frees it.
    handler_.on_close(id_);
    if (on_gone_) on_gone_(id_);
  }

  local::socket sock_;
  asio::strand<local::socket::executor_type> strand_;
  console_handler& handler_;
  console_limits limits_;
  std::function<void(uint64_t)> on_gone_;
  uint64_t id_;
  std::string who_;
  std::array<char, 4096> buf_{};
  std::string line_;
  bool discarding_ = false;
  bool open_ = true;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
};

} // namespace

struct console_server::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io, console_handler& h, console_limits l)
      : io(io), acceptor(io), handler(h), limits(l) {}
  asio::io_context& io;
  local::acceptor acceptor;
  console_handler& handler;
  console_limits limits;
  std::mutex mtx;
  std::map<uint64_t, std::weak_ptr<session>> sessions;
  bool stopped = false;

  void accept() {
    acceptor.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, local::socket sock) {
          if (ec) {
            if (ec == asio::error::operation_aborted || self->stopped) return;
            return self->accept(); // e.g. EMFILE: keep serving the others
          }
          std::weak_ptr<impl> weak = self;
          auto s = std::make_shared<session>(std::move(sock), self->handler, self->limits,
                                             [weak](uint64_t id) {
                                               if (auto me = weak.lock()) {
                                                 std::lock_guard<std::mutex> g(me->mtx);
                                                 me->sessions.erase(id);
                                               }
                                             });
          {
            std::lock_guard<std::mutex> g(self->mtx);
            if (self->sessions.size() >= self->limits.max_connections) {
              s->send(R"({"error": "too many console connections; close one and try again"})");
              s->close();
            } else {
              self->sessions[s->id()] = s;
              s->start();
            }
          }
          self->accept();
        });
  }
};

console_server::console_server(asio::io_context& io, std::string path, console_handler& handler,
                               console_limits limits)
    : impl_(std::make_shared<impl>(io, handler, limits)), path_(std::move(path)) {}

console_server::~console_server() {
  stop();
}

bool console_server::start(std::string& error) {
  boost::system::error_code ec;
  if (path_.size() > 107) {
    error = "console socket path is " + std::to_string(path_.size()) +
            " bytes long; Unix sockets allow at most 107: " + path_;
    return false;
  }
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      error = "console socket path " + path_ + " exists and is not a socket";
      return false;
    }
    local::socket probe(impl_->io);
    probe.connect(local::endpoint(path_), ec);
    if (!ec) {
      error = "another node is already serving the console socket " + path_;
      return false;
    }
    ::unlink(path_.c_str()); // stale: its node is gone
  }
  auto& acc = impl_->acceptor;
  acc.open(local(), ec);
  if (!ec) {
    // The socket file is created by bind with the umask applied; narrow it before anyone can
    // connect, then set exactly 0600.
    mode_t old = ::umask(0177);
    acc.bind(local::endpoint(path_), ec);
    ::umask(old);
  }
  if (!ec && !group_.empty()) {
    // Members of node.console_group may use the console too: the socket is given to that group.
    struct group gr {};
    struct group* found = nullptr;
    std::vector<char> buf(16384);
    if (::getgrnam_r(group_.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) {
      error = "node.console_group: no group '" + group_ + "' on this machine";
      boost::system::error_code ignored;
      acc.close(ignored);
      ::unlink(path_.c_str());
      return false;
    }
    if (::chown(path_.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0) {
      error = "node.console_group: cannot give the console socket " + path_ + " to group '" +
              group_ + "': " + std::strerror(errno) +
              " (the node's user must be a member of that group)";
      boost::system::error_code ignored;
      acc.close(ignored);
      ::unlink(path_.c_str());
      return false;
    }
  }
  if (!ec && ::chmod(path_.c_str(), group_.empty() ? 0600 : 0660) != 0)
    ec = boost::system::error_code(errno, boost::system::system_category());
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot serve the console socket " + path_ + ": " + ec.message();
    boost::system::error_code ignored;
    acc.close(ignored);
    return false;
  }
  impl_->accept();
  return true;
}

void console_server::stop() {
  auto im = impl_;
  asio::post(im->io, [im, path = path_] {
    if (im->stopped) return;
    im->stopped = true;
    boost::system::error_code ignored;
    if (im->acceptor.is_open()) {
      im->acceptor.close(ignored);
      ::unlink(path.c_str());
    }
    std::map<uint64_t, std::weak_ptr<session>> all;
    {
      std::lock_guard<std::mutex> g(im->mtx);
      all.swap(im->sessions);
    }
    for (auto& [id, w] : all)
      if (auto s = w.lock()) s->close();
  });
}

} // namespace tandem::transports
