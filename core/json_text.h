#pragma once
// Writing JSON text: the one escaping routine every JSON writer of the project uses.
#include <string>
#include <string_view>

namespace edpipe {

// Appends `s` as a quoted JSON string. Bytes that are not valid UTF-8 become U+FFFD.
void append_json_string(std::string& out, std::string_view s);
std::string json_string(std::string_view s);
bool is_valid_utf8(std::string_view s) noexcept;
std::string base64_encode(std::string_view bytes);
// The contents of a JSON string token (without its quotes), unescaped into `out` (\uXXXX and
// surrogate pairs as UTF-8). False for an escape JSON does not have.
[[nodiscard]] bool json_unescape(std::string_view body, std::string& out);

// Appends a byte string that depends only on the JSON value `json` denotes, not on how it is
// written: object members sorted by key (a repeated key keeps its last value, as jsonb does),
// strings unescaped, numbers as the double they denote. So the text an emitter wrote and the
// text PostgreSQL gives back for the stored jsonb append the same bytes: what hashes a value
// the same way before and after it was stored. Not JSON; for hashing only. Returns false (and
// appends nothing) for text simdjson cannot parse, or a number beyond a double's range.
[[nodiscard]] bool append_canonical_json(std::string& out, std::string_view json);

}  // namespace edpipe
