#include "notify/url.h"

#include <cctype>

namespace perfguard {

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool valid_scheme(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

bool valid_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  int port = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    port = port * 10 + (c - '0');
  }
  return port >= 1 && port <= 65535;
}

}  // namespace

std::string UrlParts::origin() const {
  std::string out = scheme + "://" + host;
  if (!port.empty()) out += ":" + port;
  return out;
}

std::optional<UrlParts> split_url(std::string_view url) {
  const auto colon = url.find("://");
  if (colon == std::string_view::npos || !valid_scheme(url.substr(0, colon))) return {};
  UrlParts parts;
  parts.scheme = lowercase(url.substr(0, colon));

  const std::string_view after = url.substr(colon + 3);
  const auto authority_end = after.find_first_of("/?#");
  const std::string_view authority = after.substr(0, authority_end);
  if (authority_end != std::string_view::npos) parts.rest = after.substr(authority_end);

  std::string_view host_port = authority;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    parts.userinfo = authority.substr(0, at);
    host_port = authority.substr(at + 1);
  }
  std::string_view port;
  if (!host_port.empty() && host_port[0] == '[') {
    const auto close = host_port.find(']');
    if (close == std::string_view::npos) return {};
    const std::string_view tail = host_port.substr(close + 1);
    if (!tail.empty()) {
      if (tail[0] != ':') return {};
      port = tail.substr(1);
      if (!valid_port(port)) return {};
    }
    host_port = host_port.substr(0, close + 1);
  } else if (const auto c = host_port.rfind(':'); c != std::string_view::npos) {
    port = host_port.substr(c + 1);
    if (!valid_port(port)) return {};
    host_port = host_port.substr(0, c);
  }
  if (host_port.empty() || host_port == "[]") return {};
  parts.host = lowercase(host_port);
  parts.port = port;
  return parts;
}

}  // namespace perfguard
