#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

#include "bot/app/commands.hpp"
#include "bot/conversation_engine.hpp"
#include "bot/knowledge.hpp"
#include "connectors/chat_server.hpp"
#include "store/sqlite_store.hpp"

namespace shouhou::app {

namespace net = boost::asio;

int serve(const bot::server_config& config) {
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

  auto loaded = bot::load_knowledge(config.intents_dir, config.replies_dir,
                                    intents::engine_options{config.unsure_below});
  if (!loaded.snapshot) {
    std::cerr << "shouhou: the intent and reply files have errors:\n"
              << intents::to_string(loaded.errors);
    return 1;
  }
  bot::knowledge_base knowledge(loaded.snapshot);

  std::string error;
  const auto db_path = config.data_dir / "shouhou.db";
  auto store = store::sqlite_store::open(db_path.string(), {}, error);
  if (!store) {
    std::cerr << "shouhou: " << error << "\n";
    return 1;
  }

  bot::system_clock clock;
  bot::conversation_engine engine(*store, knowledge, clock, config.history_limit);

  net::io_context ioc;
  connectors::chat_server server(ioc, config, engine, knowledge);
  if (!server.listen(*where, error)) {
    std::cerr << "shouhou: " << error << "\n";
    return 1;
  }

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& sig_ec, int signal) {
    if (sig_ec) return;
    spdlog::info("received signal {}; shutting down", signal);
    server.stop();
  });

  auto at = server.local_endpoint();
  std::string host = at.address().is_v6() ? "[" + at.address().to_string() + "]"
                                          : at.address().to_string();
  // The one line on standard output: scripts and tests wait for it to know where to connect.
  std::cout << "listening on ws://" << host << ":" << at.port() << "/v1/chat" << std::endl;
  spdlog::info("data in {}, intents {}, replies {}, version {}", config.data_dir.string(),
               config.intents_dir.string(), config.replies_dir.string(),
               knowledge.current()->version);

  unsigned threads = config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();

  // Every connection is closed; the store commits what is still queued before closing.
  store->close();
  spdlog::info("stopped");
  return 0;
}

int intents_check(const std::filesystem::path& intents_dir) {
  auto loaded = intents::engine::load(intents_dir);
  if (!loaded.engine) {
    std::cout << intents::to_string(loaded.errors);
    return 1;
  }
  std::cout << "ok: " << intents_dir.string() << " (version " << loaded.engine->version().substr(0, 12)
            << ")\n";
  return 0;
}

}  // namespace shouhou::app
