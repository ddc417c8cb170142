#!/usr/bin/env bash
# Starts the local Redis, RabbitMQ and PostgreSQL on 127.0.0.1 with all data, logs and pid files
# under $MDV_LOCAL_DIR (default <repo>/.local). Installs the Debian packages first when missing.
#
# Idempotent: a service that is already running (started by an earlier run) is left alone, so a
# second run takes well under a second. Stop everything again with services-down.sh.
# Settings (ports, credentials, directories): see env.sh; every one can be overridden by environment.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=deploy/local/env.sh
. "$SCRIPT_DIR/env.sh"

mkdir -p "$MDV_LOCAL_DIR"

# One services-up/services-down at a time (two shells running `make test` at once must not race).
# flock -o keeps the lock in the flock process only, so the daemons started below do not inherit it.
if [[ -z "${MDV_SERVICES_LOCKED:-}" ]]; then
  lock="$MDV_LOCAL_DIR/.services.lock"
  if ! flock -n "$lock" true; then
    mdv_say "services-up: waiting for another services-up/services-down to finish ..."
  fi
  MDV_SERVICES_LOCKED=1 exec flock -o "$lock" "$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")" "$@"
fi

# ---------------------------------------------------------------------------------------------
# Debian packages (only when missing; apt-get update runs at most once).

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

install_missing_packages() {
  local missing=() p
  # faketime: libfaketime, which the clock-skew tests preload into one gateway process.
  for p in redis-server rabbitmq-server postgresql-15 postgresql-client-15 faketime; do
    pkg_installed "$p" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0

  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || mdv_die "packages missing (${missing[*]}) and not root: install them or run as root"
    sudo=(sudo)
  fi
  mdv_say "services-up: installing missing Debian packages: ${missing[*]}"
  local t0=$SECONDS
  # policy-rc.d on these machines stops apt from starting the packaged daemons; we start our own.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}"
  mdv_say "services-up: packages installed in $((SECONDS - t0)) s"
}

# Fails clearly when PORT is taken by something that services-up did not start.
require_free_port() {
  local port=$1 what=$2 var=$3
  if mdv_port_open "$port"; then
    mdv_say "$(mdv_port_owner "$port")" >&2
    mdv_die "$what: $MDV_HOST:$port is already in use by a process services-up did not start; stop it or choose another port with $var=<port>"
  fi
}

# ---------------------------------------------------------------------------------------------
# Redis: daemonized, no persistence (no RDB snapshots, no AOF).

redis_ready() { [[ "$(redis-cli -h "$MDV_HOST" -p "$MDV_REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

start_redis() {
  local d=$MDV_REDIS_DIR pidf=$MDV_REDIS_DIR/redis.pid pid
  mkdir -p "$d"
  if pid=$(mdv_pid_alive "$pidf" redis-server); then
    mdv_say "redis:    already running (pid $pid)"
  else
    rm -f "$pidf"
    require_free_port "$MDV_REDIS_PORT" redis MDV_REDIS_PORT
    redis-server --bind "$MDV_HOST" --port "$MDV_REDIS_PORT" --protected-mode yes \
      --dir "$d" --daemonize yes --pidfile "$pidf" --logfile "$d/redis.log" \
      --save "" --appendonly no </dev/null >/dev/null
    mdv_say "redis:    started"
  fi
  local deadline=$((SECONDS + 15))
  until redis_ready; do
    if ((SECONDS >= deadline)); then
      tail -n 20 "$d/redis.log" >&2 || true
      mdv_die "redis did not answer PING on $MDV_HOST:$MDV_REDIS_PORT within 15 s (log: $d/redis.log)"
    fi
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------------------------
# RabbitMQ: /usr/lib/rabbitmq/bin/rabbitmq-server run directly (the /usr/sbin wrapper switches user
# and forces /var/lib and /var/log), node rabbit@localhost, AMQP and distribution on loopback, with
# our own epmd on loopback (an auto-started epmd would listen on 0.0.0.0 and outlive the node).

find_epmd() {
  local e
  e=$(command -v epmd 2>/dev/null) && { printf '%s\n' "$e"; return; }
  for e in /usr/lib/erlang/erts-*/bin/epmd /usr/lib/erlang/bin/epmd; do
    [[ -x $e ]] && { printf '%s\n' "$e"; return; }
  done
  mdv_die "epmd not found (is erlang-base installed?)"
}

start_epmd() {
  local pidf=$MDV_RABBITMQ_DIR/epmd.pid pid
  if pid=$(mdv_pid_alive "$pidf" epmd); then
    return 0
  fi
  rm -f "$pidf"
  if mdv_port_open "$MDV_EPMD_PORT"; then
    # An epmd we did not start (e.g. another Erlang application's) serves our node just as well;
    # services-down leaves it alone because there is no pid file for it.
    mdv_say "rabbitmq: using the epmd already listening on $MDV_HOST:$MDV_EPMD_PORT (not started here)"
    return 0
  fi
  local epmd
  epmd=$(find_epmd)
  # setsid: own session, so a Ctrl-C in the terminal that ran `make run` does not reach it.
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidf" \
    "$epmd" -address "$MDV_HOST" -port "$MDV_EPMD_PORT" \
    </dev/null >>"$MDV_RABBITMQ_DIR/log/epmd.log" 2>&1 &
  local deadline=$((SECONDS + 10))
  until mdv_port_open "$MDV_EPMD_PORT"; do
    ((SECONDS < deadline)) || mdv_die "epmd did not listen on $MDV_HOST:$MDV_EPMD_PORT within 10 s (log: $MDV_RABBITMQ_DIR/log/epmd.log)"
    sleep 0.05
  done
}

rabbitmq_fail() {
  local d=$MDV_RABBITMQ_DIR
  {
    echo "---- tail of $d/log/rabbit@localhost.log ----"
    tail -n 40 "$d/log/rabbit@localhost.log" 2>/dev/null || echo "(no log yet)"
    echo "---- tail of $d/log/stdout.log ----"
    tail -n 20 "$d/log/stdout.log" 2>/dev/null || echo "(empty)"
  } >&2
  mdv_die "$1"
}

start_rabbitmq() {
  local d=$MDV_RABBITMQ_DIR launcher_pidf=$MDV_RABBITMQ_DIR/rabbitmq-server.pid pid
  mkdir -p "$d/home" "$d/mnesia" "$d/log"
  chmod 0700 "$d/home"

  if pid=$(mdv_pid_alive "$launcher_pidf" rabbitmq-server); then
    mdv_say "rabbitmq: already running (pid $pid)"
  else
    rm -f "$launcher_pidf" "$d/rabbitmq.pid"
    require_free_port "$MDV_RABBITMQ_PORT" rabbitmq MDV_RABBITMQ_PORT
    require_free_port "$MDV_RABBITMQ_DIST_PORT" "rabbitmq (Erlang distribution)" MDV_RABBITMQ_DIST_PORT
    [[ -x "$MDV_RABBITMQ_BIN/rabbitmq-server" ]] || mdv_die "$MDV_RABBITMQ_BIN/rabbitmq-server not found (is rabbitmq-server installed?)"
    start_epmd

    # Our own configuration files, so nothing from /etc/rabbitmq applies to the local node.
    [[ -f $d/enabled_plugins ]] || echo '[].' >"$d/enabled_plugins"
    : >"$d/rabbitmq-env.conf"
    cat >"$d/rabbitmq.conf" <<'CONF'
# Written by deploy/local/services-up.sh (overwritten on every start). Listener address and port
# come from RABBITMQ_NODE_IP_ADDRESS / RABBITMQ_NODE_PORT; guest/guest works over loopback only.
loopback_users.guest = true
log.console = false
log.file.level = info
CONF

    # In a subshell so that HOME and the RABBITMQ_* variables do not leak into the rest of this script.
    echo "==== $(date -Is) services-up.sh starts rabbitmq-server" >>"$d/log/stdout.log"
    (
      mdv_rabbitmq_env
      setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$launcher_pidf" "$MDV_RABBITMQ_BIN/rabbitmq-server" \
        </dev/null >>"$d/log/stdout.log" 2>&1 &
    )
    mdv_say "rabbitmq: starting (log: $d/log/rabbit@localhost.log) ..."
  fi
}

# The Erlang VM takes several seconds to boot: services-up launches it first, starts the others
# meanwhile and waits for the AMQP port last.
wait_rabbitmq() {
  local launcher_pidf=$MDV_RABBITMQ_DIR/rabbitmq-server.pid
  local timeout=${MDV_RABBITMQ_START_TIMEOUT:-60}
  local deadline=$((SECONDS + timeout))
  until mdv_port_open "$MDV_RABBITMQ_PORT"; do
    sleep 0.2
    # Give the launcher a moment to write its pid file before judging it dead.
    if [[ -s $launcher_pidf ]] && ! mdv_pid_alive "$launcher_pidf" >/dev/null; then
      rabbitmq_fail "rabbitmq-server exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      rabbitmq_fail "rabbitmq did not accept AMQP connections on $MDV_HOST:$MDV_RABBITMQ_PORT within $timeout s (set MDV_RABBITMQ_START_TIMEOUT to wait longer); it is still starting in the background, services-down.sh stops it"
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL 15, cluster under .local/postgres, run as user postgres when we are root.
# Authentication (chosen at initdb): "trust" on the Unix socket, whose directory .local/postgres/run
# is mode 0700 and owned by postgres (so only postgres and root can use it; used to create the role);
# scram-sha-256 on 127.0.0.1, so applications and tests log in with the real password (mdv/mdv).

PG_DATA="$MDV_PG_DIR/data"
PG_RUN="$MDV_PG_DIR/run"
PG_LOG="$MDV_PG_DIR/log/postgres.log"

# postgres must be able to traverse every directory from / down to .local (the repo may be root's).
ensure_pg_can_traverse() {
  ((EUID == 0)) || return 0
  local path="" part
  local -a parts
  IFS=/ read -r -a parts <<<"${MDV_LOCAL_DIR#/}"
  for part in "" "${parts[@]}"; do
    [[ -n $part ]] && path="$path/$part"
    local dir=${path:-/}
    if ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
      mdv_say "postgres: chmod o+x $dir (user postgres must traverse it to reach $MDV_PG_DIR)"
      chmod o+x "$dir"
    fi
  done
}

start_postgres() {
  local bin=$MDV_PG_BIN
  [[ -x $bin/pg_ctl ]] || mdv_die "$bin/pg_ctl not found (is postgresql-15 installed? set MDV_PG_BIN otherwise)"

  ensure_pg_can_traverse
  if ((EUID == 0)); then
    install -d -o postgres -g postgres -m 0700 "$MDV_PG_DIR" "$PG_RUN" "$MDV_PG_DIR/log"
    # An unwritable log file makes `pg_ctl -w start` hang for ~23 s before failing: make sure it is ours.
    [[ ! -e $PG_LOG ]] || chown postgres:postgres "$PG_LOG"
  else
    mkdir -p "$MDV_PG_DIR" "$PG_RUN" "$MDV_PG_DIR/log"
    chmod 0700 "$MDV_PG_DIR" "$PG_RUN"
  fi

  if [[ ! -s $PG_DATA/PG_VERSION ]]; then
    if [[ -d $PG_DATA ]] && [[ -n "$(ls -A "$PG_DATA")" ]]; then
      mdv_die "$PG_DATA exists but holds no cluster (no PG_VERSION); remove it to re-initialise"
    fi
    mdv_say "postgres: initdb $PG_DATA"
    mdv_as_pg "$bin/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >"$MDV_PG_DIR/log/initdb.log" 2>&1 ||
      { tail -n 20 "$MDV_PG_DIR/log/initdb.log" >&2; mdv_die "initdb failed (log: $MDV_PG_DIR/log/initdb.log)"; }
  fi

  if mdv_as_pg "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    mdv_say "postgres: already running (pid $(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || echo '?'))"
  else
    require_free_port "$MDV_PG_PORT" postgres MDV_PG_PORT
    # Listen address, port and socket directory are passed at every start (not baked into
    # postgresql.conf), so MDV_PG_PORT can change between runs.
    if ! mdv_as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
      -o "-c listen_addresses=$MDV_HOST -p $MDV_PG_PORT -k '$PG_RUN'" start >/dev/null; then
      tail -n 30 "$PG_LOG" >&2 || true
      mdv_die "PostgreSQL did not start (log: $PG_LOG)"
    fi
    mdv_say "postgres: started"
  fi

  local deadline=$((SECONDS + 30))
  until "$bin/pg_isready" -q -h "$MDV_HOST" -p "$MDV_PG_PORT" -t 2; do
    if ((SECONDS >= deadline)); then
      tail -n 30 "$PG_LOG" >&2 || true
      mdv_die "PostgreSQL is not accepting connections on $MDV_HOST:$MDV_PG_PORT (log: $PG_LOG)"
    fi
    sleep 0.2
  done

  # Role (LOGIN, CREATEDB so tests can create throwaway databases) and database, idempotently.
  # The password is (re)set every time so it always matches MDV_PG_PASSWORD.
  mdv_as_pg "$bin/psql" -X -q -h "$PG_RUN" -p "$MDV_PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -v role="$MDV_PG_USER" -v pass="$MDV_PG_PASSWORD" -v db="$MDV_PG_DATABASE" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'pass') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
}

# ---------------------------------------------------------------------------------------------

# Before starting anything: every port of a service that is not already running must be free, so a
# conflict fails fast and leaves nothing half-started behind.
preflight_ports() {
  mdv_pid_alive "$MDV_REDIS_DIR/redis.pid" redis-server >/dev/null ||
    require_free_port "$MDV_REDIS_PORT" redis MDV_REDIS_PORT
  if ! mdv_pid_alive "$MDV_RABBITMQ_DIR/rabbitmq-server.pid" rabbitmq-server >/dev/null; then
    require_free_port "$MDV_RABBITMQ_PORT" rabbitmq MDV_RABBITMQ_PORT
    require_free_port "$MDV_RABBITMQ_DIST_PORT" "rabbitmq (Erlang distribution)" MDV_RABBITMQ_DIST_PORT
  fi
  mdv_pid_alive "$PG_DATA/postmaster.pid" postgres >/dev/null ||
    require_free_port "$MDV_PG_PORT" postgres MDV_PG_PORT
}

t0=${EPOCHREALTIME/./}
preflight_ports
install_missing_packages
start_rabbitmq
start_redis
start_postgres
wait_rabbitmq

elapsed_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
mdv_say "services-up: ready in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s"
mdv_say "redis     $MDV_REDIS_ADDRESS"
mdv_say "rabbitmq  $MDV_RABBITMQ_URL"
mdv_say "postgres  $MDV_PG_URL"
