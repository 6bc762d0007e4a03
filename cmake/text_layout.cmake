# The linker's default script for shared objects, with the functions a
# small program runs (cmake/text_hot.ld, a list of input sections) at the
# head of its .text and cold arrays at the end of its .bss: sets
# UMA_TEXT_LD to the link options, or leaves it empty if this linker
# prints no script to edit.  Edited, not augmented with INSERT, so that
# the text stays one .text section: valgrind knows a library's functions
# by it, and named none in a section of their own.
set(UMA_TEXT_LD "")
execute_process(COMMAND ${CMAKE_LINKER} --verbose -shared
  OUTPUT_VARIABLE uma_ld_out ERROR_QUIET RESULT_VARIABLE uma_ld_rc)
set(uma_ld_rule "==================================================\n")
string(FIND "${uma_ld_out}" "${uma_ld_rule}" uma_ld_begin)
string(FIND "${uma_ld_out}" "${uma_ld_rule}" uma_ld_end REVERSE)
set(uma_ld_text "  .text           :\n  {\n")
if(uma_ld_rc EQUAL 0 AND uma_ld_begin GREATER -1 AND
    uma_ld_end GREATER uma_ld_begin)
  string(LENGTH "${uma_ld_rule}" uma_ld_len)
  math(EXPR uma_ld_begin "${uma_ld_begin} + ${uma_ld_len}")
  math(EXPR uma_ld_len "${uma_ld_end} - ${uma_ld_begin}")
  string(SUBSTRING "${uma_ld_out}" ${uma_ld_begin} ${uma_ld_len} uma_ld)
  string(FIND "${uma_ld}" "${uma_ld_text}" uma_ld_at)
  if(uma_ld_at GREATER -1)
    string(REPLACE "${uma_ld_text}" "${uma_ld_text}    INCLUDE ${PROJECT_SOURCE_DIR}/cmake/text_hot.ld\n"
      uma_ld "${uma_ld}")
    # Cold arrays (__bss_cold, src/uma_int.h) after the rest of .bss.
    string(REPLACE "*(.bss .bss.* .gnu.linkonce.b.*)"
      "*(.bss .bss.[!~]* .gnu.linkonce.b.*)\n   *(.bss.~*)" uma_ld "${uma_ld}")
    file(WRITE ${PROJECT_BINARY_DIR}/uma_text.ld "${uma_ld}")
    set(UMA_TEXT_LD "-Wl,-T,${PROJECT_BINARY_DIR}/uma_text.ld")
  endif()
endif()
