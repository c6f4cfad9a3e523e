// `tandem passwd`: makes the salted hash a [[face.user]] entry holds, from a password read on the
// terminal (twice, without echo) or from stdin (one line, for scripts). The password itself is
// never printed nor written anywhere.

#include <iostream>
#include <string>

#include <termios.h>
#include <unistd.h>

#include "config/password.hpp"
#include "tools/commands.hpp"

namespace tandem::tools {

namespace {

/// One line from the terminal without echo; nullopt at end of input.
std::optional<std::string> read_hidden(const char* prompt) {
  std::cerr << prompt << std::flush;
  termios old{};
  bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << "\n";
  }
  if (!ok) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 256) return false;
  for (char c : n)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

} // namespace

int run_passwd(const passwd_options& o) {
  if (!o.user.empty() && !valid_name(o.user)) {
    std::cerr << "tandem passwd: --user must be 1 to 256 characters without quotes, backslashes "
                 "or control characters\n";
    return exit_usage;
  }
  bool tty = ::isatty(STDIN_FILENO) == 1;
  auto first = read_hidden(tty ? "Password: " : "");
  if (!first) {
    std::cerr << "tandem passwd: no password on stdin\n";
    return exit_usage;
  }
  if (tty) {
    auto again = read_hidden("Password again: ");
    if (!again || *again != *first) {
      std::cerr << "tandem passwd: the two passwords differ; nothing was made\n";
      return exit_usage;
    }
  }
  if (first->empty()) {
    std::cerr << "tandem passwd: the password is empty; give one\n";
    return exit_usage;
  }
  std::string hash = config::hash_password(*first, o.iterations);
  if (hash.empty()) {
    std::cerr << "tandem passwd: the system's random source failed; nothing was made\n";
    return exit_failure;
  }
  if (o.user.empty()) {
    std::cout << hash << "\n";
  } else {
    std::cout << "[[face.user]]\nname = \"" << o.user << "\"\npassword_hash = \"" << hash << "\"\n";
  }
  return exit_ok;
}

} // namespace tandem::tools
