// The shouhou executable: parses the command line and runs one command. No logic lives here.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "bot/app/commands.hpp"
#include "connectors/chat_client.hpp"
#include "intents/commands.hpp"

int main(int argc, char** argv) {
  using namespace shouhou;
  // Logs go to standard error; standard output carries only what a command prints for callers.
  spdlog::set_default_logger(spdlog::stderr_color_mt("shouhou"));

  CLI::App app{"shouhou: the after-sales chat bot for online shops"};
  app.require_subcommand(1);
  app.fallthrough();  // --log-level and --config may also follow the subcommand
  app.set_config("--config", "", "Read settings from this TOML file (keys as the long flags)");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();

  bot::server_config config;
  auto* serve = app.add_subcommand("serve", "Start the bot server");
  serve->add_option("--listen", config.listen, "HOST:PORT to listen on; port 0 picks a free one")
      ->capture_default_str();
  serve->add_option("--data", config.data_dir, "Folder for the SQLite file and evidence")
      ->capture_default_str();
  serve->add_option("--intents", config.intents_dir, "Folder of intent files")
      ->capture_default_str();
  serve->add_option("--replies", config.replies_dir, "Folder of reply files")
      ->capture_default_str();
  serve->add_option("--policy", config.policy_file, "Policy file (deadlines, resolutions)")
      ->capture_default_str();
  serve->add_option("--threads", config.threads, "Network threads; 0 means one per core")
      ->capture_default_str();
  serve
      ->add_option("--max-frame-bytes", config.max_frame_bytes,
                   "Largest WebSocket message accepted (larger ones close with 1009)")
      ->capture_default_str();
  serve->add_option("--max-text-chars", config.max_text_chars, "Longest buyer message text")
      ->capture_default_str();
  serve
      ->add_option("--write-queue-frames", config.write_queue_max_frames,
                   "Unsent frames a connection may hold before it is closed")
      ->capture_default_str();
  serve
      ->add_option("--write-queue-bytes", config.write_queue_max_bytes,
                   "Unsent bytes a connection may hold before it is closed")
      ->capture_default_str();
  long idle_seconds = config.idle_timeout.count();
  serve
      ->add_option("--idle-timeout", idle_seconds,
                   "Seconds without any data from a client (pings are sent) before closing")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  long handshake_seconds = config.handshake_timeout.count();
  serve
      ->add_option("--handshake-timeout", handshake_seconds,
                   "Seconds allowed for the HTTP request and WebSocket upgrade")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--history-limit", config.history_limit,
                   "Earlier messages replayed when a conversation resumes")
      ->capture_default_str();
  long reminder_seconds = config.reminder_after.count();
  serve
      ->add_option("--reminder-after", reminder_seconds,
                   "Seconds of buyer silence before a reminder of what is missing")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--max-reminders", config.max_reminders,
                   "Reminders before the conversation goes to a person")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  long warning_lead_seconds = config.deadline_warning_lead.count();
  serve
      ->add_option("--deadline-warning-lead", warning_lead_seconds,
                   "Seconds before a case's deadline that agents are warned")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve->add_option("--webhook-url", config.webhook_url,
                    "POST case events to this http(s) URL (default: no webhook)");
  serve->add_option("--webhook-secret", config.webhook_secret,
                    "HMAC key for the webhook signature; default: DATA/webhook.secret, created if "
                    "missing");
  long retry_min_ms = config.webhook_retry_min.count();
  serve
      ->add_option("--webhook-retry-min", retry_min_ms,
                   "Milliseconds before the first retry of a failed webhook delivery")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  long retry_max_ms = config.webhook_retry_max.count();
  serve
      ->add_option("--webhook-retry-max", retry_max_ms,
                   "Most milliseconds between retries (the wait doubles up to this)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  long give_up_seconds = config.webhook_give_up_after.count();
  serve
      ->add_option("--webhook-give-up-after", give_up_seconds,
                   "Seconds after which an undeliverable webhook event is dropped")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  long webhook_timeout_seconds = config.webhook_timeout.count();
  serve
      ->add_option("--webhook-timeout", webhook_timeout_seconds,
                   "Seconds allowed for each webhook request (connect, send, answer)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve->add_option("--admin-token", config.admin_token,
                    "Bearer token for /v1/admin/*; default: DATA/admin.token, created if missing");
  serve
      ->add_option("--max-image-bytes", config.max_image_bytes,
                   "Largest evidence image (JPEG, PNG, WebP, GIF, HEIC) accepted")
      ->capture_default_str();
  serve
      ->add_option("--max-video-bytes", config.max_video_bytes,
                   "Largest evidence video (MP4, MOV) accepted")
      ->capture_default_str();
  serve
      ->add_option("--max-document-bytes", config.max_document_bytes,
                   "Largest evidence document (PDF) accepted")
      ->capture_default_str();
  serve
      ->add_option("--max-evidence-per-conversation", config.max_evidence_per_conversation,
                   "Evidence files one conversation may hold")
      ->capture_default_str();
  long link_ttl_seconds = config.evidence_link_ttl.count();
  serve
      ->add_option("--evidence-link-ttl", link_ttl_seconds,
                   "Seconds an evidence upload or read link stays valid")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--unsure-below", config.unsure_below,
                   "Confidence under which the reason is reported as unsure; default: the "
                   "trained model's (chosen on held-out folds), 0.5 without one")
      ->check(CLI::Range(0.0, 1.0));

  connectors::chat_options chat;
  long answer_seconds = chat.answer_timeout.count();
  auto* chat_cmd =
      app.add_subcommand("chat", "Talk to a running bot as a buyer: each input line is a message");
  chat_cmd->add_option("--url", chat.url, "Server address")->capture_default_str();
  chat_cmd->add_option("--shop", chat.shop, "Shop id")->capture_default_str();
  chat_cmd->add_option("--buyer", chat.buyer, "Buyer id")->capture_default_str();
  chat_cmd->add_option("--conversation", chat.conversation, "Resume this conversation");
  chat_cmd->add_option("--order", chat.order, "Order number sent with each message");
  chat_cmd->add_flag("--json", chat.json, "Print every server frame as raw JSON, one a line");
  chat_cmd
      ->add_option("--timeout", answer_seconds, "Seconds to wait for answers after the input ends")
      ->capture_default_str();

  std::filesystem::path intents_dir = SHOUHOU_SHIPPED_INTENTS;
  std::filesystem::path replies_dir = SHOUHOU_SHIPPED_REPLIES;
  std::filesystem::path policy_file = SHOUHOU_SHIPPED_POLICY;
  std::vector<std::filesystem::path> corpora;
  std::vector<std::string> texts;
  bool json = false;
  std::optional<double> min_macro_f1;
  int cross_validate = 0;
  std::optional<std::uint32_t> sealed_fifth;
  std::optional<std::filesystem::path> model_out;
  intents::training_options training;
  auto* intents = app.add_subcommand("intents", "Supervisor tools for intent files");
  intents->require_subcommand(1);
  auto* check = intents->add_subcommand("check", "Validate intent files; exit 1 on any error");
  auto* classify = intents->add_subcommand(
      "classify", "Classify the texts given, or each line of standard input");
  classify->add_option("texts", texts, "Texts to classify");
  classify->add_flag("--json", json, "One JSON object a message");
  auto* eval =
      intents->add_subcommand("eval", "Measure the intent files on labelled messages (JSON Lines)");
  eval->add_option("--corpus", corpora, "Labelled messages, one JSON object a line (repeatable)")
      ->required();
  eval->add_flag("--json", json, "Print one JSON object with every figure");
  eval->add_option("--min-macro-f1", min_macro_f1, "Exit 1 when macro-F1 is below this");
  eval->add_option("--cross-validate", cross_validate,
                   "K stratified folds: each classified by a model trained on the others")
      ->check(CLI::Range(2, 100));
  eval->add_option("--sealed-fifth", sealed_fifth,
                   "With --cross-validate: the fifth of the corpus chosen by this seed is never "
                   "listed, and is measured on a model trained on the other four fifths");
  auto* train = intents->add_subcommand(
      "train", "Train the keyword model on labelled messages and the folder's examples");
  train->add_option("--corpus", corpora, "Labelled messages, one JSON object a line (repeatable)")
      ->required();
  train->add_option("--out", model_out, "Where to write the model; default: INTENTS/keyword.model");
  for (auto* cmd : {eval, train}) {
    cmd->add_option("--c", training.c, "Training: liblinear's C")->capture_default_str();
    cmd->add_option("--class-balance", training.class_balance,
                    "Training: 0 no class weights .. 1 balanced")
        ->capture_default_str();
    cmd->add_option("--bucket-bits", training.bucket_bits,
                    "Training: n-grams hash into 2^N buckets")
        ->capture_default_str()
        ->check(CLI::Range(8, 26));
    cmd->add_option("--max-n", training.max_n, "Training: longest character n-grams")
        ->capture_default_str()
        ->check(CLI::Range(1, 5));
    cmd->add_option("--rule-value", training.rule_value,
                    "Training: the value of a fired rule's feature (below 1: trusted less)")
        ->capture_default_str();
    cmd->add_option("--seed", training.seed, "Training: seed of the folds")->capture_default_str();
  }
  for (auto* cmd : {check, classify, eval, train}) {
    cmd->add_option("--intents", intents_dir, "Folder of intent files")->capture_default_str();
  }
  auto* replies = app.add_subcommand("replies", "Supervisor tools for reply files");
  replies->require_subcommand(1);
  auto* replies_check = replies->add_subcommand(
      "check", "Validate reply, policy and intent files together; exit 1 on any error");
  replies_check->add_option("--replies", replies_dir, "Folder of reply files")
      ->capture_default_str();
  replies_check->add_option("--policy", policy_file, "Policy file")->capture_default_str();
  replies_check->add_option("--intents", intents_dir, "Folder of intent files")
      ->capture_default_str();

  // Same default folder as serve's: run from the same place, both use the same database.
  std::filesystem::path token_data = config.data_dir;
  std::optional<std::string> agent_name;
  std::optional<std::string> revoke_agent;
  auto* token = app.add_subcommand("token", "Issue and revoke bearer tokens");
  token->require_subcommand(1);
  auto* token_agent = token->add_subcommand(
      "agent", "Issue an agent a new token (printed once, last line) or revoke their token");
  token_agent->add_option("--name", agent_name,
                          "Agent to issue a token for; an earlier token of theirs stops working");
  token_agent->add_option("--revoke", revoke_agent, "Agent whose token to revoke");
  token_agent->add_option("--data", token_data, "Folder of the SQLite file")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (*serve) {
    config.idle_timeout = std::chrono::seconds(idle_seconds);
    config.handshake_timeout = std::chrono::seconds(handshake_seconds);
    config.reminder_after = std::chrono::seconds(reminder_seconds);
    config.evidence_link_ttl = std::chrono::seconds(link_ttl_seconds);
    config.deadline_warning_lead = std::chrono::seconds(warning_lead_seconds);
    config.webhook_retry_min = std::chrono::milliseconds(retry_min_ms);
    config.webhook_retry_max = std::chrono::milliseconds(retry_max_ms);
    config.webhook_give_up_after = std::chrono::seconds(give_up_seconds);
    config.webhook_timeout = std::chrono::seconds(webhook_timeout_seconds);
    return app::serve(config);
  }
  if (*chat_cmd) {
    chat.answer_timeout = std::chrono::seconds(answer_seconds);
    return connectors::run_chat(chat, std::cin, std::cout, std::cerr);
  }
  if (*check) return intents::check_command(intents_dir, std::cout);
  if (*classify)
    return intents::classify_command(intents_dir, json, texts, std::cin, std::cout, std::cerr);
  if (*eval) {
    intents::eval_request request;
    request.corpora = corpora;
    request.intents = intents_dir;
    request.json = json;
    request.min_macro_f1 = min_macro_f1;
    request.cross_validate = cross_validate;
    request.sealed_fifth = sealed_fifth;
    request.training = training;
    return intents::eval_command(request, std::cout, std::cerr);
  }
  if (*train) {
    intents::train_request request;
    request.corpora = corpora;
    request.intents = intents_dir;
    request.out = model_out;
    request.training = training;
    return intents::train_command(request, std::cout, std::cerr);
  }
  if (*replies_check) return app::replies_check(intents_dir, replies_dir, policy_file);
  if (*token_agent) return app::token_agent(token_data, agent_name, revoke_agent);
  return 2;
}
