#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>
#include <vector>

#include "bot/app/commands.hpp"
#include "bot/case_desk.hpp"
#include "bot/conversation_engine.hpp"
#include "bot/knowledge.hpp"
#include "connectors/chat_server.hpp"
#include "connectors/webhook/dispatcher.hpp"
#include "store/sqlite_store.hpp"

namespace shouhou::app {

namespace net = boost::asio;

namespace {

// A secret kept in DATA/<name> (the admin token, the webhook's key), created (random, readable
// by the owner only) on first start so that a fresh install is never left with an open admin
// endpoint or an unsigned webhook.
bool load_or_create_token(const std::filesystem::path& data, const std::string& name,
                          std::string& token, std::string& error) {
  const auto path = data / name;
  if (std::ifstream in(path); in) {
    std::getline(in, token);
    if (!token.empty()) return true;
  }
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    error = "cannot make " + name + ": no randomness";
    return false;
  }
  static constexpr char hex[] = "0123456789abcdef";
  token.clear();
  for (unsigned char b : bytes) {
    token.push_back(hex[b >> 4]);
    token.push_back(hex[b & 0xf]);
  }
  const auto temp = data / (name + ".tmp");
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const std::string line = token + "\n";
  const bool written = fd >= 0 &&
                       ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  std::error_code ec;
  if (written) std::filesystem::rename(temp, path, ec);
  if (!written || ec) {
    std::filesystem::remove(temp, ec);
    error = "cannot write " + path.string();
    return false;
  }
  return true;
}

}  // namespace

int serve(bot::server_config config) {
  auto where = bot::parse_listen(config.listen);
  if (!where) {
    std::cerr << "shouhou: --listen \"" << config.listen << "\" is not HOST:PORT\n";
    return 2;
  }

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    std::cerr << "shouhou: cannot create data folder " << config.data_dir << ": " << ec.message()
              << "\n";
    return 1;
  }

  std::string error;
  if (config.admin_token.empty() &&
      !load_or_create_token(config.data_dir, "admin.token", config.admin_token, error)) {
    std::cerr << "shouhou: " << error << "\n";
    return 1;
  }

  const intents::engine_options intent_options{.unsure_below = config.unsure_below};
  auto loaded = bot::load_knowledge(config.files(), intent_options);
  if (!loaded.snapshot) {
    std::cerr << "shouhou: the intent and reply files have errors:\n"
              << intents::to_string(loaded.errors);
    return 1;
  }
  bot::knowledge_base knowledge(loaded.snapshot);

  const auto db_path = database_file(config.data_dir);
  auto store = store::sqlite_store::open(db_path.string(), {}, error);
  if (!store) {
    std::cerr << "shouhou: " << error << "\n";
    return 1;
  }

  bot::system_clock clock;
  bot::engine_settings settings;
  settings.history_limit = config.history_limit;
  settings.dialogue.reminder_after = config.reminder_after;
  settings.dialogue.max_reminders = config.max_reminders;
  settings.desk.warning_lead = config.deadline_warning_lead;
  settings.desk.webhook = !config.webhook_url.empty();
  bot::conversation_engine engine(*store, knowledge, clock, settings);
  bot::case_desk desk(*store, knowledge, clock, settings.desk);

  // Evidence: the link secret and the content-addressed file store, both under DATA.
  auto secret = connectors::evidence::load_or_create_secret(config.data_dir);
  if (!secret.ok()) {
    std::cerr << "shouhou: " << secret.error().message << "\n";
    return 1;
  }
  connectors::evidence::blob_store_options blob_options;
  blob_options.limits = {config.max_image_bytes, config.max_video_bytes, config.max_document_bytes};
  auto blobs = connectors::evidence::blob_store::open(config.data_dir / "evidence", blob_options);
  if (!blobs.ok()) {
    std::cerr << "shouhou: " << blobs.error().message << "\n";
    return 1;
  }
  // Uploads cut short by a crash or a kill left temporaries; nothing is uploading yet.
  if (auto cleaned = blobs->clean_tmp(); !cleaned.ok()) {
    std::cerr << "shouhou: " << cleaned.error().message << "\n";
    return 1;
  } else if (cleaned.value() > 0) {
    spdlog::info("removed {} unfinished evidence uploads", cleaned.value());
  }
  auto evidence =
      std::make_shared<const connectors::evidence_services>(connectors::evidence_services{
          connectors::evidence::link_signer(secret.value()), std::move(blobs.value())});

  // Webhook to a helpdesk: delivered from the store's outbox on a thread of its own.
  std::unique_ptr<connectors::webhook::webhook_dispatcher> webhook;
  if (!config.webhook_url.empty()) {
    if (config.webhook_secret.empty() &&
        !load_or_create_token(config.data_dir, "webhook.secret", config.webhook_secret, error)) {
      std::cerr << "shouhou: " << error << "\n";
      return 1;
    }
    connectors::webhook::dispatcher_settings hook;
    hook.url = config.webhook_url;
    hook.secret = config.webhook_secret;
    hook.retry_min = config.webhook_retry_min;
    hook.retry_max = config.webhook_retry_max;
    hook.give_up_after = config.webhook_give_up_after;
    hook.timeout = config.webhook_timeout;
    webhook = connectors::webhook::webhook_dispatcher::make(*store, hook, clock, error);
    if (!webhook) {
      std::cerr << "shouhou: " << error << "\n";
      return 1;
    }
    webhook->start();
  }
  std::function<void()> case_changed;
  if (webhook) case_changed = [&webhook] { webhook->notify(); };

  net::io_context ioc;
  connectors::chat_server server(ioc, config, engine,
                                 connectors::desk_services{desk, *store, case_changed}, knowledge,
                                 evidence);

  // SIGHUP reloads the intent, reply and policy files; broken files leave the old ones live.
  net::signal_set hangup(ioc, SIGHUP);
  std::function<void()> wait_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& sig_ec, int) {
      if (sig_ec) return;
      auto reloaded = knowledge.reload(config.files(), intent_options);
      if (reloaded.snapshot) {
        spdlog::info("SIGHUP: reloaded, version {}", reloaded.snapshot->version);
      } else {
        spdlog::warn("SIGHUP: reload refused, still serving version {}:\n{}",
                     knowledge.current()->version, intents::to_string(reloaded.errors));
      }
      wait_hangup();
    });
  };
  wait_hangup();
  if (!server.listen(*where, error)) {
    std::cerr << "shouhou: " << error << "\n";
    return 1;
  }

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& sig_ec, int signal) {
    if (sig_ec) return;
    spdlog::info("received signal {}; shutting down", signal);
    hangup.cancel();
    server.stop();
  });

  auto at = server.local_endpoint();
  spdlog::info("admin token in {}", (config.data_dir / "admin.token").string());
  std::string host =
      at.address().is_v6() ? "[" + at.address().to_string() + "]" : at.address().to_string();
  // The one line on standard output: scripts and tests wait for it to know where to connect.
  std::cout << "listening on ws://" << host << ":" << at.port() << "/v1/chat" << std::endl;
  spdlog::info("data in {}, intents {}, replies {}, version {}", config.data_dir.string(),
               config.intents_dir.string(), config.replies_dir.string(),
               knowledge.current()->version);
  const auto& intents = *knowledge.current()->intents;
  spdlog::info("keyword model: {}, unsure below {}",
               intents.stats().trained_model ? "trained" : "none (rules and naive Bayes)",
               intents.unsure_below());

  unsigned threads =
      config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();

  // Every connection is closed; the store commits what is still queued before closing.
  if (webhook) webhook->stop();
  store->close();
  spdlog::info("stopped");
  return 0;
}

int replies_check(const std::filesystem::path& intents_dir,
                  const std::filesystem::path& replies_dir,
                  const std::filesystem::path& policy_file) {
  auto loaded = bot::load_knowledge({intents_dir, replies_dir, policy_file}, {});
  if (!loaded.snapshot) {
    std::cout << intents::to_string(loaded.errors);
    return 1;
  }
  std::cout << "ok: " << replies_dir.string() << ", " << policy_file.string() << ", "
            << intents_dir.string() << " (version " << loaded.snapshot->version << ")\n";
  return 0;
}

}  // namespace shouhou::app
