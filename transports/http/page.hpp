#pragma once
/// The status page: one self-contained HTML file (inline CSS and JavaScript, no asset from the
/// internet), transports/http/status_page.html embedded in the binary at build time.

#include <string_view>

namespace tandem::transports::http {

std::string_view status_page();

} // namespace tandem::transports::http
