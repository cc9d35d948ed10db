#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel: at least 1000 malformed, out-of-range,
# oversized or random writes to debugfs/goslab/control are each refused,
# and nothing changes.

. "$(dirname "$0")/lib/common.sh"
n=0

state() {
	echo "$(sed -n 's/^held: //p' $c) $(awk '/^held /{ print $2 }' $d/memory) $(ls $d/caches | wc -l)"
}

# Something held and a cache, so that a change would show.
echo "create keep 64" > $c
echo "alloc keep 10" > $c
before=$(state)

refuse() {
	n=$((n + 1))
	if printf '%s' "$1" > $c 2>/dev/null; then
		echo "FAIL: accepted: '$1'"
		fail=1
	fi
}

for line in " " "bogus" "alloc" "alloc keep" "alloc keep x" \
	"alloc keep -1" "alloc keep 0" "alloc nosuch 1" "alloc keep 1 2" \
	"kmalloc" "kmalloc 0 1" "kmalloc 8" "kmalloc 5000000 1" \
	"kmalloc 8 0" "kmalloc 8 99999999" "kmalloc 8 1x" "kmalloc 0x10 1" \
	"tiny" "tiny 0 1" "tiny 16 1" "tiny 5" "tiny 5 0" "tiny 5 1 1" \
	"free" "free 0" "free -3" "free some" "free 1 2" "create" \
	"create x" "create x 0" "create x 40000" "create x 64 3" \
	"create x 64 16384" "create keep 64" "create x 64 8 9" "destroy" \
	"create x typesafe" "create x 64 typesafe typesafe" "create x 64 8 rcu" \
	"destroy nosuch" "churn" "churn 0 1 1" "churn 1 0 1" "churn 1 1" \
	"churn 99999999 1 1" "shrink now" "validate 1" "ALLOC keep 1" \
	"alloc	keep	" "a b c d e f g"; do
	refuse "$line"
done

# Oversized commands (-E2BIG).
long=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "x"; }')
refuse "$long"
refuse "kmalloc 8 1 $long"

# Embedded NULs and control characters.
for i in 1 2 3 4 5 6 7 8 9 10; do
	n=$((n + 1))
	if printf 'kmalloc 8\000 1' > $c 2>/dev/null; then
		echo "FAIL: accepted a NUL"; fail=1
	fi
	n=$((n + 1))
	if printf 'kmalloc 8\001 1' > $c 2>/dev/null; then
		echo "FAIL: accepted a control character"; fail=1
	fi
done

# Random words and numbers, then random bytes, until 1000 writes. One
# awk makes them all, the bytes as printf's octal escapes, so that no
# write starts a process (a fork and exec took 80 ms on the debug kernel
# under QEMU): for seed i, a line of words, then a line of 40 bytes.
awk -v k="$(((1000 - n + 1) / 2))" 'BEGIN {
	split("alloc kmalloc free create destroy churn shrink x keep 0 -1 99999999 4.5 abc", w, " ")
	for (i = 1; i <= k; i++) {
		srand(i)
		m = 1 + int(rand() * 5)
		for (j = 0; j < m; j++)
			printf "%s%s", (j ? " " : ""), w[1 + int(rand() * 14)]
		# A token no command takes: every line stays malformed.
		printf " #%c\n", 33 + int(rand() * 90)
		srand(i)
		for (j = 0; j < 40; j++)
			printf "\\%03o", 1 + int(rand() * 255)
		printf "\n"
	}
}' > /tmp/goslab-bad-input.$$
while IFS= read -r word && IFS= read -r bytes; do
	refuse "$word"
	n=$((n + 1))
	# shellcheck disable=SC2059
	if printf "$bytes" > $c 2>/dev/null; then
		echo "FAIL: accepted random bytes"; fail=1
	fi
done < /tmp/goslab-bad-input.$$
rm -f /tmp/goslab-bad-input.$$

after=$(state)
if [ "$before" = "$after" ]; then
	echo "ok: $n bad writes refused, state unchanged ($after)"
else
	echo "FAIL: state changed: '$before' -> '$after'"
	fail=1
fi
echo "free all" > $c
echo "destroy keep" > $c
[ "$(cat $d/validate)" = ok ] || { echo "FAIL: validate"; fail=1; }
exit $fail
