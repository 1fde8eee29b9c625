#!/bin/sh
# Runs the C-ABI bench and the Rust-core bench alternately (7 runs each, same machine, same run)
# and prints the medians side by side with the C/Rust cost ratio.
# usage: run.sh path/to/bench_c path/to/bench_core [messages] [round_trips]
set -eu
C_BENCH=$1
RUST_BENCH=$2
N=${3:-200000}
R=${4:-20000}
RUNS=7
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ $i -lt $RUNS ]; do
  "$C_BENCH" "$N" "$R" >>"$tmp/c"
  "$RUST_BENCH" "$N" "$R" >>"$tmp/rust"
  i=$((i + 1))
done
median() { grep "^$1 " "$2" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ct=$(median throughput_msgs_per_s "$tmp/c")
rt=$(median throughput_msgs_per_s "$tmp/rust")
cs=$(median same_thread_ns_per_msg "$tmp/c")
rs=$(median same_thread_ns_per_msg "$tmp/rust")
cb=$(median same_thread_best_ns_per_msg "$tmp/c")
rb=$(median same_thread_best_ns_per_msg "$tmp/rust")
cp=$(median pingpong_p50_ns "$tmp/c")
rp=$(median pingpong_p50_ns "$tmp/rust")
echo
echo "C ABI vs Rust core (median of $RUNS runs each, $N messages, $R round trips; ratio = C cost / core cost)"
printf '%-40s %14s %14s %8s\n' workload "C API" "Rust core" ratio
printf '%-40s %14s %14s %8s\n' "thread-to-thread throughput (msg/s)" "$ct" "$rt" \
  "$(awk -v c="$ct" -v r="$rt" 'BEGIN {printf "%.2f", r / c}')"
printf '%-40s %14s %14s %8s\n' "same-thread post+recv (ns/msg)" "$cs" "$rs" \
  "$(awk -v c="$cs" -v r="$rs" 'BEGIN {printf "%.2f", c / r}')"
printf '%-40s %14s %14s %8s\n' "same-thread, fastest of 20 chunks (ns)" "$cb" "$rb" \
  "$(awk -v c="$cb" -v r="$rb" 'BEGIN {printf "%.2f", c / r}')"
printf '%-40s %14s %14s %8s\n' "ping-pong round trip p50 (ns)" "$cp" "$rp" \
  "$(awk -v c="$cp" -v r="$rp" 'BEGIN {printf "%.2f", c / r}')"
echo "goal: ratio <= 1.20 (C API overhead at most 20 %)"
