#pragma once
// What the bot knows: the compiled intent engine and reply book, as one immutable snapshot.
// A conversation turn takes the current snapshot once and uses only it, so a reload in the middle
// of a turn never mixes versions.

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <mutex>

#include "bot/config.hpp"
#include "intents/engine.hpp"
#include "replies/book.hpp"
#include "replies/policy.hpp"

namespace shouhou::bot {

struct knowledge {
  std::shared_ptr<const intents::engine> intents;
  std::shared_ptr<const replies::book> replies;
  std::shared_ptr<const replies::policy> policy;
  // Which files are live: the first 12 hex digits of the SHA-256 over the intents', replies'
  // and policy's content hashes.
  std::string version;
};

struct knowledge_load {
  std::shared_ptr<const knowledge> snapshot;  // null when `errors` is not empty
  std::vector<intents::file_error> errors;
};

// Loads and validates all the files together; every error of every file is reported.
knowledge_load load_knowledge(const knowledge_files& files, intents::engine_options options);

// The live snapshot, swapped atomically. Thread-safe.
class knowledge_base {
 public:
  explicit knowledge_base(std::shared_ptr<const knowledge> initial) : current_(std::move(initial)) {}
  std::shared_ptr<const knowledge> current() const { return current_.load(); }
  void replace(std::shared_ptr<const knowledge> next) { current_.store(std::move(next)); }

  // Reads the files again and swaps them in only if all are valid; otherwise the live snapshot
  // stays and the errors are returned. Reloads are serialised; reading goes on meanwhile.
  knowledge_load reload(const knowledge_files& files, intents::engine_options options);

 private:
  std::atomic<std::shared_ptr<const knowledge>> current_;
  std::mutex reload_mutex_;
};

}  // namespace shouhou::bot
