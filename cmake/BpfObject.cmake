# SPDX-License-Identifier: Apache-2.0
# netmon_bpf_object(NAME SOURCE): builds SOURCE (a .bpf.c file) into NAME.bpf.o with clang -target bpf and
# generates the libbpf skeleton NAME.skel.h with bpftool. Creates an INTERFACE target `NAME_skel` whose include
# directory holds the skeleton. The object is rebuilt when any header it includes changes (clang depfile).

find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

set(NETMON_BPF_INCLUDE ${PROJECT_SOURCE_DIR}/bpf/include)
set(NETMON_BPF_OUT ${PROJECT_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${NETMON_BPF_OUT})

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(NETMON_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(NETMON_BPF_ARCH arm64)
else()
  set(NETMON_BPF_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

# BPF objects have their own flags: the host's CMAKE_BUILD_TYPE never reaches them (always -O2 -g for BTF/CO-RE).
set(NETMON_BPF_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
if(NETMON_WERROR)
  list(APPEND NETMON_BPF_WARNINGS -Werror)
endif()

function(netmon_bpf_object name source)
  set(obj ${NETMON_BPF_OUT}/${name}.bpf.o)
  set(skel ${NETMON_BPF_OUT}/${name}.skel.h)
  set(dep ${NETMON_BPF_OUT}/${name}.bpf.d)
  get_filename_component(abs_source ${source} ABSOLUTE)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${NETMON_BPF_ARCH}
            ${NETMON_BPF_WARNINGS}
            -I${NETMON_BPF_INCLUDE} -idirafter /usr/include/x86_64-linux-gnu
            -MD -MF ${dep} -c ${abs_source} -o ${obj}
    DEPENDS ${abs_source}
    DEPFILE ${dep}
    COMMENT "BPF ${name}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${NETMON_BPF_OUT} ${NETMON_BPF_INCLUDE})
  set_property(GLOBAL APPEND PROPERTY NETMON_BPF_OBJECTS ${obj})
endfunction()
