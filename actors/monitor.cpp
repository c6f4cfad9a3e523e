#include "actors/monitor.hpp"

#include <cmath>

#include "caf/typed_event_based_actor.hpp"

#include "actors/supervision.hpp"
#include "transports/opcua/binary.hpp"

namespace tandem {

namespace {

const char* server_word(int s) {
  return s == 0 ? "primary" : "secondary";
}

/// The value as a number, if it is one (booleans as 0/1).
std::optional<double> numeric(const opcua::Variant& v) {
  if (auto* b = v.get_if<bool>()) return *b ? 1.0 : 0.0;
  if (auto* x = v.get_if<int8_t>()) return *x;
  if (auto* x = v.get_if<uint8_t>()) return *x;
  if (auto* x = v.get_if<int16_t>()) return *x;
  if (auto* x = v.get_if<uint16_t>()) return *x;
  if (auto* x = v.get_if<int32_t>()) return *x;
  if (auto* x = v.get_if<uint32_t>()) return *x;
  if (auto* x = v.get_if<int64_t>()) return static_cast<double>(*x);
  if (auto* x = v.get_if<uint64_t>()) return static_cast<double>(*x);
  if (auto* x = v.get_if<float>()) return *x;
  if (auto* x = v.get_if<double>()) return *x;
  return std::nullopt;
}

std::string num_text(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

} // namespace

std::vector<item_spec> monitor_items(const std::vector<config::monitor_entry>& conditions) {
  std::vector<item_spec> items;
  for (size_t i = 0; i < conditions.size(); ++i) {
    auto& c = conditions[i];
    // Sample fast enough to see a heartbeat change well within stale_ms.
    double sampling = c.condition == config::monitor_condition::stale
                          ? std::max(10.0, std::min(1000.0, c.stale_ms / 4.0))
                          : 250.0;
    items.push_back(item_spec{monitor_handle_base + static_cast<uint32_t>(i), c.item, sampling, 1,
                              monitoring_mode::reporting});
  }
  return items;
}

void monitor_state::set(int s, int i, bool failing, const std::string& text) {
  auto& x = v[s][i];
  if (x.failing == failing) return;
  x.failing = failing;
  if (cfg.owner) self->send(cfg.owner, condition_report{s, i, failing, text});
}

void monitor_state::arm_stale(int s, int i) {
  auto& c = cfg.conditions[i];
  if (c.condition != config::monitor_condition::stale) return;
  self->delayed_send(self, std::chrono::milliseconds(c.stale_ms), atom::stale_check_v, int32_t{s},
                     int32_t{i}, ++v[s][i].stale_gen);
}

monitor_actor::behavior_type monitor(monitor_actor::stateful_pointer<monitor_state> self,
                                     monitor_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  quit_with_parent(self, st.cfg.parent);
  for (auto& vs : st.v)
    vs.resize(st.cfg.conditions.size());
  return {
      [self](pair_data& d) {
        auto& st = self->state;
        int s = d.server == 1 ? 1 : 0;
        for (auto& u : d.updates) {
          if (u.handle < monitor_handle_base) continue;
          size_t i = u.handle - monitor_handle_base;
          if (i >= st.cfg.conditions.size()) continue;
          auto& c = st.cfg.conditions[i];
          std::string where = st.cfg.alias + "/" + server_word(s) + ": monitor " +
                              std::to_string(i) + " (" + c.item + ")";
          opcua::StatusCode sc(u.status);
          switch (c.condition) {
          case config::monitor_condition::stale:
            st.set(s, static_cast<int>(i), false, where + " changes again");
            st.arm_stale(s, static_cast<int>(i));
            break;
          case config::monitor_condition::bad_quality:
            st.set(s, static_cast<int>(i), sc.is_bad(),
                   where + (sc.is_bad() ? " has bad quality " + opcua::to_string(sc)
                                        : " has good quality"));
            break;
          default: {
            auto dv = opcua::decode_exact<opcua::DataValue>(opcua::byte_span(u.value));
            if (!dv || !dv->value) break;
            auto n = numeric(*dv->value);
            if (!n || !c.value) break;
            bool failing = c.condition == config::monitor_condition::equals  ? *n == *c.value
                           : c.condition == config::monitor_condition::above ? *n > *c.value
                                                                             : *n < *c.value;
            st.set(s, static_cast<int>(i), failing,
                   where + " = " + num_text(*n) + (failing ? " (" : " (no longer ") +
                       config::to_string(c.condition) + " " + num_text(*c.value) + ")");
          }
          }
        }
      },
      [self](atom::connect, int32_t s) {
        auto& st = self->state;
        s = s == 1 ? 1 : 0;
        for (size_t i = 0; i < st.cfg.conditions.size(); ++i) {
          st.v[s][i].connected = true;
          st.arm_stale(s, static_cast<int>(i));
        }
      },
      [self](atom::disconnect, int32_t s) {
        auto& st = self->state;
        s = s == 1 ? 1 : 0;
        for (size_t i = 0; i < st.cfg.conditions.size(); ++i) {
          st.v[s][i].connected = false;
          ++st.v[s][i].stale_gen;
          // A server that is gone is judged by its connection, not its conditions.
          st.set(s, static_cast<int>(i), false,
                 st.cfg.alias + "/" + server_word(s) + " disconnected");
        }
      },
      [self](fault& f, int32_t s) -> std::string {
        auto& st = self->state;
        if (f.count < 0 || static_cast<size_t>(f.count) >= st.cfg.conditions.size())
          return "pair " + st.cfg.alias + " has " + std::to_string(st.cfg.conditions.size()) +
                 " monitor conditions; no index " + std::to_string(f.count);
        s = s == 1 ? 1 : 0;
        st.set(s, static_cast<int>(f.count), true,
               st.cfg.alias + "/" + server_word(s) + ": monitor " + std::to_string(f.count) +
                   " fired by fault injection");
        return std::string{};
      },
      [self](atom::stale_check, int32_t s, int32_t i, uint64_t gen) {
        auto& st = self->state;
        if (s < 0 || s > 1 || i < 0 || static_cast<size_t>(i) >= st.cfg.conditions.size()) return;
        auto& x = st.v[s][i];
        if (x.stale_gen != gen || !x.connected) return;
        auto& c = st.cfg.conditions[i];
        st.set(s, i, true,
               st.cfg.alias + "/" + server_word(s) + ": monitor " + std::to_string(i) + " (" +
                   c.item + ") stale: no change for " + std::to_string(c.stale_ms) + " ms");
      },
  };
}

} // namespace tandem
