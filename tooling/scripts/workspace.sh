# Sourced by the other scripts: run from the repository root with the pinned pnpm and the
# workspace's own binaries (turbo, pnpm) on PATH by absolute path (turbo cannot spawn a
# package manager found through a relative PATH entry).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
export PATH="$PWD/node_modules/.bin:$PATH"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

# What the installed node_modules were made from: the lockfile and every package manifest.
install_inputs_hash() {
  # -prune: never descend into node_modules (a filter alone still walks it, ~0.3 s on every start).
  { cat pnpm-lock.yaml; find . \( -name node_modules -o -name .git \) -prune -o -name package.json -print | sort | xargs cat; } |
    sha256sum | cut -c1-64
}
install_stamp=node_modules/.ml-install-stamp

# Installs from the lockfile, unless node_modules already holds this exact lockfile and manifests for
# `scope` ("all", or "server": the server and what it needs, without the test-only runtimes).
install_workspace() {
  local scope="${1:-all}" inputs
  inputs=$(install_inputs_hash)
  if [[ -f "$install_stamp" ]] && { grep -qx "all $inputs" "$install_stamp" || grep -qx "$scope $inputs" "$install_stamp"; }; then
    return
  fi
  if [[ "$scope" == all ]]; then
    npx -y "pnpm@$PNPM_VERSION" install --frozen-lockfile
  else
    npx -y "pnpm@$PNPM_VERSION" install --frozen-lockfile --filter "@org/ml-server..." --filter ml-pipeline
  fi
  echo "$scope $inputs" > "$install_stamp"
}
