#include "replies/book.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>

#include "intents/content_hash.hpp"
#include "intents/reasons.hpp"
#include "replies/detail/text_template.hpp"

namespace shouhou::replies {

using detail::text_template;

namespace {

constexpr std::string_view k_other = "other";

// Checklist item types (README, "evidence").
constexpr std::array<std::string_view, 5> k_item_types = {"photo", "video", "order_no",
                                                          "waybill_no", "text"};

// The keys each kind of map accepts. Anything else is an error, so a typo never silently drops
// a text.
constexpr std::array<std::string_view, 9> k_reason_keys = {"title",    "apology",       "request",
                                                           "evidence", "quick_replies", "follow_up",
                                                           "reminder", "handoff",       "flags"};
constexpr std::array<std::string_view, 4> k_item_keys = {"id", "type", "label", "why"};
constexpr std::array<std::string_view, 2> k_quick_reply_keys = {"label", "reason"};
constexpr std::array<std::string_view, 2> k_flag_keys = {"apology", "handoff"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

template <std::size_t N>
std::string join(const std::array<std::string_view, N>& list) {
  std::string out;
  for (std::string_view s : list) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// Levenshtein distance, for "did you mean" on unknown keys.
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

template <std::size_t N>
std::string suggestion(const std::array<std::string_view, N>& list, std::string_view s) {
  std::string_view best;
  std::size_t best_d = 3;  // suggest only close matches
  for (std::string_view c : list) {
    const std::size_t d = distance(s, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best.empty() ? std::string{} : "did you mean '" + std::string(best) + "'? ";
}

bool is_identifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string trim(std::string s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.back())) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && is_space(s[b])) ++b;
  return s.substr(b);
}

// What a reply file compiles into.

struct quick_reply_spec {
  text_template label;
  std::string reason;  // the reason a tap on it selects; empty when it selects none
};

struct item_spec {
  std::string id;
  std::string type;
  text_template label;
  text_template why;
};

// Texts for a message that carries a flag. What a reason leaves out is taken from "other"'s
// flag of the same name, and failing that from the reason's ordinary text (README, "Fallbacks").
struct flag_spec {
  std::vector<text_template> apology;
  std::optional<text_template> handoff;
};

struct reason_spec {
  std::string id;
  std::optional<text_template> title;
  std::vector<text_template> apology;  // never empty
  text_template request;
  std::vector<item_spec> evidence;
  std::vector<quick_reply_spec> quick_replies;
  // Absent ones fall back to "other"'s, which must define all three.
  std::optional<text_template> follow_up, reminder, handoff;
  std::map<std::string, flag_spec, std::less<>> flags;
};

}  // namespace

struct book::impl {
  std::map<std::string, reason_spec, std::less<>> reasons;

  const reason_spec& find(std::string_view id) const {
    auto it = reasons.find(id);
    if (it == reasons.end()) it = reasons.find(k_other);
    return it->second;
  }
};

namespace {

struct located {
  std::string file;
  int line = 0, column = 0;
};

// Parses one reply file into `out`, appending every problem to `errors`.
class file_parser {
 public:
  file_parser(std::string file, std::string text, std::vector<file_error>& errors,
              std::map<std::string, located, std::less<>>& defined,
              std::map<std::string, reason_spec, std::less<>>& out)
      : file_(std::move(file)),
        text_(std::move(text)),
        errors_(errors),
        defined_(defined),
        out_(out) {
    for (std::size_t i = 0; i < text_.size(); ++i)
      if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }

  void run() {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(text_);
    } catch (const YAML::Exception& e) {
      error_at(e.mark, "YAML syntax: " + e.msg + quoting_hint(e.mark));
      return;
    }
    if (docs.empty() || docs[0].IsNull()) return;  // only comments: nothing to add
    if (docs.size() > 1) error_at(docs[1].Mark(), "a reply file holds one YAML document (no ---)");
    const YAML::Node& root = docs[0];
    if (!root.IsMap()) {
      error_at(root.Mark(), "a reply file is a map from reason id to its reply, e.g. 'damaged:'");
      return;
    }
    for (const auto& kv : root) {
      const YAML::Node& key = kv.first;
      const YAML::Node& value = kv.second;
      if (!key.IsScalar()) {
        error_at(key.Mark(), "a reason id must be a plain word such as 'damaged'");
        continue;
      }
      const std::string& id = key.Scalar();
      if (!contains(intents::k_reasons, id)) {
        error_at(key.Mark(), "unknown reason '" + id + "'; " + suggestion(intents::k_reasons, id) +
                                 "known: " + join(intents::k_reasons));
        continue;
      }
      const located here = locate(key.Mark());
      if (auto it = defined_.find(id); it != defined_.end()) {
        error_at(key.Mark(), "reason '" + id + "' already has a reply at " + it->second.file + ":" +
                                 std::to_string(it->second.line) + ":" +
                                 std::to_string(it->second.column));
        continue;
      }
      defined_.emplace(id, here);
      if (auto spec = parse_reason(id, key, value)) out_.emplace(id, std::move(*spec));
    }
  }

 private:
  using entries = std::vector<std::pair<YAML::Node, YAML::Node>>;

  located locate(const YAML::Mark& m) const {
    if (m.is_null() || m.pos < 0) return {file_, 0, 0};
    const std::size_t pos = std::min(static_cast<std::size_t>(m.pos), text_.size());
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    const std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());
    const std::size_t start = line_starts_[line - 1];
    // Columns count characters, not bytes, so they match what a supervisor's editor shows for
    // Chinese text.
    const auto chars = std::count_if(text_.begin() + static_cast<std::ptrdiff_t>(start),
                                     text_.begin() + static_cast<std::ptrdiff_t>(pos), [](char c) {
                                       return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
                                     });
    return {file_, static_cast<int>(line), static_cast<int>(chars) + 1};
  }

  // Texts such as "[订单{order}]请稍等" read as YAML lists or maps unless quoted: the usual cause
  // of a syntax error in a reply file, so say so when the failing line has one.
  std::string quoting_hint(const YAML::Mark& m) const {
    if (m.is_null() || m.pos < 0) return {};
    const std::size_t pos = std::min(static_cast<std::size_t>(m.pos), text_.size());
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    const std::size_t start = *(it - 1);
    const std::size_t end = std::min(text_.find('\n', start), text_.size());
    const std::string_view line = std::string_view(text_).substr(start, end - start);
    for (std::string_view lead : {": [", ": {", "- [", "- {"}) {
      if (line.find(lead) != std::string_view::npos)
        return " (a text that starts with '[' or '{' must be put in quotes)";
    }
    return {};
  }

  void error_at(const YAML::Mark& m, std::string message) {
    const located l = locate(m);
    errors_.push_back({l.file, l.line, l.column, std::move(message)});
  }

  // Where a node's problem is reported: an empty value (`request:`) has no place of its own, so
  // its key's place is used.
  static const YAML::Node& place(const YAML::Node& key, const YAML::Node& value) {
    return value.IsNull() || !value.IsDefined() ? key : value;
  }

  // The entries of a map whose keys must come from `allowed`; reports unknown and duplicate keys
  // and leaves them out.
  template <std::size_t N>
  entries keys_of(const YAML::Node& map, const std::array<std::string_view, N>& allowed,
                  const std::string& where) {
    entries out;
    for (const auto& kv : map) {
      const YAML::Node& key = kv.first;
      if (!key.IsScalar()) {
        error_at(key.Mark(), "a key in " + where + " must be a plain word");
        continue;
      }
      const std::string& name = key.Scalar();
      if (!contains(allowed, name)) {
        error_at(key.Mark(), "unknown key '" + name + "' in " + where + "; " +
                                 suggestion(allowed, name) + "allowed: " + join(allowed));
        continue;
      }
      const auto dup = std::find_if(out.begin(), out.end(),
                                    [&](const auto& e) { return e.first.Scalar() == name; });
      if (dup != out.end()) {
        const located first = locate(dup->first.Mark());
        error_at(key.Mark(), "duplicate key '" + name + "' in " + where + " (first at line " +
                                 std::to_string(first.line) + ")");
        continue;
      }
      out.emplace_back(key, kv.second);
    }
    return out;
  }

  static const YAML::Node* get(const entries& e, std::string_view name, const YAML::Node** key) {
    for (const auto& kv : e)
      if (kv.first.Scalar() == name) {
        if (key) *key = &kv.first;
        return &kv.second;
      }
    return nullptr;
  }

  // Reports a template problem at the offending character in the file. The character is found by
  // counting its occurrences from where the YAML value starts; the count is the same in the file
  // and in the parsed text for plain, quoted and block texts alike.
  void template_error(const YAML::Node& value, const text_template::error& e,
                      const std::string& where) {
    const YAML::Mark m = value.Mark();
    YAML::Mark at = m;
    if (!m.is_null() && m.pos >= 0) {
      std::size_t pos = static_cast<std::size_t>(m.pos);
      std::size_t n = 0;
      for (; pos < text_.size(); ++pos) {
        if (text_[pos] == e.ch && n++ == e.ordinal) break;
      }
      if (pos < text_.size()) at.pos = static_cast<int>(pos);
    }
    error_at(at, e.message + " in " + where);
  }

  // A required or optional text. Returns nothing (and reports) when it is missing, empty or not
  // a text.
  std::optional<text_template> text(const YAML::Node& key, const YAML::Node& value,
                                    const std::string& where) {
    if (value.IsNull() || !value.IsDefined()) {
      error_at(key.Mark(), where + " is empty");
      return std::nullopt;
    }
    if (!value.IsScalar()) {
      error_at(value.Mark(), where + " must be a text, not a " + (value.IsMap() ? "map" : "list") +
                                 " (a text starting with '[' or '{' must be quoted)");
      return std::nullopt;
    }
    const std::string s = trim(value.Scalar());
    if (s.empty()) {
      error_at(value.Mark(), where + " is empty");
      return std::nullopt;
    }
    std::vector<text_template::error> errs;
    text_template t = text_template::parse(s, errs);
    for (const auto& e : errs) template_error(value, e, where);
    if (!errs.empty()) return std::nullopt;
    return t;
  }

  // A non-empty list of texts.
  std::optional<std::vector<text_template>> text_list(const YAML::Node& key,
                                                      const YAML::Node& value,
                                                      const std::string& where) {
    if (!value.IsSequence() || value.size() == 0) {
      error_at(place(key, value).Mark(),
               where + " must be a list of texts, one per line starting with '- '");
      return std::nullopt;
    }
    std::vector<text_template> out;
    bool ok = true;
    std::size_t i = 0;
    for (const YAML::Node& item : value) {
      auto t = text(item, item, where + " #" + std::to_string(++i));
      if (t)
        out.push_back(std::move(*t));
      else
        ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<reason_spec> parse_reason(const std::string& id, const YAML::Node& key,
                                          const YAML::Node& value) {
    const std::string where = "reason '" + id + "'";
    if (!value.IsMap()) {
      error_at(place(key, value).Mark(),
               where + " must be a map of keys such as apology: and request:");
      return std::nullopt;
    }
    const std::size_t errors_before = errors_.size();
    const entries e = keys_of(value, k_reason_keys, where);
    reason_spec spec;
    spec.id = id;

    const YAML::Node* k = nullptr;
    if (const YAML::Node* v = get(e, "title", &k)) spec.title = text(*k, *v, where + " title");
    if (const YAML::Node* v = get(e, "apology", &k)) {
      if (auto list = text_list(*k, *v, where + " apology")) spec.apology = std::move(*list);
    } else {
      error_at(key.Mark(), where + " has no apology:");
    }
    if (const YAML::Node* v = get(e, "request", &k)) {
      if (auto t = text(*k, *v, where + " request")) spec.request = std::move(*t);
    } else {
      error_at(key.Mark(), where + " has no request:");
    }
    if (const YAML::Node* v = get(e, "evidence", &k)) parse_evidence(*v, where, spec);
    if (const YAML::Node* v = get(e, "quick_replies", &k)) parse_quick_replies(*k, *v, where, spec);
    const std::array<std::pair<std::string_view, std::optional<text_template>*>, 3> texts = {
        std::pair{std::string_view{"follow_up"}, &spec.follow_up},
        std::pair{std::string_view{"reminder"}, &spec.reminder},
        std::pair{std::string_view{"handoff"}, &spec.handoff}};
    for (const auto& [name, slot] : texts) {
      if (const YAML::Node* v = get(e, name, &k)) {
        *slot = text(*k, *v, where + " " + std::string(name));
      } else if (id == k_other) {
        // "other" is the fallback for every reason that leaves these out, so it must have them.
        error_at(key.Mark(), where + " has no " + std::string(name) +
                                 ": (\"other\" must define it: other reasons fall back to it)");
      }
    }
    if (const YAML::Node* v = get(e, "flags", &k)) parse_flags(*k, *v, where, spec);

    if (errors_.size() != errors_before) return std::nullopt;
    return spec;
  }

  void parse_evidence(const YAML::Node& value, const std::string& where, reason_spec& spec) {
    if (value.IsNull()) return;  // `evidence:` with nothing: no checklist
    if (!value.IsSequence()) {
      error_at(value.Mark(),
               where + " evidence must be a list of items, each starting with '- id:'");
      return;
    }
    std::map<std::string, int, std::less<>> ids;  // id -> line
    for (const YAML::Node& item : value) {
      if (!item.IsMap()) {
        error_at(item.Mark(), where + " evidence: each item is a map with id, type, label, why");
        continue;
      }
      const std::string iw = where + " evidence item";
      const entries e = keys_of(item, k_item_keys, iw);
      item_spec out;
      bool ok = true;
      const YAML::Node* k = nullptr;

      if (const YAML::Node* v = get(e, "id", &k)) {
        if (!v->IsScalar() || !is_identifier(v->Scalar())) {
          error_at(place(*k, *v).Mark(),
                   iw + " id must be a word of a-z, 0-9 and _, e.g. damage_photo");
          ok = false;
        } else if (auto it = ids.find(v->Scalar()); it != ids.end()) {
          error_at(v->Mark(), "duplicate evidence item id '" + v->Scalar() + "' in " + where +
                                  " (first at line " + std::to_string(it->second) + ")");
          ok = false;
        } else {
          out.id = v->Scalar();
          ids.emplace(out.id, locate(v->Mark()).line);
        }
      } else {
        error_at(item.Mark(), iw + " has no id:");
        ok = false;
      }
      const std::string named = out.id.empty() ? iw : iw + " '" + out.id + "'";
      if (const YAML::Node* v = get(e, "type", &k)) {
        if (!v->IsScalar() || !contains(k_item_types, v->Scalar())) {
          error_at(place(*k, *v).Mark(),
                   "unknown evidence type '" + (v->IsScalar() ? v->Scalar() : std::string{}) +
                       "' in " + named + "; " +
                       (v->IsScalar() ? suggestion(k_item_types, v->Scalar()) : std::string{}) +
                       "allowed: " + join(k_item_types));
          ok = false;
        } else {
          out.type = v->Scalar();
        }
      } else {
        error_at(item.Mark(), named + " has no type:");
        ok = false;
      }
      for (auto [name, slot] : {std::pair{"label", &out.label}, std::pair{"why", &out.why}}) {
        if (const YAML::Node* v = get(e, name, &k)) {
          if (auto t = text(*k, *v, named + " " + name))
            *slot = std::move(*t);
          else
            ok = false;
        } else {
          error_at(item.Mark(), named + " has no " + name + ":");
          ok = false;
        }
      }
      if (ok) spec.evidence.push_back(std::move(out));
    }
  }

  void parse_quick_replies(const YAML::Node& key, const YAML::Node& value, const std::string& where,
                           reason_spec& spec) {
    if (value.IsNull()) return;
    if (!value.IsSequence()) {
      error_at(place(key, value).Mark(), where + " quick_replies must be a list");
      return;
    }
    const std::string qw = where + " quick reply";
    for (const YAML::Node& item : value) {
      quick_reply_spec out;
      if (item.IsScalar() || item.IsNull()) {
        auto t = text(item, item, qw);
        if (!t) continue;
        out.label = std::move(*t);
      } else if (item.IsMap()) {
        const entries e = keys_of(item, k_quick_reply_keys, qw);
        const YAML::Node* k = nullptr;
        bool ok = true;
        if (const YAML::Node* v = get(e, "label", &k)) {
          auto t = text(*k, *v, qw + " label");
          if (t)
            out.label = std::move(*t);
          else
            ok = false;
        } else {
          error_at(item.Mark(), qw + " has no label:");
          ok = false;
        }
        if (const YAML::Node* v = get(e, "reason", &k)) {
          if (!v->IsScalar() || !contains(intents::k_reasons, v->Scalar())) {
            const std::string r = v->IsScalar() ? v->Scalar() : std::string{};
            error_at(place(*k, *v).Mark(), "unknown reason '" + r + "' in " + qw + "; " +
                                               suggestion(intents::k_reasons, r) +
                                               "known: " + join(intents::k_reasons));
            ok = false;
          } else {
            out.reason = v->Scalar();
          }
        }
        if (!ok) continue;
      } else {
        error_at(item.Mark(), qw + " must be a text or a map with label: and reason:");
        continue;
      }
      spec.quick_replies.push_back(std::move(out));
    }
  }

  void parse_flags(const YAML::Node& key, const YAML::Node& value, const std::string& where,
                   reason_spec& spec) {
    if (value.IsNull()) return;
    if (!value.IsMap()) {
      error_at(place(key, value).Mark(),
               where + " flags must be a map from flag to texts, e.g. 'angry:'");
      return;
    }
    const entries flags = keys_of(value, intents::k_flags, where + " flags");
    for (const auto& [fkey, fvalue] : flags) {
      const std::string fw = where + " flag '" + fkey.Scalar() + "'";
      if (!fvalue.IsMap()) {
        error_at(place(fkey, fvalue).Mark(), fw + " must be a map with apology: and/or handoff:");
        continue;
      }
      const entries e = keys_of(fvalue, k_flag_keys, fw);
      flag_spec out;
      const YAML::Node* k = nullptr;
      if (const YAML::Node* v = get(e, "apology", &k)) {
        if (auto list = text_list(*k, *v, fw + " apology")) out.apology = std::move(*list);
      }
      if (const YAML::Node* v = get(e, "handoff", &k)) out.handoff = text(*k, *v, fw + " handoff");
      spec.flags.emplace(fkey.Scalar(), std::move(out));
    }
  }

  std::string file_;
  std::string text_;
  std::vector<std::size_t> line_starts_{0};
  std::vector<file_error>& errors_;
  std::map<std::string, located, std::less<>>& defined_;
  std::map<std::string, reason_spec, std::less<>>& out_;
};

bool is_reply_file(const std::filesystem::directory_entry& entry) {
  const std::string name = entry.path().filename().string();
  // Hidden files include editors' lock files such as ".#damaged.yaml".
  return entry.is_regular_file() && !name.empty() && name[0] != '.' &&
         entry.path().extension() == ".yaml";
}

}  // namespace

book::book(std::unique_ptr<impl> p, std::string version)
    : impl_(std::move(p)), version_(std::move(version)) {}

book::~book() = default;

book::load_result book::load(const std::filesystem::path& dir) {
  load_result result;
  std::vector<file_error>& errors = result.errors;
  const std::string dir_name = dir.string();

  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    errors.push_back({dir_name, 0, 0, "reply folder not found or not a folder"});
    return result;
  }
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (is_reply_file(*it)) files.push_back(it->path());
  if (ec) {
    errors.push_back({dir_name, 0, 0, "cannot list the reply folder: " + ec.message()});
    return result;
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return a.filename().string() < b.filename().string();
  });

  auto p = std::make_unique<impl>();
  std::map<std::string, located, std::less<>> defined;
  std::string hashed;  // name NUL size NUL content, per file in read order
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.good() && !in.eof()) {
      errors.push_back({path.string(), 0, 0, "cannot read the file"});
      continue;
    }
    const std::string name = path.filename().string();
    hashed += name;
    hashed += '\0';
    hashed += std::to_string(content.size());
    hashed += '\0';
    hashed += content;
    if (content.starts_with("\xEF\xBB\xBF")) content.erase(0, 3);  // a UTF-8 BOM from Notepad
    try {
      file_parser(path.string(), std::move(content), errors, defined, p->reasons).run();
    } catch (const YAML::Exception& e) {
      // The parser reads through yaml-cpp's non-throwing calls; this is a safety net.
      errors.push_back({path.string(), e.mark.is_null() ? 0 : e.mark.line + 1,
                        e.mark.is_null() ? 0 : e.mark.column + 1, e.msg});
    }
  }
  for (std::string_view id : intents::k_reasons) {
    if (!defined.contains(id))
      errors.push_back(
          {dir_name, 0, 0, "no reply for reason '" + std::string(id) + "' in this folder"});
  }
  if (!errors.empty()) return result;
  result.book = std::shared_ptr<const book>(new book(std::move(p), intents::sha256_hex(hashed)));
  return result;
}

namespace {

// Flags in the order their texts take precedence when a message carries several.
constexpr std::array<std::string_view, 4> k_flag_precedence = {"escalation", "wants_human", "angry",
                                                               "risk"};

bool has_flag(const std::vector<std::string>& flags, std::string_view f) {
  return std::find(flags.begin(), flags.end(), f) != flags.end();
}

}  // namespace

std::string book::title(std::string_view reason) const {
  const reason_spec& spec = impl_->find(reason);
  return spec.title ? spec.title->render({}) : spec.id;
}

std::string book::apology(std::string_view reason, std::size_t variant,
                          const std::vector<std::string>& flags, const variables& vars) const {
  const reason_spec& spec = impl_->find(reason);
  const reason_spec& other = impl_->find(k_other);
  for (std::string_view f : k_flag_precedence) {
    if (!has_flag(flags, f)) continue;
    for (const reason_spec* s : {&spec, &other}) {
      auto it = s->flags.find(f);
      if (it != s->flags.end() && !it->second.apology.empty()) {
        return it->second.apology[variant % it->second.apology.size()].render(vars);
      }
    }
  }
  return spec.apology[variant % spec.apology.size()].render(vars);
}

std::string book::request(std::string_view reason, const variables& vars) const {
  return impl_->find(reason).request.render(vars);
}

std::vector<evidence_item> book::checklist(std::string_view reason, const variables& vars) const {
  std::vector<evidence_item> out;
  for (const item_spec& item : impl_->find(reason).evidence)
    out.push_back({item.id, item.type, item.label.render(vars), item.why.render(vars)});
  return out;
}

std::vector<quick_reply_option> book::quick_replies(std::string_view reason,
                                                    const variables& vars) const {
  std::vector<quick_reply_option> out;
  for (const quick_reply_spec& q : impl_->find(reason).quick_replies)
    out.push_back({q.label.render(vars), q.reason});
  return out;
}

std::string book::text(std::string_view reason, text_kind kind,
                       const std::vector<std::string>& flags, const variables& vars) const {
  const reason_spec& spec = impl_->find(reason);
  const reason_spec& other = impl_->find(k_other);
  if (kind == text_kind::handoff) {
    for (std::string_view f : k_flag_precedence) {
      if (!has_flag(flags, f)) continue;
      for (const reason_spec* s : {&spec, &other}) {
        auto it = s->flags.find(f);
        if (it != s->flags.end() && it->second.handoff) return it->second.handoff->render(vars);
      }
    }
  }
  auto pick = [&](const std::optional<text_template> reason_spec::*member) {
    const auto& own = spec.*member;
    return own ? own->render(vars) : (other.*member)->render(vars);
  };
  switch (kind) {
    case text_kind::follow_up:
      return pick(&reason_spec::follow_up);
    case text_kind::reminder:
      return pick(&reason_spec::reminder);
    case text_kind::handoff:
      return pick(&reason_spec::handoff);
  }
  return {};
}

reply book::first_reply(std::string_view reason, std::size_t variant, const variables& vars,
                        const std::vector<std::string>& flags) const {
  reply out;
  const std::string apology_text = apology(reason, variant, flags, vars);
  const std::string request_text = request(reason, vars);
  out.text = apology_text;
  if (!apology_text.empty() && !request_text.empty()) out.text += '\n';
  out.text += request_text;
  out.requests = checklist(reason, vars);
  for (auto& q : quick_replies(reason, vars)) out.quick_replies.push_back(std::move(q.label));
  return out;
}

}  // namespace shouhou::replies
