#include "sync/target.h"

#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

namespace perfguard {

namespace {

// A URI's query without its password parameters: `?sslmode=require&password=pw` →
// `?sslmode=require`.
std::string query_without_password(std::string_view query) {
  std::string out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.substr(0, param.find('=')) == "password") continue;
    out += out.empty() ? "?" : "&";
    out += param;
  }
  return out;
}

// postgresql://[user[:password]@][host][/dbname][?params], read as libpq reads it: what comes
// before the first '@' that precedes any '/' is the user and password.
std::string uri_name(std::string_view uri, std::size_t scheme_end) {
  std::string name(uri.substr(0, scheme_end));
  std::string_view rest = uri.substr(scheme_end);
  const std::size_t query = rest.find('?');
  std::string_view params =
      query == std::string_view::npos ? std::string_view() : rest.substr(query + 1);
  rest = rest.substr(0, query);
  const std::size_t stop = rest.find_first_of("@/");
  if (stop != std::string_view::npos && rest[stop] == '@') {
    std::string_view user = rest.substr(0, stop);
    name += user.substr(0, user.find(':'));
    rest = rest.substr(stop);
  }
  name += rest;
  return name + query_without_password(params);
}

// key=value pairs, a value quoted with '…' (and \' or \\ inside) when it holds spaces: the
// pairs but password, as they were written.
std::string keyword_name(std::string_view text) {
  std::vector<std::string> kept;
  std::size_t i = 0;
  auto space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  while (true) {
    space();
    if (i >= text.size()) break;
    const std::size_t start = i;
    while (i < text.size() && text[i] != '=' && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    std::string key(text.substr(start, i - start));
    space();
    if (i < text.size() && text[i] == '=') ++i;
    space();
    if (i < text.size() && text[i] == '\'') {
      for (++i; i < text.size() && text[i] != '\''; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
      }
      if (i < text.size()) ++i;
    } else {
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        ++i;
      }
    }
    if (key != "password") kept.emplace_back(text.substr(start, i - start));
  }
  std::string name;
  for (const std::string& pair : kept) name += (name.empty() ? "" : " ") + pair;
  return name;
}

}  // namespace

std::string shared_store_name(const std::string& conninfo) {
  std::string_view text = conninfo;
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (text.starts_with(scheme)) return uri_name(text, scheme.size());
  }
  return keyword_name(text);
}

Result<Store> open_shared_store(const std::string& conninfo, Duration busy_timeout) {
  StoreOptions options;
  options.busy_timeout = busy_timeout;
  options.shared = conninfo;
  return Store::open(options);
}

}  // namespace perfguard
