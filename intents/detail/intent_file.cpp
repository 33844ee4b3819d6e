#include "intents/detail/intent_file.hpp"

#include <openssl/evp.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>

#include "intents/detail/normalize.hpp"
#include "intents/reasons.hpp"

namespace shouhou::intents::detail {
namespace {

constexpr double k_max_weight = 100.0;

// yaml-cpp counts columns in bytes; people and editors count characters (汉字 are 3 bytes).
int character_column(std::string_view text, const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return 0;
  std::size_t start = 0;
  for (int l = 0; l < mark.line; ++l) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return mark.column + 1;
    start = nl + 1;
  }
  const std::string_view prefix = text.substr(start, static_cast<std::size_t>(mark.column));
  int chars = 0;
  for (const char c : prefix) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return chars + 1;
}

class reader {
 public:
  reader(const std::string& file, const std::string& text, intent_files& out,
         std::vector<file_error>& errors)
      : file_(file), text_(text), out_(out), errors_(errors) {}

  void read_document(const YAML::Node& doc) {
    if (!doc.IsMap()) {
      error(doc, "a document must be a mapping that starts with `reason:` or `flag:`");
      return;
    }
    // Unknown keys are reported and the known ones still read, so one pass finds more errors.
    check_keys(doc, {"reason", "flag", "description", "threshold", "fallback", "patterns",
                     "keywords", "examples", "negative"});
    const YAML::Node reason = doc["reason"];
    const YAML::Node flag = doc["flag"];
    if (reason && flag) {
      error(flag, "a document is either a `reason:` or a `flag:`, not both");
      return;
    }
    if (!reason && !flag) {
      error(doc, "missing `reason:` (or `flag:`) naming what this document is about");
      return;
    }
    block b;
    b.is_flag = static_cast<bool>(flag);
    const YAML::Node id_node = b.is_flag ? flag : reason;
    if (!scalar(id_node, b.is_flag ? "flag" : "reason", b.id)) return;
    if (b.is_flag ? !is_flag(b.id) : !is_reason(b.id)) {
      error(id_node, b.is_flag ? "unknown flag '" + b.id + "' (known: " + known(k_flags) + ")"
                               : "unknown reason '" + b.id + "' (known: " + known(k_reasons) + ")");
      return;
    }
    for (const auto& other : out_.blocks) {
      if (other.id == b.id && other.is_flag == b.is_flag) {
        error(id_node, std::string(b.is_flag ? "flag" : "reason") + " '" + b.id +
                           "' is already defined at " + other.file + ":" +
                           std::to_string(other.line));
        return;
      }
    }
    b.file = file_;
    b.line = line_of(id_node);

    if (const YAML::Node d = doc["description"]) {
      std::string ignored;
      scalar(d, "description", ignored);
    }
    if (const YAML::Node t = doc["threshold"]) {
      if (!b.is_flag) {
        error(t, "`threshold` is only for flags");
      } else {
        number(t, "threshold", b.threshold);
      }
    }
    if (const YAML::Node f = doc["fallback"]) {
      if (b.is_flag) {
        error(f, "`fallback` is only for reasons");
      } else if (b.id == "other") {
        error(f, "`other` cannot be a fallback: it is what is left when nothing is stated");
      } else {
        boolean(f, "fallback", b.fallback);
      }
    }
    const std::size_t first_rule = out_.rules.size();
    const std::size_t errors_before = errors_.size();
    read_rules(doc["patterns"], rule_kind::pattern, b.id);
    read_rules(doc["keywords"], rule_kind::keyword, b.id);
    read_rules(doc["negative"], rule_kind::negative, b.id);
    if (const YAML::Node ex = doc["examples"]) {
      if (list(ex, "examples")) {
        for (const auto& e : ex) {
          std::string s;
          if (scalar(e, "an example", s)) b.examples.push_back(std::move(s));
        }
      }
    }
    const bool any_positive =
        std::any_of(out_.rules.begin() + static_cast<std::ptrdiff_t>(first_rule), out_.rules.end(),
                    [](const rule& r) { return r.kind != rule_kind::negative; });
    if (!any_positive && errors_.size() == errors_before) {
      error(id_node, "'" + b.id + "' needs `patterns:` or `keywords:`");
    }
    out_.blocks.push_back(std::move(b));
  }

 private:
  template <typename Array>
  static std::string known(const Array& ids) {
    std::string s;
    for (const auto id : ids) {
      if (!s.empty()) s += ", ";
      s += id;
    }
    return s;
  }

  static int line_of(const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    return m.line >= 0 ? m.line + 1 : 0;
  }
  int column_of(const YAML::Node& n) const { return character_column(text_, n.Mark()); }

  void error(const YAML::Node& at, std::string message) {
    errors_.push_back(file_error{file_, line_of(at), column_of(at), std::move(message)});
  }

  // Reports keys not in `allowed`, and keys given twice (YAML itself lets that pass).
  bool check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed) {
    bool ok = true;
    std::set<std::string> seen;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) {
        error(kv.first, "a key must be a plain word");
        ok = false;
        continue;
      }
      const std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (const auto a : allowed) {
          if (!list.empty()) list += ", ";
          list += a;
        }
        error(kv.first, "unknown key '" + key + "' (allowed here: " + list + ")");
        ok = false;
      }
      if (!seen.insert(key).second) {
        error(kv.first, "key '" + key + "' appears twice");
        ok = false;
      }
    }
    return ok;
  }

  bool scalar(const YAML::Node& n, std::string_view what, std::string& out) {
    if (!n.IsScalar()) {
      error(n, std::string(what) + " must be a single text value");
      return false;
    }
    out = n.Scalar();
    return true;
  }

  bool list(const YAML::Node& n, std::string_view what) {
    if (!n.IsSequence()) {
      error(n, "`" + std::string(what) + "` must be a list (lines starting with '- ')");
      return false;
    }
    return true;
  }

  bool number(const YAML::Node& n, std::string_view what, double& out) {
    double v = 0;
    try {
      if (!n.IsScalar()) throw YAML::BadConversion(n.Mark());
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      error(n, "`" + std::string(what) + "` must be a number");
      return false;
    }
    if (!std::isfinite(v) || v <= 0 || v > k_max_weight) {
      error(n, "`" + std::string(what) + "` must be above 0 and at most 100");
      return false;
    }
    out = v;
    return true;
  }

  bool boolean(const YAML::Node& n, std::string_view what, bool& out) {
    try {
      if (!n.IsScalar()) throw YAML::BadConversion(n.Mark());
      out = n.as<bool>();
    } catch (const YAML::Exception&) {
      error(n, "`" + std::string(what) + "` must be true or false");
      return false;
    }
    return true;
  }

  void read_rules(const YAML::Node& seq, rule_kind kind, const std::string& target) {
    if (!seq) return;
    const char* key = kind == rule_kind::pattern   ? "patterns"
                      : kind == rule_kind::keyword ? "keywords"
                                                   : "negative";
    if (!list(seq, key)) return;
    for (const auto& item : seq) read_rule(item, kind, target);
  }

  void read_rule(const YAML::Node& item, rule_kind kind, const std::string& target) {
    rule r;
    r.kind = kind;
    r.target = target;
    r.file = file_;
    bool literal = kind == rule_kind::keyword;
    // Node::operator= would write into the node it refers to; reset() rebinds it.
    YAML::Node text_node;
    text_node.reset(item);
    if (item.IsMap()) {
      switch (kind) {
        case rule_kind::pattern:
          check_keys(item, {"re", "weight"});
          break;
        case rule_kind::keyword:
          check_keys(item, {"text", "weight"});
          break;
        case rule_kind::negative:
          check_keys(item, {"re", "text", "weight", "veto"});
          break;
      }
      const YAML::Node re = item["re"];
      const YAML::Node text = item["text"];
      if (re && text) {
        error(item, "give either `re:` (a pattern) or `text:` (a literal), not both");
        return;
      }
      if (kind == rule_kind::pattern && !re) {
        error(item, "missing `re:` (the pattern)");
        return;
      }
      if (kind == rule_kind::keyword && !text) {
        error(item, "missing `text:` (the keyword)");
        return;
      }
      if (kind == rule_kind::negative && !re && !text) {
        error(item, "missing `re:` or `text:` (the cue)");
        return;
      }
      text_node.reset(re ? re : text);
      literal = static_cast<bool>(text);
      if (const YAML::Node w = item["weight"]) {
        if (!number(w, "weight", r.weight)) return;
      }
      if (const YAML::Node v = item["veto"]) {
        if (!boolean(v, "veto", r.veto)) return;
      }
    } else if (!item.IsScalar()) {
      error(item, "each entry is a text, or a mapping such as {re: \"...\", weight: 2}");
      return;
    }
    if (!scalar(text_node, literal ? "a keyword" : "a pattern", r.text)) return;
    r.line = line_of(text_node);
    r.column = column_of(text_node);
    if (r.text.empty()) {
      error(text_node, literal ? "empty keyword" : "empty pattern");
      return;
    }
    if (literal) {
      r.text = normalize(r.text);
      r.regex = RE2::QuoteMeta(r.text);
    } else {
      if (const std::string problem = pattern_problem(r.text); !problem.empty()) {
        error(text_node, problem);
        return;
      }
      r.regex = r.text;
    }
    out_.rules.push_back(std::move(r));
  }

  const std::string& file_;
  const std::string& text_;
  intent_files& out_;
  std::vector<file_error>& errors_;
};

class sha256 {
 public:
  sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void update(std::string_view s) { EVP_DigestUpdate(ctx_.get(), s.data(), s.size()); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &len);
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
      out += k_hex[digest[i] >> 4];
      out += k_hex[digest[i] & 0xF];
    }
    return out;
  }

 private:
  struct deleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, deleter> ctx_;
};

}  // namespace

void read_intent_text(const std::string& file, const std::string& text, intent_files& out,
                      std::vector<file_error>& errors) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    errors.push_back(
        file_error{file, line, character_column(text, e.mark), "YAML syntax error: " + e.msg});
    return;
  }
  reader r(file, text, out, errors);
  bool any = false;
  for (const auto& doc : docs) {
    if (doc.IsNull()) continue;  // an empty document, e.g. a trailing `---`
    any = true;
    try {
      r.read_document(doc);
    } catch (const YAML::Exception& e) {  // not expected; never let one escape the loader
      const int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
      errors.push_back(file_error{file, line, character_column(text, e.mark), e.msg});
    }
  }
  if (!any) errors.push_back(file_error{file, 0, 0, "the file defines no reason or flag"});
}

read_result read_intent_folder(const std::filesystem::path& dir) {
  read_result result;
  const std::string dir_name = dir.string();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    result.errors.push_back(file_error{dir_name, 0, 0, "not a folder of intent files"});
    return result;
  }
  std::vector<std::filesystem::path> paths;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto ext = it->path().extension();
    if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) paths.push_back(it->path());
  }
  if (ec) {
    result.errors.push_back(file_error{dir_name, 0, 0, "cannot list the folder: " + ec.message()});
    return result;
  }
  if (paths.empty()) {
    result.errors.push_back(file_error{dir_name, 0, 0, "no intent files (*.yaml) in the folder"});
    return result;
  }
  std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) {
    return a.filename().string() < b.filename().string();
  });
  sha256 hash;
  for (const auto& path : paths) {
    const std::string file = path.string();
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in) {
      result.errors.push_back(file_error{file, 0, 0, "cannot read the file"});
      continue;
    }
    const std::string text = content.str();
    const std::string name = path.filename().string();
    hash.update(name);
    hash.update(std::string_view("\0", 1));
    hash.update(text);
    hash.update(std::string_view("\0", 1));
    result.data.files.push_back(file);
    read_intent_text(file, text, result.data, result.errors);
  }
  // Training messages: examples/<reason>.txt, one message a line.
  const std::filesystem::path examples_dir = dir / "examples";
  if (std::filesystem::is_directory(examples_dir, ec)) {
    std::vector<std::filesystem::path> texts;
    for (std::filesystem::directory_iterator it(examples_dir, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file(ec)) texts.push_back(it->path());
    }
    if (ec) {
      result.errors.push_back(file_error{examples_dir.string(), 0, 0,
                                         "cannot list the folder: " + ec.message()});
    }
    std::sort(texts.begin(), texts.end(), [](const auto& a, const auto& b) {
      return a.filename().string() < b.filename().string();
    });
    for (const auto& path : texts) {
      const std::string file = path.string();
      const std::string name = path.filename().string();
      if (path.extension() != ".txt") {
        result.errors.push_back(file_error{
            file, 0, 0, "only <reason>.txt files belong in examples/ (one message a line)"});
        continue;
      }
      const std::string reason = path.stem().string();
      if (std::find(k_reasons.begin(), k_reasons.end(), reason) == k_reasons.end()) {
        result.errors.push_back(file_error{
            file, 0, 0, "'" + reason + "' is not a reason id: name the file <reason>.txt"});
        continue;
      }
      std::ifstream in(path, std::ios::binary);
      std::ostringstream content;
      content << in.rdbuf();
      if (!in) {
        result.errors.push_back(file_error{file, 0, 0, "cannot read the file"});
        continue;
      }
      const std::string text = content.str();
      hash.update("examples/" + name);
      hash.update(std::string_view("\0", 1));
      hash.update(text);
      hash.update(std::string_view("\0", 1));
      result.data.example_files.push_back(file);
      read_examples_text(file, reason, text, result.data, result.errors);
    }
  }
  const auto model_path = dir / k_model_file;
  if (std::filesystem::exists(model_path, ec)) {
    std::ifstream in(model_path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    result.data.model_file = model_path.string();
    if (!in) {
      result.errors.push_back(file_error{result.data.model_file, 0, 0, "cannot read the file"});
    } else {
      result.data.model_bytes = content.str();
      hash.update(k_model_file);
      hash.update(std::string_view("\0", 1));
      hash.update(result.data.model_bytes);
      hash.update(std::string_view("\0", 1));
    }
  }
  result.data.version = hash.hex();
  return result;
}

void read_examples_text(const std::string& file, const std::string& reason,
                        const std::string& text, intent_files& out,
                        std::vector<file_error>& errors) {
  constexpr std::size_t k_max_example_bytes = 2000;
  int line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + start, nl - start);
    start = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.size() > k_max_example_bytes) {
      errors.push_back(file_error{file, line_no, 1, "an example longer than 2000 bytes"});
      continue;
    }
    // Invalid UTF-8 is reported: a wrongly encoded file would teach the model nonsense.
    bool valid = true;
    for (std::size_t i = 0; i < line.size() && valid;) {
      const auto b = static_cast<unsigned char>(line[i]);
      const std::size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
      if (len == 0 || i + len > line.size()) {
        valid = false;
        break;
      }
      for (std::size_t k = 1; k < len; ++k) {
        if ((static_cast<unsigned char>(line[i + k]) & 0xC0) != 0x80) valid = false;
      }
      i += len;
    }
    if (!valid) {
      errors.push_back(file_error{file, line_no, 1, "not UTF-8 text"});
      continue;
    }
    out.training.push_back(training_example{reason, std::string(line)});
  }
}

}  // namespace shouhou::intents::detail
