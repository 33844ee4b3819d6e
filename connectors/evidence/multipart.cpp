#include "connectors/evidence/multipart.hpp"

#include <cstring>
#include <utility>

namespace shouhou::connectors::evidence {
namespace {

constexpr std::size_t k_max_boundary = 70;  // RFC 2046
constexpr std::size_t k_max_padding = 64;   // transport padding after a boundary

evidence::error malformed(std::string what) {
  return {errc::malformed, "malformed multipart body: " + std::move(what)};
}

bool is_ws(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_tchar(char c) {  // RFC 9110 token characters
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

struct header_value {
  std::string type;                                         // lowercased
  std::vector<std::pair<std::string, std::string>> params;  // names lowercased, in order
};

// `type *( ";" name "=" ( token / quoted-string ) )`, strictly enough that a value cannot be
// smuggled past the parameter it belongs to.
result<header_value> parse_params(std::string_view v, std::string_view what) {
  header_value out;
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < v.size() && is_ws(v[i])) ++i;
  };
  skip_ws();
  const std::size_t type_start = i;
  while (i < v.size() && v[i] != ';' && !is_ws(v[i])) ++i;
  out.type = lower(v.substr(type_start, i - type_start));
  if (out.type.empty()) return malformed(std::string(what) + " has no type");
  while (true) {
    skip_ws();
    if (i == v.size()) return out;
    if (v[i] != ';') return malformed("unexpected text in " + std::string(what));
    ++i;
    skip_ws();
    if (i == v.size()) return out;  // a trailing ';' is common and harmless
    const std::size_t name_start = i;
    while (i < v.size() && is_tchar(v[i])) ++i;
    std::string name = lower(v.substr(name_start, i - name_start));
    skip_ws();
    if (name.empty() || i == v.size() || v[i] != '=') {
      return malformed("bad parameter in " + std::string(what));
    }
    ++i;
    skip_ws();
    std::string value;
    if (i < v.size() && v[i] == '"') {
      ++i;
      const std::size_t close = v.find('"', i);
      if (close == std::string_view::npos) {
        return malformed("unterminated quoted value in " + std::string(what));
      }
      value = v.substr(i, close - i);
      i = close + 1;
    } else {
      const std::size_t value_start = i;
      while (i < v.size() && v[i] != ';' && !is_ws(v[i])) ++i;
      value = v.substr(value_start, i - value_start);
    }
    for (const auto& p : out.params) {
      if (p.first == name)
        return malformed("repeated parameter " + name + " in " + std::string(what));
    }
    out.params.emplace_back(std::move(name), std::move(value));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 8187 ext-value: charset "'" [language] "'" pct-encoded; only UTF-8 is accepted.
std::optional<std::string> decode_ext_value(std::string_view v) {
  const std::size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  const std::size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  if (lower(v.substr(0, q1)) != "utf-8") return std::nullopt;
  std::string out;
  for (std::size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] != '%') {
      out.push_back(v[i]);
      continue;
    }
    if (i + 2 >= v.size()) return std::nullopt;
    const int hi = hex_value(v[i + 1]);
    const int lo = hex_value(v[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool is_bchar(char c) {  // RFC 2046 bcharsnospace, plus space inside
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("'()+_,-./:=? ", c) != nullptr;
}

}  // namespace

result<std::string> multipart_boundary(std::string_view content_type) {
  auto parsed = parse_params(content_type, "Content-Type");
  if (!parsed) return parsed.error();
  if (parsed->type != "multipart/form-data") {
    return error{errc::malformed, "Content-Type is not multipart/form-data"};
  }
  for (auto& [name, value] : parsed->params) {
    if (name != "boundary") continue;
    if (value.empty() || value.size() > k_max_boundary || value.back() == ' ') {
      return error{errc::malformed, "multipart boundary must be 1 to 70 characters"};
    }
    for (char c : value)
      if (!is_bchar(c))
        return error{errc::malformed, "multipart boundary has a forbidden character"};
    return std::move(value);
  }
  return error{errc::malformed, "multipart Content-Type has no boundary"};
}

result<content_disposition> parse_content_disposition(std::string_view value) {
  auto parsed = parse_params(value, "Content-Disposition");
  if (!parsed) return parsed.error();
  content_disposition out;
  out.type = std::move(parsed->type);
  std::optional<std::string> plain, extended;
  for (auto& [name, v] : parsed->params) {
    if (name == "name") {
      out.name = std::move(v);
    } else if (name == "filename") {
      plain = std::move(v);
    } else if (name == "filename*") {
      extended = decode_ext_value(v);
      if (!extended) return malformed("filename* is not UTF-8''percent-encoded");
    }
  }
  out.filename = extended ? std::move(extended) : std::move(plain);
  return out;
}

result<multipart_parser> multipart_parser::create(std::string_view content_type,
                                                  multipart_callbacks callbacks,
                                                  multipart_limits limits) {
  if (!callbacks.on_part_begin || !callbacks.on_part_data || !callbacks.on_part_end) {
    return error{errc::invalid_argument, "multipart_parser needs all three callbacks"};
  }
  auto boundary = multipart_boundary(content_type);
  if (!boundary) return boundary.error();
  return multipart_parser(std::move(boundary).value(), std::move(callbacks), limits);
}

multipart_parser::multipart_parser(std::string boundary, multipart_callbacks callbacks,
                                   multipart_limits limits)
    : delimiter_("\r\n--" + boundary), callbacks_(std::move(callbacks)), limits_(limits) {
  fallback_.assign(delimiter_.size(), 0);
  for (std::size_t i = 1, k = 0; i < delimiter_.size(); ++i) {
    while (k > 0 && delimiter_[i] != delimiter_[k]) k = fallback_[k - 1];
    if (delimiter_[i] == delimiter_[k]) ++k;
    fallback_[i] = k;
  }
  header_.reserve(limits_.max_header_bytes);
}

status multipart_parser::fail(evidence::error e) {
  failed_ = e;
  return e;
}

status multipart_parser::emit(std::string_view data) {
  if (data.empty()) return {};
  if (state_ == state::body) return callbacks_.on_part_data(data);
  preamble_bytes_ += data.size();
  if (preamble_bytes_ > limits_.max_preamble_bytes) {
    return malformed("no boundary in the first " + std::to_string(limits_.max_preamble_bytes) +
                     " bytes");
  }
  return {};
}

// Searches for the delimiter from data[i], handing on what cannot be part of it. Bytes that
// might begin a delimiter are held back as match_ (they are always delimiter_[0, match_), so
// nothing needs to be copied to remember them); when they turn out to be data, the oldest are
// handed on from delimiter_ itself. Stops after a complete delimiter or at the end of data.
status multipart_parser::scan(std::string_view data, std::size_t& i) {
  const std::size_t n = data.size();
  std::size_t run = i;  // start of bytes that are data and not yet handed on
  while (i < n) {
    if (match_ == 0) {
      const void* cr = std::memchr(data.data() + i, delimiter_[0], n - i);
      if (cr == nullptr) {
        i = n;
        break;
      }
      i = static_cast<std::size_t>(static_cast<const char*>(cr) - data.data());
      if (auto r = emit(data.substr(run, i - run)); !r) return r;
      match_ = 1;
      run = ++i;
      continue;
    }
    const char c = data[i];
    if (c == delimiter_[match_]) {
      run = ++i;
      if (++match_ == delimiter_.size()) {
        match_ = 0;
        return on_delimiter();
      }
      continue;
    }
    std::size_t m = match_;
    while (m > 0 && delimiter_[m] != c) m = fallback_[m - 1];
    const std::size_t kept = delimiter_[m] == c ? m + 1 : 0;
    // The held bytes plus c were match_ + 1 bytes; the last `kept` stay held.
    const std::size_t dropped = match_ + 1 - kept;
    if (kept == 0) {
      if (auto r = emit(std::string_view(delimiter_).substr(0, match_)); !r) return r;
      match_ = 0;
      run = i;  // c is data; the memchr branch hands it on
    } else {
      if (auto r = emit(std::string_view(delimiter_).substr(0, dropped)); !r) return r;
      match_ = kept;
      run = ++i;
    }
  }
  return emit(data.substr(run, n - run));
}

status multipart_parser::on_delimiter() {
  if (state_ == state::body) {
    if (auto r = callbacks_.on_part_end(); !r) return r;
  }
  state_ = state::boundary_tail;
  tail_ = tail::start;
  padding_bytes_ = 0;
  return {};
}

status multipart_parser::tail_byte(char c) {
  switch (tail_) {
    case tail::start:
      if (c == '-') {
        tail_ = tail::dash;
        return {};
      }
      [[fallthrough]];
    case tail::padding:
      if (is_ws(c)) {
        tail_ = tail::padding;
        if (++padding_bytes_ > k_max_padding) return malformed("too much padding after a boundary");
        return {};
      }
      if (c == '\r') {
        tail_ = tail::cr;
        return {};
      }
      return malformed("unexpected bytes after a boundary");
    case tail::dash:
      if (c != '-') return malformed("unexpected bytes after a boundary");
      state_ = state::epilogue;
      return {};
    case tail::cr:
      if (c != '\n') return malformed("boundary line not ended by CRLF");
      if (parts_ == limits_.max_parts) {
        return error{errc::too_many, "too many parts in the upload (limit " +
                                         std::to_string(limits_.max_parts) + ")"};
      }
      state_ = state::headers;
      header_.clear();
      return {};
  }
  return {};
}

status multipart_parser::header_byte(char c) {
  if (header_.size() == limits_.max_header_bytes) {
    return error{errc::too_large, "part header too large (limit " +
                                      std::to_string(limits_.max_header_bytes) + " bytes)"};
  }
  header_.push_back(c);
  if (header_ == "\r\n") return malformed("part without headers (Content-Disposition needed)");
  if (c == '\n' && header_.ends_with("\r\n\r\n")) return begin_part();
  return {};
}

status multipart_parser::begin_part() {
  part_info part;
  bool have_disposition = false;
  std::string_view block(header_);
  block.remove_suffix(2);  // the empty line; every header line now ends with CRLF
  while (!block.empty()) {
    const std::size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (line.empty() || is_ws(line.front())) return malformed("folded or empty part header line");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return malformed("part header without ':'");
    const std::string name = lower(line.substr(0, colon));
    for (char ch : name)
      if (!is_tchar(ch)) return malformed("bad part header name");
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      if (have_disposition) return malformed("repeated Content-Disposition");
      have_disposition = true;
      auto cd = parse_content_disposition(value);
      if (!cd) return cd.error();
      if (cd->type != "form-data") return malformed("part Content-Disposition is not form-data");
      if (!cd->name) return malformed("part Content-Disposition has no name");
      part.name = std::move(*cd->name);
      part.filename = std::move(cd->filename);
    } else if (name == "content-type") {
      part.content_type = value;
    }
  }
  if (!have_disposition) return malformed("part without Content-Disposition");
  header_.clear();
  ++parts_;
  state_ = state::body;
  match_ = 0;
  return callbacks_.on_part_begin(part);
}

status multipart_parser::feed(std::string_view bytes) {
  if (failed_) return *failed_;
  std::size_t i = 0;
  while (i < bytes.size()) {
    status r;
    switch (state_) {
      case state::preamble:
      case state::body:
        r = scan(bytes, i);
        break;
      case state::boundary_tail:
        r = tail_byte(bytes[i++]);
        break;
      case state::headers:
        r = header_byte(bytes[i++]);
        break;
      case state::epilogue:
        return {};  // RFC 2046: the epilogue is ignored
    }
    if (!r) return fail(r.error());
  }
  return {};
}

status multipart_parser::finish() {
  if (failed_) return *failed_;
  if (state_ == state::epilogue) return {};
  std::string where = state_ == state::body       ? "inside part " + std::to_string(parts_)
                      : state_ == state::headers  ? "inside the headers of a part"
                      : state_ == state::preamble ? "before the first boundary"
                                                  : "after a boundary";
  return fail(error{errc::truncated,
                    "upload body ended before the closing multipart boundary (" + where + ")"});
}

}  // namespace shouhou::connectors::evidence
