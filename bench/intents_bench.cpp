// Throughput of the intent engine over the dev corpus (one thread), and of its bare rule match
// alone (the phrase index, the anchored checks of the starts it finds and the RE2::Set of the
// rest, when a phrase the set needs occurs), plus load time and memory.
// bench/README.md has the figures and how to re-run.

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "intents/detail/normalize.hpp"
#include "intents/engine.hpp"

namespace {

using shouhou::intents::engine;

// The "text" field of each corpus line; a tiny scanner is enough for this file.
const std::vector<std::string>& corpus() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    std::ifstream in(SHOUHOU_DEV_CORPUS);
    std::string line;
    while (std::getline(in, line)) {
      const auto k = line.find("\"text\": \"");
      if (k == std::string::npos) continue;
      std::string t;
      for (std::size_t i = k + 9; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) ++i;
        t += line[i];
      }
      out.push_back(t);
    }
    return out;
  }();
  return texts;
}

// Loaded and warmed up once (RE2 builds its DFA states lazily on the first messages).
// SHOUHOU_BENCH_INTENTS names another folder, e.g. files with more rules, to see how the engine
// scales.
const engine& shipped() {
  static const auto loaded = [] {
    const char* dir = std::getenv("SHOUHOU_BENCH_INTENTS");
    auto l = engine::load(dir != nullptr ? dir : SHOUHOU_SHIPPED_INTENTS);
    if (!l.engine) {
      std::fprintf(stderr, "intents_bench: %s does not load\n", dir != nullptr ? dir : SHOUHOU_SHIPPED_INTENTS);
      std::exit(2);
    }
    for (const auto& t : corpus()) benchmark::DoNotOptimize(l.engine->classify(t));
    return l;
  }();
  return *loaded.engine;
}

void classify_corpus(benchmark::State& state) {
  const auto& texts = corpus();
  const engine& e = shipped();
  for (auto _ : state) {
    for (const auto& t : texts) benchmark::DoNotOptimize(e.classify(t));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(texts.size()));
}
BENCHMARK(classify_corpus);

void classify_corpus_explained(benchmark::State& state) {
  const auto& texts = corpus();
  const engine& e = shipped();
  for (auto _ : state) {
    for (const auto& t : texts) benchmark::DoNotOptimize(e.classify(t, true));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(texts.size()));
}
BENCHMARK(classify_corpus_explained);

// Named as before the phrase index, when it was the RE2::Set alone, so that runs compare.
void bare_set_match(benchmark::State& state) {
  std::vector<std::string> normalized;
  for (const auto& t : corpus()) normalized.push_back(shouhou::intents::detail::normalize(t));
  const engine& e = shipped();
  for (auto _ : state) {
    for (const auto& t : normalized) benchmark::DoNotOptimize(e.match_only(t));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(normalized.size()));
}
BENCHMARK(bare_set_match);

void normalize_only(benchmark::State& state) {
  const auto& texts = corpus();
  std::string out;
  for (auto _ : state) {
    for (const auto& t : texts) {
      shouhou::intents::detail::normalize_into(t, out);
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(texts.size()));
}
BENCHMARK(normalize_only);

// Loading the shipped files; reports the heap the engine holds (mallinfo2 before and after) and
// how its rules are matched.
void load_shipped(benchmark::State& state) {
  double heap = 0;
  shouhou::intents::engine_stats stats;
  for (auto _ : state) {
    const auto before = mallinfo2().uordblks;
    auto loaded = engine::load(SHOUHOU_SHIPPED_INTENTS);
    const auto after = mallinfo2().uordblks;
    heap = static_cast<double>(after - before);
    benchmark::DoNotOptimize(loaded.engine);
    if (loaded.engine) stats = loaded.engine->stats();
  }
  state.counters["heap_bytes"] = heap;
  // What the rules cost depends on how they are matched: whole in the phrase index (the rest),
  // checked where the index finds their leading phrases (by comparing bytes or, for some, with an
  // anchored regex), or in the set.
  state.counters["rules"] = static_cast<double>(stats.patterns);
  state.counters["checked_rules"] = static_cast<double>(stats.checked_rules);
  state.counters["regex_checked_rules"] = static_cast<double>(stats.regex_checked_rules);
  state.counters["set_rules"] = static_cast<double>(stats.set_rules);
}
BENCHMARK(load_shipped)->Unit(benchmark::kMillisecond);

// The trap the loader keeps out: the same corpus through an RE2::Set holding gap patterns.
void slow_gap_set(benchmark::State& state) {
  RE2::Options o;
  o.set_log_errors(false);
  RE2::Set set(o, RE2::UNANCHORED);
  set.Add("没.{0,8}收到", nullptr);
  set.Add("快递[^,.]*没到", nullptr);
  set.Add("不.{0,6}(好|行|对)", nullptr);
  set.Compile();
  std::vector<std::string> normalized;
  for (const auto& t : corpus()) normalized.push_back(shouhou::intents::detail::normalize(t));
  std::vector<int> hits;
  for (auto _ : state) {
    for (const auto& t : normalized) benchmark::DoNotOptimize(set.Match(t, &hits));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(normalized.size()));
  const auto rejected = engine::load(SHOUHOU_BENCH_DATA "/slow");
  state.counters["loader_rejects"] = rejected.engine ? 0 : 1;
}
BENCHMARK(slow_gap_set);

}  // namespace

BENCHMARK_MAIN();
