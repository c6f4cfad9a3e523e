#pragma once
/// MONITOR: one per pair with `[[pair.monitor]]` conditions. Each condition is evaluated on both
/// servers from their own data: `stale` (no data change for stale_ms), `equals` / `above` /
/// `below` (the item's value against `value`; booleans count as 0/1), `bad_quality` (the item's
/// status is Bad). A change of a condition's verdict goes to the PAIR as a condition_report.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "config/config.hpp"

namespace tandem {

/// Monitored items of conditions use handles from here up (clients' items stay below).
constexpr uint32_t monitor_handle_base = 0x40000000u;

struct monitor_config {
  std::string alias;
  std::vector<config::monitor_entry> conditions;
  condition_listener_actor owner;
  caf::actor_addr parent;
};

struct monitor_state {
  struct verdict {
    bool failing = false;
    bool connected = false;
    uint64_t stale_gen = 0;
  };
  monitor_config cfg;
  std::array<std::vector<verdict>, 2> v;

  void set(int s, int i, bool failing, const std::string& text);
  void arm_stale(int s, int i);

  monitor_actor::pointer self = nullptr;
  static inline const char* name = "monitor";
};

monitor_actor::behavior_type monitor(monitor_actor::stateful_pointer<monitor_state> self,
                                     monitor_config cfg);

/// The item specs the pair's servers must monitor for these conditions.
std::vector<item_spec> monitor_items(const std::vector<config::monitor_entry>& conditions);

} // namespace tandem
