#!/usr/bin/env bash
# Benchmarks (not part of the test run): build, then run each benchmark under bench/.
#   npm run bench             both
#   npm run bench -- artifact the 1 GiB artifact upload/download through the server
#   npm run bench -- stats    ks2Samp and psi against scipy/numpy (needs Debian's python3-scipy)
#   npm run bench -- drift    recording through the SDK into Redis vs raw ioredis; a 100-feature check vs scipy (Redis, python3-scipy)
#   npm run bench -- drift-extra a 100-feature check with and without the extra drift tests, vs scipy (python3-scipy)
#   npm run bench -- drift-auto a 100-feature check with the automatic drift method at 1,000 and 100,000 values, vs scipy (python3-scipy)
#   npm run bench -- drift-false-alarms simulated false-alarm rate and power of every drift test at windows of 100-10,000
#   npm run bench -- learning learner updates/s vs a hand-written SGD loop
#   npm run bench -- learner-format learner state bytes and save/load times, format 1 (JSON) vs 2 (sparse binary)
#   npm run bench -- hot-ingest observations and samples routes vs node:http + ioredis (wrk); SDK samples/s vs raw RPUSH (Redis, wrk)
#   npm run bench -- live-state bytes a pipeline's live state takes per update in fs, Redis and PostgreSQL, format 1 vs 2 (Redis, PostgreSQL)
#   npm run bench -- dashboard initial JS vs the 200 KB budget; Chromium on 5,000 model versions vs a plain HTML table
#   npm run bench -- artifact-s3 artifact upload/download through the server: disk vs S3 (s3rver, started here)
#   npm run bench -- ab       assignments against the GrowthBook SDK; HTTP assignment against bare Hono (Redis; wrk if installed)
#   npm run bench -- conditions local evaluation with targeting conditions vs the GrowthBook SDK's run()
#   npm run bench -- edge     assignment throughput inside workerd vs Node; each edge entry's bundle bytes vs its budget and GrowthBook
#   npm run bench -- gauges   start/complete latency at 10 vs 10,000 running experiments, /metrics at 10 vs 10,000 models (fs, Redis; minutes, so not in "all")
source "$(dirname "$0")/workspace.sh"
install_workspace
turbo run build --output-logs=errors-only
which="${1:-all}"
if [[ "$which" == all || "$which" == stats ]]; then
  [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c "import scipy" 2>/dev/null || {
    [[ $(id -u) -eq 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-scipy >/dev/null
  }
  node bench/stats-vs-scipy.mjs
fi
if [[ "$which" == all || "$which" == drift ]]; then
  source "$(dirname "$0")/ensure-services.sh"
  node bench/drift.mjs
fi
if [[ "$which" == all || "$which" == drift-extra ]]; then
  node bench/drift-extra-tests.mjs
fi
if [[ "$which" == all || "$which" == drift-auto ]]; then
  node bench/drift-auto.mjs
fi
if [[ "$which" == all || "$which" == drift-false-alarms ]]; then
  node bench/drift-false-alarms.mjs
fi
if [[ "$which" == all || "$which" == ab ]]; then
  source "$(dirname "$0")/ensure-services.sh"
  command -v wrk >/dev/null || { [[ $(id -u) -eq 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null || true; }
  node bench/ab-assignment.mjs
fi
if [[ "$which" == all || "$which" == conditions ]]; then
  node bench/conditions.mjs
fi
if [[ "$which" == all || "$which" == edge ]]; then
  node bench/edge-assignment.mjs
  node tooling/runtimes/bundle-budgets.mjs
fi
if [[ "$which" == gauges ]]; then
  source "$(dirname "$0")/ensure-services.sh"
  node bench/gauges.mjs
fi
if [[ "$which" == all || "$which" == learning ]]; then
  node bench/learning.mjs
fi
if [[ "$which" == all || "$which" == learner-format ]]; then
  node bench/learner-format.mjs
fi
if [[ "$which" == all || "$which" == hot-ingest ]]; then
  source "$(dirname "$0")/ensure-services.sh"
  command -v wrk >/dev/null || { [[ $(id -u) -eq 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null || true; }
  node bench/hot-ingest.mjs
fi
if [[ "$which" == all || "$which" == live-state ]]; then
  source "$(dirname "$0")/ensure-services.sh"
  node bench/live-state-bytes.mjs
fi
if [[ "$which" == all || "$which" == dashboard ]]; then
  node bench/dashboard.mjs
fi
if [[ "$which" == all || "$which" == artifact ]]; then
  node bench/artifact-throughput.mjs
fi
if [[ "$which" == all || "$which" == artifact-s3 ]]; then
  node bench/artifact-s3.mjs
fi
