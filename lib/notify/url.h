#pragma once
// The parts of a webhook URL that this module needs: enough to show where a message went
// without showing its secret parts, and to find those parts in a message to remove them.

#include <optional>
#include <string>
#include <string_view>

namespace perfguard {

struct UrlParts {
  std::string scheme;    // lowercased
  std::string userinfo;  // before the host's `@`, as written; "" when none
  std::string host;      // lowercased; an IPv6 address keeps its brackets
  std::string port;      // digits, or "" when none is written
  std::string rest;      // path, query and fragment as written: "" or from its `/`, `?`, `#`

  // `scheme://host[:port]`: what a message may show.
  std::string origin() const;
};

// `scheme://[userinfo@]host[:port][/path][?query][#fragment]` (RFC 3986's shape); nothing
// when the scheme or the host is missing or the port is not a number from 1 to 65535.
std::optional<UrlParts> split_url(std::string_view url);

}  // namespace perfguard
