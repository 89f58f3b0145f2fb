#!/usr/bin/env bash
# Every check CI runs: install from the lockfile, build, typecheck, lint (ESLint, the core's
# portability rules, publint), and every test suite, including the core under Deno, Bun and
# workerd, a comparison of seeded outputs across those runtimes, and the integration suites
# against a real Redis.
source "$(dirname "$0")/workspace.sh"
source "$(dirname "$0")/ensure-services.sh"
install_workspace
dprint check
turbo run build typecheck lint test test:deno test:bun test:workerd --output-logs=new-only --concurrency=2
