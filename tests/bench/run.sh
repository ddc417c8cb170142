#!/usr/bin/env bash
# `make bench`: throughput, latency and cost per request of the gateway on loopback, in one run, for the traffic
# that matters, each scenario next to plain YARP (a route with RateLimiterPolicy "Disable") sent the same
# X-Forwarded-For (127.0.0.1 is a trusted proxy in the bench configuration, so the header names the client):
#
#   limited  one busy client far below its limit              vs plain          (no X-Forwarded-For on either)
#   light    65,536 light clients, each far below its limit   vs plain-light    (the same rotation over 10.0.0.0/16)
#   over     one client over its limit: every request a 429   vs plain-xff      (one fixed address on either)
#   botnet   20,000 clients just over a 5-per-minute limit:   vs plain-botnet   (the same random rotation, another /16)
#            429s, strikes and a storm of new bans, 403s
#   banned   one banned client: every request a 403           vs plain-xff
#   tail     p50/p99 of limited vs plain at a fixed 2,000 requests/s (h2load), one busy client
#   direct   the demo upstream alone (for plain / direct)
#
# The gateway talks to the bench's own redis-server (BENCH_REDIS_PORT, data under $MDV_LOCAL_DIR/bench/<ts>/redis),
# so Redis commands and CPU per request are the gateway's alone; it is flushed and stopped at the end.
# Writes tests/bench/results/<UTC timestamp>.md and latest.md, and prints the report. See tests/bench/README.md.
#
# Targets (ratios of median requests/s to the plain comparator in the same run): limited >= 0.9, light >= 0.8,
# over >= 1.5, banned >= 1.5, botnet >= 1.0; tail: limited p99 at most 1 ms above plain p99 at 2,000 requests/s.
#
# Settings (environment):
#   BENCH_SCENARIOS="direct limited light over botnet banned tail"  the scenarios to run (space or comma separated)
#   BENCH_DURATION=6         seconds per measured run (botnet: BENCH_BOTNET_DURATION)
#   BENCH_ROUNDS=5           interleaved rounds; the report shows medians
#   BENCH_WARMUP=10          seconds of warm-up per load before the first round (lets tiered JIT settle)
#   BENCH_THREADS=2 BENCH_CONNECTIONS=32   wrk -t / -c
#   BENCH_BOTNET_DURATION=8  seconds per botnet run (and per plain-botnet run)
#   BENCH_BOTNET_WARMUP=120  at most this many seconds of botnet warm-up (it stops earlier once the first wave of
#                            bans has passed, see the README)
#   BENCH_TAIL_RPS=2000 BENCH_TAIL_CONNECTIONS=20   the tail scenario's fixed rate and connections (h2load)
#   BENCH_UPSTREAM_PORT=5190 BENCH_GATEWAY_PORT=8190 BENCH_ADMIN_PORT=8191 BENCH_REDIS_PORT=6391
#   BENCH_AUDIT=off          off: Audit:Enabled=false (no broker needed); broker: audit on, published to the local
#                            RabbitMQ (services-up) in a virtual host of the run's own, deleted afterwards (the
#                            publishing cost, batches included); spool: audit on, broker unreachable, the
#                            events spooled under the run directory (includes the audit aggregation's cost)
#   BENCH_SKIP_BUILD=1       use the existing Release build
#   BENCH_FAIL_BELOW_TARGET=1  exit 3 when any target fails (default: report only)
#   BENCH_RESULTS_DIR        where reports go (default tests/bench/results)
#   BENCH_INGEST=1           afterwards, run tests/bench/ingest.sh (audit consumer vs raw COPY); 0 skips it
#   MDV_LOCAL_DIR            as for deploy/local (logs go to $MDV_LOCAL_DIR/bench/<ts>/)
# Exit codes: 0 ok; 1 setup failure or an invalid measurement (a scenario did not do what it says: see the README);
# 3 below a target with BENCH_FAIL_BELOW_TARGET=1.
set -euo pipefail
export LC_ALL=C

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$BENCH_DIR/../.." && pwd -P)"
cd "$REPO_ROOT"

# MDV_LOCAL_DIR and the mdv_* helpers, shared with deploy/local.
# shellcheck source=deploy/local/env.sh
. "$REPO_ROOT/deploy/local/env.sh"

: "${BENCH_SCENARIOS:=direct limited light over botnet banned tail}"
: "${BENCH_DURATION:=6}"
: "${BENCH_ROUNDS:=5}"
: "${BENCH_WARMUP:=10}"
: "${BENCH_THREADS:=2}"
: "${BENCH_CONNECTIONS:=32}"
: "${BENCH_BOTNET_DURATION:=8}"
: "${BENCH_BOTNET_WARMUP:=120}"
: "${BENCH_TAIL_RPS:=2000}"
: "${BENCH_TAIL_CONNECTIONS:=20}"
: "${BENCH_UPSTREAM_PORT:=5190}"
: "${BENCH_GATEWAY_PORT:=8190}"
: "${BENCH_ADMIN_PORT:=8191}"
: "${BENCH_REDIS_PORT:=6391}"
: "${BENCH_AUDIT:=off}"
: "${BENCH_SKIP_BUILD:=0}"
: "${BENCH_FAIL_BELOW_TARGET:=0}"
: "${BENCH_RESULTS_DIR:=$BENCH_DIR/results}"

HOST=127.0.0.1
say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

for v in BENCH_DURATION BENCH_ROUNDS BENCH_WARMUP BENCH_THREADS BENCH_CONNECTIONS BENCH_BOTNET_DURATION BENCH_BOTNET_WARMUP \
  BENCH_TAIL_RPS BENCH_TAIL_CONNECTIONS BENCH_UPSTREAM_PORT BENCH_GATEWAY_PORT BENCH_ADMIN_PORT BENCH_REDIS_PORT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
((BENCH_CONNECTIONS >= BENCH_THREADS)) || die "BENCH_CONNECTIONS ($BENCH_CONNECTIONS) must be >= BENCH_THREADS ($BENCH_THREADS)"
((BENCH_TAIL_RPS % BENCH_TAIL_CONNECTIONS == 0)) ||
  die "BENCH_TAIL_RPS ($BENCH_TAIL_RPS) must be a multiple of BENCH_TAIL_CONNECTIONS ($BENCH_TAIL_CONNECTIONS): h2load's --rps is per connection"
[[ $(printf '%s\n' "$BENCH_UPSTREAM_PORT" "$BENCH_GATEWAY_PORT" "$BENCH_ADMIN_PORT" "$BENCH_REDIS_PORT" | sort -u | wc -l) == 4 ]] ||
  die "BENCH_UPSTREAM_PORT, BENCH_GATEWAY_PORT, BENCH_ADMIN_PORT and BENCH_REDIS_PORT must differ"
[[ $BENCH_AUDIT == off || $BENCH_AUDIT == spool || $BENCH_AUDIT == broker ]] || die "BENCH_AUDIT must be off, broker or spool (got '$BENCH_AUDIT')"

# ---------------------------------------------------------------------------------------------
# Scenarios and the loads ("runs") they are made of.

ALL_SCENARIOS=(direct limited light over botnet banned tail)
read -r -a SELECTED <<<"${BENCH_SCENARIOS//,/ }"
((${#SELECTED[@]} > 0)) || die "BENCH_SCENARIOS is empty"
for s in "${SELECTED[@]}"; do
  [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || die "unknown scenario '$s' in BENCH_SCENARIOS (known: ${ALL_SCENARIOS[*]})"
done
selected() { [[ " ${SELECTED[*]} " == *" $1 "* ]]; }

# Client addresses (all documentation or private ranges, never a real client):
BANNED_IP=198.51.100.66  # banned permanently before the gateway starts (TEST-NET-2, RFC 5737)
CONTROL_IP=198.51.100.67 # plain-xff's client: not banned, not limited (the same header length as the two others)
OVER_IP=198.51.100.20    # over's client: in IpBans:Allowlist (appsettings.bench.json), so its 429s never ban it
LIGHT_CLIENTS=65536      # 10.0.<i/256>.<i%256>, light and plain-light (never rejected, so never banned)
BOTNET_CLIENTS=20000     # 10.1.x.y for botnet; 10.2.x.y for plain-botnet (bans apply on every route, the plain route
                         # included, so plain-botnet must not send the addresses the botnet gets banned)
BANNED_STATUS=403        # IpBans:StatusCode, passed to the gateway too
ROTATE_LUA="$BENCH_DIR/xff-rotate.lua"

# Scenario -> measured run and its plain comparator; the target (ratio of median requests/s, or the tail's p99 gap).
declare -A SCEN_RUN=([direct]=direct [limited]=limited [light]=light [over]=over [botnet]=botnet [banned]=banned [tail]=tail-limited)
declare -A SCEN_BASE=([direct]="" [limited]=plain [light]=plain-light [over]=plain-xff [botnet]=plain-botnet [banned]=plain-xff [tail]=tail-plain)
declare -A SCEN_TARGET=([limited]=0.9 [light]=0.8 [over]=1.5 [botnet]=1.0 [banned]=1.5)
TAIL_TARGET_MS=1.0 # tail: p99(limited) - p99(plain) at BENCH_TAIL_RPS must be <= this
declare -A SCEN_TITLE=(
  [direct]="upstream directly (no gateway)"
  [limited]="one busy client far below its limit"
  [light]="65,536 light clients, each far below its limit"
  [over]="one client over its limit (every request a 429)"
  [botnet]="botnet: 20,000 clients just over 5/min (429s, new bans, 403s)"
  [banned]="one banned client (every request a 403)"
  [tail]="tail latency at a fixed $BENCH_TAIL_RPS requests/s, one busy client"
)

# Runs: URL, load generator, header or rotation, what every answer must be, the route's policy.
declare -A RUN_URL=() RUN_TOOL=() RUN_HEADER=() RUN_ROTATE=() RUN_EXPECT=() RUN_POLICY=() RUN_TITLE=()
add_run() { # NAME PATH_OR_URL TOOL EXPECT POLICY TITLE [HEADER] [ROTATION]
  RUN_URL[$1]=$2; RUN_TOOL[$1]=$3; RUN_EXPECT[$1]=$4; RUN_POLICY[$1]=$5; RUN_TITLE[$1]=$6
  RUN_HEADER[$1]=${7:-}; RUN_ROTATE[$1]=${8:-}
}
GW="http://$HOST:$BENCH_GATEWAY_PORT"
add_run direct "http://$HOST:$BENCH_UPSTREAM_PORT/plain/bench" wrk 2xx - "upstream alone"
add_run plain "$GW/plain/bench" wrk 2xx - "plain YARP, no X-Forwarded-For"
add_run limited "$GW/limited/bench" wrk 2xx bench-high "limited: one busy client (127.0.0.1)"
add_run plain-xff "$GW/plain/bench" wrk 2xx - "plain YARP, X-Forwarded-For $CONTROL_IP" "X-Forwarded-For: $CONTROL_IP"
add_run over "$GW/over/bench" wrk 429 bench-over "over: $OVER_IP, 1 per hour" "X-Forwarded-For: $OVER_IP"
add_run banned "$GW/plain/bench" wrk 403 - "banned: $BANNED_IP" "X-Forwarded-For: $BANNED_IP"
add_run plain-light "$GW/plain/bench" wrk 2xx - "plain YARP, 65,536 clients 10.0.0.0/16" "" "$LIGHT_CLIENTS 0 seq"
add_run light "$GW/light/bench" wrk 2xx bench-light "light: 65,536 clients 10.0.0.0/16, 1000/min each" "" "$LIGHT_CLIENTS 0 seq"
add_run plain-botnet "$GW/plain/bench" wrk 2xx - "plain YARP, 20,000 random clients 10.2.0.0/16" "" "$BOTNET_CLIENTS 2 random"
add_run botnet "$GW/botnet/bench" wrk mix bench-botnet "botnet: 20,000 random clients 10.1.0.0/16, 5/min each" "" "$BOTNET_CLIENTS 1 random"
add_run tail-plain "$GW/plain/bench" h2load 2xx - "plain YARP at $BENCH_TAIL_RPS req/s"
add_run tail-limited "$GW/limited/bench" h2load 2xx bench-high "limited at $BENCH_TAIL_RPS req/s"

# The main block's runs, in round order (each comparator once), and the botnet block's (run after the main block:
# the botnet leaves bans, strikes and offense levels behind, which must not overlap the other scenarios).
MAIN_ORDER=(direct plain limited plain-xff over banned plain-light light tail-plain tail-limited)
MAIN_RUNS=()
for run in "${MAIN_ORDER[@]}"; do
  for s in "${SELECTED[@]}"; do
    [[ $s == botnet ]] && continue
    if [[ ${SCEN_RUN[$s]} == "$run" || ${SCEN_BASE[$s]} == "$run" ]]; then MAIN_RUNS+=("$run"); break; fi
  done
done
BOTNET_RUNS=()
selected botnet && BOTNET_RUNS=(plain-botnet botnet)
ALL_RUNS=("${MAIN_RUNS[@]}" "${BOTNET_RUNS[@]}")
has_run() { [[ " ${ALL_RUNS[*]} " == *" $1 "* ]]; }
run_seconds() { if [[ $1 == plain-botnet || $1 == botnet ]]; then echo "$BENCH_BOTNET_DURATION"; else echo "$BENCH_DURATION"; fi; }

TS="$(date -u +%Y%m%dT%H%M%SZ)"
RUN_DIR="$MDV_LOCAL_DIR/bench/$TS"
KEY_PREFIX="bench-$TS"
OVERLAY="$BENCH_DIR/appsettings.bench.json"
UPSTREAM_DIR="$REPO_ROOT/tests/MdvGateway.DemoUpstream/bin/Release/net10.0"
GATEWAY_DIR="$REPO_ROOT/gateway/MdvGateway.Gateway/bin/Release/net10.0"
REDIS_DIR="$RUN_DIR/redis"
REDIS_CLI=(redis-cli -h "$HOST" -p "$BENCH_REDIS_PORT")
ADMIN="http://$HOST:$BENCH_ADMIN_PORT"
mkdir -p "$RUN_DIR" "$BENCH_RESULTS_DIR" "$REDIS_DIR"

# ---------------------------------------------------------------------------------------------
# Clean-up: the load generator, the .NET processes and the private Redis are stopped whatever happens; the private
# Redis is flushed first (the bench's bans, strikes and limiter keys, all under KEY_PREFIX, go with it).

UPSTREAM_PID=""
GATEWAY_PID=""
LOAD_PID=""
REDIS_PID=""

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
stop_redis() {
  [[ -n $REDIS_PID ]] && kill -0 "$REDIS_PID" 2>/dev/null || return 0
  "${REDIS_CLI[@]}" FLUSHALL >/dev/null 2>&1 || true
  stop_pid "$REDIS_PID" redis-server
  REDIS_PID=""
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_pid "$LOAD_PID" "load generator"
  stop_pid "$GATEWAY_PID" gateway
  stop_pid "$UPSTREAM_PID" upstream
  stop_redis
  if [[ -n $AUDIT_VHOST ]]; then
    rmqctl delete_vhost "$AUDIT_VHOST" >/dev/null 2>&1 || say "could not delete the RabbitMQ virtual host $AUDIT_VHOST"
  fi
  exit "$rc"
}
AUDIT_VHOST=""
# The audit set-up for the report; for the broker, what reached the run's queue and what went to the spool instead.
audit_summary() {
  case $BENCH_AUDIT in
    off) echo "false (BENCH_AUDIT=off: no broker; refusals skip the audit aggregation)" ;;
    spool) echo "true, broker unreachable, events spooled under the run directory (BENCH_AUDIT=spool)" ;;
    broker)
      local messages spooled
      messages="$(rmqctl list_queues -p "$AUDIT_VHOST" --no-table-headers name messages 2>/dev/null | awk '$1=="audit-events"{print $2}')"
      spooled="$(du -sb "$RUN_DIR/audit-spool" 2>/dev/null | cut -f1)"
      echo "true, published to the local RabbitMQ, virtual host \`$AUDIT_VHOST\` (BENCH_AUDIT=broker): ${messages:-?} messages in \`audit-events\` at the end, ${spooled:-0} bytes spooled"
      ;;
  esac
}
rmqctl() { (mdv_rabbitmq_env && "$MDV_RABBITMQ_BIN/rabbitmqctl" -n rabbit@localhost -q "$@"); }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# 1. Tools, build.

declare -A PACKAGE_OF=([wrk]=wrk [h2load]=nghttp2-client [curl]=curl [python3]=python3 [redis-server]=redis-server
  [redis-cli]=redis-tools [sha256sum]=coreutils)
missing=()
for tool in wrk h2load curl python3 redis-server redis-cli sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${PACKAGE_OF[$tool]}")
done
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

for p in "$BENCH_UPSTREAM_PORT" "$BENCH_GATEWAY_PORT" "$BENCH_ADMIN_PORT" "$BENCH_REDIS_PORT"; do
  if mdv_port_open "$p"; then
    mdv_port_owner "$p" >&2 || true
    die "$HOST:$p is already in use; stop that process or choose other ports (BENCH_UPSTREAM_PORT, BENCH_GATEWAY_PORT, BENCH_ADMIN_PORT, BENCH_REDIS_PORT)"
  fi
done

# ---------------------------------------------------------------------------------------------
# 2. The bench's own Redis: nothing else talks to it, so INFO commandstats and INFO cpu deltas are the gateway's.

say "starting the bench's own redis-server on $HOST:$BENCH_REDIS_PORT (data and log: $REDIS_DIR)"
redis-server --bind "$HOST" --port "$BENCH_REDIS_PORT" --dir "$REDIS_DIR" --daemonize no --save "" --appendonly no \
  --logfile "$REDIS_DIR/redis.log" </dev/null >/dev/null 2>&1 &
REDIS_PID=$!
for ((i = 0; i < 50; i++)); do
  [[ "$("${REDIS_CLI[@]}" PING 2>/dev/null)" == PONG ]] && break
  kill -0 "$REDIS_PID" 2>/dev/null || { tail -n 20 "$REDIS_DIR/redis.log" >&2; die "redis-server exited during start-up (log: $REDIS_DIR/redis.log)"; }
  sleep 0.1
done
[[ "$("${REDIS_CLI[@]}" PING 2>/dev/null)" == PONG ]] || die "redis-server on port $BENCH_REDIS_PORT does not answer PING"

# ---------------------------------------------------------------------------------------------
# CPU accounting helpers: CPU seconds per process from /proc, the load generator's from the shell's `times`.

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
# children_cpu_seconds VAR: user+sys CPU seconds of this shell's waited-for children so far (the load generator among
# them). Must run in this shell, not in $(...): a subshell's children start from zero.
children_cpu_seconds() {
  local f="$RUN_DIR/.times"
  times >"$f"
  printf -v "$1" '%s' "$(awk 'NR==2 { t=0; for (i=1;i<=2;i++) { split($i, a, /[ms]/); t += a[1]*60 + a[2] } printf "%.3f", t }' "$f")"
}
# sample DIR: the state a run's cost is computed from (tests/bench/delta.py): Redis commands and CPU, the gateway's
# metrics (statuses, allocations, bans, limiter decisions).
sample() {
  mkdir -p "$1"
  "${REDIS_CLI[@]}" INFO commandstats >"$1/cmdstats" 2>/dev/null || : >"$1/cmdstats"
  "${REDIS_CLI[@]}" INFO cpu >"$1/cpu" 2>/dev/null || : >"$1/cpu"
  curl -fsS --max-time 5 "$ADMIN/metrics" >"$1/metrics" 2>/dev/null || : >"$1/metrics"
}

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
# 3. Upstream and gateway.

# An admin key for this run only (bans:read), so the checks after the run read bans through the admin API, not
# through the ban store's Redis layout. Only its SHA-256 is passed to the gateway.
ADMIN_KEY="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ADMIN_KEY_SHA="$(printf '%s' "$ADMIN_KEY" | sha256sum | cut -d' ' -f1)"
AUDIT_ARGS=()
if [[ $BENCH_AUDIT == spool ]]; then
  # Audit on, broker unreachable (port 1 on loopback refuses at once): every event takes the real request-path and
  # aggregation code, then the disk spool under the run directory.
  AUDIT_ARGS=("Audit:Enabled=true" "Audit:RabbitMq:Host=$HOST" "Audit:RabbitMq:Port=1" "Audit:SpoolDirectory=$RUN_DIR/audit-spool")
elif [[ $BENCH_AUDIT == broker ]]; then
  # Audit on and published to the local broker, in a virtual host of this run's own (nobody consumes it; it is
  # deleted with its queue at the end): the request path, the aggregation and the publishing all run.
  mdv_port_open "$MDV_RABBITMQ_PORT" || deploy/local/services-up.sh >"$RUN_DIR/services-up.log" 2>&1 ||
    die "BENCH_AUDIT=broker: could not start the local services (log: $RUN_DIR/services-up.log)"
  AUDIT_VHOST="mdv-bench-$TS"
  rmqctl add_vhost "$AUDIT_VHOST" >/dev/null || die "BENCH_AUDIT=broker: could not create the RabbitMQ virtual host $AUDIT_VHOST"
  rmqctl set_permissions -p "$AUDIT_VHOST" "$MDV_RABBITMQ_USER" '.*' '.*' '.*' >/dev/null ||
    die "BENCH_AUDIT=broker: could not grant $MDV_RABBITMQ_USER access to $AUDIT_VHOST"
  AUDIT_ARGS=("Audit:Enabled=true" "Audit:RabbitMq:Host=$HOST" "Audit:RabbitMq:Port=$MDV_RABBITMQ_PORT"
    "Audit:RabbitMq:VirtualHost=$AUDIT_VHOST" "Audit:RabbitMq:Username=$MDV_RABBITMQ_USER"
    "Audit:RabbitMq:Password=$MDV_RABBITMQ_PASSWORD" "Audit:SpoolDirectory=$RUN_DIR/audit-spool")
fi

# The overlay JSON is passed as --Key:Sub=value arguments on top of the gateway's appsettings.json, with the
# run's ports, Redis address, key prefix and admin key substituted.
python3 "$BENCH_DIR/overlay-args.py" "$OVERLAY" "$GATEWAY_DIR/appsettings.json" \
  "ReverseProxy:Clusters:bench-upstream:Destinations:d1:Address=http://$HOST:$BENCH_UPSTREAM_PORT/" \
  "Redis:Configuration=$HOST:$BENCH_REDIS_PORT" \
  "Redis:KeyPrefix=$KEY_PREFIX" \
  "Admin:Urls=$ADMIN" \
  "Admin:ApiKeys:0:Name=bench" "Admin:ApiKeys:0:Sha256=$ADMIN_KEY_SHA" "Admin:ApiKeys:0:Roles:0=bans:read" \
  "IpBans:StatusCode=$BANNED_STATUS" \
  "${AUDIT_ARGS[@]}" \
  "urls=http://$HOST:$BENCH_GATEWAY_PORT" >"$RUN_DIR/gateway.args" || die "could not turn $OVERLAY into gateway arguments"
mapfile -t GATEWAY_ARGS <"$RUN_DIR/gateway.args"
grep -qx -- '--ClientIp:TrustedProxies:0=127.0.0.1' "$RUN_DIR/gateway.args" ||
  die "$OVERLAY must set ClientIp:TrustedProxies to [\"127.0.0.1\"] (every X-Forwarded-For scenario needs it)"
grep -qix -- "--IpBans:Allowlist:[0-9]*=$OVER_IP/32" "$RUN_DIR/gateway.args" ||
  die "$OVERLAY must list $OVER_IP/32 in IpBans:Allowlist (the over-limit client must never be banned)"
# The settings the scenarios are built on, read back from the arguments for the report and the checks.
arg_value() { awk -v k="--$1=" 'index(tolower($0), tolower(k)) == 1 { print substr($0, length(k) + 1); exit }' "$RUN_DIR/gateway.args"; }
STRIKES_BEFORE_BAN="$(arg_value IpBans:StrikesBeforeBan)"
BAN_DURATIONS="$(grep -i -- '^--IpBans:BanDurations:' "$RUN_DIR/gateway.args" | cut -d= -f2 | paste -sd ' ' -)"

# seed_ban TARGET: a permanent manual ban of TARGET, written straight into Redis in the ban store's layout before the
# gateway starts, so its first load picks it up and readiness waits for it. No admin API involved (the bench's admin
# key is read-only). The key prefix is this run's and the Redis is the bench's own, so no other gateway sees it.
# THE ONE PLACE THAT KNOWS THE BAN STORE'S REDIS LAYOUT (README, "IpBans", "Storage"): a hash
# <KeyPrefix>:{bans}:data (target -> ban JSON) and a sorted set <KeyPrefix>:{bans}:expiry (target -> expiry in ms,
# +inf for permanent). Adapt it here if that layout changes; the checks after the run use the admin API only.
BAN_JSON=""
seed_ban() {
  local target=$1 data_key="$KEY_PREFIX:{bans}:data" expiry_key="$KEY_PREFIX:{bans}:expiry" created
  created="$(date -u +%Y-%m-%dT%H:%M:%S+00:00)"
  BAN_JSON="{\"target\":\"$target\",\"origin\":\"manual\",\"reason\":\"bench\",\"level\":0,\"createdAt\":\"$created\",\"expiresAt\":null,\"createdBy\":\"bench\",\"policy\":null,\"strikes\":null}"
  "${REDIS_CLI[@]}" HSET "$data_key" "$target" "$BAN_JSON" >/dev/null || die "could not write the bench ban to Redis ($data_key)"
  "${REDIS_CLI[@]}" ZADD "$expiry_key" +inf "$target" >/dev/null || die "could not write the bench ban to Redis ($expiry_key)"
  [[ "$("${REDIS_CLI[@]}" ZSCORE "$expiry_key" "$target" 2>/dev/null)" == inf ]] || die "the bench ban is not in $expiry_key with score +inf"
  BAN_SEED_DESC="\`HSET $data_key $target <json>\`, \`ZADD $expiry_key +inf $target\`"
  say "banned $target permanently in Redis ($data_key, $expiry_key)"
}
BAN_SEED_DESC=""
if selected banned; then seed_ban "$BANNED_IP"; fi

say "starting the demo upstream on $HOST:$BENCH_UPSTREAM_PORT (log: $RUN_DIR/upstream.log)"
(
  cd "$UPSTREAM_DIR"
  export ASPNETCORE_ENVIRONMENT=Production DOTNET_ENVIRONMENT=Production
  exec dotnet MdvGateway.DemoUpstream.dll --urls "http://$HOST:$BENCH_UPSTREAM_PORT"
) </dev/null >"$RUN_DIR/upstream.log" 2>&1 &
UPSTREAM_PID=$!

# The binary measured, read before it starts: with other people editing and building the same tree (or with
# BENCH_SKIP_BUILD=1) it need not be HEAD's. The SDK stamps the commit it was built from into the informational
# version (1.0.0+<sha>).
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
        die "$name exited with code $rc during start-up (log: $log; exit code 2 = invalid configuration)"
      fi
      if ((SECONDS >= deadline)); then
        tail -n 40 "$log" >&2 || true
        die "$name did not answer $url within 60 s (log: $log)"
      fi
      sleep 0.2
    done
  done
}
wait_ok upstream "$UPSTREAM_PID" "$RUN_DIR/upstream.log" "${RUN_URL[direct]}"
wait_ok gateway "$GATEWAY_PID" "$RUN_DIR/gateway.log" "$ADMIN/health/ready" "${RUN_URL[plain]}" "${RUN_URL[limited]}"
say "upstream pid $UPSTREAM_PID, gateway pid $GATEWAY_PID, redis pid $REDIS_PID: all answer"

# header_value URL NAME [REQUEST_HEADER]: the value of response header NAME (empty when absent).
header_value() {
  local -a extra=()
  [[ -z ${3:-} ]] || extra=(-H "$3")
  { curl -sS -o /dev/null -D - --max-time 5 "${extra[@]}" "$1" 2>/dev/null || true; } |
    awk -v want="$(tr '[:upper:]' '[:lower:]' <<<"$2")" -F': ' \
      'tolower($1) == want { sub(/\r$/, "", $2); print $2; exit }'
}
PRE_LIMITED_HEADER="$(header_value "${RUN_URL[limited]}" RateLimit)"
PRE_LIMITED_POLICY="$(header_value "${RUN_URL[limited]}" RateLimit-Policy)"
PRE_PLAIN_HEADER="$(header_value "${RUN_URL[plain]}" RateLimit)"
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
# problem_type NAME: the "type" of a problem+json body (empty when it is none).
problem_type() {
  python3 -c 'import json, sys
try:
    d = json.load(open(sys.argv[1], encoding="utf-8"))
    print(d.get("type", "") if isinstance(d, dict) else "")
except Exception:
    print("")' "$RUN_DIR/probe-$1.body"
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

# Before the run. Anything unexpected stops the run with the answer received (the gateway misbehaves).
probe direct "${RUN_URL[direct]}"
probe plain "${RUN_URL[plain]}"
probe limited "${RUN_URL[limited]}"
probe control "${RUN_URL[plain]}" "X-Forwarded-For: $CONTROL_IP"
for s in direct plain limited control; do
  [[ ${PROBE_STATUS[$s]} == 200 ]] || die "before the run: the $s probe got $(probe_summary "$s"), expected 200"
done
if selected light; then
  probe light "${RUN_URL[light]}" "X-Forwarded-For: 10.0.0.1"
  [[ ${PROBE_STATUS[light]} == 200 ]] || die "before the run: a light client on /light got $(probe_summary light), expected 200"
fi
if selected botnet; then
  probe botnet "${RUN_URL[botnet]}" "X-Forwarded-For: 10.3.0.1" # outside both botnet ranges: its state stays apart
  [[ ${PROBE_STATUS[botnet]} == 200 ]] || die "before the run: a client on /botnet got $(probe_summary botnet), expected 200"
fi
if selected over; then
  # The over-limit client's one permit of the hour is taken here; from now on every request of it is a 429.
  probe over-first "${RUN_URL[over]}" "X-Forwarded-For: $OVER_IP"
  probe over "${RUN_URL[over]}" "X-Forwarded-For: $OVER_IP"
  [[ ${PROBE_STATUS[over-first]} == 200 ]] || die "before the run: the over-limit client's first request got $(probe_summary over-first), expected 200 (1 per hour)"
  [[ ${PROBE_STATUS[over]} == 429 ]] || die "gateway misbehaves: the over-limit client's second request got $(probe_summary over), expected 429"
  [[ "$(problem_type over)" == urn:mdvgateway:problem:rate-limited ]] ||
    die "gateway misbehaves: the over-limit 429 is not the rate-limited problem document: $(probe_summary over)"
fi
BANNED_PROBE_BODY=""
if selected banned; then
  probe banned "${RUN_URL[banned]}" "X-Forwarded-For: $BANNED_IP"
  probe banned-limited "${RUN_URL[limited]}" "X-Forwarded-For: $BANNED_IP"
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
fi
say "before the run: probes as expected"

# ---------------------------------------------------------------------------------------------
# 4. Warm-up and measurement.

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
# latency_percentiles LOG...: "p50_ms p99_ms count" of h2load --log-file rows (3rd column: microseconds).
latency_percentiles() {
  awk '{print $3}' "$@" | sort -n | awk '
    { a[NR] = $1 }
    function pct(p,  i) { i = int(NR * p + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; return a[i] / 1000 }
    END { if (NR) printf "%.3f %.3f %d\n", pct(0.5), pct(0.99), NR; else print "NA NA 0" }'
}
# parse_h2load FILE LOG: "rps p50_ms p99_ms requests non2xx socket_errors"
parse_h2load() {
  local rps done_ non2xx serr p50 p99 n
  rps="$(awk '/^finished in/ { v = $4; sub(/,$/, "", v); print v; exit }' "$1")"
  read -r done_ serr < <(awk '/^requests:/ { print $8, $12 + $14; exit }' "$1")
  non2xx="$(awk '/^status codes:/ { print $5 + $7 + $9; exit }' "$1")"
  read -r p50 p99 n < <(latency_percentiles "$2")
  echo "${rps:-NA} $p50 $p99 ${done_:-NA} ${non2xx:-0} ${serr:-0}"
}

# start_load RUN SECONDS OUT [census]: the run's load generator in the background (so the trap can stop it), waited
# for with wait_load. wrk for throughput (closed loop, -t/-c), h2load for the tail runs (fixed rate: --rps per
# connection, connections opened 1 ms apart so their requests do not leave in bursts).
start_load() {
  local run=$1 seconds=$2 out=$3 census=${4:-}
  local -a cmd
  if [[ ${RUN_TOOL[$run]} == h2load ]]; then
    cmd=(h2load --h1 -t1 -c"$BENCH_TAIL_CONNECTIONS" -r1 --rate-period=1ms --rps $((BENCH_TAIL_RPS / BENCH_TAIL_CONNECTIONS))
      -n $((BENCH_TAIL_RPS * seconds)) --log-file "$out.log" "${RUN_URL[$run]}")
  else
    cmd=(wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$seconds"s --latency)
    [[ -z ${RUN_HEADER[$run]} ]] || cmd+=(-H "${RUN_HEADER[$run]}")
    if [[ -n ${RUN_ROTATE[$run]} ]]; then
      # shellcheck disable=SC2206 # "COUNT OCTET ORDER" split into words on purpose
      cmd+=(-s "$ROTATE_LUA" "${RUN_URL[$run]}" -- ${RUN_ROTATE[$run]} "$BENCH_THREADS" $census)
    else
      cmd+=("${RUN_URL[$run]}")
    fi
  fi
  printf '%q ' "${cmd[@]}" >"$out.cmd"
  "${cmd[@]}" >"$out" 2>&1 &
  LOAD_PID=$!
}
wait_load() {
  local rc=0
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=""
  return "$rc"
}
warm() { # RUN SECONDS
  start_load "$1" "$2" "$RUN_DIR/warmup-$1.txt"
  if [[ $1 == limited ]]; then
    sleep "$(awk -v d="$2" 'BEGIN{print d/2}')"
    redis_snapshot
  fi
  wait_load || die "load generator failed during warm-up of $1: $(tail -n 5 "$RUN_DIR/warmup-$1.txt")"
}
# redis_snapshot: the busy client's keys in the bench's Redis while the limited load runs (during its warm-up, so
# the SCAN is not counted in a measured run). Found by the client's address in the key name, whatever the layout.
redis_snapshot() {
  local k t d
  MID_REDIS=""
  while IFS= read -r k; do
    t="$("${REDIS_CLI[@]}" TYPE "$k" 2>/dev/null || echo '?')"
    case $t in
      zset) d="zset, $("${REDIS_CLI[@]}" ZCARD "$k" 2>/dev/null) entries" ;;
      hash) d="hash, $("${REDIS_CLI[@]}" HLEN "$k" 2>/dev/null) fields" ;;
      *) d=$t ;;
    esac
    MID_REDIS+="${MID_REDIS:+; }\`$k\` ($d)"
  done < <({ "${REDIS_CLI[@]}" --scan --pattern '*127.0.0.1*' 2>/dev/null || true; } | sort | head -n 6)
  MID_DBSIZE[limited]="$("${REDIS_CLI[@]}" DBSIZE 2>/dev/null || echo '?')"
}
# statuses_of DIR0 DIR1: "2xx 429 403 other" from the gateway's own counters (for progress lines).
statuses_of() { python3 "$BENCH_DIR/delta.py" "$1" "$2" 0 - | awk '{v[$1]=$2} END {printf "2xx %s 429 %s 403 %s other %s new-bans %s\n", v["s2xx"], v["s429"], v["s403"], v["sother"] + v["s499"], v["bans"]}'; }

declare -A R=() # R[run,round,field]
LIMITED_HEADER_SEEN=0
MID_LIMITED_HEADER=""
BANNED_MID_OK=0
BANNED_MID_BAD=""
MID_REDIS=""
declare -A MID_DBSIZE=()

# mid_run RUN ROUND: while the load runs, proof that the scenario is what it says (done half-way through).
mid_run() {
  local run=$1 round=$2 h
  case $run in
    limited)
      h="$(header_value "${RUN_URL[limited]}" RateLimit)"
      if [[ -n $h ]]; then
        LIMITED_HEADER_SEEN=$((LIMITED_HEADER_SEEN + 1))
        [[ -n $MID_LIMITED_HEADER ]] || MID_LIMITED_HEADER=$h
      fi
      ;;
    banned)
      probe "banned-mid$round" "${RUN_URL[banned]}" "X-Forwarded-For: $BANNED_IP"
      if [[ ${PROBE_STATUS[banned-mid$round]} == "$BANNED_STATUS" ]]; then
        BANNED_MID_OK=$((BANNED_MID_OK + 1))
      else
        BANNED_MID_BAD+="${BANNED_MID_BAD:+; }round $round: $(probe_summary "banned-mid$round")"
      fi
      ;;
    light | botnet)
      if ((round == 1)); then MID_DBSIZE[$run]="$("${REDIS_CLI[@]}" DBSIZE 2>/dev/null || echo '?')"; fi
      ;;
  esac
}

# measure RUN ROUND: one measured run; its figures go to R[RUN,ROUND,*].
measure() {
  local run=$1 round=$2 seconds out log0 s0 s1 g0 g1 u0 u1 sb0 st0 sb1 st1 w0 w1 cpu_w0 cpu_w1 wall k v
  seconds="$(run_seconds "$run")"
  out="$RUN_DIR/round$round-$run.txt"
  s0="$RUN_DIR/.s0" s1="$RUN_DIR/.s1"
  rm -rf "$s0" "$s1"
  sample "$s0"
  g0="$(proc_ticks "$GATEWAY_PID")"; u0="$(proc_ticks "$UPSTREAM_PID")"
  read -r sb0 st0 < <(sys_ticks)
  w0=${EPOCHREALTIME/./}
  children_cpu_seconds cpu_w0

  log0=$(stat -c %s "$RUN_DIR/gateway.log" 2>/dev/null || echo 0)
  start_load "$run" "$seconds" "$out"
  case $run in
    limited | banned | light | botnet)
      sleep "$(awk -v d="$seconds" 'BEGIN{print d/2}')"
      mid_run "$run" "$round"
      ;;
  esac
  wait_load || die "load generator failed on $run (round $round): $(tail -n 5 "$out")"

  children_cpu_seconds cpu_w1
  w1=${EPOCHREALTIME/./}
  # The requests in flight when the load stopped are still being answered (or counted as 499): let them finish, so
  # their statuses, strikes and Redis commands are this run's, not the next one's. The wall time ends before this.
  sleep 0.3
  read -r sb1 st1 < <(sys_ticks)
  g1="$(proc_ticks "$GATEWAY_PID")"; u1="$(proc_ticks "$UPSTREAM_PID")"
  sample "$s1"
  # Error/Fatal lines the gateway logged during this run (a 5xx answer is one).
  R[$run,$round,logerr]="$(tail -c +$((log0 + 1)) "$RUN_DIR/gateway.log" 2>/dev/null | grep -cE '"@l":"(Error|Fatal)"' || true)"

  kill -0 "$GATEWAY_PID" 2>/dev/null || die "the gateway died during the run (log: $RUN_DIR/gateway.log)"
  kill -0 "$UPSTREAM_PID" 2>/dev/null || die "the upstream died during the run (log: $RUN_DIR/upstream.log)"
  kill -0 "$REDIS_PID" 2>/dev/null || die "the bench's redis-server died during the run (log: $REDIS_DIR/redis.log)"

  local rps p50 p99 req non2xx serr
  if [[ ${RUN_TOOL[$run]} == h2load ]]; then
    read -r rps p50 p99 req non2xx serr < <(parse_h2load "$out" "$out.log")
  else
    read -r rps p50 p99 req non2xx serr < <(parse_wrk "$out")
  fi
  [[ $rps != NA && $p50 != NA && $p99 != NA && $req != NA ]] || die "could not parse the load generator's output $out"
  R[$run,$round,rps]=$rps; R[$run,$round,p50]=$p50; R[$run,$round,p99]=$p99
  R[$run,$round,req]=$req; R[$run,$round,non2xx]=$non2xx; R[$run,$round,serr]=$serr
  while read -r k v; do R[$run,$round,$k]=$v; done < <(python3 "$BENCH_DIR/delta.py" "$s0" "$s1" "$req" "${RUN_POLICY[$run]}")
  if [[ $run == direct ]]; then # no gateway involved: the statuses are wrk's
    R[$run,$round,s2xx]=$((req - non2xx)); R[$run,$round,s429]=0; R[$run,$round,s403]=0; R[$run,$round,s499]=0
    R[$run,$round,sother]=$non2xx; R[$run,$round,codes]=-; R[$run,$round,alloc]=NA
  fi
  wall="$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", (b-a)/1e6}')"
  # CPU in cores (CPU seconds / wall seconds); "other" = everything busy that is not one of the four. Gateway CPU per
  # request in microseconds.
  read -r "R[$run,$round,cload]" "R[$run,$round,cgw]" "R[$run,$round,cup]" "R[$run,$round,credis]" "R[$run,$round,cother]" \
    "R[$run,$round,ctotal]" "R[$run,$round,gcpu_us]" < <(
    awk -v wall="$wall" -v hz="$CLK_TCK" -v w="$(awk -v a="$cpu_w0" -v b="$cpu_w1" 'BEGIN{print b-a}')" \
      -v g="$((g1 - g0))" -v u="$((u1 - u0))" -v r="${R[$run,$round,rcpu_s]}" -v sb="$((sb1 - sb0))" -v st="$((st1 - st0))" \
      -v n="$NPROC" -v req="$req" \
      'BEGIN {
         cw = w / wall; cg = g / hz / wall; cu = u / hz / wall; cr = r / wall
         ct = st ? n * sb / st : 0; co = ct - cw - cg - cu - cr; if (co < 0) co = 0
         printf "%.2f %.2f %.2f %.2f %.2f %.2f %.1f\n", cw, cg, cu, cr, co, ct, (req > 0 ? g / hz / req * 1e6 : 0)
       }')
  say "$(printf 'round %d %-13s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  2xx %s 429 %s 403 %s other %s  new bans %s  redis %s cmd/req  gw %s µs/req' \
    "$round" "$run" "$rps" "$p50" "$p99" "${R[$run,$round,s2xx]}" "${R[$run,$round,s429]}" "${R[$run,$round,s403]}" \
    "$((R[$run,$round,sother] + R[$run,$round,s499]))" "${R[$run,$round,bans]}" "${R[$run,$round,rcmd]}" "${R[$run,$round,gcpu_us]}")"
}

# What one /metrics scrape allocates in the gateway, idle (each run's allocation delta includes one). The exporter
# answers from a cache for 300 ms, so the scrapes are 0.5 s apart; the idle gateway's own allocations count too.
rm -rf "$RUN_DIR/.a0" "$RUN_DIR/.a1" "$RUN_DIR/.a2"
sample "$RUN_DIR/.a0"; sleep 0.5; sample "$RUN_DIR/.a1"; sleep 0.5; sample "$RUN_DIR/.a2"
SCRAPE_ALLOC="$(python3 "$BENCH_DIR/delta.py" "$RUN_DIR/.a1" "$RUN_DIR/.a2" 1 - | awk '$1 == "alloc" {print $2}')"

n_warm=${#MAIN_RUNS[@]}
estimate=$((n_warm * BENCH_WARMUP + BENCH_ROUNDS * ${#MAIN_RUNS[@]} * (BENCH_DURATION + 1)))
if ((${#BOTNET_RUNS[@]} > 0)); then estimate=$((estimate + BENCH_WARMUP + 60 + BENCH_ROUNDS * 2 * (BENCH_BOTNET_DURATION + 1))); fi
say "scenarios: ${SELECTED[*]}; about $(((estimate + 59) / 60)) min of load from here (the botnet warm-up varies)"

# The main block: warm-up per load, then BENCH_ROUNDS interleaved rounds.
if ((${#MAIN_RUNS[@]} > 0)); then
  say "warm-up: ${BENCH_WARMUP} s per load (${MAIN_RUNS[*]})"
  for run in "${MAIN_RUNS[@]}"; do
    case $run in
      tail-plain) has_run plain && continue ;;     # the same route under full load: already warm
      tail-limited) has_run limited && continue ;;
    esac
    if [[ ${RUN_TOOL[$run]} == h2load ]]; then
      # Warm the route under full load (JIT), whatever the tail's own rate is.
      saved_tool=h2load; RUN_TOOL[$run]=wrk; warm "$run" "$BENCH_WARMUP"; RUN_TOOL[$run]=$saved_tool
    else
      warm "$run" "$BENCH_WARMUP"
    fi
  done
  main_s=$((BENCH_ROUNDS * ${#MAIN_RUNS[@]} * BENCH_DURATION))
  say "measuring: $BENCH_ROUNDS rounds x (${MAIN_RUNS[*]}), ${BENCH_DURATION} s each (~${main_s} s)"
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    for run in "${MAIN_RUNS[@]}"; do measure "$run" "$round"; done
  done
fi

# The botnet block, after the main block. Each botnet client needs 5 admitted requests, then StrikesBeforeBan 429s
# before its first ban; at a few thousand requests/s over 20,000 clients that first wave takes about a minute. The
# warm-up runs botnet load in BENCH_BOTNET_DURATION chunks until that wave has passed (bans issued >= half the clients
# and the last chunk had both 429s and 403s), at least BENCH_WARMUP s and at most BENCH_BOTNET_WARMUP s. Then
# consecutive rounds of (plain-botnet, botnet), so every botnet run starts where the previous one left off.
BOTNET_WARMUP_S=0
BOTNET_WARMUP_BANS=0
BOTNET_WARMUP_LOG=""
if ((${#BOTNET_RUNS[@]} > 0)); then
  say "warm-up: plain-botnet ${BENCH_WARMUP} s"
  warm plain-botnet "$BENCH_WARMUP"
  say "warm-up: botnet until its first wave of bans has passed (${BENCH_WARMUP}-${BENCH_BOTNET_WARMUP} s)"
  chunk=1
  while :; do
    rm -rf "$RUN_DIR/.w0" "$RUN_DIR/.w1"
    sample "$RUN_DIR/.w0"
    start_load botnet "$BENCH_BOTNET_DURATION" "$RUN_DIR/warmup-botnet-$chunk.txt"
    wait_load || die "load generator failed during warm-up of botnet: $(tail -n 5 "$RUN_DIR/warmup-botnet-$chunk.txt")"
    sample "$RUN_DIR/.w1"
    BOTNET_WARMUP_S=$((BOTNET_WARMUP_S + BENCH_BOTNET_DURATION))
    line="$(statuses_of "$RUN_DIR/.w0" "$RUN_DIR/.w1")"
    read -r _ c2 _ c429 _ c403 _ _ _ cb <<<"$line"
    BOTNET_WARMUP_BANS=$((BOTNET_WARMUP_BANS + cb))
    BOTNET_WARMUP_LOG+="${BOTNET_WARMUP_LOG:+; }${BOTNET_WARMUP_S} s: $c2 × 2xx, $c429 × 429, $c403 × 403, $cb new bans"
    say "botnet warm-up ${BOTNET_WARMUP_S} s: $line (bans so far $BOTNET_WARMUP_BANS)"
    if ((BOTNET_WARMUP_S >= BENCH_WARMUP && BOTNET_WARMUP_BANS * 2 >= BOTNET_CLIENTS && c429 > 0 && c403 > 0)); then break; fi
    if ((BOTNET_WARMUP_S + BENCH_BOTNET_DURATION > BENCH_BOTNET_WARMUP)); then
      say "botnet warm-up: BENCH_BOTNET_WARMUP (${BENCH_BOTNET_WARMUP} s) reached before the first wave of bans passed"
      break
    fi
    chunk=$((chunk + 1))
  done
  say "measuring: $BENCH_ROUNDS rounds x (plain-botnet, botnet), ${BENCH_BOTNET_DURATION} s each"
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    for run in "${BOTNET_RUNS[@]}"; do measure "$run" "$round"; done
  done
fi

# ---------------------------------------------------------------------------------------------
# 5. After the load: bans through the admin API (not through Redis's layout), the gateway log, then clean-up.

# admin_total PATH_AND_QUERY: the "total" of an admin list answer, or "?".
admin_total() {
  { curl -fsS --max-time 30 -H "Authorization: ApiKey $ADMIN_KEY" "$ADMIN$1" 2>/dev/null || true; } |
    python3 -c 'import json, sys
try:
    print(json.load(sys.stdin).get("total", "?"))
except Exception:
    print("?")'
}
declare -A POST_BANS=()
for net in 127.0.0.1/32 "$CONTROL_IP/32" "$OVER_IP/32" 10.0.0.0/16 10.2.0.0/16 10.1.0.0/16 "$BANNED_IP/32"; do
  POST_BANS[$net]="$(admin_total "/admin/bans?contains=${net//\//%2F}&limit=1")"
done
POST_BANS_ALL="$(admin_total "/admin/bans?limit=1")"
LOG_ERRORS="$(grep -cE '"@l":"(Error|Fatal)"' "$RUN_DIR/gateway.log" || true)"
LOG_WARNINGS="$(grep -c '"@l":"Warning"' "$RUN_DIR/gateway.log" || true)"
LOG_BAN_LINES="$(grep '"@l":"Warning"' "$RUN_DIR/gateway.log" | grep -c '"Id":4001' || true)"
# wrk stops with requests in flight. The gateway answers those 499 (client gone) and logs them at Debug (7002), so
# they are in neither count; an upstream failure (7001) or a 5xx would be. The ban storm logs one Warning per ban
# issued (4001): counted apart.
LOG_FIRST="$(grep -E '"@l":"(Warning|Error|Fatal)"' "$RUN_DIR/gateway.log" | grep -v '"Id":4001' | head -n 3 |
  python3 -c 'import json, sys
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        print(line.strip()[:200]); continue
    print("%s: %s" % (e.get("@l"), (e.get("@m") or e.get("@mt") or "")[:200]))' | paste -sd '|' - || true)"

# Stop the gateway and upstream now, then flush the bench's Redis (its bans, strikes and limiter keys) and check it is
# empty before stopping it.
stop_pid "$GATEWAY_PID" gateway; GATEWAY_PID=""
stop_pid "$UPSTREAM_PID" upstream; UPSTREAM_PID=""
PRE_FLUSH_KEYS="$("${REDIS_CLI[@]}" DBSIZE 2>/dev/null || echo '?')"
PRE_FLUSH_PREFIXED="$({ "${REDIS_CLI[@]}" --scan --pattern "*$KEY_PREFIX*" 2>/dev/null || true; } | wc -l)"
"${REDIS_CLI[@]}" FLUSHALL >/dev/null 2>&1 || true
POST_FLUSH_KEYS="$("${REDIS_CLI[@]}" DBSIZE 2>/dev/null || echo '?')"
redis_version="$("${REDIS_CLI[@]}" INFO server 2>/dev/null | awk -F: '/^redis_version:/{gsub(/\r/,"",$2); print $2}')"
stop_redis

# ---------------------------------------------------------------------------------------------
# 6. Figures, targets, validity.

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
sum() { printf '%s\n' "$@" | awk '{t += $1} END {print t + 0}'; }
field_values() { local s=$1 f=$2 r; for ((r = 1; r <= BENCH_ROUNDS; r++)); do printf '%s\n' "${R[$s,$r,$f]}"; done; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b ? a/b : 0}'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a >= b)}'; }

declare -A M=()
for run in "${ALL_RUNS[@]}"; do
  for f in rps p50 p99 rcmd rscript rcpu_us alloc gcpu_us rdec rbatch rres rpercall cload cgw cup credis cother ctotal; do
    mapfile -t vals < <(field_values "$run" "$f")
    if [[ " ${vals[*]} " == *" NA "* ]]; then M[$run,$f]=NA; else M[$run,$f]="$(median "${vals[@]}")"; fi
  done
  for f in req non2xx serr s2xx s429 s403 s499 sother bans strikes blocked logerr; do
    mapfile -t vals < <(field_values "$run" "$f")
    M[$run,$f]="$(sum "${vals[@]}")"
  done
  M[$run,codes]="$(for ((r = 1; r <= BENCH_ROUNDS; r++)); do [[ ${R[$run,$r,codes]} == - ]] || printf '%s\n' "${R[$run,$r,codes]}"; done | paste -sd, -)"
done
# The tail runs: percentiles of all rounds' requests pooled (more samples for p99 than any single run has).
for run in tail-plain tail-limited; do
  has_run "$run" || continue
  logs=()
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do logs+=("$RUN_DIR/round$r-$run.txt.log"); done
  read -r "M[$run,pp50]" "M[$run,pp99]" "M[$run,pn]" < <(latency_percentiles "${logs[@]}")
  M[$run,p50]=${M[$run,pp50]}; M[$run,p99]=${M[$run,pp99]} # the tables show the pooled figures the target uses
done

# Targets: ratio of the medians (and, as a cross-check, the median of the per-round ratios).
declare -A RATIO=() PAIRED=() VERDICT=()
FAILED_TARGETS=()
for s in "${SELECTED[@]}"; do
  [[ $s == direct || $s == tail ]] && continue
  run=${SCEN_RUN[$s]} base=${SCEN_BASE[$s]}
  RATIO[$s]="$(ratio "${M[$run,rps]}" "${M[$base,rps]}")"
  per=()
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do per+=("$(awk -v a="${R[$run,$r,rps]}" -v b="${R[$base,$r,rps]}" 'BEGIN{printf "%.4f", (b > 0 ? a / b : 0)}')"); done
  PAIRED[$s]="$(printf '%.2f' "$(median "${per[@]}")")"
  # Compared unrounded: 0.896 must not pass as "0.90 >= 0.9".
  if awk -v a="${M[$run,rps]}" -v b="${M[$base,rps]}" -v t="${SCEN_TARGET[$s]}" 'BEGIN{exit !(b > 0 && a / b >= t)}'; then
    VERDICT[$s]=PASS
  else
    VERDICT[$s]=FAIL; FAILED_TARGETS+=("$s")
  fi
done
if selected tail; then
  TAIL_GAP="$(awk -v a="${M[tail-limited,pp99]}" -v b="${M[tail-plain,pp99]}" 'BEGIN{printf "%.3f", a - b}')"
  if awk -v g="$TAIL_GAP" -v t="$TAIL_TARGET_MS" 'BEGIN{exit !(g <= t)}'; then VERDICT[tail]=PASS; else VERDICT[tail]=FAIL; FAILED_TARGETS+=(tail); fi
fi
if has_run direct && has_run plain; then RATIO_PLAIN_DIRECT="$(ratio "${M[plain,rps]}" "${M[direct,rps]}")"; else RATIO_PLAIN_DIRECT=""; fi

# Is the measurement valid? Every run must have done what its scenario says.
problems=()
for run in "${ALL_RUNS[@]}"; do
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    req=${R[$run,$r,req]} non2xx=${R[$run,$r,non2xx]}
    s2=${R[$run,$r,s2xx]} s429=${R[$run,$r,s429]} s403=${R[$run,$r,s403]} so=${R[$run,$r,sother]} s499=${R[$run,$r,s499]}
    at="$run, round $r"
    ((R[$run,$r,serr] == 0)) || problems+=("$at: ${R[$run,$r,serr]} socket errors")
    ((so == 0)) || problems+=("$at: the gateway answered $so requests with other statuses (${R[$run,$r,codes]})")
    max499=$BENCH_CONNECTIONS
    [[ ${RUN_TOOL[$run]} == h2load ]] && max499=$BENCH_TAIL_CONNECTIONS
    ((s499 <= max499)) || problems+=("$at: $s499 answers 499 (client gone), more than the $max499 requests in flight when the load stops")
    case ${RUN_EXPECT[$run]} in
      2xx)
        ((non2xx == 0)) || problems+=("$at: the load generator saw $non2xx non-2xx responses")
        ((s429 == 0 && s403 == 0)) || problems+=("$at: the gateway answered $s429 × 429 and $s403 × 403; every request must be admitted")
        ((R[$run,$r,strikes] == 0)) || problems+=("$at: ${R[$run,$r,strikes]} strikes counted: something was rate-limited")
        ;;
      429)
        ((non2xx == req)) || problems+=("$at: only $non2xx of $req responses were >= 400: the over-limit client was admitted")
        ((s2 == 0 && s403 == 0 && s429 > 0)) || problems+=("$at: the gateway answered $s2 × 2xx, $s403 × 403, $s429 × 429; every request must be a 429")
        ((R[$run,$r,strikes] == 0)) || problems+=("$at: ${R[$run,$r,strikes]} strikes counted for an allowlisted client (IpBans:Allowlist must keep it from strikes and bans)")
        ;;
      403)
        ((non2xx == req)) || problems+=("$at: only $non2xx of $req responses were >= 400: the gateway admitted a banned client")
        ((s2 == 0 && s429 == 0 && s403 > 0)) || problems+=("$at: the gateway answered $s2 × 2xx, $s429 × 429, $s403 × 403; every request must be a $BANNED_STATUS")
        ;;
      mix)
        ((s429 > 0 && s403 > 0)) || problems+=("$at: $s429 × 429 and $s403 × 403: a botnet run must contain both refusals and banned answers")
        ((R[$run,$r,bans] > 0)) || problems+=("$at: no new ban issued: the botnet run must see new bans")
        ;;
    esac
    if [[ ${RUN_EXPECT[$run]} == 429 || ${RUN_EXPECT[$run]} == 403 ]]; then
      ge 0.05 "${R[$run,$r,cup]}" || problems+=("$at: the upstream used ${R[$run,$r,cup]} cores: refused requests seem to reach the upstream")
    fi
    if [[ ${RUN_TOOL[$run]} == h2load ]]; then
      awk -v a="${R[$run,$r,rps]}" -v t="$BENCH_TAIL_RPS" 'BEGIN{exit !(a >= 0.95 * t && a <= 1.05 * t)}' ||
        problems+=("$at: ${R[$run,$r,rps]} requests/s instead of the fixed $BENCH_TAIL_RPS: the tail was not measured at its rate")
    fi
  done
done
# Every limited and light request must have been decided by Redis (the gateway's own counter; at least one decision
# per response: requests cut off when the load stops were decided but not counted by the load generator).
for run in limited light tail-limited; do
  has_run "$run" || continue
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    ge "${R[$run,$r,rdec]}" 0.99 ||
      problems+=("$run, round $r: only ${R[$run,$r,rdec]} Redis-decided admissions per request (mdv_gateway_ratelimit_decisions_total{policy=\"${RUN_POLICY[$run]}\",outcome=\"allowed\",source=\"redis\"}): the limiter did not decide every request in Redis")
  done
done
if has_run limited; then
  [[ -n $PRE_LIMITED_HEADER ]] || problems+=("/limited answered without a RateLimit header before the run")
  ((LIMITED_HEADER_SEEN == BENCH_ROUNDS)) || problems+=("/limited carried a RateLimit header in only $LIMITED_HEADER_SEEN of $BENCH_ROUNDS measured runs")
fi
[[ -z $PRE_PLAIN_HEADER ]] || problems+=("/plain answered with a RateLimit header ('$PRE_PLAIN_HEADER'): it is not plain YARP")
if has_run banned; then
  ((BANNED_MID_OK == BENCH_ROUNDS)) ||
    problems+=("banned: the probe in the middle of the run got $BANNED_STATUS in only $BANNED_MID_OK of $BENCH_ROUNDS rounds ($BANNED_MID_BAD)")
  [[ ${POST_BANS[$BANNED_IP/32]} == 1 ]] || problems+=("after the run the admin API lists ${POST_BANS[$BANNED_IP/32]} ban(s) covering $BANNED_IP, expected the bench ban")
fi
# Addresses that must never be banned: 127.0.0.1, the control client, the allowlisted over-limit client, the light
# clients and plain-botnet's clients.
for net in 127.0.0.1/32 "$CONTROL_IP/32" "$OVER_IP/32" 10.0.0.0/16 10.2.0.0/16; do
  [[ ${POST_BANS[$net]} == 0 ]] || problems+=("after the run the admin API lists ${POST_BANS[$net]} ban(s) inside $net, expected none")
done
# Error lines during the measured runs make them invalid; those of a warm-up (on this shared machine, e.g. a Redis
# call that waited out Redis:TimeoutMs while other work held the cores) are reported only.
LOG_ERRORS_MEASURED=0
for run in "${ALL_RUNS[@]}"; do
  LOG_ERRORS_MEASURED=$((LOG_ERRORS_MEASURED + M[$run,logerr]))
  ((M[$run,logerr] == 0)) || problems+=("$run: the gateway logged ${M[$run,logerr]} line(s) at Error or Fatal during the measured runs (a 5xx answer is one; $RUN_DIR/gateway.log)")
done
[[ $POST_FLUSH_KEYS == 0 ]] || problems+=("the bench's Redis still held $POST_FLUSH_KEYS keys after FLUSHALL")

# Not invalid, but worth a warning: Redis commands on runs that should cost none (banned from the local ban cache,
# over from the local over-limit cache; the ban cache's 10 s resync counts too, so above 0.01 per request).
REDIS_WARNINGS=()
for run in banned over; do
  has_run "$run" || continue
  ge "${M[$run,rcmd]}" 0.01 && REDIS_WARNINGS+=("$run: ${M[$run,rcmd]} Redis commands per request (expected about 0: refused locally)")
done
NOISE_LIMIT=0.15
noisy=""
for run in "${ALL_RUNS[@]}"; do
  if awk -v o="${M[$run,cother]}" -v l="$NOISE_LIMIT" 'BEGIN{exit !(o > l)}'; then
    noisy+="${noisy:+, }$run $(printf '%.2f' "${M[$run,cother]}")"
  fi
done
if [[ -n $noisy ]] || ((BACKGROUND_BUSY_PCT > 15)); then
  NOISE_WARNING="**Warning: the machine was not quiet** (background before the run ${BACKGROUND_BUSY_PCT}%; cores used by other processes during the runs: ${noisy:-none above $NOISE_LIMIT}). Other work competes for the same cores, so these numbers are skewed; re-run on a quiet machine."
else
  NOISE_WARNING=""
fi

# ---------------------------------------------------------------------------------------------
# 7. Report.

git_commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git_changes="$(git status --porcelain -- . ":(exclude)tests/bench/results" 2>/dev/null | wc -l)"
if ((git_changes > 0)); then git_state="$git_commit dirty ($git_changes uncommitted paths)"; else git_state="$git_commit"; fi
cpu_model="$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
mem_total="$(awk '/^MemTotal:/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
dotnet_version="$(dotnet --version 2>/dev/null || echo unknown)"
dotnet_runtime="$(dotnet --list-runtimes 2>/dev/null | awk '/Microsoft.AspNetCore.App/{v=$2} END{print v}')"
wrk_version="$(wrk -v 2>&1 | awk 'NR==1{print $2}' || true)"
h2load_version="$(h2load --version 2>&1 | awk '{print $NF; exit}' || true)"

fmt() { [[ $1 == NA ]] && printf 'n/a' || printf "$2" "$1"; }
other_cell() { # RUN: "0", or "N (codes)", plus the 499s
  local o=${M[$1,sother]} c=${M[$1,codes]} n=${M[$1,s499]}
  printf '%s%s%s' "$o" "${c:+ ($c)}" "$( ((n > 0)) && printf ' + %s × 499' "$n")"
}
top3() { # RUN: the last round's three most frequent Redis commands per request
  local mix=${R[$1,$BENCH_ROUNDS,rmix]}
  [[ $mix == - ]] && { printf -- '-'; return; }
  tr ',' '\n' <<<"$mix" | head -n 3 | awk -F= '{printf "%s%s %.3f", (NR > 1 ? ", " : ""), $1, $2}'
}

REPORT="$BENCH_RESULTS_DIR/$TS.md"
{
  echo "# MdvGateway benchmark $TS"
  echo
  echo "## Targets"
  echo
  for s in "${SELECTED[@]}"; do
    case $s in
      direct) ;;
      tail)
        printf -- '- **%s** tail: limited p99 %.2f ms − plain p99 %.2f ms = %+.2f ms at %s req/s (target ≤ +%s ms)\n' \
          "${VERDICT[tail]}" "${M[tail-limited,pp99]}" "${M[tail-plain,pp99]}" "$TAIL_GAP" "$BENCH_TAIL_RPS" "$TAIL_TARGET_MS" ;;
      *)
        printf -- '- **%s** %s: %s / %s = %s× (target ≥ %s×; median of the per-round ratios %s×)\n' \
          "${VERDICT[$s]}" "$s" "${SCEN_RUN[$s]}" "${SCEN_BASE[$s]}" "${RATIO[$s]}" "${SCEN_TARGET[$s]}" "${PAIRED[$s]}" ;;
    esac
  done
  if [[ -n $NOISE_WARNING ]]; then echo; echo "$NOISE_WARNING"; fi
  for w in "${REDIS_WARNINGS[@]}"; do echo; echo "**Warning:** $w."; done
  if ((${#problems[@]} > 0)); then
    echo
    echo "**INVALID MEASUREMENT:**"
    for p in "${problems[@]}"; do echo "- $p"; done
  fi
  echo
  echo "- Date (UTC): $(date -u '+%Y-%m-%d %H:%M:%S')"
  echo "- Machine: $NPROC × $cpu_model, $mem_total RAM, Linux $(uname -r)"
  echo "- .NET SDK $dotnet_version (ASP.NET Core runtime $dotnet_runtime), Release build; Redis $redis_version (the bench's own, port $BENCH_REDIS_PORT); wrk $wrk_version; h2load $h2load_version"
  echo "- Git commit: $git_state; gateway binary (MdvGateway.Gateway.dll) $gateway_binary (uncommitted changes in the tree at build time are not recorded)"
  echo "- Scenarios: ${SELECTED[*]}. Load: \`wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS --latency\`, ${BENCH_DURATION} s per run (botnet and plain-botnet ${BENCH_BOTNET_DURATION} s), $BENCH_ROUNDS interleaved rounds after ${BENCH_WARMUP} s of warm-up per load; tail: \`h2load --h1 -c$BENCH_TAIL_CONNECTIONS --rps $((BENCH_TAIL_RPS / BENCH_TAIL_CONNECTIONS))\` (= $BENCH_TAIL_RPS req/s). Figures are medians over the rounds; counts are sums."
  echo "- Everything shares the same $NPROC cores: load generator, gateway, upstream, Redis. Background CPU in the 2 s before the gateway started: ${BACKGROUND_BUSY_PCT}% of the machine (busiest: $BACKGROUND_TOP)."
  echo "- Gateway: per-request log line off, stdout to a file; \`Audit:Enabled\` $(audit_summary); Redis key prefix \`$KEY_PREFIX\`."
  echo
  echo "## Scenarios"
  echo
  echo "| scenario | run | req/s | ratio | p50 ms | p99 ms | 2xx | 429 | 403 | other | Redis cmds/req | top Redis cmds/req (last round) | Redis CPU µs/req | gateway CPU µs/req | gateway alloc B/req | new bans |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |"
  for s in "${SELECTED[@]}"; do
    for run in ${SCEN_BASE[$s]} ${SCEN_RUN[$s]}; do
      if [[ $run == "${SCEN_RUN[$s]}" ]]; then
        label="**$s**"; r_cell="${RATIO[$s]:+**${RATIO[$s]}×** ${VERDICT[$s]}}"
        [[ $s == tail ]] && r_cell="p99 **$(printf '%+.2f' "$TAIL_GAP") ms** ${VERDICT[tail]}"
      else
        label="$s"; r_cell="(plain)"
      fi
      printf '| %s | `%s`: %s | %.0f | %s | %.2f | %.2f | %s | %s | %s | %s | %.3f | %s | %.2f | %.1f | %s | %s |\n' \
        "$label" "$run" "${RUN_TITLE[$run]}" "${M[$run,rps]}" "$r_cell" "${M[$run,p50]}" "${M[$run,p99]}" \
        "${M[$run,s2xx]}" "${M[$run,s429]}" "${M[$run,s403]}" "$(other_cell "$run")" "${M[$run,rcmd]}" "$(top3 "$run")" \
        "${M[$run,rcpu_us]}" "${M[$run,gcpu_us]}" "$(fmt "${M[$run,alloc]}" '%.0f')" "${M[$run,bans]}"
    done
  done
  echo
  echo "ratio: median req/s of the scenario / median req/s of its plain comparator (the row above it, the same X-Forwarded-For), measured in the same rounds; tail: p99 of limited minus p99 of plain, all rounds pooled. p50/p99: of each run (wrk \`--latency\`), median over the rounds; for tail, of h2load's per-request log, all rounds pooled. 2xx/429/403/other: the gateway's own answers by status (\`http_server_request_duration_seconds_count\` deltas; direct: wrk's); \"+ N × 499\": requests in flight when the load generator stopped. Redis cmds/req: \`INFO commandstats\` delta of the bench's own Redis, commands inside scripts included. Redis CPU: \`INFO cpu\` used_cpu_user+used_cpu_sys delta. Gateway CPU: utime+stime from \`/proc/<pid>/stat\`. Alloc: \`dotnet_gc_heap_total_allocated_bytes_total\` delta from the admin listener's \`/metrics\` (includes one scrape of \`/metrics\` per run, which allocates about $(fmt "$SCRAPE_ALLOC" '%.0f') bytes). New bans: \`mdv_gateway_bans_issued_total\` delta. Per request = divided by the load generator's responses."
  if [[ -n $RATIO_PLAIN_DIRECT ]]; then echo; echo "plain YARP / direct upstream: ${RATIO_PLAIN_DIRECT}× (what YARP costs on this machine)."; fi
  echo
  echo "Per round (scenario / plain):"
  echo
  for s in "${SELECTED[@]}"; do
    [[ $s == direct ]] && continue
    run=${SCEN_RUN[$s]} base=${SCEN_BASE[$s]}
    if [[ $s == tail ]]; then
      printf -- '- tail, p99 limited − plain:'
      for ((r = 1; r <= BENCH_ROUNDS; r++)); do printf ' %+.2f ms' "$(awk -v a="${R[$run,$r,p99]}" -v b="${R[$base,$r,p99]}" 'BEGIN{print a - b}')"; done
      printf '; pooled over the rounds (%s and %s requests): p50 %.3f vs %.3f ms, p99 %.3f vs %.3f ms\n' "${M[$run,pn]}" "${M[$base,pn]}" \
        "${M[$run,pp50]}" "${M[$base,pp50]}" "${M[$run,pp99]}" "${M[$base,pp99]}"
    else
      printf -- '- %s:' "$s"
      for ((r = 1; r <= BENCH_ROUNDS; r++)); do printf ' %s×' "$(ratio "${R[$run,$r,rps]}" "${R[$base,$r,rps]}")"; done
      echo
    fi
  done
  echo
  echo "## What each scenario did"
  echo
  echo "- Clients: \`ClientIp:TrustedProxies = [\"127.0.0.1\"]\`, so the gateway believes the load generator's \`X-Forwarded-For\`. limited, plain and tail send none (the client is 127.0.0.1); rotations come from \`tests/bench/xff-rotate.lua\`. Bans: \`IpBans:Enabled\` true, \`StrikesBeforeBan\` $STRIKES_BEFORE_BAN, \`BanDurations\` $BAN_DURATIONS, \`StatusCode\` $BANNED_STATUS."
  if has_run limited; then
    echo "- **limited** (\`/limited\`, policy \`bench-high\`, 1,000,000 per second): \`RateLimit\` before the run \`${PRE_LIMITED_HEADER:-absent}\` (\`RateLimit-Policy: ${PRE_LIMITED_POLICY:-absent}\`), mid-run in $LIMITED_HEADER_SEEN of $BENCH_ROUNDS runs; /plain has $([[ -z $PRE_PLAIN_HEADER ]] && echo "none, as expected" || echo "\`$PRE_PLAIN_HEADER\` (unexpected)"). Redis during the limited warm-up: ${MID_DBSIZE[limited]:-?} keys in all; those naming 127.0.0.1: ${MID_REDIS:-none}."
    printf -- '  Admissions decided by Redis per request %.3f (median); requests per script call %.2f; admitted from a reserve %.3f; requests per rate-limit call %.1f.\n' \
      "${M[limited,rdec]}" "${M[limited,rbatch]}" "${M[limited,rres]}" "${M[limited,rpercall]}"
  fi
  if has_run light; then
    printf -- '- **light** (`/light`, policy `bench-light`, 1000 per minute per client; 65,536 clients 10.0.0.0/16, each thread walking its share in turn): Redis held %s keys mid-run (round 1); admissions decided by Redis per request %.3f; requests per rate-limit call %.1f. plain-light sends the same rotation to `/plain`.\n' \
      "${MID_DBSIZE[light]:-?}" "${M[light,rdec]}" "${M[light,rpercall]}"
  fi
  if has_run over; then
    echo "- **over** (\`/over\`, policy \`bench-over\`, 1 per hour; client $OVER_IP, in \`IpBans:Allowlist\`): its first request before the run got ${PROBE_STATUS[over-first]}, the second ${PROBE_STATUS[over]} (\`$(problem_type over)\`); strikes counted during the over runs: ${M[over,strikes]} (allowlisted: none); upstream $(printf '%.2f' "${M[over,cup]}") cores. plain-xff sends \`X-Forwarded-For: $CONTROL_IP\` to \`/plain\`."
  fi
  if has_run banned; then
    echo "- **banned** (\`/plain\` with \`X-Forwarded-For: $BANNED_IP\`): a permanent manual ban written into Redis before the gateway started ($BAN_SEED_DESC): \`$BAN_JSON\`. Before the run: $BANNED_IP got ${PROBE_STATUS[banned]} \`${PROBE_CTYPE[banned]}\` on /plain, no \`Retry-After\`, body \`$BANNED_PROBE_BODY\`; ${PROBE_STATUS[banned-limited]} on /limited; $CONTROL_IP got ${PROBE_STATUS[control]}. Mid-run probes: $BANNED_MID_OK of $BENCH_ROUNDS were $BANNED_STATUS${BANNED_MID_BAD:+ (other: $BANNED_MID_BAD)}. Upstream $(printf '%.2f' "${M[banned,cup]}") cores. After the run the admin API lists ${POST_BANS[$BANNED_IP/32]} ban covering it."
  fi
  if has_run botnet; then
    printf -- '- **botnet** (`/botnet`, policy `bench-botnet`, 5 per minute; 20,000 clients 10.1.0.0/16, a random one per request; plain-botnet: the same over 10.2.0.0/16, which is never banned): warm-up %s s until the first wave of bans had passed (%s bans; %s). Measured: %s × 2xx, %s × 429, %s × 403, %s new bans, %s strikes over %s runs of %s s; Redis held %s keys mid-run (round 1). Active bans inside 10.1.0.0/16 after the run (admin API): %s.\n' \
      "$BOTNET_WARMUP_S" "$BOTNET_WARMUP_BANS" "$BOTNET_WARMUP_LOG" "${M[botnet,s2xx]}" "${M[botnet,s429]}" "${M[botnet,s403]}" \
      "${M[botnet,bans]}" "${M[botnet,strikes]}" "$BENCH_ROUNDS" "$BENCH_BOTNET_DURATION" "${MID_DBSIZE[botnet]:-?}" "${POST_BANS[10.1.0.0/16]}"
  fi
  if has_run tail-limited; then
    printf -- '- **tail**: h2load at a fixed %s req/s (achieved, median: plain %.0f, limited %.0f), %s connections opened 1 ms apart, one busy client (127.0.0.1) on `/plain` and `/limited`.\n' \
      "$BENCH_TAIL_RPS" "${M[tail-plain,rps]}" "${M[tail-limited,rps]}" "$BENCH_TAIL_CONNECTIONS"
  fi
  echo "- Never banned (admin API after the run, bans covering): 127.0.0.1 ${POST_BANS[127.0.0.1/32]}, $CONTROL_IP ${POST_BANS[$CONTROL_IP/32]}, $OVER_IP ${POST_BANS[$OVER_IP/32]}, 10.0.0.0/16 ${POST_BANS[10.0.0.0/16]}, 10.2.0.0/16 ${POST_BANS[10.2.0.0/16]}; all active bans: $POST_BANS_ALL."
  echo "- Gateway log: $LOG_ERRORS line(s) at Error/Fatal ($LOG_ERRORS_MEASURED during measured runs), $LOG_WARNINGS at Warning, of which $LOG_BAN_LINES are bans issued (event 4001)${LOG_FIRST:+; first other warnings: $LOG_FIRST}."
  echo "- Clean-up: the bench's Redis held $PRE_FLUSH_KEYS keys at the end ($PRE_FLUSH_PREFIXED with \`$KEY_PREFIX\` in the name); after FLUSHALL $POST_FLUSH_KEYS; then it was stopped."
  echo
  echo "## Where the CPU went (cores in use, median; the machine has $NPROC)"
  echo
  echo "| run | load generator | gateway | upstream | redis | other | total busy | gateway CPU µs/req |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for run in "${ALL_RUNS[@]}"; do
    printf '| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f |\n' "$run" "${M[$run,cload]}" "${M[$run,cgw]}" "${M[$run,cup]}" \
      "${M[$run,credis]}" "${M[$run,cother]}" "${M[$run,ctotal]}" "${M[$run,gcpu_us]}"
  done
  echo
  echo "CPU seconds per process from /proc (the load generator's from the shell's \`times\`, Redis's from \`INFO cpu\`), divided by the run's wall time; \"other\" is the rest of the machine's busy time (kernel softirq, other processes)."
  echo
  echo "## Redis commands per request (last round)"
  echo
  echo "| run | total | script calls | by command |"
  echo "| --- | ---: | ---: | --- |"
  for run in "${ALL_RUNS[@]}"; do
    printf '| %s | %.3f | %.3f | %s |\n' "$run" "${R[$run,$BENCH_ROUNDS,rcmd]}" "${R[$run,$BENCH_ROUNDS,rscript]}" "$(sed 's/=/ /g; s/,/, /g' <<<"${R[$run,$BENCH_ROUNDS,rmix]}")"
  done
  echo
  echo "## Rounds (raw)"
  echo
  echo "| round | run | req/s | p50 ms | p99 ms | requests | 2xx / 429 / 403 / other / 499 | new bans | Redis cmds/req | Redis µs/req | gw µs/req | alloc B/req | cores load/gw/up/redis/other |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"
  for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    for run in "${ALL_RUNS[@]}"; do
      printf '| %d | %s | %.0f | %.2f | %.2f | %s | %s / %s / %s / %s / %s | %s | %s | %s | %s | %s | %s / %s / %s / %s / %s |\n' "$r" "$run" \
        "${R[$run,$r,rps]}" "${R[$run,$r,p50]}" "${R[$run,$r,p99]}" "${R[$run,$r,req]}" \
        "${R[$run,$r,s2xx]}" "${R[$run,$r,s429]}" "${R[$run,$r,s403]}" "${R[$run,$r,sother]}" "${R[$run,$r,s499]}" "${R[$run,$r,bans]}" \
        "${R[$run,$r,rcmd]}" "${R[$run,$r,rcpu_us]}" "${R[$run,$r,gcpu_us]}" "${R[$run,$r,alloc]}" \
        "${R[$run,$r,cload]}" "${R[$run,$r,cgw]}" "${R[$run,$r,cup]}" "${R[$run,$r,credis]}" "${R[$run,$r,cother]}"
    done
  done
  echo
  echo "Raw load-generator output (with the exact command lines), process logs and the gateway's arguments: \`${RUN_DIR#"$REPO_ROOT"/}/\` (not committed)."
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
if [[ $BENCH_FAIL_BELOW_TARGET == 1 && ${#FAILED_TARGETS[@]} -gt 0 ]]; then
  say "below target (BENCH_FAIL_BELOW_TARGET=1): ${FAILED_TARGETS[*]}"
  exit 3
fi

# Audit ingest (issue 4): consumer events/s vs a raw COPY of the same rows; its own report (ingest-latest.md).
[[ ${BENCH_INGEST:-1} == 0 ]] || "$BENCH_DIR/ingest.sh"
