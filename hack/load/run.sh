#!/usr/bin/env bash
# Measures the collector under an external load generator: wrk with
# hack/load/events.lua posts ~850-byte server events to the real
# `trackstack collect` on a throwaway PostgreSQL with fsync on, every rate
# limit lifted. Per shape it prints events/s, requests/s and latency
# percentiles, then checks that every event acknowledged with a 200 is stored.
# It also prints where the time went: how many of the machine's cores were
# busy and how much of that was the collector's and PostgreSQL's, and the
# collector's store transactions (events and milliseconds each), and the
# CPU time each stored event cost the collector, PostgreSQL and the rest.
#
#   hack/load/run.sh SHAPE...     SHAPE is EVENTSxCONNECTIONS: 1x50 1x200 20x50
#
# The shapes run one after another against the same collector and database.
# Environment:
#   LOAD_DURATION    how long each shape runs (wrk -d), default 30s
#   LOAD_WARMUP      how long the first shape runs before the measured ones,
#                    so the pools, caches and heap have grown; default 5s, 0: none
#   LOAD_THREADS     wrk threads (at most one per connection), default 2
#   TRACKSTACK_BIN   the binary under test, default bin/trackstack; point it
#                    at another build to compare two versions in one session
#   LOAD_COLLECT_ARGS
#                    extra flags for `trackstack collect`, e.g.
#                    --debug-listen=127.0.0.1:6060 to profile it under load
#   LOAD_PG_ARGS     extra PostgreSQL settings, e.g. "-c shared_buffers=1GB"
#   LOAD_GOGC, LOAD_GOMEMLIMIT
#                    the collector's GC settings; by default those the operator
#                    gives a collector pod with default resources (GOGC=400,
#                    GOMEMLIMIT 90% of the 512Mi memory limit)
#
# Traffic goes to 127.0.0.1 only. The collector, PostgreSQL and the temporary
# directory are stopped and removed when the script ends, also on failure or
# Ctrl-C. Exit status: 0 when every check passed, 1 when one failed, 2 on
# wrong usage or missing tools.
set -euo pipefail

# A binary named relative to where the script was started from.
[[ -z ${TRACKSTACK_BIN:-} || $TRACKSTACK_BIN == /* ]] || TRACKSTACK_BIN=$PWD/$TRACKSTACK_BIN
cd "$(dirname "$0")/../.."

LOAD_DURATION=${LOAD_DURATION:-30s}
LOAD_WARMUP=${LOAD_WARMUP:-5s}
LOAD_THREADS=${LOAD_THREADS:-2}
TRACKSTACK_BIN=${TRACKSTACK_BIN:-bin/trackstack}
LOAD_GOGC=${LOAD_GOGC:-400}
LOAD_GOMEMLIMIT=${LOAD_GOMEMLIMIT:-483183819}
SITE=load # the site hack/load/prepare renders

usage() {
	echo "usage: hack/load/run.sh SHAPE...   (SHAPE = EVENTSxCONNECTIONS, e.g. 1x50 1x200 20x50)" >&2
	echo "$1" >&2
	exit 2
}

# check_usage validates the shapes and finds the tools, before anything starts.
check_usage() {
	(($# > 0)) || usage "no shape given"
	local shape events conns
	for shape in "$@"; do
		[[ $shape =~ ^([0-9]+)x([0-9]+)$ ]] || usage "shape '$shape' is not EVENTSxCONNECTIONS"
		events=${BASH_REMATCH[1]} conns=${BASH_REMATCH[2]}
		((events >= 1 && events <= 500)) || usage "shape $shape: events per request must be 1 to 500 (the API's limit)"
		((conns >= 1)) || usage "shape $shape: at least one connection"
	done
	[[ $LOAD_THREADS =~ ^[1-9][0-9]*$ ]] || usage "LOAD_THREADS must be a positive number"
	command -v wrk >/dev/null || usage "wrk not found: apt-get install wrk"
	[[ -x $TRACKSTACK_BIN ]] || usage "$TRACKSTACK_BIN not found: go build -o bin/trackstack ./runtime/cmd/trackstack"
	pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[[ -x $pg_bin/initdb ]] || usage "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: apt-get install postgresql"
	if ((EUID == 0)); then
		id postgres >/dev/null 2>&1 || usage "running as root, PostgreSQL must run as the postgres user, which does not exist"
	fi
}

# as_pg runs a command as the postgres user when we are root: PostgreSQL
# refuses to run as root.
as_pg() {
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

tmp= collector_pid= pg_started=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e # stop and remove everything, whatever fails on the way
	if [[ -n $collector_pid ]] && kill -0 "$collector_pid" 2>/dev/null; then
		stop_collector || true
	fi
	if [[ -n $pg_started ]]; then
		as_pg "$pg_bin/pg_ctl" -D "$tmp/pg/data" -m fast -w stop >/dev/null || true
	fi
	if ((rc != 0)) && [[ -n $tmp ]]; then
		for log in "$tmp/collect.log" "$tmp/pg/postgres.log"; do
			[[ -s $log ]] && { echo "--- last lines of $(basename "$log"):"; tail -n 20 "$log"; }
		done
	fi
	[[ -n $tmp ]] && rm -rf "$tmp"
	exit "$rc"
}

start_postgres() {
	# The postgres user must reach its directory inside ours.
	chmod 711 "$tmp"
	mkdir "$tmp/pg"
	((EUID == 0)) && chown postgres: "$tmp/pg"
	# -N only skips fsyncing initdb's own files; the server runs with fsync on.
	as_pg "$pg_bin/initdb" -D "$tmp/pg/data" -U postgres --auth=trust -E UTF8 --locale=C -N \
		>"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; return 1; }
	as_pg "$pg_bin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/postgres.log" -w -t 60 -o \
		"-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$tmp/pg -c max_connections=200 -c fsync=on -c synchronous_commit=on ${LOAD_PG_ARGS:-}" \
		start >/dev/null || { echo "PostgreSQL did not start on port $pg_port" >&2; return 1; }
	pg_started=1
}

start_collector() {
	# A clean environment, as in a pod: only the GC settings the operator sets.
	env -i GOGC="$LOAD_GOGC" GOMEMLIMIT="$LOAD_GOMEMLIMIT" \
		"$TRACKSTACK_BIN" collect --config "$tmp/site/config.yaml" --listen "127.0.0.1:$collector_port" ${LOAD_COLLECT_ARGS:-} \
		2>"$tmp/collect.log" &
	collector_pid=$!
	local i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$collector_pid" 2>/dev/null || { echo "the collector exited during start" >&2; return 1; }
		collector_ready && return 0
		sleep 0.1
	done
	echo "the collector was not ready within 60s" >&2
	return 1
}

# collector_ready asks /readyz over bash's /dev/tcp, so no HTTP client is needed.
collector_ready() {
	local status=
	{ exec 3<>"/dev/tcp/127.0.0.1/$collector_port"; } 2>/dev/null || return 1
	printf 'GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	read -r -t 5 _ status _ <&3 || true
	exec 3<&-
	[[ $status == 200 ]]
}

# stop_collector sends SIGTERM and waits up to a minute; a collector that
# does not exit 0 by then fails the run.
stop_collector() {
	local pid=$collector_pid i rc=0
	collector_pid=
	kill -TERM "$pid"
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null || true
		echo "FAIL: the collector did not exit within 60s of SIGTERM" >&2
		return 1
	fi
	wait "$pid" || rc=$?
	((rc == 0)) || { echo "FAIL: the collector exited $rc after SIGTERM, want 0" >&2; return 1; }
}

# proc_ticks prints the CPU time a process has used, in clock ticks (0
# when it is gone).
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# cpu_ticks prints, in clock ticks: the busy time of the whole machine, the
# collector's, and PostgreSQL's (the postmaster and its children).
cpu_ticks() {
	local user nice system irq softirq steal pm pg pid
	read -r _ user nice system _ _ irq softirq steal _ </proc/stat
	pm=$(head -n 1 "$tmp/pg/data/postmaster.pid")
	pg=$(proc_ticks "$pm")
	for pid in $(pgrep -P "$pm"); do pg=$((pg + $(proc_ticks "$pid"))); done
	echo "$((user + nice + system + irq + softirq + steal)) $(proc_ticks "$collector_pid") $pg"
}

# flush_stats prints the collector's store transactions so far: their
# number, and the sums of their events and of their seconds.
flush_stats() {
	local line count=0 events=0 seconds=0
	{ exec 3<>"/dev/tcp/127.0.0.1/$collector_port"; } 2>/dev/null || { echo "0 0 0"; return; }
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	while read -r -t 5 line <&3; do
		case $line in
		trackstack_store_flush_events_count*) count=${line##* } ;;
		trackstack_store_flush_events_sum*) events=${line##* } ;;
		trackstack_store_flush_duration_seconds_sum*) seconds=${line##* } ;;
		esac
	done
	exec 3<&-
	echo "$count $events $seconds"
}

# where_time_went prints how busy the machine's cores were during a shape,
# and who used them, from cpu_ticks before and after it lasting secs; and
# the store transactions of the shape from flush_stats before and after.
where_time_went() {
	local -a c0 c1 f0 f1
	read -ra c0 <<<"$1"
	read -ra c1 <<<"$2"
	read -ra f0 <<<"$3"
	read -ra f1 <<<"$4"
	local secs=$5 hz cores
	hz=$(getconf CLK_TCK) cores=$(nproc)
	awk -v hz="$hz" -v s="$secs" -v n="$cores" \
		-v busy=$((c1[0] - c0[0])) -v col=$((c1[1] - c0[1])) -v pg=$((c1[2] - c0[2])) \
		-v tx="$(awk -v a="${f0[0]}" -v b="${f1[0]}" 'BEGIN { print b - a }')" \
		-v ev="$(awk -v a="${f0[1]}" -v b="${f1[1]}" 'BEGIN { print b - a }')" \
		-v sec="$(awk -v a="${f0[2]}" -v b="${f1[2]}" 'BEGIN { print b - a }')" 'BEGIN {
		c = hz * s
		printf "cpu: %.2f of %d cores busy: collector %.2f, PostgreSQL %.2f, the rest (wrk, the system) %.2f\n", busy / c, n, col / c, pg / c, (busy - col - pg) / c
		if (tx > 0) printf "store: %d transactions, %.0f events and %.1f ms each\n", tx, ev / tx, sec * 1000 / tx
		# CPU time per stored event varies less from run to run than events/s
		# does, so it is the figure to compare two builds by.
		if (ev > 0) printf "cpu per event: collector %.0f us, PostgreSQL %.0f us, the rest %.0f us\n", col / hz * 1e6 / ev, pg / hz * 1e6 / ev, (busy - col - pg) / hz * 1e6 / ev
		else print "cpu per event: no event stored"
	}'
}

# missing_fields prints "missing:" and the fields that one stored event of
# the run lacks, to show that the collector read every part of the generated
# events: unknown fields are ignored, so a misspelt one would silently make
# the events lighter. It prints nothing when no event is stored.
missing_fields() {
	"$pg_bin/psql" -X -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "
		SELECT 'missing:' || concat_ws(' ',
			CASE WHEN value IS NULL THEN 'value' END, CASE WHEN currency IS NULL THEN 'currency' END,
			CASE WHEN order_id IS NULL THEN 'order_id' END, CASE WHEN url IS NULL THEN 'url' END,
			CASE WHEN referrer IS NULL THEN 'referrer' END, CASE WHEN utm_campaign IS NULL THEN 'utm' END,
			CASE WHEN NOT coalesce(click_ids ? 'gclid', false) THEN 'click_ids' END,
			CASE WHEN NOT coalesce(user_data ? 'em' AND user_data ? 'ph', false) THEN 'user.email/phone' END,
			CASE WHEN ip IS NULL THEN 'user.ip' END, CASE WHEN device_browser IS NULL THEN 'user.user_agent' END,
			CASE WHEN consent_ad_user_data IS NULL THEN 'consent' END,
			CASE WHEN properties IS NULL THEN 'properties' END)
		FROM events WHERE site = '$SITE' AND event_id LIKE '$1-%' LIMIT 1"
}

stored_events() {
	"$pg_bin/psql" -X -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
		-c "SELECT count(*) FROM events WHERE site = '$SITE' AND event_id LIKE '$1-%'"
}

# run_shape SHAPE INDEX DURATION [LABEL] runs wrk for one shape
# (EVENTSxCONNECTIONS, its position among the runs), checks its events and
# appends a line to the summary. It returns 1 when a check failed.
run_shape() {
	local shape=$1 events=${1%x*} conns=${1#*x} duration=$3 label=${4:-}
	# The run's position keeps the ids of a shape run twice apart.
	local nonce="$run_nonce-$2-$shape" threads=$((LOAD_THREADS < conns ? LOAD_THREADS : conns))
	echo
	echo "=== $events event(s) per request, $conns connections, $duration, $threads wrk threads${label:+ ($label)}"
	local ticks0 flush0 started ended
	ticks0=$(cpu_ticks) flush0=$(flush_stats) started=$(date +%s.%N)
	LOAD_INGEST_KEY=$(<"$tmp/site/keys/ingestKey") wrk -t"$threads" -c"$conns" -d"$duration" --timeout 30s \
		-s hack/load/events.lua "http://127.0.0.1:$collector_port/v1/events" -- "$events" "$nonce" "$SITE" |
		tee "$tmp/wrk.out"
	ended=$(date +%s.%N)
	local spent per_event
	spent=$(where_time_went "$ticks0" "$(cpu_ticks)" "$flush0" "$(flush_stats)" "$(awk -v a="$started" -v b="$ended" 'BEGIN { print b - a }')")
	echo "$spent"
	# "collector/PostgreSQL" microseconds per event, for the summary.
	per_event=$(awk '/^cpu per event: collector/ { print $5 "/" $8 }' <<<"$spent")
	local line
	line=$(grep '^RESULT ' "$tmp/wrk.out") || { echo "FAIL: wrk printed no RESULT line" >&2; return 1; }
	local -A r
	local kv
	for kv in ${line#RESULT }; do r[${kv%%=*}]=${kv#*=}; done
	local stored
	stored=$(stored_events "$nonce") || { echo "FAIL: cannot count the stored events" >&2; return 1; }

	local missing
	missing=$(missing_fields "$nonce") || { echo "FAIL: cannot read a stored event" >&2; return 1; }

	local failed=0 why=()
	[[ -z $missing || $missing == "missing:" ]] || why+=("the stored events lack fields the script sends (${missing#missing:})")
	((r[ok_answers] > 0)) || why+=("no request was answered 200")
	((stored >= r[accepted])) || why+=("LOST $((r[accepted] - stored)) acknowledged events: $stored stored of ${r[accepted]} accepted")
	((stored <= r[sent_events])) || why+=("$stored events stored for this run but only ${r[sent_events]} sent: the count is wrong")
	((r[duplicates] == 0)) || why+=("${r[duplicates]} events answered as duplicates: event ids are not unique")
	((r[rejected] == 0)) || why+=("${r[rejected]} events rejected: the generated events are invalid")
	((r[throttled] == 0)) || why+=("${r[throttled]} answers 429: the rate limits were not lifted")
	((r[other_answers] == 0)) || why+=("${r[other_answers]} answers other than 200, 429 or 503")
	((r[unavailable] == 0)) || echo "note: ${r[unavailable]} answers 503 (store unavailable or too slow); their events were not acknowledged"
	local e=$((r[connect_errors] + r[read_errors] + r[write_errors] + r[timeouts]))
	((e == 0)) || echo "note: wrk socket errors: connect ${r[connect_errors]}, read ${r[read_errors]}, write ${r[write_errors]}, timeout ${r[timeouts]}"
	if ((${#why[@]} > 0)); then
		failed=1
		printf 'FAIL: %s\n' "${why[@]}" >&2
	fi
	summary+=("$(printf '%-30s %10s %11s %8.1f %8.1f %8.1f %10d %10d %5s %9s %6s' \
		"$events event(s) x $conns${label:+ $label}" "${r[events_per_s]}" "${r[requests_per_s]}" \
		"$(bc_ms "${r[p50_us]}")" "$(bc_ms "${r[p99_us]}")" "$(bc_ms "${r[max_us]}")" \
		"${r[accepted]}" "$stored" "${r[bytes_per_event]}" "${per_event:--}" "$([[ $failed == 0 ]] && echo ok || echo FAIL)")")
	return "$failed"
}

no_warmup() { [[ $LOAD_WARMUP =~ ^0+[smh]?$ ]]; }

bc_ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }

main() {
	check_usage "$@"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/trackstack-load.XXXXXX")

	go build -o "$tmp/prepare" ./hack/load/prepare
	{ read -r pg_port && read -r collector_port; } < <("$tmp/prepare" -free-ports 2)
	start_postgres
	"$tmp/prepare" -dir "$tmp/site" -dsn "postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
	start_collector
	echo "collector $("$TRACKSTACK_BIN" version 2>/dev/null || echo "$TRACKSTACK_BIN") on 127.0.0.1:$collector_port" \
		"(GOGC=$LOAD_GOGC GOMEMLIMIT=$LOAD_GOMEMLIMIT), PostgreSQL $(basename "$(dirname "$pg_bin")") on 127.0.0.1:$pg_port, fsync on"

	run_nonce=L$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	summary=()
	local failed=0 i
	if ! no_warmup; then
		run_shape "$1" 0 "$LOAD_WARMUP" warm-up || failed=1
	fi
	for ((i = 1; i <= $#; i++)); do
		run_shape "${!i}" "$i" "$LOAD_DURATION" || failed=1
	done
	stop_collector || failed=1

	echo
	local warm="after a $LOAD_WARMUP warm-up"
	! no_warmup || warm="no warm-up"
	echo "Summary ($(nproc) CPUs, $LOAD_DURATION per shape, $warm; acked = events accepted in 200 answers, stored = rows in PostgreSQL;"
	echo "us/ev = CPU microseconds per stored event of the collector / of PostgreSQL)"
	printf '%-30s %10s %11s %8s %8s %8s %10s %10s %5s %9s %6s\n' \
		shape events/s requests/s "p50 ms" "p99 ms" "max ms" acked stored B/ev us/ev check
	printf '%s\n' "${summary[@]}"
	return "$failed"
}

main "$@"
