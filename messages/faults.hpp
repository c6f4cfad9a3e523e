#pragma once
/// The `fault` message family: failures a test harness (or the console, with
/// `[debug] fault_injection = true`) injects into a running node without patching code.
/// The supervisor routes each fault to the actor that owns the target. docs/FAULTS.md lists them.

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

namespace tandem {

enum class fault_kind : uint8_t {
  drop_server, ///< close the connection to one server of a pair; it reconnects as after a real drop
  stall_server,       ///< one server connection stops delivering anything for `ms`
  drop_link,          ///< close the partner link
  delay_link,         ///< delay every partner-link message by `ms`
  stall_actor,        ///< actor `target` processes no message for `ms` (they wait, none is lost)
  fail_storage_write, ///< the next `count` storage commits fail
  fire_condition,     ///< monitor condition number `count` of pair `target` reports failing
};

inline const char* to_string(fault_kind k) {
  switch (k) {
  case fault_kind::drop_server:
    return "drop_server";
  case fault_kind::stall_server:
    return "stall_server";
  case fault_kind::drop_link:
    return "drop_link";
  case fault_kind::delay_link:
    return "delay_link";
  case fault_kind::stall_actor:
    return "stall_actor";
  case fault_kind::fail_storage_write:
    return "fail_storage_write";
  case fault_kind::fire_condition:
    return "fire_condition";
  }
  return "?";
}

/// One injected fault.
struct fault {
  fault_kind kind = fault_kind::stall_actor;
  std::string target; ///< pair alias or actor name, where the kind needs one
  std::string server; ///< "primary" or "secondary" for the *_server kinds
  int64_t ms = 0;     ///< duration for stall_* and delay_link
  int64_t count = 1;  ///< writes to fail, or the monitor condition's index
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, fault& x) {
  return f(caf::meta::type_name("fault"), x.kind, x.target, x.server, x.ms, x.count);
}

/// Usage lines of every fault, as the console's `help inject` shows them.
inline const std::vector<std::string>& fault_usages() {
  static const std::vector<std::string> usages = {
      "drop_server ALIAS primary|secondary",
      "stall_server ALIAS primary|secondary MS",
      "drop_link",
      "delay_link MS",
      "stall_actor NAME MS",
      "fail_storage_write [COUNT]",
      "fire_condition ALIAS INDEX",
  };
  return usages;
}

/// Parses the words after `inject`. Returns false and sets `error` to a sentence that says
/// what is wrong and what is expected.
inline bool parse_fault(const std::vector<std::string>& words, fault& out, std::string& error) {
  auto number = [&](size_t i, const char* what, int64_t min, int64_t max, int64_t& dst) {
    if (i >= words.size()) {
      error = std::string("missing ") + what;
      return false;
    }
    const std::string& w = words[i];
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(w.c_str(), &end, 10);
    if (w.empty() || *end != '\0' || errno != 0 || v < min || v > max) {
      error = std::string(what) + " must be a whole number from " + std::to_string(min) + " to " +
              std::to_string(max) + ", not '" + w + "'";
      return false;
    }
    dst = v;
    return true;
  };
  auto server = [&](size_t i) {
    if (i >= words.size() || (words[i] != "primary" && words[i] != "secondary")) {
      error = "expected 'primary' or 'secondary'";
      if (i < words.size()) error += ", not '" + words[i] + "'";
      return false;
    }
    out.server = words[i];
    return true;
  };
  auto target = [&](size_t i, const char* what) {
    if (i >= words.size() || words[i].empty()) {
      error = std::string("missing ") + what;
      return false;
    }
    out.target = words[i];
    return true;
  };
  auto arity = [&](size_t n) {
    if (words.size() > n) {
      error = "unexpected '" + words[n] + "'";
      return false;
    }
    return true;
  };
  if (words.empty()) {
    error = "missing fault name";
    return false;
  }
  const std::string& name = words[0];
  out = fault{};
  constexpr int64_t max_ms = 86'400'000;
  bool ok = false;
  if (name == "drop_server") {
    out.kind = fault_kind::drop_server;
    ok = target(1, "pair alias") && server(2) && arity(3);
  } else if (name == "stall_server") {
    out.kind = fault_kind::stall_server;
    ok = target(1, "pair alias") && server(2) && number(3, "MS", 1, max_ms, out.ms) && arity(4);
  } else if (name == "drop_link") {
    out.kind = fault_kind::drop_link;
    ok = arity(1);
  } else if (name == "delay_link") {
    out.kind = fault_kind::delay_link;
    ok = number(1, "MS", 0, max_ms, out.ms) && arity(2);
  } else if (name == "stall_actor") {
    out.kind = fault_kind::stall_actor;
    ok = target(1, "actor name") && number(2, "MS", 1, max_ms, out.ms) && arity(3);
  } else if (name == "fail_storage_write") {
    out.kind = fault_kind::fail_storage_write;
    out.count = 1;
    ok = (words.size() < 2 || number(1, "COUNT", 1, 1'000'000, out.count)) && arity(2);
  } else if (name == "fire_condition") {
    out.kind = fault_kind::fire_condition;
    ok = target(1, "pair alias") && number(2, "INDEX", 0, 10'000, out.count) && arity(3);
  } else {
    error = "unknown fault '" + name + "'";
    return false;
  }
  if (!ok) {
    for (auto& u : fault_usages())
      if (u.compare(0, name.size() + 1, name + " ") == 0 || u == name)
        error += "; usage: inject " + u;
  }
  return ok;
}

} // namespace tandem
