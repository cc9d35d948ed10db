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

# count_wrapped FILE: bad += 1 if a per-CPU field has 19 digits or more
# (2^63 and above: a wrapped count). No process: this runs in a loop.
d19='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
count_wrapped() {
	read -r line < "$k/$1"
	# shellcheck disable=SC2254
	case " $line" in
	*=$d19*) bad=$((bad + 1)) ;;
	esac
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
	(taskset -c $v sh -c "echo 'churn 60000 3000 7' > $c") &
	churn=$!
	bad=0
	i=0
	while [ $i -lt 200 ]; do
		echo 0 > $k/alloc_slowpath
		echo 0 > $k/free_slowpath
		count_wrapped alloc_fastpath
		count_wrapped free_fastpath
		i=$((i + 1))
	done
	wait $churn
	count_wrapped alloc_fastpath
	count_wrapped free_fastpath
	check "$bad" 0 "no fast-path counter wrapped while cleared against a churn on CPU $v, or after"
fi
cmd "destroy sc"
validate "clears"
exit $fail
