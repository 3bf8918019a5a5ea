#include "store/postgres/pq.h"

#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/text_encoding.h"
#include "store/postgres/libpq.h"

namespace perfguard::pq {

namespace {

constexpr std::string_view kOpenWhat = "cannot open the shared store";

// A URI component: unreserved characters and '/' as they are, anything else %XX.
std::string uri_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

// A libpq message on one line: its lines joined, runs of spaces folded, the trailing line
// break gone, and the password (if any) replaced.
std::string one_line(std::string_view message, const std::string& secret) {
  std::string out;
  for (char c : message) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (!secret.empty()) {
    for (std::size_t at; (at = out.find(secret)) != std::string::npos;) {
      out.replace(at, secret.size(), "***");
    }
  }
  return out.empty() ? "unknown error" : out;
}

}  // namespace

// --- Params ----------------------------------------------------------------------------------

Params& Params::add(std::string_view bytes) {
  values_.emplace_back(encode_text(bytes, NulBytes::encoded));
  return *this;
}

Params& Params::add(std::int64_t v) {
  values_.emplace_back(std::to_string(v));
  return *this;
}

Params& Params::add(double v) {
  if (std::isnan(v)) return add_null();
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact form
  (void)ec;
  values_.emplace_back(std::string(buf, end));
  return *this;
}

Params& Params::add(bool v) {
  values_.emplace_back(v ? "true" : "false");
  return *this;
}

Params& Params::add_null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

Params& Params::add_array(const std::vector<std::string>& strings) {
  std::string out = "{";
  std::string text;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    if (i) out += ',';
    out += '"';
    text.clear();
    append_encoded_text(text, strings[i], NulBytes::encoded);
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  values_.emplace_back(std::move(out));
  return *this;
}

Params& Params::add_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  values_.emplace_back(std::move(out));
  return *this;
}

const char* const* Params::values() const {
  pointers_.clear();
  for (const auto& v : values_) pointers_.push_back(v ? v->c_str() : nullptr);
  return pointers_.empty() ? nullptr : pointers_.data();
}

// --- Rows ------------------------------------------------------------------------------------

std::string_view Rows::raw(int row, int col) const {
  return {libpq().PQgetvalue(result_.get(), row, col),
          static_cast<std::size_t>(libpq().PQgetlength(result_.get(), row, col))};
}

std::string_view Rows::text(int row, int col) const {
  std::string_view t = raw(row, col);
  if (t.find('%') == std::string_view::npos) return t;  // nearly always: nothing to decode
  std::string& bytes = decoded_.emplace_front();
  assign_decoded_text(bytes, t);
  return bytes;
}

namespace {

// Integers in network order (big-endian), as the binary formats have them: read from the
// first bytes of `bytes` (as many as there are), and appended.
template <class Int>
Int read_be(std::string_view bytes) {
  if (bytes.size() == sizeof(Int)) {  // a whole field: one load
    std::make_unsigned_t<Int> u;
    std::memcpy(&u, bytes.data(), sizeof u);
    if constexpr (std::endian::native == std::endian::little && sizeof(Int) == 8) {
      u = __builtin_bswap64(u);
    } else if constexpr (std::endian::native == std::endian::little && sizeof(Int) == 4) {
      u = __builtin_bswap32(u);
    } else if constexpr (std::endian::native == std::endian::little && sizeof(Int) == 2) {
      u = __builtin_bswap16(u);
    }
    return static_cast<Int>(u);
  }
  std::make_unsigned_t<Int> u = 0;
  for (std::size_t i = 0; i < sizeof(Int) && i < bytes.size(); ++i) {
    u = static_cast<decltype(u)>(u << 8 | static_cast<unsigned char>(bytes[i]));
  }
  return static_cast<Int>(u);
}

template <class Int>
void append_be(std::string& out, Int v) {
  char bytes[sizeof(Int)];
  auto u = static_cast<std::make_unsigned_t<Int>>(v);
  for (std::size_t i = sizeof(Int); i-- > 0;) {
    bytes[i] = static_cast<char>(u & 0xff);
    u = static_cast<decltype(u)>(u >> 8);
  }
  out.append(bytes, sizeof(Int));
}

}  // namespace

std::int64_t Rows::int64(int row, int col) const {
  std::string_view t = raw(row, col);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

std::optional<std::int64_t> Rows::optional_int64(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return int64(row, col);
}

double Rows::real(int row, int col) const {
  if (null(row, col)) return std::numeric_limits<double>::quiet_NaN();
  return std::strtod(libpq().PQgetvalue(result_.get(), row, col), nullptr);
}

bool Rows::boolean(int row, int col) const {
  std::string_view t = raw(row, col);
  return !t.empty() && t[0] == 't';
}

std::string Rows::bytes(int row, int col) const {
  if (null(row, col)) return {};
  std::size_t size = 0;
  unsigned char* raw = libpq().PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(libpq().PQgetvalue(result_.get(), row, col)), &size);
  if (!raw) return {};
  std::string out(reinterpret_cast<const char*>(raw), size);
  libpq().PQfreemem(raw);
  return out;
}

std::int64_t Rows::affected() const {
  const char* n = result_ ? libpq().PQcmdTuples(result_.get()) : "";
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

void ResultDeleter::operator()(PGresult* r) const {
  libpq().PQclear(r);
}

int Rows::size() const {
  return result_ ? libpq().PQntuples(result_.get()) : 0;
}

bool Rows::null(int row, int col) const {
  return libpq().PQgetisnull(result_.get(), row, col) != 0;
}

// --- CopiedRow -------------------------------------------------------------------------------

std::size_t CopiedRow::read(std::string_view data) {
  fields_.clear();
  decoded_.clear();
  if (data.size() < 2) return 0;
  const std::int16_t count = read_be<std::int16_t>(data.substr(0, 2));
  std::size_t at = 2;
  trailer_ = count == -1;
  if (trailer_) return at;
  if (count < 0) return 0;
  for (int i = 0; i < count; ++i) {
    if (data.size() - at < 4) return 0;
    const std::int32_t length = read_be<std::int32_t>(data.substr(at, 4));
    at += 4;
    if (length < 0) {
      fields_.emplace_back();
      continue;
    }
    if (data.size() - at < static_cast<std::size_t>(length)) return 0;
    // A field of no bytes is not a NULL: its view points into the row all the same.
    fields_.emplace_back(data.data() + at, static_cast<std::size_t>(length));
    at += static_cast<std::size_t>(length);
  }
  return at;
}

std::string_view CopiedRow::text(int col) const {
  std::string_view t = bytes(col);
  if (t.find('%') == std::string_view::npos) return t;
  std::string& decoded = decoded_.emplace_front();
  assign_decoded_text(decoded, t);
  return decoded;
}

std::int64_t CopiedRow::int64(int col) const {
  std::string_view t = bytes(col);
  switch (t.size()) {
    case 8:
      return read_be<std::int64_t>(t);
    case 4:
      return read_be<std::int32_t>(t);
    case 2:
      return read_be<std::int16_t>(t);
    default:
      return 0;
  }
}

double CopiedRow::real(int col) const {
  if (null(col)) return std::numeric_limits<double>::quiet_NaN();
  return std::bit_cast<double>(read_be<std::uint64_t>(bytes(col)));
}

bool Connection::in_transaction() const {
  return libpq().PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

// --- Connection ------------------------------------------------------------------------------

std::string display_name(PGconn* conn) {
  auto value = [](const char* v) { return std::string(v ? v : ""); };
  const std::string user = value(libpq().PQuser(conn));
  const std::string host = value(libpq().PQhost(conn));
  const std::string port = value(libpq().PQport(conn));
  const std::string db = value(libpq().PQdb(conn));
  const bool socket = host.empty() || host[0] == '/' || host[0] == '@';
  std::string name = "postgresql://";
  if (!user.empty()) name += uri_escape(user) + "@";
  if (!socket) {
    name += host.find(':') != std::string::npos ? "[" + host + "]" : uri_escape(host);
    if (!port.empty() && port != "5432") name += ":" + uri_escape(port);
  }
  name += "/" + uri_escape(db);
  std::string query;
  if (socket && !host.empty()) query += "host=" + uri_escape(host);
  if (socket && !port.empty() && port != "5432") {
    query += (query.empty() ? "" : "&") + std::string("port=") + uri_escape(port);
  }
  if (!query.empty()) name += "?" + query;
  return name;
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& conninfo) {
  if (Status loaded = load_libpq(); !loaded) {
    return Error{ExitCode::store,
                 "the shared store: " + std::string(kOpenWhat) + ": " + loaded.error().message};
  }
  // The password given in the string, if any, to keep it out of messages even when the
  // connection cannot be made at all.
  std::string secret;
  char* parse_error = nullptr;
  if (PQconninfoOption* options = libpq().PQconninfoParse(conninfo.c_str(), &parse_error)) {
    for (PQconninfoOption* o = options; o->keyword; ++o) {
      if (std::string_view(o->keyword) == "password" && o->val) secret = o->val;
    }
    libpq().PQconninfoFree(options);
  } else {
    std::string cause = parse_error ? parse_error : "not a connection string";
    if (parse_error) libpq().PQfreemem(parse_error);
    return Error{ExitCode::store,
                 "the shared store: " + std::string(kOpenWhat) + ": " + one_line(cause, secret)};
  }
  PGconn* conn = libpq().PQconnectdb(conninfo.c_str());
  if (!conn) {
    return Error{ExitCode::store,
                 "the shared store: " + std::string(kOpenWhat) + ": out of memory"};
  }
  if (const char* used = libpq().PQpass(conn); used && secret.empty()) secret = used;
  std::unique_ptr<Connection> c(new Connection(conn, display_name(conn), secret));
  if (libpq().PQstatus(conn) != CONNECTION_OK) return c->error(kOpenWhat);
  // Quiet notices (CREATE … IF NOT EXISTS); the session's settings go with the first statement.
  libpq().PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return c;
}

namespace {

// UTC and ISO dates whatever the server's defaults, the shortest exact text for doubles, no
// notices sent, and cursors planned to read every row (the reads stream whole results; a plan
// for the first rows would walk the primary key instead). One statement with no parameters,
// so that it can go in a pipeline ahead of another.
constexpr const char* kSessionSettings =
    "SELECT set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO', false),"
    " set_config('extra_float_digits', '1', false),"
    " set_config('client_min_messages', 'warning', false),"
    " set_config('cursor_tuple_fraction', '1', false)";

}  // namespace

Status Connection::settle_session(std::string_view what) {
  if (session_set_) return {};
  ResultPtr r(libpq().PQexec(conn_, kSessionSettings));
  if (!r || libpq().PQresultStatus(r.get()) != PGRES_TUPLES_OK) return error(what, r.get());
  session_set_ = true;
  return {};
}

Result<Rows> Connection::exec_with_session(std::string_view what, const std::string& sql,
                                           const Params& params) {
  const Libpq& pq = libpq();
  // The settings and the statement in one pipeline, each followed by a sync point (so each is
  // its own transaction: the statement's failure does not undo the settings): one round trip.
  if (pq.PQenterPipelineMode(conn_) != 1) return error(what);
  const bool sent = pq.PQsendQueryParams(conn_, kSessionSettings, 0, nullptr, nullptr, nullptr,
                                         nullptr, 0) == 1 &&
                    pq.PQpipelineSync(conn_) == 1 &&
                    pq.PQsendQueryParams(conn_, sql.c_str(), params.size(), nullptr,
                                         params.values(), nullptr, nullptr, 0) == 1 &&
                    pq.PQpipelineSync(conn_) == 1;
  // Each statement's result, then the end of its results, then its sync point's. A connection
  // that fails on the way ends them early.
  ResultPtr answers[2];
  bool complete = sent;
  for (ResultPtr& answer : answers) {
    if (!complete) break;
    while (PGresult* raw = pq.PQgetResult(conn_)) {
      ResultPtr result(raw);
      if (!answer) answer = std::move(result);
    }
    ResultPtr sync(pq.PQgetResult(conn_));
    complete = sync && pq.PQresultStatus(sync.get()) == PGRES_PIPELINE_SYNC;
  }
  pq.PQexitPipelineMode(conn_);  // refused only by a connection left busy: a broken one
  if (!complete) return error(what, answers[1] ? answers[1].get() : answers[0].get());
  if (pq.PQresultStatus(answers[0].get()) != PGRES_TUPLES_OK) return error(what, answers[0].get());
  session_set_ = true;
  const ExecStatusType status = pq.PQresultStatus(answers[1].get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return error(what, answers[1].get());
  return Rows(std::move(answers[1]));
}

Connection::Connection(PGconn* conn, std::string name, std::string secret)
    : conn_(conn), name_(std::move(name)), secret_(std::move(secret)) {}

Connection::~Connection() {
  libpq().PQfinish(conn_);
}

Error Connection::error(std::string_view what, std::string_view cause) const {
  std::string message = name_;
  message += ": ";
  message += what;
  message += ": ";
  message += one_line(cause, secret_);
  return Error{ExitCode::store, std::move(message)};
}

Error Connection::error(std::string_view what) const {
  return error(what, libpq().PQerrorMessage(conn_));
}

Error Connection::error(std::string_view what, const PGresult* result) {
  const char* state = result ? libpq().PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  sqlstate_ = state ? state : "";
  if (!result) return error(what);
  std::string cause;
  if (const char* primary = libpq().PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) {
    cause = primary;
    if (const char* detail = libpq().PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
      cause += " (";
      cause += detail;
      cause += ")";
    }
  } else {
    cause = libpq().PQresultErrorMessage(result);
    if (cause.empty()) cause = libpq().PQerrorMessage(conn_);
  }
  return error(what, cause);
}

Result<Rows> Connection::exec(std::string_view what, const std::string& sql, const Params& params) {
  if (!session_set_) return exec_with_session(what, sql, params);
  ResultPtr r(libpq().PQexecParams(conn_, sql.c_str(), params.size(), nullptr, params.values(),
                                   nullptr, nullptr, 0));
  const ExecStatusType status = r ? libpq().PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return error(what, r.get());
  return Rows(std::move(r));
}

Status Connection::run(std::string_view what, const std::string& sql) {
  auto rows = run_then_read(what, sql);
  if (!rows) return rows.error();
  return {};
}

Result<Rows> Connection::run_then_read(std::string_view what, const std::string& sql) {
  if (Status s = settle_session(what); !s) return s.error();
  // PQexec returns the last statement's result, or the first failure's.
  ResultPtr r(libpq().PQexec(conn_, sql.c_str()));
  const ExecStatusType status = r ? libpq().PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return error(what, r.get());
  return Rows(std::move(r));
}

Status Connection::for_each_batch(std::string_view what, const std::string& sql,
                                  const Params& params,
                                  const std::function<Status(const Rows&)>& visit, int batch) {
  const std::string cursor = "perfguard_cursor_" + std::to_string(++cursors_);
  auto declared = exec(what, "DECLARE " + cursor + " NO SCROLL CURSOR FOR " + sql, params);
  if (!declared) return declared.error();
  const std::string fetch = "FETCH " + std::to_string(batch) + " FROM " + cursor;
  for (;;) {
    auto rows = exec(what, fetch);
    if (!rows) return rows.error();
    if (rows->size() > 0) {
      if (Status s = visit(*rows); !s) {
        (void)run(what, "CLOSE " + cursor);
        return s;
      }
    }
    if (rows->size() < batch) break;
  }
  return run(what, "CLOSE " + cursor);
}

Status Connection::stream(std::string_view what, const std::string& sql, const Params& params,
                          const std::function<void(const Rows&)>& visit) {
  if (Status s = settle_session(what); !s) return s;
  if (!libpq().PQsendQueryParams(conn_, sql.c_str(), params.size(), nullptr, params.values(),
                                 nullptr, nullptr, 0) ||
      !libpq().PQsetSingleRowMode(conn_)) {
    return error(what);
  }
  Status status;
  // Every result is read, also after a failure, so that the connection is free again.
  while (PGresult* raw = libpq().PQgetResult(conn_)) {
    Rows rows{ResultPtr(raw)};
    const ExecStatusType s = libpq().PQresultStatus(raw);
    if (s == PGRES_SINGLE_TUPLE) {
      if (status) visit(rows);
    } else if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK && status) {
      status = error(what, raw);
    }
  }
  return status;
}

namespace {

// COPY's binary format: a signature, flags and the length of a header extension (none), and a
// field count of -1 after the last row.
constexpr char kCopyHeader[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
constexpr std::string_view kCopyTrailer("\377\377", 2);

}  // namespace

Status Connection::copy_in(std::string_view what, std::string_view target, std::string_view rows) {
  if (Status s = copy_begin(what, target); !s) return s;
  if (Status s = copy_send(what, rows); !s) {
    copy_abort();
    return s;
  }
  return copy_end(what);
}

Status Connection::copy_begin(std::string_view what, std::string_view target) {
  if (Status s = settle_session(what); !s) return s;
  std::string sql = "COPY ";
  sql += target;
  sql += " FROM STDIN (FORMAT binary)";
  ResultPtr r(libpq().PQexec(conn_, sql.c_str()));
  if (!r || libpq().PQresultStatus(r.get()) != PGRES_COPY_IN) return error(what, r.get());
  copying_ = true;
  return copy_send(what, std::string_view(kCopyHeader, sizeof kCopyHeader - 1));
}

Status Connection::copy_send(std::string_view what, std::string_view rows) {
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t at = 0; at < rows.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, rows.size() - at);
    if (libpq().PQputCopyData(conn_, rows.data() + at, static_cast<int>(n)) != 1)
      return error(what);
  }
  return {};
}

Status Connection::copy_end(std::string_view what) {
  if (Status s = copy_send(what, kCopyTrailer); !s) {
    copy_abort();
    return s;
  }
  copying_ = false;
  if (libpq().PQputCopyEnd(conn_, nullptr) != 1) return error(what);
  Status status;
  while (PGresult* raw = libpq().PQgetResult(conn_)) {
    ResultPtr result(raw);
    if (libpq().PQresultStatus(raw) != PGRES_COMMAND_OK && status) status = error(what, raw);
  }
  return status;
}

namespace {

struct CopyDataDeleter {
  void operator()(char* data) const { libpq().PQfreemem(data); }
};

}  // namespace

Status Connection::copy_out(std::string_view what, const std::string& query,
                            const std::function<Status(const CopiedRow&)>& visit) {
  if (Status s = settle_session(what); !s) return s;
  const std::string sql = "COPY (" + query + ") TO STDOUT (FORMAT binary)";
  if (ResultPtr r(libpq().PQexec(conn_, sql.c_str()));
      !r || libpq().PQresultStatus(r.get()) != PGRES_COPY_OUT) {
    return error(what, r.get());
  }
  // The server sends a row a message, the header with the first and the trailer on its own or
  // with the last; every message is read, also after a failure, so that the connection is free
  // again.
  Status status;
  bool started = false, ended = false, broken = false;
  CopiedRow row;
  for (;;) {
    char* buffer = nullptr;
    const int size = libpq().PQgetCopyData(conn_, &buffer, 0);
    if (size == -1) break;  // the end: the command's result follows
    if (size < 0) {
      broken = true;
      break;
    }
    std::unique_ptr<char, CopyDataDeleter> owned(buffer);
    std::string_view data(buffer, static_cast<std::size_t>(size));
    if (!status) continue;
    if (!started) {
      constexpr std::size_t kHeader = sizeof kCopyHeader - 1;
      if (data.substr(0, 11) != std::string_view(kCopyHeader, 11) || data.size() < kHeader) {
        status = error(what, "the server's COPY data has no binary header");
        continue;
      }
      const auto extension = read_be<std::int32_t>(data.substr(15, 4));
      if (extension < 0 || data.size() - kHeader < static_cast<std::size_t>(extension)) {
        status = error(what, "the server's COPY data has a damaged header");
        continue;
      }
      data.remove_prefix(kHeader + static_cast<std::size_t>(extension));
      started = true;
    }
    while (status && !data.empty()) {
      const std::size_t used = ended ? 0 : row.read(data);
      if (used == 0) {
        status = error(what, "the server's COPY data holds a damaged row");
        break;
      }
      data.remove_prefix(used);
      if (row.trailer_) {
        ended = true;
      } else {
        status = visit(row);
      }
    }
  }
  Status finished;
  while (PGresult* raw = libpq().PQgetResult(conn_)) {
    ResultPtr result(raw);
    if (libpq().PQresultStatus(raw) != PGRES_COMMAND_OK && finished) finished = error(what, raw);
  }
  if (!finished) return finished;  // the server's failure first: it says why the rows stopped
  if (broken) return error(what);
  return status;
}

Result<std::string> Connection::literal(std::string_view bytes) const {
  const std::string text = encode_text(bytes, NulBytes::encoded);
  char* quoted = libpq().PQescapeLiteral(conn_, text.data(), text.size());
  if (!quoted) return error("cannot quote a value", libpq().PQerrorMessage(conn_));
  std::string out(quoted);
  libpq().PQfreemem(quoted);
  return out;
}

void Connection::copy_abort() {
  if (!copying_) return;
  copying_ = false;
  if (libpq().PQputCopyEnd(conn_, "abandoned") != 1) return;
  while (PGresult* raw = libpq().PQgetResult(conn_)) ResultPtr result(raw);
}

// --- Transaction -----------------------------------------------------------------------------

Transaction::~Transaction() {
  c_.copy_abort();  // a COPY left open by a failure: ended, its rows not stored
  if (open_ && !nested_) (void)c_.run("rollback", "ROLLBACK");
}

Status Transaction::begin(std::string_view what, std::string_view mode) {
  nested_ = c_.in_transaction();
  if (!nested_) {
    std::string sql = "BEGIN";
    if (!mode.empty()) {
      sql += ' ';
      sql += mode;
    }
    if (Status s = c_.run(what, sql); !s) return s;
  }
  open_ = true;
  return {};
}

Result<Rows> Transaction::begin_with(std::string_view what, const std::string& sql) {
  nested_ = c_.in_transaction();
  // Open from here: if BEGIN went through and a statement after it failed, the destructor
  // rolls back.
  open_ = true;
  return c_.run_then_read(what, nested_ ? sql : "BEGIN; " + sql);
}

Status Transaction::commit(std::string_view what) {
  if (!nested_) {
    if (Status s = c_.run(what, "COMMIT"); !s) return s;
  }
  open_ = false;
  return {};
}

// --- CopyRow ---------------------------------------------------------------------------------

CopyRow::CopyRow(std::string& out, int fields) : out_(out) {
  append_be(out_, static_cast<std::int16_t>(fields));
}

CopyRow& CopyRow::int16(std::int16_t v) {
  append_be(out_, std::int32_t{2});
  append_be(out_, v);
  return *this;
}

CopyRow& CopyRow::int32(std::int32_t v) {
  append_be(out_, std::int32_t{4});
  append_be(out_, v);
  return *this;
}

CopyRow& CopyRow::int64(std::int64_t v) {
  append_be(out_, std::int32_t{8});
  append_be(out_, v);
  return *this;
}

CopyRow& CopyRow::text(std::string_view bytes) {
  if (!needs_text_encoding(bytes, NulBytes::encoded)) return encoded(bytes);
  encoded_.clear();
  append_encoded_text(encoded_, bytes, NulBytes::encoded);
  return encoded(encoded_);
}

CopyRow& CopyRow::encoded(std::string_view text) {
  append_be(out_, static_cast<std::int32_t>(text.size()));
  out_.append(text);
  return *this;
}

CopyRow& CopyRow::null() {
  append_be(out_, std::int32_t{-1});
  return *this;
}

std::size_t copy_row_size(std::string_view rows) {
  const int fields = read_be<std::int16_t>(rows);
  std::size_t at = 2;
  for (int i = 0; i < fields; ++i) {
    const std::int32_t length = read_be<std::int32_t>(rows.substr(at));
    at += 4 + static_cast<std::size_t>(std::max(length, 0));
  }
  return at;
}

}  // namespace perfguard::pq
