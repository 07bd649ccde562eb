# Turns bench/scenarios/*.json into a C source holding each file's bytes,
# so the built-in benchmark suite is the same JSON a user can copy, edit
# and pass to `numaplace bench --scenario FILE`, and an installed numaplace
# needs no data files. Files are taken in name order (the suite's order).
#   cmake -DSRC_DIR=bench/scenarios -DOUT=np_scenarios.c -P embed-scenarios.cmake
file(GLOB files ${SRC_DIR}/*.json)
list(SORT files)
set(body "/* Generated from bench/scenarios by cmake/embed-scenarios.cmake. */\n")
string(APPEND body "#include \"sim/builtin_scenarios.h\"\n\n")
set(table "")
set(i 0)
foreach(f ${files})
  get_filename_component(base ${f} NAME)
  string(REGEX REPLACE "\\.json$" "" stem "${base}")
  string(REGEX REPLACE "^[0-9]+-" "" name "${stem}")
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "static const char scenario_${i}[] = {${bytes}0x00};\n")
  string(APPEND table "    {\"${base}\", \"${name}\", scenario_${i}, sizeof(scenario_${i}) - 1},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "\nconst np_embedded_scenario np_embedded_scenarios[] = {\n${table}    {0, 0, 0, 0},\n};\n")
string(APPEND body "const size_t np_nr_embedded_scenarios = ${i};\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
