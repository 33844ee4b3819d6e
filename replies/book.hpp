#pragma once
// The reply book: what the bot says for each refund reason, read from the reply files
// supervisors edit (see replies/README.md).
//
// Built once from a folder into an immutable object; every const member is safe to call from any
// number of threads at once. A reload builds a new book beside the old one and the caller swaps
// the shared_ptr.

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "intents/file_error.hpp"

namespace shouhou::replies {

using file_error = intents::file_error;

// One thing the bot asks the buyer for.
struct evidence_item {
  std::string id;     // stable within its reason, e.g. "defect_photo"
  std::string type;   // "photo", "video", "order_no", "waybill_no" or "text"
  std::string label;  // what the buyer sees
  std::string why;    // a short reason the buyer sees
};

struct reply {
  std::string text;                        // apology + information request
  std::vector<evidence_item> requests;     // the evidence checklist for the reason
  std::vector<std::string> quick_replies;  // buttons the buyer may tap
};

// A button; tapping it sends `label` as the buyer's message. `reason` is the refund reason the
// tap selects, empty when it selects none.
struct quick_reply_option {
  std::string label;
  std::string reason;
};

// The texts of a conversation after its first answer.
enum class text_kind {
  follow_up,  // says what arrived and what is still {missing}
  reminder,   // after the buyer has been silent
  handoff,    // the conversation goes to a person
};

// Values for the template variables ({order}, {shop}, ...). A variable with no value is left
// out of the text gracefully (see README), never printed as a raw placeholder.
using variables = std::map<std::string, std::string, std::less<>>;

class book {
 public:
  struct load_result {
    std::shared_ptr<const replies::book> book;  // null when `errors` is not empty
    std::vector<file_error> errors;
  };

  // Reads every reply file in `dir`. Every reason id of intents::k_reasons must have a reply.
  // Never throws for bad files: every problem found is returned, located.
  static load_result load(const std::filesystem::path& dir);

  // The first answer to a message of `reason`: an apology (variant number `variant`, taken modulo
  // the number of variants, so callers rotate) and the information request with its checklist.
  // An unknown reason gets the reply for "other".
  // `flags` (intents::k_flags ids) pick the flag variants of the apology, e.g. a fuller one for
  // "angry".
  reply first_reply(std::string_view reason, std::size_t variant, const variables& vars,
                    const std::vector<std::string>& flags = {}) const;

  // The pieces, for callers that compose their own messages. Each falls back as the README
  // says ("Fallbacks"); an unknown reason is treated as "other".
  std::string title(std::string_view reason) const;  // the reason's title, else its id
  std::string apology(std::string_view reason, std::size_t variant,
                      const std::vector<std::string>& flags, const variables& vars) const;
  std::string request(std::string_view reason, const variables& vars) const;
  std::vector<evidence_item> checklist(std::string_view reason, const variables& vars) const;
  std::vector<quick_reply_option> quick_replies(std::string_view reason,
                                                const variables& vars) const;
  std::string text(std::string_view reason, text_kind kind, const std::vector<std::string>& flags,
                   const variables& vars) const;

  // Content hash of the files the book was built from (hex SHA-256).
  const std::string& version() const { return version_; }

  ~book();
  book(const book&) = delete;
  book& operator=(const book&) = delete;

  struct impl;  // public only so the .cpp's helpers can name it

 private:
  book(std::unique_ptr<impl> p, std::string version);
  std::unique_ptr<impl> impl_;
  std::string version_;
};

}  // namespace shouhou::replies
