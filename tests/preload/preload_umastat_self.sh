#!/bin/sh
# preload_umastat_self.sh LIB UMASTAT: umastat run preloaded reads its
# own uma (no -p): `umastat sysctl vm` lists every node, the per-zone
# ones included, while its own output allocates.  The zone list's lock
# was held across the caller's function, whose malloc made a class zone
# and took the same lock for writing: it hung on the first zone.
lib=$1 umastat=$2
fail() { echo "FAIL: $*"; exit 1; }

out=$(timeout 20 env LD_PRELOAD="$lib" "$umastat" sysctl vm) ||
	fail "umastat sysctl vm, preloaded: exit $? (124: it hung)"
n=$(printf '%s\n' "$out" | grep -c '^vm\.uma\..*\.size: ')
[ "$n" -ge 10 ] || fail "only $n zones' size nodes in the listing"
printf '%s\n' "$out" | grep -q '^vm\.uma\.malloc_512\.size: 512$' ||
	fail "no vm.uma.malloc_512.size: 512 (a class zone) in the listing"
# With MemGuard sampling every allocation too (its own allocations, the
# arena's start, during the listing).
timeout 20 env LD_PRELOAD="$lib" \
    UMA_TUNABLES=vm.memguard.frequency=100000,vm.memguard.frequency_maxrate=0 \
    "$umastat" sysctl vm >/dev/null ||
	fail "umastat sysctl vm, preloaded, MemGuard sampling: exit $?"
echo "ok   preload_umastat_self ($n zones listed)"
