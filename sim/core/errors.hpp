// Error types that cross the core's boundary.
//
// InputError is bad input from a user (scenario file, --set, command line): the
// message is already formatted as `SOURCE: /json/pointer: what is wrong` and the
// program exits 2 with it. InvariantError is a bug: a broken model invariant
// (conservation, descriptor states); the program exits 3 naming it. WriteError
// is an output that could not be written (disk full): exit 1.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace vringsim {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  /// `what`, then what `hint` returns, worked out the first time the message
  /// is read (what()) rather than when it is thrown: a "did you mean" hint
  /// compares the key with every declared name, and a fuzzer refuses
  /// millions of unknown keys without reading one message. The message is
  /// the same either way.
  InputError(const std::string& what, std::function<std::string()> hint)
      : std::runtime_error(what), hint_(std::make_shared<Hint>()) {
    hint_->make = std::move(hint);
  }
  const char* what() const noexcept override {
    if (!hint_) return std::runtime_error::what();
    try {
      std::call_once(hint_->once, [this] { hint_->text = std::runtime_error::what() + hint_->make(); });
      return hint_->text.c_str();
    } catch (...) {
      return std::runtime_error::what();  // no memory for the hint: the message without it
    }
  }

 private:
  struct Hint {
    std::function<std::string()> make;
    std::once_flag once;
    std::string text;
  };
  std::shared_ptr<Hint> hint_;  ///< shared by the copies a throw or a rethrow makes
};

class InvariantError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// An output that could not be written (a full disk, an I/O error): the work
/// failed (exit code 1, docs/contract.md "A write that fails later (disk
/// full) is exit 1"), nothing is wrong with the model. The message names the
/// file: `FILE: write failed: No space left on device`.
class WriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws InvariantError with `what` when `ok` is false. Used for checks that
/// stay on in release builds: a simulator that silently loses a descriptor is
/// worse than one that stops.
inline void ensure(bool ok, const char* what) {
  if (!ok) throw InvariantError(what);
}
inline void ensure(bool ok, const std::string& what) {
  if (!ok) throw InvariantError(what);
}
/// The message built only when the check fails: `ensure(ok, [&] { return
/// fmt::format(...); })` on paths taken per packet (a message formatted
/// before every check cost more than the check).
template <class Message>
  requires std::is_invocable_r_v<std::string, Message>
inline void ensure(bool ok, Message&& what) {
  if (!ok) throw InvariantError(what());
}

/// User text quoted in an error message, bounded: a 50 MB value or a
/// 100,000-level list must not become a 50 MB error line. Longer text keeps
/// its first `max` bytes (never cutting a UTF-8 sequence) and says how long
/// it was: `[[[[[[… (120000 bytes)`.
inline std::string brief(std::string_view text, size_t max = 80) {
  if (text.size() <= max) return std::string(text);
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
  return std::string(text.substr(0, cut)) + "\u2026 (" + std::to_string(text.size()) + " bytes)";
}

/// What keeps `path` from being read as an input file: "" for a regular file,
/// else "does not exist", "is a directory", "is not a regular file (…)" or
/// "cannot be read: <why>" (a name too long, a component that is a file,
/// no permission). Devices and FIFOs are refused before they are opened:
/// /dev/zero was read until memory ran out and a FIFO blocked forever.
inline std::string not_a_regular_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) return "cannot be read: " + ec.message();
  if (ec || !std::filesystem::exists(st)) return "does not exist";
  if (std::filesystem::is_directory(st)) return "is a directory";
  if (!std::filesystem::is_regular_file(st)) return "is not a regular file (a device, FIFO or socket)";
  return "";
}

/// The one shape of a bad-input message: `SOURCE: /json/pointer: what is
/// wrong`, with the source and the pointer bounded (either may quote user
/// text: a --set assignment, a key). `what` is ours; values quoted in it go
/// through brief() where it is built.
inline std::string input_message(std::string_view source, std::string_view pointer, std::string_view what) {
  return brief(source, 120) + ": " + (pointer.empty() ? std::string("/") : brief(pointer, 100)) + ": " +
         std::string(what);
}
/// The error fail_input() throws, made in a frame of its own: the message's
/// temporaries are gone before the throw, so the unwinder passes through
/// fail_input() without stopping to destroy them (a stop costs a second walk
/// of the frame's tables: a fuzzer refuses millions of inputs).
[[gnu::noinline]] inline InputError input_error(std::string_view source, std::string_view pointer,
                                                std::string_view what) {
  return InputError(input_message(source, pointer, what));
}
[[noreturn]] inline void fail_input(std::string_view source, std::string_view pointer, std::string_view what) {
  throw input_error(source, pointer, what);
}
/// The same, with a hint appended to `what` when the message is read
/// (" (did you mean /ring/size?)", or "").
[[gnu::noinline]] inline InputError input_error(std::string_view source, std::string_view pointer,
                                                std::string_view what, std::function<std::string()>&& hint) {
  return InputError(input_message(source, pointer, what), std::move(hint));
}
[[noreturn]] inline void fail_input(std::string_view source, std::string_view pointer, std::string_view what,
                                    std::function<std::string()> hint) {
  throw input_error(source, pointer, what, std::move(hint));
}

}  // namespace vringsim
