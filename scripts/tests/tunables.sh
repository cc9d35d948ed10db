#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: the tunables are module parameters that
# can be read and written at run time (/sys/module/goslab/parameters),
# shown with their ranges in debugfs tunables; a value out of range, or
# not a number, is refused and changes nothing; an allocator with every
# tunable at its minimum, then at its maximum, still validates.

. "$(dirname "$0")/lib/common.sh"

p=/sys/module/goslab/parameters
all="retain_percent:0:100 bg_delay_ms:10:10000 keep_empty:0:64 sweep_budget:1:100000"

# shown NAME: VALUE MIN..MAX as debugfs tunables has it
shown() {
	awk -v n="$1" '$1 == n { print $2, $3 }' $d/tunables
}

# split NAME:MIN:MAX into $name, $min, $max
split() {
	name=${1%%:*}
	rest=${1#*:}
	min=${rest%%:*}
	max=${rest#*:}
}

for t in $all; do
	split "$t"
	old=$(cat $p/$name)
	check "$(shown $name)" "$old $min..$max" "debugfs tunables shows $name"
	for bad in $((max + 1)) $((min - 1)) 12x many ""; do
		if echo "$bad" > $p/$name 2>/dev/null; then
			echo "FAIL: $name took '$bad'"
			fail=1
		fi
		check "$(cat $p/$name)" "$old" "$name kept after '$bad'"
	done
	eval "old_$name=$old"
done

# Every tunable at its minimum, then at its maximum: work, then validate.
for end in min max; do
	for t in $all; do
		split "$t"
		eval "v=\$$end"
		echo "$v" > $p/$name || { echo "FAIL: $name refused $v"; fail=1; }
		check "$(cat $p/$name)" "$v" "$name set to $v"
		check "$(shown $name)" "$v $min..$max" "debugfs tunables shows $name at $v"
	done
	cmd "kmalloc 512 1000"
	cmd "free all"
	cmd "shrink"
	validate "every tunable at its $end"
done

for t in $all; do
	split "$t"
	eval "old=\$old_$name"
	echo "$old" > $p/$name
	check "$(cat $p/$name)" "$old" "$name back to $old"
done
exit $fail
