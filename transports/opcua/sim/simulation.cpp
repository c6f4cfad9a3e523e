#include "transports/opcua/sim/simulation.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <string>

#include <boost/asio/system_timer.hpp>

namespace tandem::opcua {

namespace asio = boost::asio;
using config::sim_generator;
using config::sim_variable;

namespace {

constexpr double pi = 3.14159265358979323846;

enum class kind {
  boolean,
  sbyte,
  byte,
  int16,
  uint16,
  int32,
  uint32,
  int64,
  uint64,
  float32,
  float64,
  string,
  date_time
};

kind kind_of(const std::string& type) {
  static const std::map<std::string, kind> kinds{
      {"Boolean", kind::boolean},   {"SByte", kind::sbyte},    {"Byte", kind::byte},
      {"Int16", kind::int16},       {"UInt16", kind::uint16},  {"Int32", kind::int32},
      {"UInt32", kind::uint32},     {"Int64", kind::int64},    {"UInt64", kind::uint64},
      {"Float", kind::float32},     {"Double", kind::float64}, {"String", kind::string},
      {"DateTime", kind::date_time}};
  auto it = kinds.find(type);
  return it == kinds.end() ? kind::float64 : it->second;
}

bool is_integer(kind k) {
  return k <= kind::uint64;
}

/// The natural range of a generator on a type when min/max are not given.
std::pair<double, double> default_range(sim_generator g, kind k) {
  if (k == kind::boolean) return {0, 1};
  if (g == sim_generator::square) return {0, 1};
  if (g != sim_generator::counter) return {0, 100};
  switch (k) {
  case kind::sbyte:
    return {0, 127};
  case kind::byte:
    return {0, 255};
  case kind::int16:
    return {0, 32767};
  case kind::uint16:
    return {0, 65535};
  case kind::int32:
    return {0, 2147483647.0};
  case kind::uint32:
    return {0, 4294967295.0};
  case kind::float32:
    return {0, 16777216.0};
  default:
    return {0, 9007199254740992.0};
  }
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

/// a mod b for b > 0, always in [0, b).
double positive_mod(double a, double b) {
  double r = std::fmod(a, b);
  return r < 0 ? r + b : r;
}

std::string number_text(double x) {
  if (std::floor(x) == x && std::abs(x) < 9.1e15) return std::to_string(static_cast<int64_t>(x));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", x);
  return buf;
}

/// The generator's raw number at tick k.
double raw_value(const sim_variable& v, kind k, int64_t rate_ms, uint64_t node_hash, int64_t tick) {
  auto [dlo, dhi] = default_range(v.generator, k);
  double lo = v.min.value_or(dlo), hi = v.max.value_or(dhi);
  if (hi < lo) std::swap(lo, hi);
  double t = static_cast<double>(tick) * static_cast<double>(rate_ms);
  double period = static_cast<double>(std::max<int64_t>(v.period_ms, 1));
  switch (v.generator) {
  case sim_generator::static_value:
    return lo;
  case sim_generator::counter: {
    double span = std::floor(hi) - std::ceil(lo) + 1;
    if (!is_integer(k) && k != kind::string) span = hi - lo + 1;
    if (span < 1) span = 1;
    return std::ceil(lo) + positive_mod(static_cast<double>(tick), span);
  }
  case sim_generator::ramp:
    return lo + (hi - lo) * positive_mod(t, period) / period;
  case sim_generator::sine:
    return (lo + hi) / 2 + (hi - lo) / 2 * std::sin(2 * pi * positive_mod(t, period) / period);
  case sim_generator::random: {
    uint64_t r = splitmix64(v.seed ^ splitmix64(node_hash ^ static_cast<uint64_t>(tick)));
    double u = static_cast<double>(r >> 11) * 0x1.0p-53; // [0, 1)
    if (is_integer(k)) return std::floor(lo + u * (std::floor(hi) - std::ceil(lo) + 1));
    return lo + u * (hi - lo);
  }
  case sim_generator::square:
    return positive_mod(t, period) < period / 2 ? hi : lo;
  }
  return lo;
}

template <class T> T clamp_to(double x) {
  double lo = static_cast<double>(std::numeric_limits<T>::lowest());
  double hi = static_cast<double>(std::numeric_limits<T>::max());
  return static_cast<T>(std::clamp(std::round(x), lo, hi));
}

/// One element of type k from a number (and the tick's instant for DateTime).
template <class Out> void emit(kind k, double x, int64_t t_ms, Out&& out) {
  switch (k) {
  case kind::boolean:
    return out(x != 0);
  case kind::sbyte:
    return out(clamp_to<int8_t>(x));
  case kind::byte:
    return out(clamp_to<uint8_t>(x));
  case kind::int16:
    return out(clamp_to<int16_t>(x));
  case kind::uint16:
    return out(clamp_to<uint16_t>(x));
  case kind::int32:
    return out(clamp_to<int32_t>(x));
  case kind::uint32:
    return out(clamp_to<uint32_t>(x));
  case kind::int64:
    return out(clamp_to<int64_t>(x));
  case kind::uint64:
    return out(static_cast<uint64_t>(std::max(0.0, std::round(x))));
  case kind::float32:
    return out(static_cast<float>(x));
  case kind::float64:
    return out(x);
  case kind::string:
    return out(String(number_text(x)));
  case kind::date_time:
    return out(DateTime::from_unix_ms(t_ms));
  }
}

template <class T> struct array_builder {
  Array<T> items;
  void operator()(T x) { items.push_back(std::move(x)); }
  template <class U> void operator()(U) {}
};

template <class T>
Variant make_array(kind k, const sim_variable& v, int64_t rate_ms, uint64_t hash, int64_t tick) {
  array_builder<T> b;
  for (int64_t i = 0; i < v.length; ++i)
    emit(k, raw_value(v, k, rate_ms, hash, tick + i), (tick + i) * rate_ms, b);
  return Variant(std::move(b.items));
}

Variant generated(const sim_variable& v, kind k, int64_t rate_ms, uint64_t hash, int64_t tick) {
  if (v.length < 0) {
    Variant out;
    emit(k, raw_value(v, k, rate_ms, hash, tick), tick * rate_ms,
         [&](auto x) { out = Variant(std::move(x)); });
    return out;
  }
  switch (k) {
  case kind::boolean:
    return make_array<bool>(k, v, rate_ms, hash, tick);
  case kind::sbyte:
    return make_array<int8_t>(k, v, rate_ms, hash, tick);
  case kind::byte:
    return make_array<uint8_t>(k, v, rate_ms, hash, tick);
  case kind::int16:
    return make_array<int16_t>(k, v, rate_ms, hash, tick);
  case kind::uint16:
    return make_array<uint16_t>(k, v, rate_ms, hash, tick);
  case kind::int32:
    return make_array<int32_t>(k, v, rate_ms, hash, tick);
  case kind::uint32:
    return make_array<uint32_t>(k, v, rate_ms, hash, tick);
  case kind::int64:
    return make_array<int64_t>(k, v, rate_ms, hash, tick);
  case kind::uint64:
    return make_array<uint64_t>(k, v, rate_ms, hash, tick);
  case kind::float32:
    return make_array<float>(k, v, rate_ms, hash, tick);
  case kind::float64:
    return make_array<double>(k, v, rate_ms, hash, tick);
  case kind::string:
    return make_array<String>(k, v, rate_ms, hash, tick);
  case kind::date_time:
    return make_array<DateTime>(k, v, rate_ms, hash, tick);
  }
  return {};
}

/// A literal of the config as one element of type k; an error text when it does not convert.
template <class Out> std::string literal_element(kind k, const config::sim_scalar& s, Out&& out) {
  if (auto* b = std::get_if<bool>(&s)) {
    emit(k, *b ? 1 : 0, 0, out);
    return "";
  }
  if (auto* i = std::get_if<int64_t>(&s)) {
    if (k == kind::int64) return out(*i), "";
    if (k == kind::uint64) return out(static_cast<uint64_t>(*i)), "";
    emit(k, static_cast<double>(*i), 0, out);
    return "";
  }
  if (auto* d = std::get_if<double>(&s)) {
    emit(k, *d, 0, out);
    return "";
  }
  const auto& text = std::get<std::string>(s);
  if (k == kind::date_time) {
    auto dt = DateTime::parse_rfc3339(text);
    if (!dt) return "\"" + text + "\" is not an RFC 3339 date and time";
    out(*dt);
    return "";
  }
  out(String(text));
  return "";
}

template <class T> result<Variant> literal_array(kind k, const config::sim_variable& v) {
  array_builder<T> b;
  const auto& lit = *v.value;
  for (int64_t i = 0; i < v.length; ++i) {
    const auto& s = lit.is_array ? lit.items[static_cast<size_t>(i)] : lit.items.front();
    auto why = literal_element(k, s, b);
    if (!why.empty()) return error{status::BadTypeMismatch, v.key_path + ".value: " + why};
  }
  return Variant(std::move(b.items));
}

/// The initial value of a static variable.
result<Variant> static_value(const sim_variable& v, kind k) {
  if (!v.value) {
    // No value given: zero, false, "" or the epoch of the type.
    return generated(v, k, 1, 0, 0);
  }
  if (v.length < 0) {
    Variant out;
    auto why =
        literal_element(k, v.value->items.front(), [&](auto x) { out = Variant(std::move(x)); });
    if (!why.empty()) return error{status::BadTypeMismatch, v.key_path + ".value: " + why};
    return out;
  }
  switch (k) {
  case kind::boolean:
    return literal_array<bool>(k, v);
  case kind::sbyte:
    return literal_array<int8_t>(k, v);
  case kind::byte:
    return literal_array<uint8_t>(k, v);
  case kind::int16:
    return literal_array<int16_t>(k, v);
  case kind::uint16:
    return literal_array<uint16_t>(k, v);
  case kind::int32:
    return literal_array<int32_t>(k, v);
  case kind::uint32:
    return literal_array<uint32_t>(k, v);
  case kind::int64:
    return literal_array<int64_t>(k, v);
  case kind::uint64:
    return literal_array<uint64_t>(k, v);
  case kind::float32:
    return literal_array<float>(k, v);
  case kind::float64:
    return literal_array<double>(k, v);
  case kind::string:
    return literal_array<String>(k, v);
  case kind::date_time:
    return literal_array<DateTime>(k, v);
  }
  return Variant();
}

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

} // namespace

Variant sim_value(const sim_variable& v, int64_t rate_ms, uint64_t node_hash, int64_t k) {
  return generated(v, kind_of(v.type), rate_ms, node_hash, k);
}

/// The generated variables grouped by rate, each group on its own wall-clock timer.
struct simulation::state : std::enable_shared_from_this<simulation::state> {
  struct variable {
    memory_address_space::variable_ref ref;
    const sim_variable* spec = nullptr;
    kind k = kind::float64;
    uint64_t hash = 0;
  };
  struct group {
    int64_t rate_ms = 1000;
    std::vector<variable> vars;
    std::unique_ptr<asio::system_timer> timer;
    int64_t last_tick = 0;
  };

  asio::io_context& io;
  config::sim_config cfg;
  std::vector<group> groups;
  size_t variables = 0;
  std::atomic<uint64_t> updates{0};
  std::atomic<bool> stopped{false};
  std::weak_ptr<memory_address_space> space;
  /// Test controls by variable (the node behind a variable_ref).
  struct control {
    std::optional<StatusCode> forced;
    bool frozen = false;
  };
  std::mutex control_mutex;
  std::map<const void*, control> controls;
  std::atomic<bool> any_control{false};

  state(asio::io_context& io, config::sim_config c) : io(io), cfg(std::move(c)) {}

  /// Moves a group to the current tick and arms its timer for the next one.
  void tick(size_t g) {
    if (stopped) return;
    auto sp = space.lock();
    if (!sp) return;
    group& gr = groups[g];
    int64_t now = unix_ms_now();
    int64_t k = floor_div(now, gr.rate_ms);
    if (k != gr.last_tick) {
      gr.last_tick = k;
      DateTime at = DateTime::from_unix_ms(k * gr.rate_ms);
      std::vector<std::pair<memory_address_space::variable_ref, DataValue>> batch;
      batch.reserve(gr.vars.size());
      std::unique_lock<std::mutex> lock(control_mutex, std::defer_lock);
      if (any_control) lock.lock();
      for (const auto& v : gr.vars) {
        DataValue dv(generated(*v.spec, v.k, gr.rate_ms, v.hash, k));
        dv.source_timestamp = at;
        if (lock.owns_lock()) {
          auto c = controls.find(v.ref.node);
          if (c != controls.end()) {
            if (c->second.frozen) continue;
            dv.status = c->second.forced;
          }
        }
        batch.emplace_back(v.ref, std::move(dv));
      }
      if (lock.owns_lock()) lock.unlock();
      sp->set_values(batch);
      updates += gr.vars.size();
    }
    auto next =
        std::chrono::system_clock::time_point(std::chrono::milliseconds((k + 1) * gr.rate_ms));
    gr.timer->expires_at(next);
    gr.timer->async_wait([self = shared_from_this(), g](boost::system::error_code ec) {
      if (!ec) self->tick(g);
    });
  }
};

simulation::simulation(asio::io_context& io, config::sim_config cfg)
    : state_(std::make_shared<state>(io, std::move(cfg))) {}

simulation::~simulation() {
  stop();
}

result<uint16_t> simulation::start() {
  auto& cfg = state_->cfg;
  memory_address_space_options so;
  so.application_uri = cfg.application_uri;
  so.product_uri = "urn:tandem:sim";
  so.product_name = "Tandem simulation server";
  so.service_level = static_cast<uint8_t>(cfg.service_level);
  space_ = std::make_shared<memory_address_space>(so);
  space_->set_service_level(static_cast<uint8_t>(cfg.service_level));
  space_->set_anonymous(cfg.anonymous);
  if (!cfg.users.empty()) {
    auto users = cfg.users;
    space_->set_user_check([users](const std::string& name, const std::string& password) {
      for (const auto& u : users)
        if (u.name == name && u.password == password) return true;
      return false;
    });
  }

  std::map<int64_t, size_t> group_of_rate;
  int64_t now = unix_ms_now();
  // Builds a folder's nodes; generated variables join the group of their rate.
  std::function<result<bool>(const config::sim_folder&, const NodeId&, const std::string&)> build;
  build = [&](const config::sim_folder& f, const NodeId& parent,
              const std::string& parent_path) -> result<bool> {
    std::string path = parent_path.empty() ? f.name : parent_path + "." + f.name;
    NodeId folder_id(1, String(path));
    if (!space_->add_folder(folder_id, parent, QualifiedName{1, String(f.name)},
                            LocalizedText(String(f.name))))
      return error{status::BadNodeIdInvalid, "folder " + path + " cannot be added"};
    for (const auto& v : f.variables) {
      kind k = kind_of(v.type);
      int64_t rate = v.rate_ms > 0 ? v.rate_ms : cfg.rate_ms;
      int64_t n = v.count == 0 ? 1 : v.count;
      int64_t width = v.width;
      if (width == 0)
        width = std::max<int64_t>(
            4, static_cast<int64_t>(std::to_string(std::max<int64_t>(n - 1, 0)).size()));
      std::optional<Variant> initial;
      if (v.generator == sim_generator::static_value) {
        auto init = static_value(v, k);
        if (!init) return init.error();
        initial = std::move(*init);
      }
      for (int64_t i = 0; i < n; ++i) {
        std::string name = v.name;
        if (v.count > 0) {
          std::string digits = std::to_string(i);
          if (static_cast<int64_t>(digits.size()) < width)
            digits.insert(0, static_cast<size_t>(width) - digits.size(), '0');
          name += digits;
        }
        std::string var_path = path + "." + name;
        NodeId id(1, String(var_path));
        uint64_t hash = fnv1a(var_path);
        int64_t tick = floor_div(now, rate);
        Variant value = initial ? *initial : generated(v, k, rate, hash, tick);
        Variant first = value;
        if (!space_->add_variable(id, folder_id, QualifiedName{1, String(name)}, std::move(value),
                                  v.writable, LocalizedText(String(name))))
          return error{status::BadNodeIdInvalid, "variable " + var_path + " cannot be added"};
        if (!initial) {
          // The current tick's value carries the tick's instant, like every later one.
          DataValue dv(std::move(first));
          dv.source_timestamp = DateTime::from_unix_ms(tick * rate);
          space_->set_value(id, std::move(dv));
        }
        ++state_->variables;
        if (v.generator == sim_generator::static_value) continue;
        auto [g, fresh] = group_of_rate.emplace(rate, state_->groups.size());
        if (fresh) {
          state_->groups.emplace_back();
          state_->groups.back().rate_ms = rate;
          state_->groups.back().last_tick = tick;
        }
        state_->groups[g->second].vars.push_back(
            state::variable{space_->find_variable(id), &v, k, hash});
      }
    }
    for (const auto& sub : f.folders) {
      auto r = build(sub, folder_id, path);
      if (!r) return r;
    }
    return true;
  };
  for (const auto& f : cfg.folders) {
    auto r = build(f, NodeId(node_ids::ObjectsFolder), "");
    if (!r) return r.error();
  }

  server_options opts;
  opts.host = cfg.listen.host;
  opts.port = cfg.listen.port;
  opts.application_uri = cfg.application_uri;
  opts.product_uri = "urn:tandem:sim";
  opts.application_name = "Tandem simulation server";
  opts.max_sessions = static_cast<size_t>(cfg.max_sessions);
  opts.max_token_lifetime_ms = static_cast<uint32_t>(cfg.token_lifetime_ms);
  opts.min_token_lifetime_ms =
      std::min<uint32_t>(opts.min_token_lifetime_ms, opts.max_token_lifetime_ms);
  server_ = server_endpoint::create(state_->io, opts);
  server_->add_endpoint(cfg.path, space_);
  auto port = server_->start();
  if (!port) return port;

  state_->space = space_;
  for (auto& g : state_->groups)
    g.timer = std::make_unique<asio::system_timer>(state_->io);
  for (size_t g = 0; g < state_->groups.size(); ++g)
    asio::post(state_->io, [s = state_, g] { s->tick(g); });
  return port;
}

void simulation::stop() {
  if (state_->stopped.exchange(true)) return;
  for (auto& g : state_->groups)
    if (g.timer)
      asio::post(state_->io, [s = state_] {
        for (auto& gr : s->groups)
          if (gr.timer) gr.timer->cancel();
      });
  if (server_) server_->stop();
}

bool simulation::force_status(const std::string& path, std::optional<StatusCode> sc) {
  if (!space_) return false;
  NodeId id(1, String(path));
  auto ref = space_->find_variable(id);
  if (!ref) return false;
  {
    std::lock_guard<std::mutex> lock(state_->control_mutex);
    state_->controls[ref.node].forced = sc;
    state_->any_control = true;
  }
  DataValue dv = space_->read(id, attribute_id::Value);
  dv.status = sc;
  dv.source_timestamp = DateTime::now();
  space_->set_value(id, std::move(dv));
  return true;
}

bool simulation::freeze(const std::string& path, bool frozen) {
  if (!space_) return false;
  auto ref = space_->find_variable(NodeId(1, String(path)));
  if (!ref) return false;
  std::lock_guard<std::mutex> lock(state_->control_mutex);
  state_->controls[ref.node].frozen = frozen;
  state_->any_control = true;
  return true;
}

size_t simulation::variable_count() const {
  return state_->variables;
}

uint64_t simulation::updates() const {
  return state_->updates;
}

} // namespace tandem::opcua
