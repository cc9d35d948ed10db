#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the debug kernel (DEBUG_KMEMLEAK, automatic scans off):
# goslab_kmemleak_demo leaks one goslab object and keeps a kmalloc()
# buffer referenced only from inside another, live, goslab object. After
# two scans kmemleak must report the leaked object and not the buffer.
# Exits 77 (skipped) without kmemleak.

. "$(dirname "$0")/../lib/common.sh"

km=/sys/kernel/debug/kmemleak
demo=/goslab/modules/goslab_kmemleak_demo.ko
if [ ! -w $km ] || [ ! -f $demo ]; then
	echo "skip: no kmemleak in this kernel"
	exit 77
fi
# Only what this test leaks counts: forget the boot's reports.
echo clear > $km
insmod $demo || { echo "FAIL: insmod $demo"; exit 1; }
line=$(dmesg | grep 'goslab_kmemleak_demo: leaked' | tail -1)
leaked=$(echo "$line" | sed 's/.*goslab object \([0-9a-f]*\) \([0-9a-f]*\),.*/\1\2/')
buffer=$(echo "$line" | sed 's/.*kmalloc buffer \([0-9a-f]*\) held.*/\1/')
echo "leaked goslab object $leaked, kmalloc buffer $buffer"
# kmemleak reports objects older than 5 s that two scans found
# unreferenced (the first scan only notes their checksums).
sleep 6
echo scan > $km
echo scan > $km
cat $km > /tmp/kmemleak.txt
grep -c 'unreferenced object' /tmp/kmemleak.txt | sed 's/^/reports: /'
if grep -q "unreferenced object 0x$leaked " /tmp/kmemleak.txt; then
	echo "ok: the leaked goslab object is reported"
else
	echo "FAIL: kmemleak did not report the leaked goslab object"
	# kmemleak's own view of it (references counted, flags, trace).
	echo "dump=0x$leaked" > $km
	dmesg | grep -A12 "kmemleak: Object 0x$leaked" | tail -14
	fail=1
fi
if grep -q "unreferenced object 0x$buffer " /tmp/kmemleak.txt; then
	echo "FAIL: the buffer referenced from a live goslab object is reported"
	grep -A8 "unreferenced object 0x$buffer " /tmp/kmemleak.txt
	fail=1
else
	echo "ok: the buffer referenced from a goslab object is not reported"
fi
rmmod goslab_kmemleak_demo
echo clear > $km
exit $fail
