#!/usr/bin/env bash
# Configures and builds one build type into its own directory.
#   scripts/build.sh            Release  -> build/basalt
#   scripts/build.sh Sanitize   ASan+UBSan -> build-test/basalt and the unit tests
#   scripts/build.sh Thread     TSan       -> build-tsan/basalt and the unit tests
set -euo pipefail
cd "$(dirname "$0")/.."
type=${1:-Release}
dir=build
case "$type" in
  Release) dir=build ;;
  Thread) dir=build-tsan ;;
  *) dir=build-test ;;
esac
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
cmake --build "$dir" -j"$(nproc)"
