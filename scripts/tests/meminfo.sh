#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: goslab's pages are slab memory to the
# kernel. /proc/meminfo's Slab, less what SLUB's own caches hold
# (/proc/slabinfo), moves with what debugfs memory says goslab holds, as
# goslab grows and as it gives pages back, up to what the CPUs' vmstat
# deltas hold back (125 pages a CPU each way).

. "$(dirname "$0")/lib/common.sh"

kb() {
	awk -v n="$1:" '$1 == n { print $2 }' /proc/meminfo
}

# SLUB's own slab memory, kB: its caches' slabs, from /proc/slabinfo
# (num_slabs times pagesperslab). The rest of Slab is goslab's.
slub_kb() {
	awk 'NR > 2 { s += $15 * $6 } END { print s * 4 }' /proc/slabinfo
}

# Slab less SLUB's, kB, read between two reads of SLUB's that agree:
# SLUB frees slabs in batches (KASAN's quarantine drains megabytes at a
# time), and one landing between the reads would count as goslab's.
slab_less_slub() {
	for try in 1 2 3 4 5 6 7 8 9 10; do
		a=$(slub_kb)
		m=$(kb Slab)
		b=$(slub_kb)
		[ $((a - b)) -le 256 ] && [ $((b - a)) -le 256 ] && break
		sleep 0.2
	done
	echo $((m - (a + b) / 2))
}

slack=$(( $(nproc) * 2 * 125 * 4 + 2048 ))

# follows WHAT: Slab less SLUB's own moved as held did since the last
# call (SLUB's caches move meanwhile: KASAN's quarantine, RCU frees)
follows() {
	s=$(kb SUnreclaim)
	sl=$(slab_less_slub)
	h=$(( $(held) / 1024 ))
	dsl=$((sl - sl0))
	dh=$((h - h0))
	echo "$1: held $h0 -> $h kB, SUnreclaim $s0 -> $s kB, Slab less SLUB's $sl0 -> $sl kB"
	off=$((dsl - dh))
	[ $off -lt 0 ] && off=$((-off))
	if [ $off -gt $slack ]; then
		echo "FAIL: $1: Slab less SLUB's moved $dsl kB, goslab's held $dh kB (slack $slack)"
		fail=1
	fi
	s0=$s
	sl0=$sl
	h0=$h
}

cmd "free all"
cmd "shrink"
s0=$(kb SUnreclaim)
sl0=$(slab_less_slub)
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
[ $fail -eq 0 ] && echo "meminfo: Slab follows goslab's pages"
exit $fail
