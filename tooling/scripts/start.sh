#!/usr/bin/env bash
# Quick start: install (skipped when nothing changed; without the test-only runtimes), build what
# the server needs (turbo's cache skips unchanged packages), and become the server process, so
# SIGTERM/SIGINT from npm or a process manager reach it and it shuts down cleanly.
# Serves the API and the dashboard on 127.0.0.1:8080 with files under ./.ml-data (ML_MODEL_STORAGE_DIR).
# ML_SKIP_BUILD=1 starts what is already built (an image built once, or a test of this script).
source "$(dirname "$0")/workspace.sh"
if [[ "${ML_SKIP_BUILD:-}" != 1 ]]; then
  install_workspace server
  turbo run build --filter=@org/ml-server... --output-logs=errors-only >&2
fi
exec node apps/server/dist/main.js "$@"
