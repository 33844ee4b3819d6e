#pragma once
// The bot's network front: one Beast listener serving the buyer chat WebSocket (/v1/chat) and
// plain HTTP routes on the same port.
//
// Threading: any number of threads may run the io_context; the acceptor and each connection run
// on their own strand. stop() may be called from any thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>

#include "bot/case_desk.hpp"
#include "bot/config.hpp"
#include "bot/conversation_engine.hpp"
#include "connectors/evidence/blob_store.hpp"
#include "connectors/evidence/upload_link.hpp"

namespace shouhou::connectors {
namespace detail {
struct server_state;
}  // namespace detail
class listener;

// What the evidence routes need, built once at start-up (serve.cpp) and shared immutable.
struct evidence_services {
  evidence::link_signer signer;  // the secret from DATA/secret.key
  evidence::blob_store blobs;    // DATA/evidence, with the configured size limits
};

// What the agent desk routes need (/v1/agent, /v1/cases).
struct desk_services {
  bot::case_desk& desk;
  store::store& store;  // agents' tokens
  // Called after a change that may have queued webhook events; may be empty.
  std::function<void()> case_changed;
};

class chat_server {
 public:
  // `knowledge` is swapped by reloads (POST /v1/admin/reload). Without `evidence` the upload
  // routes answer 503 and reply frames carry no upload links.
  chat_server(boost::asio::io_context& ioc, const bot::server_config& config,
              bot::conversation_engine& engine, desk_services desk, bot::knowledge_base& knowledge,
              std::shared_ptr<const evidence_services> evidence = nullptr);
  ~chat_server();

  // Binds and starts accepting. Returns false and sets `error` when the address cannot be used.
  bool listen(const bot::endpoint_spec& where, std::string& error);

  // The address actually bound (with the real port when 0 was asked for).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Stops accepting and reminding, lets every open connection finish the turn it is in and flush
  // its frames, then closes it with 1001 (going away). The chat_server must outlive the
  // io_context's run(). Connections still open after config.shutdown_grace
  // are cut by stopping the io_context.
  void stop();

 private:
  std::shared_ptr<detail::server_state> state_;
  std::shared_ptr<listener> listener_;
  // Scans the store for due reminders and deadline warnings once a second; used on its own
  // strand.
  boost::asio::steady_timer reminder_timer_;
  bool stopped_ = false;

  void schedule_reminders();
};

}  // namespace shouhou::connectors
