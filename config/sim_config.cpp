/// Parsing and validation of `tandem sim` address spaces (schema: sim_config.hpp, docs/SIM.md),
/// with the same reader as node configs: every problem at once, each with file:line:column.

#include "config/sim_config.hpp"

#include <set>

#include "config/toml_reader.hpp"

namespace tandem::config {

namespace {

using namespace detail;

constexpr int64_t max_rate_ms = 86400000;  // one tick a day
constexpr int64_t max_count = 1000000;     // per variable entry
constexpr int64_t max_variables = 2000000; // per server
constexpr int64_t max_array_length = 100000;
constexpr int64_t max_folder_depth = 32;

struct type_info {
  std::string_view name;
  bool integer;
  double lo;
  double hi;
};

// Integer ranges are the types' own; 2^53 bounds the 64-bit ones (doubles carry the values).
constexpr double two53 = 9007199254740992.0;
constexpr type_info types[] = {
    {"Boolean", true, 0, 1},
    {"SByte", true, -128, 127},
    {"Byte", true, 0, 255},
    {"Int16", true, -32768, 32767},
    {"UInt16", true, 0, 65535},
    {"Int32", true, -2147483648.0, 2147483647.0},
    {"UInt32", true, 0, 4294967295.0},
    {"Int64", true, -two53, two53},
    {"UInt64", true, 0, two53},
    {"Float", false, -16777216.0, 16777216.0},
    {"Double", false, -two53, two53},
    {"String", false, -two53, two53},
    {"DateTime", false, -two53, two53},
};

const type_info* find_type(std::string_view name) {
  for (const auto& t : types)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<std::string_view> type_names() {
  std::vector<std::string_view> out;
  for (const auto& t : types)
    out.push_back(t.name);
  return out;
}

std::string number_text(double x) {
  if (x == static_cast<double>(static_cast<int64_t>(x)))
    return std::to_string(static_cast<int64_t>(x));
  std::string s = std::to_string(x);
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  return s;
}

struct sim_reader {
  checker& c;
  sim_config cfg;
  int64_t total = 0;

  void read(const toml::table& root) {
    section top(c, &root, "", {"server", "folder"});
    read_server(top.table("server"));
    std::set<std::string> names;
    for (auto& [t, p] : top.tables("folder"))
      if (auto f = read_folder(*t, p, names, 1)) cfg.folders.push_back(std::move(*f));
    if (total > max_variables)
      c.error(top.where("folder"), "folder",
              "the folders expand to " + std::to_string(total) + " variables; at most " +
                  std::to_string(max_variables) + " are allowed");
  }

  void read_server(const toml::table* t) {
    section s(c, t, "server",
              {"listen", "path", "application_uri", "service_level", "rate_ms", "max_sessions",
               "token_lifetime_ms", "anonymous", "user"});
    s.host_port("listen", cfg.listen, false);
    if (s.str("path", cfg.path)) {
      if (!cfg.path.empty() && cfg.path.front() != '/') cfg.path.insert(cfg.path.begin(), '/');
      for (char ch : cfg.path)
        if (static_cast<unsigned char>(ch) <= ' ' || ch == '?' || ch == '#') {
          c.error(s.where("path"), s.path("path"),
                  quote(cfg.path) + " is not a URL path: no spaces, control characters, ? or #");
          break;
        }
    }
    if (s.str("application_uri", cfg.application_uri) && cfg.application_uri.empty())
      c.error(s.where("application_uri"), s.path("application_uri"), "must not be empty");
    s.integer("service_level", cfg.service_level, 0, 255);
    s.integer("rate_ms", cfg.rate_ms, 1, max_rate_ms);
    s.integer("max_sessions", cfg.max_sessions, 1, 100000);
    s.integer("token_lifetime_ms", cfg.token_lifetime_ms, 1000, 3600000);
    s.boolean("anonymous", cfg.anonymous);
    std::set<std::string> seen;
    for (auto& [ut, upath] : s.tables("user")) {
      section u(c, ut, upath, {"name", "password"});
      sim_user e;
      require(c, u, "name", ": the user name clients log in with");
      require(c, u, "password", "");
      if (u.str("name", e.name)) {
        if (e.name.empty())
          c.error(u.where("name"), u.path("name"), "must not be empty");
        else if (!seen.insert(e.name).second)
          c.error(u.where("name"), u.path("name"), "duplicate user " + quote(e.name));
      }
      u.str("password", e.password);
      cfg.users.push_back(std::move(e));
    }
    if (!cfg.anonymous && cfg.users.empty() && t)
      c.error(s.where("anonymous"), s.path("anonymous"),
              "false with no [[server.user]]: nobody could log in");
  }

  /// A folder or variable name: non-empty, without '.' (the NodeId separator) or ';'.
  bool check_node_name(section& s, const std::string& name) {
    if (name.empty() || name.size() > 200 || name.find_first_of(".;") != std::string::npos) {
      c.error(s.where("name"), s.path("name"),
              quote(name) + " is not a node name: 1 to 200 characters without '.' or ';'");
      return false;
    }
    return true;
  }

  std::optional<sim_folder> read_folder(const toml::table& t, const std::string& path,
                                        std::set<std::string>& siblings, int depth) {
    section s(c, &t, path, {"name", "folder", "variable"});
    sim_folder f;
    require(c, s, "name", ": the folder's browse name");
    bool ok = s.str("name", f.name) && check_node_name(s, f.name);
    if (ok && !siblings.insert(f.name).second) {
      c.error(s.where("name"), s.path("name"),
              "another node here is already called " + quote(f.name));
      ok = false;
    }
    if (depth > max_folder_depth) {
      c.error(s.position(), path,
              "folders nest more than " + std::to_string(max_folder_depth) + " levels deep");
      return std::nullopt;
    }
    std::set<std::string> children;
    for (auto& [vt, vp] : s.tables("variable"))
      if (auto v = read_variable(*vt, vp, children)) f.variables.push_back(std::move(*v));
    for (auto& [ft, fp] : s.tables("folder"))
      if (auto sub = read_folder(*ft, fp, children, depth + 1))
        f.folders.push_back(std::move(*sub));
    if (!ok) return std::nullopt;
    return f;
  }

  std::optional<sim_variable> read_variable(const toml::table& t, const std::string& path,
                                            std::set<std::string>& siblings) {
    section s(c, &t, path,
              {"name", "type", "length", "generator", "rate_ms", "min", "max", "period_ms", "seed",
               "value", "writable", "count", "width"});
    sim_variable v;
    v.key_path = path;
    require(c, s, "name", ": the variable's browse name");
    bool name_ok = s.str("name", v.name) && check_node_name(s, v.name);
    bool ok = name_ok;
    if (s.str("type", v.type) && !find_type(v.type)) {
      c.error(s.where("type"), s.path("type"),
              "unknown type " + quote(v.type) + "; one of " + join(type_names(), ", ") +
                  did_you_mean(v.type, type_names()));
      ok = false;
    }
    const type_info* type = find_type(v.type);
    s.integer("length", v.length, 0, max_array_length);
    s.choice<sim_generator>("generator", v.generator,
                            {{"static", sim_generator::static_value},
                             {"counter", sim_generator::counter},
                             {"ramp", sim_generator::ramp},
                             {"sine", sim_generator::sine},
                             {"random", sim_generator::random},
                             {"square", sim_generator::square}});
    s.integer("rate_ms", v.rate_ms, 1, max_rate_ms);
    s.number("min", v.min);
    s.number("max", v.max);
    s.integer("period_ms", v.period_ms, 1, max_duration_ms);
    int64_t seed = 0;
    if (s.integer("seed", seed, 0, std::numeric_limits<int64_t>::max()))
      v.seed = static_cast<uint64_t>(seed);
    s.boolean("writable", v.writable);
    s.integer("count", v.count, 1, max_count);
    if (s.integer("width", v.width, 1, 9) && !s.has("count"))
      c.error(s.where("width"), s.path("width"), "only means something with count");
    if (auto* n = s.find("value")) {
      c.note(s.path("value"), at(n->source()));
      v.value = literal(*n, s.path("value"), type, v.length);
      if (!v.value) ok = false;
    }
    if (v.value && v.generator != sim_generator::static_value) {
      c.error(s.where("value"), s.path("value"),
              "is for static variables; a " + std::string(to_string(v.generator)) +
                  " takes its value from the clock (drop value, or generator = \"static\")");
      ok = false;
    }
    if (type && v.generator != sim_generator::static_value) {
      double lo = v.min.value_or(type->lo), hi = v.max.value_or(type->hi);
      if (v.min && v.max && !(lo < hi)) {
        c.error(s.where("max"), s.path("max"),
                "must be greater than min (" + number_text(lo) + "), got " + number_text(hi));
        ok = false;
      }
      for (auto [key, x] :
           {std::pair<const char*, std::optional<double>>{"min", v.min}, {"max", v.max}}) {
        if (x && (*x < type->lo || *x > type->hi)) {
          c.error(s.where(key), s.path(key),
                  number_text(*x) + " does not fit " + std::string(type->name) + " (" +
                      number_text(type->lo) + " to " + number_text(type->hi) + ")");
          ok = false;
        }
      }
    }
    // Names the variable expands to must be unique among the folder's children (checked even
    // when other keys are wrong, so that every problem is reported).
    if (!name_ok) return std::nullopt;
    int64_t n = v.count == 0 ? 1 : v.count;
    total += n;
    if (v.count == 0) {
      if (!siblings.insert(v.name).second) {
        c.error(s.where("name"), s.path("name"),
                "another node here is already called " + quote(v.name));
        return std::nullopt;
      }
    } else {
      std::string first = expanded_name(v, 0), last = expanded_name(v, v.count - 1);
      if (siblings.count(first) || siblings.count(last)) {
        c.error(s.where("name"), s.path("name"),
                "its names " + quote(first) + "... clash with another node here");
        return std::nullopt;
      }
      if (v.count <= 1000)
        for (int64_t k = 0; k < v.count; ++k)
          siblings.insert(expanded_name(v, k));
      else
        siblings.insert({first, last});
    }
    if (!ok) return std::nullopt;
    return v;
  }

  static std::string expanded_name(const sim_variable& v, int64_t k) {
    int64_t width = v.width;
    if (width == 0)
      width = std::max<int64_t>(4, static_cast<int64_t>(std::to_string(v.count - 1).size()));
    std::string digits = std::to_string(k);
    if (static_cast<int64_t>(digits.size()) < width)
      digits.insert(0, static_cast<size_t>(width) - digits.size(), '0');
    return v.name + digits;
  }

  /// A literal `value` checked against the variable's type and array length.
  std::optional<sim_literal> literal(const toml::node& n, const std::string& key,
                                     const type_info* type, int64_t length) {
    sim_literal out;
    auto scalar = [&](const toml::node& e, const std::string& k) -> std::optional<sim_scalar> {
      std::string want = type ? std::string(type->name) : "the variable's type";
      if (auto* b = e.as_boolean()) {
        if (type && type->name != "Boolean") {
          c.error(at(e.source()), k, "a boolean does not fit " + want);
          return std::nullopt;
        }
        return sim_scalar(b->get());
      }
      if (auto* i = e.as_integer()) {
        double x = static_cast<double>(i->get());
        if (type &&
            (type->name == "String" || type->name == "Boolean" || type->name == "DateTime")) {
          c.error(at(e.source()), k, "a number does not fit " + want);
          return std::nullopt;
        }
        if (type && (x < type->lo || x > type->hi)) {
          c.error(at(e.source()), k,
                  std::to_string(i->get()) + " does not fit " + want + " (" +
                      number_text(type->lo) + " to " + number_text(type->hi) + ")");
          return std::nullopt;
        }
        return sim_scalar(i->get());
      }
      if (auto* f = e.as_floating_point()) {
        if (type && (type->integer || type->name == "String" || type->name == "DateTime")) {
          c.error(at(e.source()), k, "a floating-point number does not fit " + want);
          return std::nullopt;
        }
        if (!std::isfinite(f->get())) {
          c.error(at(e.source()), k, "must be a finite number");
          return std::nullopt;
        }
        return sim_scalar(f->get());
      }
      if (auto* s = e.as_string()) {
        if (type && type->name != "String" && type->name != "DateTime") {
          c.error(at(e.source()), k, "a string does not fit " + want);
          return std::nullopt;
        }
        return sim_scalar(s->get());
      }
      c.error(at(e.source()), k, "expected a boolean, number or string, got " + type_name(e));
      return std::nullopt;
    };
    if (auto* arr = n.as_array()) {
      if (length < 0) {
        c.error(at(n.source()), key, "an array value needs `length` on the variable");
        return std::nullopt;
      }
      if (static_cast<int64_t>(arr->size()) != length) {
        c.error(at(n.source()), key,
                "has " + std::to_string(arr->size()) + " elements; length is " +
                    std::to_string(length));
        return std::nullopt;
      }
      out.is_array = true;
      for (size_t i = 0; i < arr->size(); ++i) {
        auto e = scalar(*arr->get(i), key + "[" + std::to_string(i) + "]");
        if (!e) return std::nullopt;
        out.items.push_back(std::move(*e));
      }
      return out;
    }
    auto e = scalar(n, key);
    if (!e) return std::nullopt;
    out.items.push_back(std::move(*e)); // an array variable repeats it in every element
    return out;
  }
};

} // namespace

sim_load_result parse_sim(const std::string& text, const std::string& file) {
  sim_load_result result;
  checker c(file);
  try {
    toml::table root;
    if (!parse_toml(c, text, file, root)) {
      result.problems = c.take();
      return result;
    }
    sim_reader r{c, {}};
    base_directory(file, &r.cfg.source_path);
    r.read(root);
    if (c.errors() == 0) result.config = std::move(r.cfg);
  } catch (const std::exception& e) {
    c.error({}, "", std::string("internal error while reading the configuration: ") + e.what());
  }
  result.problems = c.take();
  return result;
}

sim_load_result load_sim_file(const std::string& path) {
  std::string text;
  std::string why = read_config_file(path, text);
  if (why.empty()) return parse_sim(text, path);
  sim_load_result r;
  problem p;
  p.file = path;
  p.message = "cannot read the simulation file: " + why;
  r.problems.push_back(std::move(p));
  return r;
}

sim_config default_sim_config(int64_t items, int64_t rate_ms) {
  sim_config cfg;
  cfg.rate_ms = rate_ms;
  cfg.users.push_back({"op1", "secret1"});
  sim_folder f;
  f.name = "Sim";
  auto add = [&](std::string name, std::string type, sim_generator g, bool writable = false) {
    sim_variable v;
    v.name = std::move(name);
    v.type = std::move(type);
    v.generator = g;
    v.writable = writable;
    f.variables.push_back(v);
    return &f.variables.back();
  };
  add("Counter", "Int32", sim_generator::counter);
  auto* ramp = add("Ramp", "Double", sim_generator::ramp);
  ramp->period_ms = 100 * rate_ms;
  auto* sine = add("Sine", "Double", sim_generator::sine);
  sine->period_ms = 100 * rate_ms;
  sine->min = -1;
  sine->max = 1;
  auto* hb = add("Heartbeat", "Boolean", sim_generator::square);
  hb->period_ms = 2 * rate_ms;
  add("Random", "Double", sim_generator::random);
  add("Setpoint", "Double", sim_generator::static_value, true)->value =
      sim_literal{{sim_scalar(0.0)}, false};
  add("Text", "String", sim_generator::static_value, true)->value =
      sim_literal{{sim_scalar(std::string("hello"))}, false};
  auto* arr = add("Array", "Double", sim_generator::counter);
  arr->length = 10;
  if (items > 0) {
    auto* it = add("Item", "Double", sim_generator::counter);
    it->count = items;
  }
  for (auto& v : f.variables)
    v.key_path = "built-in Sim." + v.name;
  cfg.folders.push_back(std::move(f));
  return cfg;
}

int64_t variable_count(const std::vector<sim_folder>& folders) {
  int64_t n = 0;
  for (const auto& f : folders) {
    for (const auto& v : f.variables)
      n += v.count == 0 ? 1 : v.count;
    n += variable_count(f.folders);
  }
  return n;
}

const char* to_string(sim_generator g) {
  switch (g) {
  case sim_generator::static_value:
    return "static";
  case sim_generator::counter:
    return "counter";
  case sim_generator::ramp:
    return "ramp";
  case sim_generator::sine:
    return "sine";
  case sim_generator::random:
    return "random";
  case sim_generator::square:
    return "square";
  }
  return "?";
}

} // namespace tandem::config
