#include "bot/knowledge.hpp"

namespace shouhou::bot {

knowledge_load load_knowledge(const std::filesystem::path& intents_dir,
                              const std::filesystem::path& replies_dir,
                              intents::engine_options options) {
  auto intents_loaded = intents::engine::load(intents_dir, options);
  auto replies_loaded = replies::book::load(replies_dir);
  knowledge_load out;
  out.errors = std::move(intents_loaded.errors);
  out.errors.insert(out.errors.end(), replies_loaded.errors.begin(), replies_loaded.errors.end());
  if (!out.errors.empty()) return out;
  auto k = std::make_shared<knowledge>();
  k->intents = std::move(intents_loaded.engine);
  k->replies = std::move(replies_loaded.book);
  k->version = k->intents->version().substr(0, 12) + "-" + k->replies->version().substr(0, 12);
  out.snapshot = std::move(k);
  return out;
}

}  // namespace shouhou::bot
