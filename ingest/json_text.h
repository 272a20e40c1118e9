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

}  // namespace edpipe
