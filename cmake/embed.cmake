# vg_embed(<out.c> <symbol-prefix> <file>...): turn data files (mappings, built-in rules) into a
# C table {name, bytes, len} so the binary runs with no install step.
function(vg_embed out prefix)
  set(files ${ARGN})
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DPREFIX=${prefix} "-DFILES=${files}"
            -DBASE=${CMAKE_SOURCE_DIR} -P ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${files} ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding ${prefix} data")
endfunction()
