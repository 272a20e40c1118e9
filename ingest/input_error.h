#pragma once
#include <stdexcept>
#include <string>

namespace edpipe::ingest {

// An input that cannot be opened or read on: names the input and, where known, the offset.
class InputError : public std::runtime_error {
 public:
  InputError(std::string input, std::string reason)
      : std::runtime_error(input + ": " + reason), input_(std::move(input)), reason_(std::move(reason)) {}
  const std::string& input() const noexcept { return input_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string input_, reason_;
};

}  // namespace edpipe::ingest
