// The evidence routes of http_session (docs/protocol.md, "Evidence"): streaming uploads into the
// blob store, and serving stored files back. The rest of the session is in http_session.cpp.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <limits>
#include <vector>

#include "connectors/detail/http_common.hpp"
#include "connectors/detail/upload_state.hpp"
#include "connectors/evidence/filename.hpp"
#include "connectors/evidence/metadata.hpp"
#include "connectors/evidence/multipart.hpp"
#include "connectors/http_session.hpp"

namespace shouhou::connectors {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using detail::dump;
using detail::error_body;
using detail::k_evidence_prefix;
using detail::path_of;
using detail::unix_now;

namespace {

// Bytes of multipart form fields that are not files (a widget may add a caption): bounded.
constexpr std::size_t k_max_field_bytes = 64 * 1024;
// After a refusal mid-body, at most this much more is read (and dropped) so that the client
// sees the answer instead of a reset; then the connection is closed regardless.
constexpr std::size_t k_max_linger_bytes = 32 * 1024 * 1024;

}  // namespace

void http_session::start_upload() {
  const auto& req = header_->get();
  auto refuse = [&](unsigned status, evidence::error e, bool body_unread = true) {
    auto res = json_response(status, error_body(e), false);
    if (status == 405) res->set(http::field::allow, "PUT, POST");
    write(res, body_unread);
  };
  if (req.method() != http::verb::put && req.method() != http::verb::post) {
    return refuse(405, {evidence::errc::malformed,
                        "upload with PUT (one file) or POST "
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
  if (const auto length = header_->content_length();
      length && !up->multipart && *length > largest) {
    return refuse(413,
                  {evidence::errc::too_large, "the body (" + std::to_string(*length) +
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
    callbacks.on_part_begin = [u, &blobs,
                               max_files](const evidence::part_info& part) -> evidence::status {
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
        return evidence::error{evidence::errc::too_large,
                               "form fields other than files are "
                               "larger than " +
                                   std::to_string(k_max_field_bytes) + " bytes"};
      }
      return {};
    };
    callbacks.on_part_end = []() -> evidence::status { return {}; };
    auto parser =
        evidence::multipart_parser::create(req[http::field::content_type], std::move(callbacks));
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
    return write(json_response(static_cast<unsigned>(evidence::http_status(e.code)), error_body(e),
                               up->keep_alive),
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
  if (r.opened_case) {
    state_->announce_opened(r.opened_case);
  } else {
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& row : up->rows) ids.push_back(row.id);
    state_->announce_buyer_activity(r.conversation, "case.evidence",
                                    {{"evidence", std::move(ids)}, {"item", up->claims.subject}});
  }
  if (!r.messages.empty()) {
    state_->deliver({bot::unprompted{r.conversation, std::move(r.messages), r.version, {}}});
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
  const bool head = req.method() == http::verb::head;
  const unsigned version = req.version();
  const std::string_view target = req.target();
  if (authorized(req)) return fetch_evidence(id, true, {}, head, version, keep_alive);
  if (target.find("sig=") != std::string_view::npos) {
    auto claims = state_->evidence->signer.verify_read(target, unix_now());
    if (!claims.ok()) {
      return refuse(static_cast<unsigned>(evidence::http_status(claims.error().code)),
                    claims.error().message);
    }
    if (claims->subject != id) return refuse(403, "this link is for another file");
    return fetch_evidence(id, false, claims->conversation, head, version, keep_alive);
  }
  const std::string token = detail::presented_token(req);
  if (token.empty()) {
    return refuse(401, "reading evidence needs a bearer token or a signed read link");
  }
  state_->authenticate_agent(token, [self = shared_from_this(), id, head, version,
                                     keep_alive](std::optional<std::string> agent) {
    net::post(self->stream_.get_executor(), [=] {
      if (agent) return self->fetch_evidence(id, true, {}, head, version, keep_alive);
      auto res = self->json_response(401, dump({{"error", "that token is not valid"}}), keep_alive);
      res->set(http::field::www_authenticate, "Bearer");
      self->send(res);
    });
  });
}

void http_session::fetch_evidence(std::string id, bool agent, std::string buyer_conversation,
                                  bool head, unsigned version, bool keep_alive) {
  state_->engine.find_evidence(id, [self = shared_from_this(), agent, buyer_conversation, head,
                                    version,
                                    keep_alive](store::status st,
                                                std::optional<store::evidence_record> row) mutable {
    net::post(self->stream_.get_executor(), [=, row = std::move(row)]() mutable {
      auto answer = [&](unsigned status, std::string message) {
        self->send(self->json_response(status, dump({{"error", std::move(message)}}), keep_alive));
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
      if (agent && image) {
        // Agents see a copy without location metadata (EXIF GPS, XMP, text chunks) of every
        // image type; one that cannot be cleaned is refused rather than shown as uploaded. The
        // blob store already capped images at max_image_bytes; checked again before allocating.
        if (opened->size > self->state_->evidence->blobs.limits().max_image_bytes) {
          return answer(500, "the stored photo is larger than the image limit");
        }
        std::string bytes(opened->size, '\0');
        std::size_t got = 0;
        while (got < bytes.size()) {
          const ssize_t n = ::read(opened->fd.get(), bytes.data() + got, bytes.size() - got);
          if (n <= 0) break;
          got += static_cast<std::size_t>(n);
        }
        if (got != bytes.size()) return answer(500, "the stored file cannot be read");
        auto stripped = evidence::strip_location_metadata(row->mime, std::move(bytes));
        if (!stripped.ok()) {
          return answer(500, "the photo's metadata cannot be removed, so it is not shown: " +
                                 stripped.error().message);
        }
        auto res = std::make_shared<response>(http::status::ok, version);
        decorate(*res);
        res->body() = std::move(stripped.value());
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
        auto empty = std::make_shared<http::response<http::empty_body>>(http::status::ok, version);
        decorate(*empty);
        empty->content_length(res->body().size());
        return self->write(empty, false);
      }
      self->write(res, false);
    });
  });
}

}  // namespace shouhou::connectors
