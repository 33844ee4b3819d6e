#pragma once
// An evidence upload in progress on an http_session (see evidence_routes.cpp).

#include <optional>
#include <string>
#include <vector>

#include "connectors/evidence/blob_store.hpp"
#include "connectors/evidence/multipart.hpp"
#include "connectors/evidence/upload_link.hpp"
#include "connectors/http_session.hpp"
#include "store/store.hpp"

namespace shouhou::connectors {

struct http_session::upload {
  struct file {
    evidence::blob_upload blob;
    std::string name;
  };
  evidence::link_claims claims;
  bool multipart = false;
  bool keep_alive = false;
  unsigned version = 11;
  std::vector<file> files;
  std::optional<evidence::multipart_parser> parts;
  bool in_file = false;  // the multipart part being read is a file
  std::size_t field_bytes = 0;
  std::vector<store::evidence_record> rows;
};

}  // namespace shouhou::connectors
