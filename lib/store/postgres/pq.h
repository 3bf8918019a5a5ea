#pragma once
// Internal to the PostgreSQL engine: the one wrapper over libpq that its modules share. A
// connection that names its store in every error, statements run with PQexecParams (values
// travel as parameters; only COPY, which takes none, has them written into its SQL text, by
// Connection::literal), results read as text or binary, cursors for reads of any size, COPY in
// binary for bulk writes and for reads of many rows, and transactions.
//
// Strings are bytes (a repository path, a branch, a label may hold bytes that are not UTF-8, or a
// NUL), but the database's TEXT takes only UTF-8 without NUL. So every string value goes into a
// TEXT column through perfguard's one text encoding (core/text_encoding.h, "TEXT ENCODING" in
// perfguard(7), with a NUL written `%00`), and every text read back comes out decoded: here, in
// Params::add, Params::add_array, Connection::literal, CopyRow::text, Rows::text and
// CopiedRow::text, and nowhere else. The round trip is exact, byte for byte, and the encoded text
// is what the public views show, as the machine formats write it. A filter value is a parameter
// like any other, so it is encoded the same way and matches. The encoding leaves valid UTF-8
// without `%XX` as it is: SQL text is never touched, and numbers, hex ids, names of tables and the
// program's own words pass through unchanged. The one column whose text is encoded already is the
// labels' JSON, as the machine formats write it (each key and value encoded): CopyRow::encoded
// writes it and Rows::encoded reads it as they are.

#include <libpq-fe.h>

#include <cstdint>
#include <forward_list>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace perfguard::pq {

struct ResultDeleter {
  void operator()(PGresult* r) const;
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Parameters of one statement, as text ($1, $2, … in the order added). Strings are encoded.
class Params {
 public:
  Params& add(std::string_view bytes);
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add(std::int64_t v);
  Params& add(int v) { return add(static_cast<std::int64_t>(v)); }
  Params& add(double v);  // NaN as NULL
  Params& add(bool v);
  Params& add_null();
  template <class Int>
  Params& add(const std::optional<Int>& v) {
    return v ? add(static_cast<std::int64_t>(*v)) : add_null();
  }
  // An array of strings (each encoded) or integers as one parameter ('{"a","b"}').
  Params& add_array(const std::vector<std::string>& strings);
  Params& add_array(const std::vector<std::int64_t>& values);

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const;

 private:
  std::vector<std::optional<std::string>> values_;
  mutable std::vector<const char*> pointers_;
};

// A statement's result rows, read as text.
class Rows {
 public:
  Rows() = default;
  explicit Rows(ResultPtr result) : result_(std::move(result)) {}
  int size() const;
  bool null(int row, int col) const;
  // The bytes a text column stands for (decoded), valid while these rows are.
  std::string_view text(int row, int col) const;
  // A column's text as it is stored, for text encoded already (CopyRow::encoded).
  std::string_view encoded(int row, int col) const { return raw(row, col); }
  std::int64_t int64(int row, int col) const;  // 0 when NULL
  std::optional<std::int64_t> optional_int64(int row, int col) const;
  double real(int row, int col) const;  // NaN when NULL
  bool boolean(int row, int col) const;
  std::string bytes(int row, int col) const;  // a bytea column, decoded
  std::int64_t affected() const;              // rows an INSERT, UPDATE or DELETE changed

 private:
  std::string_view raw(int row, int col) const;  // as the server sent it

  ResultPtr result_;
  // The texts that decoding changed, kept for the views text() returns (rarely any; a list,
  // so that none moves and none costs anything until one is needed).
  mutable std::forward_list<std::string> decoded_;
};

// A row of COPY's binary format as the server sent it (Connection::copy_out): its fields read
// from their bytes (integers and doubles in network order). What it returns is valid until the
// next row.
class CopiedRow {
 public:
  int size() const { return static_cast<int>(fields_.size()); }
  bool null(int col) const { return fields_[static_cast<std::size_t>(col)].data() == nullptr; }
  // The bytes a text column stands for (decoded).
  std::string_view text(int col) const;
  std::int64_t int64(int col) const;  // bigint, integer or smallint; 0 when NULL
  double real(int col) const;         // NaN when NULL
  std::string_view bytes(int col) const { return fields_[static_cast<std::size_t>(col)]; }

 private:
  friend class Connection;
  // Reads the row `data` starts with, or COPY's trailer (a field count of -1): the bytes it
  // takes, or 0 when they are not a whole row.
  std::size_t read(std::string_view data);

  std::vector<std::string_view> fields_;  // a NULL's has no data()
  bool trailer_ = false;
  mutable std::forward_list<std::string> decoded_;
};

// One connection to the shared store. Every failure is an Error (ExitCode::store) that reads
// `<store name>: <what>: <cause>` on one line, with the password never in it.
class Connection {
 public:
  // Connects with a libpq connection string (URI, key=value pairs, or service=NAME).
  static Result<std::unique_ptr<Connection>> open(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // postgresql://user@host:port/database, without the password.
  const std::string& name() const { return name_; }
  PGconn* get() const { return conn_; }

  Result<Rows> exec(std::string_view what, const std::string& sql, const Params& params = {});
  // Runs statements without parameters (schema, transaction control).
  Status run(std::string_view what, const std::string& sql);
  // The same, in one round trip, and returns the last one's rows (as text): a lock and a read
  // under it, each statement seeing what was committed when it began.
  Result<Rows> run_then_read(std::string_view what, const std::string& sql);
  // Streams the rows of a query through a cursor, `batch` rows at a time, inside the current
  // transaction (there must be one). `visit` sees each batch.
  Status for_each_batch(std::string_view what, const std::string& sql, const Params& params,
                        const std::function<Status(const Rows&)>& visit, int batch = 20000);

  // Streams the rows of one query, one at a time as they arrive (libpq's single-row mode): one
  // round trip, no transaction needed, memory flat. `visit` must not use the connection.
  Status stream(std::string_view what, const std::string& sql, const Params& params,
                const std::function<void(const Rows&)>& visit);

  // COPY `target` (a table and its columns) FROM STDIN in binary: `rows` holds whole rows
  // as CopyRow makes them.
  Status copy_in(std::string_view what, std::string_view target, std::string_view rows);
  // The same, its rows sent as they are made: copy_begin, copy_send any number of times (whole
  // rows or not: the server parses the stream), then copy_end for the server's verdict. The
  // server works on what it has while the rest is made. Nothing else may use the connection
  // in between; copy_abort ends a COPY that is not to be kept (its rows are not stored).
  Status copy_begin(std::string_view what, std::string_view target);
  Status copy_send(std::string_view what, std::string_view rows);
  Status copy_end(std::string_view what);
  void copy_abort();
  bool copying() const { return copying_; }

  // Streams the rows of one query through COPY (query) TO STDOUT in binary: one round trip,
  // memory flat, and a row costs a few loads (a result's rows cost libpq an allocation a field
  // and a page fault every few rows; the reads of thousands of rollups are twice as fast this
  // way). `visit` sees each row as it arrives and must not use the connection; an error it
  // returns ends the read (the rest is received and dropped). COPY takes no parameters: the
  // query's values are written into it, numbers as decimal text and strings through
  // literal().
  Status copy_out(std::string_view what, const std::string& query,
                  const std::function<Status(const CopiedRow&)>& visit);
  // A string value as an SQL literal, encoded and escaped by libpq for this connection: for
  // copy_out's queries, the one place a value is written into SQL text.
  Result<std::string> literal(std::string_view bytes) const;

  bool in_transaction() const;
  // The SQLSTATE of the last statement that failed ("23505": a unique key taken).
  const std::string& last_sqlstate() const { return sqlstate_; }

  Error error(std::string_view what) const;                          // from the connection
  Error error(std::string_view what, std::string_view cause) const;  // with a cause of ours

 private:
  Connection(PGconn* conn, std::string name, std::string secret);
  Error error(std::string_view what, const PGresult* result);
  // The session's settings (time zone, date style, …) are sent with the first statement: in
  // its round trip when it is exec's (a pipeline), else just before it.
  Status settle_session(std::string_view what);
  Result<Rows> exec_with_session(std::string_view what, const std::string& sql,
                                 const Params& params);

  PGconn* conn_;
  std::string name_;
  std::string secret_;  // the password, kept only to keep it out of every message
  int cursors_ = 0;
  bool copying_ = false;
  bool session_set_ = false;
  std::string sqlstate_;
};

// A transaction, rolled back unless committed. Begun inside one already, it is part of that
// one (alerts applied while a record is written), which commits or rolls back everything.
class Transaction {
 public:
  explicit Transaction(Connection& c) : c_(c) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // `mode`: "" (read committed), or "ISOLATION LEVEL REPEATABLE READ READ ONLY" for reads
  // that must see one snapshot.
  Status begin(std::string_view what, std::string_view mode = "");
  // Begins (read committed) and runs `sql`, statements without parameters, in the same round
  // trip (Connection::run_then_read): a transaction's locks taken as it begins. Returns the
  // last statement's rows.
  Result<Rows> begin_with(std::string_view what, const std::string& sql);
  Status commit(std::string_view what);

 private:
  Connection& c_;
  bool nested_ = false;
  bool open_ = false;
};

// A row of COPY's binary format being appended to `out`: the number of fields, then each
// field's length and bytes, integers in network order. Each field must have its column's type
// (int16 for SMALLINT, int32 for INTEGER, int64 for BIGINT, text for TEXT); strings are
// encoded.
class CopyRow {
 public:
  CopyRow(std::string& out, int fields);
  CopyRow& int16(std::int16_t v);
  CopyRow& int32(std::int32_t v);
  CopyRow& int64(std::int64_t v);
  CopyRow& text(std::string_view bytes);
  // Text encoded already (valid UTF-8 without a NUL: JSON the machine formats' way), as it is.
  CopyRow& encoded(std::string_view text);
  CopyRow& null();
  // Fields another CopyRow made, as they are.
  CopyRow& fields(std::string_view made) {
    out_.append(made);
    return *this;
  }
  CopyRow& optional32(const std::optional<int>& v) { return v ? int32(*v) : null(); }
  CopyRow& optional64(const std::optional<std::int64_t>& v) { return v ? int64(*v) : null(); }

 private:
  std::string& out_;
  std::string encoded_;  // scratch
};

// The size of the row of COPY's binary format that `rows` starts with.
std::size_t copy_row_size(std::string_view rows);

// The display name of a connection string (without the password), or of a failed
// connection's settings: what every message calls the shared store.
std::string display_name(PGconn* conn);

}  // namespace perfguard::pq
