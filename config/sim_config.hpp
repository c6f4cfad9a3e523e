#pragma once
/// The address space of a `tandem sim` simulation server, from TOML (documented in docs/SIM.md).
///
///   [server]  listen, path, application_uri, service_level, rate_ms, max_sessions, anonymous,
///             token_lifetime_ms, [[server.user]] name/password
///   [[folder]] name, [[folder.folder]] ..., [[folder.variable]] name, type, length, generator,
///             rate_ms, min, max, period_ms, seed, value, writable, count, width
///
/// NodeIds are ns=1;s=<folder path>.<name>, folders ns=1;s=<folder path>, with '.' between
/// levels, the same layout as the node-opcua test server (tests/interop/server.js), so both can
/// serve the same address space.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"

namespace tandem::config {

/// How a variable's value follows wall-clock time. With tick k = floor(t / rate_ms) and
/// T = k * rate_ms (the value's source timestamp):
///  - static_value: `value`, changed only by writes
///  - counter: min + k mod (max - min + 1)
///  - ramp: min + (max - min) * (T mod period) / period
///  - sine: (min + max) / 2 + (max - min) / 2 * sin(2 pi T / period)
///  - random: uniform in [min, max], a hash of (seed, NodeId, k)
///  - square: max for the first half of each period, min for the second
/// Two servers with the same config therefore publish the same values at the same moments.
enum class sim_generator { static_value, counter, ramp, sine, random, square };

/// A literal from the TOML: a scalar, or an array of scalars for array variables.
using sim_scalar = std::variant<bool, int64_t, double, std::string>;
struct sim_literal {
  std::vector<sim_scalar> items; ///< one element for a scalar
  bool is_array = false;
};

struct sim_variable {
  std::string name;            ///< browse name; with count, the prefix of name0000, name0001...
  std::string type = "Double"; ///< built-in type name (Boolean ... Double, String, DateTime)
  int64_t length = -1;         ///< array length; -1 for a scalar
  sim_generator generator = sim_generator::static_value;
  int64_t rate_ms = 0;       ///< 0: the server's rate_ms
  std::optional<double> min; ///< default by generator and type (see docs/SIM.md)
  std::optional<double> max;
  int64_t period_ms = 60000;
  uint64_t seed = 0;
  std::optional<sim_literal> value; ///< static value, or the value before the first tick
  bool writable = false;
  int64_t count = 0;    ///< 0: one variable called `name`
  int64_t width = 0;    ///< digits of the number with count (0: at least 4)
  std::string key_path; ///< where it was written, e.g. folder[0].variable[2]
};

struct sim_folder {
  std::string name;
  std::vector<sim_folder> folders;
  std::vector<sim_variable> variables;
};

struct sim_user {
  std::string name;
  std::string password; ///< a test server: plain text is fine here
};

struct sim_config {
  endpoint listen{"127.0.0.1", 4840};
  std::string path = "/sim";
  std::string application_uri = "urn:tandem:sim";
  int64_t service_level = 255;
  int64_t rate_ms = 1000;
  int64_t max_sessions = 100;
  int64_t token_lifetime_ms = 3600000; ///< longest secure-channel token granted
  bool anonymous = true;
  std::vector<sim_user> users;
  std::vector<sim_folder> folders;
  std::string source_path; ///< absolute path of the file read, empty for text
};

struct sim_load_result {
  std::optional<sim_config> config;
  std::vector<problem> problems;
  bool ok() const { return config.has_value(); }
};

/// Parses and validates a simulation config; every problem is reported with file:line:column.
sim_load_result parse_sim(const std::string& text, const std::string& file);
sim_load_result load_sim_file(const std::string& path);

/// The built-in address space (no file): folder Sim with Counter (Int32 counter), Ramp, Sine,
/// Heartbeat (Boolean square), Random, Setpoint and Text (writable), Array (Double[10] counter),
/// and `items` Double counters Item0000... All generators tick at `rate_ms`.
sim_config default_sim_config(int64_t items, int64_t rate_ms);

/// Number of variables a folder tree expands to (count included).
int64_t variable_count(const std::vector<sim_folder>& folders);

const char* to_string(sim_generator g);

} // namespace tandem::config
