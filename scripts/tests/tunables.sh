#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: the tunables are module parameters that
# can be read and written at run time (/sys/module/goslab/parameters),
# shown with their ranges in debugfs tunables; a value out of range, or
# not a number, is refused and changes nothing; an allocator with the
# extremes of every range still validates.

. "$(dirname "$0")/lib/common.sh"

p=/sys/module/goslab/parameters

# shown NAME VALUE MIN MAX: debugfs tunables has NAME at VALUE, MIN..MAX
shown() {
	awk -v n="$1" '$1 == n { print $2, $3 }' $d/tunables
}

for t in retain_percent:0:100 bg_delay_ms:10:10000 keep_empty:0:64 \
	sweep_budget:1:100000; do
	name=${t%%:*}
	rest=${t#*:}
	min=${rest%%:*}
	max=${rest#*:}
	old=$(cat $p/$name)
	check "$(shown $name)" "$old $min..$max" "debugfs tunables shows $name"
	for bad in $((max + 1)) $((min - 1)) 12x many ""; do
		[ "$bad" -lt 0 ] 2>/dev/null && [ "$min" -eq 0 ] && bad=-1
		if echo "$bad" > $p/$name 2>/dev/null; then
			echo "FAIL: $name took '$bad'"
			fail=1
		fi
		check "$(cat $p/$name)" "$old" "$name kept after '$bad'"
	done
	for v in $min $max; do
		echo "$v" > $p/$name || { echo "FAIL: $name refused $v"; fail=1; }
		check "$(cat $p/$name)" "$v" "$name set to $v"
		check "$(shown $name)" "$v $min..$max" "debugfs tunables shows $name at $v"
	done
	# The extremes at once: allocate, free and shrink, then validate.
	cmd "kmalloc 512 2000"
	cmd "free all"
	cmd "shrink"
	validate "$name at $max"
	echo "$old" > $p/$name
	check "$(cat $p/$name)" "$old" "$name back to $old"
done
exit $fail
