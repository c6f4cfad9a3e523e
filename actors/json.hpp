#pragma once
/// JSON shapes of ../shared/design/CONSOLE.md, shared by the console and (later) the HTTP API.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/event.hpp"
#include "messages/status.hpp"

namespace tandem {

/// RFC 3339 UTC with milliseconds: 2026-11-22T16:29:44.123Z
std::string rfc3339(int64_t unix_ms);

nlohmann::json to_json(const diag_event& e);
nlohmann::json to_json(const pair_status& p);
nlohmann::json to_json(const partner_status& p);
/// The NOTIFIER's part of `status`: {"enabled", "queued", "sent", "last_error", …}.
nlohmann::json to_json(const notifier_status& n);
/// The `status` document: {"node": …, "partner": … or null, "pairs": […]}.
nlohmann::json to_json(const node_status& s);

/// `{"error": text}`
nlohmann::json error_json(const std::string& text);

} // namespace tandem
