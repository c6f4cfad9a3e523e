// `tandem cert -c FILE [--trust CERT]...`: this node's partner-link certificate (made when
// missing) and, for pre-provisioning, trusting a partner's certificate file (docs/PKI.md).

#include <iostream>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "tools/commands.hpp"
#include "transports/partner/pki.hpp"

namespace tandem::tools {

namespace {

nlohmann::json cert_json(const partner::cert_info& c) {
  return {{"thumbprint", c.thumbprint},
          {"subject", c.subject},
          {"not_before", partner::rfc3339_ms(c.not_before_ms)},
          {"not_after", partner::rfc3339_ms(c.not_after_ms)},
          {"status", c.status},
          {"file", c.path}};
}

} // namespace

int run_cert(const cert_options& opts) {
  auto res = config::load_file(opts.config_path);
  for (auto& p : res.problems)
    if (p.lvl != config::problem::level::warning) std::cerr << p.text() << "\n";
  if (!res.ok()) {
    std::cerr << "tandem cert: " << res.error_count() << " error"
              << (res.error_count() == 1 ? "" : "s") << " in " << opts.config_path << "\n";
    return exit_bad_config;
  }
  const auto& cfg = *res.config;
  std::string err;
  bool created = false;
  auto pki = partner::pki_store::open(cfg.node.data_dir + "/pki", cfg.node.name, err, &created);
  if (!pki) {
    std::cerr << "tandem cert: " << err << "\n";
    return exit_startup;
  }
  nlohmann::json trusted = nlohmann::json::array();
  for (auto& file : opts.trust) {
    partner::cert_info ci;
    err = pki->trust_file(file, &ci);
    if (!err.empty()) {
      std::cerr << "tandem cert: " << err << "\n";
      return exit_usage;
    }
    trusted.push_back(cert_json(ci));
  }
  const auto& own = pki->own();
  if (opts.json) {
    std::cout << nlohmann::json{{"created", created},
                                {"own", cert_json(own)},
                                {"key", pki->key_path()},
                                {"trusted", trusted}}
                     .dump()
              << std::endl;
    return exit_ok;
  }
  std::cout << (created ? "created " : "") << "certificate of node " << cfg.node.name << "\n"
            << "  thumbprint  " << own.thumbprint << " (SHA-1)\n"
            << "  subject     " << own.subject << "\n"
            << "  valid       " << partner::rfc3339_ms(own.not_before_ms) << " to "
            << partner::rfc3339_ms(own.not_after_ms) << "\n"
            << "  certificate " << own.path << "\n"
            << "  key         " << pki->key_path() << "\n"
            << "  trust it on the partner: copy the certificate into the partner's "
               "pki/trusted/certs/, or run `tandem cert -c PARTNER.toml --trust "
            << own.path << "` there\n";
  for (auto& t : trusted)
    std::cout << "trusted " << t["thumbprint"].get<std::string>() << " ("
              << t["subject"].get<std::string>() << ")\n";
  return exit_ok;
}

} // namespace tandem::tools
