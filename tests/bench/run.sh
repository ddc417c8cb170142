#!/usr/bin/env bash
# `make bench`: throughput and latency of the gateway on loopback, in one run, against
#   direct   - the demo upstream itself (no gateway),
#   plain    - the gateway on a route with RateLimiterPolicy "Disable" (plain YARP),
#   limited  - the gateway on a route whose Redis sliding-window limit is so high nothing is rejected,
#   banned   - plain's URL, but from a banned client (X-Forwarded-For of an address banned in Redis before the
#              gateway starts; 127.0.0.1 is a trusted proxy): every request is refused with 403 from the ban cache.
# Writes tests/bench/results/<UTC timestamp>.md and latest.md, and prints the report.
# Targets (issues): limited >= 0.80 x plain YARP; banned > 1.0 x plain YARP (rejecting a banned client must be
# cheaper than proxying). See tests/bench/README.md.
#
# Settings (environment):
#   BENCH_DURATION=6         seconds per measured wrk run
#   BENCH_ROUNDS=9           interleaved rounds (direct, plain, limited, banned; repeated); the report shows medians
#   BENCH_WARMUP=10          seconds of warm-up per target before the first round (lets tiered JIT settle)
#   BENCH_THREADS=2          wrk -t
#   BENCH_CONNECTIONS=32     wrk -c
#   BENCH_UPSTREAM_PORT=5090 BENCH_GATEWAY_PORT=8090 BENCH_ADMIN_PORT=8091
#   BENCH_SKIP_BUILD=1       use the existing Release build
#   BENCH_FAIL_BELOW_TARGET=1  exit 3 when limited / plain YARP < 0.80 or banned / plain YARP <= 1.0 (default: report only)
#   BENCH_RESULTS_DIR        where reports go (default tests/bench/results)
#   BENCH_INGEST=1           afterwards, run tests/bench/ingest.sh (audit consumer vs raw COPY); 0 skips it
#   MDV_REDIS_PORT, MDV_LOCAL_DIR  as for deploy/local (Redis port; logs go to $MDV_LOCAL_DIR/bench/<ts>/)
# Exit codes: 0 ok; 1 setup failure or an invalid measurement (non-2xx / socket errors on an admitted
# scenario, anything but 403 or a socket error on banned, a banned request reaching the upstream, or the limiter
# was not active); 3 below a target with BENCH_FAIL_BELOW_TARGET=1.
set -euo pipefail
export LC_ALL=C

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$BENCH_DIR/../.." && pwd -P)"
cd "$REPO_ROOT"

# MDV_LOCAL_DIR, MDV_REDIS_PORT, MDV_REDIS_DIR and the mdv_* helpers, shared with deploy/local.
# shellcheck source=deploy/local/env.sh
. "$REPO_ROOT/deploy/local/env.sh"

: "${BENCH_DURATION:=6}"
: "${BENCH_ROUNDS:=9}"
: "${BENCH_WARMUP:=10}"
: "${BENCH_THREADS:=2}"
: "${BENCH_CONNECTIONS:=32}"
: "${BENCH_UPSTREAM_PORT:=5090}"
: "${BENCH_GATEWAY_PORT:=8090}"
: "${BENCH_ADMIN_PORT:=8091}"
: "${BENCH_SKIP_BUILD:=0}"
: "${BENCH_FAIL_BELOW_TARGET:=0}"
: "${BENCH_RESULTS_DIR:=$BENCH_DIR/results}"

TARGET_RATIO=0.80
BANNED_TARGET_RATIO=1.0 # banned / plain YARP must be above this
HOST=127.0.0.1
SCENARIOS=(direct plain limited banned)
declare -A SCENARIO_TITLE=([direct]="upstream directly" [plain]="plain YARP (no limit)" [limited]="limited (Redis sliding window, never rejects)"
  [banned]="banned client (refused from the ban cache)")
# The banned scenario: wrk's traffic comes from 127.0.0.1 like the others, but 127.0.0.1 is a trusted proxy
# (ClientIp:TrustedProxies in appsettings.bench.json), so X-Forwarded-For names the client. BANNED_IP is banned
# permanently in Redis before the gateway starts; CONTROL_IP is not banned (a control probe: the header alone
# changes nothing). Both are in TEST-NET-2 (RFC 5737), never a real client.
BANNED_IP=198.51.100.66
CONTROL_IP=198.51.100.67
BANNED_STATUS=403 # IpBans:StatusCode, passed to the gateway too

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

for v in BENCH_DURATION BENCH_ROUNDS BENCH_WARMUP BENCH_THREADS BENCH_CONNECTIONS \
  BENCH_UPSTREAM_PORT BENCH_GATEWAY_PORT BENCH_ADMIN_PORT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
((BENCH_CONNECTIONS >= BENCH_THREADS)) || die "BENCH_CONNECTIONS ($BENCH_CONNECTIONS) must be >= BENCH_THREADS ($BENCH_THREADS)"
if ((BENCH_UPSTREAM_PORT == BENCH_GATEWAY_PORT || BENCH_UPSTREAM_PORT == BENCH_ADMIN_PORT || BENCH_GATEWAY_PORT == BENCH_ADMIN_PORT)); then
  die "BENCH_UPSTREAM_PORT, BENCH_GATEWAY_PORT and BENCH_ADMIN_PORT must differ"
fi

TS="$(date -u +%Y%m%dT%H%M%SZ)"
RUN_DIR="$MDV_LOCAL_DIR/bench/$TS"
KEY_PREFIX="bench-$TS"
OVERLAY="$BENCH_DIR/appsettings.bench.json"
UPSTREAM_DIR="$REPO_ROOT/tests/MdvGateway.DemoUpstream/bin/Release/net10.0"
GATEWAY_DIR="$REPO_ROOT/gateway/MdvGateway.Gateway/bin/Release/net10.0"
REDIS_CLI=(redis-cli -h "$HOST" -p "$MDV_REDIS_PORT")
mkdir -p "$RUN_DIR" "$BENCH_RESULTS_DIR"

declare -A URL=(
  [direct]="http://$HOST:$BENCH_UPSTREAM_PORT/plain/bench"
  [plain]="http://$HOST:$BENCH_GATEWAY_PORT/plain/bench"
  [limited]="http://$HOST:$BENCH_GATEWAY_PORT/limited/bench"
  [banned]="http://$HOST:$BENCH_GATEWAY_PORT/plain/bench"
)
# Extra request header per scenario (wrk -H / curl -H).
declare -A HEADER=([banned]="X-Forwarded-For: $BANNED_IP")
BAN_DATA_KEY="$KEY_PREFIX:{bans}:data"
BAN_EXPIRY_KEY="$KEY_PREFIX:{bans}:expiry"

# ---------------------------------------------------------------------------------------------
# Clean-up: the .NET processes and a running wrk are stopped whatever happens.

UPSTREAM_PID=""
GATEWAY_PID=""
WRK_PID=""

stop_pid() {
  local pid=$1 name=$2
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! mdv_wait_pid_exit "$pid" 10; then
    say "$name (pid $pid) did not stop within 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_pid "$WRK_PID" wrk
  stop_pid "$GATEWAY_PID" gateway
  stop_pid "$UPSTREAM_PID" upstream
  # The sliding-window sets of this run (they expire with the 1 s window anyway), and its ban keys (the bench ban
  # is permanent; any strike or offense key would be under the same prefix).
  if command -v redis-cli >/dev/null 2>&1; then
    { "${REDIS_CLI[@]}" --scan --pattern "rl:sw:{$KEY_PREFIX:*" 2>/dev/null
      "${REDIS_CLI[@]}" --scan --pattern "$KEY_PREFIX:*" 2>/dev/null; } | while IFS= read -r key; do
      "${REDIS_CLI[@]}" DEL "$key" >/dev/null 2>&1
    done
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# 1. Tools, services, build.

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if ((${#missing[@]} > 0)); then
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]} and not root: install them first"
    sudo=(sudo)
  fi
  say "installing ${missing[*]} (Debian packages) ..."
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300 >"$RUN_DIR/apt.log" 2>&1 ||
    { tail -n 20 "$RUN_DIR/apt.log" >&2; die "apt-get update failed (log: $RUN_DIR/apt.log)"; }
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 "${missing[@]}" >>"$RUN_DIR/apt.log" 2>&1 ||
    { tail -n 20 "$RUN_DIR/apt.log" >&2; die "apt-get install ${missing[*]} failed (log: $RUN_DIR/apt.log)"; }
fi

say "starting the local services (deploy/local/services-up.sh) ..."
"$REPO_ROOT/deploy/local/services-up.sh"

if [[ $BENCH_SKIP_BUILD == 1 ]]; then
  say "BENCH_SKIP_BUILD=1: using the existing Release build"
else
  say "building (dotnet build MdvGateway.sln -c Release; log: $RUN_DIR/build.log) ..."
  t0=$SECONDS
  if ! dotnet build MdvGateway.sln -c Release -nologo >"$RUN_DIR/build.log" 2>&1; then
    grep -E ' error |error [A-Z]+[0-9]+' "$RUN_DIR/build.log" | sort -u | head -n 30 >&2 || tail -n 30 "$RUN_DIR/build.log" >&2
    die "build failed (log: $RUN_DIR/build.log)"
  fi
  say "build ok ($((SECONDS - t0)) s)"
fi
[[ -f $UPSTREAM_DIR/MdvGateway.DemoUpstream.dll ]] || die "$UPSTREAM_DIR/MdvGateway.DemoUpstream.dll not found (build first)"
[[ -f $GATEWAY_DIR/MdvGateway.Gateway.dll ]] || die "$GATEWAY_DIR/MdvGateway.Gateway.dll not found (build first)"

for p in "$BENCH_UPSTREAM_PORT" "$BENCH_GATEWAY_PORT" "$BENCH_ADMIN_PORT"; do
  if mdv_port_open "$p"; then
    mdv_port_owner "$p" >&2 || true
    die "$HOST:$p is already in use; stop that process or choose other ports (BENCH_UPSTREAM_PORT, BENCH_GATEWAY_PORT, BENCH_ADMIN_PORT)"
  fi
done

# ---------------------------------------------------------------------------------------------
# CPU accounting helpers: CPU seconds per process from /proc, wrk's from the shell's `times`.

CLK_TCK="$(getconf CLK_TCK)"
NPROC="$(nproc)"

proc_ticks() { # utime+stime of PID (all threads), 0 when gone
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
  stat="${stat##*) }"
  awk '{print $12 + $13}' <<<"$stat"
}
sys_ticks() { # "busy total" over all CPUs
  awk '/^cpu /{busy=$2+$3+$4+$7+$8+$9; print busy, busy+$5+$6; exit}' /proc/stat
}
# children_cpu_seconds VAR: user+sys CPU seconds of this shell's waited-for children so far (wrk among them).
# Must run in this shell, not in $(...): a subshell's children start from zero.
children_cpu_seconds() {
  local f="$RUN_DIR/.times"
  times >"$f"
  printf -v "$1" '%s' "$(awk 'NR==2 { t=0; for (i=1;i<=2;i++) { split($i, a, /[ms]/); t += a[1]*60 + a[2] } printf "%.3f", t }' "$f")"
}
# redis_cmdstats FILE: "command calls" per Redis command so far (INFO commandstats; counts the commands that
# Lua scripts run too).
redis_cmdstats() {
  { "${REDIS_CLI[@]}" INFO commandstats 2>/dev/null || true; } |
    awk -F'[:,=]' '/^cmdstat_/ { sub(/^cmdstat_/, "", $1); print $1, $3 }' >"$1"
}
# gateway_metrics FILE: the gateway's Prometheus exposition (admin listener) so far; empty when it does not answer.
gateway_metrics() {
  curl -fsS --max-time 5 "http://$HOST:$BENCH_ADMIN_PORT/metrics" >"$1" 2>/dev/null || : >"$1"
}
# gateway_metric_delta BEFORE AFTER REQUESTS: "decided_by_redis_per_request requests_per_batch reserved_share
# requests_per_call" for the limited policy: admitted decisions made by Redis (mdv_gateway_ratelimit_decisions_total,
# bench-high, allowed, redis) per wrk response; the mean of mdv_gateway_redis_batch_size (requests counted by one
# script call); permits reserved ahead minus those given back (mdv_gateway_ratelimit_reserved_permits_total) per wrk
# response; and wrk responses per rate-limit call to Redis (the batch-size histogram's count).
gateway_metric_delta() {
  awk -v n="$3" '
    function value(line) { sub(/^[^ ]+ /, "", line); sub(/ .*/, "", line); return line + 0 }
    /^mdv_gateway_ratelimit_decisions_total\{/ && /policy="bench-high"/ && /outcome="allowed"/ && /source="redis"/ {
      if (NR == FNR) d0 += value($0); else d1 += value($0)
    }
    /^mdv_gateway_redis_batch_size_sum[{ ]/ { if (NR == FNR) s0 += value($0); else s1 += value($0) }
    /^mdv_gateway_redis_batch_size_count[{ ]/ { if (NR == FNR) c0 += value($0); else c1 += value($0) }
    /^mdv_gateway_ratelimit_reserved_permits_total\{/ {
      sign = /event="returned"/ ? -1 : 1
      if (NR == FNR) r0 += sign * value($0); else r1 += sign * value($0)
    }
    END {
      printf "%.3f %.2f %.3f %.1f\n", n ? (d1 - d0) / n : 0, (c1 - c0) ? (s1 - s0) / (c1 - c0) : 0,
        n ? (r1 - r0) / n : 0, (c1 - c0) ? n / (c1 - c0) : 0
    }
  ' "$1" "$2"
}
# redis_cmd_delta BEFORE AFTER REQUESTS: "total_per_request scripts_per_request breakdown" where breakdown is
# e.g. "evalsha=0.0040,zadd=0.0040" (commands seen at least once per 10,000 requests, most frequent first).
redis_cmd_delta() {
  awk -v n="$3" '
    NR == FNR { before[$1] = $2; next }
    { d = $2 - before[$1]; if (d > 0) delta[$1] = d }
    END {
      total = 0; scripts = 0; list = ""
      for (c in delta) {
        total += delta[c]
        if (c == "eval" || c == "evalsha" || c == "eval_ro" || c == "evalsha_ro" || c == "fcall" || c == "fcall_ro") scripts += delta[c]
      }
      # most frequent first (small n: selection sort)
      while (1) {
        best = ""; bv = 0
        for (c in delta) if (delta[c] > bv) { best = c; bv = delta[c] }
        if (best == "" || !n || bv / n < 0.0001) break
        list = list (list == "" ? "" : ",") sprintf("%s=%.4f", best, bv / n)
        delete delta[best]
      }
      if (list == "") list = "-"
      printf "%.2f %.2f %s\n", n ? total / n : 0, n ? scripts / n : 0, list
    }' "$1" "$2"
}
redis_pid() {
  mdv_pid_alive "$MDV_REDIS_DIR/redis.pid" redis-server 2>/dev/null ||
    ss -Hltnp "sport = :$MDV_REDIS_PORT" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}
REDIS_PID="$(redis_pid || true)"

# Background load before anything of ours runs (other builds or services on the same cores skew the numbers):
# "busy_percent_of_machine top_consumers" over 2 s.
background_sample() {
  python3 - "$CLK_TCK" <<'PY'
import os, sys, time

hz = int(sys.argv[1])

def system():
    f = open("/proc/stat").readline().split()[1:]
    v = [int(x) for x in f]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return busy, busy + v[3] + v[4]

def processes():
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            text = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        out[pid] = (name, int(fields[11]) + int(fields[12]))
    return out

b0, t0, p0, w0 = *system(), processes(), time.monotonic()
time.sleep(2)
b1, t1, p1, w1 = *system(), processes(), time.monotonic()
busy = 100.0 * (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
top = sorted(((p1[p][1] - p0[p][1], p1[p][0], p) for p in p1 if p in p0), reverse=True)[:3]
listed = ", ".join(f"{name} (pid {pid}) {100.0 * d / hz / (w1 - w0):.0f}% of a core" for d, name, pid in top if d > 0)
print(f"{busy:.0f} {listed or 'none'}")
PY
}
read -r BACKGROUND_BUSY_PCT BACKGROUND_TOP < <(background_sample)
# Right after the build its compiler servers and MSBuild nodes may still be winding down: give a busy machine
# up to three more samples (about 10 s) to settle before reporting it as busy.
for ((attempt = 1; attempt <= 3 && BACKGROUND_BUSY_PCT > 15; attempt++)); do
  say "background CPU ${BACKGROUND_BUSY_PCT}% (busiest: $BACKGROUND_TOP); sampling again in 1 s"
  sleep 1
  read -r BACKGROUND_BUSY_PCT BACKGROUND_TOP < <(background_sample)
done
say "background CPU before the run: ${BACKGROUND_BUSY_PCT}% of $NPROC cores (busiest: $BACKGROUND_TOP)"

# ---------------------------------------------------------------------------------------------
# 2. Upstream and gateway.

# The overlay JSON is passed as --Key:Sub=value arguments on top of the gateway's appsettings.json, with the
# run's ports, Redis address and a per-run key prefix substituted.
python3 - "$OVERLAY" \
  "ReverseProxy:Clusters:bench-upstream:Destinations:d1:Address=http://$HOST:$BENCH_UPSTREAM_PORT/" \
  "Redis:Configuration=$HOST:$MDV_REDIS_PORT" \
  "Redis:KeyPrefix=$KEY_PREFIX" \
  "Admin:Urls=http://$HOST:$BENCH_ADMIN_PORT" \
  "IpBans:StatusCode=$BANNED_STATUS" \
  "urls=http://$HOST:$BENCH_GATEWAY_PORT" >"$RUN_DIR/gateway.args" <<'PY'
import json, sys

path, *overrides = sys.argv[1:]
with open(path, encoding="utf-8") as f:
    data = json.load(f)
flat = {}

def walk(prefix, node):
    if isinstance(node, dict):
        for key, value in node.items():
            walk(f"{prefix}:{key}" if prefix else key, value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            walk(f"{prefix}:{i}", value)
    elif node is None:
        flat[prefix] = ""
    elif isinstance(node, bool):
        flat[prefix] = "true" if node else "false"
    else:
        flat[prefix] = str(node)

walk("", data)
for override in overrides:
    key, _, value = override.partition("=")
    for existing in [k for k in flat if k.lower() == key.lower()]:
        del flat[existing]
    flat[key] = value
sys.stdout.write("".join(f"--{k}={v}\n" for k, v in flat.items()))
PY
mapfile -t GATEWAY_ARGS <"$RUN_DIR/gateway.args"
grep -qx -- '--ClientIp:TrustedProxies:0=127.0.0.1' "$RUN_DIR/gateway.args" ||
  die "$OVERLAY must set ClientIp:TrustedProxies to [\"127.0.0.1\"] (the banned scenario's X-Forwarded-For needs it)"

# The banned client: a permanent manual ban written straight into Redis (the ban store's layout: hash target -> ban
# JSON, sorted set target -> expiry ms or +inf) before the gateway starts, so its first load picks it up and readiness
# waits for it. No admin API involved. The key prefix is this run's, so no other gateway sees it.
BAN_CREATED_AT="$(date -u +%Y-%m-%dT%H:%M:%S+00:00)"
BAN_JSON="{\"target\":\"$BANNED_IP\",\"origin\":\"manual\",\"reason\":\"bench\",\"level\":0,\"createdAt\":\"$BAN_CREATED_AT\",\"expiresAt\":null,\"createdBy\":\"bench\",\"policy\":null,\"strikes\":null}"
"${REDIS_CLI[@]}" HSET "$BAN_DATA_KEY" "$BANNED_IP" "$BAN_JSON" >/dev/null || die "could not write the bench ban to Redis ($BAN_DATA_KEY)"
"${REDIS_CLI[@]}" ZADD "$BAN_EXPIRY_KEY" +inf "$BANNED_IP" >/dev/null || die "could not write the bench ban to Redis ($BAN_EXPIRY_KEY)"
[[ "$("${REDIS_CLI[@]}" ZSCORE "$BAN_EXPIRY_KEY" "$BANNED_IP" 2>/dev/null)" == inf ]] || die "the bench ban is not in $BAN_EXPIRY_KEY with score +inf"
say "banned $BANNED_IP permanently in Redis ($BAN_DATA_KEY, $BAN_EXPIRY_KEY)"

say "starting the demo upstream on $HOST:$BENCH_UPSTREAM_PORT (log: $RUN_DIR/upstream.log)"
(
  cd "$UPSTREAM_DIR"
  export ASPNETCORE_ENVIRONMENT=Production DOTNET_ENVIRONMENT=Production
  exec dotnet MdvGateway.DemoUpstream.dll --urls "http://$HOST:$BENCH_UPSTREAM_PORT"
) </dev/null >"$RUN_DIR/upstream.log" 2>&1 &
UPSTREAM_PID=$!

# The binary measured, read before it starts: with other people editing and building the same tree (or with
# BENCH_SKIP_BUILD=1) it need not be HEAD's.
# The SDK stamps the commit it was built from into the informational version (1.0.0+<sha>).
gateway_binary="$(python3 - "$GATEWAY_DIR/MdvGateway.Gateway.dll" <<'PY2'
import datetime, os, re, sys
path = sys.argv[1]
m = re.search(rb"\+([0-9a-f]{40})", open(path, "rb").read())
built = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
print(f"built {built} from commit {m.group(1).decode()[:7] if m else 'unknown'}")
PY2
)" || gateway_binary="unknown"
say "starting the gateway on $HOST:$BENCH_GATEWAY_PORT, admin $HOST:$BENCH_ADMIN_PORT (log: $RUN_DIR/gateway.log)"
(
  cd "$GATEWAY_DIR"
  export ASPNETCORE_ENVIRONMENT=Production DOTNET_ENVIRONMENT=Production
  exec dotnet MdvGateway.Gateway.dll "${GATEWAY_ARGS[@]}"
) </dev/null >"$RUN_DIR/gateway.log" 2>&1 &
GATEWAY_PID=$!

# wait_ok NAME PID LOG URL...: every URL answers 2xx within 60 s, or the process's exit is reported.
wait_ok() {
  local name=$1 pid=$2 log=$3 url deadline=$((SECONDS + 60))
  shift 3
  for url in "$@"; do
    until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
      if ! kill -0 "$pid" 2>/dev/null; then
        local rc=0
        wait "$pid" || rc=$?
        echo "---- $log ----" >&2
        tail -n 40 "$log" >&2 || true
        die "$name exited with code $rc during start-up (log: $log)"
      fi
      if ((SECONDS >= deadline)); then
        tail -n 40 "$log" >&2 || true
        die "$name did not answer $url within 60 s (log: $log)"
      fi
      sleep 0.2
    done
  done
}
wait_ok upstream "$UPSTREAM_PID" "$RUN_DIR/upstream.log" "${URL[direct]}"
wait_ok gateway "$GATEWAY_PID" "$RUN_DIR/gateway.log" \
  "http://$HOST:$BENCH_ADMIN_PORT/health/ready" "${URL[plain]}" "${URL[limited]}"
say "upstream pid $UPSTREAM_PID, gateway pid $GATEWAY_PID, redis pid ${REDIS_PID:-?}: all answer"

# header_value URL NAME: the value of response header NAME (empty when absent).
header_value() {
  { curl -sS -o /dev/null -D - --max-time 5 "$1" 2>/dev/null || true; } |
    awk -v want="$(tr '[:upper:]' '[:lower:]' <<<"$2")" -F': ' \
      'tolower($1) == want { sub(/\r$/, "", $2); print $2; exit }'
}
PRE_LIMITED_HEADER="$(header_value "${URL[limited]}" RateLimit)"
PRE_LIMITED_POLICY="$(header_value "${URL[limited]}" RateLimit-Policy)"
PRE_PLAIN_HEADER="$(header_value "${URL[plain]}" RateLimit)"
say "before the run: /limited RateLimit: '${PRE_LIMITED_HEADER}', RateLimit-Policy: '${PRE_LIMITED_POLICY}'; /plain RateLimit: '${PRE_PLAIN_HEADER}'"

# probe NAME URL [HEADER]: one curl request; sets PROBE_STATUS/PROBE_CTYPE/PROBE_RETRY_AFTER[NAME] and keeps the
# response in $RUN_DIR/probe-NAME.{headers,body}.
declare -A PROBE_STATUS=() PROBE_CTYPE=() PROBE_RETRY_AFTER=()
probe() {
  local name=$1 url=$2 header=${3:-} code
  local -a extra=()
  [[ -z $header ]] || extra=(-H "$header")
  code="$(curl -sS -o "$RUN_DIR/probe-$name.body" -D "$RUN_DIR/probe-$name.headers" -w '%{http_code}' --max-time 5 \
    "${extra[@]}" "$url" 2>"$RUN_DIR/probe-$name.err" || true)"
  PROBE_STATUS[$name]=${code:-000}
  PROBE_CTYPE[$name]="$(awk -F': ' 'tolower($1) == "content-type" { sub(/\r$/, "", $2); print $2; exit }' "$RUN_DIR/probe-$name.headers" 2>/dev/null)"
  PROBE_RETRY_AFTER[$name]="$(awk -F': ' 'tolower($1) == "retry-after" { sub(/\r$/, "", $2); print $2; exit }' "$RUN_DIR/probe-$name.headers" 2>/dev/null)"
}
# probe_summary NAME: "403 application/problem+json, body {...}" for messages.
probe_summary() {
  printf '%s %s, body %s' "${PROBE_STATUS[$1]}" "${PROBE_CTYPE[$1]:-(no content-type)}" \
    "$(head -c 400 "$RUN_DIR/probe-$1.body" 2>/dev/null | tr '\n' ' ')$(cat "$RUN_DIR/probe-$1.err" 2>/dev/null)"
}
# banned_body_ok NAME: the body is the banned problem document of a permanent ban.
banned_body_ok() {
  python3 - "$RUN_DIR/probe-$1.body" "$BANNED_STATUS" <<'PY2'
import json, sys
try:
    doc = json.load(open(sys.argv[1], encoding="utf-8"))
except Exception:
    sys.exit(1)
ok = (isinstance(doc, dict) and doc.get("type") == "urn:mdvgateway:problem:banned"
      and doc.get("status") in (None, int(sys.argv[2])) and "bannedUntil" in doc and doc["bannedUntil"] is None)
sys.exit(0 if ok else 1)
PY2
}

# Before the run: the admitted scenarios answer 200 without X-Forwarded-For (client 127.0.0.1, trusted proxy or not),
# the banned client gets the banned answer on /plain and on /limited (bans apply on every route), and a client that
# is not banned, sent through the same trusted proxy, is admitted (so the 403s come from the ban, not the header).
probe direct "${URL[direct]}"
probe plain "${URL[plain]}"
probe limited "${URL[limited]}"
probe banned "${URL[banned]}" "${HEADER[banned]}"
probe banned-limited "${URL[limited]}" "${HEADER[banned]}"
probe control "${URL[plain]}" "X-Forwarded-For: $CONTROL_IP"
for s in direct plain limited control; do
  [[ ${PROBE_STATUS[$s]} == 200 ]] || die "before the run: the $s probe got $(probe_summary "$s"), expected 200"
done
for s in banned banned-limited; do
  [[ ${PROBE_STATUS[$s]} == "$BANNED_STATUS" ]] ||
    die "gateway misbehaves: the $s probe (X-Forwarded-For: $BANNED_IP, banned) got $(probe_summary "$s"), expected $BANNED_STATUS (log: $RUN_DIR/gateway.log)"
done
[[ ${PROBE_CTYPE[banned]} == application/problem+json* ]] ||
  die "gateway misbehaves: the banned answer has Content-Type '${PROBE_CTYPE[banned]}', expected application/problem+json"
banned_body_ok banned ||
  die "gateway misbehaves: the banned answer is not the banned problem document of a permanent ban: $(probe_summary banned)"
[[ -z ${PROBE_RETRY_AFTER[banned]} ]] ||
  die "gateway misbehaves: the answer to a permanently banned client has Retry-After: ${PROBE_RETRY_AFTER[banned]}"
BANNED_PROBE_BODY="$(tr -d '\r\n' <"$RUN_DIR/probe-banned.body")"
say "before the run: direct/plain/limited 200; banned ($BANNED_IP) /plain ${PROBE_STATUS[banned]} and /limited ${PROBE_STATUS[banned-limited]} (${PROBE_CTYPE[banned]}); control ($CONTROL_IP) /plain ${PROBE_STATUS[control]}"

# ---------------------------------------------------------------------------------------------
# 3. Warm-up and measurement.

# parse_wrk FILE: "rps p50_ms p99_ms requests non2xx socket_errors"
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
      if (v ~ /h$/)  return substr(v, 1, length(v) - 1) * 3600000
      return v + 0
    }
    BEGIN { rps = "NA"; p50 = "NA"; p99 = "NA"; req = "NA"; non2xx = 0; serr = 0 }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { req = $1 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(/,/, ""); serr = $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %s %s %s\n", rps, p50, p99, req, non2xx, serr }
  ' "$1"
}

# run_wrk SECONDS SCENARIO OUT [WRK OPTIONS...]: wrk against the scenario's URL (with its header, if any) in the
# background (so it can be stopped by the trap), waited for with wait_wrk.
run_wrk() {
  local seconds=$1 s=$2 out=$3
  shift 3
  local -a header=()
  [[ -z ${HEADER[$s]:-} ]] || header=(-H "${HEADER[$s]}")
  wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$seconds"s --latency "${header[@]}" "$@" "${URL[$s]}" >"$out" 2>&1 &
  WRK_PID=$!
}
wait_wrk() {
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  return "$rc"
}

# A wrk script that counts the banned scenario's answers by status. Not used for the measured runs: a Lua
# response() callback costs wrk CPU on every response, and wrk shares the cores with the gateway. It runs during
# the banned warm-up and once more after the last round (BENCH_WARMUP s each), under the same flood.
CENSUS_LUA="$RUN_DIR/status-census.lua"
cat >"$CENSUS_LUA" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  expected = @EXPECTED@; n_expected = 0; n_other = 0; other_codes = ""
end
function response(status, headers, body)
  if status == expected then
    n_expected = n_expected + 1
  else
    n_other = n_other + 1
    if #other_codes < 100 and not string.find(other_codes .. " ", " " .. status .. " ", 1, true) then
      other_codes = other_codes .. " " .. status
    end
  end
end
function done(summary, latency, requests)
  local e, o, codes = 0, 0, ""
  for _, t in ipairs(threads) do
    e = e + t:get("n_expected"); o = o + t:get("n_other"); codes = codes .. t:get("other_codes")
  end
  io.write(string.format("census: expected %d other %d codes%s\n", e, o, codes))
end
LUA
sed -i "s/@EXPECTED@/$BANNED_STATUS/" "$CENSUS_LUA"
# census SECONDS OUT: "expected other codes..." for the banned scenario.
CENSUS_EXPECTED=0
CENSUS_OTHER=0
CENSUS_OTHER_CODES=""
census() {
  run_wrk "$1" banned "$2" -s "$CENSUS_LUA"
  wait_wrk || die "wrk failed during the status census of banned: $(tail -n 5 "$2")"
  local line e o codes
  line="$(grep '^census: ' "$2")" || die "no status census in $2: $(tail -n 5 "$2")"
  read -r _ _ e _ o _ codes <<<"$line"
  CENSUS_EXPECTED=$((CENSUS_EXPECTED + e))
  CENSUS_OTHER=$((CENSUS_OTHER + o))
  local code
  for code in $codes; do # each thread reports its own list: keep every code once
    [[ " $CENSUS_OTHER_CODES " == *" $code "* ]] || CENSUS_OTHER_CODES+="${CENSUS_OTHER_CODES:+ }$code"
  done
}

say "warm-up: ${BENCH_WARMUP} s per target"
for s in "${SCENARIOS[@]}"; do
  if [[ $s == banned ]]; then
    census "$BENCH_WARMUP" "$RUN_DIR/warmup-$s.txt"
  else
    run_wrk "$BENCH_WARMUP" "$s" "$RUN_DIR/warmup-$s.txt"
    wait_wrk || die "wrk failed during warm-up of $s: $(tail -n 5 "$RUN_DIR/warmup-$s.txt")"
  fi
done

declare -A R=()            # R[scenario,round,field]
LIMITED_HEADER_SEEN=0
MID_LIMITED_HEADER=""
BANNED_MID_OK=0
BANNED_MID_BAD=""
MID_REDIS_KEYS=""
MID_REDIS_ENTRIES=""
total_s=$((BENCH_ROUNDS * ${#SCENARIOS[@]} * BENCH_DURATION))
say "measuring: $BENCH_ROUNDS rounds x ${SCENARIOS[*]}, ${BENCH_DURATION} s each (~${total_s} s)"
for ((round = 1; round <= BENCH_ROUNDS; round++)); do
  for s in "${SCENARIOS[@]}"; do
    out="$RUN_DIR/round$round-$s.txt"
    redis_cmdstats "$RUN_DIR/.cmdstats0"
    gateway_metrics "$RUN_DIR/.metrics0"
    g0="$(proc_ticks "$GATEWAY_PID")"; u0="$(proc_ticks "$UPSTREAM_PID")"; r0="$(proc_ticks "${REDIS_PID:-0}")"
    read -r sb0 st0 < <(sys_ticks)
    w0=${EPOCHREALTIME/./}
    children_cpu_seconds cpu_w0

    run_wrk "$BENCH_DURATION" "$s" "$out"
    if [[ $s == banned ]]; then
      # Proof, while the flood runs, that the banned client still gets the banned answer.
      sleep "$(awk -v d="$BENCH_DURATION" 'BEGIN{print d/2}')"
      probe "banned-mid$round" "${URL[banned]}" "${HEADER[banned]}"
      if [[ ${PROBE_STATUS[banned-mid$round]} == "$BANNED_STATUS" ]]; then
        BANNED_MID_OK=$((BANNED_MID_OK + 1))
      else
        BANNED_MID_BAD+="${BANNED_MID_BAD:+; }round $round: $(probe_summary "banned-mid$round")"
      fi
    fi
    if [[ $s == limited ]]; then
      # Proof, while the load runs, that the limiter is active and its state lives in Redis.
      sleep "$(awk -v d="$BENCH_DURATION" 'BEGIN{print d/2}')"
      h="$(header_value "${URL[limited]}" RateLimit)"
      if [[ -n $h ]]; then
        LIMITED_HEADER_SEEN=$((LIMITED_HEADER_SEEN + 1))
        [[ -n $MID_LIMITED_HEADER ]] || MID_LIMITED_HEADER=$h
      fi
      if [[ -z $MID_REDIS_KEYS ]]; then
        mapfile -t keys < <("${REDIS_CLI[@]}" --scan --pattern "rl:sw:{$KEY_PREFIX:*" 2>/dev/null || true)
        MID_REDIS_KEYS=${#keys[@]}
        MID_REDIS_ENTRIES=""
        for k in "${keys[@]}"; do
          t="$("${REDIS_CLI[@]}" TYPE "$k" 2>/dev/null || echo '?')"
          case $t in
            zset) d="sorted set, $("${REDIS_CLI[@]}" ZCARD "$k" 2>/dev/null || echo '?') entries" ;;
            hash) d="hash, $("${REDIS_CLI[@]}" HLEN "$k" 2>/dev/null || echo '?') fields" ;;
            *) d=$t ;;
          esac
          MID_REDIS_ENTRIES+="${MID_REDIS_ENTRIES:+; }\`$k\` ($d)"
        done
      fi
    fi
    wait_wrk || die "wrk failed on $s (round $round): $(tail -n 5 "$out")"

    children_cpu_seconds cpu_w1
    w1=${EPOCHREALTIME/./}
    read -r sb1 st1 < <(sys_ticks)
    g1="$(proc_ticks "$GATEWAY_PID")"; u1="$(proc_ticks "$UPSTREAM_PID")"; r1="$(proc_ticks "${REDIS_PID:-0}")"
    redis_cmdstats "$RUN_DIR/.cmdstats1"
    gateway_metrics "$RUN_DIR/.metrics1"

    kill -0 "$GATEWAY_PID" 2>/dev/null || die "the gateway died during the run (log: $RUN_DIR/gateway.log)"
    kill -0 "$UPSTREAM_PID" 2>/dev/null || die "the upstream died during the run (log: $RUN_DIR/upstream.log)"

    read -r rps p50 p99 req non2xx serr < <(parse_wrk "$out")
    [[ $rps != NA && $p50 != NA && $p99 != NA && $req != NA ]] || die "could not parse wrk output $out"
    wall="$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", (b-a)/1e6}')"
    R[$s,$round,rps]=$rps; R[$s,$round,p50]=$p50; R[$s,$round,p99]=$p99
    R[$s,$round,req]=$req; R[$s,$round,non2xx]=$non2xx; R[$s,$round,serr]=$serr
    read -r "R[$s,$round,rcmd]" "R[$s,$round,rscript]" "R[$s,$round,rmix]" < <(redis_cmd_delta "$RUN_DIR/.cmdstats0" "$RUN_DIR/.cmdstats1" "$req")
    read -r "R[$s,$round,rdec]" "R[$s,$round,rbatch]" "R[$s,$round,rres]" "R[$s,$round,rpercall]" < <(gateway_metric_delta "$RUN_DIR/.metrics0" "$RUN_DIR/.metrics1" "$req")
    # CPU in cores (CPU seconds / wall seconds); "other" = everything busy that is not one of the four.
    read -r "R[$s,$round,cwrk]" "R[$s,$round,cgw]" "R[$s,$round,cup]" "R[$s,$round,credis]" "R[$s,$round,cother]" "R[$s,$round,ctotal]" < <(
      awk -v wall="$wall" -v hz="$CLK_TCK" -v w="$(awk -v a="$cpu_w0" -v b="$cpu_w1" 'BEGIN{print b-a}')" \
        -v g="$((g1 - g0))" -v u="$((u1 - u0))" -v r="$((r1 - r0))" -v sb="$((sb1 - sb0))" -v st="$((st1 - st0))" -v n="$NPROC" \
        'BEGIN {
           cw = w / wall; cg = g / hz / wall; cu = u / hz / wall; cr = r / hz / wall
           ct = st ? n * sb / st : 0; co = ct - cw - cg - cu - cr; if (co < 0) co = 0
           printf "%.2f %.2f %.2f %.2f %.2f %.2f\n", cw, cg, cu, cr, co, ct
         }')
    say "$(printf 'round %d %-8s %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  non-2xx %s  socket errors %s  cpu: wrk %s gw %s up %s redis %s other %s' \
      "$round" "$s" "$rps" "$p50" "$p99" "$non2xx" "$serr" "${R[$s,$round,cwrk]}" "${R[$s,$round,cgw]}" \
      "${R[$s,$round,cup]}" "${R[$s,$round,credis]}" "${R[$s,$round,cother]}")"
  done
done

# After the flood: one more status census of the banned client, the bans and strikes in Redis (only the bench ban,
# no automatic ban, no strike: nothing was rate-limited), and what the gateway logged at Warning or above (a 5xx
# answer is logged at Error even with the per-request line off).
say "status census of banned after the last round (${BENCH_WARMUP} s)"
census "$BENCH_WARMUP" "$RUN_DIR/census-after.txt"
kill -0 "$GATEWAY_PID" 2>/dev/null || die "the gateway died during the run (log: $RUN_DIR/gateway.log)"
POST_BAN_TARGETS="$("${REDIS_CLI[@]}" HKEYS "$BAN_DATA_KEY" 2>/dev/null | paste -sd ' ' -)"
POST_BAN_COUNT="$("${REDIS_CLI[@]}" ZCARD "$BAN_EXPIRY_KEY" 2>/dev/null || echo '?')"
POST_STRIKE_KEYS="$("${REDIS_CLI[@]}" --scan --pattern "$KEY_PREFIX:{c:*" 2>/dev/null | wc -l)"
POST_OFFENDERS="$("${REDIS_CLI[@]}" ZCARD "$KEY_PREFIX:{offenders}" 2>/dev/null || echo '?')"
LOG_ERRORS="$(grep -cE '"@l":"(Error|Fatal)"' "$RUN_DIR/gateway.log" || true)"
LOG_WARNINGS="$(grep -c '"@l":"Warning"' "$RUN_DIR/gateway.log" || true)"
# wrk stops with requests in flight. The gateway answers those 499 (client gone) and logs them at Debug (7002), so
# they are in neither count; an upstream failure (7001) or a 5xx would be.
LOG_FIRST="$(grep -E '"@l":"(Warning|Error|Fatal)"' "$RUN_DIR/gateway.log" | head -n 3 |
  python3 -c 'import json, sys
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        print(line.strip()[:200]); continue
    print("%s: %s" % (e.get("@l"), (e.get("@m") or e.get("@mt") or "")[:200]))' | paste -sd '|' - || true)"

# ---------------------------------------------------------------------------------------------
# 4. Report.

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
sum() { printf '%s\n' "$@" | awk '{t += $1} END {print t + 0}'; }
field_values() { local s=$1 f=$2 r; for ((r = 1; r <= BENCH_ROUNDS; r++)); do printf '%s\n' "${R[$s,$r,$f]}"; done; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b ? a/b : 0}'; }

declare -A M=()
for s in "${SCENARIOS[@]}"; do
  for f in rps p50 p99 rcmd rscript rdec rbatch rres rpercall cwrk cgw cup credis cother ctotal; do
    mapfile -t vals < <(field_values "$s" "$f")
    M[$s,$f]="$(median "${vals[@]}")"
  done
  for f in non2xx serr req; do
    mapfile -t vals < <(field_values "$s" "$f")
    M[$s,$f]="$(sum "${vals[@]}")"
  done
done

RATIO_PLAIN_DIRECT="$(ratio "${M[plain,rps]}" "${M[direct,rps]}")"
RATIO_LIMITED_PLAIN="$(ratio "${M[limited,rps]}" "${M[plain,rps]}")"
RATIO_LIMITED_DIRECT="$(ratio "${M[limited,rps]}" "${M[direct,rps]}")"
RATIO_BANNED_PLAIN="$(ratio "${M[banned,rps]}" "${M[plain,rps]}")"
RATIO_BANNED_LIMITED="$(ratio "${M[banned,rps]}" "${M[limited,rps]}")"
RATIO_BANNED_DIRECT="$(ratio "${M[banned,rps]}" "${M[direct,rps]}")"
if awk -v r="$RATIO_LIMITED_PLAIN" -v t="$TARGET_RATIO" 'BEGIN{exit !(r >= t)}'; then VERDICT=PASS; else VERDICT="BELOW TARGET"; fi
# Compared unrounded: a ratio of 1.004 must not pass as "1.00 > 1.0".
if awk -v a="${M[banned,rps]}" -v b="${M[plain,rps]}" -v t="$BANNED_TARGET_RATIO" 'BEGIN{exit !(b > 0 && a / b > t)}'; then
  VERDICT_BANNED=PASS
else
  VERDICT_BANNED="BELOW TARGET"
fi
# Gateway CPU per request in microseconds (gateway cores / req/s).
us_per_req() { awk -v c="$1" -v r="$2" 'BEGIN{ if (r > 0) printf "%.1f", c / r * 1e6; else printf "-" }'; }

# Is the measurement valid? Nothing may fail on the admitted routes, every answer to the banned client must be the
# banned status (and never come from the upstream), and the limiter must have been active.
problems=()
for s in "${SCENARIOS[@]}"; do
  if [[ $s == banned ]]; then
    # wrk counts every status >= 400 as "Non-2xx or 3xx"; the census below tells 403 from the rest.
    ((${M[$s,non2xx]} == ${M[$s,req]})) ||
      problems+=("banned: only ${M[$s,non2xx]} of ${M[$s,req]} responses were >= 400: the gateway admitted a banned client $((M[$s,req] - M[$s,non2xx])) times")
  else
    [[ ${M[$s,non2xx]} == 0 ]] || problems+=("$s: ${M[$s,non2xx]} non-2xx responses")
  fi
  [[ ${M[$s,serr]} == 0 ]] || problems+=("$s: ${M[$s,serr]} socket errors")
done
((CENSUS_OTHER == 0)) ||
  problems+=("banned: the status census saw $CENSUS_OTHER responses other than $BANNED_STATUS (status codes: $CENSUS_OTHER_CODES) among $((CENSUS_EXPECTED + CENSUS_OTHER))")
((CENSUS_EXPECTED > 0)) || problems+=("banned: the status census saw no $BANNED_STATUS at all")
((BANNED_MID_OK == BENCH_ROUNDS)) ||
  problems+=("banned: the probe in the middle of the run got $BANNED_STATUS in only $BANNED_MID_OK of $BENCH_ROUNDS rounds ($BANNED_MID_BAD)")
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
  awk -v c="${R[banned,$r,cup]}" 'BEGIN{exit !(c <= 0.05)}' ||
    problems+=("banned, round $r: the upstream used ${R[banned,$r,cup]} cores: banned requests seem to reach the upstream")
done
[[ $POST_BAN_TARGETS == "$BANNED_IP" && $POST_BAN_COUNT == 1 ]] ||
  problems+=("bans in Redis after the run: '$POST_BAN_TARGETS' ($POST_BAN_COUNT in the expiry set); expected only the bench ban of $BANNED_IP (an automatic ban would mean something was rate-limited)")
((POST_STRIKE_KEYS == 0)) || problems+=("$POST_STRIKE_KEYS strike/offense key(s) in Redis after the run: something was rate-limited")
((LOG_ERRORS == 0)) || problems+=("the gateway logged $LOG_ERRORS line(s) at Error or Fatal (a 5xx answer is one): $LOG_FIRST")
[[ $MID_REDIS_ENTRIES == *":127.0.0.1}\`"* ]] ||
  problems+=("the limited partition is not client 127.0.0.1 (keys: ${MID_REDIS_ENTRIES:-none}): trusting 127.0.0.1 as a proxy changed who the admitted client is")
[[ -n $PRE_LIMITED_HEADER ]] || problems+=("/limited answered without a RateLimit header before the run")
((LIMITED_HEADER_SEEN == BENCH_ROUNDS)) || problems+=("/limited carried a RateLimit header in only $LIMITED_HEADER_SEEN of $BENCH_ROUNDS measured runs")
[[ -z $PRE_PLAIN_HEADER ]] || problems+=("/plain answered with a RateLimit header ('$PRE_PLAIN_HEADER'): it is not plain YARP")
# Every limited request must have been decided by Redis. Counted by the gateway itself, because Redis commands per
# request say little once a client's queued requests share a script call. At least one decision per wrk response:
# requests cut off when wrk stops were decided but not counted by wrk.
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
  awk -v c="${R[limited,$r,rdec]}" 'BEGIN{exit !(c >= 0.99)}' ||
    problems+=("round $r: only ${R[limited,$r,rdec]} Redis-decided admissions per request on /limited (mdv_gateway_ratelimit_decisions_total): the limiter did not reach Redis for every request")
done

# A banned request costs no Redis command; the ban cache's resync (every 10 s) and other clients of the same Redis
# (other engineers' test runs) do. Above 0.01 per request it is worth a look, but not proof of a Redis trip.
if awk -v c="${M[banned,rcmd]}" 'BEGIN{exit !(c >= 0.01)}'; then
  BANNED_REDIS_WARNING="**Warning:** ${M[banned,rcmd]} Redis commands per request during the banned runs (expected about 0: the ban check is local). Other clients of the same Redis count too; see the per-round breakdown."
else
  BANNED_REDIS_WARNING=""
fi

# Not invalid, but worth a warning: something else used the CPU the benchmark processes compete for.
NOISE_LIMIT=0.15
noisy=""
for s in "${SCENARIOS[@]}"; do
  if awk -v o="${M[$s,cother]}" -v l="$NOISE_LIMIT" 'BEGIN{exit !(o > l)}'; then
    noisy+="${noisy:+, }$s $(printf '%.2f' "${M[$s,cother]}")"
  fi
done
if [[ -n $noisy ]] || ((BACKGROUND_BUSY_PCT > 15)); then
  NOISE_WARNING="**Warning: the machine was not quiet** (background before the run ${BACKGROUND_BUSY_PCT}%; cores used by other processes during the runs: ${noisy:-none above $NOISE_LIMIT}). Other work competes for the same cores, so these numbers are skewed; re-run on a quiet machine."
else
  NOISE_WARNING=""
fi

git_commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git_changes="$(git status --porcelain -- . ":(exclude)tests/bench/results" 2>/dev/null | wc -l)"
if ((git_changes > 0)); then git_state="$git_commit dirty ($git_changes uncommitted paths)"; else git_state="$git_commit"; fi
cpu_model="$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
mem_total="$(awk '/^MemTotal:/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
dotnet_version="$(dotnet --version 2>/dev/null || echo unknown)"
dotnet_runtime="$(dotnet --list-runtimes 2>/dev/null | awk '/Microsoft.AspNetCore.App/{v=$2} END{print v}')"
wrk_version="$(wrk -v 2>&1 | awk 'NR==1{print $2}' || true)"
redis_version="$("${REDIS_CLI[@]}" INFO server 2>/dev/null | awk -F: '/^redis_version:/{gsub(/\r/,"",$2); print $2}')"

REPORT="$BENCH_RESULTS_DIR/$TS.md"
{
  echo "# MdvGateway benchmark $TS"
  echo
  echo "**limited / plain YARP = ${RATIO_LIMITED_PLAIN}× — $VERDICT** (target ≥ ${TARGET_RATIO}×)."
  echo
  echo "**banned / plain YARP = ${RATIO_BANNED_PLAIN}× — $VERDICT_BANNED** (target > ${BANNED_TARGET_RATIO}×: rejecting a banned client must be cheaper than proxying)."
  if [[ -n $NOISE_WARNING ]]; then
    echo
    echo "$NOISE_WARNING"
  fi
  if [[ -n $BANNED_REDIS_WARNING ]]; then
    echo
    echo "$BANNED_REDIS_WARNING"
  fi
  if ((${#problems[@]} > 0)); then
    echo
    echo "**INVALID MEASUREMENT:**"
    for p in "${problems[@]}"; do echo "- $p"; done
  fi
  echo
  echo "- Date (UTC): $(date -u '+%Y-%m-%d %H:%M:%S')"
  echo "- Machine: $NPROC × $cpu_model, $mem_total RAM, Linux $(uname -r)"
  echo "- .NET SDK $dotnet_version (ASP.NET Core runtime $dotnet_runtime), Release build; Redis $redis_version; wrk $wrk_version"
  echo "- Git commit: $git_state; gateway binary (MdvGateway.Gateway.dll) $gateway_binary (uncommitted changes in the tree at build time are not recorded)"
  echo "- Load: \`wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_DURATION}s --latency\` on loopback; $BENCH_ROUNDS interleaved rounds (${SCENARIOS[*]}, repeated), after ${BENCH_WARMUP} s of warm-up per target; every figure below is the median over the rounds, except the counts (non-2xx, socket errors), which are summed. The banned scenario is \`wrk -H '${HEADER[banned]}'\` against plain's URL."
  echo "- Everything shares the same $NPROC cores: wrk, gateway, upstream, Redis. Background CPU in the 2 s before the gateway started: ${BACKGROUND_BUSY_PCT}% of the machine (busiest: $BACKGROUND_TOP)."
  echo "- Gateway logging: the per-request log line is off (\`Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware=Warning\`) and stdout goes to a file; this applies equally to all gateway scenarios (a banned request's log line is Information too, so it is off as well)."
  echo
  echo "| scenario | target | req/s | p50 ms | p99 ms | non-2xx | socket errors |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  for s in "${SCENARIOS[@]}"; do
    target="\`GET ${URL[$s]}\`"
    non2xx=${M[$s,non2xx]}
    if [[ $s == banned ]]; then
      target+=" + \`${HEADER[banned]}\`"
      non2xx="$non2xx of ${M[$s,req]} (expected: all $BANNED_STATUS)"
    fi
    printf '| %s | %s | %.0f | %.2f | %.2f | %s | %s |\n' "${SCENARIO_TITLE[$s]}" "$target" \
      "${M[$s,rps]}" "${M[$s,p50]}" "${M[$s,p99]}" "$non2xx" "${M[$s,serr]}"
  done
  echo
  echo "| ratio (req/s) | value | target |"
  echo "| --- | ---: | --- |"
  echo "| plain YARP / direct | ${RATIO_PLAIN_DIRECT}× | |"
  echo "| limited / plain YARP | ${RATIO_LIMITED_PLAIN}× | ≥ ${TARGET_RATIO}×: **$VERDICT** |"
  echo "| limited / direct | ${RATIO_LIMITED_DIRECT}× | |"
  echo "| banned / plain YARP | ${RATIO_BANNED_PLAIN}× | > ${BANNED_TARGET_RATIO}×: **$VERDICT_BANNED** |"
  echo "| banned / limited | ${RATIO_BANNED_LIMITED}× | |"
  echo "| banned / direct | ${RATIO_BANNED_DIRECT}× | |"
  echo
  printf 'limited / plain YARP per round:'
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do printf ' %s' "$(ratio "${R[limited,$r,rps]}" "${R[plain,$r,rps]}")×"; done
  # Plain and limited run back to back in each round, so their ratio within a round is also an estimate; its median
  # is given as a cross-check of the verdict (which stays the ratio of the medians above).
  PAIRED=()
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do PAIRED+=("$(awk -v a="${R[limited,$r,rps]}" -v b="${R[plain,$r,rps]}" 'BEGIN{printf "%.4f", (b > 0 ? a / b : 0)}')"); done
  printf ' (median of the rounds: %.2f×)' "$(median "${PAIRED[@]}")"
  echo
  echo
  printf 'banned / plain YARP per round:'
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do printf ' %s' "$(ratio "${R[banned,$r,rps]}" "${R[plain,$r,rps]}")×"; done
  echo
  echo
  echo "## Limiter check"
  echo
  echo "- Route \`/limited/{**rest}\` → policy \`bench-high\`: PermitLimit 1000000 per 00:00:01 sliding window, per client IP (all wrk traffic is one partition, 127.0.0.1), Redis key prefix \`$KEY_PREFIX\`, \`WhenStoreUnavailable: Reject\` (so a request that could not reach Redis would show up as a non-2xx 503, not as a silent pass)."
  echo "- \`RateLimit\` header on /limited before the run: \`${PRE_LIMITED_HEADER:-absent}\` (\`RateLimit-Policy: ${PRE_LIMITED_POLICY:-absent}\`); in the middle of the measured runs it was present in $LIMITED_HEADER_SEEN of $BENCH_ROUNDS (first: \`${MID_LIMITED_HEADER:-absent}\`)."
  if [[ -n $PRE_PLAIN_HEADER ]]; then
    echo "- \`RateLimit\` header on /plain: \`$PRE_PLAIN_HEADER\` (unexpected: /plain should not be limited)."
  else
    echo "- \`RateLimit\` header on /plain: absent, as expected."
  fi
  echo "- Redis mid-run (round 1): ${MID_REDIS_KEYS:-0} key(s) under the run's prefix${MID_REDIS_ENTRIES:+: $MID_REDIS_ENTRIES}."
  printf -- '- Redis commands per request (INFO commandstats, all clients of this Redis, commands run inside Lua scripts included; median): direct %.2f, plain %.2f, limited %.2f; of which script calls (EVAL/EVALSHA/FCALL) on limited: %.2f per request.\n' \
    "${M[direct,rcmd]}" "${M[plain,rcmd]}" "${M[limited,rcmd]}" "${M[limited,rscript]}"
  printf -- '- Redis commands per request on limited, round 1: %s.\n' "$(sed 's/=/ /g; s/,/, /g' <<<"${R[limited,1,rmix]}")"
  printf -- '- Admissions decided by Redis per limited request (the gateway'"'"'s `mdv_gateway_ratelimit_decisions_total`, median): %.3f; requests counted together by one script call (`mdv_gateway_redis_batch_size`, mean, median over rounds): %.2f. All wrk connections are one client, so requests that arrive while that client'"'"'s call is in flight are counted together by the next call.\n' \
    "${M[limited,rdec]}" "${M[limited,rbatch]}"
  printf -- '- Admitted from a reserve (permits a call counted ahead, minus those given back, per limited request; `mdv_gateway_ratelimit_reserved_permits_total`, median): %.3f; limited requests per rate-limit call to Redis (median): %.1f. The client is far from its limit, so each call also counts up to 256 permits ahead, which this node hands out for up to 20 ms without a call (README, "How the limits behave").\n' \
    "${M[limited,rres]}" "${M[limited,rpercall]}"
  echo
  echo "## Ban check"
  echo
  echo "- Client address: \`ClientIp:TrustedProxies = [\"127.0.0.1\"]\`, so the gateway believes wrk's \`X-Forwarded-For\`. The admitted scenarios send none, so their client stays the TCP peer 127.0.0.1 (the limited partition above ends in \`:127.0.0.1}\`)."
  echo "- The ban: written into Redis before the gateway started (\`HSET $BAN_DATA_KEY $BANNED_IP <json>\`, \`ZADD $BAN_EXPIRY_KEY +inf $BANNED_IP\`), a permanent manual ban: \`$BAN_JSON\`. \`IpBans:Enabled = true\`, \`IpBans:StatusCode = $BANNED_STATUS\`."
  echo "- Before the run (curl): direct ${PROBE_STATUS[direct]}, plain ${PROBE_STATUS[plain]}, limited ${PROBE_STATUS[limited]}; banned client ($BANNED_IP) on /plain ${PROBE_STATUS[banned]} \`${PROBE_CTYPE[banned]}\` with no \`Retry-After\` (permanent ban) and body \`$BANNED_PROBE_BODY\`; on /limited ${PROBE_STATUS[banned-limited]}; a client that is not banned ($CONTROL_IP) through the same trusted proxy on /plain ${PROBE_STATUS[control]}."
  echo "- In the middle of each measured banned run (curl): $BANNED_MID_OK of $BENCH_ROUNDS answers were $BANNED_STATUS${BANNED_MID_BAD:+ (other: $BANNED_MID_BAD)}."
  echo "- Status census (a wrk Lua \`response()\` counter, run in the banned warm-up and once more after the last round, ${BENCH_WARMUP} s each, same \`-t$BENCH_THREADS -c$BENCH_CONNECTIONS\`; not in the measured runs because it costs wrk CPU): $CENSUS_EXPECTED × $BANNED_STATUS, $CENSUS_OTHER other${CENSUS_OTHER_CODES:+ (status codes: $CENSUS_OTHER_CODES)}. In the measured runs wrk counted ${M[banned,non2xx]} responses ≥ 400 of ${M[banned,req]}."
  printf -- '- No Redis, no upstream: Redis commands per banned request %.4f (median; the ban cache resync every 10 s and any other client of this Redis included), upstream %.2f cores during the banned runs (median; direct: %.2f, plain: %.2f).\n' \
    "${M[banned,rcmd]}" "${M[banned,cup]}" "${M[direct,cup]}" "${M[plain,cup]}"
  echo "- After the run: bans in Redis: \`${POST_BAN_TARGETS:-none}\` ($POST_BAN_COUNT in the expiry set); strike/offense keys: $POST_STRIKE_KEYS; offenders: $POST_OFFENDERS. Nothing was rate-limited, so no automatic ban."
  echo "- Gateway log: $LOG_ERRORS line(s) at Error/Fatal, $LOG_WARNINGS at Warning${LOG_FIRST:+ (first 3: $LOG_FIRST)}. The requests wrk abandons when it stops each run are answered 499 (client gone) and logged at Debug, so they count in neither."
  echo
  echo "## Where the CPU went (cores in use, median; the machine has $NPROC)"
  echo
  echo "| scenario | wrk | gateway | upstream | redis | other | total busy | gateway CPU µs per request |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for s in "${SCENARIOS[@]}"; do
    printf '| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s |\n' "$s" "${M[$s,cwrk]}" "${M[$s,cgw]}" "${M[$s,cup]}" \
      "${M[$s,credis]}" "${M[$s,cother]}" "${M[$s,ctotal]}" "$(us_per_req "${M[$s,cgw]}" "${M[$s,rps]}")"
  done
  echo
  echo "CPU seconds per process from /proc (wrk's from the shell's \`times\`), divided by the run's wall time; \"other\" is the rest of the machine's busy time (kernel softirq, other processes). Gateway CPU per request = gateway cores / req/s: what one request costs the gateway, whatever the other processes take."
  echo
  echo "## Rounds (raw)"
  echo
  echo "| round | scenario | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | Redis cmds/req | cores wrk/gw/up/redis/other |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    for s in "${SCENARIOS[@]}"; do
      printf '| %d | %s | %.2f | %.2f | %.2f | %s | %s | %s | %s | %s / %s / %s / %s / %s |\n' "$r" "$s" \
        "${R[$s,$r,rps]}" "${R[$s,$r,p50]}" "${R[$s,$r,p99]}" "${R[$s,$r,req]}" "${R[$s,$r,non2xx]}" "${R[$s,$r,serr]}" \
        "${R[$s,$r,rcmd]}" "${R[$s,$r,cwrk]}" "${R[$s,$r,cgw]}" "${R[$s,$r,cup]}" "${R[$s,$r,credis]}" "${R[$s,$r,cother]}"
    done
  done
  echo
  echo "Raw wrk output, process logs and the gateway's arguments: \`${RUN_DIR#"$REPO_ROOT"/}/\` (not committed)."
} >"$REPORT"
cp "$REPORT" "$BENCH_RESULTS_DIR/latest.md"

echo
cat "$REPORT"
echo
say "report: ${REPORT#"$REPO_ROOT"/} (and latest.md)"

[[ -z $NOISE_WARNING ]] || say "WARNING: the machine was not quiet during the run; see the report"
if ((${#problems[@]} > 0)); then
  die "the measurement is not valid: ${problems[*]}"
fi
if [[ $BENCH_FAIL_BELOW_TARGET == 1 && ($VERDICT != PASS || $VERDICT_BANNED != PASS) ]]; then
  [[ $VERDICT == PASS ]] || say "limited / plain YARP ${RATIO_LIMITED_PLAIN} < ${TARGET_RATIO} (BENCH_FAIL_BELOW_TARGET=1)"
  [[ $VERDICT_BANNED == PASS ]] || say "banned / plain YARP ${RATIO_BANNED_PLAIN} <= ${BANNED_TARGET_RATIO} (BENCH_FAIL_BELOW_TARGET=1)"
  exit 3
fi

# Audit ingest (issue 4): consumer events/s vs a raw COPY of the same rows; its own report (ingest-latest.md).
[[ ${BENCH_INGEST:-1} == 0 ]] || "$BENCH_DIR/ingest.sh"
