#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: owner tracking. With a cache's store_user
# on, alloc_traces names the control file's hold_new() for its live
# objects and free_traces its free_held() for the freed ones, in SLUB's
# format; callers lists hold_new() with the bytes held; track_owners
# turns it on for every class; bad values are refused and change nothing.

. "$(dirname "$0")/lib/common.sh"

k=$d/caches/own
p=/sys/module/goslab/parameters/track_owners

# sites FILE SITE: the objects FILE gives SITE (the sum of its lines)
sites() {
	awk -v s="$2" '$1 ~ /^[0-9]+$/ && index($2, s "+") == 1 { n += $1 }
		END { print n + 0 }' "$1"
}

cmd "create own 200"
check "$(cat $k/store_user)" 0 "store_user off by default"
echo 1 > $k/store_user || { echo "FAIL: store_user refused 1"; fail=1; }
check "$(cat $k/store_user)" 1 "store_user on"
for bad in 2 maybe ""; do
	if echo "$bad" > $k/store_user 2>/dev/null; then
		echo "FAIL: store_user took '$bad'"
		fail=1
	fi
	check "$(cat $k/store_user)" 1 "store_user kept after '$bad'"
done
cmd "alloc own 10"
cmd "free 4"
cat $k/alloc_traces > /tmp/alloc_traces
cat $k/free_traces > /tmp/free_traces
head -3 /tmp/alloc_traces
head -3 /tmp/free_traces
check "$(sites /tmp/alloc_traces hold_new)" 6 "alloc_traces: 6 live objects from hold_new()"
check "$(sites /tmp/free_traces free_held)" 4 "free_traces: 4 freed by free_held()"
line=$(grep 'hold_new+' $d/callers | head -1)
echo "callers: $line"
check "$(echo "$line" | awk '{ print $1, $2 }')" "1200 6" \
	"callers: hold_new() holds 6 objects of 200 bytes"
echo 0 > $k/store_user
check "$(head -1 $k/alloc_traces)" "No data (owner tracking is off: store_user)" \
	"alloc_traces with store_user off"
cmd "free all"
cmd "destroy own"

# Every class, through the module parameter.
echo 1 > $p || { echo "FAIL: track_owners refused 1"; fail=1; }
cmd "kmalloc 700 5"
check "$(cat $d/caches/goslab-704/store_user)" 1 "track_owners: goslab-704 tracked"
check "$(sites $d/caches/goslab-704/alloc_traces hold_new)" 5 \
	"track_owners: alloc_traces of goslab-704"
# kstrtobool()'s words, as every boolean parameter: not these.
for bad in 2 maybe; do
	if echo "$bad" > $p 2>/dev/null; then
		echo "FAIL: track_owners took '$bad'"
		fail=1
	fi
	check "$(cat $p)" Y "track_owners kept after '$bad'"
done
echo 0 > $p
check "$(cat $d/caches/goslab-704/store_user)" 0 "track_owners off: goslab-704 untracked"
cmd "free all"
validate "owner tracking"
[ $fail -eq 0 ] && echo "owners: alloc_traces, free_traces and callers name the callers"
exit $fail
