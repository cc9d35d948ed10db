#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel with several CPUs: taking a CPU offline
# through sysfs gives its mcache slots, pageCache and tiny block back;
# objects it allocated are freed from another CPU; it comes back online
# and allocates again; CPUs go off and on while a churn runs. Nothing may
# leak: after everything is freed and shrunk goslab holds no page.
# Exits 77 (skipped) without a second CPU that can go offline.

. "$(dirname "$0")/lib/common.sh"

# cpu N FIELD: a field of CPU N's line in debugfs/goslab/cpus
cpu() {
	awk -v c="cpu$1" -v f="$2" '$1 == c {
		for (i = 2; i < NF; i++) if ($i == f) print $(i + 1)
		if (f == "state") print $2 }' $d/cpus
}

online() {
	echo "$2" > "/sys/devices/system/cpu/cpu$1/online" ||
		{ echo "FAIL: cpu$1 online=$2 refused"; fail=1; }
}

n=$(nproc)
v=$((n - 1))
if [ "$n" -lt 2 ] || [ ! -w /sys/devices/system/cpu/cpu$v/online ]; then
	echo "skip: needs a second CPU that can go offline ($n online)"
	exit 77
fi

# CPU v fills its slots, pageCache and tiny block.
on $v "create hp 192"
on $v "alloc hp 3000"
on $v "kmalloc 700 2000"
on $v "tiny 5 501"
on $v "free 1400"
spans=$(cpu $v spans)
[ "$spans" -gt 0 ] && echo "ok: cpu$v caches $spans spans" ||
	{ echo "FAIL: cpu$v caches no span after allocating"; fail=1; }
check "$(cpu $v tiny)" 1 "cpu$v holds a tiny block"

online $v 0
check "$(cpu $v state)" offline "cpu$v offline"
check "$(cpu $v spans)" 0 "cpu$v slots emptied when it went offline"
check "$(cpu $v pcache_kpages)" 0 "cpu$v pageCache emptied"
check "$(cpu $v tiny)" 0 "cpu$v tiny block let go"
validate "offline"

# What cpu v allocated is freed from CPU 0.
on 0 "free all"
on 0 "destroy hp"
validate "freeing cpu$v's objects on cpu0"
on 0 "shrink"
check "$(held)" 0 "pages held after free all and shrink, cpu$v offline"

online $v 1
check "$(cpu $v state)" online "cpu$v back online"
on $v "kmalloc 300 1000"
spans=$(cpu $v spans)
[ "$spans" -gt 0 ] && echo "ok: cpu$v allocates again ($spans spans)" ||
	{ echo "FAIL: cpu$v caches no span after coming back"; fail=1; }
on $v "free all"
validate "online again"

# CPUs go off and on while a churn runs pinned to one of them (its task
# is moved when its CPU goes).
(taskset -c $v sh -c "echo 'churn 400000 3000 9' > $c") &
churn=$!
i=0
while [ $i -lt 6 ]; do
	for x in $(seq 1 $v); do
		online "$x" 0
		online "$x" 1
	done
	i=$((i + 1))
done
wait $churn
check "$(head -1 $c)" "last: churn: 400000 ops, up to 3000 live, seed 9: 0 corrupted" \
	"churn while CPUs went off and on"
for x in $(seq 1 $v); do
	check "$(cpu "$x" state)" online "cpu$x online at the end"
done
on 0 "shrink"
check "$(held)" 0 "pages held after the churn and shrink"
validate "hotplug during churn"
exit $fail
