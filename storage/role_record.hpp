#pragma once
/// The node's role record (`<data_dir>/role.json`): its accumulated Running time and the last
/// term it ran in, kept across restarts (the split-brain rule `longest_running` and the data
/// epochs rely on them). Written to a temporary file, synced and renamed, so a crash leaves the
/// old record or the new one, never half of one.

#include <cstdint>
#include <string>

namespace tandem::storage {

struct role_record {
  uint64_t running_total_ms = 0;
  uint64_t term = 0;
};

/// Reads the record; a missing file is a fresh record. false with `why` when the file exists but
/// cannot be read or is not a role record (the caller decides: the node starts with a fresh one
/// and says so).
bool load_role_record(const std::string& path, role_record& out, std::string& why);

/// Replaces the record; false with `why` on failure.
bool save_role_record(const std::string& path, const role_record& r, std::string& why);

} // namespace tandem::storage
