#pragma once
/// Result type of the codec's public API: a value or an `error` (status code + readable reason).
/// No exceptions cross the codec's API (only std::bad_alloc can escape).

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "transports/opcua/status_code.hpp"

namespace tandem::opcua {

/// Why an operation failed: a StatusCode fit to report to a peer and a reason fit to log,
/// naming the field and byte offset (e.g. "ReadRequest.nodesToRead[2].nodeId: unknown NodeId
/// encoding byte 0x07 at byte 113").
struct error {
  StatusCode code = status::BadUnexpectedError;
  std::string reason;
};

/// Either a T or an error.
template <class T> class [[nodiscard]] result {
public:
  result(T value) : data_(std::in_place_index<0>, std::move(value)) {} // NOLINT: implicit
  result(error e) : data_(std::in_place_index<1>, std::move(e)) {}     // NOLINT: implicit

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const opcua::error& error() const { return std::get<1>(data_); }
  StatusCode code() const { return ok() ? status::Good : error().code; }

private:
  std::variant<T, opcua::error> data_;
};

/// Success or an error, with no value.
template <> class [[nodiscard]] result<void> {
public:
  result() = default;
  result(error e) : ok_(false), error_(std::move(e)) {} // NOLINT: implicit

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const opcua::error& error() const { return error_; }
  StatusCode code() const { return ok_ ? status::Good : error_.code; }

private:
  bool ok_ = true;
  opcua::error error_;
};

} // namespace tandem::opcua
