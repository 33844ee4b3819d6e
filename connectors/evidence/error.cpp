#include "connectors/evidence/error.hpp"

namespace shouhou::connectors::evidence {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::malformed:
      return "malformed";
    case errc::expired:
      return "expired";
    case errc::forged:
      return "forged";
    case errc::wrong_purpose:
      return "wrong_purpose";
    case errc::unsupported_type:
      return "unsupported_type";
    case errc::empty:
      return "empty";
    case errc::too_large:
      return "too_large";
    case errc::too_many:
      return "too_many";
    case errc::truncated:
      return "truncated";
    case errc::not_found:
      return "not_found";
    case errc::disk_full:
      return "disk_full";
    case errc::io:
      return "io";
  }
  return "unknown";
}

int http_status(errc code) noexcept {
  switch (code) {
    case errc::invalid_argument:
    case errc::malformed:
    case errc::empty:
    case errc::truncated:
      return 400;
    case errc::forged:
    case errc::wrong_purpose:
      return 403;
    case errc::not_found:
      return 404;
    case errc::expired:
      return 410;
    case errc::too_large:
    case errc::too_many:
      return 413;
    case errc::unsupported_type:
      return 415;
    case errc::disk_full:
      return 507;
    case errc::io:
      return 500;
  }
  return 500;
}

}  // namespace shouhou::connectors::evidence
