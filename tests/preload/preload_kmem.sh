#!/bin/sh
# preload_kmem.sh LIB UMASTAT: an unmodified program (python3) run with
# LD_PRELOAD=LIB UMA_EXPORT=1 shows where its memory is, from outside:
# `umastat -p PID -k -x` (text and JSON) works on it, the parts add up to
# committed with nothing unexplained while it is idle, "in use" holds what
# the program holds (5000 1000-byte buffers at class size, 20 200000-byte
# ones as whole pages), and the extended figures agree with each other.
# Exit 77 (skipped) without python3.
set -u
lib=$1 umastat=$2
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d /tmp/uma_preload_kmem.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
chmod 700 "$tmp"
export UMA_EXPORT_DIR=$tmp
cat > "$tmp/work.py" <<'PY'
import sys, time
keep = [bytearray(1000) for i in range(10000)]
del keep[::2]                      # every other one freed
big = [bytearray(200000) for i in range(20)]
d = {i: str(i) * 10 for i in range(50000)}
sys.stdout.write("ready\n")
sys.stdout.flush()
time.sleep(120)
PY
LD_PRELOAD=$lib UMA_EXPORT=1 UMA_TUNABLES=vm.uma_timeout=86400,vm.uma_idle_pass_mb=0 \
    python3 "$tmp/work.py" > "$tmp/out" 2>&1 &
pid=$!
i=0
until grep -q ready "$tmp/out" 2>/dev/null && [ -S "$tmp/$pid.sock" ]; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 $pid 2>/dev/null; then
		echo "FAIL: python3 never got ready"; cat "$tmp/out"; exit 1
	fi
	sleep 0.1
done
"$umastat" -p $pid -k -x > "$tmp/text" || { echo "FAIL: umastat -k -x"; exit 1; }
"$umastat" -p $pid -k -x --json > "$tmp/json" || { echo "FAIL: --json"; exit 1; }
"$umastat" -p $pid -z -x > "$tmp/zones" || { echo "FAIL: -z -x"; exit 1; }
cat "$tmp/text"
grep -q '^fragmentation ' "$tmp/text" || { echo "FAIL: no extended figures"; exit 1; }
grep -q '^malloc-1024:' "$tmp/zones" || { echo "FAIL: no malloc-1024 zone"; exit 1; }
python3 - "$tmp/json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))["kmem-statistics"]
parts = ["inuse_zones", "inuse_malloc", "inuse_large", "inuse_contig",
         "free_pcpu", "free_buckets", "free_kegs", "large_cache",
         "metadata", "waste", "other"]
fail = []
def check(ok, what):
    if not ok:
        fail.append(what)
check(k["tier"] == "extended", "tier")
check(sum(k[p] for p in parts) == k["committed"], "parts add up")
check(k["other"] == 0, "other is 0 while idle (%d)" % k["other"])
check(k["inuse_malloc"] >= 5000 * 1024, "5000 buffers in malloc-1024")
check(k["inuse_large"] >= 20 * 200704, "20 large buffers")
check(k["inuse"] == sum(k[p] for p in parts[:4]), "inuse")
check(k["reclaimable"] == k["reclaim_free_slabs"] + k["reclaim_large_cache"]
      + k["reclaim_buckets"] + k["reclaim_pcpu"], "reclaim by source")
check(k["reclaimable"] == k["reclaim_oldest"] + k["reclaim_newest"],
      "reclaim by age")
check(k["available"] == k["reclaimable"] + k["fragmentation"] + k["locked"],
      "available")
check(k["fragmentation"] > 0, "every other buffer freed: fragmentation")
check(k["rss"] > k["committed"] // 2, "rss")
if fail:
    print("FAIL:", "; ".join(fail))
    sys.exit(1)
print("ok: committed %d = parts; in use %d; reclaimable %d" %
      (k["committed"], k["inuse"], k["reclaimable"]))
PY
