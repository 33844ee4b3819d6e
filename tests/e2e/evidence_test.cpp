// End-to-end: evidence uploads over real HTTP against the running server, every refusal the issue
// lists, reading files back, concurrency, and memory staying flat for a large upload.

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <boost/beast/http.hpp>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "connectors/evidence/upload_link.hpp"
#include "e2e/server_process.hpp"

namespace shouhou::e2e {
namespace {

namespace http = beast::http;
using namespace std::string_literals;
namespace ev = connectors::evidence;

constexpr std::uint64_t k_mib = 1024 * 1024;

std::string seg(unsigned char marker, const std::string& payload) {
  std::string s{'\xFF', static_cast<char>(marker)};
  const std::size_t len = payload.size() + 2;
  s.push_back(static_cast<char>(len >> 8));
  s.push_back(static_cast<char>(len & 0xFF));
  return s + payload;
}

// A small JPEG whose Exif has a GPS IFD holding a marker text (big-endian TIFF).
std::string jpeg_with_gps(const std::string& tag = "") {
  std::string tiff = "MM\0\x2A\0\0\0\x08"s;                 // header, IFD0 at 8
  tiff += "\0\x01"s;                                       // 1 entry
  tiff += "\x88\x25\0\x04\0\0\0\x01\0\0\0\x1A"s;           // GPS IFD pointer -> 26
  tiff += "\0\0\0\0"s;                                     // no next IFD
  tiff += "\0\x01"s;                                       // GPS IFD: 1 entry
  tiff += "\0\x1B\0\x07\0\0\0\x10\0\0\0\x2C"s;             // GPSProcessingMethod, 16 bytes at 44
  tiff += "\0\0\0\0"s;
  tiff += "GPSSECRET-31.23N";
  return "\xFF\xD8"s + seg(0xE0, "JFIF\0\x01\x01\0\0\x01\0\x01\0\0"s) + seg(0xE1, "Exif\0\0"s + tiff) +
         seg(0xDB, "\0"s + std::string(64, '\x10')) + seg(0xC0, "\x08\0\x10\0\x10\x01\x01\x11\0"s) +
         seg(0xC4, "\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x05"s) + seg(0xDA, "\x01\x01\0\0\x3F\0"s) +
         "\x12\x34\xFF\x00\x56"s + tag + "\xFF\xD9"s;
}

std::string png(const std::string& tag = "", std::size_t pad = 0) {
  return "\x89PNG\r\n\x1a\n\0\0\0\x0DIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0"s + tag +
         std::string(pad, 'p');
}

// A well-formed 1x1 PNG with an eXIf chunk holding a marker text. The CRCs are not checked by
// the server (whole chunks are copied), so they are left zero.
std::string png_with_exif() {
  auto chunk = [](const std::string& type, const std::string& data) {
    const auto n = static_cast<std::uint32_t>(data.size());
    return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)} +
           type + data + "\0\0\0\0"s;
  };
  return "\x89PNG\r\n\x1a\n"s + chunk("IHDR", "\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0"s) +
         chunk("eXIf", "MM\0\x2A\0\0\0\x08\0\0PNGGPSSECRET-31.23N"s) +
         chunk("IDAT", "\x78\x9c\x63\x60\x60\x60\0\0\0\x04\0\x01"s) + chunk("IEND", "");
}

std::string sha256_hex(std::string_view data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : d) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 0xf]);
  }
  return out;
}

struct reply {
  int status = 0;
  std::string body;
  http::fields headers;
  json parsed() const { return json::parse(body, nullptr, false); }
};

tcp::socket connect_to(net::io_context& ioc, unsigned short port, int timeout_s = 20) {
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  timeval tv{timeout_s, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

reply read_reply(tcp::socket& s) {
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  beast::error_code ec;
  http::read(s, buffer, res, ec);
  if (ec) return {0, "read failed: " + ec.message(), {}};
  reply r{static_cast<int>(res.result_int()), res.body(), {}};
  for (const auto& f : res) r.headers.set(f.name_string(), f.value());
  return r;
}

reply request(unsigned short port, http::verb verb, const std::string& target,
              const std::string& body = "", const std::string& content_type = "",
              const std::string& token = "", const std::string& disposition = "") {
  net::io_context ioc;
  auto s = connect_to(ioc, port);
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!disposition.empty()) req.set(http::field::content_disposition, disposition);
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  http::write(s, req, ec);
  return read_reply(s);
}

reply put(unsigned short port, const std::string& target, const std::string& body) {
  return request(port, http::verb::put, target, body, "application/octet-stream");
}

struct form_file {
  std::string name;
  std::string bytes;
};

const std::string k_boundary = "----shouhouTestBoundary7MA4YWxk";

std::string form(const std::vector<form_file>& files, bool close = true) {
  std::string out;
  for (const auto& f : files) {
    out += "--" + k_boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
           f.name + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + f.bytes + "\r\n";
  }
  if (close) out += "--" + k_boundary + "--\r\n";
  return out;
}

reply post(unsigned short port, const std::string& target, const std::string& body) {
  return request(port, http::verb::post, target, body,
                 "multipart/form-data; boundary=" + k_boundary);
}

std::size_t files_under(const std::filesystem::path& root, bool tmp_only) {
  std::size_t n = 0;
  std::error_code ec;
  const auto base = tmp_only ? root / "tmp" : root;
  for (auto it = std::filesystem::recursive_directory_iterator(base, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    if (!tmp_only && it->path().parent_path().filename() == "tmp") continue;
    ++n;
  }
  return n;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

ev::link_signer signer_of(const std::filesystem::path& data) {
  auto key = ev::load_or_create_secret(data);
  EXPECT_TRUE(key.ok());
  return ev::link_signer(key.value());
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A damaged-goods conversation, with the upload links the bot's reply gave.
struct damaged_case {
  std::unique_ptr<ws_client> chat;
  std::string conversation;
  std::map<std::string, std::string> upload;  // item -> link
};

damaged_case open_damaged(unsigned short port, const std::string& buyer) {
  damaged_case c;
  c.chat = std::make_unique<ws_client>(port);
  c.conversation = c.chat->hello("shop-1", buyer)["conversation"];
  auto f = c.chat->say("m1", "收到的杯子碎了，收到货发现屏幕碎了");
  EXPECT_EQ(f.size(), 2u);
  if (f.size() < 2) return c;
  EXPECT_EQ(f[1]["reason"], "damaged");
  for (const auto& r : f[1]["requests"]) {
    if (r["type"] == "photo" || r["type"] == "video") {
      EXPECT_TRUE(r.contains("upload")) << r.dump();
      c.upload[r["item"]] = r.value("upload", "");
    } else {
      EXPECT_FALSE(r.contains("upload")) << r.dump();
    }
  }
  return c;
}

std::vector<std::string> items_of(const json& reply) {
  std::vector<std::string> out;
  for (const auto& r : reply["requests"]) out.push_back(r["item"]);
  return out;
}

long vm_hwm_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

class Evidence : public ::testing::Test {
 protected:
  std::filesystem::path blobs() const { return data_.path() / "evidence"; }
  void expect_no_tmp() const { EXPECT_EQ(files_under(blobs(), true), 0u) << "tmp left behind"; }

  temp_dir data_;
  server_process server_{data_.path()};
};

TEST_F(Evidence, APutPhotoIsStoredConfirmedLiveAndMarksItsItem) {
  auto c = open_damaged(server_.port(), "buyer-put");
  ASSERT_EQ(c.upload.count("damage_photo"), 1u);
  const std::string photo = jpeg_with_gps();
  auto r = put(server_.port(), c.upload["damage_photo"], photo);
  ASSERT_EQ(r.status, 201) << r.body;
  auto files = r.parsed()["evidence"];
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0]["item"], "damage_photo");
  EXPECT_EQ(files[0]["type"], "image");
  EXPECT_EQ(files[0]["mime"], "image/jpeg");
  EXPECT_EQ(files[0]["size"], photo.size());
  EXPECT_EQ(files[0]["sha256"], sha256_hex(photo));

  // The chat connection gets the confirmation, listing only what is still missing.
  auto live = c.chat->read();
  EXPECT_EQ(live["type"], "reply");
  EXPECT_EQ(live["kind"], "follow_up");
  EXPECT_EQ(items_of(live), (std::vector<std::string>{"box_photo", "waybill_no", "refused"}));
  EXPECT_TRUE(live["requests"][0].contains("upload"));

  // The next reply no longer asks for it either.
  auto f = c.chat->say("m2", "运单号 SF1234567890123");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(items_of(f[1]), (std::vector<std::string>{"box_photo", "refused"}));

  // Read back: the agent gets the file without GPS; the buyer gets exactly what was uploaded.
  const std::string id = files[0]["id"];
  const std::string token = read_text(data_.path() / "admin.token");
  auto agent = request(server_.port(), http::verb::get, "/v1/evidence/" + id, "", "", token);
  ASSERT_EQ(agent.status, 200) << agent.body;
  EXPECT_EQ(agent.headers[http::field::content_type], "image/jpeg");
  EXPECT_EQ(agent.headers["X-Content-Type-Options"], "nosniff");
  EXPECT_NE(agent.headers[http::field::content_disposition].find("inline"), std::string::npos);
  EXPECT_EQ(agent.body.find("GPSSECRET"), std::string::npos) << "GPS shown to the agent";
  EXPECT_EQ(agent.body.rfind("\xFF\xD8", 0), 0u);
  auto buyer = request(server_.port(), http::verb::get, files[0]["read"]);
  ASSERT_EQ(buyer.status, 200) << buyer.body;
  EXPECT_EQ(buyer.body, photo);
  auto anonymous = request(server_.port(), http::verb::get, "/v1/evidence/" + id);
  EXPECT_EQ(anonymous.status, 401);
  auto unknown = request(server_.port(), http::verb::get, "/v1/evidence/nope", "", "", token);
  EXPECT_EQ(unknown.status, 404);

  // Another buyer's read link does not open this buyer's file.
  auto other = open_damaged(server_.port(), "buyer-other");
  auto theirs = put(server_.port(), other.upload["damage_photo"], png("theirs"));
  ASSERT_EQ(theirs.status, 201) << theirs.body;
  const auto signer = signer_of(data_.path());
  auto crossed = signer.read_target(other.conversation, id, unix_now() + 600);
  ASSERT_TRUE(crossed.ok());
  EXPECT_EQ(request(server_.port(), http::verb::get, crossed.value()).status, 403);
  expect_no_tmp();
}

TEST_F(Evidence, APngsExifIsHiddenFromAgentsButNotFromItsBuyer) {
  auto c = open_damaged(server_.port(), "buyer-png-exif");
  const std::string photo = png_with_exif();
  auto r = put(server_.port(), c.upload["damage_photo"], photo);
  ASSERT_EQ(r.status, 201) << r.body;
  auto files = r.parsed()["evidence"];
  ASSERT_EQ(files.size(), 1u);
  ASSERT_EQ(files[0]["mime"], "image/png");
  const std::string id = files[0]["id"];
  const std::string token = read_text(data_.path() / "admin.token");
  auto agent = request(server_.port(), http::verb::get, "/v1/evidence/" + id, "", "", token);
  ASSERT_EQ(agent.status, 200) << agent.body;
  EXPECT_EQ(agent.headers[http::field::content_type], "image/png");
  EXPECT_EQ(agent.body.find("PNGGPSSECRET"), std::string::npos) << "PNG eXIf shown to the agent";
  EXPECT_EQ(agent.body.find("eXIf"), std::string::npos);
  EXPECT_EQ(agent.body.rfind("\x89PNG", 0), 0u);
  EXPECT_NE(agent.body.find("IDAT"), std::string::npos);
  auto buyer = request(server_.port(), http::verb::get, files[0]["read"]);
  ASSERT_EQ(buyer.status, 200) << buyer.body;
  EXPECT_EQ(buyer.body, photo);
  EXPECT_NE(buyer.body.find("PNGGPSSECRET"), std::string::npos);
}

TEST_F(Evidence, TheEvidenceFrameMarksAnItemAndUnknownIdsAreRefused) {
  auto c = open_damaged(server_.port(), "buyer-frame");
  auto other = open_damaged(server_.port(), "buyer-frame-2");
  auto r = put(server_.port(), other.upload["box_photo"], png("x"));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string foreign = r.parsed()["evidence"][0]["id"];
  other.chat->read();  // its own confirmation

  c.chat->send(json{{"type", "evidence"}, {"id", "e1"}, {"evidence", foreign}});
  auto refused = c.chat->read();
  EXPECT_EQ(refused["type"], "error");
  EXPECT_EQ(refused["code"], "unknown_evidence");
  EXPECT_EQ(refused["id"], "e1");

  // Stored for box_photo through the link; citing it again in chat is acknowledged, and a resend
  // is a duplicate.
  auto mine = put(server_.port(), c.upload["box_photo"], png("mine"));
  ASSERT_EQ(mine.status, 201);
  c.chat->read();
  const std::string id = mine.parsed()["evidence"][0]["id"];
  c.chat->send(json{{"type", "evidence"}, {"id", 7}, {"evidence", id}});
  auto ack = c.chat->read();
  EXPECT_EQ(ack["type"], "ack");
  EXPECT_EQ(ack["duplicate"], false);
  for (int n = ack["replies"]; n > 0; --n) {
    auto m = c.chat->read();
    EXPECT_EQ(m["in_reply_to"], "7");
  }
  c.chat->send(json{{"type", "evidence"}, {"id", 7}, {"evidence", id}});
  auto again = c.chat->read();
  EXPECT_EQ(again["duplicate"], true);
  EXPECT_EQ(again["replies"], 0);
}

TEST_F(Evidence, MultipartStoresSeveralFilesAndTheSameBytesOnce) {
  auto c = open_damaged(server_.port(), "buyer-multi");
  const std::string a = jpeg_with_gps("a"), b = png("b");
  auto r = post(server_.port(), c.upload["damage_photo"], form({{"破损 1.jpg", a}, {"b.png", b}}));
  ASSERT_EQ(r.status, 201) << r.body;
  auto files = r.parsed()["evidence"];
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0]["sha256"], sha256_hex(a));
  EXPECT_EQ(files[1]["sha256"], sha256_hex(b));
  EXPECT_EQ(files[1]["mime"], "image/png");
  // The same bytes again: a new row, the same hash, no second blob.
  auto again = put(server_.port(), c.upload["box_photo"], a);
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.parsed()["evidence"][0]["sha256"], sha256_hex(a));
  EXPECT_NE(again.parsed()["evidence"][0]["id"], files[0]["id"]);
  EXPECT_EQ(files_under(blobs(), false), 2u);
  expect_no_tmp();
}

TEST_F(Evidence, BadLinksAreRefusedBeforeTheBody) {
  auto c = open_damaged(server_.port(), "buyer-links");
  const auto signer = signer_of(data_.path());
  auto expired = signer.upload_target(c.conversation, "damage_photo", unix_now() - 10);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(put(server_.port(), expired.value(), png()).status, 410);

  std::string forged = c.upload["damage_photo"];
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(put(server_.port(), forged, png()).status, 403);

  // The conversation and item are in the signed path: editing either breaks the signature.
  auto other = open_damaged(server_.port(), "buyer-links-2");
  std::string swapped = c.upload["damage_photo"];
  swapped.replace(swapped.find(c.conversation), c.conversation.size(), other.conversation);
  EXPECT_EQ(put(server_.port(), swapped, png()).status, 403);
  std::string item = c.upload["damage_photo"];
  item.replace(item.find("damage_photo"), 12, "box_photo");
  EXPECT_EQ(put(server_.port(), item, png()).status, 403);
  EXPECT_EQ(put(server_.port(), "/v1/evidence/upload/x/y", png()).status, 400);
  expect_no_tmp();
  EXPECT_EQ(files_under(blobs(), false), 0u);
}

TEST_F(Evidence, BadBodiesGetAClearRefusalAndLeaveNothingBehind) {
  auto c = open_damaged(server_.port(), "buyer-bad");
  const std::string link = c.upload["damage_photo"];

  auto zip = put(server_.port(), link, "PK\x03\x04"s + std::string(100, 'z'));
  EXPECT_EQ(zip.status, 415) << zip.body;
  EXPECT_NE(zip.body.find("ZIP"), std::string::npos) << zip.body;
  EXPECT_NE(zip.body.find("JPEG"), std::string::npos) << "names what is accepted: " << zip.body;

  auto empty = put(server_.port(), link, "");
  EXPECT_EQ(empty.status, 400) << empty.body;

  auto truncated = post(server_.port(), link, form({{"a.png", png()}}, false));
  EXPECT_EQ(truncated.status, 400) << truncated.body;
  EXPECT_NE(truncated.body.find("truncated"), std::string::npos) << truncated.body;

  for (const std::string name : {"../../etc/passwd.png", "a\\b.png", "bad\x01name.png"}) {
    auto bad = post(server_.port(), link, form({{"ok.png", png("1")}, {name, png("2")}}));
    EXPECT_EQ(bad.status, 400) << name << ": " << bad.body;
  }
  auto no_file = post(server_.port(), link, form({}));
  EXPECT_EQ(no_file.status, 400) << no_file.body;

  expect_no_tmp();
  EXPECT_EQ(files_under(blobs(), false), 0u) << "a refused upload stored a blob";
  // Nothing of it reached the conversation.
  auto f = c.chat->say("m2", "运单号 SF1234567890123");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(items_of(f[1]), (std::vector<std::string>{"damage_photo", "box_photo", "refused"}));
}

// Sends a header and `body_bytes` of a body, then reads the answer.
reply send_partial(unsigned short port, const std::string& target, std::uint64_t claimed,
                   const std::string& head, std::uint64_t body_bytes) {
  net::io_context ioc;
  auto s = connect_to(ioc, port);
  std::string header = "PUT " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                       std::to_string(claimed) + "\r\n\r\n";
  beast::error_code ec;
  net::write(s, net::buffer(header), ec);
  std::string chunk = head;
  chunk.resize(64 * 1024, '\0');
  std::uint64_t sent = 0;
  while (!ec && sent < body_bytes) {
    net::write(s, net::buffer(chunk), ec);
    sent += chunk.size();
  }
  return read_reply(s);
}

TEST_F(Evidence, AnOversizeBodyIsRefusedWithoutReadingTheRest) {
  auto c = open_damaged(server_.port(), "buyer-big");
  // Claims 1 GiB: refused on the header alone; the test sends only a little more than the limit.
  auto huge = send_partial(server_.port(), c.upload["damage_photo"], 1024 * k_mib, png(),
                           11 * k_mib);
  EXPECT_EQ(huge.status, 413) << huge.body;
  // Claims 100 MiB (a size a video may have) but it is a photo: refused once 10 MiB are passed.
  auto photo = send_partial(server_.port(), c.upload["damage_photo"], 100 * k_mib, png(),
                            11 * k_mib);
  EXPECT_EQ(photo.status, 413) << photo.body;
  EXPECT_NE(photo.body.find("too_large"), std::string::npos) << photo.body;
  expect_no_tmp();
  EXPECT_EQ(files_under(blobs(), false), 0u);
}

TEST_F(Evidence, TheMaximumFilesPerConversationIsKept) {
  temp_dir data;
  server_process server(data.path(), {"--max-evidence-per-conversation", "2"});
  auto c = open_damaged(server.port(), "buyer-max");
  ASSERT_EQ(post(server.port(), c.upload["damage_photo"], form({{"1.png", png("1")}})).status, 201);
  auto r = post(server.port(), c.upload["box_photo"], form({{"2.png", png("2")}, {"3.png", png("3")}}));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("(2)"), std::string::npos) << r.body;
}

TEST(EvidenceSlowClient, AnUploadThatStopsIsCutByTheReadTimeout) {
  temp_dir data;
  server_process server(data.path(), {"--handshake-timeout", "1"});
  auto c = open_damaged(server.port(), "buyer-slow");
  net::io_context ioc;
  auto s = connect_to(ioc, server.port(), 30);
  const std::string head = "PUT " + c.upload["damage_photo"] +
                           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n";
  net::write(s, net::buffer(head + png("", 5000)));
  // Then nothing more: the server must close the connection by itself.
  beast::error_code ec;
  const std::string got = read_to_end(s, ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_NE(ec, net::error::would_block) << "the server kept the stalled upload open";
  // Beast closes the socket when the deadline passes, just before the session's handler removes
  // the temporary file: wait (bounded) for the cleanup rather than race it.
  for (int i = 0; i < 100 && files_under(data.path() / "evidence", true) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(files_under(data.path() / "evidence", true), 0u);
  EXPECT_EQ(files_under(data.path() / "evidence", false), 0u);
}

TEST(EvidenceDiskFull, AWriteThatFailsAnswers507AndLeavesNothing) {
  temp_dir data;
  server_process server(data.path(), {}, static_cast<long>(3 * k_mib));
  auto c = open_damaged(server.port(), "buyer-full");
  auto r = put(server.port(), c.upload["damage_photo"], png("", 5 * k_mib));
  EXPECT_EQ(r.status, 507) << r.body;
  EXPECT_EQ(files_under(data.path() / "evidence", true), 0u);
  EXPECT_EQ(files_under(data.path() / "evidence", false), 0u);
  // The server goes on serving.
  EXPECT_EQ(put(server.port(), c.upload["damage_photo"], png("small")).status, 201);
}

TEST_F(Evidence, ConcurrentUploadsAreEachStoredOnceWithTheRightHash) {
  constexpr int k_buyers = 8, k_files = 5;
  std::vector<damaged_case> cases;
  for (int b = 0; b < k_buyers; ++b) {
    cases.push_back(open_damaged(server_.port(), "buyer-c" + std::to_string(b)));
  }
  std::mutex mutex;
  std::vector<std::string> failures;
  std::set<std::string> hashes;
  std::vector<std::thread> threads;
  for (int b = 0; b < k_buyers; ++b) {
    threads.emplace_back([&, b] {
      for (int f = 0; f < k_files; ++f) {
        const std::string bytes = png(std::to_string(b) + "-" + std::to_string(f), 20000);
        const std::string link = cases[static_cast<std::size_t>(b)].upload[f % 2 ? "box_photo" : "damage_photo"];
        auto r = put(server_.port(), link, bytes);
        std::lock_guard lock(mutex);
        auto j = r.parsed();
        if (r.status != 201 || j["evidence"][0]["sha256"] != sha256_hex(bytes)) {
          failures.push_back(std::to_string(r.status) + " " + r.body);
        }
        hashes.insert(sha256_hex(bytes));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(files_under(blobs(), false), hashes.size());
  for (const auto& h : hashes) {
    EXPECT_TRUE(std::filesystem::exists(blobs() / h.substr(0, 2) / h.substr(2, 2) / h)) << h;
  }
  expect_no_tmp();
}

TEST_F(Evidence, AHundredMebibyteUploadKeepsMemoryFlat) {
  auto c = open_damaged(server_.port(), "buyer-video");
  const long before = vm_hwm_kib(server_.pid());
  ASSERT_GT(before, 0);
  constexpr std::uint64_t total = 100 * k_mib;
  net::io_context ioc;
  auto s = connect_to(ioc, server_.port(), 60);
  // The damaged checklist asks for photos only; a video is a valid upload for any item.
  const std::string header = "PUT " + c.upload["damage_photo"] +
                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                             std::to_string(total) + "\r\n\r\n";
  net::write(s, net::buffer(header));
  std::string chunk(1 * k_mib, '\0');
  const std::string mp4 = "\0\0\0\x18" "ftypisom\0\0\x02\0isomiso2"s;
  std::copy(mp4.begin(), mp4.end(), chunk.begin());
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t sent = 0; sent < total; sent += chunk.size()) {
    net::write(s, net::buffer(chunk));
    if (sent == 0) std::fill(chunk.begin(), chunk.begin() + static_cast<long>(mp4.size()), '\0');
  }
  auto r = read_reply(s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = r.parsed()["evidence"][0];
  EXPECT_EQ(j["type"], "video");
  EXPECT_EQ(j["size"], total);
  const long after = vm_hwm_kib(server_.pid());
  std::cout << "100 MiB upload: peak RSS " << before << " KiB -> " << after << " KiB (+"
            << (after - before) << " KiB), " << (100.0 / seconds) << " MiB/s\n";
  EXPECT_LT(after - before, 32 * 1024) << "peak RSS grew by " << (after - before) << " KiB";
}

}  // namespace
}  // namespace shouhou::e2e
