#!/usr/bin/env bash
# Shared defaults for the local stack (services-up.sh, services-down.sh, run.sh).
#
# Source it from another script:   . deploy/local/env.sh
# or run it to see the effective settings as export lines:   deploy/local/env.sh
#
# Every MDV_* value below is a default only: a value already set in the environment wins.
# Everything listens on 127.0.0.1 only; that is not configurable on purpose.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  # Executed, not sourced: strict mode is safe here (sourcing must not change the caller's options).
  set -euo pipefail
fi

MDV_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
MDV_HOST=127.0.0.1

: "${MDV_LOCAL_DIR:=$MDV_REPO_ROOT/.local}"

# Services
: "${MDV_REDIS_PORT:=6379}"
: "${MDV_RABBITMQ_PORT:=5672}"
: "${MDV_RABBITMQ_DIST_PORT:=$((MDV_RABBITMQ_PORT + 20000))}" # Erlang distribution (CLI tools), loopback only
: "${MDV_EPMD_PORT:=4369}"                                       # Erlang port mapper, loopback only
: "${MDV_RABBITMQ_USER:=guest}"                                  # RabbitMQ's built-in user; loopback only
: "${MDV_RABBITMQ_PASSWORD:=guest}"
: "${MDV_PG_PORT:=5432}"
: "${MDV_PG_USER:=mdv}"
: "${MDV_PG_PASSWORD:=mdv}"
: "${MDV_PG_DATABASE:=mdv_audit}"
: "${MDV_PG_BIN:=/usr/lib/postgresql/15/bin}"
: "${MDV_RABBITMQ_BIN:=/usr/lib/rabbitmq/bin}"

# .NET processes started by run.sh
: "${MDV_GATEWAY_PORT:=8080}"
: "${MDV_ADMIN_PORT:=8081}"
: "${MDV_CONSUMER_PORT:=8082}"
: "${MDV_UPSTREAM_PORT:=5080}"

export MDV_REPO_ROOT MDV_HOST MDV_LOCAL_DIR \
  MDV_REDIS_PORT MDV_RABBITMQ_PORT MDV_RABBITMQ_DIST_PORT MDV_EPMD_PORT \
  MDV_RABBITMQ_USER MDV_RABBITMQ_PASSWORD \
  MDV_PG_PORT MDV_PG_USER MDV_PG_PASSWORD MDV_PG_DATABASE MDV_PG_BIN MDV_RABBITMQ_BIN \
  MDV_GATEWAY_PORT MDV_ADMIN_PORT MDV_CONSUMER_PORT MDV_UPSTREAM_PORT

# Connection strings derived from the values above.
MDV_REDIS_ADDRESS="$MDV_HOST:$MDV_REDIS_PORT"
MDV_RABBITMQ_URL="amqp://$MDV_RABBITMQ_USER:$MDV_RABBITMQ_PASSWORD@$MDV_HOST:$MDV_RABBITMQ_PORT/"
MDV_PG_URL="postgresql://$MDV_PG_USER:$MDV_PG_PASSWORD@$MDV_HOST:$MDV_PG_PORT/$MDV_PG_DATABASE"
MDV_PG_NPGSQL="Host=$MDV_HOST;Port=$MDV_PG_PORT;Username=$MDV_PG_USER;Password=$MDV_PG_PASSWORD;Database=$MDV_PG_DATABASE"
export MDV_REDIS_ADDRESS MDV_RABBITMQ_URL MDV_PG_URL MDV_PG_NPGSQL

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  for v in MDV_REPO_ROOT MDV_HOST MDV_LOCAL_DIR \
    MDV_REDIS_PORT MDV_RABBITMQ_PORT MDV_RABBITMQ_DIST_PORT MDV_EPMD_PORT \
    MDV_RABBITMQ_USER MDV_RABBITMQ_PASSWORD \
    MDV_PG_PORT MDV_PG_USER MDV_PG_PASSWORD MDV_PG_DATABASE MDV_PG_BIN MDV_RABBITMQ_BIN \
    MDV_GATEWAY_PORT MDV_ADMIN_PORT MDV_CONSUMER_PORT MDV_UPSTREAM_PORT \
    MDV_REDIS_ADDRESS MDV_RABBITMQ_URL MDV_PG_URL MDV_PG_NPGSQL; do
    printf 'export %s=%q\n' "$v" "${!v}"
  done
fi

# ---------------------------------------------------------------------------------------------
# Helpers shared by the scripts in this directory (defined only; nothing runs on source).

mdv_say() { printf '%s\n' "$*"; }
mdv_warn() { printf 'WARNING: %s\n' "$*" >&2; }
mdv_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# mdv_port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
mdv_port_open() { (: <>"/dev/tcp/$MDV_HOST/$1") 2>/dev/null; }

# mdv_port_owner PORT: a human-readable description of whoever listens on PORT (best effort).
mdv_port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$1" 2>/dev/null | head -n 3
  fi
}

# mdv_pid_alive PIDFILE [COMM]: prints the PID recorded in PIDFILE when that process exists, is
# not a zombie and (when COMM is given) its command name starts with COMM. Guards against stale
# pid files whose PID was reused by an unrelated process.
mdv_pid_alive() {
  local f=$1 want=${2:-} p="" comm state
  [[ -r $f ]] || return 1
  read -r p <"$f" 2>/dev/null || [[ -n $p ]] || return 1
  [[ $p =~ ^[1-9][0-9]*$ ]] || return 1
  read -r comm <"/proc/$p/comm" 2>/dev/null || return 1
  state=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || return 1
  [[ $state != Z && $state != X ]] || return 1
  [[ -z $want || $comm == "$want"* ]] || return 1
  printf '%s\n' "$p"
}

# mdv_wait_pid_exit PID SECONDS: waits for PID to disappear; false on timeout.
mdv_wait_pid_exit() {
  local p=$1 deadline=$((SECONDS + $2)) state
  while kill -0 "$p" 2>/dev/null; do
    state=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || echo gone)
    [[ $state == Z || $state == gone ]] && return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# mdv_as_pg CMD...: PostgreSQL refuses to run as root, so root runs its tools as user postgres;
# any other user runs them as itself (and owns the cluster).
mdv_as_pg() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# Paths of the local services' state (all under MDV_LOCAL_DIR).
MDV_REDIS_DIR="$MDV_LOCAL_DIR/redis"
MDV_RABBITMQ_DIR="$MDV_LOCAL_DIR/rabbitmq"
MDV_PG_DIR="$MDV_LOCAL_DIR/postgres"

# mdv_rabbitmq_env: exports what RabbitMQ's server and CLI tools (rabbitmqctl, rabbitmq-diagnostics)
# need to use the local node under .local/rabbitmq rather than /var/lib/rabbitmq:
#   . deploy/local/env.sh && mdv_rabbitmq_env && "$MDV_RABBITMQ_BIN/rabbitmqctl" -n rabbit@localhost status
mdv_rabbitmq_env() {
  local d=$MDV_RABBITMQ_DIR
  export HOME="$d/home" # the Erlang cookie lives in $HOME/.erlang.cookie; server and CLI must share it
  export RABBITMQ_NODENAME=rabbit@localhost
  export RABBITMQ_NODE_IP_ADDRESS="$MDV_HOST"
  export RABBITMQ_NODE_PORT="$MDV_RABBITMQ_PORT"
  export RABBITMQ_DIST_PORT="$MDV_RABBITMQ_DIST_PORT"
  export RABBITMQ_MNESIA_BASE="$d/mnesia"
  export RABBITMQ_LOG_BASE="$d/log"
  export RABBITMQ_PID_FILE="$d/rabbitmq.pid"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
  export RABBITMQ_CONF_ENV_FILE="$d/rabbitmq-env.conf" # keep /etc/rabbitmq/rabbitmq-env.conf out of it
  # Distribution (node <-> CLI) on loopback only; epmd is started by services-up.sh on loopback.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export ERL_EPMD_ADDRESS="$MDV_HOST"
  export ERL_EPMD_PORT="$MDV_EPMD_PORT"
}
