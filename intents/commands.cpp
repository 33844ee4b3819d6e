#include "intents/commands.hpp"

#include <simdjson.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iomanip>
#include <istream>
#include <ostream>
#include <sstream>

#include "intents/corpus.hpp"
#include "intents/detail/intent_file.hpp"
#include "intents/detail/linear_model.hpp"
#include "intents/engine.hpp"
#include "intents/measures.hpp"
#include "intents/reasons.hpp"
#include "intents/training.hpp"

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
      << " patterns and keywords, " << s.examples << " examples, ";
  if (s.trained_model) {
    out << "trained keyword model (" << s.model_features << " buckets, unsure below "
        << fixed(loaded.engine->unsure_below(), 2) << ")";
  } else {
    out << s.model_features << " keyword-model n-grams";
  }
  out << "; compiled in " << fixed(s.compile_ms, 1) << " ms; version " << loaded.engine->version()
      << "\n";
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

namespace {

// What the engine said of one labelled message.
struct prediction {
  std::size_t reason = 0;
  double confidence = 0;
  bool unsure = false;
  std::vector<std::size_t> flags;
  std::vector<std::string> explanation;
  bool hidden = false;  // in the sealed fifth: counted, never listed
};

prediction predict(const engine& e, const detail::linear_model* model, const std::string& text) {
  const classification c = model ? e.classify_with(text, true, *model) : e.classify(text, true);
  prediction p;
  p.reason = reason_index(c.reason);
  p.confidence = c.confidence;
  p.unsure = c.unsure;
  for (const auto& f : c.flags) p.flags.push_back(flag_index(f));
  p.explanation = c.explanation;
  return p;
}

bool live(const labelled_message& l) { return l.sample != "keyword"; }

// Accuracy, macro-F1 and the answered part of a subset of the lines.
struct summary {
  std::size_t messages = 0;
  double accuracy = 0, macro_f1 = 0;
  double coverage = 0, answered_accuracy = 0;  // of the lines not unsure
  std::array<std::array<std::size_t, k_reasons.size()>, k_reasons.size()> confusion{};
};

template <typename Keep>
summary summarise(const std::vector<labelled_message>& lines, const std::vector<prediction>& got,
                  Keep keep) {
  summary s;
  std::size_t correct = 0, answered = 0, answered_right = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!keep(i)) continue;
    ++s.messages;
    ++s.confusion[lines[i].intent][got[i].reason];
    const bool right = got[i].reason == lines[i].intent;
    correct += right;
    if (!got[i].unsure) {
      ++answered;
      answered_right += right;
    }
  }
  if (s.messages == 0) return s;
  s.accuracy = static_cast<double>(correct) / static_cast<double>(s.messages);
  s.coverage = static_cast<double>(answered) / static_cast<double>(s.messages);
  s.answered_accuracy =
      answered ? static_cast<double>(answered_right) / static_cast<double>(answered) : 0;
  double f1_sum = 0;
  std::size_t f1_count = 0;
  for (std::size_t r = 0; r < k_reasons.size(); ++r) {
    std::size_t support = 0, predicted = 0;
    for (std::size_t k = 0; k < k_reasons.size(); ++k) {
      support += s.confusion[r][k];
      predicted += s.confusion[k][r];
    }
    if (support > 0 || predicted > 0) {
      f1_sum += make_prf(s.confusion[r][r], predicted, support).f1;
      ++f1_count;
    }
  }
  s.macro_f1 = f1_count ? f1_sum / static_cast<double>(f1_count) : 0;
  return s;
}

// The groups every figure is split by: all, the live sample (first + random), each source and
// each sample.
std::vector<std::pair<std::string, std::function<bool(const labelled_message&)>>> groups_of(
    const std::vector<labelled_message>& lines) {
  std::vector<std::pair<std::string, std::function<bool(const labelled_message&)>>> groups;
  groups.emplace_back("all", [](const labelled_message&) { return true; });
  std::vector<std::string> sources, samples;
  for (const auto& l : lines) {
    if (!l.source.empty() && std::find(sources.begin(), sources.end(), l.source) == sources.end())
      sources.push_back(l.source);
    if (!l.sample.empty() && std::find(samples.begin(), samples.end(), l.sample) == samples.end())
      samples.push_back(l.sample);
  }
  std::sort(sources.begin(), sources.end());
  std::sort(samples.begin(), samples.end());
  if (!samples.empty())
    groups.emplace_back("first+random", [](const labelled_message& l) { return live(l); });
  for (const auto& v : sources)
    groups.emplace_back("source=" + v, [v](const labelled_message& l) { return l.source == v; });
  for (const auto& v : samples)
    groups.emplace_back("sample=" + v, [v](const labelled_message& l) { return l.sample == v; });
  return groups;
}

constexpr std::array<double, 9> k_thresholds = {0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95};

// Prints (or puts into `j`) every figure of `got` against `lines`; returns the macro-F1 of all.
double report(const std::vector<labelled_message>& lines, const std::vector<prediction>& got,
              const std::string& heading, bool json_output, json& j, std::ostream& out) {
  constexpr std::size_t R = k_reasons.size();
  constexpr std::size_t F = k_flags.size();
  const auto all = [](std::size_t) { return true; };
  const summary whole = summarise(lines, got, all);
  const auto& confusion = whole.confusion;
  std::array<prf, R> per{};
  for (std::size_t r = 0; r < R; ++r) {
    std::size_t support = 0, predicted = 0;
    for (std::size_t k = 0; k < R; ++k) {
      support += confusion[r][k];
      predicted += confusion[k][r];
    }
    per[r] = make_prf(confusion[r][r], predicted, support);
  }
  std::array<std::size_t, F> flag_true{}, flag_predicted{}, flag_correct{};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    for (std::size_t f = 0; f < F; ++f) {
      const bool truth =
          std::find(lines[i].flags.begin(), lines[i].flags.end(), f) != lines[i].flags.end();
      const bool predicted =
          std::find(got[i].flags.begin(), got[i].flags.end(), f) != got[i].flags.end();
      flag_true[f] += truth;
      flag_predicted[f] += predicted;
      flag_correct[f] += truth && predicted;
    }
  }
  const auto groups = groups_of(lines);
  std::vector<judged> answers;  // of the live lines, or all when the corpus says no sample
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (groups.size() < 2 || live(lines[i])) {
      answers.push_back({got[i].confidence, got[i].reason == lines[i].intent});
    }
  }
  const reliability rel = calibration(answers);

  if (json_output) {
    j["messages"] = lines.size();
    j["accuracy"] = whole.accuracy;
    j["macro_f1"] = whole.macro_f1;
    j["coverage"] = whole.coverage;
    j["answered_accuracy"] = whole.answered_accuracy;
    for (const auto& [name, keep] : groups) {
      const summary g = summarise(lines, got, [&](std::size_t i) { return keep(lines[i]); });
      j["groups"][name] = {{"messages", g.messages},
                           {"accuracy", g.accuracy},
                           {"macro_f1", g.macro_f1},
                           {"coverage", g.coverage},
                           {"answered_accuracy", g.answered_accuracy}};
    }
    for (std::size_t r = 0; r < R; ++r) {
      const std::string id(k_reasons[r]);
      j["per_intent"][id] = {{"precision", per[r].precision},
                             {"recall", per[r].recall},
                             {"f1", per[r].f1},
                             {"support", per[r].support},
                             {"predicted", per[r].predicted}};
      for (std::size_t k = 0; k < R; ++k)
        j["confusion"][id][std::string(k_reasons[k])] = confusion[r][k];
    }
    for (std::size_t f = 0; f < F; ++f) {
      const prf p = make_prf(flag_correct[f], flag_predicted[f], flag_true[f]);
      j["flags"][std::string(k_flags[f])] = {{"precision", p.precision},
                                             {"recall", p.recall},
                                             {"f1", p.f1},
                                             {"support", p.support},
                                             {"predicted", p.predicted}};
    }
    j["coverage_table"] = json::array();
    for (const double t : k_thresholds) {
      const coverage_point c = at_threshold(answers, t);
      j["coverage_table"].push_back(
          {{"threshold", t}, {"coverage", c.coverage}, {"accuracy", c.accuracy}});
    }
    j["calibration"]["ece"] = rel.expected_calibration_error;
    j["calibration"]["bins"] = json::array();
    for (std::size_t b = 0; b < rel.bins.size(); ++b) {
      j["calibration"]["bins"].push_back({{"from", static_cast<double>(b) / 10.0},
                                          {"messages", rel.bins[b].answers},
                                          {"confidence", rel.bins[b].mean_confidence},
                                          {"accuracy", rel.bins[b].accuracy()}});
    }
    j["misclassified"] = json::array();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (got[i].reason == lines[i].intent || got[i].hidden) continue;
      json m = {{"file", lines[i].file},
                {"line", lines[i].line},
                {"text", lines[i].text},
                {"intent", k_reasons[lines[i].intent]},
                {"predicted", k_reasons[got[i].reason]},
                {"confidence", got[i].confidence},
                {"explanation", got[i].explanation}};
      if (lines[i].alt) {
        m["alt"] = k_reasons[*lines[i].alt];
        m["arguable"] = *lines[i].alt == got[i].reason;
      }
      j["misclassified"].push_back(std::move(m));
    }
    return whole.macro_f1;
  }

  out << heading;
  out << "accuracy: " << fixed(whole.accuracy) << "\nmacro-F1: " << fixed(whole.macro_f1) << "\n";
  out << "answered without asking: " << fixed(whole.answered_accuracy) << " right at coverage "
      << fixed(whole.coverage) << "\n\n";
  out << std::left << std::setw(22) << "lines"
      << "messages  accuracy  macro-F1  answered  coverage\n";
  for (const auto& [name, keep] : groups) {
    const summary g = summarise(lines, got, [&](std::size_t i) { return keep(lines[i]); });
    out << std::left << std::setw(22) << name << std::setw(10) << g.messages << std::setw(10)
        << fixed(g.accuracy) << std::setw(10) << fixed(g.macro_f1) << std::setw(10)
        << fixed(g.answered_accuracy) << fixed(g.coverage) << "\n";
  }
  out << "\n"
      << std::left << std::setw(19) << "reason"
      << "precision  recall  F1     support  predicted\n";
  for (std::size_t r = 0; r < R; ++r) {
    out << std::left << std::setw(19) << k_reasons[r] << std::setw(11) << fixed(per[r].precision)
        << std::setw(8) << fixed(per[r].recall) << std::setw(7) << fixed(per[r].f1) << std::setw(9)
        << per[r].support << per[r].predicted << "\n";
  }
  out << "\nconfusion (rows: labelled, columns: predicted, in the order of the rows)\n";
  out << std::setw(22) << "";
  for (std::size_t k = 0; k < R; ++k) out << std::right << std::setw(5) << k + 1;
  out << "\n";
  for (std::size_t r = 0; r < R; ++r) {
    out << std::right << std::setw(2) << r + 1 << " " << std::left << std::setw(19) << k_reasons[r];
    for (std::size_t k = 0; k < R; ++k) out << std::right << std::setw(5) << confusion[r][k];
    out << "\n";
  }
  out << "\n"
      << std::left << std::setw(19) << "flag"
      << "precision  recall  support  predicted\n";
  for (std::size_t f = 0; f < F; ++f) {
    const prf p = make_prf(flag_correct[f], flag_predicted[f], flag_true[f]);
    out << std::left << std::setw(19) << k_flags[f] << std::setw(11) << fixed(p.precision)
        << std::setw(8) << fixed(p.recall) << std::setw(9) << p.support << p.predicted << "\n";
  }
  const std::string which = groups.size() < 2 ? "all lines" : "first+random lines";
  out << "\ncoverage and accuracy at confidence >= threshold (" << which << ")\n"
      << "threshold  coverage  accuracy\n";
  for (const double t : k_thresholds) {
    const coverage_point c = at_threshold(answers, t);
    out << std::left << std::setw(11) << fixed(t, 2) << std::setw(10) << fixed(c.coverage)
        << fixed(c.accuracy) << "\n";
  }
  out << "\ncalibration (" << which << "): expected calibration error "
      << fixed(rel.expected_calibration_error) << "\n"
      << "confidence  messages  mean      accuracy\n";
  for (std::size_t b = 0; b < rel.bins.size(); ++b) {
    const reliability_bin& bin = rel.bins[b];
    out << fixed(static_cast<double>(b) / 10.0, 1) << "-"
        << fixed(static_cast<double>(b + 1) / 10.0, 1) << "     " << std::setw(10) << bin.answers;
    if (bin.answers) out << std::setw(10) << fixed(bin.mean_confidence) << fixed(bin.accuracy());
    out << "\n";
  }
  std::size_t listed = 0, hidden = 0, arguable = 0;
  std::ostringstream misses;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (got[i].reason == lines[i].intent) continue;
    if (got[i].hidden) {
      ++hidden;
      continue;
    }
    ++listed;
    const bool is_arguable = lines[i].alt && *lines[i].alt == got[i].reason;
    arguable += is_arguable;
    misses << "  " << lines[i].file << ":" << lines[i].line << ": labelled "
           << k_reasons[lines[i].intent];
    if (lines[i].alt) misses << " (alt " << k_reasons[*lines[i].alt] << ")";
    misses << ", got " << k_reasons[got[i].reason] << " (" << fixed(got[i].confidence, 2) << ")"
           << (is_arguable ? " arguable" : "") << ": " << lines[i].text << "\n";
    for (const auto& e : got[i].explanation) misses << "      " << e << "\n";
  }
  out << "\nmisclassified: " << listed << " (" << arguable
      << " arguable: the prediction is the line's alt)";
  if (hidden) out << "; " << hidden << " more in the sealed fifth, not listed";
  out << "\n" << misses.str();
  return whole.macro_f1;
}

// Reads every corpus; false with the error printed.
bool read_corpora(const std::vector<std::filesystem::path>& corpora,
                  std::vector<labelled_message>& lines, std::size_t& skipped, std::ostream& err) {
  std::string error;
  for (const auto& c : corpora) {
    if (!read_corpus(c, lines, skipped, error)) {
      err << error << "\n";
      return false;
    }
  }
  if (lines.empty()) {
    err << "no labelled messages in the corpus\n";
    return false;
  }
  return true;
}

std::string names_of(const std::vector<std::filesystem::path>& corpora) {
  std::string s;
  for (const auto& c : corpora) s += (s.empty() ? "" : ", ") + c.filename().string();
  return s;
}

// A model trained on `lines[rows]` and the folder's examples, bound to `e`; null with the error
// printed.
std::optional<detail::linear_model> train_on(const engine& e,
                                             const std::vector<labelled_message>& lines,
                                             const std::vector<std::size_t>& rows,
                                             const std::vector<training_message>& examples,
                                             const training_options& options, std::ostream& err) {
  std::vector<training_message> messages = examples;
  for (const std::size_t i : rows)
    messages.push_back({lines[i].text, lines[i].intent, live(lines[i])});
  const training_result trained = train_model(e, messages, options, "");
  std::string error = trained.error;
  std::optional<detail::linear_model> model;
  if (error.empty()) model = detail::linear_model::read(trained.model, error);
  std::size_t unknown = 0;
  if (model && !model->bind(e.rule_identities(), error, unknown)) model.reset();
  if (!model) err << "training failed: " << error << "\n";
  return model;
}

}  // namespace

int eval_command(const eval_request& request, std::ostream& out, std::ostream& err) {
  std::vector<labelled_message> lines;
  std::size_t skipped = 0;
  if (!read_corpora(request.corpora, lines, skipped, err)) return k_exit_unusable;
  engine_options options;
  options.explain = true;
  options.use_model = request.cross_validate == 0;
  const auto loaded = engine::load(request.intents, options);
  if (!loaded.engine) {
    err << to_string(loaded.errors);
    return k_exit_unusable;
  }
  const engine& e = *loaded.engine;
  std::vector<prediction> got(lines.size());
  std::ostringstream heading;
  heading << "corpus: " << names_of(request.corpora) << " (" << lines.size() << " messages";
  if (skipped) heading << ", " << skipped << " skipped";
  heading << ")\nintents: " << request.intents.string() << " (version " << e.version() << ")\n";
  json j = {{"corpus", names_of(request.corpora)}, {"version", e.version()}, {"skipped", skipped}};
  std::optional<std::pair<std::vector<labelled_message>, std::vector<prediction>>> sealed;

  if (request.cross_validate == 0) {
    heading << "model: "
            << (e.model() ? "the folder's trained model" : "none (rules and naive Bayes)") << "\n";
    for (std::size_t i = 0; i < lines.size(); ++i) got[i] = predict(e, nullptr, lines[i].text);
  } else {
    const int k = request.cross_validate;
    if (k < 2 || static_cast<std::size_t>(k) > lines.size()) {
      err << "--cross-validate needs at least 2 folds and no more than the messages\n";
      return k_exit_unusable;
    }
    std::vector<file_error> errors;
    const std::vector<training_message> examples = folder_examples(request.intents, errors);
    std::vector<std::size_t> labels;
    for (const auto& l : lines) labels.push_back(l.intent);
    const std::vector<int> fold = stratified_folds(labels, k, request.training.seed);
    std::vector<bool> in_sealed(lines.size(), false);
    if (request.sealed_fifth) {
      for (std::size_t i = 0; i < lines.size(); ++i)
        in_sealed[i] = in_sealed_fifth(lines[i].text, *request.sealed_fifth);
    }
    heading << "cross-validated: " << k << " stratified folds (seed " << request.training.seed
            << "); each fold's model is trained on the other folds and the folder's "
            << examples.size() << " examples, as `intents train` would\n";
    for (int f = 0; f < k; ++f) {
      std::vector<std::size_t> rows;
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (fold[i] != f) rows.push_back(i);
      }
      const auto model = train_on(e, lines, rows, examples, request.training, err);
      if (!model) return k_exit_unusable;
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (fold[i] != f) continue;
        got[i] = predict(e, &*model, lines[i].text);
        got[i].hidden = in_sealed[i];
      }
    }
    if (request.sealed_fifth) {
      std::vector<std::size_t> rows;
      sealed.emplace();
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!in_sealed[i]) rows.push_back(i);
      }
      const auto model = train_on(e, lines, rows, examples, request.training, err);
      if (!model) return k_exit_unusable;
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!in_sealed[i]) continue;
        sealed->first.push_back(lines[i]);
        sealed->second.push_back(predict(e, &*model, lines[i].text));
        sealed->second.back().hidden = true;
      }
    }
  }
  const double macro_f1 = report(lines, got, heading.str(), request.json, j, out);
  if (sealed) {
    std::ostringstream h;
    h << "\n== sealed fifth (seed " << *request.sealed_fifth << "): " << sealed->first.size()
      << " messages never read line by line, tested on a model trained on the other four fifths\n";
    json js;
    std::ostringstream sealed_out;
    report(sealed->first, sealed->second, h.str(), request.json, js, sealed_out);
    if (request.json) {
      j["sealed_fifth"] = std::move(js);
    } else {
      // The figures, without the (empty) list of misclassified lines.
      std::string text = sealed_out.str();
      text = text.substr(0, text.find("\nmisclassified:"));
      out << text << "\n";
    }
  }
  if (request.json) out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  if (request.min_macro_f1 && macro_f1 < *request.min_macro_f1) {
    err << "macro-F1 " << fixed(macro_f1) << " is below the required "
        << fixed(*request.min_macro_f1) << "\n";
    return k_exit_failed;
  }
  return k_exit_ok;
}

int train_command(const train_request& request, std::ostream& out, std::ostream& err) {
  std::vector<labelled_message> lines;
  std::size_t skipped = 0;
  if (!read_corpora(request.corpora, lines, skipped, err)) return k_exit_unusable;
  engine_options options;
  options.use_model = false;
  const auto loaded = engine::load(request.intents, options);
  if (!loaded.engine) {
    err << to_string(loaded.errors);
    return k_exit_unusable;
  }
  std::vector<file_error> errors;
  std::vector<training_message> messages = folder_examples(request.intents, errors);
  const std::size_t examples = messages.size();
  for (const auto& l : lines) messages.push_back({l.text, l.intent, live(l)});
  const auto started = std::chrono::steady_clock::now();
  const std::string trained_on = std::to_string(lines.size()) + " corpus messages (" +
                                 names_of(request.corpora) + ") and " + std::to_string(examples) +
                                 " examples of the intent files";
  const training_result trained =
      train_model(*loaded.engine, messages, request.training, trained_on);
  if (!trained.error.empty()) {
    err << "training failed: " << trained.error << "\n";
    return k_exit_unusable;
  }
  const std::filesystem::path target =
      request.out ? *request.out : request.intents / detail::k_model_file;
  // Written beside and renamed, so that a server reloading meanwhile reads the old file or the
  // new one, never half of one.
  const std::filesystem::path partial = target.string() + ".partial";
  {
    std::ofstream file(partial, std::ios::binary | std::ios::trunc);
    file.write(trained.model.data(), static_cast<std::streamsize>(trained.model.size()));
    file.close();
    if (!file) {
      err << partial.string() << ": cannot write the model\n";
      return k_exit_unusable;
    }
  }
  std::error_code ec;
  std::filesystem::rename(partial, target, ec);
  if (ec) {
    err << target.string() << ": cannot write the model: " << ec.message() << "\n";
    return k_exit_unusable;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out << "trained on " << trained_on << " in " << fixed(seconds, 1) << " s\n"
      << "buckets with weights: " << trained.buckets << ", temperature "
      << fixed(trained.temperature) << ", recommended unsure below "
      << fixed(trained.unsure_below, 2) << "\n"
      << "wrote " << target.string() << " (" << trained.model.size() << " bytes)\n";
  return k_exit_ok;
}
}  // namespace shouhou::intents
