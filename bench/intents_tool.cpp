// A thin command line over intents/commands.hpp, so the figures in bench/README.md can be
// re-run without the server (the same functions `shouhou intents ...` calls):
//   intents_tool check    [--intents DIR]
//   intents_tool classify [--intents DIR] [--json] [TEXT...]
//   intents_tool eval     --corpus FILE.jsonl... [--intents DIR] [--json] [--min-macro-f1 X]
//                         [--cross-validate K [--sealed-fifth SEED]] [training options]
//   intents_tool train    --corpus FILE.jsonl... [--intents DIR] [--out FILE] [training options]
// Training options: --c C --class-balance B --bucket-bits N --min-messages N --max-n N
// --idf 0|1 --rule-value V
// --calibration-folds K --seed S --threads N (intents/training.hpp has their defaults).

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "intents/commands.hpp"

int main(int argc, char** argv) {
  using namespace shouhou::intents;
  if (argc < 2) {
    std::cerr << "usage: intents_tool check|classify|eval|train [--intents DIR] [--json] "
                 "[--corpus FILE]... [--min-macro-f1 X] [--cross-validate K] [TEXT...]\n";
    return 2;
  }
  const std::string command = argv[1];
  eval_request eval;
  eval.intents = SHOUHOU_SHIPPED_INTENTS;
  train_request train;
  std::vector<std::string> texts;
  training_options& t = eval.training;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--json") {
      eval.json = true;
    } else if (a.rfind("--", 0) == 0 && has_value) {
      const std::string v = argv[++i];
      if (a == "--intents")
        eval.intents = v;
      else if (a == "--corpus")
        eval.corpora.emplace_back(v);
      else if (a == "--out")
        train.out = v;
      else if (a == "--min-macro-f1")
        eval.min_macro_f1 = std::stod(v);
      else if (a == "--cross-validate")
        eval.cross_validate = std::stoi(v);
      else if (a == "--sealed-fifth")
        eval.sealed_fifth = static_cast<std::uint32_t>(std::stoul(v));
      else if (a == "--c")
        t.c = std::stod(v);
      else if (a == "--class-balance")
        t.class_balance = std::stod(v);
      else if (a == "--bucket-bits")
        t.bucket_bits = std::stoi(v);
      else if (a == "--min-messages")
        t.min_messages = std::stoi(v);
      else if (a == "--max-n")
        t.max_n = std::stoi(v);
      else if (a == "--rule-value")
        t.rule_value = std::stod(v);
      else if (a == "--idf")
        t.idf = v == "1";
      else if (a == "--calibration-folds")
        t.calibration_folds = std::stoi(v);
      else if (a == "--seed")
        t.seed = static_cast<std::uint32_t>(std::stoul(v));
      else if (a == "--threads")
        t.threads = static_cast<unsigned>(std::stoul(v));
      else {
        std::cerr << "unknown option " << a << "\n";
        return 2;
      }
    } else {
      texts.push_back(a);
    }
  }
  train.corpora = eval.corpora;
  train.intents = eval.intents;
  train.training = eval.training;
  if (command == "check") return check_command(eval.intents, std::cout);
  if (command == "classify") {
    return classify_command(eval.intents, eval.json, texts, std::cin, std::cout, std::cerr);
  }
  if (command == "eval") return eval_command(eval, std::cout, std::cerr);
  if (command == "train") return train_command(train, std::cout, std::cerr);
  std::cerr << "unknown command " << command << "\n";
  return 2;
}
