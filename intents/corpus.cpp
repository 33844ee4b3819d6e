#include "intents/corpus.hpp"

#include <simdjson.h>

#include <algorithm>
#include <fstream>

#include "intents/reasons.hpp"

namespace shouhou::intents {
namespace {

template <std::size_t N>
std::size_t index_in(const std::array<std::string_view, N>& ids, std::string_view id) {
  return static_cast<std::size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin());
}

}  // namespace

bool read_corpus(const std::filesystem::path& path, std::vector<labelled_message>& out,
                 std::size_t& skipped, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path.string() + ": cannot open the corpus";
    return false;
  }
  simdjson::dom::parser parser;
  std::string raw;
  int number = 0;
  const auto fail = [&](const std::string& what) {
    error = path.string() + ":" + std::to_string(number) + ": " + what;
    return false;
  };
  // An optional string field: false (error set) when present and not a string.
  const auto optional_string = [&](simdjson::dom::object& obj, const char* key,
                                   std::string_view& value) {
    const auto e = obj[key].get_string().get(value);
    if (e == simdjson::NO_SUCH_FIELD) {
      value = {};
      return true;
    }
    return e == simdjson::SUCCESS;
  };
  while (std::getline(in, raw)) {
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (raw.find_first_not_of(" \t") == std::string::npos) continue;
    simdjson::dom::element doc;
    simdjson::dom::object obj;
    if (auto e = parser.parse(raw).get(doc); e) {
      return fail(std::string("bad JSON: ") + simdjson::error_message(e));
    }
    if (auto e = doc.get_object().get(obj); e) return fail("a line must be a JSON object");
    labelled_message l;
    l.file = path.string();
    l.line = number;
    std::string_view text;
    std::string_view intent;
    if (auto e = obj["text"].get_string().get(text); e) {
      return fail(e == simdjson::NO_SUCH_FIELD ? "missing \"text\"" : "\"text\" must be a string");
    }
    l.text = std::string(text);
    if (auto e = obj["intent"].get_string().get(intent); e) {
      return fail(e == simdjson::NO_SUCH_FIELD ? "missing \"intent\""
                                               : "\"intent\" must be a string");
    }
    if (intent == "skip") {
      ++skipped;
      continue;
    }
    if (!is_reason(intent)) return fail("unknown intent '" + std::string(intent) + "'");
    l.intent = index_in(k_reasons, intent);
    simdjson::dom::array flags;
    const auto flags_error = obj["flags"].get_array().get(flags);
    if (flags_error == simdjson::SUCCESS) {
      for (const auto value : flags) {
        std::string_view flag;
        if (value.get_string().get(flag) != simdjson::SUCCESS) {
          return fail("\"flags\" must be a list of strings");
        }
        if (!is_flag(flag)) return fail("unknown flag '" + std::string(flag) + "'");
        l.flags.push_back(index_in(k_flags, flag));
      }
    } else if (flags_error != simdjson::NO_SUCH_FIELD) {
      return fail("\"flags\" must be a list of strings");
    }
    std::string_view value;
    if (!optional_string(obj, "source", value)) return fail("\"source\" must be a string");
    l.source = std::string(value);
    if (!optional_string(obj, "sample", value)) return fail("\"sample\" must be a string");
    l.sample = std::string(value);
    if (!optional_string(obj, "alt", value)) return fail("\"alt\" must be a string");
    // "skip" as the second label: no second reason was defensible after all.
    if (!value.empty() && value != "skip") {
      if (!is_reason(value)) return fail("unknown alt '" + std::string(value) + "'");
      l.alt = index_in(k_reasons, value);
    }
    out.push_back(std::move(l));
  }
  return true;
}

}  // namespace shouhou::intents
