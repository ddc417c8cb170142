#!/usr/bin/env bash
# Stops exactly what services-up.sh started (found through the pid files and the PostgreSQL data
# directory under $MDV_LOCAL_DIR); data stays in place for the next services-up. Idempotent: does
# nothing, successfully, when nothing runs. Services that services-up did not start are left alone.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=deploy/local/env.sh
. "$SCRIPT_DIR/env.sh"

if [[ ! -d $MDV_LOCAL_DIR ]]; then
  mdv_say "services-down: nothing to stop ($MDV_LOCAL_DIR does not exist)"
  exit 0
fi

# Same lock as services-up.sh.
if [[ -z "${MDV_SERVICES_LOCKED:-}" ]]; then
  lock="$MDV_LOCAL_DIR/.services.lock"
  if ! flock -n "$lock" true; then
    mdv_say "services-down: waiting for another services-up/services-down to finish ..."
  fi
  MDV_SERVICES_LOCKED=1 exec flock -o "$lock" "$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")" "$@"
fi

status=0

# stop_pid NAME PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL.
stop_pid() {
  local name=$1 pid=$2 grace=$3
  kill -TERM "$pid" 2>/dev/null || return 0
  if ! mdv_wait_pid_exit "$pid" "$grace"; then
    mdv_warn "$name (pid $pid) did not stop within $grace s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    mdv_wait_pid_exit "$pid" 5 || { mdv_warn "$name (pid $pid) survived SIGKILL"; status=1; }
  fi
}

stop_redis() {
  local pidf=$MDV_REDIS_DIR/redis.pid pid
  if pid=$(mdv_pid_alive "$pidf" redis-server); then
    # SIGTERM is Redis's graceful shutdown; with persistence off it saves nothing.
    stop_pid redis "$pid" 15
    mdv_say "redis:    stopped (pid $pid)"
  else
    mdv_say "redis:    not running"
  fi
  rm -f "$pidf"
}

stop_rabbitmq() {
  local d=$MDV_RABBITMQ_DIR pid beam
  # SIGTERM to the launcher script makes it send SIGTERM to the Erlang VM, which RabbitMQ handles
  # as a graceful shutdown; the launcher exits once the VM has. The VM's own pid file is a fallback
  # for a launcher that died on its own.
  beam=$(mdv_pid_alive "$d/rabbitmq.pid" beam) || beam=""
  if pid=$(mdv_pid_alive "$d/rabbitmq-server.pid" rabbitmq-server); then
    stop_pid rabbitmq "$pid" 60
    if [[ -n $beam ]] && kill -0 "$beam" 2>/dev/null; then stop_pid "rabbitmq VM" "$beam" 30; fi
    mdv_say "rabbitmq: stopped (pid $pid)"
  elif [[ -n $beam ]]; then
    stop_pid "rabbitmq VM" "$beam" 60
    mdv_say "rabbitmq: stopped (VM pid $beam)"
  else
    mdv_say "rabbitmq: not running"
  fi
  rm -f "$d/rabbitmq-server.pid" "$d/rabbitmq.pid"

  # The epmd that services-up started (none recorded when it reused an existing one).
  if pid=$(mdv_pid_alive "$d/epmd.pid" epmd); then
    stop_pid epmd "$pid" 5
    mdv_say "epmd:     stopped (pid $pid)"
  fi
  rm -f "$d/epmd.pid"
}

stop_postgres() {
  local data=$MDV_PG_DIR/data
  if [[ -s $data/PG_VERSION ]] && mdv_as_pg "$MDV_PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    if mdv_as_pg "$MDV_PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null; then
      mdv_say "postgres: stopped"
    else
      mdv_warn "postgres: pg_ctl stop failed (log: $MDV_PG_DIR/log/postgres.log)"
      status=1
    fi
  else
    mdv_say "postgres: not running"
  fi
}

stop_redis
stop_rabbitmq
stop_postgres
exit "$status"
