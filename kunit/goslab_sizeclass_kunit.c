// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_sizeclass: Go's size-class table and its lookup.
 */
#include "goslab_test.h"

/* Every class: geometry, Go's 1/8 tail-waste rule, alignment. */
static void sizeclass_table_test(struct kunit *test)
{
	unsigned int c;

	KUNIT_EXPECT_EQ(test, goslab_class_to_size[GOSLAB_NUM_SIZE_CLASSES - 1],
			GOSLAB_MAX_SMALL_SIZE);
	for (c = 1; c < GOSLAB_NUM_SIZE_CLASSES; c++) {
		unsigned int size = goslab_class_to_size[c];
		unsigned int npages = goslab_class_to_allocnpages[c];
		unsigned long span = npages * GOSLAB_PAGE_SIZE;

		KUNIT_EXPECT_GT_MSG(test, size, goslab_class_to_size[c - 1],
				    "class %u", c);
		KUNIT_EXPECT_EQ_MSG(test, size % 8, 0, "class %u", c);
		KUNIT_EXPECT_GE_MSG(test, npages, 1, "class %u", c);
		KUNIT_EXPECT_LE_MSG(test, npages, GOSLAB_MAX_SPAN_PAGES,
				    "class %u", c);
		KUNIT_EXPECT_LE_MSG(test, span % size, span / 8,
				    "class %u wastes more than 1/8", c);
		KUNIT_EXPECT_LE_MSG(test, span / size, GOSLAB_MAX_NELEMS,
				    "class %u", c);
		/* Power-of-two classes up to 8 KiB fit a one-page span. */
		if (is_power_of_2(size) && size <= GOSLAB_PAGE_SIZE)
			KUNIT_EXPECT_EQ_MSG(test, npages, 1, "class %u", c);
	}
}

/*
 * Every size: the lookup gives a class that holds it and whose objects
 * meet kmalloc's alignment rule (the largest power of two dividing the
 * size), the smallest such class for the last size of its table step (8
 * bytes up to 1 KiB, then 128): the step's sizes share an entry.
 */
static bool sizeclass_fits(unsigned int c, size_t size)
{
	unsigned int bytes = goslab_class_to_size[c];

	return bytes >= size && (bytes & -bytes) >= (size & -size);
}

static void sizeclass_lookup_test(struct kunit *test)
{
	size_t size;

	for (size = 1; size <= GOSLAB_MAX_SMALL_SIZE; size++) {
		size_t last = round_up(size, size <= GOSLAB_SMALL_SIZE_MAX ?
				       GOSLAB_SMALL_SIZE_DIV :
				       GOSLAB_LARGE_SIZE_DIV);
		unsigned int c = goslab_size_to_class(size), smaller;

		if (c < 1 || c >= GOSLAB_NUM_SIZE_CLASSES) {
			KUNIT_FAIL(test, "size %zu: class %u", size, c);
			return;
		}
		if (!sizeclass_fits(c, size) || !sizeclass_fits(c, last)) {
			KUNIT_FAIL(test, "size %zu -> class %u (%u bytes)",
				   size, c, goslab_class_to_size[c]);
			return;
		}
		for (smaller = 1; smaller < c; smaller++) {
			if (sizeclass_fits(smaller, last)) {
				KUNIT_FAIL(test, "size %zu -> class %u, not %u",
					   size, c, smaller);
				return;
			}
		}
	}
}

/*
 * Go's divMagic, as class.c computes it: the reciprocal gives the exact
 * index at every offset of a span, in every size class and the tiny one.
 */
static void sizeclass_divmul_test(struct kunit *test)
{
	unsigned int c;

	for (c = 0; c < GOSLAB_NUM_SIZE_CLASSES; c++) {
		const struct goslab_class *cls = c ?
			&goslab_classes[goslab_span_class(c, false)] :
			&goslab_tiny_class;
		unsigned long span = cls->npages * GOSLAB_PAGE_SIZE, off;

		for (off = 0; off < span; off++) {
			if ((u32)(((u64)off * cls->divmul) >> 32) !=
			    off / cls->elemsize) {
				KUNIT_FAIL(test, "%s offset %lu", cls->name, off);
				break;
			}
		}
	}
}

/* The goslab_alloc() classes match the table and Go's span classes. */
static void sizeclass_spanclass_test(struct kunit *test)
{
	unsigned int c, rcl;

	for (c = 1; c < GOSLAB_NUM_SIZE_CLASSES; c++) {
		for (rcl = 0; rcl < 2; rcl++) {
			struct goslab_class *cls =
				&goslab_classes[goslab_span_class(c, rcl)];

			KUNIT_EXPECT_EQ(test, cls->elemsize,
					goslab_class_to_size[c]);
			KUNIT_EXPECT_EQ(test, cls->npages,
					goslab_class_to_allocnpages[c]);
			KUNIT_EXPECT_EQ(test, cls->nelems,
					cls->npages * GOSLAB_PAGE_SIZE /
					cls->elemsize);
			KUNIT_EXPECT_EQ(test, !!(cls->page_gfp &
						 __GFP_RECLAIMABLE), rcl);
		}
	}
}

static struct kunit_case sizeclass_cases[] = {
	KUNIT_CASE(sizeclass_table_test),
	KUNIT_CASE(sizeclass_lookup_test),
	KUNIT_CASE(sizeclass_divmul_test),
	KUNIT_CASE(sizeclass_spanclass_test),
	{}
};

static struct kunit_suite sizeclass_suite = {
	.name = "goslab_sizeclass",
	.test_cases = sizeclass_cases,
};

kunit_test_suite(sizeclass_suite);

MODULE_DESCRIPTION("KUnit tests for goslab's size classes");
