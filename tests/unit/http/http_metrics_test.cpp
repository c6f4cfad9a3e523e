// The HTTP actor's figures: metric families from a node's status, the ELECTION's view and the
// event counts; counters kept monotonic when their source restarts; the JSON documents the API
// and the stream share with the console.

#include <gtest/gtest.h>

#include "actors/http.hpp"
#include "actors/json.hpp"

using namespace tandem;
using transports::http::render_metrics;

namespace {

metrics_input sample_input() {
  metrics_input in;
  in.has_status = true;
  in.status.name = "node-a";
  in.status.role = "master";
  in.status.state = "Running";
  in.status.uptime_ms = 12500;
  pair_status p;
  p.alias = "line\"1";
  p.mode = "warm";
  p.active = "secondary";
  p.service_level = 150;
  p.primary = {"opc.tcp://a/sim", "lost", "connection refused"};
  p.secondary = {"opc.tcp://b/sim", "connected", ""};
  p.failovers = 2;
  p.failovers_by_cause = {{"connection_lost", 1}, {"operator", 1}};
  p.items = 5;
  p.values_forwarded = 1234;
  in.status.pairs.push_back(p);
  in.has_election = true;
  in.election.role = "master";
  in.election.link = "up";
  in.election.partner_state = "Standby";
  in.election.config_digest = "abc";
  in.election.partner_config_digest = "abc";
  in.election.rtt_ms = 0.25;
  in.election.last_heartbeat_ms_ago = 120;
  in.election.takeovers = 3;
  in.has_counts = true;
  in.counts = {10, 4, 1, 0};
  in.has_sync = true;
  in.sync.state = "synced";
  in.sync.syncs = 2;
  in.sync.lag_ms = 12.5;
  in.sync.live_history = 40;
  return in;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(http_metrics, names_every_figure_with_help_type_and_labels) {
  monotonic_counters keep;
  auto text = render_metrics(node_metrics(sample_input(), keep));
  for (auto* line : {
           "# TYPE tandem_pair_failovers_total counter",
           "tandem_pair_failovers_total{pair=\"line\\\"1\",cause=\"connection_lost\"} 1",
           "tandem_pair_failovers_total{pair=\"line\\\"1\",cause=\"operator\"} 1",
           "tandem_pair_active_server{pair=\"line\\\"1\",server=\"primary\"} 0",
           "tandem_pair_active_server{pair=\"line\\\"1\",server=\"secondary\"} 1",
           "tandem_pair_server_healthy{pair=\"line\\\"1\",server=\"primary\"} 0",
           "tandem_pair_service_level{pair=\"line\\\"1\"} 150",
           "tandem_pair_items{pair=\"line\\\"1\"} 5",
           "tandem_pair_notifications_forwarded_total{pair=\"line\\\"1\"} 1234",
           "tandem_node_state{state=\"Running\"} 1",
           "tandem_node_state{state=\"Standby\"} 0",
           "tandem_node_uptime_seconds 12.5",
           "tandem_node_info{node=\"node-a\",role=\"master\"} 1",
           "tandem_partner_link_up 1",
           "tandem_partner_state{state=\"Standby\"} 1",
           "tandem_partner_config_match 1",
           "tandem_partner_heartbeat_rtt_seconds 0.00025",
           "tandem_partner_heartbeat_age_seconds 0.12",
           "# TYPE tandem_takeovers_total counter",
           "tandem_takeovers_total 3",
           "tandem_diagnostics_events_total{severity=\"info\"} 10",
           "tandem_diagnostics_events_total{severity=\"warning\"} 4",
           "tandem_diagnostics_events_total{severity=\"critical\"} 0",
           "tandem_scrape_complete 1",
           "tandem_sync_state{state=\"synced\"} 1",
           "tandem_sync_state{state=\"not_synced\"} 0",
           "tandem_sync_lag_seconds 0.0125",
           "tandem_syncs_total 2",
           "tandem_sync_live_rows_total{kind=\"history\"} 40",
       })
    EXPECT_TRUE(has_line(text, line)) << line << "\nin:\n" << text;
  // Every family has HELP before TYPE, and every sample line belongs to a declared family.
  std::string declared;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    std::string l = text.substr(pos, end - pos);
    pos = end + 1;
    if (l.rfind("# HELP ", 0) == 0) {
      declared = l.substr(7, l.find(' ', 7) - 7);
    } else if (l.rfind("# TYPE ", 0) == 0) {
      EXPECT_EQ(l.substr(7, l.find(' ', 7) - 7), declared) << l;
    } else {
      EXPECT_EQ(l.substr(0, declared.size()), declared) << l;
    }
  }
}

TEST(http_metrics, leaves_out_what_is_not_known) {
  monotonic_counters keep;
  auto in = sample_input();
  in.election.rtt_ms = -1;
  in.election.last_heartbeat_ms_ago = -1;
  in.election.partner_config_digest.clear();
  in.has_counts = false;
  auto text = render_metrics(node_metrics(in, keep));
  EXPECT_NE(text.find("# TYPE tandem_partner_heartbeat_rtt_seconds gauge"), std::string::npos);
  EXPECT_EQ(text.find("\ntandem_partner_heartbeat_rtt_seconds "), std::string::npos);
  EXPECT_EQ(text.find("\ntandem_partner_config_match "), std::string::npos);
  EXPECT_EQ(text.find("tandem_diagnostics_events_total"), std::string::npos);
  EXPECT_TRUE(has_line(text, "tandem_scrape_complete 0"));
  // An independent node has no partner figures at all.
  in.election.role = "independent";
  text = render_metrics(node_metrics(in, keep));
  EXPECT_EQ(text.find("tandem_partner_link_up"), std::string::npos);
  EXPECT_EQ(text.find("tandem_takeovers_total"), std::string::npos);
}

TEST(http_metrics, counters_stay_monotonic_when_a_source_restarts) {
  monotonic_counters keep;
  EXPECT_EQ(keep("a", 0), 0u);
  EXPECT_EQ(keep("a", 5), 5u);
  EXPECT_EQ(keep("a", 7), 7u);
  EXPECT_EQ(keep("a", 2), 9u); // restarted: 7 before, 2 since
  EXPECT_EQ(keep("a", 3), 10u);
  EXPECT_EQ(keep("b", 1), 1u); // each key on its own
  EXPECT_EQ(keep("a", 0), 10u);
  EXPECT_EQ(keep("a", 4), 14u);

  auto in = sample_input();
  monotonic_counters k2;
  node_metrics(in, k2);
  in.election.takeovers = 1; // the ELECTION was restarted and took over once since
  in.status.pairs[0].failovers_by_cause["connection_lost"] = 0;
  auto text = render_metrics(node_metrics(in, k2));
  EXPECT_TRUE(has_line(text, "tandem_takeovers_total 4")) << text;
  EXPECT_TRUE(
      has_line(text, "tandem_pair_failovers_total{pair=\"line\\\"1\",cause=\"connection_lost\"} 1"))
      << text;
}

TEST(http_json, status_is_the_console_document) {
  auto in = sample_input();
  in.status.has_partner = true;
  in.status.partner.address = "127.0.0.1:4850";
  auto j = to_json(in.status);
  for (auto* k : {"node", "partner", "pairs", "notifier"})
    EXPECT_TRUE(j.contains(k)) << k;
  for (auto* k : {"name", "role", "state", "uptime_ms", "maintenance", "comment"})
    EXPECT_TRUE(j["node"].contains(k)) << k;
  auto p = j["pairs"][0];
  for (auto* k :
       {"alias", "mode", "active", "service_level", "primary", "secondary", "last_failover"})
    EXPECT_TRUE(p.contains(k)) << k;
  EXPECT_EQ(p["primary"]["state"], "lost");
  // The counters are for /metrics, not the console's document.
  EXPECT_FALSE(p.contains("failovers"));
  EXPECT_EQ(j["partner"]["address"], "127.0.0.1:4850");
}

TEST(http_json, node_info_is_the_console_node_document) {
  auto es = sample_input().election;
  es.name = "node-a";
  auto j = to_json(es);
  for (auto* k : {"name", "role", "state", "running_total_ms", "term", "config_digest",
                  "client_sessions", "maintenance"})
    EXPECT_TRUE(j["self"].contains(k)) << k;
  for (auto* k : {"name", "state", "link", "last_heartbeat_ms_ago", "rtt_ms", "config_match",
                  "sync", "client_sessions", "maintenance"})
    EXPECT_TRUE(j["partner"].contains(k)) << k;
  EXPECT_EQ(j["partner"]["config_match"], "match");
  es.role = "independent";
  EXPECT_TRUE(to_json(es)["partner"].is_null());
}

} // namespace
