#include <iostream>

#include "config/config.hpp"
#include "tools/commands.hpp"

namespace tandem::tools {

int run_check(const std::string& path, bool quiet) {
  auto res = config::load_file(path);
  for (auto& p : res.problems)
    std::cerr << p.text() << "\n";
  if (!res.ok()) {
    std::cerr << path << ": " << res.error_count() << " error"
              << (res.error_count() == 1 ? "" : "s") << ", " << res.warning_count() << " warning"
              << (res.warning_count() == 1 ? "" : "s") << "\n";
    return exit_bad_config;
  }
  if (!quiet) {
    auto& c = *res.config;
    std::cout << path << ": ok: node " << c.node.name << ", role "
              << config::to_string(c.redundancy.node_role) << ", " << c.pairs.size() << " pair"
              << (c.pairs.size() == 1 ? "" : "s") << ", " << res.warning_count() << " warning"
              << (res.warning_count() == 1 ? "" : "s") << "\n";
  }
  return exit_ok;
}

} // namespace tandem::tools
