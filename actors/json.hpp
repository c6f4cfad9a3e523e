#pragma once
/// JSON shapes of ../shared/design/CONSOLE.md, shared by the console and the HTTP API.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/alarms.hpp"
#include "messages/election.hpp"
#include "messages/event.hpp"
#include "messages/history.hpp"
#include "messages/status.hpp"
#include "messages/sync.hpp"

namespace tandem {

/// RFC 3339 UTC with milliseconds: 2026-11-22T16:29:44.123Z
std::string rfc3339(int64_t unix_ms);

/// Unix ms of an RFC 3339 time ("2026-11-22T16:29:44.123Z", "2026-11-22T17:29:44+01:00",
/// fraction optional; "T" or a space); nullopt when it is not one.
std::optional<int64_t> parse_rfc3339(const std::string& text);

nlohmann::json to_json(const diag_event& e);
/// One value of `history`: {"time", "value", "status", "source_time", "server_time",
/// "recorded", "origin", "term", "seq"}; the value decoded from its DataValue.
nlohmann::json to_json(const history_row& r);
/// One alarm of `alarms`: {"id", "source", "text", "active", "acked", "since", "cleared",
/// "acked_time", "key", "origin"}.
nlohmann::json to_json(const alarm& a);
nlohmann::json to_json(const pair_status& p);
nlohmann::json to_json(const partner_status& p);
/// The NOTIFIER's part of `status`: {"enabled", "queued", "sent", "last_error", …}.
nlohmann::json to_json(const notifier_status& n);
/// The `status` document: {"node": …, "partner": … or null, "pairs": […]}.
nlohmann::json to_json(const node_status& s);

/// The `node` document: {"self": {…}, "partner": {…} or null} (the console's `node`, the
/// status page's tiles).
nlohmann::json to_json(const election_status& es);

/// SYNC's details in the `node` document's `self.sync` (as the console's `node`).
nlohmann::json to_json(const sync_status& s);
/// Puts SYNC's part into a `node` document (to_json of election_status): `partner.sync` (its
/// state word) and `self.sync` (the details).
void add_sync(nlohmann::json& node_doc, const sync_status& s);

/// `{"error": text}`
nlohmann::json error_json(const std::string& text);

} // namespace tandem
