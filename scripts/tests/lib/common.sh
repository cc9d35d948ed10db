# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the shell tests (scripts/tests/*.sh): the debugfs paths, the
# failure flag the test exits with, and the checks they share.

d=/sys/kernel/debug/goslab
c=$d/control
fail=0

# check GOT WANT WHAT
check() {
	if [ "$1" = "$2" ]; then
		echo "ok: $3"
	else
		echo "FAIL: $3: got '$1', want '$2'"
		fail=1
	fi
}

# cmd COMMAND: one write to the control file, which must accept it
cmd() {
	echo "$1" > $c || { echo "FAIL: '$1' refused: $(head -1 $c)"; fail=1; }
}

# on CPU COMMAND: cmd, written by a task pinned to CPU
on() {
	taskset -c "$1" sh -c "echo '$2' > $c" ||
		{ echo "FAIL: '$2' on CPU $1 refused: $(head -1 $c)"; fail=1; }
}

# validate WHEN: every validator and the slow recount say ok
validate() {
	check "$(cat $d/validate)" ok "validate after $1"
}

# held: bytes goslab holds from the page allocator
held() {
	awk '/^held /{ print $2 }' $d/memory
}
