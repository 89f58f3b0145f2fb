# Sourced by the other scripts: run from the repository root with the pinned pnpm and the
# workspace's own binaries (turbo, pnpm) on PATH by absolute path (turbo cannot spawn a
# package manager found through a relative PATH entry).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
export PATH="$PWD/node_modules/.bin:$PATH"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

install_workspace() {
  npx -y "pnpm@$PNPM_VERSION" install --frozen-lockfile
}
