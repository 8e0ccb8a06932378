# Warning flags for Satellite's own targets. Third-party headers come in
# through imported targets, which CMake marks as system includes, so these
# flags do not apply to them.
set(SAT_WARNING_FLAGS
  -Wall -Wextra -Wpedantic
  -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wvla -Wpointer-arith -Wcast-qual
  -Wwrite-strings -Wundef -Wnull-dereference -Wimplicit-fallthrough)

function(sat_target_warnings target)
  target_compile_options(${target} PRIVATE ${SAT_WARNING_FLAGS})
  if(SAT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # POSIX.1-2008 plus the GNU additions we rely on (pipe2, accept4,
  # SO_REUSEPORT); the language stays strict C11.
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
endfunction()
