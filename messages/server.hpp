#pragma once
/// Messages of one underlying OPC UA server connection: what the OPC-SERVER actor is asked to do,
/// what its link (the transport) reports to it, and what it reports to its owner (the PAIR).
/// Values travel as UA Binary-encoded DataValues, so a value is decoded at most once on its way
/// from an upstream server to a client of the face.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

namespace tandem {

/// Connection state of one server, in the words of CONSOLE.md.
enum class server_conn_state : uint8_t {
  idle,           ///< not connected on purpose (the cold mode's standby)
  connecting,     ///< connecting or reconnecting
  connected,      ///< session up, status polls answered, server Running and healthy
  lost,           ///< the connection failed; retrying with back-off
  status_timeout, ///< connected, but the last status poll was not answered in time
  unhealthy,      ///< answers, but its ServerState is not Running or its ServiceLevel is too low
};

inline const char* to_string(server_conn_state s) {
  switch (s) {
  case server_conn_state::idle:
    return "idle";
  case server_conn_state::connecting:
    return "connecting";
  case server_conn_state::connected:
    return "connected";
  case server_conn_state::lost:
    return "lost";
  case server_conn_state::status_timeout:
    return "status_timeout";
  case server_conn_state::unhealthy:
    return "unhealthy";
  }
  return "idle";
}

/// True while a session is up, healthy or not (connected, status_timeout, unhealthy).
inline bool connected_like(server_conn_state s) {
  return s == server_conn_state::connected || s == server_conn_state::status_timeout ||
         s == server_conn_state::unhealthy;
}

/// Monitoring modes of OPC UA (MonitoringMode).
enum class monitoring_mode : uint8_t { disabled = 0, sampling = 1, reporting = 2 };

/// One item the owner wants monitored on this server.
struct item_spec {
  uint32_t handle = 0;       ///< the owner's id for the item, echoed in updates
  std::string node_id;       ///< NodeId text form
  double sampling_ms = 1000; ///< requested sampling interval
  uint32_t queue_size = 10;
  monitoring_mode mode = monitoring_mode::reporting;
};

/// One value change of one item.
struct item_update {
  uint32_t handle = 0;
  int64_t source_time = 0;    ///< UA DateTime ticks (100 ns since 1601), 0 when absent
  uint32_t status = 0;        ///< StatusCode (Good = 0)
  std::vector<uint8_t> value; ///< the UA Binary-encoded DataValue as the server sent it
};

// -- the link reports (transport -> OPC-SERVER); `generation` names the connection attempt ------

struct link_up {
  uint64_t generation = 0;
};

struct link_down {
  uint64_t generation = 0;
  uint32_t status = 0; ///< StatusCode of the failure
  std::string reason;
};

struct status_reply {
  uint64_t generation = 0;
  uint64_t poll = 0; ///< the poll this answers
  bool ok = false;   ///< false: the read failed (`status`, `reason` say why)
  uint32_t status = 0;
  int32_t server_state = 7;   ///< ServerStatus.State (0 Running ... 7 Unknown)
  int32_t service_level = -1; ///< ServiceLevel, -1 when not readable
  std::string reason;
};

struct items_created {
  uint64_t generation = 0;
  std::vector<uint32_t> handles;
  std::vector<uint32_t> results; ///< StatusCode per handle
};

struct data_batch {
  uint64_t generation = 0;
  std::vector<item_update> updates; ///< empty: a keep-alive (the subscription still publishes)
  /// The subscription's keep-alive period as the server revised it (publishing interval times
  /// keep-alive count, ms): the longest a healthy server stays silent. 0 = not known.
  double keep_alive_ms = 0;
};

// -- OPC-SERVER -> owner ------------------------------------------------------------------------

struct server_state_change {
  std::string server; ///< e.g. "line1/primary"
  server_conn_state state = server_conn_state::idle;
  std::string detail; ///< why, for people
  int32_t service_level = -1;
};

struct server_data {
  std::string server;
  std::vector<item_update> updates;
};

/// Data of one of a pair's servers (0 primary, 1 secondary), from the PAIR to its MONITOR.
struct pair_data {
  int32_t server = 0;
  std::vector<item_update> updates;
};

/// A monitor condition of a pair changed on one server (MONITOR to PAIR).
struct condition_report {
  int32_t server = 0;
  int32_t index = 0; ///< the condition's position in the config
  bool failing = false;
  std::string text; ///< what is wrong, for people
};

/// A snapshot for status screens.
struct server_snapshot {
  std::string server;
  std::string url;
  server_conn_state state = server_conn_state::idle;
  int32_t service_level = -1;
  int32_t server_state = 7;
  uint64_t reconnects = 0;
  uint64_t items = 0;
  uint64_t items_failed = 0;
  std::string detail;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, item_spec& x) {
  return f(caf::meta::type_name("item_spec"), x.handle, x.node_id, x.sampling_ms, x.queue_size,
           x.mode);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, item_update& x) {
  return f(caf::meta::type_name("item_update"), x.handle, x.source_time, x.status, x.value);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, link_up& x) {
  return f(caf::meta::type_name("link_up"), x.generation);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, link_down& x) {
  return f(caf::meta::type_name("link_down"), x.generation, x.status, x.reason);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, status_reply& x) {
  return f(caf::meta::type_name("status_reply"), x.generation, x.poll, x.ok, x.status,
           x.server_state, x.service_level, x.reason);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, items_created& x) {
  return f(caf::meta::type_name("items_created"), x.generation, x.handles, x.results);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, data_batch& x) {
  return f(caf::meta::type_name("data_batch"), x.generation, x.updates, x.keep_alive_ms);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_state_change& x) {
  return f(caf::meta::type_name("server_state_change"), x.server, x.state, x.detail,
           x.service_level);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, server_data& x) {
  return f(caf::meta::type_name("server_data"), x.server, x.updates);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, pair_data& x) {
  return f(caf::meta::type_name("pair_data"), x.server, x.updates);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, condition_report& x) {
  return f(caf::meta::type_name("condition_report"), x.server, x.index, x.failing, x.text);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_snapshot& x) {
  return f(caf::meta::type_name("server_snapshot"), x.server, x.url, x.state, x.service_level,
           x.server_state, x.reconnects, x.items, x.items_failed, x.detail);
}

inline const char* to_string(monitoring_mode m) {
  switch (m) {
  case monitoring_mode::disabled:
    return "disabled";
  case monitoring_mode::sampling:
    return "sampling";
  case monitoring_mode::reporting:
    return "reporting";
  }
  return "disabled";
}

} // namespace tandem
