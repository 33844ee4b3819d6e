#include "connectors/http_session.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>

#include "connectors/chat_session.hpp"
#include "connectors/evidence/exif.hpp"
#include "connectors/evidence/filename.hpp"
#include "connectors/evidence/multipart.hpp"

namespace shouhou::connectors {
namespace {

template <class Message>
std::string_view path_of(const Message& req) {
  std::string_view target = req.target();
  return target.substr(0, target.find('?'));
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string error_body(const evidence::error& e) {
  return dump({{"error", e.message}, {"code", evidence::to_string(e.code)}});
}

constexpr std::string_view k_upload_prefix = "/v1/evidence/upload/";
constexpr std::string_view k_evidence_prefix = "/v1/evidence/";
// Bytes of multipart form fields that are not files (a widget may add a caption): bounded.
constexpr std::size_t k_max_field_bytes = 64 * 1024;
// After a refusal mid-body, at most this much more is read (and dropped) so that the client
// sees the answer instead of a reset; then the connection is closed regardless.
constexpr std::size_t k_max_linger_bytes = 32 * 1024 * 1024;

}  // namespace

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

struct http_session::upload {
  struct file {
    evidence::blob_upload blob;
    std::string name;
  };
  evidence::link_claims claims;
  bool multipart = false;
  bool keep_alive = false;
  unsigned version = 11;
  std::vector<file> files;
  std::optional<evidence::multipart_parser> parts;
  bool in_file = false;  // the multipart part being read is a file
  std::size_t field_bytes = 0;
  std::vector<store::evidence_record> rows;
};

http_session::http_session(net::ip::tcp::socket&& socket,
                           std::shared_ptr<detail::server_state> state)
    : stream_(std::move(socket)), state_(std::move(state)) {}

http_session::~http_session() { state_->remove(this); }

void http_session::run() {
  if (!state_->add(shared_from_this())) return;
  net::dispatch(stream_.get_executor(),
                beast::bind_front_handler(&http_session::do_read, shared_from_this()));
}

void http_session::shutdown() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    // An idle keep-alive connection is closed now; one mid-response or mid-upload closes after
    // answering it.
    if (!self->pending_ && !self->upload_) self->do_close();
  });
}

void http_session::do_read() {
  header_.emplace();
  // The header decides the body's limit: uploads stream far more than other routes may send.
  // Not boost::none: Beast 1.74 compares the length with the optional, and any value is
  // greater than none, so "no limit" refuses every body.
  header_->body_limit(std::numeric_limits<std::uint64_t>::max());
  stream_.expires_after(state_->config.handshake_timeout);
  http::async_read_header(stream_, buffer_, *header_,
                          beast::bind_front_handler(&http_session::on_header, shared_from_this()));
}

void http_session::on_header(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) return do_close();
  if (ec) {
    spdlog::debug("http: reading a header failed: {}", ec.message());
    return do_close();
  }
  if (path_of(header_->get()).starts_with(k_upload_prefix)) return start_upload();
  const auto length = header_->content_length();
  if (length && *length > state_->config.max_http_body_bytes) {
    return on_read(http::error::body_limit, 0);
  }
  parser_.emplace(std::move(*header_));
  header_.reset();
  parser_->body_limit(state_->config.max_http_body_bytes);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) return do_close();
  if (ec == http::error::body_limit) {
    auto res = std::make_shared<response>(http::status::payload_too_large, 11);
    res->set(http::field::content_type, "application/json");
    res->body() = R"({"error":"request body is larger than the limit"})";
    res->keep_alive(false);
    res->prepare_payload();
    return write(res, true);
  }
  if (ec) {
    spdlog::debug("http: read failed: {}", ec.message());
    return do_close();
  }
  if (beast::websocket::is_upgrade(parser_->get())) {
    auto req = parser_->release();
    if (req.target() == "/v1/chat" || req.target().starts_with("/v1/chat?")) {
      std::make_shared<chat_session>(std::move(stream_), state_)->run(std::move(req));
      return;
    }
    auto res = std::make_shared<response>(http::status::not_found, req.version());
    res->set(http::field::content_type, "application/json");
    res->body() = R"({"error":"no WebSocket endpoint here; buyers connect to /v1/chat"})";
    res->keep_alive(false);
    res->prepare_payload();
    return write(res, false);
  }
  const auto& req = parser_->get();
  if (path_of(req) == "/v1/admin/reload" && req.method() == http::verb::post && authorized(req)) {
    return start_reload(req.version(), req.keep_alive());
  }
  if (path_of(req).starts_with(k_evidence_prefix) &&
      (req.method() == http::verb::get || req.method() == http::verb::head)) {
    return serve_evidence(req);
  }
  send(std::make_shared<response>(handle(req)));
}

void http_session::send(std::shared_ptr<response> res) { write(std::move(res), false); }

template <class Body>
void http_session::write(std::shared_ptr<http::response<Body>> res, bool linger) {
  if (linger) res->keep_alive(false);
  bool keep_alive = res->keep_alive() && !stopping_;
  pending_ = res;
  http::async_write(stream_, *res,
                    [self = shared_from_this(), res, keep_alive, linger](beast::error_code ec,
                                                                         std::size_t n) {
                      self->on_write(keep_alive, linger, ec, n);
                    });
}

template <class Fields>
bool http_session::authorized(const http::header<true, Fields>& req) const {
  const std::string& token = state_->config.admin_token;
  const std::string_view given = req[http::field::authorization];
  const std::string_view scheme = "Bearer ";
  if (token.empty() || !given.starts_with(scheme)) return false;
  const std::string_view presented = given.substr(scheme.size());
  return presented.size() == token.size() &&
         CRYPTO_memcmp(presented.data(), token.data(), token.size()) == 0;
}

void http_session::start_reload(unsigned version, bool keep_alive) {
  // Compiling the files takes tens of milliseconds: not on a network thread.
  std::thread([self = shared_from_this(), version, keep_alive] {
    auto loaded = self->state_->knowledge.reload(
        self->state_->config.files(), intents::engine_options{self->state_->config.unsure_below});
    nlohmann::json body;
    auto res = std::make_shared<response>(http::status::ok, version);
    if (loaded.snapshot) {
      spdlog::info("reloaded intent, reply and policy files: version {}",
                   loaded.snapshot->version);
      body = {{"ok", true}, {"version", loaded.snapshot->version}};
    } else {
      spdlog::warn("reload refused, still serving version {}:\n{}",
                   self->state_->knowledge.current()->version, intents::to_string(loaded.errors));
      nlohmann::json errors = nlohmann::json::array();
      for (const auto& e : loaded.errors) {
        errors.push_back(
            {{"file", e.file}, {"line", e.line}, {"column", e.column}, {"message", e.message}});
      }
      res->result(http::status::unprocessable_entity);
      body = {{"ok", false},
              {"version", self->state_->knowledge.current()->version},
              {"errors", std::move(errors)}};
    }
    res->set(http::field::server, "shouhou");
    res->set(http::field::content_type, "application/json");
    res->keep_alive(keep_alive);
    res->body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    res->prepare_payload();
    net::post(self->stream_.get_executor(), [self, res] { self->send(res); });
  }).detach();
}

http_session::response http_session::handle(const request& req) const {
  response res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "shouhou");
  res.set(http::field::content_type, "application/json");
  const std::string_view target = path_of(req);
  if (target.starts_with("/v1/admin/")) {
    if (!authorized(req)) {
      res.result(http::status::unauthorized);
      res.set(http::field::www_authenticate, "Bearer");
      res.body() = R"({"error":"an admin bearer token is required"})";
    } else if (target == "/v1/admin/status" && req.method() == http::verb::get) {
      res.result(http::status::ok);
      res.body() = nlohmann::json{{"version", state_->knowledge.current()->version},
                                  {"connections_in_conversations", state_->watched()}}
                       .dump();
    } else if (target == "/v1/admin/reload") {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "POST");
      res.body() = R"({"error":"use POST"})";
    } else {
      res.result(http::status::not_found);
      res.body() = R"({"error":"not found"})";
    }
  } else if (target == "/healthz") {
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      res.body() = R"({"error":"use GET"})";
    } else {
      res.result(http::status::ok);
      res.body() = R"({"status":"ok","version":")" + state_->knowledge.current()->version + "\"}";
    }
  } else {
    res.result(http::status::not_found);
    res.body() = R"({"error":"not found"})";
  }
  res.prepare_payload();
  return res;
}

void http_session::on_write(bool keep_alive, bool linger, beast::error_code ec, std::size_t) {
  pending_.reset();
  if (ec) {
    spdlog::debug("http: write failed: {}", ec.message());
    return do_close();
  }
  if (linger) return do_linger();
  if (!keep_alive || stopping_) return do_close();
  do_read();
}

std::shared_ptr<http_session::response> http_session::json_response(unsigned status,
                                                                    std::string body,
                                                                    bool keep_alive) const {
  auto res = std::make_shared<response>(static_cast<http::status>(status), 11);
  res->set(http::field::server, "shouhou");
  res->set(http::field::content_type, "application/json");
  res->keep_alive(keep_alive);
  res->body() = std::move(body);
  res->prepare_payload();
  return res;
}

void http_session::start_upload() {
  const auto& req = header_->get();
  auto refuse = [&](unsigned status, evidence::error e, bool body_unread = true) {
    auto res = json_response(status, error_body(e), false);
    if (status == 405) res->set(http::field::allow, "PUT, POST");
    write(res, body_unread);
  };
  if (req.method() != http::verb::put && req.method() != http::verb::post) {
    return refuse(405, {evidence::errc::malformed, "upload with PUT (one file) or POST "
                                                   "(multipart/form-data)"});
  }
  if (!state_->evidence) {
    return refuse(503, {evidence::errc::io, "evidence uploads are not enabled on this server"});
  }
  // The link is checked before a single body byte is read.
  auto claims = state_->evidence->signer.verify_upload(req.target(), unix_now());
  if (!claims.ok()) return refuse(evidence::http_status(claims.error().code), claims.error());

  auto up = std::make_unique<upload>();
  up->claims = std::move(claims.value());
  up->keep_alive = req.keep_alive();
  up->version = req.version();
  up->multipart = req.method() == http::verb::post;
  const auto& blobs = state_->evidence->blobs;
  const std::uint64_t largest = blobs.limits().largest();
  if (const auto length = header_->content_length(); length && !up->multipart && *length > largest) {
    return refuse(413, {evidence::errc::too_large,
                        "the body (" + std::to_string(*length) +
                            " bytes) is larger than any accepted file (" +
                            std::to_string(largest) + " bytes at most)"});
  }
  if (!up->multipart) {
    std::string name;
    if (auto cd = req[http::field::content_disposition]; !cd.empty()) {
      auto parsed = evidence::parse_content_disposition(cd);
      if (!parsed.ok()) return refuse(400, parsed.error());
      if (parsed->filename) {
        auto checked = evidence::check_filename(*parsed->filename);
        if (!checked.ok()) return refuse(400, checked.error());
        name = std::move(checked.value());
      }
    }
    auto begun = blobs.begin();
    if (!begun.ok()) return refuse(evidence::http_status(begun.error().code), begun.error());
    up->files.push_back({std::move(begun.value()), std::move(name)});
  } else {
    upload* u = up.get();  // the callbacks run inside feed(), while the session owns *u
    const std::size_t max_files = state_->config.max_evidence_per_conversation;
    evidence::multipart_callbacks callbacks;
    callbacks.on_part_begin = [u, &blobs, max_files](const evidence::part_info& part)
        -> evidence::status {
      u->in_file = part.filename.has_value() && !part.filename->empty();
      if (!u->in_file) return {};  // a plain form field, or a file input left empty
      auto checked = evidence::check_filename(*part.filename);
      if (!checked.ok()) return checked.error();
      if (u->files.size() >= max_files) {
        return evidence::error{evidence::errc::too_many,
                               "more than " + std::to_string(max_files) + " files in one upload"};
      }
      auto begun = blobs.begin();
      if (!begun.ok()) return begun.error();
      u->files.push_back({std::move(begun.value()), std::move(checked.value())});
      return {};
    };
    callbacks.on_part_data = [u](std::string_view data) -> evidence::status {
      if (u->in_file) return u->files.back().blob.write(data);
      u->field_bytes += data.size();
      if (u->field_bytes > k_max_field_bytes) {
        return evidence::error{evidence::errc::too_large, "form fields other than files are "
                                                          "larger than " +
                                                              std::to_string(k_max_field_bytes) +
                                                              " bytes"};
      }
      return {};
    };
    callbacks.on_part_end = []() -> evidence::status { return {}; };
    auto parser = evidence::multipart_parser::create(req[http::field::content_type],
                                                     std::move(callbacks));
    if (!parser.ok()) {
      evidence::error e = parser.error();
      e.message = "POST needs a multipart/form-data body: " + e.message;
      return refuse(e.code == evidence::errc::malformed ? 415 : 400, e);
    }
    up->parts.emplace(std::move(parser.value()));
  }
  upload_ = std::move(up);
  body_.emplace(std::move(*header_));
  header_.reset();
  // The blob store enforces the per-type limits (max, not none: see do_read()).
  body_->body_limit(std::numeric_limits<std::uint64_t>::max());
  if (!chunk_) chunk_ = std::make_unique<char[]>(k_chunk_bytes);
  if (body_->is_done()) return finish_upload();
  do_read_chunk();
}

void http_session::do_read_chunk() {
  auto& body = body_->get().body();
  body.data = chunk_.get();
  body.size = k_chunk_bytes;
  body.more = true;
  // A fresh deadline per chunk: a slow but moving upload goes on, a stalled one is cut.
  stream_.expires_after(state_->config.handshake_timeout);
  http::async_read_some(stream_, buffer_, *body_,
                        beast::bind_front_handler(&http_session::on_chunk, shared_from_this()));
}

void http_session::on_chunk(beast::error_code ec, std::size_t) {
  if (ec == http::error::need_buffer) ec = {};
  if (ec) {
    // Timeout, reset or a body cut short by the client: nobody is left to answer.
    spdlog::debug("http: upload ended early: {}", ec.message());
    upload_.reset();  // removes the temporary files
    body_.reset();
    return do_close();
  }
  const std::size_t got = k_chunk_bytes - body_->get().body().size;
  if (got > 0) {
    if (auto st = feed(std::string_view(chunk_.get(), got)); !st.ok()) {
      return fail_upload(st.error());
    }
  }
  if (body_->is_done()) return finish_upload();
  do_read_chunk();
}

evidence::status http_session::feed(std::string_view bytes) {
  if (upload_->parts) return upload_->parts->feed(bytes);
  return upload_->files.front().blob.write(bytes);
}

void http_session::fail_upload(const evidence::error& e) {
  spdlog::info("http: evidence upload refused: {}", e.message);
  const bool body_unread = body_ && !body_->is_done();
  upload_.reset();
  body_.reset();
  write(json_response(static_cast<unsigned>(evidence::http_status(e.code)), error_body(e), false),
        body_unread);
}

void http_session::finish_upload() {
  upload& up = *upload_;
  if (up.parts) {
    if (auto st = up.parts->finish(); !st.ok()) return fail_upload(st.error());
    if (up.files.empty()) {
      return fail_upload({evidence::errc::empty, "the form has no file in it"});
    }
  }
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  for (auto& f : up.files) {
    auto stored = f.blob.commit();
    if (!stored.ok()) return fail_upload(stored.error());
    store::evidence_record row;
    row.id = bot::new_conversation_id();  // 128 random bits, like conversation ids
    row.conversation = up.claims.conversation;
    row.item = up.claims.subject;
    row.original_name = std::move(f.name);
    row.mime = std::string(stored->type.mime);
    row.kind = std::string(evidence::to_string(stored->type.kind));
    row.size = stored->size;
    row.sha256 = stored->sha256;
    row.at_ms = now_ms;
    up.rows.push_back(std::move(row));
  }
  up.files.clear();
  body_.reset();
  // Answered only once the rows and the checklist mark are committed together.
  state_->engine.add_evidence(
      up.claims.conversation, up.rows, state_->config.max_evidence_per_conversation,
      [self = shared_from_this()](bot::evidence_result r) mutable {
        net::post(self->stream_.get_executor(),
                  [self, r = std::move(r)]() mutable { self->on_stored(std::move(r)); });
      });
}

void http_session::on_stored(bot::evidence_result r) {
  auto up = std::move(upload_);
  using outcome = bot::evidence_result::outcome;
  if (r.what != outcome::stored) {
    // The blobs stay on disk unreferenced (content addressed: another row may share them).
    spdlog::warn("http: evidence for {} not stored: {}", up->claims.conversation, r.error);
    evidence::error e{evidence::errc::io, "the upload could not be saved; upload it again"};
    if (r.what == outcome::over_limit) {
      e = {evidence::errc::too_many,
           "this conversation already has the most evidence files allowed (" +
               std::to_string(state_->config.max_evidence_per_conversation) + ")"};
    } else if (r.what == outcome::unknown_conversation) {
      e = {evidence::errc::not_found, "the conversation of this upload link does not exist"};
    }
    return write(json_response(static_cast<unsigned>(evidence::http_status(e.code)),
                               error_body(e), up->keep_alive),
                 false);
  }
  nlohmann::json files = nlohmann::json::array();
  const std::int64_t expires = unix_now() + state_->config.evidence_link_ttl.count();
  for (const auto& row : up->rows) {
    nlohmann::json f = {{"id", row.id},     {"item", row.item}, {"type", row.kind},
                        {"mime", row.mime}, {"size", row.size}, {"sha256", row.sha256}};
    if (auto read = state_->evidence->signer.read_target(row.conversation, row.id, expires);
        read.ok()) {
      f["read"] = read.value();
    }
    files.push_back(std::move(f));
  }
  if (!r.messages.empty()) {
    state_->deliver({bot::unprompted{r.conversation, std::move(r.messages), r.version}});
  }
  auto res = json_response(201, dump({{"evidence", std::move(files)}}), up->keep_alive);
  res->version(up->version);
  write(res, false);
}

void http_session::do_linger() {
  // Our answer is out; stop sending and read (and drop) what the client still sends, so that
  // closing does not reset the connection before the client has read the answer.
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  if (!chunk_) chunk_ = std::make_unique<char[]>(k_chunk_bytes);
  buffer_.consume(buffer_.size());
  stream_.expires_after(state_->config.handshake_timeout);
  stream_.async_read_some(net::buffer(chunk_.get(), k_chunk_bytes),
                          beast::bind_front_handler(&http_session::on_linger, shared_from_this()));
}

void http_session::on_linger(beast::error_code ec, std::size_t bytes) {
  lingered_ += bytes;
  if (ec || lingered_ > k_max_linger_bytes || stopping_) {
    lingered_ = 0;
    return do_close();
  }
  stream_.expires_after(state_->config.handshake_timeout);
  stream_.async_read_some(net::buffer(chunk_.get(), k_chunk_bytes),
                          beast::bind_front_handler(&http_session::on_linger, shared_from_this()));
}

void http_session::serve_evidence(const request& req) {
  const bool keep_alive = req.keep_alive();
  auto refuse = [&](unsigned status, std::string message) {
    auto res = json_response(status, dump({{"error", std::move(message)}}), keep_alive);
    if (status == 401) res->set(http::field::www_authenticate, "Bearer");
    send(res);
  };
  if (!state_->evidence) return refuse(503, "evidence is not enabled on this server");
  const std::string id(path_of(req).substr(k_evidence_prefix.size()));
  if (!evidence::is_valid_id(id)) return refuse(404, "no such evidence");
  const bool agent = authorized(req);
  std::string buyer_conversation;
  if (!agent) {
    const std::string_view target = req.target();
    if (target.find("sig=") == std::string_view::npos) {
      return refuse(401, "reading evidence needs a bearer token or a signed read link");
    }
    auto claims = state_->evidence->signer.verify_read(target, unix_now());
    if (!claims.ok()) {
      return refuse(static_cast<unsigned>(evidence::http_status(claims.error().code)),
                    claims.error().message);
    }
    if (claims->subject != id) return refuse(403, "this link is for another file");
    buyer_conversation = claims->conversation;
  }
  const bool head = req.method() == http::verb::head;
  const unsigned version = req.version();
  state_->engine.find_evidence(
      id, [self = shared_from_this(), agent, buyer_conversation, head, version, keep_alive](
              store::status st, std::optional<store::evidence_record> row) mutable {
        net::post(self->stream_.get_executor(), [=, row = std::move(row)]() mutable {
          auto answer = [&](unsigned status, std::string message) {
            self->send(self->json_response(status, dump({{"error", std::move(message)}}),
                                           keep_alive));
          };
          if (!st.ok) return answer(500, "evidence could not be looked up; try again");
          // Another conversation's file answers like a missing one to a buyer: ids are not
          // probed.
          if (!row) return answer(404, "no such evidence");
          if (!agent && row->conversation != buyer_conversation) {
            return answer(403, "this link is for another conversation");
          }
          auto opened = self->state_->evidence->blobs.open_for_read(row->sha256);
          if (!opened.ok()) {
            spdlog::error("http: evidence {} unreadable: {}", row->id, opened.error().message);
            return answer(500, "the stored file cannot be read");
          }
          const bool image = row->kind == "image";
          auto decorate = [&](auto& res) {
            res.set(http::field::server, "shouhou");
            res.set(http::field::content_type, row->mime);
            res.set(http::field::content_disposition,
                    evidence::content_disposition_value(row->original_name, image));
            res.set("X-Content-Type-Options", "nosniff");
            res.set(http::field::cache_control, "private, no-store");
            res.keep_alive(keep_alive);
          };
          if (agent && row->mime == "image/jpeg") {
            // Agents see the copy without location metadata; at most max_image_bytes in memory.
            std::string bytes(opened->size, '\0');
            std::size_t got = 0;
            while (got < bytes.size()) {
              const ssize_t n = ::read(opened->fd.get(), bytes.data() + got, bytes.size() - got);
              if (n <= 0) break;
              got += static_cast<std::size_t>(n);
            }
            if (got != bytes.size()) return answer(500, "the stored file cannot be read");
            auto stripped = evidence::strip_jpeg_metadata(bytes);
            if (!stripped.ok()) {
              return answer(500, "the photo's metadata cannot be removed: " +
                                     stripped.error().message);
            }
            auto res = std::make_shared<response>(http::status::ok, version);
            decorate(*res);
            res->body() = std::move(stripped->jpeg);
            res->prepare_payload();
            if (head) res->body().clear();
            return self->write(res, false);
          }
          auto res = std::make_shared<http::response<http::file_body>>(http::status::ok, version);
          decorate(*res);
          beast::file file;
          file.native_handle(opened->fd.release());
          beast::error_code ec;
          res->body().reset(std::move(file), ec);
          if (ec) return answer(500, "the stored file cannot be read");
          res->prepare_payload();
          if (head) {
            auto empty = std::make_shared<http::response<http::empty_body>>(http::status::ok,
                                                                            version);
            decorate(*empty);
            empty->content_length(res->body().size());
            return self->write(empty, false);
          }
          self->write(res, false);
        });
      });
}

void http_session::do_close() {
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.close();
}

}  // namespace shouhou::connectors
