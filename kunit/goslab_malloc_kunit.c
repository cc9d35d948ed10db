// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_malloc: goslab_alloc() and friends as a kernel caller sees them:
 * sizes, alignment, many live objects in every free order, large objects,
 * realloc, injected failures, misuse, and giving every page back.
 */
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include "goslab_test.h"

static unsigned int scale = 100;
module_param(scale, uint, 0444);
MODULE_PARM_DESC(scale, "percent of the full size of the big scenarios");

static unsigned long scaled(unsigned long n)
{
	return max(1UL, n * scale / 100);
}

static void fill(void *p, size_t size, unsigned long tag)
{
	size_t i;

	for (i = 0; i + sizeof(long) <= size; i += sizeof(long))
		*(unsigned long *)(p + i) = tag + i;
	for (; i < size; i++)
		*(u8 *)(p + i) = (u8)tag;
}

static bool intact(void *p, size_t size, unsigned long tag)
{
	size_t i;

	for (i = 0; i + sizeof(long) <= size; i += sizeof(long))
		if (*(unsigned long *)(p + i) != tag + i)
			return false;
	for (; i < size; i++)
		if (*(u8 *)(p + i) != (u8)tag)
			return false;
	return true;
}

static void held_pages(unsigned long *kpages)
{
	struct goslab_heap_stats st;

	mheap_read_stats(&st);
	*kpages = st.kpages_taken - st.kpages_returned;
}

/* Every size 1..4096: the smallest class, 8-byte and natural alignment. */
static void malloc_every_small_size_test(struct kunit *test)
{
	size_t size;

	for (size = 1; size <= 4096; size++) {
		void *p = goslab_alloc(size, GFP_KERNEL);
		size_t usable;

		KUNIT_ASSERT_NOT_NULL_MSG(test, p, "size %zu", size);
		usable = goslab_usable_size(p);
		KUNIT_EXPECT_EQ_MSG(test, usable,
				    goslab_class_to_size[goslab_size_to_class(size)],
				    "size %zu", size);
		KUNIT_EXPECT_EQ_MSG(test, (unsigned long)p % 8, 0,
				    "size %zu", size);
		if (is_power_of_2(size))
			KUNIT_EXPECT_EQ_MSG(test, (unsigned long)p % size, 0,
					    "size %zu not naturally aligned",
					    size);
		fill(p, usable, size);
		KUNIT_EXPECT_TRUE(test, intact(p, usable, size));
		goslab_free(p);
	}
	goslab_expect_consistent(test);
}

/*
 * kmalloc's alignment rule, for every size up to 32 KiB: an object is
 * aligned to the largest power of two dividing its size. An object's
 * address depends only on its class (and the span's placement), so each
 * size is checked through the first size that asks its class for that
 * alignment: two objects, so that one is not its span's first.
 * sizeclass_lookup_test checks every size's class against the rule.
 */
static void malloc_kmalloc_alignment_test(struct kunit *test)
{
	unsigned long checked[GOSLAB_NUM_SIZE_CLASSES] = {};
	size_t size, bad = 0;
	void *a, *b;

	for (size = 1; size <= GOSLAB_MAX_SMALL_SIZE; size++) {
		unsigned long align = size & -size;
		unsigned int c = goslab_size_to_class(size);

		if (align <= checked[c])
			continue;
		checked[c] = align;
		a = goslab_alloc(size, GFP_KERNEL);
		b = goslab_alloc(size, GFP_KERNEL);
		if (!a || !b ||
		    (((unsigned long)a | (unsigned long)b) & (align - 1))) {
			if (!bad++)
				KUNIT_FAIL(test, "size %zu: %p and %p, not %lu-byte aligned",
					   size, a, b, align);
		}
		goslab_free(a);
		goslab_free(b);
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
	goslab_expect_consistent(test);
}

/* Powers of two up to 32 KiB stay naturally aligned across a span. */
static void malloc_pow2_alignment_test(struct kunit *test)
{
	const unsigned int n = 32;
	void **p = goslab_test_objs(test, n);
	size_t size;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, p);
	for (size = 8; size <= GOSLAB_MAX_SMALL_SIZE; size <<= 1) {
		for (i = 0; i < n; i++) {
			p[i] = goslab_alloc(size, GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, p[i]);
			KUNIT_EXPECT_EQ_MSG(test, (unsigned long)p[i] % size, 0,
					    "size %zu", size);
		}
		goslab_test_free_objs(p, n);
	}
	goslab_expect_consistent(test);
}

/* Large objects up to 4 MiB; above that NULL, like kmalloc. */
static void malloc_large_test(struct kunit *test)
{
	static const size_t sizes[] = {
		GOSLAB_MAX_SMALL_SIZE + 1, 40000, 65536, 100000, 262144,
		1 << 20, (1 << 20) + 1, 3 << 20, 4 << 20,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		void *p = goslab_alloc(sizes[i], GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL_MSG(test, p, "size %zu", sizes[i]);
		KUNIT_EXPECT_EQ(test, (unsigned long)p % GOSLAB_PAGE_SIZE, 0);
		KUNIT_EXPECT_EQ(test, goslab_usable_size(p),
				round_up(sizes[i], GOSLAB_PAGE_SIZE));
		fill(p, sizes[i], i);
		KUNIT_EXPECT_TRUE(test, intact(p, sizes[i], i));
		goslab_expect_consistent(test);
		goslab_free(p);
	}
	KUNIT_EXPECT_NULL(test, goslab_alloc((4 << 20) + 1,
					     GFP_KERNEL | __GFP_NOWARN));
	KUNIT_EXPECT_PTR_EQ(test, goslab_alloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
	goslab_free(NULL);
	goslab_expect_consistent(test);
}

/*
 * slab.h's contracts: kmalloc(0)'s ZERO_SIZE_PTR, which every goslab
 * function takes as kfree(), ksize() and krealloc() do; the array,
 * zeroing and cleanup helpers; the prototypes' attributes, seen by
 * __builtin_object_size() as FORTIFY_SOURCE sees them.
 */
static void malloc_slab_h_contracts_test(struct kunit *test)
{
	unsigned long foreign = goslab_error_count(GOSLAB_ERR_FOREIGN);
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	size_t huge = SIZE_MAX / 2 + 2, size;
	char *p, *q;

	p = goslab_alloc(0, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, (void *)p, ZERO_SIZE_PTR);
	KUNIT_EXPECT_PTR_EQ(test, goslab_alloc_tiny(0, GFP_KERNEL),
			    ZERO_SIZE_PTR);
	KUNIT_EXPECT_PTR_EQ(test, goslab_zalloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
	goslab_free(ZERO_SIZE_PTR);
	goslab_free_rcu(ZERO_SIZE_PTR);
	KUNIT_EXPECT_EQ(test, goslab_usable_size(ZERO_SIZE_PTR), 0);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_FOREIGN), foreign);

	/* krealloc(): from ZERO_SIZE_PTR as from NULL; to 0 frees. */
	p = goslab_realloc(ZERO_SIZE_PTR, 100, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_PTR_NE(test, (void *)p, ZERO_SIZE_PTR);
	KUNIT_EXPECT_GE(test, goslab_usable_size(p), 100);
	KUNIT_EXPECT_PTR_EQ(test, goslab_realloc(p, 0, GFP_KERNEL),
			    ZERO_SIZE_PTR);
	goslab_free(p);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 1);
	KUNIT_EXPECT_PTR_EQ(test, goslab_realloc(NULL, 0, GFP_KERNEL),
			    ZERO_SIZE_PTR);

	/* Overflowing products fail quietly, leaving the old array. */
	KUNIT_EXPECT_NULL(test, goslab_alloc_array(huge, 2, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, goslab_calloc(2, huge, GFP_KERNEL));
	p = goslab_calloc(10, 100, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0, 1000));
	memset(p, 0x5a, 1000);
	KUNIT_EXPECT_NULL(test, goslab_realloc_array(p, huge, 2, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0x5a, 1000));
	q = goslab_realloc_array(p, 30, 100, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_NULL(test, memchr_inv(q, 0x5a, 1000));
	goslab_free(q);

	/* kmalloc_size_roundup(): ask for it, and every byte is the caller's. */
	for (size = 1; size <= 200000; size = size * 3 + 1) {
		size_t whole = goslab_size_roundup(size);

		p = goslab_alloc(whole, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_EXPECT_GE(test, whole, size);
		KUNIT_EXPECT_EQ(test, goslab_usable_size(p), whole);
		memset(p, 0x3c, whole);
		goslab_free(p);
	}
	KUNIT_EXPECT_EQ(test, goslab_size_roundup(0), 0);

	p = goslab_zalloc(3000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0, 3000));
	/* What FORTIFY_SOURCE bounds a memcpy() into the object by. */
	KUNIT_EXPECT_EQ(test, __builtin_object_size(p, 0), 3000);
	goslab_free(p);
	p = goslab_alloc_array(10, 30, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, __builtin_object_size(p, 0), 300);
	goslab_free(p);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_FOREIGN), foreign);
#ifdef DEFINE_FREE
	{
		void *scoped __free(goslab_free) = goslab_alloc(64, GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, scoped);
		p = scoped;
	}
	/* Freed when the scope ended: a second free is a double free. */
	goslab_free(p);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 2);
#endif
	goslab_expect_consistent(test);
}

static void malloc_zero_test(struct kunit *test)
{
	static const size_t sizes[] = { 8, 100, 4096, 32768, 100000 };
	unsigned int i, round;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			u8 *p = goslab_alloc(sizes[i], GFP_KERNEL | __GFP_ZERO);
			u8 *whole = p;

			KUNIT_ASSERT_NOT_NULL(test, p);
			/* The whole size class, past what FORTIFY would allow. */
			OPTIMIZER_HIDE_VAR(whole);
			KUNIT_EXPECT_NULL(test,
					  memchr_inv(whole, 0, goslab_usable_size(p)));
			memset(p, 0xa5, sizes[i]);
			goslab_free(p);
		}
		goslab_shrink();
	}
	goslab_expect_consistent(test);
}

enum free_order { FREE_LIFO, FREE_FIFO, FREE_RANDOM };

/*
 * 10^5 objects (times scale) of mixed sizes alive at once, each filled
 * with its own pattern, checked before it is freed: no two overlap.
 */
static void many_objects(struct kunit *test, enum free_order order)
{
	unsigned long n = scaled(100000), i, bad = 0;
	struct goslab_heap_stats st;
	struct rnd_state seed = goslab_test_rnd(1234 + order);
	u32 *size, *perm;
	void **obj;

	obj = vmalloc(n * sizeof(*obj));
	size = vmalloc(n * sizeof(*size));
	perm = vmalloc(n * sizeof(*perm));
	if (!obj || !size || !perm) {
		vfree(obj);
		vfree(size);
		vfree(perm);
		KUNIT_FAIL(test, "no memory for the test's own arrays");
		return;
	}
	for (i = 0; i < n; i++) {
		size[i] = 1 + prandom_u32_state(&seed) % 512;
		obj[i] = goslab_alloc(size[i], GFP_KERNEL);
		if (!obj[i]) {
			KUNIT_FAIL(test, "allocation %lu failed", i);
			n = i;
			break;
		}
		fill(obj[i], size[i], i * 2654435761UL);
	}
	goslab_expect_consistent(test);
	mheap_read_stats(&st);
	kunit_info(test, "%lu objects live in %lu kernel pages\n", n,
		   st.kpages_taken - st.kpages_returned);
	for (i = 0; i < n; i++)
		perm[i] = order == FREE_LIFO ? n - 1 - i : i;
	if (order == FREE_RANDOM) {
		for (i = n - 1; i > 0; i--) {
			unsigned long j = prandom_u32_state(&seed) % (i + 1);

			swap(perm[i], perm[j]);
		}
	}
	for (i = 0; i < n; i++) {
		unsigned long k = perm[i];

		if (!intact(obj[k], size[k], k * 2654435761UL))
			bad++;
		goslab_free(obj[k]);
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "objects overwritten by others");
	goslab_expect_consistent(test);
	vfree(obj);
	vfree(size);
	vfree(perm);
}

static void malloc_many_lifo_test(struct kunit *test)
{
	many_objects(test, FREE_LIFO);
}

static void malloc_many_fifo_test(struct kunit *test)
{
	many_objects(test, FREE_FIFO);
}

static void malloc_many_random_test(struct kunit *test)
{
	many_objects(test, FREE_RANDOM);
}

static void malloc_realloc_test(struct kunit *test)
{
	u8 *p, *q;
	size_t i;

	/* Held by KUnit (goslab_test_realloc()): a failed assertion frees. */
	p = goslab_test_realloc(test, NULL, 20, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, goslab_usable_size(p), 24);
	for (i = 0; i < 20; i++)
		p[i] = i;
	/* Fits: the same object. */
	KUNIT_EXPECT_PTR_EQ(test, goslab_test_realloc(test, p, 24, GFP_KERNEL),
			    p);
	/* Grows: moved, contents kept, new bytes zero with __GFP_ZERO. */
	q = goslab_test_realloc(test, p, 5000, GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_PTR_NE(test, q, p);
	for (i = 0; i < 20; i++)
		KUNIT_EXPECT_EQ(test, q[i], i);
	KUNIT_EXPECT_NULL(test, memchr_inv(q + 24, 0, 5000 - 24));
	goslab_test_free(test, q);
	/*
	 * Shrunk to 5 bytes, then grown: krealloc()'s contract keeps the
	 * lesser of the old and new sizes, 5 bytes (with KASAN only those
	 * are the caller's and copied).
	 */
	p = goslab_test_realloc(test, NULL, 20, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	for (i = 0; i < 20; i++)
		p[i] = i;
	KUNIT_EXPECT_PTR_EQ(test, goslab_test_realloc(test, p, 5, GFP_KERNEL),
			    p);
	q = goslab_test_realloc(test, p, 5000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_EQ(test, q[i], i);
	goslab_test_free(test, q);
	q = goslab_test_realloc(test, goslab_test_alloc(test, 5000, GFP_KERNEL),
				4000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	for (i = 0; i < 20; i++)
		q[i] = i;
	/* To a large object and back. */
	p = goslab_test_realloc(test, q, 1 << 20, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	for (i = 0; i < 20; i++)
		KUNIT_EXPECT_EQ(test, p[i], i);
	/* Size 0 frees, and returns krealloc()'s ZERO_SIZE_PTR. */
	KUNIT_EXPECT_PTR_EQ(test, goslab_test_realloc(test, p, 0, GFP_KERNEL),
			    ZERO_SIZE_PTR);
	goslab_expect_consistent(test);
}

/* Injected page failures give NULL, leak nothing, and pass. */
static void malloc_page_failure_test(struct kunit *test)
{
	unsigned long before, after;
	void *small, *large;

	goslab_shrink();
	held_pages(&before);
	WRITE_ONCE(goslab_fail_page_alloc_nth, 1);
	small = goslab_alloc(3000, GFP_KERNEL | __GFP_NOWARN);
	large = goslab_alloc(200000, GFP_KERNEL | __GFP_NOWARN);
	WRITE_ONCE(goslab_fail_page_alloc_nth, 0);
	KUNIT_EXPECT_NULL(test, small);
	KUNIT_EXPECT_NULL(test, large);
	held_pages(&after);
	KUNIT_EXPECT_EQ(test, after, before);
	goslab_expect_consistent(test);

	/* Every other page allocation fails: whatever succeeds is sound. */
	WRITE_ONCE(goslab_fail_page_alloc_nth, 2);
	small = goslab_alloc(3000, GFP_KERNEL | __GFP_NOWARN);
	large = goslab_alloc(200000, GFP_KERNEL | __GFP_NOWARN);
	WRITE_ONCE(goslab_fail_page_alloc_nth, 0);
	goslab_free(small);
	goslab_free(large);
	goslab_shrink();
	held_pages(&after);
	KUNIT_EXPECT_EQ(test, after, before);
	goslab_expect_consistent(test);
}

/*
 * __GFP_NOFAIL never gives NULL: the first page allocation of each fresh
 * span fails (injected), goslab retries.
 */
static void malloc_nofail_test(struct kunit *test)
{
	static const unsigned int sizes[] = { 3000, 6000, 20000, 200000 };
	long injected = atomic_long_read(&goslab_injected_failures);
	void *p[ARRAY_SIZE(sizes)];
	unsigned int i;

	goslab_shrink();
	WRITE_ONCE(goslab_fail_page_alloc_nth, 1);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		p[i] = goslab_alloc(sizes[i], GFP_KERNEL | __GFP_NOFAIL);
	WRITE_ONCE(goslab_fail_page_alloc_nth, 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&goslab_injected_failures),
			injected);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		KUNIT_EXPECT_NOT_NULL_MSG(test, p[i], "size %u", sizes[i]);
		if (p[i])
			memset(p[i], 0x5a, sizes[i]);
		goslab_free(p[i]);
	}
	goslab_expect_consistent(test);
}

/*
 * The caller's gfp flags reach the page allocator only for how hard to
 * try: a compound or movable page would break the heap; DMA zones are
 * refused, not silently ignored.
 */
static void malloc_gfp_filter_test(struct kunit *test)
{
	static const gfp_t extra[] = { __GFP_COMP, __GFP_MOVABLE,
				       __GFP_ACCOUNT, __GFP_HIGHMEM,
				       __GFP_ZERO };
	unsigned int i;
	void *p;

	for (i = 0; i < ARRAY_SIZE(extra); i++) {
		goslab_shrink();
		p = goslab_alloc(5000, GFP_KERNEL | extra[i]);
		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_EXPECT_FALSE_MSG(test, PageCompound(virt_to_page(p)),
				       "gfp %#x", extra[i]);
		memset(p, 0x33, 5000);
		goslab_free(p);
		p = goslab_alloc(100000, GFP_KERNEL | extra[i]);
		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_EXPECT_FALSE_MSG(test, PageCompound(virt_to_page(p)),
				       "gfp %#x", extra[i]);
		goslab_free(p);
		goslab_shrink();
		goslab_expect_consistent(test);
	}
	KUNIT_EXPECT_NULL(test, goslab_alloc(64, GFP_KERNEL | GFP_DMA));
	KUNIT_EXPECT_NULL(test, goslab_alloc(64, GFP_KERNEL | GFP_DMA32));
	KUNIT_EXPECT_NULL(test, goslab_alloc(100000, GFP_KERNEL | GFP_DMA));
	goslab_expect_consistent(test);
}

/*
 * A stale pointer (a freed object, or a pinned slot whose page went back)
 * has no usable size, and realloc refuses it: neither may write into the
 * slot (a pinned slot's page is the page allocator's).
 */
static void malloc_stale_pointer_test(struct kunit *test)
{
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	struct goslab_cache *c = goslab_test_cache_create(test, "kunit-stale",
							  24, NULL, 0);
	unsigned int i, nelems;
	void **obj, *released, *freed;

	KUNIT_ASSERT_NOT_NULL(test, c);
	nelems = goslab_cache_class(c)->nelems;
	obj = goslab_test_objs(test, nelems);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	migrate_disable();
	for (i = 0; i < nelems; i++)
		obj[i] = goslab_cache_alloc(c, GFP_KERNEL);
	migrate_enable();
	for (i = 0; i < nelems; i++)
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	/* The stale pointers; their array entries go (KUnit frees the rest). */
	released = obj[200];
	freed = obj[5];
	/* Slots 170 on lie on the span's second kernel page: it goes back. */
	for (i = 170; i < nelems; i++) {
		goslab_cache_free(c, obj[i]);
		obj[i] = NULL;
	}
	goslab_cache_free(c, obj[5]);
	obj[5] = NULL;
	goslab_cache_shrink(c);
	KUNIT_ASSERT_TRUE(test, goslab_test_on_released_page(released));
	KUNIT_EXPECT_EQ(test, goslab_usable_size(released), 0);
	KUNIT_EXPECT_NULL(test, goslab_realloc(released, 8,
					       GFP_KERNEL | __GFP_ZERO));
	KUNIT_EXPECT_EQ(test, goslab_usable_size(freed), 0);
	KUNIT_EXPECT_NULL(test, goslab_realloc(freed, 8, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 4);
	goslab_expect_consistent(test);
	for (i = 0; i < 170; i++) {
		if (i != 5)
			goslab_cache_free(c, obj[i]);
		obj[i] = NULL;
	}
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

/* Count how often @p comes back in the next @n allocations of @size. */
static unsigned int times_handed_out(struct kunit *test, void *p,
				     size_t size, unsigned int n)
{
	unsigned int i, seen = 0;
	void **obj = kcalloc(n, sizeof(*obj), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, obj);
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(size, GFP_KERNEL);
		seen += obj[i] == p;
	}
	for (i = 0; i < n; i++)
		goslab_free(obj[i]);
	kfree(obj);
	return seen;
}

/* Double, interior and foreign frees: reported, counted, ignored. */
static void malloc_misuse_test(struct kunit *test)
{
	unsigned long foreign = goslab_error_count(GOSLAB_ERR_FOREIGN);
	unsigned long interior = goslab_error_count(GOSLAB_ERR_INTERIOR);
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	void *k = kmalloc(64, GFP_KERNEL);
	void *v = vmalloc(PAGE_SIZE);
	unsigned long on_stack[4];
	void *p, *big, *keep;

	KUNIT_ASSERT_NOT_NULL(test, k);
	KUNIT_ASSERT_NOT_NULL(test, v);

	p = goslab_alloc(64, GFP_KERNEL);
	/* Held across the assertions below: KUnit frees it if one fails. */
	keep = goslab_test_alloc(test, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	goslab_free(p + 8);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_INTERIOR),
			interior + 1);
	goslab_free(p);
	goslab_free(p);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 1);
	goslab_expect_consistent(test);
	/* The double free did not put the object in twice. */
	goslab_shrink();
	KUNIT_EXPECT_LE(test, times_handed_out(test, p, 64, 1000), 1);
	goslab_expect_consistent(test);

	goslab_free(k);
	goslab_free(v);
	goslab_free(on_stack);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_FOREIGN),
			foreign + 3);
	KUNIT_EXPECT_EQ(test, goslab_usable_size(k), 0);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_FOREIGN),
			foreign + 4);

	big = goslab_alloc(100000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, big);
	goslab_free(big + 4096);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_INTERIOR),
			interior + 2);
	goslab_free(big);
	/* The span is gone: a second free is not memory goslab holds. */
	goslab_free(big);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_FOREIGN) +
			goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			foreign + 4 + dbl + 2);
	goslab_test_free(test, keep);
	goslab_expect_consistent(test);
	vfree(v);
	kfree(k);
}

/*
 * Shrink gives back the kernel pages of spans in use that hold no object
 * (a goslab page is two kernel pages); their slots are never handed out
 * again, and freeing one of them is a double free.
 */
static void malloc_scavenge_span_pages_test(struct kunit *test)
{
	const unsigned int nspans = 4, per_span = 32, n = nspans * per_span;
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	unsigned long before, after, gone[4];
	struct goslab_heap_stats st;
	unsigned int i, j, ngone = 0, bad = 0;
	void **obj, **more;

	obj = goslab_test_objs(test, n);
	more = goslab_test_objs(test, 4 * n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_ASSERT_NOT_NULL(test, more);
	goslab_shrink();
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(256, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	/* Free every object on the first kernel page of each span. */
	for (i = 0; i < n; i++) {
		struct mspan *s = mheap_span_of(obj[i]);

		KUNIT_ASSERT_NOT_NULL(test, s);
		if ((unsigned long)obj[i] - s->base >= PAGE_SIZE)
			continue;
		if (ngone < ARRAY_SIZE(gone) &&
		    (ngone == 0 || gone[ngone - 1] != s->base))
			gone[ngone++] = s->base;
		goslab_free(obj[i]);
		obj[i] = NULL;
	}
	goslab_shrink();
	mheap_read_stats(&st);
	before = st.kpages_span_released;
	KUNIT_EXPECT_GE(test, before, ngone);
	goslab_expect_consistent(test);

	/* Nothing is handed out on a page that went back. */
	for (i = 0; i < 4 * n; i++) {
		more[i] = goslab_alloc(256, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, more[i]);
		for (j = 0; j < ngone; j++)
			bad += (unsigned long)more[i] - gone[j] < PAGE_SIZE;
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "object handed out on a page given back");
	/* Freeing an object that was on such a page is a double free. */
	goslab_free((void *)gone[0]);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 1);
	goslab_expect_consistent(test);

	goslab_test_free_objs(obj, n);
	goslab_test_free_objs(more, 4 * n);
	goslab_shrink();
	held_pages(&after);
	mheap_read_stats(&st);
	KUNIT_EXPECT_EQ(test, st.kpages_span_released, 0);
	KUNIT_EXPECT_EQ(test, st.kpages_taken, st.kpages_returned);
	KUNIT_EXPECT_EQ(test, after, 0);
	goslab_expect_consistent(test);
}

/* After everything is freed and shrunk, every kernel page went back. */
static void malloc_shrink_returns_everything_test(struct kunit *test)
{
	unsigned long n = scaled(20000), i, held;
	struct goslab_heap_stats st;
	void **obj;

	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(8 << (i % 13), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	held_pages(&held);
	KUNIT_EXPECT_GT(test, held, 0);
	goslab_test_free_objs(obj, n);
	goslab_shrink();
	mheap_read_stats(&st);
	kunit_info(test, "took %lu kernel pages, gave back %lu\n",
		   st.kpages_taken, st.kpages_returned);
	KUNIT_EXPECT_EQ(test, st.kpages_taken, st.kpages_returned);
	KUNIT_EXPECT_EQ(test, st.chunks, 0);
	KUNIT_EXPECT_EQ(test, st.pages_total, 0);
	goslab_expect_consistent(test);
}

static int cmp_ptr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* No live object is ever handed out twice, whatever came before. */
static void expect_distinct(struct kunit *test, void **obj, unsigned int n)
{
	void **sorted = kmemdup(obj, n * sizeof(*obj), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, sorted);
	sort(sorted, n, sizeof(*sorted), cmp_ptr, NULL);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_PTR_NE_MSG(test, sorted[i], sorted[i - 1],
					"object handed out twice");
	kfree(sorted);
}

/* Rounds of alloc N then free N (in order and shuffled), as benchmarks do. */
static void malloc_rounds_test(struct kunit *test)
{
	static const size_t sizes[] = { 64, 256, 1024, 256 };
	const unsigned int n = 50;
	unsigned int s, round, i;
	struct rnd_state seed = goslab_test_rnd(5);
	void **obj = goslab_test_objs(test, n);
	u8 perm[50];
	unsigned long errors = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);

	KUNIT_ASSERT_NOT_NULL(test, obj);
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		for (round = 0; round < 12; round++) {
			for (i = 0; i < n; i++) {
				obj[i] = goslab_alloc(sizes[s], GFP_KERNEL);
				KUNIT_ASSERT_NOT_NULL(test, obj[i]);
				perm[i] = i;
			}
			expect_distinct(test, obj, n);
			for (i = n - 1; round & 1 && i > 0; i--) {
				unsigned int j = prandom_u32_state(&seed) % (i + 1);

				swap(perm[i], perm[j]);
			}
			for (i = 0; i < n; i++) {
				goslab_free(obj[perm[i]]);
				obj[perm[i]] = NULL;
			}
			goslab_expect_consistent(test);
		}
	}
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			errors);
}

static struct kunit_case malloc_cases[] = {
	KUNIT_CASE(malloc_rounds_test),
	KUNIT_CASE(malloc_every_small_size_test),
	KUNIT_CASE(malloc_pow2_alignment_test),
	KUNIT_CASE(malloc_kmalloc_alignment_test),
	KUNIT_CASE(malloc_large_test),
	KUNIT_CASE(malloc_zero_test),
	KUNIT_CASE(malloc_slab_h_contracts_test),
	KUNIT_CASE_SLOW(malloc_many_lifo_test),
	KUNIT_CASE_SLOW(malloc_many_fifo_test),
	KUNIT_CASE_SLOW(malloc_many_random_test),
	KUNIT_CASE(malloc_realloc_test),
	KUNIT_CASE(malloc_page_failure_test),
	KUNIT_CASE(malloc_nofail_test),
	KUNIT_CASE(malloc_gfp_filter_test),
	KUNIT_CASE(malloc_stale_pointer_test),
	KUNIT_CASE(malloc_misuse_test),
	KUNIT_CASE(malloc_scavenge_span_pages_test),
	KUNIT_CASE(malloc_shrink_returns_everything_test),
	{}
};

static struct kunit_suite malloc_suite = {
	.name = "goslab_malloc",
	.init = goslab_test_pause_bg,
	.exit = goslab_test_resume_bg,
	.test_cases = malloc_cases,
};

kunit_test_suite(malloc_suite);

MODULE_DESCRIPTION("KUnit tests for goslab_alloc() and friends");
