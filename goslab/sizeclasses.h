/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sizeclasses.h - goslab pages, Go's size classes and span classes.
 *
 * The table itself is generated (sizeclasses.c, scripts/mksizeclasses.py).
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_SIZECLASSES_H
#define _GOSLAB_SIZECLASSES_H

#define GOSLAB_PAGE_SHIFT	13
#define GOSLAB_PAGE_SIZE	BIT(GOSLAB_PAGE_SHIFT)
/* Kernel pages per goslab page, and the alloc_pages() order of one. */
#define GOSLAB_KPAGES_PER_PAGE	(GOSLAB_PAGE_SIZE >> PAGE_SHIFT)
#define GOSLAB_PAGE_ORDER	(GOSLAB_PAGE_SHIFT - PAGE_SHIFT)

#define GOSLAB_NUM_SIZE_CLASSES	68	/* class 0 is large objects */
#define GOSLAB_NUM_SPAN_CLASSES	(GOSLAB_NUM_SIZE_CLASSES << 1)
#define GOSLAB_MAX_SMALL_SIZE	32768
#define GOSLAB_SMALL_SIZE_DIV	8
#define GOSLAB_SMALL_SIZE_MAX	1024
#define GOSLAB_LARGE_SIZE_DIV	128
#define GOSLAB_SIZE_TO_CLASS8_LEN \
	(GOSLAB_SMALL_SIZE_MAX / GOSLAB_SMALL_SIZE_DIV + 1)
#define GOSLAB_SIZE_TO_CLASS128_LEN \
	((GOSLAB_MAX_SMALL_SIZE - GOSLAB_SMALL_SIZE_MAX) / \
	 GOSLAB_LARGE_SIZE_DIV + 1)
#define GOSLAB_MAX_SPAN_PAGES	10
#define GOSLAB_MAX_NELEMS	(GOSLAB_PAGE_SIZE / 8)

/* Objects below this size may be packed by goslab_alloc_tiny(). */
#define GOSLAB_TINY_SIZE	16

extern const u16 goslab_class_to_size[GOSLAB_NUM_SIZE_CLASSES];
extern const u8 goslab_class_to_allocnpages[GOSLAB_NUM_SIZE_CLASSES];
extern const u8 goslab_size_to_class8[GOSLAB_SIZE_TO_CLASS8_LEN];
extern const u8 goslab_size_to_class128[GOSLAB_SIZE_TO_CLASS128_LEN];

/**
 * goslab_size_to_class() - the size class for @size bytes
 * @size: 1 .. GOSLAB_MAX_SMALL_SIZE
 *
 * The smallest class that holds the last size of @size's lookup step
 * (8 bytes up to 1 KiB, then 128) and meets kmalloc's alignment rule for
 * it (scripts/mksizeclasses.py): every size of the step gets that class.
 *
 * Return: the size class (1 .. GOSLAB_NUM_SIZE_CLASSES - 1).
 */
static inline unsigned int goslab_size_to_class(size_t size)
{
	if (size <= GOSLAB_SMALL_SIZE_MAX)
		return goslab_size_to_class8[DIV_ROUND_UP(size,
						GOSLAB_SMALL_SIZE_DIV)];
	return goslab_size_to_class128[DIV_ROUND_UP(size - GOSLAB_SMALL_SIZE_MAX,
						    GOSLAB_LARGE_SIZE_DIV)];
}

static inline unsigned int goslab_span_class(unsigned int sizeclass,
					     bool reclaimable)
{
	return sizeclass << 1 | reclaimable;
}

#endif /* _GOSLAB_SIZECLASSES_H */
