// A thin command line over intents/commands.hpp, so the figures in bench/README.md can be
// re-run without the server:
//   intents_tool check    [--intents DIR]
//   intents_tool classify [--intents DIR] [--json] [TEXT...]
//   intents_tool eval     --corpus FILE.jsonl [--intents DIR] [--json] [--min-macro-f1 X]

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "intents/commands.hpp"

int main(int argc, char** argv) {
  using namespace shouhou::intents;
  if (argc < 2) {
    std::cerr << "usage: intents_tool check|classify|eval [--intents DIR] [--json] "
                 "[--corpus FILE] [--min-macro-f1 X] [TEXT...]\n";
    return 2;
  }
  const std::string command = argv[1];
  std::filesystem::path dir = SHOUHOU_SHIPPED_INTENTS;
  std::filesystem::path corpus;
  bool json = false;
  std::optional<double> min_f1;
  std::vector<std::string> texts;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      json = true;
    } else if ((a == "--intents" || a == "--corpus" || a == "--min-macro-f1") && i + 1 < argc) {
      const std::string v = argv[++i];
      if (a == "--intents") dir = v;
      if (a == "--corpus") corpus = v;
      if (a == "--min-macro-f1") min_f1 = std::stod(v);
    } else {
      texts.push_back(a);
    }
  }
  if (command == "check") return check_command(dir, std::cout);
  if (command == "classify") return classify_command(dir, json, texts, std::cin, std::cout, std::cerr);
  if (command == "eval") return eval_command(corpus, dir, json, min_f1, std::cout, std::cerr);
  std::cerr << "unknown command " << command << "\n";
  return 2;
}
