#!/usr/bin/env bash
# Quick start: install, build what the server needs, and start it on the embedded default
# (files under ML_MODEL_STORAGE_DIR, default ./.ml-data; 127.0.0.1:8080).
source "$(dirname "$0")/workspace.sh"
install_workspace
turbo run build --filter=@org/ml-server... --output-logs=errors-only
exec node apps/server/dist/main.js
