#pragma once
// Results as a table of named columns, written in any --format: json, jsonl, csv, tsv for
// scripts, aligned columns for people. The column names are the machine formats' field
// names, a contract like write_records': add columns, never rename or remove them.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "output/report.h"

namespace perfguard {

// One value. A number that is NaN or infinite is written as null (JSON) or empty (CSV).
class Cell {
 public:
  enum class Kind { null, text, integer, real, boolean, json };

  Cell() = default;
  Cell(std::string v) : kind_(Kind::text), text_(std::move(v)) {}
  Cell(const char* v) : Cell(std::string(v)) {}
  Cell(std::int64_t v) : kind_(Kind::integer), integer_(v) {}
  Cell(int v) : Cell(static_cast<std::int64_t>(v)) {}
  Cell(double v) : kind_(Kind::real), real_(v) {}
  Cell(bool v) : kind_(Kind::boolean), integer_(v) {}
  // An already-encoded JSON value (an array of child spans, say) and the flat text that
  // stands for it in CSV and TSV.
  static Cell json(std::string encoded, std::string flat);

  Kind kind() const { return kind_; }
  void append_json(std::string& out) const;
  std::string flat() const;  // the CSV/TSV cell

 private:
  Kind kind_ = Kind::null;
  std::string text_;  // text, or the flat form of json
  std::string json_;
  std::int64_t integer_ = 0;
  double real_ = 0;
};

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;  // each as long as `columns`
};

// json: one object, `{<members…>, "<rows_key>": [{column: value, …}, …]}`; jsonl: one
// object per row; csv (RFC 4180) and tsv: a header line, then one line per row. Text is not
// written here (see aligned_columns).
void write_table(std::FILE* out, Format format, const Table& table, std::string_view rows_key,
                 const std::vector<std::pair<std::string, Cell>>& members = {});

// `text` safe to show on a terminal: C0 control characters (a line break, a tab, ESC…), DEL,
// C1 control characters (U+0080 to U+009F) and bytes that are not UTF-8 become `\x1b`-style
// escapes, so that imported names, branches and labels cannot move the cursor, recolour or
// retitle a terminal. Every text written for people goes through it; the machine formats
// write the exact data (bytes that are not UTF-8 as core/text_encoding.h says).
std::string printable(std::string_view text);

// Lines of cells padded into columns (two spaces apart); a column whose `right` is true is
// right-aligned (numbers). Widths count UTF-8 characters, not bytes. Cells are printable().
std::string aligned_columns(const std::vector<std::vector<std::string>>& lines,
                            const std::vector<bool>& right);

}  // namespace perfguard
