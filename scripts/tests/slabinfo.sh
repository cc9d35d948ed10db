#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: the tools a kernel developer already has
# read goslab. tools/mm/slabinfo (built from the kernel source by make
# check) reads caches/<name>/ bind-mounted over /sys/kernel/slab, where
# it looks: the attributes carry SLUB's names. slabtop reads goslab's
# slabinfo file bind-mounted over /proc/slabinfo. Both must show the
# figures goslab's own files give. Exits 77 (skipped) where the tools
# are not there (the QEMU guests' busybox).

. "$(dirname "$0")/lib/common.sh"

si=$(dirname "$0")/../../build/tools/slabinfo
if [ ! -x "$si" ] || ! command -v slabtop >/dev/null ||
   [ ! -d /sys/kernel/slab ]; then
	echo "skip: no tools/mm/slabinfo (make check builds it), slabtop or /sys/kernel/slab here"
	exit 77
fi
k=$d/caches/sltest

cmd "create sltest 200"
cmd "alloc sltest 1000"
cmd "kmalloc 1536 300"
mount --bind $d/caches /sys/kernel/slab ||
	{ echo "FAIL: bind mount over /sys/kernel/slab"; exit 1; }
"$si" > /tmp/slabinfo.out
"$si" -r sltest > /tmp/slabinfo-r.out
umount /sys/kernel/slab
head -1 /tmp/slabinfo.out
grep -E '^(sltest|goslab-1536) ' /tmp/slabinfo.out

# row NAME: slabinfo's line for NAME, as "Objects Objsize O/S O"
row() {
	awk -v n="$1" '$1 == n { print $2, $3, $6, $7 }' /tmp/slabinfo.out
}
check "$(row sltest)" "1000 200 $(cat $k/objs_per_slab) $(cat $k/order)" \
	"slabinfo: sltest's objects, size, objects per slab, order"
check "$(row goslab-1536)" "300 1536 5 1" \
	"slabinfo: goslab-1536's objects, size, objects per slab, order"
# Its Space column: slabs of 2^order pages, in slabinfo's own units.
space=$(awk '$1 == "sltest" { print $4 }' /tmp/slabinfo.out)
want=$(( $(cat $k/slabs) * $(cat $k/span_pages) * 4096 ))
check "$space" "$(awk -v b=$want 'BEGIN { printf "%.1fK", b / 1000 }')" \
	"slabinfo: sltest's space is its slabs' pages"
check "$(grep -c 'Slabcache: sltest .*Objects: 1000' /tmp/slabinfo-r.out)" 1 \
	"slabinfo -r sltest: the report's header"

mount --bind $d/slabinfo /proc/slabinfo ||
	{ echo "FAIL: bind mount over /proc/slabinfo"; exit 1; }
slabtop -o -s c > /tmp/slabtop.out
umount /proc/slabinfo
grep -E 'OBJS|sltest' /tmp/slabtop.out
# OBJS ACTIVE USE OBJ-SIZE SLABS OBJ/SLAB CACHE-SIZE NAME
check "$(awk '$8 == "sltest" { print $2, $4, $5, $6, $7 }' /tmp/slabtop.out)" \
	"1000 0.20K $(cat $k/slabs) $(cat $k/objs_per_slab) $(( $(cat $k/slabs) * $(cat $k/span_pages) * 4 ))K" \
	"slabtop: sltest's objects, size, slabs, objects per slab, cache size"

cmd "free all"
cmd "destroy sltest"
validate "slabinfo and slabtop"
[ $fail -eq 0 ] && echo "slabinfo: tools/mm/slabinfo and slabtop read goslab"
exit $fail
