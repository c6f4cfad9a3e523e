# Writes OUT: a C++ file defining status_page() over the bytes of IN (a raw string literal).
file(READ "${IN}" content)
string(FIND "${content}" ")tandem_page\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw string delimiter )tandem_page\"")
endif()
file(WRITE "${OUT}.tmp" "// Generated from transports/http/status_page.html; do not edit.\n#include \"transports/http/page.hpp\"\n\nnamespace tandem::transports::http {\n\nstd::string_view status_page() {\n  static constexpr const char page[] = R\"tandem_page(${content})tandem_page\";\n  return {page, sizeof page - 1};\n}\n\n} // namespace tandem::transports::http\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
