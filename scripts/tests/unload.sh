#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: goslab is unloaded right after heavy use,
# with objects and caches (one type-safe) still held by the control file,
# spans freshly freed (background sweep queued), pageCaches full, and the
# shrinkers and (with several CPUs) CPU hotplug running while it unloads; then
# loaded again. Unload must be clean (no report in the kernel log, which
# goslab-vm checks), report no leak, and give the memory back.

. "$(dirname "$0")/lib/common.sh"

# Free memory in KiB: MemFree plus the free pages parked in the page
# allocator's per-CPU lists (/proc/zoneinfo, "count:"), which MemFree
# leaves out. With 4 CPUs those lists hold several MiB, more or less
# depending on which CPU freed last: without them the figure moved by up
# to 10 MiB between rounds with nothing leaked.
memfree() {
	pcp=$(awk '$1 == "count:" { n += $2 } END { print n + 0 }' /proc/zoneinfo)
	awk -v pcp="$pcp" '/^MemFree:/ { print $2 + pcp * 4 }' /proc/meminfo
}

mod=
for m in $(echo "$GOSLAB_MODS" | tr ':' ' '); do
	case "$m" in */goslab.ko) mod=$m ;; esac
done
if [ -z "$mod" ]; then
	echo "FAIL: goslab.ko not among GOSLAB_MODS"
	exit 1
fi
n=$(nproc)
v=$((n - 1))
hotplug=0
[ "$n" -ge 2 ] && [ -w /sys/devices/system/cpu/cpu$v/online ] && hotplug=1

round=1
while [ $round -le 3 ]; do
	free_before=$(memfree)
	# Heavy use from every CPU in turn; the last commands leave objects
	# held, a cache with objects, and frees just made.
	cpu=0
	while [ $cpu -lt "$n" ]; do
		on $cpu "churn 30000 3000 $round$cpu"
		cpu=$((cpu + 1))
	done
	cmd "create u$round 320"
	on $v "alloc u$round 20000"
	on 0 "kmalloc 2000 5000"
	cmd "tiny 7 3000"
	cmd "free 9000"
	# A type-safe cache whose emptied spans wait for a grace period.
	cmd "create ts$round 200 typesafe"
	cmd "alloc ts$round 3000"
	cmd "free 3000"
	# Frees waiting for a grace period: unload must fold them first.
	cmd "kmalloc 300 2000"
	cmd "free_rcu 2500"
	held_kb=$(($(held) / 1024))
	# Racing the unload: the shrinkers run (drop_caches) and, with
	# several CPUs, CPU v goes off and on.
	(
		i=0
		while [ $i -lt 3 ]; do
			echo 2 > /proc/sys/vm/drop_caches
			if [ $hotplug -eq 1 ]; then
				echo 0 > /sys/devices/system/cpu/cpu$v/online
				echo 1 > /sys/devices/system/cpu/cpu$v/online
			fi
			i=$((i + 1))
		done
	) &
	bg=$!
	if ! rmmod goslab; then
		echo "FAIL: rmmod goslab after heavy use (round $round)"
		exit 1
	fi
	wait $bg
	echo "ok: unloaded holding $held_kb KiB (round $round)"
	check "$(dmesg | grep -cE 'goslab: .*(never freed|still in use|leak)')" \
		0 "no leak reported at unload (round $round)"
	# What goslab held went back. The rest of the kernel moves free
	# memory by a few MiB (page cache, per-CPU threads of hotplug): a
	# leak of goslab's heap would take most of what it held.
	free_after=$(memfree)
	lost=$((free_before - free_after))
	limit=$((held_kb / 2))
	if [ $lost -gt $limit ]; then
		echo "FAIL: $lost KiB less free memory after unload (round $round; goslab held $held_kb KiB)"
		fail=1
	else
		echo "ok: free memory after unload: $lost KiB below before the heavy use, limit $limit (round $round)"
	fi
	if ! insmod "$mod"; then
		echo "FAIL: insmod goslab again (round $round)"
		exit 1
	fi
	validate "reload (round $round)"
	round=$((round + 1))
done
exit $fail
