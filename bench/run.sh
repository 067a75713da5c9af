#!/usr/bin/env bash
# Builds earshot, its profiling build and the earbench harness, then runs
# `earbench "$@"` (bench or faults). earbench starts and stops its own
# private PostgreSQL, Dovecot and SMTP sink on 127.0.0.1; the shared test
# services are never touched. Must run as root (the servers run as their
# own users). Exits with earbench's status.
#
#   bench/run.sh bench -n 2000,10000
#   bench/run.sh faults -n 10000 -k 5
#   bench/run.sh faults -ci
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="$ROOT/bin"
cd "$ROOT"

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: must run as root (private PostgreSQL and Dovecot run as their own users)" >&2
	exit 2
fi
# The servers come from Debian packages; scripts/services installs them
# (it starts and stops nothing when asked only to install).
need_install=0
command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || need_install=1
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need_install=1
if [ "$need_install" -eq 1 ]; then
	scripts/services install
fi
PG_BIN=$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n 1)")
DOVECOT=$(command -v dovecot || printf '/usr/sbin/dovecot')

mkdir -p "$BIN"
CGO_ENABLED=0 go build -trimpath -o "$BIN/earshot" ./cmd/earshot
# Only the benchmark runs the profiling build; faults and abuse run earshot.
if [ "${1:-}" = bench ]; then
	CGO_ENABLED=0 go build -trimpath -o "$BIN/earshot-pprof" ./bench/cmd/earshot-pprof
fi
CGO_ENABLED=0 go build -trimpath -o "$BIN/earbench" ./bench/cmd/earbench

# earbench stops every server it started, also on SIGINT and SIGTERM; the
# trap forwards those and waits, so nothing outlives this script.
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

"$BIN/earbench" "$@" -earshot "$BIN/earshot" -dovecot "$DOVECOT" -pg-bin "$PG_BIN" &
pid=$!
status=0
wait "$pid" || status=$?
pid=""
exit "$status"
