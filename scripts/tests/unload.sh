#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: goslab is unloaded right after heavy use,
# with objects and caches still held by the control file, spans freshly
# freed (background sweep queued), pageCaches full, and the shrinkers
# and (with several CPUs) CPU hotplug running while it unloads; then
# loaded again. Unload must be clean (no report in the kernel log, which
# goslab-vm checks), report no leak, and give the memory back.

d=/sys/kernel/debug/goslab
c=$d/control
fail=0

check() {
	if [ "$1" = "$2" ]; then
		echo "ok: $3"
	else
		echo "FAIL: $3: got '$1', want '$2'"
		fail=1
	fi
}

memfree() {
	awk '/^MemFree:/ { print $2 }' /proc/meminfo
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
		taskset -c $cpu sh -c "echo 'churn 100000 3000 $round$cpu' > $c"
		cpu=$((cpu + 1))
	done
	echo "create u$round 320" > $c
	taskset -c $v sh -c "echo 'alloc u$round 20000' > $c"
	taskset -c 0 sh -c "echo 'kmalloc 2000 5000' > $c"
	echo "tiny 7 3000" > $c
	echo "free 9000" > $c
	held_kb=$(awk '/^held /{ print int($2 / 1024) }' $d/memory)
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
	check "$(cat $d/validate)" ok "validate after reload (round $round)"
	round=$((round + 1))
done
exit $fail
