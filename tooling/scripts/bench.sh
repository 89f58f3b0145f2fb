#!/usr/bin/env bash
# Benchmarks (not part of the test run): build, then run each benchmark under bench/.
source "$(dirname "$0")/workspace.sh"
install_workspace
turbo run build --output-logs=errors-only
node bench/artifact-throughput.mjs "$@"
