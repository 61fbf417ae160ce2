#!/usr/bin/env bash
# Builds llama.cpp's llama-bench (CPU only, -DGGML_NATIVE=ON) from the llama.cpp sources
# vendored in the llama-cpp-python sdist on PyPI. Everything goes under $LLAMA_DIR (default
# /tmp/stepwise-llamacpp); nothing is written into the repository.
#   usage: tools/bench/build_llamacpp.sh [version]      (prints the bin directory on the last line)
set -euo pipefail
VERSION="${1:-${LLAMA_CPP_PYTHON_VERSION:-}}"
LLAMA_DIR="${LLAMA_DIR:-/tmp/stepwise-llamacpp}"
mkdir -p "$LLAMA_DIR"
cd "$LLAMA_DIR"
if ! command -v cmake >/dev/null; then
    if command -v apt-get >/dev/null; then (apt-get install -y cmake >/dev/null || { apt-get update >/dev/null && apt-get install -y cmake >/dev/null; }); else pip install cmake; fi
fi
if [ ! -d src ]; then
    spec="llama-cpp-python${VERSION:+==$VERSION}"
    pip download --no-deps --no-binary llama-cpp-python -d sdist "$spec" >&2
    tarball=$(ls sdist/llama_cpp_python-*.tar.gz | head -1)
    mkdir -p src && tar -xzf "$tarball" -C src --strip-components=1
fi
[ -f src/vendor/llama.cpp/CMakeLists.txt ] || { echo "error: $LLAMA_DIR/src has no vendor/llama.cpp" >&2; exit 1; }
if [ ! -x build/bin/llama-bench ]; then
    cmake -S src/vendor/llama.cpp -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
        -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
        -DBUILD_SHARED_LIBS=OFF >&2
    cmake --build build -j 2 --target llama-bench >&2
fi
echo "$LLAMA_DIR/build/bin"
