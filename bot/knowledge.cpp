#include "bot/knowledge.hpp"

#include "intents/content_hash.hpp"

namespace shouhou::bot {

knowledge_load load_knowledge(const knowledge_files& files, intents::engine_options options) {
  auto intents_loaded = intents::engine::load(files.intents_dir, options);
  auto replies_loaded = replies::book::load(files.replies_dir);
  auto policy_loaded = replies::policy::load(files.policy_file);
  knowledge_load out;
  for (auto* errors : {&intents_loaded.errors, &replies_loaded.errors, &policy_loaded.errors}) {
    out.errors.insert(out.errors.end(), errors->begin(), errors->end());
  }
  if (!out.errors.empty()) return out;
  auto k = std::make_shared<knowledge>();
  k->intents = std::move(intents_loaded.engine);
  k->replies = std::move(replies_loaded.book);
  k->policy = std::move(policy_loaded.policy);
  k->version =
      intents::sha256_hex(k->intents->version() + k->replies->version() + k->policy->version())
          .substr(0, 12);
  out.snapshot = std::move(k);
  return out;
}

knowledge_load knowledge_base::reload(const knowledge_files& files,
                                      intents::engine_options options) {
  std::lock_guard lock(reload_mutex_);
  auto loaded = load_knowledge(files, options);
  if (loaded.snapshot) replace(loaded.snapshot);
  return loaded;
}

}  // namespace shouhou::bot
