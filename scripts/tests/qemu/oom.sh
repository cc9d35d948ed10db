#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel with little memory (goslab-vm --mem 768M
# --expect-oom): goslab caches 80 MB of freed objects, unswept, then a
# process takes more memory than there is. goslab's OOM notifier must
# give the cached memory back before the OOM killer chooses a victim,
# and log its summary; the killer then takes the process, not this
# shell. Nothing goslab holds live is lost.

. "$(dirname "$0")/../lib/common.sh"

p=/sys/module/goslab/parameters
echo -1000 > /proc/self/oom_score_adj
[ -c /dev/zero ] || mknod /dev/zero c 1 5
[ -c /dev/null ] || mknod /dev/null c 1 3 2>/dev/null
# The hog's one large buffer must not be refused at mmap() time.
echo 1 > /proc/sys/vm/overcommit_memory
# Reclaim runs goslab's shrinker before the OOM killer: at one span
# swept per scan it leaves most of the unswept spans to the notifier.
# The background work must not run before the OOM either: the last hog
# comes within its 10 s delay.
echo 1 > $p/sweep_budget
echo 10000 > $p/bg_delay_ms
echo 100 > $p/retain_percent
echo 64 > $p/keep_empty

avail() {
	awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo
}

# The first hog holds all but 160 MB (its dd blocks writing to a pipe
# nobody reads); the likeliest victim.
keep=$(( $(avail) - 160 * 1024 ))
(echo 1000 > /proc/self/oom_score_adj
 exec dd if=/dev/zero bs=${keep}k count=1 2>/dev/null) | sleep 3600 &
n=0
while [ "$(avail)" -gt $((170 * 1024)) ] && [ $n -lt 120 ]; do
	sleep 1
	n=$((n + 1))
done
echo "first hog holds $keep kB; $(avail) kB available"
cmd "kmalloc 256 1000"
cmd "kmalloc 4096 20000"
cmd "free 20000"
h0=$(held)
echo "goslab holds $((h0 / 1024)) kB, of which 80 MB freed and unswept"
cat $d/sweep
# The second hog takes more than is left: the OOM.
sh -c "echo 1000 > /proc/self/oom_score_adj; exec dd if=/dev/zero of=/dev/null bs=200M count=1" 2>/dev/null
echo "the second hog ended: $?"
kill %1 2>/dev/null
killall sleep 2>/dev/null
wait
cat $d/sweep
line=$(dmesg | grep 'goslab: out of memory: gave back' | head -1)
echo "$line"
gave=$(echo "$line" | sed -n 's/.*gave back \([0-9]*\) KiB.*/\1/p')
if [ -z "$gave" ] || [ "$gave" -lt 60000 ]; then
	echo "FAIL: the OOM notifier gave back '${gave}' KiB, want 60000 or more"
	fail=1
fi
dmesg | grep 'goslab: out of memory: class' | head -3
calls=$(awk '$1 == "oom_calls" { print $2 }' $d/sweep)
released=$(awk '$1 == "oom_kpages_released" { print $2 }' $d/sweep)
echo "oom_calls $calls, oom_kpages_released $released"
[ "${calls:-0}" -ge 1 ] || { echo "FAIL: oom_calls $calls"; fail=1; }
[ "${released:-0}" -ge 15000 ] ||
	{ echo "FAIL: oom_kpages_released $released"; fail=1; }
# goslab's notifier ran before the killer chose: its line comes first.
first=$(dmesg | grep -n -m1 -E 'goslab: out of memory|invoked oom-killer' |
	cut -d: -f2-)
case "$first" in
*goslab*) echo "ok: goslab gave back before the OOM killer ran" ;;
*)	echo "FAIL: the OOM killer ran before goslab's notifier: $first"
	fail=1 ;;
esac
dmesg | grep -q 'Out of memory: Killed process [0-9]* (dd)' ||
	{ echo "FAIL: the hog was not the victim"; fail=1; }
echo 0 > /proc/sys/vm/overcommit_memory
cmd "free all"
validate "an OOM"
[ $fail -eq 0 ] && echo "oom: goslab gave its cached memory back first"
exit $fail
