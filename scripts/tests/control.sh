#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a goslab kernel (scripts/goslab-vm -- sh scripts/tests/...):
# drives goslab through debugfs/goslab/control and checks what the other
# files say after each step.

. "$(dirname "$0")/lib/common.sh"

cmd "create t256 256"
validate "create"
cmd "alloc t256 1000"
check "$(cat $d/caches/t256/objects)" 1000 "objects after alloc 1000"
a=$(cut -d' ' -f1 $d/caches/t256/alloc)
f=$(cut -d' ' -f1 $d/caches/t256/free)
check "$((a - f))" 1000 "alloc - free == objects"
check "$(awk '$1 == "t256" { print $2 }' $d/slabinfo)" 1000 "slabinfo active_objs"
validate "alloc"
cmd "kmalloc 3000 200"
sum=$(awk '/^held /{ h = $2 }
	/^(live|free_swept|freed_unswept|percpu_cached|heap_free|rcu_pending) / { s += $2 }
	END { print s - h }' $d/memory)
check "$sum" 0 "memory states add up to held"
validate "kmalloc"
cmd "tiny 5 300"
check "$(awk '/^live_objects /{ print $2 }' $d/tiny)" 300 "tiny live objects"
validate "tiny"
cmd "free 300"
cmd "free 100"
check "$(sed -n 's/^held: \([0-9]*\) objects$/\1/p' $c)" 1100 "held after free 100"
cmd "free all"
check "$(cat $d/caches/t256/objects)" 0 "objects after free all"
validate "free all"
cmd "destroy t256"
check "$(ls $d/caches | grep -c '^t256$')" 0 "caches/t256 gone after destroy"
cmd "shrink"
check "$(held)" 0 "pages held after free all and shrink"
check "$(awk 'NF == 2 && $2 ~ /^[0-9]+$/' $d/sweep | wc -l)" 8 "sweep counters"
check "$(awk '/^unswept_pages /{ print $2 }' $d/sweep)" 0 "no sweep debt after shrink"
check "$(awk '/^reclaimable_kpages /{ print $2 }' $d/sweep)" 0 "nothing to reclaim after shrink"
validate "shrink"
cmd "churn 200000 3000 42"
check "$(head -1 $c)" "last: churn: 200000 ops, up to 3000 live, seed 42: 0 corrupted" "churn"
cmd "shrink"
check "$(held)" 0 "pages held after churn and shrink"
validate "churn"
# goslab_free_rcu(): the bytes wait in rcu_pending, which adds up with the
# other states, and the barrier (or the background work) gives them back.
calls=$(awk '/^calls /{ print $2 }' $d/rcu)
cmd "create r96 96"
cmd "alloc r96 2000"
cmd "tiny 3 500"
cmd "kmalloc 100000 3"
cmd "free_rcu all"
check "$(sed -n 's/^last: \(.*\)$/\1/p' $c)" "freed 2503 after a grace period (0 corrupted); 0 held" "free_rcu all"
check "$(($(awk '/^calls /{ print $2 }' $d/rcu) - calls))" 2503 "rcu calls"
sum=$(awk '$1 == "held" { h = $2 } $1 != "held" && $1 != "released" { s += $2 } END { print s - h }' $d/memory)
check "$sum" 0 "memory states add up to held with frees pending"
validate "free_rcu"
cmd "rcu_barrier"
check "$(head -1 $c)" "last: rcu_barrier: 0 bytes still pending" "rcu_barrier"
check "$(awk '/^rcu_pending /{ print $2 }' $d/memory)" 0 "nothing pending after the barrier"
cmd "destroy r96"
cmd "shrink"
check "$(held)" 0 "pages held after free_rcu, the barrier and shrink"
validate "rcu_barrier"
# A type-safe cache: its emptied spans wait a grace period in rcu_pending
# before the heap has them; the barrier gives them back.
cmd "create ts 200 typesafe"
check "$(head -1 $c)" "last: created ts: 200 bytes, type-safe by RCU" "create typesafe"
check "$(cat $d/caches/ts/destroy_by_rcu)" 1 "destroy_by_rcu"
check "$(cat $d/caches/goslab-64/destroy_by_rcu)" 0 "destroy_by_rcu of a size class"
cmd "alloc ts 3000"
cmd "free all"
cmd "shrink"
sum=$(awk '$1 == "held" { h = $2 } $1 != "held" && $1 != "released" { s += $2 } END { print s - h }' $d/memory)
check "$sum" 0 "memory states add up to held with type-safe spans waiting"
validate "typesafe"
cmd "rcu_barrier"
check "$(awk '/^rcu_pending /{ print $2 }' $d/memory)" 0 "no type-safe span waits after the barrier"
cmd "destroy ts"
cmd "shrink"
check "$(held)" 0 "pages held after a type-safe cache and shrink"
validate "typesafe destroyed"
exit $fail
