#pragma once
/// Helpers for integration tests that run real processes on loopback: temporary directories,
/// free ports, child processes with captured output, and awaiting conditions with deadlines.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace tandem::test {

/// A fresh directory under /tmp (short, so Unix socket paths fit), removed at the end.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  /// Writes `text` to `name` in the directory; returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

private:
  std::string path_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t free_port();

/// Reads a whole file ("" when missing).
std::string read_file(const std::string& path);

/// A child process; stdout and stderr go to files. The destructor kills (SIGKILL) and reaps it.
class child_process {
public:
  /// `stdin_path`: a file to read standard input from (default /dev/null); "|" makes a pipe that
  /// write_stdin() feeds.
  child_process(std::vector<std::string> argv, const std::string& log_prefix,
                const std::string& cwd = "", const std::string& stdin_path = "");
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  /// Waits for the exit; the exit code, or 128+signal when killed; nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  /// Writes to the child's standard input (only with stdin_path "|").
  bool write_stdin(const std::string& text);
  std::string out() const { return read_file(out_path_); }
  std::string err() const { return read_file(err_path_); }

private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::optional<int> status_;
  std::string out_path_, err_path_;
};

/// Polls `pred` every few milliseconds until it holds or `timeout` passes.
bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

/// Path of the `tandem` binary under test.
std::string tandem_binary();

/// Runs `tandem` to completion with the arguments; returns exit code and captured output.
struct run_result {
  int code = -1;
  std::string out, err;
};
run_result run_tandem(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
/// Runs any program (argv[0] looked up in PATH) the same way.
run_result run_process(const std::vector<std::string>& argv,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

} // namespace tandem::test
