#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the x86_64 kernel under QEMU started with
# scripts/goslab-vm --hotplug-mem SIZE: asks for a DIMM to be plugged in,
# onlines its memory for the kernel, and makes goslab allocate from it
# (GFP_KERNEL prefers the new ZONE_NORMAL over the boot memory, all of it
# below 4 GiB). Objects there must be goslab's like any other: freed
# without a report, validated, and given back. Exits 77 (skipped) where
# no memory can be hot-added.

. "$(dirname "$0")/../lib/common.sh"

mem=/sys/devices/system/memory
if [ ! -d $mem ] || ! grep -q 'GOSLAB_HOTPLUG=1' /proc/cmdline; then
	echo "skip: no memory hotplug here"
	exit 77
fi

# normal_free: free pages of ZONE_NORMAL (0 while it has none)
normal_free() {
	awk '/^Node/ { z = $4 } z == "Normal" && $1 == "pages" && $2 == "free" {
		print $3; found = 1 } END { if (!found) print 0 }' /proc/zoneinfo
}

errors() {
	cat $d/caches/goslab-4096/errors
}

before=$(ls -d $mem/memory* | wc -l)
# To the console itself, which goslab-hotplug-mem follows: the test's
# output may be going to a file (make check runs the shell tests in one
# boot and prints each one's output after it ends).
echo "GOSLAB-HOTPLUG-MEM" > /dev/console
n=0
while [ "$(ls -d $mem/memory* | wc -l)" -eq "$before" ] && [ $n -lt 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
after=$(ls -d $mem/memory* | wc -l)
if [ "$after" -eq "$before" ]; then
	echo "FAIL: no memory block appeared after the DIMM was plugged"
	exit 1
fi
echo "ok: $((after - before)) memory blocks hot-added"
for b in $mem/memory*; do
	[ "$(cat $b/state)" = offline ] && echo online_kernel > $b/state
done
free0=$(normal_free)
[ "$free0" -gt 0 ] && echo "ok: ZONE_NORMAL has $free0 free pages" ||
	{ echo "FAIL: the new memory is not in ZONE_NORMAL"; fail=1; }

e0=$(errors)
cmd "kmalloc 4096 20000"
cmd "tiny 7 20000"
cmd "create hotplug 200"
cmd "alloc hotplug 20000"
free1=$(normal_free)
taken=$((free0 - free1))
[ "$taken" -gt 20000 ] &&
	echo "ok: goslab took $taken pages of the hot-added memory" ||
	{ echo "FAIL: goslab took only $taken pages of the new memory"; fail=1; }
validate "allocating from hot-added memory"
cmd "free all"
check "$(errors)" "$e0" "no free reported as misuse"
validate "freeing it"
cmd "destroy hotplug"
cmd "shrink"
check "$(held)" 0 "everything given back"
dmesg | grep 'goslab: arena index' || true
exit $fail
