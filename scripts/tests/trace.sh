#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: goslab's tracepoints, enabled through
# tracefs as perf or trace-cmd would, record what the control file makes
# goslab do: goslab_alloc, goslab_cache_alloc, goslab_free and
# goslab_cache_free with kmem:kmalloc's fields and the control file's
# functions as call sites, and the allocator's own work (refill, heap
# growth, sweep, scavenge, shrinker scan, background work).
# Exits 77 (skipped) in a kernel without tracepoints.

. "$(dirname "$0")/lib/common.sh"

t=/sys/kernel/tracing
[ -d $t/events ] || mount -t tracefs nodev $t 2>/dev/null
if [ ! -d $t/events/goslab ]; then
	echo "skip: no goslab events in tracefs (CONFIG_TRACEPOINTS)"
	exit 77
fi
out=/tmp/goslab-trace.txt

# count EVENT PATTERN: records of EVENT whose fields match PATTERN
count() {
	grep " $1: " $out | grep -c -E "$2"
}

# at_least N EVENT PATTERN WHAT
at_least() {
	n=$(count "$2" "$3")
	if [ "$n" -ge "$1" ]; then
		echo "ok: $4 ($n records)"
	else
		echo "FAIL: $4: $n records of $2 matching '$3', want $1 or more"
		grep " $2: " $out | head -3
		fail=1
	fi
}

cmd "free all"
cmd "shrink"
echo 0 > $t/tracing_on
echo 16384 > $t/buffer_size_kb
echo > $t/trace
echo 1 > $t/events/goslab/enable
echo 1 > $t/tracing_on
cmd "create gtrace 200"
cmd "alloc gtrace 10"
cmd "kmalloc 300 50"
cmd "tiny 5 10"
cmd "kmalloc 100000 2"
cmd "free all"
# Reclaim's shrinkers (goslab keeps free pages for reuse), then the
# background work's run.
echo 2 > /proc/sys/vm/drop_caches
sleep 1
cmd "shrink"
cmd "destroy gtrace"
echo 0 > $t/tracing_on
echo 0 > $t/events/goslab/enable
cat $t/trace > $out
echo "$(grep -c ' goslab_' $out) goslab records"

check "$(count goslab_alloc 'call_site=hold_new.* bytes_req=300 bytes_alloc=320 gfp_flags=GFP_KERNEL node=-1')" 50 \
	"goslab_alloc: 50 of 300 bytes in 320, from the control file's hold_new()"
check "$(count goslab_alloc 'bytes_req=100000 bytes_alloc=106496 ')" 2 \
	"goslab_alloc: 2 large objects of 100000 bytes in 13 pages"
check "$(count goslab_alloc 'bytes_req=5 bytes_alloc=5 ')" 10 \
	"goslab_alloc: 10 tiny objects of 5 bytes"
check "$(count goslab_cache_alloc 'call_site=hold_new.* name=gtrace bytes_req=200 bytes_alloc=200 ')" 10 \
	"goslab_cache_alloc: 10 objects of cache gtrace"
at_least 62 goslab_free 'call_site=.*\[goslab\] ptr=' \
	"goslab_free: every goslab_alloc object"
check "$(count goslab_cache_free 'name=gtrace')" 10 \
	"goslab_cache_free: the 10 objects of gtrace"
at_least 1 goslab_refill 'class=goslab-320 span=.* free=' "goslab_refill"
at_least 1 goslab_heap_grow 'kpages=[0-9]+ node=' "goslab_heap_grow"
at_least 1 goslab_sweep 'class=goslab-.* pages=[0-9]+ freed=[0-9]+ live=' \
	"goslab_sweep"
at_least 1 goslab_scavenge 'caller=goslab_shrink.* kpages_returned=[1-9]' \
	"goslab_scavenge by goslab_shrink(), pages returned"
at_least 1 goslab_shrinker_scan 'nr_to_scan=[0-9]+ spans_swept=' \
	"goslab_shrinker_scan from drop_caches"
at_least 1 goslab_bg_work 'pages_swept=[0-9]+ kpages_returned=' \
	"goslab_bg_work"
validate "tracing"
[ $fail -eq 0 ] && echo "trace: goslab's events recorded"
exit $fail
