#pragma once
// Loads the captured node-opcua test vectors (data/vectors.txt, a copy of
// shared/opcua/vectors.txt) at test time.

#include <cstdint>
#include <string>
#include <vector>

namespace tandem::opcua::test {

struct captured_vector {
  std::string id;    ///< "V01"
  std::string title; ///< the rest of the === line
  bool client_to_server = false;
  std::vector<uint8_t> bytes;
  std::string notes; ///< the annotation lines
};

/// All vectors in file order; empty (and a test failure) if the file cannot be read.
const std::vector<captured_vector>& captured_vectors();
/// One vector by id ("V12"); fails the test and returns an empty vector when missing.
const captured_vector& vector_by_id(const std::string& id);

} // namespace tandem::opcua::test
