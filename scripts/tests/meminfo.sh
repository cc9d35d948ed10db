#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: goslab's pages are slab memory to the
# kernel. /proc/meminfo's SUnreclaim (and Slab) move with what debugfs
# memory says goslab holds, as goslab grows and as it gives pages back,
# up to what the CPUs' vmstat deltas hold back (125 pages a CPU each
# way) and what the rest of the kernel does meanwhile.

. "$(dirname "$0")/lib/common.sh"

kb() {
	awk -v n="$1:" '$1 == n { print $2 }' /proc/meminfo
}

slack=$(( $(nproc) * 2 * 125 * 4 + 2048 ))

# follows WHAT: SUnreclaim and Slab moved as held did since the last call
follows() {
	s=$(kb SUnreclaim)
	sl=$(kb Slab)
	h=$(( $(held) / 1024 ))
	ds=$((s - s0))
	dsl=$((sl - sl0))
	dh=$((h - h0))
	echo "$1: held $h0 -> $h kB, SUnreclaim $s0 -> $s kB, Slab $sl0 -> $sl kB"
	for moved in $ds $dsl; do
		off=$((moved - dh))
		[ $off -lt 0 ] && off=$((-off))
		if [ $off -gt $slack ]; then
			echo "FAIL: $1: meminfo moved $moved kB, goslab's held $dh kB (slack $slack)"
			fail=1
		fi
	done
	s0=$s
	sl0=$sl
	h0=$h
}

cmd "free all"
cmd "shrink"
s0=$(kb SUnreclaim)
sl0=$(kb Slab)
h0=$(( $(held) / 1024 ))
cmd "kmalloc 4096 8000"
cmd "kmalloc 100000 100"
follows "32 MB of small and 10 MB of large objects"
if [ $dh -lt 40000 ]; then
	echo "FAIL: held grew by $dh kB only"
	fail=1
fi
cmd "free all"
cmd "shrink"
follows "freed and shrunk"
if [ $dh -gt -40000 ]; then
	echo "FAIL: held fell by $((-dh)) kB only"
	fail=1
fi
validate "meminfo"
[ $fail -eq 0 ] && echo "meminfo: SUnreclaim and Slab follow goslab's pages"
exit $fail
