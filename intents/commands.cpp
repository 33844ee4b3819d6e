#include "intents/commands.hpp"

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <istream>
#include <ostream>
#include <sstream>

#include "intents/engine.hpp"
#include "intents/reasons.hpp"

namespace shouhou::intents {
namespace {

using json = nlohmann::json;

std::string fixed(double v, int digits = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::size_t reason_index(std::string_view id) {
  return static_cast<std::size_t>(std::find(k_reasons.begin(), k_reasons.end(), id) -
                                  k_reasons.begin());
}

std::size_t flag_index(std::string_view id) {
  return static_cast<std::size_t>(std::find(k_flags.begin(), k_flags.end(), id) - k_flags.begin());
}

engine::load_result load_for_commands(const std::filesystem::path& dir) {
  engine_options options;
  options.explain = true;
  return engine::load(dir, options);
}

json to_json(const classification& c, std::string_view text) {
  json j = {{"text", text},
            {"reason", c.reason},
            {"confidence", c.confidence},
            {"unsure", c.unsure},
            {"runner_up", c.runner_up},
            {"runner_up_confidence", c.runner_up_confidence},
            {"flags", c.flags},
            {"explanation", c.explanation}};
  j["candidates"] = json::array();
  for (const auto& cand : c.candidates) {
    j["candidates"].push_back({{"reason", cand.reason}, {"confidence", cand.confidence}});
  }
  j["entities"] = json::array();
  for (const auto& e : c.entities) j["entities"].push_back({{"kind", e.kind}, {"value", e.value}});
  return j;
}

void print_text(const classification& c, std::string_view text, std::ostream& out) {
  out << text << "\n  reason: " << c.reason << " (" << fixed(c.confidence, 2) << ")";
  if (c.unsure) out << " unsure";
  if (!c.runner_up.empty()) {
    out << ", runner-up: " << c.runner_up << " (" << fixed(c.runner_up_confidence, 2) << ")";
  }
  out << "\n";
  if (!c.flags.empty()) {
    out << "  flags:";
    for (const auto& f : c.flags) out << " " << f;
    out << "\n";
  }
  if (!c.entities.empty()) {
    out << "  entities:";
    for (const auto& e : c.entities) out << " " << e.kind << "=" << e.value;
    out << "\n";
  }
  for (const auto& e : c.explanation) out << "  why: " << e << "\n";
}

struct labelled_line {
  int line = 0;
  std::string text;
  std::size_t intent = 0;
  std::vector<std::size_t> flags;
};

// Reads the corpus; on the first bad line returns false with "file:line: what" in `error`.
bool read_corpus(const std::filesystem::path& path, std::vector<labelled_line>& out,
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
    labelled_line l;
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
    l.intent = reason_index(intent);
    simdjson::dom::array flags;
    const auto flags_error = obj["flags"].get_array().get(flags);
    if (flags_error == simdjson::SUCCESS) {
      for (const auto value : flags) {
        std::string_view flag;
        if (value.get_string().get(flag) != simdjson::SUCCESS) {
          return fail("\"flags\" must be a list of strings");
        }
        if (!is_flag(flag)) return fail("unknown flag '" + std::string(flag) + "'");
        l.flags.push_back(flag_index(flag));
      }
    } else if (flags_error != simdjson::NO_SUCH_FIELD) {
      return fail("\"flags\" must be a list of strings");
    }
    out.push_back(std::move(l));
  }
  return true;
}

struct prf {
  double precision = 0, recall = 0, f1 = 0;
  std::size_t support = 0, predicted = 0, correct = 0;
};

prf make_prf(std::size_t correct, std::size_t predicted, std::size_t support) {
  prf r;
  r.correct = correct;
  r.predicted = predicted;
  r.support = support;
  r.precision = predicted ? static_cast<double>(correct) / static_cast<double>(predicted) : 0.0;
  r.recall = support ? static_cast<double>(correct) / static_cast<double>(support) : 0.0;
  r.f1 = r.precision + r.recall > 0 ? 2 * r.precision * r.recall / (r.precision + r.recall) : 0.0;
  return r;
}

}  // namespace

int check_command(const std::filesystem::path& dir, std::ostream& out) {
  const auto loaded = engine::load(dir);
  if (!loaded.engine) {
    out << to_string(loaded.errors);
    out << loaded.errors.size() << (loaded.errors.size() == 1 ? " error\n" : " errors\n");
    return k_exit_failed;
  }
  const engine_stats& s = loaded.engine->stats();
  out << "ok: " << s.files << " files, " << s.example_files << " example files, " << s.patterns
      << " patterns and keywords, " << s.examples << " examples, " << s.model_features
      << " keyword-model n-grams; compiled in "
      << fixed(s.compile_ms, 1) << " ms; version " << loaded.engine->version() << "\n";
  return k_exit_ok;
}

int classify_command(const std::filesystem::path& dir, bool json_output,
                     const std::vector<std::string>& texts, std::istream& in, std::ostream& out,
                     std::ostream& err) {
  const auto loaded = load_for_commands(dir);
  if (!loaded.engine) {
    err << to_string(loaded.errors);
    return k_exit_unusable;
  }
  const auto one = [&](const std::string& text) {
    const classification c = loaded.engine->classify(text, true);
    if (json_output) {
      out << to_json(c, text).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      print_text(c, text, out);
    }
  };
  if (!texts.empty()) {
    for (const auto& t : texts) one(t);
  } else {
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      one(line);
    }
  }
  return k_exit_ok;
}

int eval_command(const std::filesystem::path& corpus, const std::filesystem::path& dir,
                 bool json_output, std::optional<double> min_macro_f1, std::ostream& out,
                 std::ostream& err) {
  std::vector<labelled_line> lines;
  std::size_t skipped = 0;
  std::string error;
  if (!read_corpus(corpus, lines, skipped, error)) {
    err << error << "\n";
    return k_exit_unusable;
  }
  if (lines.empty()) {
    err << corpus.string() << ": no labelled messages\n";
    return k_exit_unusable;
  }
  const auto loaded = load_for_commands(dir);
  if (!loaded.engine) {
    err << to_string(loaded.errors);
    return k_exit_unusable;
  }
  constexpr std::size_t R = k_reasons.size();
  constexpr std::size_t F = k_flags.size();
  std::array<std::array<std::size_t, R>, R> confusion{};
  std::array<std::size_t, F> flag_true{}, flag_predicted{}, flag_correct{};
  std::size_t correct = 0;
  json misclassified = json::array();
  std::ostringstream misses;
  for (const auto& l : lines) {
    const classification c = loaded.engine->classify(l.text, true);
    const std::size_t got = reason_index(c.reason);
    ++confusion[l.intent][got];
    if (got == l.intent) {
      ++correct;
    } else {
      if (json_output) {
        misclassified.push_back({{"line", l.line},
                                 {"text", l.text},
                                 {"intent", k_reasons[l.intent]},
                                 {"predicted", c.reason},
                                 {"confidence", c.confidence},
                                 {"explanation", c.explanation}});
      } else {
        misses << "  line " << l.line << ": labelled " << k_reasons[l.intent] << ", got "
               << c.reason << " (" << fixed(c.confidence, 2) << "): " << l.text << "\n";
        for (const auto& e : c.explanation) misses << "      " << e << "\n";
      }
    }
    for (std::size_t f = 0; f < F; ++f) {
      const bool truth = std::find(l.flags.begin(), l.flags.end(), f) != l.flags.end();
      const bool predicted =
          std::find(c.flags.begin(), c.flags.end(), std::string(k_flags[f])) != c.flags.end();
      flag_true[f] += truth;
      flag_predicted[f] += predicted;
      flag_correct[f] += truth && predicted;
    }
  }
  std::array<prf, R> per{};
  double f1_sum = 0;
  std::size_t f1_count = 0;
  for (std::size_t r = 0; r < R; ++r) {
    std::size_t support = 0;
    std::size_t predicted = 0;
    for (std::size_t k = 0; k < R; ++k) {
      support += confusion[r][k];
      predicted += confusion[k][r];
    }
    per[r] = make_prf(confusion[r][r], predicted, support);
    if (support > 0 || predicted > 0) {
      f1_sum += per[r].f1;
      ++f1_count;
    }
  }
  const double accuracy = static_cast<double>(correct) / static_cast<double>(lines.size());
  const double macro_f1 = f1_count ? f1_sum / static_cast<double>(f1_count) : 0.0;

  if (json_output) {
    json j = {{"corpus", corpus.string()},
              {"version", loaded.engine->version()},
              {"messages", lines.size()},
              {"skipped", skipped},
              {"accuracy", accuracy},
              {"macro_f1", macro_f1}};
    for (std::size_t r = 0; r < R; ++r) {
      const std::string id(k_reasons[r]);
      j["per_intent"][id] = {{"precision", per[r].precision}, {"recall", per[r].recall},
                             {"f1", per[r].f1},               {"support", per[r].support},
                             {"predicted", per[r].predicted}};
      for (std::size_t k = 0; k < R; ++k) j["confusion"][id][std::string(k_reasons[k])] = confusion[r][k];
    }
    for (std::size_t f = 0; f < F; ++f) {
      const prf p = make_prf(flag_correct[f], flag_predicted[f], flag_true[f]);
      j["flags"][std::string(k_flags[f])] = {{"precision", p.precision},
                                             {"recall", p.recall},
                                             {"f1", p.f1},
                                             {"support", p.support},
                                             {"predicted", p.predicted}};
    }
    j["misclassified"] = std::move(misclassified);
    out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    out << "corpus: " << corpus.string() << " (" << lines.size() << " messages";
    if (skipped) out << ", " << skipped << " skipped";
    out << ")\nintents: " << dir.string() << " (version " << loaded.engine->version() << ")\n";
    out << "accuracy: " << fixed(accuracy) << "\nmacro-F1: " << fixed(macro_f1) << "\n\n";
    out << std::left << std::setw(19) << "reason" << "precision  recall  F1     support  predicted\n";
    for (std::size_t r = 0; r < R; ++r) {
      out << std::left << std::setw(19) << k_reasons[r] << std::setw(11) << fixed(per[r].precision)
          << std::setw(8) << fixed(per[r].recall) << std::setw(7) << fixed(per[r].f1)
          << std::setw(9) << per[r].support << per[r].predicted << "\n";
    }
    out << "\nconfusion (rows: labelled, columns: predicted, in the order of the rows)\n";
    out << std::setw(22) << "";
    for (std::size_t k = 0; k < R; ++k) out << std::right << std::setw(4) << k + 1;
    out << "\n";
    for (std::size_t r = 0; r < R; ++r) {
      out << std::right << std::setw(2) << r + 1 << " " << std::left << std::setw(19)
          << k_reasons[r];
      for (std::size_t k = 0; k < R; ++k) out << std::right << std::setw(4) << confusion[r][k];
      out << "\n";
    }
    out << "\n" << std::left << std::setw(19) << "flag" << "precision  recall  support  predicted\n";
    for (std::size_t f = 0; f < F; ++f) {
      const prf p = make_prf(flag_correct[f], flag_predicted[f], flag_true[f]);
      out << std::left << std::setw(19) << k_flags[f] << std::setw(11) << fixed(p.precision)
          << std::setw(8) << fixed(p.recall) << std::setw(9) << p.support << p.predicted << "\n";
    }
    out << "\nmisclassified: " << lines.size() - correct << "\n" << misses.str();
  }
  if (min_macro_f1 && macro_f1 < *min_macro_f1) {
    err << "macro-F1 " << fixed(macro_f1) << " is below the required " << fixed(*min_macro_f1)
        << "\n";
    return k_exit_failed;
  }
  return k_exit_ok;
}

}  // namespace shouhou::intents
