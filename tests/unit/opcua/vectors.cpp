#include "vectors.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tandem::opcua::test {
namespace {

bool is_hex_line(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return s.size() % 2 == 0;
}

std::vector<captured_vector> load() {
  std::vector<captured_vector> out;
  std::ifstream in(TANDEM_OPCUA_VECTORS);
  EXPECT_TRUE(in.good()) << "cannot read " << TANDEM_OPCUA_VECTORS;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("=== ", 0) == 0) {
      captured_vector v;
      size_t sp = line.find(' ', 4);
      v.id = line.substr(4, sp - 4);
      v.title = sp == std::string::npos ? "" : line.substr(sp + 1);
      v.client_to_server = v.title.find("c2s") != std::string::npos;
      out.push_back(std::move(v));
    } else if (!out.empty() && is_hex_line(line)) {
      for (size_t i = 0; i < line.size(); i += 2)
        out.back().bytes.push_back(static_cast<uint8_t>(std::stoi(line.substr(i, 2), nullptr, 16)));
    } else if (!out.empty() && !line.empty()) {
      out.back().notes += line + "\n";
    }
  }
  return out;
}

} // namespace

const std::vector<captured_vector>& captured_vectors() {
  static const std::vector<captured_vector> all = load();
  return all;
}

const captured_vector& vector_by_id(const std::string& id) {
  for (const auto& v : captured_vectors())
    if (v.id == id) return v;
  ADD_FAILURE() << "no vector " << id;
  static const captured_vector none;
  return none;
}

} // namespace tandem::opcua::test
