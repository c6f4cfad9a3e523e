#include "tests/support/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tandem::test {

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/tdm-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  if (std::getenv("TANDEM_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::write(const std::string& name, const std::string& text) const {
  auto p = file(name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

child_process::child_process(std::vector<std::string> argv, const std::string& log_prefix,
                             const std::string& cwd, const std::string& stdin_path)
    : out_path_(log_prefix + ".out"), err_path_(log_prefix + ".err") {
  int pipe_fds[2] = {-1, -1};
  bool piped = stdin_path == "|";
  if (piped && ::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    int in = piped ? pipe_fds[0]
                   : ::open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY);
    ::dup2(in, 0);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    if (args[0][0] == '/')
      ::execv(args[0], args.data());
    else
      ::execvp(args[0], args.data());
    _exit(127);
  }
  if (piped) {
    ::close(pipe_fds[0]);
    stdin_fd_ = pipe_fds[1];
  }
}

bool child_process::write_stdin(const std::string& text) {
  if (stdin_fd_ < 0) return false;
  return ::write(stdin_fd_, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

child_process::~child_process() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
}

void child_process::signal(int sig) const {
  ::kill(pid_, sig);
}

static int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

std::optional<int> child_process::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = decode_status(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool child_process::running() {
  return !wait(std::chrono::milliseconds(0)).has_value();
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string tandem_binary() {
  if (const char* p = std::getenv("TANDEM_BINARY")) return p;
#ifdef TANDEM_BINARY_PATH
  return TANDEM_BINARY_PATH;
#else
  return "tandem";
#endif
}

run_result run_tandem(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{tandem_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, timeout);
}

run_result run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  temp_dir logs;
  child_process p(argv, logs.file("run"));
  run_result r;
  auto code = p.wait(timeout);
  r.code = code ? *code : -1;
  r.out = p.out();
  r.err = p.err();
  return r;
}

} // namespace tandem::test
