#include "output/table.h"

#include <charconv>
#include <cmath>

#include "core/text_encoding.h"
#include "output/json.h"

namespace perfguard {

namespace {

std::string number_text(double v) {
  std::string out;
  append_number(out, v);
  return out;
}

std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count lead bytes only
  return n;
}

std::string row_object(const Table& table, const std::vector<Cell>& row) {
  std::string out = "{";
  for (std::size_t i = 0; i < table.columns.size() && i < row.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, table.columns[i]);
    out += ':';
    row[i].append_json(out);
  }
  return out + "}";
}

}  // namespace

Cell Cell::json(std::string encoded, std::string flat) {
  Cell c;
  c.kind_ = Kind::json;
  c.json_ = std::move(encoded);
  c.text_ = std::move(flat);
  return c;
}

void Cell::append_json(std::string& out) const {
  switch (kind_) {
    case Kind::null:
      out += "null";
      break;
    case Kind::text:
      append_json_string(out, text_);
      break;
    case Kind::integer:
      out += std::to_string(integer_);
      break;
    case Kind::real:
      out += std::isfinite(real_) ? number_text(real_) : "null";
      break;
    case Kind::boolean:
      out += integer_ ? "true" : "false";
      break;
    case Kind::json:
      out += json_;
      break;
  }
}

std::string Cell::flat() const {
  switch (kind_) {
    case Kind::null:
      return "";
    case Kind::text:
    case Kind::json:
      return spreadsheet_safe(text_);
    case Kind::integer:
      return std::to_string(integer_);
    case Kind::real:
      return std::isfinite(real_) ? number_text(real_) : "";
    case Kind::boolean:
      return integer_ ? "true" : "false";
  }
  return "";
}

void write_table(std::FILE* out, Format format, const Table& table, std::string_view rows_key,
                 const std::vector<std::pair<std::string, Cell>>& members) {
  std::string text;
  switch (format) {
    case Format::text:
      return;
    case Format::json:
      text = "{";
      for (const auto& [key, value] : members) {
        append_json_string(text, key);
        text += ':';
        value.append_json(text);
        text += ',';
      }
      append_json_string(text, rows_key);
      text += ":[";
      for (std::size_t r = 0; r < table.rows.size(); ++r) {
        if (r) text += ',';
        text += row_object(table, table.rows[r]);
      }
      text += "]}\n";
      break;
    case Format::jsonl:
      for (const auto& row : table.rows) text += row_object(table, row) + "\n";
      break;
    case Format::csv:
    case Format::tsv: {
      std::vector<std::vector<std::string>> rows;
      rows.reserve(table.rows.size());
      for (const auto& row : table.rows) {
        std::vector<std::string>& cells = rows.emplace_back();
        for (const Cell& c : row) cells.push_back(c.flat());
      }
      write_table(out, format, table.columns, rows);  // the one CSV/TSV writer (report.h)
      std::fflush(out);
      return;
    }
  }
  std::fputs(text.c_str(), out);
  std::fflush(out);
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto escape = [&](unsigned v) {
    static const char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[(v >> 4) & 0xF];
    out += kHex[v & 0xF];
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      escape(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      escape(c);
      ++i;
      continue;
    }
    if (c == 0xC2 && static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      escape(static_cast<unsigned char>(text[i + 1]));  // C1: CSI (U+009B) acts like ESC [
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string aligned_columns(const std::vector<std::vector<std::string>>& raw_lines,
                            const std::vector<bool>& right) {
  std::vector<std::vector<std::string>> lines;
  lines.reserve(raw_lines.size());
  for (const auto& raw : raw_lines) {
    std::vector<std::string>& line = lines.emplace_back();
    line.reserve(raw.size());
    for (const std::string& cell : raw) line.push_back(printable(cell));
  }
  std::vector<std::size_t> widths;
  for (const auto& line : lines) {
    if (widths.size() < line.size()) widths.resize(line.size(), 0);
    for (std::size_t i = 0; i < line.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(line[i]));
    }
  }
  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      std::string pad(widths[i] - display_width(line[i]), ' ');
      bool align_right = i < right.size() && right[i];
      if (i) text += "  ";
      text += align_right ? pad + line[i] : line[i] + (i + 1 < line.size() ? pad : "");
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  return out;
}

}  // namespace perfguard
