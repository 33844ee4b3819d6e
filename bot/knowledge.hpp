#pragma once
// What the bot knows: the compiled intent engine and reply book, as one immutable snapshot.
// A conversation turn takes the current snapshot once and uses only it, so a reload in the middle
// of a turn never mixes versions.

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "intents/engine.hpp"
#include "replies/book.hpp"

namespace shouhou::bot {

struct knowledge {
  std::shared_ptr<const intents::engine> intents;
  std::shared_ptr<const replies::book> replies;
  // Which files are live: the first 12 hex digits of the intents' and replies' content hashes.
  std::string version;
};

struct knowledge_load {
  std::shared_ptr<const knowledge> snapshot;  // null when `errors` is not empty
  std::vector<intents::file_error> errors;
};

// Loads and validates both folders together; errors of both are reported.
knowledge_load load_knowledge(const std::filesystem::path& intents_dir,
                              const std::filesystem::path& replies_dir,
                              intents::engine_options options);

// The live snapshot, swapped atomically. Thread-safe.
class knowledge_base {
 public:
  explicit knowledge_base(std::shared_ptr<const knowledge> initial) : current_(std::move(initial)) {}
  std::shared_ptr<const knowledge> current() const { return current_.load(); }
  void replace(std::shared_ptr<const knowledge> next) { current_.store(std::move(next)); }

 private:
  std::atomic<std::shared_ptr<const knowledge>> current_;
};

}  // namespace shouhou::bot
