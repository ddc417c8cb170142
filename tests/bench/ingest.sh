#!/usr/bin/env bash
# Audit ingest benchmark (issue 4): how fast the audit consumer turns a pre-filled queue into committed rows,
# next to a raw COPY of the same rows into the same table, in the same run; reports the ratio.
#
#   1. a fresh RabbitMQ virtual host and a fresh PostgreSQL database (migrated with the consumer's `migrate` verb);
#   2. the consumer starts once so it declares its topology, and stops; then tests/bench/ingest/publish.py
#      publishes BENCH_INGEST_EVENTS events (MassTransit JSON envelopes, persistent, with publisher confirms) as
#      AuditEventsRecorded messages of BENCH_INGEST_EVENTS_PER_MESSAGE events to exchange
#      MdvGateway.Contracts:AuditEventsRecorded, as gateways do by default (Audit:MaxEventsPerMessage), or, with
#      BENCH_INGEST_EVENTS_PER_MESSAGE=1, one AuditEventRecorded message per event to
#      MdvGateway.Contracts:AuditEventRecorded (Audit:MaxEventsPerMessage=1, or gateways older than batching);
#      they wait in queue audit-events;
#   3. the consumer starts again; timed until `select count(*) from audit_logs` equals the number published
#      (events/s, wall clock including the consumer's start-up; plus a steady-state rate from recorded_at);
#   4. the same rows are exported (psql \copy ... TO), the table truncated, and `\copy audit_logs(...) FROM`
#      of that file timed (rows/s);
#   5. report tests/bench/results/ingest-<UTC timestamp>.md and ingest-latest.md.
# Everything it creates (virtual host, database, processes) is removed on exit.
#
# Settings (environment):
#   BENCH_INGEST_EVENTS=200000     events to publish
#   BENCH_INGEST_EVENTS_PER_MESSAGE=500  events per message (1 = single-event messages)
#   BENCH_INGEST_CONSUMER_PORT=8092  the consumer's HTTP port (health endpoints)
#   BENCH_INGEST_TIMEOUT=300       seconds to wait for the consumer to store everything
#   BENCH_RESULTS_DIR              where reports go (default tests/bench/results)
#   MDV_RABBITMQ_PORT, MDV_PG_PORT, MDV_PG_USER, MDV_PG_PASSWORD, MDV_LOCAL_DIR  as for deploy/local
# Starts the local services (deploy/local/services-up.sh, idempotent). Needs a Release build of the audit consumer, python3, psql.
# Exit codes: 0 ok; 1 setup failure or an invalid measurement.
set -euo pipefail
export LC_ALL=C

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$BENCH_DIR/../.." && pwd -P)"
cd "$REPO_ROOT"
# shellcheck source=deploy/local/env.sh
. "$REPO_ROOT/deploy/local/env.sh"

: "${BENCH_INGEST_EVENTS:=200000}"
: "${BENCH_INGEST_EVENTS_PER_MESSAGE:=500}"
: "${BENCH_INGEST_CONSUMER_PORT:=8092}"
: "${BENCH_INGEST_TIMEOUT:=300}"
: "${BENCH_RESULTS_DIR:=$BENCH_DIR/results}"

say() { printf 'bench-ingest: %s\n' "$*"; }
die() { printf 'bench-ingest: ERROR: %s\n' "$*" >&2; exit 1; }

for v in BENCH_INGEST_EVENTS BENCH_INGEST_EVENTS_PER_MESSAGE BENCH_INGEST_CONSUMER_PORT BENCH_INGEST_TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done

CONSUMER_DIR="$REPO_ROOT/audit-consumer/MdvGateway.AuditConsumer/bin/Release/net10.0"
CONSUMER_DLL="$CONSUMER_DIR/MdvGateway.AuditConsumer.dll"
PUBLISHER="$BENCH_DIR/ingest/publish.py"
[[ -f $CONSUMER_DLL ]] || die "no Release build of the audit consumer ($CONSUMER_DLL); run: dotnet build -c Release"
command -v python3 >/dev/null || die "python3 is required"
command -v psql >/dev/null || die "psql is required"
"$REPO_ROOT/deploy/local/services-up.sh" >/dev/null || die "deploy/local/services-up.sh failed"
mdv_port_open "$MDV_RABBITMQ_PORT" || die "RabbitMQ is not listening on $MDV_HOST:$MDV_RABBITMQ_PORT (make services-up)"
mdv_port_open "$MDV_PG_PORT" || die "PostgreSQL is not listening on $MDV_HOST:$MDV_PG_PORT (make services-up)"
! mdv_port_open "$BENCH_INGEST_CONSUMER_PORT" || die "port $BENCH_INGEST_CONSUMER_PORT is in use: $(mdv_port_owner "$BENCH_INGEST_CONSUMER_PORT")"

TS="$(date -u +%Y%m%dT%H%M%SZ)"
SUFFIX="$(tr -dc 'a-z0-9' </dev/urandom | head -c 8 || true)"
VHOST="mdv-bench-ingest-$SUFFIX"
DB="mdv_bench_ingest_$SUFFIX"
RUN_DIR="$MDV_LOCAL_DIR/bench/ingest-$TS"
mkdir -p "$RUN_DIR" "$BENCH_RESULTS_DIR"
PG_ADMIN_URL="postgresql://$MDV_PG_USER:$MDV_PG_PASSWORD@$MDV_HOST:$MDV_PG_PORT/postgres"
PG_URL="postgresql://$MDV_PG_USER:$MDV_PG_PASSWORD@$MDV_HOST:$MDV_PG_PORT/$DB"
NPGSQL="Host=$MDV_HOST;Port=$MDV_PG_PORT;Username=$MDV_PG_USER;Password=$MDV_PG_PASSWORD;Database=$DB"
COLUMNS="event_id, event_type, occurred_at, recorded_at, client_ip, route_id, policy, actor, details"

rmqctl() { (mdv_rabbitmq_env && "$MDV_RABBITMQ_BIN/rabbitmqctl" -n rabbit@localhost -q "$@"); }
sql() { psql "$PG_URL" -X -v ON_ERROR_STOP=1 -Atq "$@"; }
now_ns() { date +%s%N; }

CONSUMER_PID=""
VHOST_CREATED=0
DB_CREATED=0
stop_consumer() {
  if [[ -n $CONSUMER_PID ]] && kill -0 "$CONSUMER_PID" 2>/dev/null; then
    kill -TERM "$CONSUMER_PID" 2>/dev/null || true
    mdv_wait_pid_exit "$CONSUMER_PID" 30 || kill -KILL "$CONSUMER_PID" 2>/dev/null || true
    wait "$CONSUMER_PID" 2>/dev/null || true
  fi
  CONSUMER_PID=""
}
cleanup() {
  local rc=$?
  stop_consumer
  if ((VHOST_CREATED)); then rmqctl delete_vhost "$VHOST" >/dev/null 2>&1 || say "could not delete vhost $VHOST"; fi
  if ((DB_CREATED)); then
    psql "$PG_ADMIN_URL" -X -Atq -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || say "could not drop database $DB"
  fi
  rm -f "$RUN_DIR/rows.copy"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_consumer() { # $1: log name
  (cd "$CONSUMER_DIR" && exec dotnet "$CONSUMER_DLL" \
    "--ConnectionStrings:AuditDb=$NPGSQL" \
    "--RabbitMq:Host=$MDV_HOST" "--RabbitMq:Port=$MDV_RABBITMQ_PORT" "--RabbitMq:VirtualHost=$VHOST" \
    "--RabbitMq:Username=$MDV_RABBITMQ_USER" "--RabbitMq:Password=$MDV_RABBITMQ_PASSWORD" \
    "--Urls=http://$MDV_HOST:$BENCH_INGEST_CONSUMER_PORT") >"$RUN_DIR/$1.log" 2>&1 &
  CONSUMER_PID=$!
}
wait_ready() {
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "http://$MDV_HOST:$BENCH_INGEST_CONSUMER_PORT/health/ready" 2>/dev/null; do
    kill -0 "$CONSUMER_PID" 2>/dev/null || die "the consumer exited; see $RUN_DIR/$1.log"
    ((SECONDS < deadline)) || die "the consumer was not ready within 60 s; see $RUN_DIR/$1.log"
    sleep 0.2
  done
}
queue_messages() { rmqctl list_queues -p "$VHOST" --no-table-headers name messages 2>/dev/null | awk '$1=="audit-events"{print $2}'; }

# 1. Fresh virtual host and database.
MESSAGES=$(((BENCH_INGEST_EVENTS + BENCH_INGEST_EVENTS_PER_MESSAGE - 1) / BENCH_INGEST_EVENTS_PER_MESSAGE))
if ((BENCH_INGEST_EVENTS_PER_MESSAGE > 1)); then
  CONTRACT=AuditEventsRecorded
else
  CONTRACT=AuditEventRecorded
fi
say "virtual host $VHOST, database $DB, $BENCH_INGEST_EVENTS events in $MESSAGES $CONTRACT messages; logs in ${RUN_DIR#"$REPO_ROOT"/}/"
rmqctl add_vhost "$VHOST" >/dev/null
VHOST_CREATED=1
rmqctl set_permissions -p "$VHOST" "$MDV_RABBITMQ_USER" '.*' '.*' '.*' >/dev/null
psql "$PG_ADMIN_URL" -X -v ON_ERROR_STOP=1 -Atq -c "CREATE DATABASE \"$DB\"" >/dev/null
DB_CREATED=1
(cd "$CONSUMER_DIR" && dotnet "$CONSUMER_DLL" migrate "--ConnectionStrings:AuditDb=$NPGSQL") >"$RUN_DIR/migrate.log" 2>&1 ||
  die "migrate failed; see $RUN_DIR/migrate.log"

# 2. Topology, then pre-fill the queue with the consumer stopped.
start_consumer consumer-topology
wait_ready consumer-topology
[[ -n $(queue_messages) ]] || die "the consumer did not declare queue audit-events"
stop_consumer
say "publishing $BENCH_INGEST_EVENTS events in $MESSAGES messages"
t0=$(now_ns)
python3 "$PUBLISHER" --vhost "$VHOST" --count "$BENCH_INGEST_EVENTS" --events-per-message "$BENCH_INGEST_EVENTS_PER_MESSAGE" \
  --host "$MDV_HOST" --port "$MDV_RABBITMQ_PORT" \
  --user "$MDV_RABBITMQ_USER" --password "$MDV_RABBITMQ_PASSWORD" >"$RUN_DIR/publish.log" 2>&1 ||
  die "publishing failed: $(tail -n 3 "$RUN_DIR/publish.log")"
PUBLISH_S=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN{printf "%.3f", (b-a)/1e9}')
QUEUED=""
for _ in $(seq 1 50); do
  QUEUED=$(queue_messages)
  [[ $QUEUED == "$MESSAGES" ]] && break
  sleep 0.2
done
[[ $QUEUED == "$MESSAGES" ]] || die "queue audit-events holds '$QUEUED' messages, expected $MESSAGES"
[[ $(sql -c "select count(*) from audit_logs") == 0 ]] || die "audit_logs is not empty before the consumer run"
say "queue audit-events holds $QUEUED messages, $BENCH_INGEST_EVENTS events (published in ${PUBLISH_S} s)"

# 3. Consumer ingest: from process start to count(*) = N.
say "starting the consumer"
t0=$(now_ns)
start_consumer consumer-ingest
deadline=$((SECONDS + BENCH_INGEST_TIMEOUT))
while :; do
  n=$(sql -c "select count(*) from audit_logs")
  [[ $n -ge $BENCH_INGEST_EVENTS ]] && break
  kill -0 "$CONSUMER_PID" 2>/dev/null || die "the consumer exited; see $RUN_DIR/consumer-ingest.log"
  ((SECONDS < deadline)) || die "only $n of $BENCH_INGEST_EVENTS rows after ${BENCH_INGEST_TIMEOUT} s; see $RUN_DIR/consumer-ingest.log"
  sleep 0.05
done
t1=$(now_ns)
INGEST_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
PEAK_RSS_MB=$(awk '/^VmHWM:/{printf "%.0f", $2/1024}' "/proc/$CONSUMER_PID/status" 2>/dev/null || echo "?")
stop_consumer
ROWS=$(sql -c "select count(*) from audit_logs")
[[ $ROWS == "$BENCH_INGEST_EVENTS" ]] || die "audit_logs holds $ROWS rows, expected $BENCH_INGEST_EVENTS (duplicates or losses)"
LEFT=$(queue_messages)
ERRORS=$(rmqctl list_queues -p "$VHOST" --no-table-headers name messages 2>/dev/null | awk '$1=="audit-events_error"{print $2}')
# Steady state: recorded_at is now() of each writing transaction. Rows of every transaction but the last, over the
# time between the first and the last transaction's start (excludes the consumer's start-up).
read -r SPAN_S STEADY_ROWS TXNS < <(sql -F ' ' -c "
  with t as (select recorded_at, count(*) c from audit_logs group by recorded_at)
  select round(extract(epoch from max(recorded_at) - min(recorded_at))::numeric, 3),
         sum(c) - (select c from t order by recorded_at desc limit 1), count(*) from t")
INGEST_RATE=$(awk -v n="$ROWS" -v s="$INGEST_S" 'BEGIN{printf "%.0f", n/s}')
STEADY_RATE=$(awk -v n="$STEADY_ROWS" -v s="$SPAN_S" 'BEGIN{ if (s > 0) printf "%.0f", n/s; else print "n/a" }')
say "consumer: $ROWS rows in ${INGEST_S} s = $INGEST_RATE events/s (steady state $STEADY_RATE events/s, $TXNS transactions)"

# 4. Raw COPY of the same rows into the same (truncated) table.
sql -c "\\copy (select $COLUMNS from audit_logs) to '$RUN_DIR/rows.copy'"
sql -c "truncate audit_logs"
sql -c "vacuum analyze audit_logs" 2>/dev/null || true
t0=$(now_ns)
sql -c "\\copy audit_logs($COLUMNS) from '$RUN_DIR/rows.copy'"
t1=$(now_ns)
COPY_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
COPY_ROWS=$(sql -c "select count(*) from audit_logs")
[[ $COPY_ROWS == "$ROWS" ]] || die "COPY stored $COPY_ROWS rows, expected $ROWS"
COPY_RATE=$(awk -v n="$COPY_ROWS" -v s="$COPY_S" 'BEGIN{printf "%.0f", n/s}')
RATIO=$(awk -v a="$INGEST_RATE" -v b="$COPY_RATE" 'BEGIN{printf "%.3f", a/b}')
RATIO_STEADY=$(awk -v a="$STEADY_RATE" -v b="$COPY_RATE" 'BEGIN{ if (a ~ /^[0-9.]+$/) printf "%.3f", a/b; else print "n/a" }')
say "COPY: $COPY_ROWS rows in ${COPY_S} s = $COPY_RATE rows/s; consumer / COPY = $RATIO (steady state $RATIO_STEADY)"

# 5. Report.
REPORT="$BENCH_RESULTS_DIR/ingest-$TS.md"
BATCH_SIZE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Audit"]["BatchSize"])' "$CONSUMER_DIR/appsettings.json" 2>/dev/null || echo "?")
CONCURRENT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Audit"]["ConcurrentBatches"])' "$CONSUMER_DIR/appsettings.json" 2>/dev/null || echo "?")
{
  echo "# Audit ingest benchmark $TS"
  echo
  echo "Commit \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`$(git diff --quiet 2>/dev/null || echo ' (with local changes)'), $(nproc) CPUs, $(uname -sr)."
  echo "Consumer settings: Audit:BatchSize $BATCH_SIZE, Audit:ConcurrentBatches $CONCURRENT (appsettings.json of the Release build)."
  echo "Messages: $MESSAGES \`$CONTRACT\` of up to $BENCH_INGEST_EVENTS_PER_MESSAGE events each (BENCH_INGEST_EVENTS_PER_MESSAGE)."
  echo
  echo "| measurement | rows | seconds | rows/s |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| consumer ingest, pre-filled queue → committed rows (wall clock from process start) | $ROWS | $INGEST_S | $INGEST_RATE |"
  echo "| consumer ingest, steady state (first to last transaction start, from recorded_at; $TXNS transactions) | $STEADY_ROWS | $SPAN_S | $STEADY_RATE |"
  echo "| raw \`\\copy audit_logs(...) FROM\` of the same rows into the same truncated table | $COPY_ROWS | $COPY_S | $COPY_RATE |"
  echo
  echo "**consumer / COPY = $RATIO** (steady state: $RATIO_STEADY)"
  echo
  echo "- $BENCH_INGEST_EVENTS \`rate_limit.exceeded\` events in $MESSAGES messages, published with publisher confirms in ${PUBLISH_S} s to"
  echo "  \`MdvGateway.Contracts:$CONTRACT\` while the consumer was stopped; queue \`audit-events\` held $QUEUED messages."
  echo "- After the run: audit-events held ${LEFT:-?} messages, audit-events_error ${ERRORS:-0}."
  echo "- The consumer's peak resident memory during the run: ${PEAK_RSS_MB} MiB."
  echo "- The wall-clock rate includes the consumer's start-up (.NET, bus connection, schema check), so it is a lower bound."
  echo "- COPY is one transaction from a client-side file (psql \`\\copy\`), timed including psql's start."
} >"$REPORT"
cp "$REPORT" "$BENCH_RESULTS_DIR/ingest-latest.md"
echo
cat "$REPORT"
echo
say "report: ${REPORT#"$REPO_ROOT"/} (and ingest-latest.md)"
