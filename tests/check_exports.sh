#!/bin/sh
# Every dynamic symbol libuma.so defines must be listed in exports.txt, and
# every listed symbol must be defined: nothing internal leaks, nothing public
# goes missing.  A symbol of hidden visibility that the linker keeps in the
# dynamic table (the __start_/__stop_ bounds of a linker set) binds to
# nothing outside the library and is not part of its interface.
set -eu
lib=$1 list=$2
hidden=$(readelf --dyn-syms -W "$lib" | awk '$6 == "HIDDEN" {print $8}' | sed 's/@.*//' | sort -u)
got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWDBVRi]$/ {print $3}' | sed 's/@.*//' | sort -u |
    comm -23 - /dev/fd/3 3<<EOF2
$hidden
EOF2
)
want=$(grep -v '^#' "$list" | sed '/^$/d' | sort -u)
extra=$(printf '%s\n' "$got" | comm -23 - /dev/fd/3 3<<EOF2
$want
EOF2
)
missing=$(printf '%s\n' "$want" | comm -13 /dev/fd/3 - 3<<EOF2
$got
EOF2
)
status=0
if [ -n "$extra" ]; then echo "exported but not in $list:"; echo "$extra"; status=1; fi
if [ -n "$missing" ]; then echo "listed but not exported:"; echo "$missing"; status=1; fi
[ $status -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $status
