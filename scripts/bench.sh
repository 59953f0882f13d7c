#!/usr/bin/env bash
# Prints the figures of the lean-core issue, measured as a user sees them:
# whole processes of the built executables, each compared with its peer in
# the same run, interleaved (runbook, peer, runbook, peer, ...), medians.
#
#   process start         runbook version            vs actionlint -version
#   validate one file     a 5-step runbook           vs actionlint on a 5-step workflow
#   validate 20 x 15      20 runbooks of 15 steps    vs 20 workflows of 15 steps
#   validate 200 x 50     in steps/s                 vs actionlint's steps/s
#   run one step          runbook run (a log step)   vs task (one echo)
#   run one plugin step   runbook run (secret.generate: one plugin started)
#   plugin cold start     Go benchmark host.BenchmarkStartProvider
#   10k-step run          peak RSS of runbook run on 10,000 chained steps
#   drill --all           wall time against the sum of its six runs
#   sizes                 bytes and package counts of every executable
#
#   scripts/bench.sh                 # everything
#   RUNS=21 scripts/bench.sh         # more runs per median
#
# The peers are built from the Go module proxy when they are not on PATH
# (actionlint and go-task at the versions below). Needs bash 5
# (EPOCHREALTIME), Go, and for the drill PostgreSQL, terraform and
# redis-server as scripts/test.sh installs them. Other processes skew the
# figures: the load average is printed with them.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-11}
ACTIONLINT_VERSION=v1.7.12
TASK_VERSION=v3.54.0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "building..." >&2
go build -o "$tmp/bin/" ./cmd/...
go build -o "$tmp/benchcorpus" ./internal/benchcorpus/cmd
peer() { # peer NAME MODULE: a peer's path, built into $tmp/peers when not on PATH
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  GOBIN="$tmp/peers" GOFLAGS= go install "$2" >&2
  echo "$tmp/peers/$1"
}
actionlint=$(peer actionlint "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION")
task=$(peer task "github.com/go-task/task/v3/cmd/task@$TASK_VERSION")
rb="$tmp/bin/runbook"

c="$tmp/corpus"
"$tmp/benchcorpus" -out "$c/rb1" -n 1 -steps 5
"$tmp/benchcorpus" -out "$c/wf1" -n 1 -steps 5 -actions
"$tmp/benchcorpus" -out "$c/rb20" -n 20 -steps 15
"$tmp/benchcorpus" -out "$c/wf20" -n 20 -steps 15 -actions
"$tmp/benchcorpus" -out "$c/rb200" -n 200 -steps 50
"$tmp/benchcorpus" -out "$c/wf200" -n 200 -steps 50 -actions
"$tmp/benchcorpus" -out "$c/long" -long 10000
mkdir -p "$c/one"
printf 'apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: one}\nsteps:\n  - {id: hello, uses: log, with: {message: hello}}\n' >"$c/one/one.yaml"
printf 'apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: plug}\nsteps:\n  - {id: gen, uses: secret.generate, with: {}}\n' >"$c/one/plug.yaml"
printf "version: '3'\ntasks:\n  default:\n    cmds:\n      - cmd: echo hello\n        silent: true\n" >"$c/one/Taskfile.yml"

# once CMD...: the wall time of one run of CMD in ms (it must succeed).
once() {
  local t0=$EPOCHREALTIME
  "$@" >/dev/null 2>"$tmp/err" || { echo "bench.sh: $* failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  local t1=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", (b - a) * 1000 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# pair NAME -- OURS... -- PEER...: RUNS interleaved runs of each (after a
# warm-up of each), prints the medians and the ratio.
results=()
pair() {
  local name=$1 ours=() theirs=() side=0
  shift 2
  for a in "$@"; do
    if [[ $a == -- ]]; then side=1; continue; fi
    if ((side == 0)); then ours+=("$a"); else theirs+=("$a"); fi
  done
  once "${ours[@]}" >/dev/null
  if ((${#theirs[@]})); then once "${theirs[@]}" >/dev/null; fi
  : >"$tmp/a"; : >"$tmp/b"
  for ((i = 0; i < RUNS; i++)); do
    once "${ours[@]}" >>"$tmp/a"
    if ((${#theirs[@]})); then once "${theirs[@]}" >>"$tmp/b"; fi
  done
  local a b
  a=$(median <"$tmp/a")
  if ((${#theirs[@]})); then
    b=$(median <"$tmp/b")
    results+=("$(awk -v n="$name" -v a="$a" -v b="$b" 'BEGIN { printf "%-34s %9.1f ms %9.1f ms   %5.2fx", n, a, b, a / b }')")
  else
    results+=("$(awk -v n="$name" -v a="$a" 'BEGIN { printf "%-34s %9.1f ms %12s", n, a, "-" }')")
  fi
}

echo "timing ($RUNS interleaved runs each)..." >&2
pair "process start (version)" -- "$rb" version -- "$actionlint" -version
pair "validate one 5-step file" -- "$rb" validate "$c/rb1" -- "$actionlint" "$c/wf1/bench-000.yml"
pair "validate 20 files x 15 steps" -- "$rb" validate "$c/rb20" -- "$actionlint" "$c"/wf20/*.yml
pair "validate 200 files x 50 steps" -- "$rb" validate "$c/rb200" -- "$actionlint" "$c"/wf200/*.yml
big=${results[-1]}
(cd "$c/one" && pair "run one step (log / task echo)" -- "$rb" run --state "$tmp/state" one.yaml --yes -- "$task" && printf '%s\n' "${results[-1]}" >"$tmp/r1")
results+=("$(cat "$tmp/r1")")
(cd "$c/one" && pair "run one plugin step (secret)" -- "$rb" run --state "$tmp/state" plug.yaml --yes && printf '%s\n' "${results[-1]}" >"$tmp/r2")
results+=("$(cat "$tmp/r2")")

echo "plugin cold start (Go benchmark)..." >&2
go test ./plugins/host -run '^$' -bench BenchmarkStartProvider -benchtime 30x -count 3 2>/dev/null >"$tmp/cold.txt"
coldstart=""
for p in $(awk '/^BenchmarkStartProvider/ { split($1, x, "/"); sub(/-[0-9]+$/, "", x[2]); print x[2] }' "$tmp/cold.txt" | sort -u); do
  coldstart+="$p $(grep "^BenchmarkStartProvider/$p-" "$tmp/cold.txt" | awk '{ print $3 / 1e6 }' | median) ms; "
done

echo "10k-step run..." >&2
rss=$( (cd "$c/long" && /usr/bin/time -f '%M' "$rb" run --state "$tmp/state-long" long.yaml --yes 2>&1 >/dev/null | tail -1))

echo "drill --all..." >&2
drill_wall=$(once "$rb" drill --all)
"$rb" drill --all >"$tmp/drill.txt" 2>&1
runs_sum=$(awk '/^run .* (succeeded|failed) in / { d = $5; ms = 0
    if (d ~ /ms$/) { sub(/ms$/, "", d); ms = d } else if (d ~ /m[0-9.]+s$/) { split(d, p, "m"); sub(/s$/, "", p[2]); ms = (p[1] * 60 + p[2]) * 1000 } else { sub(/s$/, "", d); ms = d * 1000 }
    s += ms } END { printf "%.0f", s }' "$tmp/drill.txt")

echo
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); peers: actionlint $($actionlint -version | head -1), task $($task --version)"
printf '%-34s %12s %12s   %s\n' "figure" "runbook" "peer" "ratio"
printf '%s\n' "${results[@]}"
read -r ours theirs <<<"$(awk '{ for (i = 1; i <= NF; i++) if ($(i + 1) == "ms") printf "%s ", $i }' <<<"$big")"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "  200 x 50 in steps/s: runbook %.0f, actionlint %.0f\n", 10000 / (a / 1000), 10000 / (b / 1000) }'
echo "plugin cold start (median of 3 x 30): $coldstart"
echo "10k-step run: peak RSS $((rss / 1024)) MiB"
awk -v w="$drill_wall" -v s="$runs_sum" 'BEGIN { printf "drill --all: %.1f s wall, the six runs %.1f s: %.2fx\n", w / 1000, s / 1000, w / s }'
echo
echo "executable sizes and package counts:"
for exe in "$tmp"/bin/*; do
  name=$(basename "$exe")
  printf '  %-26s %6.1f MB %5d packages\n' "$name" "$(stat -c %s "$exe" | awk '{ print $1 / 1e6 }')" "$(go list -deps "./cmd/$name" | wc -l)"
done
