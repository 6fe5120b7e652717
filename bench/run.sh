#!/usr/bin/env bash
# bench/run.sh - measure bjpay-sandbox side by side with the peer mock servers
# (WireMock, Mountebank, Prism, Mockoon and a bare Go server, "limit"), with
# the shared bench suite's bench.sh, both ways: without notifies and with one
# signed PAID notify per create. Then checks that no notify is lost.
#
# Usage: bench/run.sh [--suite DIR] [--install] [bench.sh arguments...]
#   --suite DIR  the bench suite (bench.sh, load/post.lua, sink/, peers);
#                default $BENCH_SUITE or ../shared/bench beside the repository.
#                It is copied to ~/.cache/bjpay-sandbox/bench-suite (bench.sh
#                writes into its own folder, and the shared one may be read-only).
#   --install    apt-get install wrk when it is missing (needs root).
#   Other arguments go to bench.sh, e.g. --peers "limit wiremock" --duration 30.
# Env: BENCH_CLIENT_ID, BENCH_CLIENT_SECRET (the suite's defaults),
#      SANDBOX_PORT (18600; the notify sandbox takes the next port),
#      LOSS_SECONDS (10: length of the no-loss run), DURATION, WARMUP, ... (bench.sh's).
# Output: the table on stdout and in reports/bench/bench-<UTC time>.txt.
# Needs: go, node + npm (the peers), java 17 (WireMock), wrk, curl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUITE=${BENCH_SUITE:-$ROOT/../shared/bench}
INSTALL=no
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) SUITE="$2"; shift 2 ;;
    --suite=*) SUITE="${1#--suite=}"; shift ;;
    --install) INSTALL=yes; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

die() { echo "bench/run.sh: $*" >&2; exit 2; }
[ -x "$SUITE/bench.sh" ] || die "no bench suite at $SUITE (expected bench.sh there); pass --suite DIR or set BENCH_SUITE"
if ! command -v wrk >/dev/null; then
  [ "$INSTALL" = yes ] || die "wrk is not installed; run 'apt-get install -y wrk' or pass --install"
  apt-get install -y wrk >/dev/null || die "apt-get install -y wrk failed"
fi
for tool in go node npm java curl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (the peers need node, npm and java 17)"
done

OUT="$ROOT/reports/bench"
# Outside the repository: the suite's Go files are no package of this module.
WORK="${XDG_CACHE_HOME:-$HOME/.cache}/bjpay-sandbox/bench-suite"
mkdir -p "$OUT" "$WORK"
# Copy the suite, keeping node_modules from an earlier run (npm install takes minutes).
cp -r "$SUITE"/. "$WORK"/
chmod -R u+w "$WORK"

export BENCH_CLIENT_ID=${BENCH_CLIENT_ID:-3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f}
export BENCH_CLIENT_SECRET=${BENCH_CLIENT_SECRET:-bench-secret}
PORT=${SANDBOX_PORT:-18600}
PLAIN="127.0.0.1:$PORT"
NOTIFY="127.0.0.1:$((PORT + 1))"
SINK="127.0.0.1:$((PORT + 2))"
LOSS_SECONDS=${LOSS_SECONDS:-10}

echo "building bjpay-sandbox and the suite's sink" >&2
BIN="$WORK/bin"
mkdir -p "$BIN"
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/bjpay-sandbox" ./cmd/bjpay-sandbox)
(cd "$WORK" && go build -o "$BIN/sink" ./sink/main.go)

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# serve NAME ADDR [flags...]: start a sandbox for the bench and wait until it is healthy.
serve() {
  local name=$1 addr=$2; shift 2
  "$BIN/bjpay-sandbox" serve --addr "$addr" --client-id "$BENCH_CLIENT_ID" --client-secret "$BENCH_CLIENT_SECRET" \
    --seed 1 --log-level warn "$@" >"$OUT/$name.out" 2>"$OUT/$name.log" &
  PIDS+=($!)
  "$BIN/bjpay-sandbox" health --addr "$addr" --wait 10s >/dev/null || die "$name did not start (see $OUT/$name.log)"
}
serve sandbox "$PLAIN"
serve sandbox-notify "$NOTIFY" --scenarios "$ROOT/scenarios/bench.yaml"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
REPORT="$OUT/bench-$STAMP.txt"
# sandbox: every create stays PENDING; sandbox-notify: every create is paid at
# once and notified to bench.sh's sink (BENCH_NOTIFY_URL, set by bench.sh).
(cd "$WORK" && ./bench.sh --extra "sandbox=http://$PLAIN" --extra "sandbox-notify=http://$NOTIFY" "${ARGS[@]}") | tee "$REPORT"

# bench.sh does not count an extra's webhooks, and stops its sink at once, so
# the no-loss check runs here: its own sink, a fresh sandbox state, the same load.
echo >&2
echo "no-loss check: ${LOSS_SECONDS}s of creates, each paid at once and notified to a sink" >&2
"$BIN/sink" -addr "$SINK" >"$OUT/sink.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fs "http://$SINK/count" >/dev/null && break; sleep 0.05; done
curl -fs -X POST "http://$NOTIFY/_sandbox/reset" >/dev/null
curl -fs "http://$SINK/count?reset=1" >/dev/null
BENCH_NOTIFY_URL="http://$SINK/notify" wrk -t2 -c50 -d"${LOSS_SECONDS}s" -s "$WORK/load/post.lua" \
  "http://$NOTIFY/api/merchant/transaction/create" >"$OUT/loss.wrk.txt" 2>&1
answered=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' "$OUT/loss.wrk.txt")
[ -n "$answered" ] || die "wrk printed no RESULT line (see $OUT/loss.wrk.txt)"
# Wait for the backlog to drain: nothing queued, scheduled or in flight.
stats=""
drain_start=$(date +%s%N)
for _ in $(seq 1 600); do
  stats=$(curl -fs "http://$NOTIFY/_sandbox/stats")
  if node -e 'const s=JSON.parse(process.argv[1]).backlog; process.exit(s.queued+s.scheduled+s.inFlight===0?0:1)' "$stats"; then
    break
  fi
  sleep 0.1
done
drained_ms=$(( ($(date +%s%N) - drain_start) / 1000000 ))
sunk=$(curl -fs "http://$SINK/count")
rss=$(awk '/^VmRSS:/{printf "%.0f", $2/1024}' "/proc/${PIDS[1]}/status")
verdict=$(node -e '
  const s = JSON.parse(process.argv[1]), answered = +process.argv[2], sunk = +process.argv[3];
  const paid = s.transactions.PAID, delivered = s.attempts.delivered;
  const others = s.attempts["gave-up"] + s.attempts.retrying + s.attempts.interrupted;
  // wrk counts the answers it read; creates still in flight when it stopped were made too.
  const ok = paid >= answered && paid === delivered && delivered === sunk && others === 0;
  console.log(`creates answered ${answered}, payments made ${paid}, notifies delivered ${delivered}, received by the sink ${sunk}, failed attempts ${others}: ${ok ? "no loss" : "LOSS"}`);
  process.exit(ok ? 0 : 1);
' "$stats" "$answered" "$sunk") && lossrc=0 || lossrc=$?
{
  echo
  echo "# no-loss check (sandbox-notify, ${LOSS_SECONDS}s, wrk -t2 -c50, sink on $SINK)"
  echo "$verdict"
  echo "load: $(grep '^RESULT' "$OUT/loss.wrk.txt")"
  echo "backlog empty ${drained_ms} ms after the load ended"
  echo "sandbox-notify RSS after the bench and this check: ${rss} MiB"
} | tee -a "$REPORT"
echo "report: $REPORT" >&2
exit "$lossrc"
