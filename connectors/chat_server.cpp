#include "connectors/chat_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>

#include "connectors/agent_protocol.hpp"
#include "connectors/detail/server_state.hpp"
#include "connectors/detail/socket_tuning.hpp"
#include "connectors/http_session.hpp"
#include "intents/content_hash.hpp"

namespace shouhou::connectors {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace detail {

bool server_state::add(const std::shared_ptr<connection>& c) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  open_.emplace(c.get(), c);
  return true;
}

void server_state::remove(const connection* c) {
  std::lock_guard lock(mutex_);
  open_.erase(c);
  if (stopping_ && open_.empty()) {
    // The last connection is gone: no need to wait out the grace period.
    net::post(grace_timer.get_executor(), [this] { grace_timer.cancel(); });
  }
}

void server_state::stop_all() {
  std::vector<std::shared_ptr<connection>> open;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [key, weak] : open_) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
    if (open_.empty()) net::post(grace_timer.get_executor(), [this] { grace_timer.cancel(); });
  }
  for (auto& c : open) c->shutdown();
}

void server_state::watch(const std::string& conversation,
                         const std::shared_ptr<conversation_viewer>& v) {
  std::lock_guard lock(mutex_);
  viewers_.emplace(conversation, v);
}

void server_state::unwatch(const std::string& conversation, const conversation_viewer* v) {
  std::lock_guard lock(mutex_);
  auto [first, last] = viewers_.equal_range(conversation);
  for (auto it = first; it != last; ++it) {
    if (auto p = it->second.lock(); !p || p.get() == v) {
      viewers_.erase(it);
      return;
    }
  }
}

void server_state::deliver(std::vector<bot::unprompted> sent) {
  for (auto& u : sent) {
    auto shared = std::make_shared<const bot::unprompted>(std::move(u));
    std::vector<std::shared_ptr<conversation_viewer>> to;
    {
      std::lock_guard lock(mutex_);
      auto [first, last] = viewers_.equal_range(shared->conversation.id);
      for (auto it = first; it != last; ++it) {
        if (auto v = it->second.lock()) to.push_back(std::move(v));
      }
    }
    // A buyer who is not connected reads it in the history when they come back.
    for (auto& v : to) v->deliver(shared);
  }
}

std::string server_state::upload_link(std::string_view conversation, std::string_view item) const {
  if (!evidence) return {};
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto target =
      evidence->signer.upload_target(conversation, item, now + config.evidence_link_ttl.count());
  return target.ok() ? std::move(target.value()) : std::string();
}

upload_link_maker server_state::upload_links() const {
  if (!evidence) return {};
  return [this](std::string_view conversation, std::string_view item) {
    return upload_link(conversation, item);
  };
}

std::size_t server_state::watched() const {
  std::lock_guard lock(mutex_);
  return viewers_.size();
}

void server_state::join_desk(const std::shared_ptr<desk_viewer>& v) {
  std::lock_guard lock(mutex_);
  agents_.emplace(v.get(), v);
}

void server_state::leave_desk(const desk_viewer* v) {
  std::lock_guard lock(mutex_);
  agents_.erase(v);
}

std::size_t server_state::agents_connected() const {
  std::lock_guard lock(mutex_);
  return agents_.size();
}

nlohmann::json server_state::summary(const store::case_record& c) const {
  return bot::case_summary(c, *knowledge.current(), bot::system_clock().now_ms(),
                           desk.desk.settings());
}

void server_state::broadcast(const std::vector<bot::desk_event>& events) {
  if (events.empty()) return;
  std::vector<std::shared_ptr<desk_viewer>> to;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, weak] : agents_) {
      if (auto v = weak.lock()) to.push_back(std::move(v));
    }
  }
  for (const auto& e : events) {
    // Serialised once, shared by every agent's queue.
    auto frame = std::make_shared<const std::string>(desk_event_frame(e, summary(e.record)));
    for (auto& v : to) v->deliver(frame);
  }
}

void server_state::announce(const bot::desk_result& result) {
  broadcast(result.events);
  if (result.to_buyer) deliver({*result.to_buyer});
  if (!result.events.empty() && desk.case_changed) desk.case_changed();
}

void server_state::announce_opened(const std::optional<store::case_record>& opened) {
  if (!opened) return;
  broadcast({bot::desk_event{"case.created", *opened, nlohmann::json::object()}});
  if (desk.case_changed) desk.case_changed();
}

void server_state::announce_buyer_activity(const store::conversation& after, std::string type,
                                           nlohmann::json data) {
  // Cheap when nobody listens, and the common case (a conversation with the bot) stops at once.
  if (agents_connected() == 0 || (after.phase != "handed_off" && after.phase != "with_agent")) {
    return;
  }
  auto self = shared_from_this();
  desk.desk.buyer_activity(
      after, std::move(type), std::move(data),
      [self](std::vector<bot::desk_event> events) { self->broadcast(events); });
}

void server_state::authenticate_agent(std::string_view token,
                                      std::function<void(std::optional<std::string>)> done) const {
  if (token.empty()) return done(std::nullopt);
  desk.store.find_agent(
      intents::sha256_hex(token),
      [done = std::move(done)](store::status s, std::optional<store::agent_record> a) {
        if (!s.ok || !a) return done(std::nullopt);
        done(a->name);
      });
}

}  // namespace detail

// Accepts connections, each onto its own strand.
class listener : public std::enable_shared_from_this<listener> {
 public:
  explicit listener(std::shared_ptr<detail::server_state> state)
      : state_(std::move(state)), acceptor_(net::make_strand(state_->ioc)) {}

  bool open(const tcp::endpoint& at, std::string& error) {
    beast::error_code ec;
    acceptor_.open(at.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(at, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      error = "cannot listen on " + at.address().to_string() + ":" + std::to_string(at.port()) +
              ": " + ec.message();
      return false;
    }
    return true;
  }

  tcp::endpoint local_endpoint() const {
    beast::error_code ec;
    return acceptor_.local_endpoint(ec);
  }

  void start() { do_accept(); }

  void stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(state_->ioc),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Running out of file descriptors and the like: log, and keep accepting.
      spdlog::warn("accept failed: {}", ec.message());
    } else {
      detail::tune_accepted_socket(socket);
      std::make_shared<http_session>(std::move(socket), state_)->run();
    }
    do_accept();
  }

  std::shared_ptr<detail::server_state> state_;
  tcp::acceptor acceptor_;
};

chat_server::chat_server(net::io_context& ioc, const bot::server_config& config,
                         bot::conversation_engine& engine, desk_services desk,
                         bot::knowledge_base& knowledge,
                         std::shared_ptr<const evidence_services> evidence)
    : state_(std::make_shared<detail::server_state>(ioc, config, engine, desk, knowledge,
                                                    std::move(evidence))),
      reminder_timer_(net::make_strand(ioc)) {}

chat_server::~chat_server() = default;

bool chat_server::listen(const bot::endpoint_spec& where, std::string& error) {
  beast::error_code ec;
  auto address = net::ip::make_address(where.host, ec);
  if (ec) {
    error = "cannot listen on \"" + where.host + "\": not an IP address";
    return false;
  }
  listener_ = std::make_shared<listener>(state_);
  if (!listener_->open(tcp::endpoint(address, where.port), error)) return false;
  listener_->start();
  schedule_reminders();
  return true;
}

void chat_server::schedule_reminders() {
  // Every instance scans; the store's state versions make sure each reminder is sent once.
  reminder_timer_.expires_after(std::chrono::seconds(1));
  reminder_timer_.async_wait([this, state = state_](beast::error_code ec) {
    if (ec) return;  // cancelled: the server is stopping
    state->engine.send_due_reminders([this, state](std::vector<bot::unprompted> sent) {
      for (const auto& u : sent) state->announce_opened(u.opened_case);
      state->deliver(std::move(sent));
      state->desk.desk.warn_deadlines([this, state](std::vector<bot::desk_event> warnings) {
        state->broadcast(warnings);
        net::post(reminder_timer_.get_executor(), [this] {
          if (!stopped_) schedule_reminders();
        });
      });
    });
  });
}

tcp::endpoint chat_server::local_endpoint() const { return listener_->local_endpoint(); }

void chat_server::stop() {
  if (listener_) listener_->stop();
  net::post(reminder_timer_.get_executor(), [this] {
    stopped_ = true;
    reminder_timer_.cancel();
  });
  // Arm the grace timer before telling connections, on the timer's strand, so that the last
  // connection's cancel cannot come before the wait it cancels.
  net::post(state_->grace_timer.get_executor(), [state = state_] {
    state->grace_timer.expires_after(state->config.shutdown_grace);
    state->grace_timer.async_wait([state](beast::error_code ec) {
      if (ec == net::error::operation_aborted) return;
      spdlog::warn("connections still open after the shutdown grace period; cutting them");
      state->ioc.stop();
    });
    state->stop_all();
  });
}

}  // namespace shouhou::connectors
