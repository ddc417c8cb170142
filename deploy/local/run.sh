#!/usr/bin/env bash
# `make run`: the whole stack on this machine.
#   1. services-up.sh (Redis, RabbitMQ, PostgreSQL on 127.0.0.1; installs missing packages)
#   2. dotnet build MdvGateway.sln -c Release
#   3. audit-consumer `migrate` (stops here if the migrations fail)
#   4. demo upstream, audit-consumer and gateway as background processes, logs under .local/logs/
# Ctrl-C (or SIGTERM) stops the three .NET processes gracefully; the services keep running
# (`make services-down` stops them). If any .NET process exits on its own, the others are stopped too.
#
# Ports (defaults in env.sh): MDV_GATEWAY_PORT=8080, MDV_ADMIN_PORT=8081, MDV_CONSUMER_PORT=8082,
# MDV_UPSTREAM_PORT=5080, plus the service ports. Non-default service ports and credentials are
# passed to the applications as ASP.NET Core environment overrides (Section__Key=value).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=deploy/local/env.sh
. "$SCRIPT_DIR/env.sh"
cd "$MDV_REPO_ROOT"

CONFIGURATION=Release
BIN="bin/$CONFIGURATION/net10.0"
UPSTREAM_PROJECT=tests/MdvGateway.DemoUpstream
CONSUMER_PROJECT=audit-consumer/MdvGateway.AuditConsumer
GATEWAY_PROJECT=gateway/MdvGateway.Gateway
UPSTREAM_DLL=MdvGateway.DemoUpstream.dll
CONSUMER_DLL=MdvGateway.AuditConsumer.dll
GATEWAY_DLL=MdvGateway.Gateway.dll
LOG_DIR="$MDV_LOCAL_DIR/logs"
START_TIMEOUT=${MDV_RUN_START_TIMEOUT:-60} # seconds for each process to open its port
STOP_TIMEOUT=${MDV_RUN_STOP_TIMEOUT:-20}   # seconds of graceful shutdown before SIGKILL

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# ---------------------------------------------------------------------------------------------
# Process bookkeeping: names and PIDs of the .NET processes we started, in start order.

declare -a NAMES=() PIDS=()

alive() { # PID: exists and is not a zombie
  local s
  s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $s != Z && $s != X ]]
}

stop_all() {
  local rc=$?
  trap - EXIT INT TERM
  local i pid name deadline
  # Reverse start order: the gateway first (it flushes or spools its audit queue), then the
  # consumer (it finishes its batch), then the upstream.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]} name=${NAMES[i]}
    alive "$pid" || continue
    mdv_say "run: stopping $name (pid $pid) ..."
    kill -TERM "$pid" 2>/dev/null || continue
    deadline=$((SECONDS + STOP_TIMEOUT))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
      mdv_warn "$name (pid $pid) did not stop within $STOP_TIMEOUT s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  rm -f "$MDV_LOCAL_DIR/run.pids"
  ((${#PIDS[@]} == 0)) || mdv_say "run: .NET processes stopped (services still running; 'make services-down' stops them)"
  exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log_tail() { # NAME
  mdv_say "---- last lines of $LOG_DIR/$1.log ----" >&2
  tail -n 40 "$LOG_DIR/$1.log" >&2 2>/dev/null || true
  mdv_say "----" >&2
}

# start_app NAME WORKDIR DLLPATH ENV_ASSIGNMENTS_ARRAY_NAME ARGS...
# `cd && exec` inside the subshell makes $! the PID of dotnet itself (MACHINE-NOTES).
start_app() {
  local name=$1 workdir=$2 dll=$3 envname=$4
  shift 4
  local -n envs=$envname
  (cd "$workdir" && exec env "${envs[@]}" dotnet "$dll" "$@") </dev/null >"$LOG_DIR/$name.log" 2>&1 &
  NAMES+=("$name")
  PIDS+=("$!")
  printf '%s %s\n' "$!" "$name" >>"$MDV_LOCAL_DIR/run.pids"
}

# wait_port NAME PID PORT: until 127.0.0.1:PORT accepts connections; fails if the process dies.
wait_port() {
  local name=$1 pid=$2 port=$3 deadline=$((SECONDS + START_TIMEOUT))
  until mdv_port_open "$port"; do
    if ! alive "$pid"; then
      show_log_tail "$name"
      mdv_die "$name exited during start-up (log: $LOG_DIR/$name.log)"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "$name"
      mdv_die "$name did not listen on $MDV_HOST:$port within $START_TIMEOUT s (log: $LOG_DIR/$name.log)"
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------

for p in "$MDV_GATEWAY_PORT" "$MDV_ADMIN_PORT" "$MDV_CONSUMER_PORT" "$MDV_UPSTREAM_PORT"; do
  if mdv_port_open "$p"; then
    mdv_port_owner "$p" >&2
    mdv_die "$MDV_HOST:$p is already in use (another 'make run'?). Stop it or override MDV_GATEWAY_PORT / MDV_ADMIN_PORT / MDV_CONSUMER_PORT / MDV_UPSTREAM_PORT"
  fi
done

"$SCRIPT_DIR/services-up.sh"

mdv_say "run: dotnet build MdvGateway.sln -c $CONFIGURATION"
dotnet build MdvGateway.sln -c "$CONFIGURATION" -nologo

for f in "$UPSTREAM_PROJECT/$BIN/$UPSTREAM_DLL" "$CONSUMER_PROJECT/$BIN/$CONSUMER_DLL" "$GATEWAY_PROJECT/$BIN/$GATEWAY_DLL"; do
  [[ -f $f ]] || mdv_die "$f was not built (is its project in MdvGateway.sln?)"
done

mkdir -p "$LOG_DIR"
: >"$MDV_LOCAL_DIR/run.pids"

# Configuration overrides, only for values that differ from the defaults in appsettings.json (so a
# connection string's extra options there are not replaced needlessly).
GATEWAY_ENV=()
CONSUMER_ENV=()
UPSTREAM_ENV=()
if [[ $MDV_REDIS_PORT != 6379 ]]; then
  GATEWAY_ENV+=("Redis__Configuration=$MDV_REDIS_ADDRESS")
fi
if [[ $MDV_RABBITMQ_PORT != 5672 ]]; then
  GATEWAY_ENV+=("Audit__RabbitMq__Port=$MDV_RABBITMQ_PORT")
  CONSUMER_ENV+=("RabbitMq__Port=$MDV_RABBITMQ_PORT")
fi
if [[ $MDV_PG_PORT != 5432 || $MDV_PG_USER != mdv || $MDV_PG_PASSWORD != mdv || $MDV_PG_DATABASE != mdv_audit ]]; then
  CONSUMER_ENV+=("ConnectionStrings__AuditDb=$MDV_PG_NPGSQL") # environment, not argv: keeps the password out of `ps`
fi
if [[ $MDV_UPSTREAM_PORT != 5080 ]]; then
  GATEWAY_ENV+=("ReverseProxy__Clusters__app__Destinations__d1__Address=http://$MDV_HOST:$MDV_UPSTREAM_PORT/")
fi
# Spool directory inside .local/ whatever the working directory is.
GATEWAY_ENV+=("Audit__SpoolDirectory=$MDV_LOCAL_DIR/audit-spool")

# --- migrations --------------------------------------------------------------------------------
# The consumer never migrates on its own in production; `make run` applies the migrations first and
# stops if they fail (the consumer would only report not-ready without its schema).
mdv_say "run: applying audit database migrations (dotnet $CONSUMER_DLL migrate) ..."
if ! (cd "$CONSUMER_PROJECT/$BIN" && exec env "${CONSUMER_ENV[@]}" timeout "${MDV_RUN_MIGRATE_TIMEOUT:-300}" dotnet "$CONSUMER_DLL" migrate) \
  </dev/null >"$LOG_DIR/migrate.log" 2>&1; then
  tail -n 20 "$LOG_DIR/migrate.log" >&2 || true
  mdv_die "'dotnet $CONSUMER_DLL migrate' failed (log: $LOG_DIR/migrate.log)"
fi
mdv_say "run: migrations applied"

# --- the three .NET processes ------------------------------------------------------------------
start_app demo-upstream "$UPSTREAM_PROJECT/$BIN" "$UPSTREAM_DLL" UPSTREAM_ENV \
  --urls "http://$MDV_HOST:$MDV_UPSTREAM_PORT"
wait_port demo-upstream "${PIDS[-1]}" "$MDV_UPSTREAM_PORT"

start_app audit-consumer "$CONSUMER_PROJECT/$BIN" "$CONSUMER_DLL" CONSUMER_ENV \
  --Urls "http://$MDV_HOST:$MDV_CONSUMER_PORT"
wait_port audit-consumer "${PIDS[-1]}" "$MDV_CONSUMER_PORT"

# The gateway runs with its project folder as working directory (= content root), so edits to
# gateway/MdvGateway.Gateway/appsettings.json are hot-reloaded, as they would be in production.
start_app gateway "$GATEWAY_PROJECT" "$BIN/$GATEWAY_DLL" GATEWAY_ENV \
  --urls "http://$MDV_HOST:$MDV_GATEWAY_PORT" --Admin:Urls "http://$MDV_HOST:$MDV_ADMIN_PORT"
wait_port gateway "${PIDS[-1]}" "$MDV_GATEWAY_PORT"
wait_port gateway "${PIDS[-1]}" "$MDV_ADMIN_PORT"

cat <<EOF

MdvGateway is running:
  gateway (public)  http://$MDV_HOST:$MDV_GATEWAY_PORT
  gateway (admin)   http://$MDV_HOST:$MDV_ADMIN_PORT     (/admin/..., /health/ready)
  audit-consumer    http://$MDV_HOST:$MDV_CONSUMER_PORT     (/metrics, /health/ready)
  demo upstream     http://$MDV_HOST:$MDV_UPSTREAM_PORT
  redis             $MDV_REDIS_ADDRESS
  rabbitmq          $MDV_RABBITMQ_URL
  postgres          $MDV_PG_URL
Logs: $LOG_DIR/{gateway,audit-consumer,demo-upstream}.log
Press Ctrl-C to stop the .NET processes (the services keep running; 'make services-down' stops them).

EOF

# Until Ctrl-C, or until one of the processes exits on its own (then stop the others and fail).
exited_pid=""
wait -n -p exited_pid "${PIDS[@]}" && exit_rc=0 || exit_rc=$?
for i in "${!PIDS[@]}"; do
  if [[ ${PIDS[i]} == "$exited_pid" ]]; then
    show_log_tail "${NAMES[i]}"
    mdv_die "${NAMES[i]} (pid $exited_pid) exited with status $exit_rc; stopping the others"
  fi
done
exit "$exit_rc"
