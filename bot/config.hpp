#pragma once
// Every setting of `shouhou serve`, with its default, in one place. The command line and an
// optional config file (see README) override these; nothing else holds a default.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace shouhou::bot {

// The supervisor-edited files the bot answers from.
struct knowledge_files {
  std::filesystem::path intents_dir;
  std::filesystem::path replies_dir;
  std::filesystem::path policy_file;
};

struct server_config {
  // Where the server listens, "HOST:PORT" ("[::1]:PORT" for IPv6). Port 0 picks a free port.
  std::string listen = "127.0.0.1:8080";
  // Folder holding the SQLite file (shouhou.db) and, later, evidence. Created if missing.
  std::filesystem::path data_dir = "var";
  // Intent and reply files; the shipped ones by default.
  std::filesystem::path intents_dir = SHOUHOU_SHIPPED_INTENTS;
  std::filesystem::path replies_dir = SHOUHOU_SHIPPED_REPLIES;
  std::filesystem::path policy_file = SHOUHOU_SHIPPED_POLICY;
  // Threads running the network event loop; 0 means one per core.
  unsigned threads = 0;

  // Per-connection limits (a slow or hostile client costs bounded memory).
  std::size_t max_frame_bytes = 64 * 1024;       // larger WebSocket messages close with 1009
  std::size_t max_text_chars = 2000;             // longer buyer texts get an error frame
  std::size_t write_queue_max_frames = 256;      // more unsent frames close the connection
  std::size_t write_queue_max_bytes = 1 << 20;   // likewise for unsent bytes
  std::chrono::seconds idle_timeout{120};        // no data (not even a pong) for this long closes
  std::chrono::seconds handshake_timeout{10};    // HTTP request and WebSocket upgrade
  std::size_t max_http_body_bytes = 64 * 1024;   // HTTP request bodies

  // How many earlier messages a resumed conversation replays in `welcome`.
  std::size_t history_limit = 200;
  // Below this confidence the reason is "unsure" (see intents::engine_options). Unset: the
  // trained model's own threshold, 0.5 without a model.
  std::optional<double> unsure_below;
  // Longest wait for open conversations to finish on shutdown before they are cut.
  std::chrono::seconds shutdown_grace{5};

  // A buyer who leaves the bot's request unanswered this long gets a reminder; after
  // max_reminders of them the conversation goes to a person.
  std::chrono::seconds reminder_after{600};
  int max_reminders = 2;

  // Evidence uploads (files under DATA/evidence, by SHA-256). Per-type size limits are checked
  // as the body streams in; a body past its limit is refused (413) without reading the rest.
  std::uint64_t max_image_bytes = 10 * 1024 * 1024;
  std::uint64_t max_video_bytes = 200 * 1024 * 1024;
  std::uint64_t max_document_bytes = 10 * 1024 * 1024;
  std::size_t max_evidence_per_conversation = 20;  // files, over all uploads of a conversation
  // How long the upload links in reply frames (and the read links in upload answers) stay valid.
  std::chrono::seconds evidence_link_ttl{24 * 3600};

  // Bearer token for /v1/admin/*. Empty: read DATA/admin.token, creating it (random, mode 0600)
  // on first start.
  std::string admin_token;

  // Agent desk (/v1/agent, /v1/cases): agents are warned this long before a case's deadline
  // passes.
  std::chrono::seconds deadline_warning_lead{2 * 3600};

  // Webhook to an external helpdesk: case events are POSTed to this http:// or https:// URL,
  // signed with HMAC-SHA256 (header X-Shouhou-Signature). Empty: no webhook, no events queued.
  std::string webhook_url;
  // The HMAC key. Empty: read DATA/webhook.secret, creating it (random, mode 0600) on first
  // start with a webhook.
  std::string webhook_secret;
  // Failed deliveries are retried after webhook_retry_min, doubling up to webhook_retry_max; an
  // event still failing webhook_give_up_after after it was queued is dropped (and logged), so a
  // case's later events can go.
  std::chrono::milliseconds webhook_retry_min{1000};
  std::chrono::milliseconds webhook_retry_max{std::chrono::minutes(5)};
  std::chrono::seconds webhook_give_up_after{3 * 24 * 3600};
  std::chrono::seconds webhook_timeout{10};  // per attempt: connect, send and answer

  knowledge_files files() const { return {intents_dir, replies_dir, policy_file}; }
};

struct endpoint_spec {
  std::string host;
  std::uint16_t port = 0;
};

// Splits "HOST:PORT" or "[V6]:PORT". Returns nullopt when malformed (no port, port not a number
// in 0..65535, empty host).
std::optional<endpoint_spec> parse_listen(const std::string& text);

}  // namespace shouhou::bot
