#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "core/exit_code.h"

namespace perfguard {

// An error is a value until the edge: a tool's main turns it into one line on stderr and
// an exit code. The message names what is wrong and what to do next, without the tool's
// name (the edge prefixes it).
struct Error {
  ExitCode code = ExitCode::step_failed;
  std::string message;
};

inline Error make_error(ExitCode code, std::string message) {
  return Error{code, std::move(message)};
}

// Result<T>: a T or an Error. Result<void> is success or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(failed_);
    return error_;
  }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace perfguard
