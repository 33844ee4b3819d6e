#pragma once
// A located problem in a supervisor-edited file (intent, reply or policy file). Loading never
// stops at the first problem: it collects every error so a supervisor can fix them in one pass.

#include <string>
#include <vector>

namespace shouhou::intents {

struct file_error {
  std::string file;  // path as given to the loader
  int line = 0;      // 1-based; 0 when the problem is about the file or folder as a whole
  int column = 0;    // 1-based; 0 when unknown
  std::string message;

  // "file:line:column: message", the form editors and compilers use, so supervisors' editors
  // can jump to it.
  std::string to_string() const;
};

std::string to_string(const std::vector<file_error>& errors);  // one error a line

}  // namespace shouhou::intents
