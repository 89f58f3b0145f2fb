# Sourced by test.sh: makes sure what the test suites need is here, or fails loudly.
#  - Redis: ML_TEST_REDIS_URL if set, else 127.0.0.1:6379; if nothing answers, installs
#    redis-server (apt-get) when missing and starts one on a free port for this run.
#  - redis-server and redis-cli on PATH, for the fault and cluster suites that start their own instances.
#  - promtool (Debian's prometheus package), for the metrics exposition checks.
#  - PostgreSQL: ML_TEST_DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/postgres; if
#    nothing answers, initdb into a temporary directory and start one on a free port for this run.
# Nothing is skipped: a missing service is an error.

redis_answers() { # host port
  (exec 3<>"/dev/tcp/$1/$2" && printf 'PING\r\n' >&3 && IFS= read -r -t 2 reply <&3 && [[ "$reply" == "+PONG"* ]]) 2>/dev/null
}

apt_install() {
  if [[ $(id -u) -ne 0 ]]; then echo "ensure-services: $* missing and not root to apt-get install it" >&2; return 1; fi
  if [[ -z "${APT_UPDATED:-}" ]]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_redis() {
  local url="${ML_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
  local hostport="${url#redis://}"; hostport="${hostport##*@}"; hostport="${hostport%%/*}"
  local host="${hostport%%:*}" port="${hostport##*:}"
  if redis_answers "$host" "$port"; then export ML_TEST_REDIS_URL="$url"; echo "Redis: $url"; return; fi
  echo "Redis does not answer at $url; starting one for this run"
  command -v redis-server >/dev/null || apt_install redis-server
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir /tmp --pidfile "/tmp/ml-test-redis-$port.pid" --logfile "/tmp/ml-test-redis-$port.log"
  for _ in $(seq 1 50); do redis_answers 127.0.0.1 "$port" && break; sleep 0.1; done
  redis_answers 127.0.0.1 "$port" || { echo "Could not start redis-server (see /tmp/ml-test-redis-$port.log)" >&2; exit 1; }
  export ML_TEST_REDIS_URL="redis://127.0.0.1:$port"
  # Stop the Redis this run started when the run ends, whatever its outcome.
  trap "kill \$(cat /tmp/ml-test-redis-$port.pid 2>/dev/null) 2>/dev/null || true" EXIT
  echo "Redis: started $ML_TEST_REDIS_URL"
}

ensure_promtool() {
  command -v promtool >/dev/null || apt_install prometheus
  command -v promtool >/dev/null || { echo "promtool is required and could not be installed" >&2; exit 1; }
}

# The Redis fault suites start their own redis-server processes, even when a shared Redis answers.
ensure_redis_server_binary() {
  command -v redis-server >/dev/null || apt_install redis-server
  command -v redis-server >/dev/null || { echo "redis-server is required and could not be installed" >&2; exit 1; }
  # The Redis Cluster suites join their nodes with `redis-cli --cluster create` (Debian: redis-tools).
  command -v redis-cli >/dev/null || apt_install redis-tools
  command -v redis-cli >/dev/null || { echo "redis-cli is required and could not be installed" >&2; exit 1; }
}

# Runs `cmd` in addition to whatever EXIT trap is set already (the Redis one), not instead of it.
add_exit_trap() {
  local command="$1"
  eval "set -- $(trap -p EXIT)"
  trap "${3:+$3; }$command" EXIT
}

postgres_bin_dir() { # the directory holding initdb, pg_ctl and pg_isready: Debian's newest, else /usr/local/bin
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) /usr/local/bin; do
    [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && { echo "$dir"; return; }
  done
  return 1
}

postgres_answers() { # url
  local bin
  if bin=$(postgres_bin_dir) && [[ -x "$bin/pg_isready" ]]; then "$bin/pg_isready" -q -t 2 -d "$1"; return; fi
  local hostport="${1#postgres*://}"; hostport="${hostport##*@}"; hostport="${hostport%%/*}"
  (exec 3<>"/dev/tcp/${hostport%%:*}/${hostport##*:}") 2>/dev/null
}

ensure_postgres() {
  local url="${ML_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  if postgres_answers "$url"; then export ML_TEST_DATABASE_URL="$url"; echo "PostgreSQL: ${url/\/\/*@/\/\/***@}"; return; fi
  echo "PostgreSQL does not answer at ${url/\/\/*@/\/\/***@}; starting one for this run"
  local bin
  bin=$(postgres_bin_dir) || { apt_install postgresql && bin=$(postgres_bin_dir); } ||
    { echo "PostgreSQL (initdb, pg_ctl) is required and could not be installed" >&2; exit 1; }
  local port dir as=()
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  dir=$(mktemp -d /tmp/ml-test-postgres-XXXXXX)
  # PostgreSQL refuses to run as root: as root, run it as the postgres user (or nobody).
  if [[ $(id -u) -eq 0 ]]; then
    local user=nobody
    id postgres >/dev/null 2>&1 && user=postgres
    chown "$user" "$dir"
    as=(runuser -u "$user" --)
  fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
    { echo "initdb failed (see $dir/initdb.log)" >&2; exit 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null ||
    { echo "Could not start PostgreSQL (see $dir/server.log)" >&2; exit 1; }
  export ML_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  postgres_answers "$ML_TEST_DATABASE_URL" || { echo "PostgreSQL started but does not answer (see $dir/server.log)" >&2; exit 1; }
  # Stop the PostgreSQL this run started, and remove its files, when the run ends, whatever its outcome.
  add_exit_trap "${as[*]} $bin/pg_ctl -D $dir/data -m fast -w stop >/dev/null 2>&1 || true; rm -rf $dir"
  echo "PostgreSQL: started $ML_TEST_DATABASE_URL"
}

ensure_redis
ensure_redis_server_binary
ensure_promtool
ensure_postgres

# The dashboard's browser tests drive Debian's chromium through playwright-core.
ensure_chromium() {
  command -v chromium >/dev/null || apt_install chromium
  command -v chromium >/dev/null || { echo "chromium is required for the dashboard tests and could not be installed" >&2; exit 1; }
  export ML_TEST_CHROMIUM="${ML_TEST_CHROMIUM:-$(command -v chromium)}"
}

ensure_chromium
