#!/bin/sh
# Run the libmemstat fuzzer for a bounded time.
#   tests/fuzz/run.sh [FUZZER [SECONDS]]
# Without FUZZER it is built here with clang (libFuzzer + ASan + UBSan).
# Seeds: small valid streams written by the fuzzer's own corpus directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$here/../..
fuzzer=${1:-}
secs=${2:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$fuzzer" ]; then
	fuzzer=$work/memstat_fuzz
	clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -I"$top/include" \
	    "$here/memstat_fuzz.c" "$top"/lib/memstat/memstat*.c -ldl -o "$fuzzer"
fi
mkdir -p "$work/corpus"
# Seeds: an empty uma stream with 2 CPUs and one zone, and a malloc one.
printf '\000\001\000\000\000\002\000\000\000\000\000\000\000\000\000\000\000' \
    > "$work/corpus/uma_empty"
printf '\001\001\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000' \
    > "$work/corpus/malloc_empty"
# And the kmem report's records: a cheap one (144 bytes) of zeros, an
# extended one (264 bytes) with no zone records (zone records: 144 bytes).
{ printf '\004\001\000\000\000\220\000\000\000'; head -c 136 /dev/zero; } \
    > "$work/corpus/kmem_cheap"
{ printf '\005\001\000\000\000\010\001\000\000\000\000\000\000\220\000\000\000'
  printf '\001\000\000\000\220\000\000\000'; head -c 240 /dev/zero; } \
    > "$work/corpus/kmem_extended"
# -timeout: an input that runs for seconds is a bug (parsing is linear in
# the input and the kept list), reported with its artifact rather than
# left to hang until ctest's timeout.
"$fuzzer" -max_total_time="$secs" -max_len=8192 -rss_limit_mb=1024 \
    -timeout=10 -print_final_stats=1 "$work/corpus" 2>"$work/log" || {
	tail -60 "$work/log"; echo "0 passed, 1 failed"; exit 1; }
grep -E 'stat::number_of_executed_units|Done' "$work/log" | head -3
echo "1 passed, 0 failed"
