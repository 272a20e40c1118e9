# Writes OUT: a C++ file holding every schema/migrations/NNN_name.{up,down}.sql as string literals,
# so that `edpipe migrate` needs no file of the source tree at run time.
file(GLOB ups "${SRC}/*.up.sql")
list(SORT ups)
set(body "")
foreach(up ${ups})
  get_filename_component(name "${up}" NAME)
  string(REGEX REPLACE "\\.up\\.sql$" "" stem "${name}")
  string(REGEX MATCH "^[0-9]+" version "${stem}")
  math(EXPR version "${version}")  # "008" is an octal literal in C++: write it as 8
  string(REGEX REPLACE "^[0-9]+_" "" title "${stem}")
  file(READ "${up}" up_sql)
  file(READ "${SRC}/${stem}.down.sql" down_sql)
  string(APPEND body "  {${version}, \"${title}\", R\"edpipe_sql(${up_sql})edpipe_sql\", R\"edpipe_sql(${down_sql})edpipe_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from schema/migrations by load/embed_migrations.cmake. Do not edit.\n#include \"load/migrator.h\"\n\nnamespace edpipe::load {\nconst std::vector<Migration>& all_migrations() {\n  static const std::vector<Migration> kMigrations = {\n${body}  };\n  return kMigrations;\n}\n}  // namespace edpipe::load\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
