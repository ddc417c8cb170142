#!/usr/bin/env bash
# `make bench`: throughput and latency of the gateway on loopback, in one run, against
#   direct   - the demo upstream itself (no gateway),
#   plain    - the gateway on a route with RateLimiterPolicy "Disable" (plain YARP),
#   limited  - the gateway on a route whose Redis sliding-window limit is so high nothing is rejected.
# Writes tests/bench/results/<UTC timestamp>.md and latest.md, and prints the report.
# Target (issue): limited >= 0.80 x plain YARP. See tests/bench/README.md.
#
# Settings (environment):
#   BENCH_DURATION=10        seconds per measured wrk run
#   BENCH_ROUNDS=3           interleaved rounds (direct, plain, limited; repeated); the report shows medians
#   BENCH_WARMUP=3           seconds of warm-up per target before the first round
#   BENCH_THREADS=2          wrk -t
#   BENCH_CONNECTIONS=32     wrk -c
#   BENCH_UPSTREAM_PORT=5090 BENCH_GATEWAY_PORT=8090 BENCH_ADMIN_PORT=8091
#   BENCH_SKIP_BUILD=1       use the existing Release build
#   BENCH_FAIL_BELOW_TARGET=1  exit 3 when limited / plain YARP < 0.80 (default: report only)
#   BENCH_RESULTS_DIR        where reports go (default tests/bench/results)
#   MDV_REDIS_PORT, MDV_LOCAL_DIR  as for deploy/local (Redis port; logs go to $MDV_LOCAL_DIR/bench/<ts>/)
# Exit codes: 0 ok; 1 setup failure or an invalid measurement (non-2xx / socket errors on a gateway
# scenario, or the limiter was not active); 3 below target with BENCH_FAIL_BELOW_TARGET=1.
set -euo pipefail
export LC_ALL=C

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$BENCH_DIR/../.." && pwd -P)"
cd "$REPO_ROOT"

# MDV_LOCAL_DIR, MDV_REDIS_PORT, MDV_REDIS_DIR and the mdv_* helpers, shared with deploy/local.
# shellcheck source=deploy/local/env.sh
. "$REPO_ROOT/deploy/local/env.sh"

: "${BENCH_DURATION:=10}"
: "${BENCH_ROUNDS:=3}"
: "${BENCH_WARMUP:=3}"
: "${BENCH_THREADS:=2}"
: "${BENCH_CONNECTIONS:=32}"
: "${BENCH_UPSTREAM_PORT:=5090}"
: "${BENCH_GATEWAY_PORT:=8090}"
: "${BENCH_ADMIN_PORT:=8091}"
: "${BENCH_SKIP_BUILD:=0}"
: "${BENCH_FAIL_BELOW_TARGET:=0}"
: "${BENCH_RESULTS_DIR:=$BENCH_DIR/results}"

TARGET_RATIO=0.80
HOST=127.0.0.1
SCENARIOS=(direct plain limited)
declare -A SCENARIO_TITLE=([direct]="upstream directly" [plain]="plain YARP (no limit)" [limited]="limited (Redis sliding window, never rejects)")

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
)

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
  # The sliding-window sets of this run (they expire with the 1 s window anyway).
  if command -v redis-cli >/dev/null 2>&1; then
    "${REDIS_CLI[@]}" --scan --pattern "rl:sw:{$KEY_PREFIX:*" 2>/dev/null | while IFS= read -r key; do
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
# redis_cmd_delta BEFORE AFTER REQUESTS: "total_per_request scripts_per_request breakdown" where breakdown is
# e.g. "evalsha=1.00,zadd=1.00" (commands seen at least once per 100 requests, most frequent first).
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
        if (best == "" || !n || bv / n < 0.01) break
        list = list (list == "" ? "" : ",") sprintf("%s=%.2f", best, bv / n)
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

say "starting the demo upstream on $HOST:$BENCH_UPSTREAM_PORT (log: $RUN_DIR/upstream.log)"
(
  cd "$UPSTREAM_DIR"
  export ASPNETCORE_ENVIRONMENT=Production DOTNET_ENVIRONMENT=Production
  exec dotnet MdvGateway.DemoUpstream.dll --urls "http://$HOST:$BENCH_UPSTREAM_PORT"
) </dev/null >"$RUN_DIR/upstream.log" 2>&1 &
UPSTREAM_PID=$!

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

# run_wrk SECONDS URL OUT: wrk in the background (so it can be stopped by the trap), waited for.
run_wrk() {
  wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$1"s --latency "$2" >"$3" 2>&1 &
  WRK_PID=$!
}
wait_wrk() {
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  return "$rc"
}

say "warm-up: ${BENCH_WARMUP} s per target"
for s in "${SCENARIOS[@]}"; do
  run_wrk "$BENCH_WARMUP" "${URL[$s]}" "$RUN_DIR/warmup-$s.txt"
  wait_wrk || die "wrk failed during warm-up of $s: $(tail -n 5 "$RUN_DIR/warmup-$s.txt")"
done

declare -A R=()            # R[scenario,round,field]
LIMITED_HEADER_SEEN=0
MID_LIMITED_HEADER=""
MID_REDIS_KEYS=""
MID_REDIS_ENTRIES=""
total_s=$((BENCH_ROUNDS * ${#SCENARIOS[@]} * BENCH_DURATION))
say "measuring: $BENCH_ROUNDS rounds x ${SCENARIOS[*]}, ${BENCH_DURATION} s each (~${total_s} s)"
for ((round = 1; round <= BENCH_ROUNDS; round++)); do
  for s in "${SCENARIOS[@]}"; do
    out="$RUN_DIR/round$round-$s.txt"
    redis_cmdstats "$RUN_DIR/.cmdstats0"
    g0="$(proc_ticks "$GATEWAY_PID")"; u0="$(proc_ticks "$UPSTREAM_PID")"; r0="$(proc_ticks "${REDIS_PID:-0}")"
    read -r sb0 st0 < <(sys_ticks)
    w0=${EPOCHREALTIME/./}
    children_cpu_seconds cpu_w0

    run_wrk "$BENCH_DURATION" "${URL[$s]}" "$out"
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

    kill -0 "$GATEWAY_PID" 2>/dev/null || die "the gateway died during the run (log: $RUN_DIR/gateway.log)"
    kill -0 "$UPSTREAM_PID" 2>/dev/null || die "the upstream died during the run (log: $RUN_DIR/upstream.log)"

    read -r rps p50 p99 req non2xx serr < <(parse_wrk "$out")
    [[ $rps != NA && $p50 != NA && $p99 != NA && $req != NA ]] || die "could not parse wrk output $out"
    wall="$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", (b-a)/1e6}')"
    R[$s,$round,rps]=$rps; R[$s,$round,p50]=$p50; R[$s,$round,p99]=$p99
    R[$s,$round,req]=$req; R[$s,$round,non2xx]=$non2xx; R[$s,$round,serr]=$serr
    read -r "R[$s,$round,rcmd]" "R[$s,$round,rscript]" "R[$s,$round,rmix]" < <(redis_cmd_delta "$RUN_DIR/.cmdstats0" "$RUN_DIR/.cmdstats1" "$req")
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

# ---------------------------------------------------------------------------------------------
# 4. Report.

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
sum() { printf '%s\n' "$@" | awk '{t += $1} END {print t + 0}'; }
field_values() { local s=$1 f=$2 r; for ((r = 1; r <= BENCH_ROUNDS; r++)); do printf '%s\n' "${R[$s,$r,$f]}"; done; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b ? a/b : 0}'; }

declare -A M=()
for s in "${SCENARIOS[@]}"; do
  for f in rps p50 p99 rcmd rscript cwrk cgw cup credis cother ctotal; do
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
if awk -v r="$RATIO_LIMITED_PLAIN" -v t="$TARGET_RATIO" 'BEGIN{exit !(r >= t)}'; then VERDICT=PASS; else VERDICT="BELOW TARGET"; fi

# Is the measurement valid? Nothing may fail on the gateway routes, and the limiter must have been active.
problems=()
for s in "${SCENARIOS[@]}"; do
  [[ ${M[$s,non2xx]} == 0 ]] || problems+=("$s: ${M[$s,non2xx]} non-2xx responses")
  [[ ${M[$s,serr]} == 0 ]] || problems+=("$s: ${M[$s,serr]} socket errors")
done
[[ -n $PRE_LIMITED_HEADER ]] || problems+=("/limited answered without a RateLimit header before the run")
((LIMITED_HEADER_SEEN == BENCH_ROUNDS)) || problems+=("/limited carried a RateLimit header in only $LIMITED_HEADER_SEEN of $BENCH_ROUNDS measured runs")
[[ -z $PRE_PLAIN_HEADER ]] || problems+=("/plain answered with a RateLimit header ('$PRE_PLAIN_HEADER'): it is not plain YARP")
awk -v c="${M[limited,rcmd]}" 'BEGIN{exit !(c >= 0.9)}' || problems+=("only ${M[limited,rcmd]} Redis commands per request on /limited: the limiter did not reach Redis for every request")

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
  if [[ -n $NOISE_WARNING ]]; then
    echo
    echo "$NOISE_WARNING"
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
  echo "- Git commit: $git_state"
  echo "- Load: \`wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_DURATION}s --latency\` on loopback; $BENCH_ROUNDS interleaved rounds (${SCENARIOS[*]}, repeated), after ${BENCH_WARMUP} s of warm-up per target; every figure below is the median over the rounds, except the counts (non-2xx, socket errors), which are summed."
  echo "- Everything shares the same $NPROC cores: wrk, gateway, upstream, Redis. Background CPU in the 2 s before the gateway started: ${BACKGROUND_BUSY_PCT}% of the machine (busiest: $BACKGROUND_TOP)."
  echo "- Gateway logging: the per-request log line is off (\`Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware=Warning\`) and stdout goes to a file; this applies equally to both gateway scenarios."
  echo
  echo "| scenario | target | req/s | p50 ms | p99 ms | non-2xx | socket errors |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  for s in "${SCENARIOS[@]}"; do
    printf '| %s | `GET %s` | %.0f | %.2f | %.2f | %s | %s |\n' "${SCENARIO_TITLE[$s]}" "${URL[$s]}" \
      "${M[$s,rps]}" "${M[$s,p50]}" "${M[$s,p99]}" "${M[$s,non2xx]}" "${M[$s,serr]}"
  done
  echo
  echo "| ratio (req/s) | value | target |"
  echo "| --- | ---: | --- |"
  echo "| plain YARP / direct | ${RATIO_PLAIN_DIRECT}× | |"
  echo "| limited / plain YARP | ${RATIO_LIMITED_PLAIN}× | ≥ ${TARGET_RATIO}×: **$VERDICT** |"
  echo "| limited / direct | ${RATIO_LIMITED_DIRECT}× | |"
  echo
  printf 'limited / plain YARP per round:'
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do printf ' %s' "$(ratio "${R[limited,$r,rps]}" "${R[plain,$r,rps]}")×"; done
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
  echo
  echo "## Where the CPU went (cores in use, median; the machine has $NPROC)"
  echo
  echo "| scenario | wrk | gateway | upstream | redis | other | total busy |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for s in "${SCENARIOS[@]}"; do
    printf '| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n' "$s" "${M[$s,cwrk]}" "${M[$s,cgw]}" "${M[$s,cup]}" \
      "${M[$s,credis]}" "${M[$s,cother]}" "${M[$s,ctotal]}"
  done
  echo
  echo "CPU seconds per process from /proc (wrk's from the shell's \`times\`), divided by the run's wall time; \"other\" is the rest of the machine's busy time (kernel softirq, other processes)."
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
if [[ $VERDICT != PASS && $BENCH_FAIL_BELOW_TARGET == 1 ]]; then
  say "limited / plain YARP ${RATIO_LIMITED_PLAIN} < ${TARGET_RATIO} (BENCH_FAIL_BELOW_TARGET=1)"
  exit 3
fi
