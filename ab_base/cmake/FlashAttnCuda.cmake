# Decides whether the CUDA backends are built, and for which architectures.
#
#   FLASHATTN_CUDA       AUTO (default: build when a CUDA compiler is found) | ON (require it) | OFF
#   FLASHATTN_CUDA_ARCHS CUDA_ARCHITECTURES of the FA2 (sm80) kernels; default "80-real;90": Ampere
#                        SASS, Hopper SASS, and compute_90 PTX for newer GPUs to JIT.
#   FLASHATTN_SM90       AUTO (default: build the FA3 kernels when nvcc >= 12.3) | OFF
#
# Sets FLASHATTN_WITH_CUDA and FLASHATTN_WITH_SM90 in the caller's scope.

set(FLASHATTN_CUDA "$ENV{FLASHATTN_CUDA}" CACHE STRING "Build the CUDA backends: AUTO, ON or OFF")
if(FLASHATTN_CUDA STREQUAL "")
  set_property(CACHE FLASHATTN_CUDA PROPERTY VALUE AUTO)
endif()
set(FLASHATTN_CUDA_ARCHS "80-real;90" CACHE STRING "CUDA_ARCHITECTURES of the sm80 (FA2) kernels")
set(FLASHATTN_SM90 AUTO CACHE STRING "Build the sm90a (FA3) kernels: AUTO or OFF")

set(FLASHATTN_WITH_CUDA OFF)
set(FLASHATTN_WITH_SM90 OFF)

if(NOT FLASHATTN_CUDA STREQUAL "OFF")
  # nvcc 11.x refuses host compilers newer than g++-11; Debian's CUDA 11.8 is used with g++-11.
  # CUDAHOSTCXX is read by both check_language (a child CMake run) and enable_language.
  if(NOT DEFINED CMAKE_CUDA_HOST_COMPILER AND "$ENV{CUDAHOSTCXX}" STREQUAL "")
    find_program(_fa_nvcc nvcc HINTS /usr/local/cuda/bin ENV CUDA_PATH PATH_SUFFIXES bin)
    if(_fa_nvcc)
      execute_process(COMMAND "${_fa_nvcc}" --version OUTPUT_VARIABLE _fa_nvcc_out ERROR_QUIET)
      string(REGEX MATCH "release ([0-9]+)\\." _fa_m "${_fa_nvcc_out}")
      find_program(_fa_gxx11 g++-11)
      if(CMAKE_MATCH_1 AND CMAKE_MATCH_1 LESS 12 AND _fa_gxx11)
        set(ENV{CUDAHOSTCXX} "${_fa_gxx11}")
      endif()
    endif()
  endif()

  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    set(FLASHATTN_WITH_CUDA ON)
  elseif(FLASHATTN_CUDA STREQUAL "ON")
    message(FATAL_ERROR "FLASHATTN_CUDA=ON but no working CUDA compiler was found")
  endif()
endif()

if(FLASHATTN_WITH_CUDA)
  find_package(CUDAToolkit REQUIRED)
  if(NOT FLASHATTN_SM90 STREQUAL "OFF" AND CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12.3)
    set(FLASHATTN_WITH_SM90 ON)
  endif()
  message(STATUS "FlashAttn: CUDA ${CMAKE_CUDA_COMPILER_VERSION}; sm80 kernels for ${FLASHATTN_CUDA_ARCHS}; "
                 "sm90a kernels: ${FLASHATTN_WITH_SM90}")
else()
  message(STATUS "FlashAttn: CUDA backends not built (FLASHATTN_CUDA=${FLASHATTN_CUDA})")
endif()
