#!/usr/bin/env bash
# Prints the figures the validate-speed issue asks for, measured as a user
# sees them: whole processes of the built binary, medians of several runs.
#
#   validate throughput   `runbook validate DIR` on a generated corpus of
#                         200 runbooks x 50 steps (guards, needs and
#                         ${{ steps.X.outputs.Y }} references), in steps/s
#   one small file        `runbook validate examples/hello.yaml`, in ms
#
# and, measured in the same run, two floors to read them against:
#
#   process start         `runbook version`: what any command of this binary costs
#   yaml.v3 parse         a helper that only reads and parses the corpus with
#                         yaml.v3 on as many goroutines as validate uses
#
#   scripts/bench.sh          # the table
#   scripts/bench.sh --go     # also the Go benchmarks of engine/lint
#   RUNS=21 SMALL_RUNS=101 scripts/bench.sh
#
# Needs bash 5 (EPOCHREALTIME) and Go; no network. Other processes on the
# machine skew the figures: the load average is printed with them.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-11}             # runs of validate and of the parse floor on the corpus
SMALL_RUNS=${SMALL_RUNS:-51} # runs of the one-file and process-start timings
N=200 STEPS=50
ACTIONLINT=43000 # actionlint's steps/s on a corpus of this shape on a 2-core machine (the issue's figure)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "building..." >&2
go build -o "$tmp/runbook" ./cmd/runbook
go build -o "$tmp/benchcorpus" ./internal/benchcorpus/cmd
"$tmp/benchcorpus" -out "$tmp/corpus" -n "$N" -steps "$STEPS"

# measure RUNS CMD...: runs CMD (after one warm-up run) and prints the
# median wall time and the median CPU time (user + system) in ms. CMD must
# succeed, and validate must print no findings.
measure() {
  local runs=$1
  shift
  "$@" >/dev/null
  local walls=() cpus=() real user sys
  local TIMEFORMAT='%3R %3U %3S'
  for ((i = 0; i < runs; i++)); do
    { time "$@" >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time"
    if [[ $2 == validate && -s $tmp/out ]]; then
      echo "bench.sh: $* printed findings:" >&2
      head -5 "$tmp/out" >&2
      exit 1
    fi
    read -r real user sys <"$tmp/time"
    walls+=("$real")
    cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
  done
  local mw mc
  mw=$(printf '%s\n' "${walls[@]}" | sort -g | awk -v n="$runs" 'NR == int((n + 1) / 2) { print $1 * 1000 }')
  mc=$(printf '%s\n' "${cpus[@]}" | sort -g | awk -v n="$runs" 'NR == int((n + 1) / 2) { print $1 * 1000 }')
  echo "$mw $mc"
}

if [[ ${1:-} == --go ]]; then
  echo "Go benchmarks (engine/lint):" >&2
  go test ./engine/lint -run '^$' -bench . -benchmem -count 3 | grep -E '^Benchmark' >&2
fi

echo "timing..." >&2
read -r validate validate_cpu <<<"$(measure "$RUNS" "$tmp/runbook" validate "$tmp/corpus")"
read -r parse parse_cpu <<<"$(measure "$RUNS" "$tmp/benchcorpus" -parse "$tmp/corpus")"
read -r small small_cpu <<<"$(measure "$SMALL_RUNS" "$tmp/runbook" validate examples/hello.yaml)"
read -r start start_cpu <<<"$(measure "$SMALL_RUNS" "$tmp/runbook" version)"

steps=$((N * STEPS))
awk -v v="$validate" -v vc="$validate_cpu" -v p="$parse" -v pc="$parse_cpu" -v s="$small" -v sc="$small_cpu" \
  -v st="$start" -v stc="$start_cpu" -v steps="$steps" -v al="$ACTIONLINT" -v n="$N" -v per="$STEPS" \
  -v cpus="$(nproc)" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" -v gogc="${GOGC:-unset (runbook sets 400)}" '
function line(what, wall, cpu, ratio) { printf "%-42s %14s %10s   %s\n", what, wall, cpu, ratio }
BEGIN {
  printf "runbook validate, %d runbooks x %d steps; %d CPUs, load average %s, GOGC %s\n", n, per, cpus, load, gogc
  if (load + 0 > 1) print "(other processes are running: wall times are inflated, CPU times less so)"
  print ""
  line("figure (median of runs)", "wall", "cpu", "ratio")
  line("validate corpus, whole process", sprintf("%.1f ms", v), sprintf("%.0f ms", vc), "")
  line("  throughput", sprintf("%.0f steps/s", steps / (v / 1000)), "", sprintf("%.2fx actionlint (%d steps/s); target 2x", steps / (v / 1000) / al, al))
  line("yaml.v3 parse of the corpus, whole process", sprintf("%.1f ms", p), sprintf("%.0f ms", pc), sprintf("validate / parse = %.2f (cpu %.2f)", v / p, vc / pc))
  line("validate examples/hello.yaml, whole process", sprintf("%.2f ms", s), sprintf("%.1f ms", sc), sprintf("target < 5 ms: %s", s < 5 ? "met" : "NOT met"))
  line("process start (runbook version)", sprintf("%.2f ms", st), sprintf("%.1f ms", stc), sprintf("small file / start = %.2f", s / st))
}'
