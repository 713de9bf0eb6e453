# Prints what this configuration of wick will have, and for each missing optional part what
# it costs and how to get it.
macro(wick_feature name on detail)
  if(${on})
    message(STATUS "  ✓ ${name} ${detail}")
  else()
    message(STATUS "  ✗ ${name} ${detail}")
    if(NOT "${ARGN}" STREQUAL "")
      message(STATUS "      without it: ${ARGN}")
    endif()
  endif()
endmacro()
message(STATUS "wick ${PROJECT_VERSION} (${CMAKE_BUILD_TYPE})")
wick_feature("Lua" TRUE "${LUA_VERSION}")
wick_feature("BLAS" TRUE "${WICK_BLAS_NAME}")
wick_feature("OpenMP" OpenMP_C_FOUND "${OpenMP_C_VERSION}")
wick_feature("libyaml" TRUE "${YAML_VERSION}")
wick_feature("libedit" TRUE "${EDIT_VERSION}")
if(WICK_HAVE_CUDA)
  wick_feature("CUDA" WICK_HAVE_CUDA
    "${CUDAToolkit_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES} (WICK_CUDA=${WICK_CUDA})")
  wick_feature("cuDNN" WICK_HAVE_CUDA "${WICK_CUDNN_LIBRARY}")
  wick_feature("NCCL" WICK_HAVE_NCCL "${WICK_NCCL_LIBRARY}"
    "no NCCL process group: multi-GPU training goes through Gloo on the CPU (install NCCL)")
else()
  wick_feature("CUDA" WICK_HAVE_CUDA "(WICK_CUDA=${WICK_CUDA})"
    "CPU only: t:cuda() raises (install the CUDA toolkit with cuDNN; docs/cuda.md)")
endif()
wick_feature("Gloo" WICK_HAVE_GLOO "${Gloo_VERSION} (WICK_GLOO=${WICK_GLOO})"
  "`wick run -n N` cannot train with DDP on CPUs (apt-get install libgloo-dev)")
wick_feature("oneDNN" WICK_HAVE_DNNL "${WICK_DNNL_VERSION} (WICK_DNNL=${WICK_DNNL})"
  "CPU convolutions use im2col + BLAS, about 2x slower (apt-get install libdnnl-dev)")
wick_feature("sanitizers" WICK_SANITIZE "(ASan+UBSan)")
# Peers and data the tests and the default recipe use; found now so the cost is said up front.
find_program(WICK_BUSTED busted)
wick_feature("busted" WICK_BUSTED "(the Lua specs' runner)"
  "`make test` runs the C tests only; the Lua specs fail (apt-get install lua-busted)")
if(EXISTS /usr/lib/python3/dist-packages/torch/__init__.py)
  set(WICK_HAVE_TORCH ON)
else()
  set(WICK_HAVE_TORCH OFF)
endif()
wick_feature("PyTorch" WICK_HAVE_TORCH "(Debian's python3-torch, interop specs)"
  "the specs comparing with PyTorch are pending, not run (apt-get install python3-torch)")
if(EXISTS /usr/share/datasets/fashion-mnist)
  set(WICK_HAVE_FMNIST ON)
else()
  set(WICK_HAVE_FMNIST OFF)
endif()
wick_feature("Fashion-MNIST" WICK_HAVE_FMNIST "(/usr/share/datasets/fashion-mnist)"
  "`make run` has no data and its recipe specs are pending (apt-get install dataset-fashion-mnist)")
