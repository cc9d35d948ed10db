#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The control-file reproducer of the double allocation after a shrink
# (a span flushed with its free index past slot 64 loses a kernel page to
# the shrink; the allocation window must be reloaded at the free index,
# not at slot 0). Pinned to one CPU, so that every step uses one mcache.

. "$(dirname "$0")/lib/common.sh"

on 0 "create t 24"
on 0 "alloc t 341"
on 0 "free 331"
on 0 "alloc t 140"
validate "alloc 341, free 331, alloc 140"
on 0 "shrink"
validate "shrink"
on 0 "alloc t 42"
validate "alloc 42 after the shrink"
check "$(cat $d/caches/t/objects)" 192 "objects after alloc 42"
on 0 "free all"
on 0 "destroy t"
on 0 "shrink"
check "$(held)" 0 "pages held after free all and shrink"
validate "free all and shrink"
exit $fail
