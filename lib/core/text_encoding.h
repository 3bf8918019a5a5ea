#pragma once
// How every machine format writes a string that may hold bytes that are not UTF-8 (a
// repository path, a branch, a command, a label: they come from the file system, git and
// the command line, which hold bytes, not text). See "TEXT ENCODING" in perfguard(7).
//
// A string that is valid UTF-8 and holds no `%` followed by two hex digits is written as it
// is: nearly every path, branch and name. Any other string is percent-encoded: each byte
// that is not part of a well-formed UTF-8 sequence becomes `%XX` (two uppercase hex digits),
// each `%` becomes `%25`, and everything else stays. The result is always valid UTF-8, the
// same in every format, and decodes back to the exact bytes by percent-decoding: every `%`
// followed by two hex digits is that byte, every other character is itself (Python's
// urllib.parse.unquote_to_bytes). Strings holding `%XX` are the ones a valid string gives
// up: written as they are they would decode to other bytes.

#include <cstddef>
#include <string>
#include <string_view>

namespace perfguard {

// The length of the well-formed UTF-8 sequence that starts at text[i] (1 to 4), or 0 when
// the bytes there are not one: a stray continuation byte, an overlong form, a surrogate,
// a code point past U+10FFFF, a sequence cut short. As the Unicode standard's table 3-7 and
// Python's strict decoder say.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

// Whether every byte of `text` is part of a well-formed UTF-8 sequence.
bool is_utf8(std::string_view text);

// What the encoding does with a NUL byte: keeps it (it is UTF-8, and JSON writes it
// `\u0000`), or writes it `%00` as if it were not UTF-8, for text that cannot hold a NUL
// (the shared store's TEXT columns). A string without a NUL is encoded the same either way.
enum class NulBytes { kept, encoded };

// Whether encode_text() writes `bytes` differently from the bytes themselves.
bool needs_text_encoding(std::string_view bytes, NulBytes nul = NulBytes::kept);

// `bytes` as text, as above; appended to `out`.
void append_encoded_text(std::string& out, std::string_view bytes, NulBytes nul = NulBytes::kept);
std::string encode_text(std::string_view bytes, NulBytes nul = NulBytes::kept);

// The bytes `text` stands for: each `%XX` (hex digits of either case) is that byte, every
// other character itself. `out` is replaced (its buffer kept).
void assign_decoded_text(std::string& out, std::string_view text);
std::string decode_text(std::string_view text);

}  // namespace perfguard
