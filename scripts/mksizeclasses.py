#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generate goslab/sizeclasses.c: Go's size-class table.

The classes are derived the way Go's runtime/mksizeclasses.go derives
them: walk sizes in steps of a growing alignment, give each size the
fewest 8 KiB pages that keep the tail waste at most 1/8 of the span, merge
neighbours that get the same pages and object count, then widen each class
to the largest size that still fits the same number of objects. The
result must be Go's 67 classes; the script refuses to write anything else.

The lookup tables then give each size the smallest class whose objects
meet kmalloc's alignment rule (Documentation/core-api/memory-allocation.rst):
aligned to the largest power of two dividing the size. Spans start on
8 KiB pages, and mheap places the spans of the 16 and 32 KiB classes on
their own size, so a class's objects are aligned to the largest power of
two dividing its size. A table entry covers 8 (or 128) sizes and only
the last of them, a multiple of 8 (128), can ask for more than the
classes' own multiple of 8 (128): it decides the entry.

    scripts/mksizeclasses.py > goslab/sizeclasses.c
    scripts/mksizeclasses.py --check goslab/sizeclasses.c
"""

import sys

PAGE_SIZE = 8192
MAX_SMALL_SIZE = 32768
SMALL_SIZE_DIV = 8
SMALL_SIZE_MAX = 1024
LARGE_SIZE_DIV = 128
MIN_ALIGN = 8

# Go's table, to check the derivation against.
GO_SIZES = [
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224,
    240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768,
    896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200,
    3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240,
    10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576,
    27264, 28672, 32768,
]


def is_pow2(x):
    return x & (x - 1) == 0


def alignment(size):
    """The alignment Go's walk uses at @size (bumped at powers of two)."""
    if size >= 2048:
        return 256
    if size >= 128:
        return (1 << (size.bit_length() - 1)) // 8
    if size >= 32:
        return 16
    return MIN_ALIGN


def make_classes():
    classes = []
    align = MIN_ALIGN
    size = MIN_ALIGN
    while size <= MAX_SMALL_SIZE:
        if is_pow2(size):
            align = alignment(size)
        span = PAGE_SIZE
        while span % size > span // 8:
            span += PAGE_SIZE
        npages = span // PAGE_SIZE
        if classes and npages == classes[-1][1] and \
                span // size == span // classes[-1][0]:
            classes[-1] = (size, npages)
        else:
            classes.append((size, npages))
        size += align
    widened = []
    for size, npages in classes:
        span = npages * PAGE_SIZE
        step = min(alignment(size), LARGE_SIZE_DIV)
        best = (span // (span // size)) & ~(step - 1)
        widened.append((max(size, best), npages))
    return widened


def div_mul(size):
    """Go's divMagic: index = (offset * mul) >> 32, exact inside a span."""
    return (0xFFFFFFFF // size) + 1


def check(classes):
    sizes = [s for s, _ in classes]
    if sizes != GO_SIZES:
        sys.exit("mksizeclasses: derived table differs from Go's")
    for size, npages in classes:
        mul = div_mul(size)
        for off in range(0, npages * PAGE_SIZE, MIN_ALIGN):
            if (off * mul) >> 32 != off // size:
                sys.exit("mksizeclasses: divmul inexact for %d" % size)
        if (npages * PAGE_SIZE) % size > npages * PAGE_SIZE // 8:
            sys.exit("mksizeclasses: tail waste above 1/8 for %d" % size)


def pow2_divisor(x):
    """The largest power of two dividing @x: kmalloc's alignment for it."""
    return x & -x


def lookup(classes, limit, step, start):
    """Entry for sizes up to i: the smallest class aligned as i asks."""
    table = []
    for i in range(start, limit + 1, step):
        for c, (size, _) in enumerate(classes, 1):
            if size >= i and pow2_divisor(size) >= pow2_divisor(i):
                table.append(c)
                break
    return table


def class_of(size, table8, table128):
    """goslab_size_to_class()."""
    if size <= SMALL_SIZE_MAX:
        return table8[-(-size // SMALL_SIZE_DIV)]
    return table128[-(-(size - SMALL_SIZE_MAX) // LARGE_SIZE_DIV)]


def smallest_sizes(table8, table128):
    """Class -> the smallest size the lookup gives it."""
    smallest = {}
    for size in range(MAX_SMALL_SIZE, 0, -1):
        smallest[class_of(size, table8, table128)] = size
    return smallest


def check_lookup(classes, table8, table128):
    """Every size 1 .. 32 KiB: a class that holds it, aligned as it asks."""
    for size in range(1, MAX_SMALL_SIZE + 1):
        got = classes[class_of(size, table8, table128) - 1][0]
        if got < size or pow2_divisor(got) < pow2_divisor(size):
            sys.exit("mksizeclasses: size %d gets class %d" % (size, got))


def c_array(decl, values, per_line):
    out = [decl + " = {"]
    for i in range(0, len(values), per_line):
        out.append("\t" + ", ".join(str(v) for v in values[i:i + per_line])
                   + ",")
    out.append("};")
    name = decl.split("[")[0].split()[-1]
    out.append("EXPORT_SYMBOL_IF_KUNIT(%s);" % name)
    return out


def render(classes):
    n = len(classes)
    lines = [
        "// SPDX-License-Identifier: GPL-2.0",
        "/*",
        " * sizeclasses.c - Go's size-class table (generated; do not edit).",
        " *",
        " * Generated by scripts/mksizeclasses.py, which derives the classes",
        " * with Go's mksizeclasses.go rules: a span of 1-10 goslab pages (8",
        " * KiB each) per class, tail waste at most 1/8 of the span. Sizes up",
        " * to 1024 B are looked up in 8-byte steps (size_to_class8), larger",
        " * ones in 128-byte steps (size_to_class128), each to the smallest",
        " * class aligned as kmalloc's rule asks of the step's last size (the",
        " * largest power of two dividing it): 2560 B gets 3072, not 2688.",
        " * Go's reciprocal,",
        " * (offset * divmul) >> 32 == offset / size with divmul = 2^32 / size",
        " * rounded up, is exact at every offset inside a span of each class:",
        " * checked by the generator and by KUnit (class.c computes it).",
        " *",
        " * class  bytes/obj  bytes/span  objects  tail waste  max waste",
    ]
    table8 = [0] + lookup(classes, SMALL_SIZE_MAX, SMALL_SIZE_DIV,
                          SMALL_SIZE_DIV)
    table128 = lookup(classes, MAX_SMALL_SIZE, LARGE_SIZE_DIV, SMALL_SIZE_MAX)
    check_lookup(classes, table8, table128)
    smallest = smallest_sizes(table8, table128)
    for c, (size, npages) in enumerate(classes, 1):
        span = npages * PAGE_SIZE
        objects = span // size
        tail = span - objects * size
        # The smallest size the lookup gives this class wastes the most.
        max_waste = ((size - smallest[c]) * objects + tail) / span
        lines.append(" * %5d  %9d  %10d  %7d  %10d  %8.2f%%" %
                     (c, size, span, objects, tail, 100 * max_waste))
    lines += [
        " */",
        "",
        "#include <linux/export.h>",
        '#include "internal.h"',
        "",
        "static_assert(GOSLAB_NUM_SIZE_CLASSES == %d);" % (n + 1),
        "static_assert(GOSLAB_MAX_SMALL_SIZE == %d);" % MAX_SMALL_SIZE,
        "",
    ]
    # Rows of a different length per table: no two tables look alike.
    lines += c_array("const u16 goslab_class_to_size[GOSLAB_NUM_SIZE_CLASSES]",
                     [0] + [s for s, _ in classes], 12)
    lines.append("")
    lines += c_array(
        "const u8 goslab_class_to_allocnpages[GOSLAB_NUM_SIZE_CLASSES]",
        [0] + [p for _, p in classes], 17)
    lines.append("")
    lines += c_array(
        "const u8 goslab_size_to_class8[GOSLAB_SIZE_TO_CLASS8_LEN]",
        table8, 16)
    lines.append("")
    lines += c_array(
        "const u8 goslab_size_to_class128[GOSLAB_SIZE_TO_CLASS128_LEN]",
        table128, 23)
    return "\n".join(lines) + "\n"


def main():
    classes = make_classes()
    check(classes)
    text = render(classes)
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        with open(sys.argv[2]) as f:
            if f.read() != text:
                sys.exit("mksizeclasses: %s is stale; regenerate it" %
                         sys.argv[2])
        return
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
