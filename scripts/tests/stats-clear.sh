#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: the per-CPU event counters of a class
# (caches/<name>/alloc_fastpath, ...) clear when 0 is written, as SLUB's
# SLUB_STATS files do, without moving the counts derived from them;
# other writes are refused. With several CPUs, counters cleared again
# and again while another CPU allocates never wrap (a clear made from
# another CPU could undo itself against the owner's increment).

. "$(dirname "$0")/lib/common.sh"

# total FILE: the sum before the per-CPU fields
total() {
	cut -d' ' -f1 "$k/$1"
}

# wrapped FILE: per-CPU fields of 2^63 and above (20 digits)
wrapped() {
	tr ' ' '\n' < "$k/$1" | grep -c '^C[0-9]*=[0-9]\{19,\}$'
}

cmd "create sc 256"
k=$d/caches/sc
cmd "alloc sc 1000"
check "$(( $(total alloc_fastpath) + $(total alloc_slowpath) ))" \
	"$(total alloc)" "alloc_fastpath + alloc_slowpath == alloc"
echo 0 > $k/alloc_slowpath
check "$(total alloc_slowpath)" 0 "alloc_slowpath cleared"
check "$(total alloc)" 1000 "alloc not moved by the clear"
echo 0 > $k/alloc_fastpath
check "$(total alloc_fastpath)" 0 "alloc_fastpath cleared"
for f in alloc_refill sweep_in_mcache free_fastpath free_slowpath; do
	echo 0 > $k/$f
	check "$(total $f)" 0 "$f cleared"
done
if echo 1 > $k/alloc_fastpath 2>/dev/null; then
	echo "FAIL: writing 1 to alloc_fastpath was accepted"
	fail=1
fi
if echo 0 > $k/alloc 2>/dev/null; then
	echo "FAIL: clearing alloc was accepted"
	fail=1
fi
cmd "free all"
check "$(cat $k/objects)" 0 "objects after free all"
cmd "alloc sc 100"
check "$(( $(total alloc_fastpath) + $(total alloc_slowpath) ))" 100 \
	"the counts after the clears: the next 100 allocations"
cmd "free all"

# Clears racing allocations on another CPU.
n=$(nproc)
if [ "$n" -ge 2 ]; then
	v=$((n - 1))
	k=$d/caches/goslab-4096
	(taskset -c $v sh -c "echo 'churn 300000 3000 7' > $c") &
	churn=$!
	bad=0
	i=0
	while [ $i -lt 200 ]; do
		echo 0 > $k/alloc_slowpath
		echo 0 > $k/free_slowpath
		bad=$((bad + $(wrapped alloc_fastpath) + $(wrapped free_fastpath)))
		i=$((i + 1))
	done
	wait $churn
	check "$bad" 0 "no fast-path counter wrapped while cleared against a churn on CPU $v"
	check "$(wrapped alloc_fastpath)$(wrapped free_fastpath)" 00 \
		"no fast-path counter wrapped after the churn"
fi
cmd "destroy sc"
validate "clears"
exit $fail
