// Tests for the reply book: the shipped reply files, first_reply(), variable rendering, located
// load errors and the version hash.

#include "replies/book.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "intents/reasons.hpp"

namespace shouhou::replies {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path test_tmp_root() {
  const char* env = std::getenv("SHOUHOU_TEST_TMP");
  return env && *env ? fs::path(env) : fs::temp_directory_path();
}

// A fresh folder of reply files: one minimal, valid file per reason, which a test then changes.
class reply_folder {
 public:
  reply_folder() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = test_tmp_root() / ("replies_" + std::string(info->test_suite_name()) + "_" +
                              info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (std::string_view id : intents::k_reasons) write(std::string(id) + ".yaml", minimal(id));
  }
  ~reply_folder() { fs::remove_all(dir_); }

  static std::string minimal(std::string_view id) {
    std::string s =
        std::string(id) + ":\n  apology:\n    - 抱歉一\n    - 抱歉二\n  request: 请求\n";
    if (id == "other") s += "  follow_up: 还差{missing}\n  reminder: 还在吗\n  handoff: 转人工\n";
    return s;
  }

  void write(const std::string& name, const std::string& content) const {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }
  void remove(const std::string& name) const { fs::remove(dir_ / name); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  const fs::path& path() const { return dir_; }

 private:
  fs::path dir_;
};

std::string describe(const std::vector<file_error>& errors) {
  std::string out;
  for (const auto& e : errors)
    out += e.file + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " +
           e.message + "\n";
  return out;
}

// The one error whose message contains `part`; fails the test if there is not exactly one.
file_error the_error(const std::vector<file_error>& errors, const std::string& part) {
  std::vector<file_error> found;
  for (const auto& e : errors)
    if (e.message.find(part) != std::string::npos) found.push_back(e);
  EXPECT_EQ(found.size(), 1u) << "looking for \"" << part << "\" in:\n" << describe(errors);
  return found.empty() ? file_error{} : found.front();
}

void expect_at(const file_error& e, const std::string& file, int line, int column) {
  EXPECT_EQ(e.file, file) << e.message;
  EXPECT_EQ(e.line, line) << e.message;
  EXPECT_EQ(e.column, column) << e.message;
}

std::shared_ptr<const book> load_ok(const fs::path& dir) {
  auto r = book::load(dir);
  EXPECT_TRUE(r.errors.empty()) << describe(r.errors);
  return r.book;
}

// ---------------------------------------------------------------------------------------------
// The shipped reply files.

TEST(shipped_replies, load_without_errors) {
  auto r = book::load(SHOUHOU_SHIPPED_REPLIES);
  ASSERT_TRUE(r.errors.empty()) << describe(r.errors);
  ASSERT_NE(r.book, nullptr);
  EXPECT_EQ(r.book->version().size(), 64u);
}

TEST(shipped_replies, every_reason_has_a_reply_with_several_apologies) {
  auto b = load_ok(SHOUHOU_SHIPPED_REPLIES);
  ASSERT_NE(b, nullptr);
  const std::set<std::string> serious = {"quality_issue", "not_as_described", "wrong_item",
                                         "missing_item",  "damaged",          "not_received",
                                         "counterfeit"};
  for (std::string_view id : intents::k_reasons) {
    SCOPED_TRACE(std::string(id));
    std::set<std::string> texts;
    for (std::size_t v = 0; v < 6; ++v) {
      const reply r = b->first_reply(id, v, {});
      EXPECT_FALSE(r.text.empty());
      EXPECT_THAT(r.text, HasSubstr("\n")) << "apology, then the request";
      EXPECT_THAT(r.text, ::testing::Not(HasSubstr("{")));
      EXPECT_THAT(r.text, ::testing::Not(HasSubstr("[")));
      texts.insert(r.text);
    }
    EXPECT_GE(texts.size(), serious.contains(std::string(id)) ? 3u : 2u);
  }
}

std::multiset<std::string> types_of(const reply& r) {
  std::multiset<std::string> out;
  for (const auto& item : r.requests) {
    EXPECT_FALSE(item.id.empty());
    EXPECT_FALSE(item.label.empty()) << item.id;
    EXPECT_FALSE(item.why.empty()) << item.id;
    out.insert(item.type);
  }
  return out;
}

TEST(shipped_replies, checklists_ask_for_the_evidence_of_design_section_2) {
  auto b = load_ok(SHOUHOU_SHIPPED_REPLIES);
  ASSERT_NE(b, nullptr);
  auto types = [&](std::string_view id) { return types_of(b->first_reply(id, 0, {})); };
  using set = std::multiset<std::string>;
  EXPECT_EQ(types("quality_issue"), (set{"photo", "order_no"}));
  EXPECT_EQ(types("not_as_described"), (set{"photo", "photo", "text"}));
  EXPECT_EQ(types("wrong_item"), (set{"photo", "photo", "photo"}));
  EXPECT_EQ(types("missing_item"), (set{"photo", "photo"}));
  EXPECT_EQ(types("damaged"), (set{"photo", "photo", "waybill_no", "text"}));
  EXPECT_EQ(types("not_received"), (set{"order_no", "waybill_no", "text"}));
  EXPECT_EQ(types("late_shipment"), (set{"order_no"}));
  EXPECT_EQ(types("counterfeit"), (set{"photo", "photo", "photo", "photo"}));
  EXPECT_EQ(types("mistaken_purchase"), (set{"order_no"}));
  EXPECT_EQ(types("refund_progress"), (set{"order_no"}));
  EXPECT_EQ(types("refund_request"), set{});
  EXPECT_EQ(types("other"), set{});

  // changed_mind explains the 7-day no-reason return.
  EXPECT_THAT(b->first_reply("changed_mind", 0, {}).text, HasSubstr("七天无理由"));
  // refund_request asks for the reason with a button per reason.
  const reply refund = b->first_reply("refund_request", 0, {});
  EXPECT_EQ(refund.quick_replies.size(),
            intents::k_reasons.size() - 2);  // not itself, not progress
  EXPECT_THAT(refund.quick_replies, ::testing::Contains("商品破损"));
}

TEST(shipped_replies, optional_parts_follow_the_variables) {
  auto b = load_ok(SHOUHOU_SHIPPED_REPLIES);
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(b->first_reply("late_shipment", 0, {}).text, ::testing::Not(HasSubstr("发出。")));
  EXPECT_THAT(b->first_reply("late_shipment", 0, {{"ship_date", "6月3日"}}).text,
              HasSubstr("在6月3日前为您发出"));
  EXPECT_THAT(b->first_reply("refund_progress", 0, {{"deadline", "6月12日"}}).text,
              HasSubstr("最晚6月12日前"));
}

TEST(shipped_replies, unknown_reason_gets_the_reply_for_other) {
  auto b = load_ok(SHOUHOU_SHIPPED_REPLIES);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->first_reply("no_such_reason", 1, {}).text, b->first_reply("other", 1, {}).text);
  EXPECT_EQ(b->first_reply("", 0, {}).quick_replies, b->first_reply("other", 0, {}).quick_replies);
}

// ---------------------------------------------------------------------------------------------
// first_reply() on files written by the test.

TEST(first_reply, joins_apology_and_request_and_rotates_apologies) {
  reply_folder f;
  f.write("damaged.yaml",
          "damaged:\n"
          "  apology: [一, 二, 三]\n"
          "  request: 请拍照\n"
          "  evidence:\n"
          "    - {id: damage_photo, type: photo, label: 破损照片, why: 看看破损}\n"
          "    - {id: waybill_no, type: waybill_no, label: 快递单号, why: 找快递}\n"
          "  quick_replies: [已拒收, 未拒收]\n");
  auto b = load_ok(f.path());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->first_reply("damaged", 0, {}).text, "一\n请拍照");
  EXPECT_EQ(b->first_reply("damaged", 1, {}).text, "二\n请拍照");
  EXPECT_EQ(b->first_reply("damaged", 2, {}).text, "三\n请拍照");
  EXPECT_EQ(b->first_reply("damaged", 3, {}).text, "一\n请拍照");
  EXPECT_EQ(b->first_reply("damaged", 3000000002, {}).text, "三\n请拍照");  // % 3 == 2

  const reply r = b->first_reply("damaged", 0, {});
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].id, "damage_photo");
  EXPECT_EQ(r.requests[0].type, "photo");
  EXPECT_EQ(r.requests[0].label, "破损照片");
  EXPECT_EQ(r.requests[0].why, "看看破损");
  EXPECT_EQ(r.requests[1].type, "waybill_no");
  EXPECT_EQ(r.quick_replies, (std::vector<std::string>{"已拒收", "未拒收"}));
}

TEST(first_reply, renders_variables_optional_parts_and_escapes) {
  reply_folder f;
  f.write("damaged.yaml",
          "damaged:\n"
          "  apology:\n"
          "    - '{buyer}亲，抱歉！'\n"
          "  request: 订单{order}[（{shop}）]请在[{deadline}前]补充{missing}。{{x}} [[注]]\n"
          "  evidence:\n"
          "    - id: photo\n"
          "      type: photo\n"
          "      label: '{product}的照片'\n"
          "      why: '[{shop}]需要'\n"
          "  quick_replies: ['[{order}]好的']\n");
  auto b = load_ok(f.path());
  ASSERT_NE(b, nullptr);

  const variables all = {{"buyer", "小王"},    {"order", "123"},    {"shop", "好店"},
                         {"deadline", "明天"}, {"missing", "照片"}, {"product", "杯子"}};
  const reply full = b->first_reply("damaged", 0, all);
  EXPECT_EQ(full.text, "小王亲，抱歉！\n订单123（好店）请在明天前补充照片。{x} [注]");
  EXPECT_EQ(full.requests.at(0).label, "杯子的照片");
  EXPECT_EQ(full.requests.at(0).why, "好店需要");
  EXPECT_EQ(full.quick_replies.at(0), "123好的");

  // No values: a bare variable becomes "", an optional part with any variable unset is left out.
  const reply none = b->first_reply("damaged", 0, {});
  EXPECT_EQ(none.text, "亲，抱歉！\n订单请在补充。{x} [注]");
  EXPECT_EQ(none.requests.at(0).label, "的照片");
  EXPECT_EQ(none.requests.at(0).why, "需要");
  EXPECT_EQ(none.quick_replies.at(0), "好的");

  // An empty value counts as no value.
  const reply empty = b->first_reply("damaged", 0, {{"shop", ""}, {"deadline", "周五"}});
  EXPECT_EQ(empty.text, "亲，抱歉！\n订单请在周五前补充。{x} [注]");
}

TEST(first_reply, block_texts_are_trimmed) {
  reply_folder f;
  f.write("other.yaml",
          "other:\n"
          "  apology:\n"
          "    - |\n"
          "      您好\n"
          "  request: >\n"
          "    有什么\n"
          "    可以帮您\n"
          "  follow_up: 还差{missing}\n"
          "  reminder: 在吗\n"
          "  handoff: 转人工\n");
  auto b = load_ok(f.path());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->first_reply("other", 0, {}).text, "您好\n有什么 可以帮您");
}

// ---------------------------------------------------------------------------------------------
// Loading: folders, files and the version.

TEST(load, reads_only_yaml_files_in_name_order) {
  reply_folder f;
  f.write("README.txt", "not: [a reply file");
  f.write(".#damaged.yaml", "broken: [");
  f.write("damaged.yaml.bak", "broken: [");
  f.remove("damaged.yaml");
  f.remove("wrong_item.yaml");
  f.write("00-goods.yaml", reply_folder::minimal("damaged") + reply_folder::minimal("wrong_item"));
  f.write("only-comments.yaml", "# nothing yet\n");
  auto r = book::load(f.path());
  EXPECT_TRUE(r.errors.empty()) << describe(r.errors);
  EXPECT_NE(r.book, nullptr);
}

TEST(load, missing_folder_is_an_error) {
  const fs::path dir = test_tmp_root() / "replies_no_such_folder";
  auto r = book::load(dir);
  EXPECT_EQ(r.book, nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  expect_at(r.errors[0], dir.string(), 0, 0);
}

TEST(load, version_is_a_content_hash) {
  reply_folder f;
  const std::string v1 = load_ok(f.path())->version();
  EXPECT_EQ(v1.size(), 64u);
  EXPECT_TRUE(std::all_of(v1.begin(), v1.end(),
                          [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  EXPECT_EQ(load_ok(f.path())->version(), v1) << "same files, same version";

  f.write("damaged.yaml", reply_folder::minimal("damaged") + "# a comment changes it too\n");
  const std::string v2 = load_ok(f.path())->version();
  EXPECT_NE(v2, v1);

  f.write("damaged.yaml", reply_folder::minimal("damaged"));
  EXPECT_EQ(load_ok(f.path())->version(), v1);

  // The same content under another file name is another version.
  f.remove("damaged.yaml");
  f.write("damaged2.yaml", reply_folder::minimal("damaged"));
  EXPECT_NE(load_ok(f.path())->version(), v1);
}

// ---------------------------------------------------------------------------------------------
// Located errors. Lines and columns are 1-based; columns count characters, not bytes.

TEST(load_errors, yaml_syntax_error_is_located) {
  reply_folder f;
  f.write("damaged.yaml",
          "damaged:\n"
          "  apology: [一, 二\n"
          "  request: 请求\n");
  auto r = book::load(f.path());
  EXPECT_EQ(r.book, nullptr);
  const file_error e = the_error(r.errors, "YAML syntax");
  EXPECT_EQ(e.file, f.file("damaged.yaml"));
  EXPECT_GE(e.line, 2);
  EXPECT_GT(e.column, 0);
  // The file's reason then has no reply, which is reported against the folder.
  expect_at(the_error(r.errors, "no reply for reason 'damaged'"), f.path().string(), 0, 0);
}

TEST(load_errors, yaml_syntax_error_column_counts_characters) {
  reply_folder f;
  f.write("damaged.yaml", "damaged:\n  request: 请拍照: 好\n");
  auto r = book::load(f.path());
  // yaml-cpp reports the second ':' at byte column 19; the supervisor sees character 15.
  expect_at(the_error(r.errors, "YAML syntax"), f.file("damaged.yaml"), 2, 15);
}

TEST(load_errors, unknown_and_duplicate_reasons) {
  reply_folder f;
  f.write("zz.yaml",
          "damagd:\n"
          "  apology: [一]\n"
          "  request: 请求\n"
          "damaged:\n"
          "  apology: [一]\n"
          "  request: 请求\n");
  auto r = book::load(f.path());
  EXPECT_EQ(r.book, nullptr);
  const file_error unknown = the_error(r.errors, "unknown reason 'damagd'");
  expect_at(unknown, f.file("zz.yaml"), 1, 1);
  EXPECT_THAT(unknown.message, HasSubstr("did you mean 'damaged'"));
  const file_error dup = the_error(r.errors, "reason 'damaged' already has a reply");
  expect_at(dup, f.file("zz.yaml"), 4, 1);
  EXPECT_THAT(dup.message, HasSubstr(f.file("damaged.yaml") + ":1:1"));
  EXPECT_EQ(r.errors.size(), 2u) << describe(r.errors);
}

TEST(load_errors, every_reason_needs_a_reply) {
  reply_folder f;
  f.remove("counterfeit.yaml");
  f.remove("other.yaml");
  auto r = book::load(f.path());
  EXPECT_EQ(r.book, nullptr);
  ASSERT_EQ(r.errors.size(), 2u) << describe(r.errors);
  expect_at(the_error(r.errors, "'counterfeit'"), f.path().string(), 0, 0);
  expect_at(the_error(r.errors, "'other'"), f.path().string(), 0, 0);
}

TEST(load_errors, unknown_keys_are_errors_with_a_suggestion) {
  reply_folder f;
  f.write("damaged.yaml",
          "damaged:\n"
          "  apolgy: [一]\n"
          "  request: 请求\n"
          "  evidence:\n"
          "    - id: a\n"
          "      type: photo\n"
          "      label: 照片\n"
          "      why: 需要\n"
          "      required: true\n"
          "  flags:\n"
          "    angri:\n"
          "      apology: [啊]\n"
          "    angry:\n"
          "      handof: 转\n");
  auto r = book::load(f.path());
  EXPECT_EQ(r.book, nullptr);
  const std::string file = f.file("damaged.yaml");
  const file_error typo = the_error(r.errors, "unknown key 'apolgy'");
  expect_at(typo, file, 2, 3);
  EXPECT_THAT(typo.message, HasSubstr("did you mean 'apology'"));
  expect_at(the_error(r.errors, "has no apology"), file, 1, 1);
  expect_at(the_error(r.errors, "unknown key 'required'"), file, 9, 7);
  expect_at(the_error(r.errors, "unknown key 'angri'"), file, 11, 5);
  expect_at(the_error(r.errors, "unknown key 'handof'"), file, 14, 7);
  EXPECT_EQ(r.errors.size(), 5u) << describe(r.errors);
}

TEST(load_errors, duplicate_keys) {
  reply_folder f;
  f.write("damaged.yaml",
          "damaged:\n"
          "  apology: [一]\n"
          "  request: 请求\n"
          "  request: 又一个请求\n");
  auto r = book::load(f.path());
  const file_error e = the_error(r.errors, "duplicate key 'request'");
  expect_at(e, f.file("damaged.yaml"), 4, 3);
  EXPECT_THAT(e.message, HasSubstr("first at line 3"));
}

TEST(load_errors, checklist_items) {
  reply_folder f;
  f.write("damaged.yaml",
          "damaged:\n"
          "  apology: [一]\n"
          "  request: 请求\n"
          "  evidence:\n"
          "    - id: box\n"
          "      type: picture\n"
          "      label: 箱子\n"
          "      why: 看\n"
          "    - id: photo\n"
          "      type: photo\n"
          "      label: 照片\n"
          "      why: 看\n"
          "    - id: photo\n"
          "      type: video\n"
          "      label: 视频\n"
          "      why: 看\n"
          "    - id: Bad-Id\n"
          "      type: text\n"
          "      label: 文字\n"
          "      why: 看\n"
          "    - id: no_label\n"
          "      type: text\n"
          "      why: 看\n");
  auto r = book::load(f.path());
  EXPECT_EQ(r.book, nullptr);
  const std::string file = f.file("damaged.yaml");
  const file_error type = the_error(r.errors, "unknown evidence type 'picture'");
  expect_at(type, file, 6, 13);
  EXPECT_THAT(type.message, HasSubstr("photo, video, order_no, waybill_no, text"));
  const file_error dup = the_error(r.errors, "duplicate evidence item id 'photo'");
  expect_at(dup, file, 13, 11);
  EXPECT_THAT(dup.message, HasSubstr("first at line 9"));
  expect_at(the_error(r.errors, "id must be a word"), file, 17, 11);
  expect_at(the_error(r.errors, "has no label"), file, 21, 7);
  EXPECT_EQ(r.errors.size(), 4u) << describe(r.errors);
}

TEST(load_errors, wrong_types) {
  reply_folder f;
  f.write("damaged.yaml",
          "damaged:\n"
          "  apology: 只有一句\n"
          "  request:\n"
          "    - 不该是列表\n"
          "  evidence: 照片\n"
          "  quick_replies:\n"
          "    - [a, b]\n"
          "  flags: [angry]\n");
  f.write("wrong_item.yaml", "- wrong_item\n");
  f.write("late_shipment.yaml",
          "late_shipment:\n"
          "  apology: [一]\n"
          "  request: [订单{order}]请稍等\n");  // unquoted: YAML reads a flow list
  auto r = book::load(f.path());
  EXPECT_EQ(r.book, nullptr);
  const std::string file = f.file("damaged.yaml");
  expect_at(the_error(r.errors, "'damaged' apology must be a list"), file, 2, 12);
  expect_at(the_error(r.errors, "'damaged' request must be a text, not a list"), file, 4, 5);
  expect_at(the_error(r.errors, "evidence must be a list"), file, 5, 13);
  expect_at(the_error(r.errors, "quick reply must be a text or a map"), file, 7, 7);
  expect_at(the_error(r.errors, "flags must be a map"), file, 8, 10);
  expect_at(the_error(r.errors, "a reply file is a map"), f.file("wrong_item.yaml"), 1, 1);
  const file_error quoted = the_error(r.errors, "YAML syntax");
  expect_at(quoted, f.file("late_shipment.yaml"), 3, 15);
  EXPECT_THAT(quoted.message, HasSubstr("must be put in quotes"));
}

TEST(load_errors, empty_required_texts) {
  reply_folder f;
  f.write("damaged.yaml",
          "damaged:\n"
          "  apology:\n"
          "    - ''\n"
          "  request:\n"
          "  evidence:\n"
          "    - id: a\n"
          "      type: photo\n"
          "      label: \"  \"\n"
          "      why: 看\n");
  f.write("other.yaml",
          "other:\n"
          "  apology: [一]\n"
          "  request: 请求\n"
          "  follow_up: 还差\n"
          "  reminder: 在吗\n");
  auto r = book::load(f.path());
  EXPECT_EQ(r.book, nullptr);
  const std::string file = f.file("damaged.yaml");
  expect_at(the_error(r.errors, "apology #1 is empty"), file, 3, 7);
  expect_at(the_error(r.errors, "request is empty"), file, 4, 3);
  expect_at(the_error(r.errors, "'a' label is empty"), file, 8, 14);
  expect_at(the_error(r.errors, "'other' has no handoff"), f.file("other.yaml"), 1, 1);
  EXPECT_EQ(r.errors.size(), 4u) << describe(r.errors);
}

TEST(load_errors, template_errors_point_at_the_character) {
  reply_folder f;
  f.write("damaged.yaml",
          "damaged:\n"
          "  apology:\n"
          "    - 亲{buyer}，{{抱歉}} {byer}\n"
          "  request: |\n"
          "    第一行\n"
          "    订单{ordr}\n"
          "  evidence:\n"
          "    - id: a\n"
          "      type: photo\n"
          "      label: \"照片 }\"\n"
          "      why: '[{shop} 需要'\n"
          "  quick_replies:\n"
          "    - 好的]\n"
          "    - '[[a]] [b [c] {order'\n");
  auto r = book::load(f.path());
  EXPECT_EQ(r.book, nullptr);
  const std::string file = f.file("damaged.yaml");
  const file_error byer = the_error(r.errors, "unknown variable {byer}");
  expect_at(byer, file, 3, 23);
  EXPECT_THAT(byer.message, HasSubstr("{buyer}"));  // the list of known ones
  expect_at(the_error(r.errors, "unknown variable {ordr}"), file, 6, 7);
  expect_at(the_error(r.errors, "'}' without a matching '{'"), file, 10, 18);
  expect_at(the_error(r.errors, "'[' is not closed"), file, 11, 13);
  expect_at(the_error(r.errors, "']' without a matching '['"), file, 13, 9);
  expect_at(the_error(r.errors, "parts cannot nest"), file, 14, 17);
  expect_at(the_error(r.errors, "'{' is not closed"), file, 14, 21);
  EXPECT_EQ(r.errors.size(), 7u) << describe(r.errors);
}

TEST(load_errors, quick_reply_reasons_and_flags_are_checked) {
  reply_folder f;
  f.write("refund_request.yaml",
          "refund_request:\n"
          "  apology: [一]\n"
          "  request: 请选择\n"
          "  quick_replies:\n"
          "    - label: 破损\n"
          "      reason: damaged\n"
          "    - label: 坏了\n"
          "      reason: broken\n"
          "    - reason: other\n"
          "  flags:\n"
          "    calm:\n"
          "      apology: [好]\n");
  auto r = book::load(f.path());
  EXPECT_EQ(r.book, nullptr);
  const std::string file = f.file("refund_request.yaml");
  expect_at(the_error(r.errors, "unknown reason 'broken'"), file, 8, 15);
  expect_at(the_error(r.errors, "has no label"), file, 9, 7);
  const file_error flag = the_error(r.errors, "unknown key 'calm'");
  expect_at(flag, file, 11, 5);
  EXPECT_THAT(flag.message, HasSubstr("wants_human, escalation, angry, risk"));
  EXPECT_EQ(r.errors.size(), 3u) << describe(r.errors);
}

TEST(load_errors, errors_in_several_files_are_all_reported) {
  reply_folder f;
  f.write("damaged.yaml", "damaged:\n  apology: [一]\n  request: '{x}'\n");
  f.write("wrong_item.yaml", "wrong_item:\n  apology: [一]\n  request: '{y}'\n");
  f.write("zz.yaml", "bogus: 1\n");
  auto r = book::load(f.path());
  EXPECT_EQ(r.book, nullptr);
  expect_at(the_error(r.errors, "{x}"), f.file("damaged.yaml"), 3, 13);
  expect_at(the_error(r.errors, "{y}"), f.file("wrong_item.yaml"), 3, 13);
  expect_at(the_error(r.errors, "'bogus'"), f.file("zz.yaml"), 1, 1);
  EXPECT_EQ(r.errors.size(), 3u) << describe(r.errors);
}

}  // namespace
}  // namespace shouhou::replies
