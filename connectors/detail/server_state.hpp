#pragma once
// State shared by the listener and every connection of one chat_server.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "bot/case_desk.hpp"
#include "bot/config.hpp"
#include "bot/conversation_engine.hpp"
#include "connectors/chat_server.hpp"
#include "connectors/protocol.hpp"

namespace shouhou::connectors::detail {

namespace net = boost::asio;

// Anything open that must be told when the server stops.
class connection {
 public:
  virtual ~connection() = default;
  // Finish what is in flight, then close. Callable from any thread.
  virtual void shutdown() = 0;
};

// A connection showing a conversation: it receives what the bot sends by itself.
class conversation_viewer {
 public:
  virtual ~conversation_viewer() = default;
  // Callable from any thread; the viewer moves onto its own strand.
  virtual void deliver(std::shared_ptr<const bot::unprompted> sent) = 0;
};

// An agent's connection: it receives every desk event.
class desk_viewer {
 public:
  virtual ~desk_viewer() = default;
  // Callable from any thread; the viewer moves onto its own strand.
  virtual void deliver(std::shared_ptr<const std::string> frame) = 0;
};

struct server_state : std::enable_shared_from_this<server_state> {
  server_state(net::io_context& io, const bot::server_config& cfg, bot::conversation_engine& eng,
               const desk_services& d, bot::knowledge_base& know,
               std::shared_ptr<const evidence_services> ev)
      : ioc(io),
        config(cfg),
        engine(eng),
        desk(d),
        knowledge(know),
        evidence(std::move(ev)),
        limits{cfg.max_text_chars, 128},
        grace_timer(net::make_strand(io)) {}

  net::io_context& ioc;
  const bot::server_config& config;
  bot::conversation_engine& engine;
  const desk_services desk;
  bot::knowledge_base& knowledge;
  const std::shared_ptr<const evidence_services> evidence;  // null: uploads are off
  const frame_limits limits;

  // A signed upload link for a checklist item, valid for config.evidence_link_ttl from now;
  // empty when uploads are off. Thread-safe (the signer is immutable).
  std::string upload_link(std::string_view conversation, std::string_view item) const;
  // The same as a function for reply_frame; empty when uploads are off. Valid while *this is.
  upload_link_maker upload_links() const;

  // Registers an open connection; returns false when the server is stopping (the caller closes).
  bool add(const std::shared_ptr<connection>& c);
  // Forgets a connection; when the server is stopping and it was the last, ends the grace wait.
  void remove(const connection* c);
  // Marks the server stopping and tells every open connection to shut down.
  void stop_all();

  // Bounds the wait for connections on shutdown. Used only on its own strand.
  net::steady_timer grace_timer;

  // Which connections show which conversation (a buyer may have several tabs open).
  void watch(const std::string& conversation, const std::shared_ptr<conversation_viewer>& v);
  void unwatch(const std::string& conversation, const conversation_viewer* v);
  // Hands what the bot sent by itself to every connection showing that conversation.
  void deliver(std::vector<bot::unprompted> sent);
  std::size_t watched() const;

  // Agents connected to the desk.
  void join_desk(const std::shared_ptr<desk_viewer>& v);
  void leave_desk(const desk_viewer* v);
  std::size_t agents_connected() const;
  // Tells every connected agent.
  void broadcast(const std::vector<bot::desk_event>& events);
  // After a desk action: the events to agents, the message to the buyer's connections, and a
  // nudge to the webhook.
  void announce(const bot::desk_result& result);
  // A bot step opened a case: every agent hears of it.
  void announce_opened(const std::optional<store::case_record>& opened);
  // The buyer did something on a case people have (a message, a file): agents hear of it.
  void announce_buyer_activity(const store::conversation& after, std::string type,
                               nlohmann::json data);
  // A case as queues and events show it, now.
  nlohmann::json summary(const store::case_record& c) const;

  // The agent whose token this is, or nullopt; `done` runs on the store's thread.
  void authenticate_agent(std::string_view token,
                          std::function<void(std::optional<std::string> agent)> done) const;

 private:
  mutable std::mutex mutex_;
  bool stopping_ = false;
  std::unordered_map<const connection*, std::weak_ptr<connection>> open_;
  std::unordered_multimap<std::string, std::weak_ptr<conversation_viewer>> viewers_;
  std::unordered_map<const desk_viewer*, std::weak_ptr<desk_viewer>> agents_;
};

}  // namespace shouhou::connectors::detail
