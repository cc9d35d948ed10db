// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_mspan: Go's nextFreeFast and nextFreeIndex on spans of chosen
 * geometry, frees and the sweep. The spans here are descriptors over a
 * made-up base address: the span code computes addresses and never
 * touches the objects.
 */
#include <linux/slab.h>
#include "goslab_test.h"

#define FAKE_BASE	0x40000000UL
#define ELEM		16

static struct mspan *test_span(struct kunit *test, unsigned int nelems)
{
	struct mspan *s = kunit_kzalloc(test, mspan_desc_size(nelems),
					GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	mspan_init(s, FAKE_BASE, DIV_ROUND_UP(nelems * ELEM, GOSLAB_PAGE_SIZE),
		   ELEM, nelems);
	return s;
}

static unsigned int slot_of(void *p)
{
	return ((unsigned long)p - FAKE_BASE) / ELEM;
}

/* Allocate like mcache_next_free() does, and note which path gave it. */
static void *span_alloc(struct mspan *s, bool *fast)
{
	void *p = mspan_next_free_fast(s);

	*fast = !!p;
	return p ?: mspan_next_free(s);
}

/*
 * Fill a span of @nelems and check the window rule: the fast path gives
 * up exactly when a 64-slot window is used up, and the slow path moves
 * the window on (the first slot of every window but the first comes
 * from it).
 */
static void fill_and_check(struct kunit *test, unsigned int nelems)
{
	struct mspan *s = test_span(test, nelems);
	unsigned int i;
	bool fast;

	for (i = 0; i < nelems; i++) {
		void *p = span_alloc(s, &fast);
		bool boundary = i % 64 == 0 && i;

		KUNIT_ASSERT_NOT_NULL_MSG(test, p, "nelems %u slot %u",
					  nelems, i);
		KUNIT_EXPECT_EQ_MSG(test, slot_of(p), i, "nelems %u", nelems);
		KUNIT_EXPECT_EQ_MSG(test, fast, !boundary,
				    "nelems %u slot %u: fast path %s", nelems, i,
				    fast ? "crossed a window" : "gave up early");
		KUNIT_EXPECT_EQ(test, mspan_alloc_count(s), i + 1);
		KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));
	}
	KUNIT_EXPECT_NULL(test, mspan_next_free_fast(s));
	KUNIT_EXPECT_NULL(test, mspan_next_free(s));
	KUNIT_EXPECT_EQ(test, s->freeindex, nelems);
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));
}

static void mspan_one_object_test(struct kunit *test)
{
	fill_and_check(test, 1);
}

static void mspan_64_objects_test(struct kunit *test)
{
	fill_and_check(test, 64);
}

static void mspan_65_objects_test(struct kunit *test)
{
	fill_and_check(test, 65);
}

static void mspan_window_boundaries_test(struct kunit *test)
{
	fill_and_check(test, 63);
	fill_and_check(test, 127);
	fill_and_check(test, 128);
	fill_and_check(test, 129);
	fill_and_check(test, 341);
	fill_and_check(test, GOSLAB_MAX_NELEMS);
}

/* Frees are invisible until the sweep, which hands back exactly them. */
static void mspan_free_and_sweep_test(struct kunit *test)
{
	const unsigned int n = 300;
	struct mspan *s = test_span(test, n);
	unsigned int i, freed = 0;
	bool fast;

	for (i = 0; i < n; i++)
		KUNIT_ASSERT_NOT_NULL(test, span_alloc(s, &fast));
	for (i = 0; i < n; i += 3) {
		int first = !freed;

		KUNIT_EXPECT_EQ(test, mspan_free_index(s, i), first);
		freed++;
	}
	KUNIT_EXPECT_EQ(test, s->nfreed, freed);
	KUNIT_EXPECT_EQ(test, mspan_live(s), n - freed);
	KUNIT_EXPECT_NULL(test, span_alloc(s, &fast));
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));

	KUNIT_EXPECT_EQ(test, mspan_sweep(s, NULL), freed);
	KUNIT_EXPECT_EQ(test, mspan_alloc_count(s), n - freed);
	KUNIT_EXPECT_EQ(test, s->nfreed, 0);
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));

	for (i = 0; i < n; i += 3) {
		void *p = span_alloc(s, &fast);

		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_EXPECT_EQ(test, slot_of(p), i);
	}
	KUNIT_EXPECT_NULL(test, span_alloc(s, &fast));
	KUNIT_EXPECT_EQ(test, mspan_alloc_count(s), n);
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));
}

/* A double free and a free of a slot never handed out are refused. */
static void mspan_double_free_test(struct kunit *test)
{
	struct mspan *s = test_span(test, 100);
	unsigned int i;
	bool fast;

	for (i = 0; i < 10; i++)
		KUNIT_ASSERT_NOT_NULL(test, span_alloc(s, &fast));
	KUNIT_EXPECT_EQ(test, mspan_free_index(s, 5), 1);
	KUNIT_EXPECT_EQ(test, mspan_free_index(s, 5), -EINVAL);
	KUNIT_EXPECT_EQ(test, mspan_free_index(s, 50), -EINVAL);
	KUNIT_EXPECT_EQ(test, s->nfreed, 1);
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));

	/* After the sweep the slot is free: freeing it again is refused. */
	KUNIT_EXPECT_EQ(test, mspan_sweep(s, NULL), 1);
	KUNIT_EXPECT_FALSE(test, mspan_is_allocated(s, 5));
	KUNIT_EXPECT_EQ(test, mspan_free_index(s, 5), -EINVAL);
	KUNIT_EXPECT_TRUE(test, mspan_is_allocated(s, 4));
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));
}

/* The owner's frees (no atomic) and other CPUs' frees, swept together. */
static void mspan_local_free_test(struct kunit *test)
{
	const unsigned int n = 200;
	struct mspan *s = test_span(test, n);
	unsigned int i, local = 0, remote = 0;
	bool fast;

	for (i = 0; i < n; i++)
		KUNIT_ASSERT_NOT_NULL(test, span_alloc(s, &fast));
	for (i = 0; i < n; i++) {
		if (i % 2 == 0) {
			KUNIT_EXPECT_EQ(test, mspan_free_index_local(s, i), 0);
			local++;
		} else if (i % 3 == 0) {
			KUNIT_EXPECT_GE(test, mspan_free_index(s, i), 0);
			remote++;
		}
	}
	/* Every mix of double frees is refused. */
	KUNIT_EXPECT_EQ(test, mspan_free_index_local(s, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, mspan_free_index_local(s, 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, mspan_free_index(s, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, s->nlocal_freed, local);
	KUNIT_EXPECT_EQ(test, s->nfreed, remote);
	KUNIT_EXPECT_EQ(test, mspan_live(s), n - local - remote);
	KUNIT_EXPECT_TRUE(test, mspan_has_frees(s));
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));

	KUNIT_EXPECT_EQ(test, mspan_sweep(s, NULL), local + remote);
	KUNIT_EXPECT_FALSE(test, mspan_has_frees(s));
	KUNIT_EXPECT_EQ(test, mspan_alloc_count(s), n - local - remote);
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));
	for (i = 0; i < local + remote; i++)
		KUNIT_EXPECT_NOT_NULL(test, span_alloc(s, &fast));
	KUNIT_EXPECT_NULL(test, span_alloc(s, &fast));
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));
}

/* Random frees across windows, swept in rounds, never hand out twice. */
static void mspan_random_rounds_test(struct kunit *test)
{
	const unsigned int n = GOSLAB_MAX_NELEMS;
	struct mspan *s = test_span(test, n);
	unsigned long *live = kunit_kcalloc(test, BITS_TO_LONGS(n),
					    sizeof(long), GFP_KERNEL);
	struct rnd_state seed = goslab_test_rnd(42);
	unsigned int round, i;
	bool fast;

	KUNIT_ASSERT_NOT_NULL(test, live);
	for (round = 0; round < 20; round++) {
		void *p;

		while ((p = span_alloc(s, &fast))) {
			unsigned int slot = slot_of(p);

			KUNIT_ASSERT_FALSE_MSG(test, test_bit(slot, live),
					       "slot %u handed out twice", slot);
			__set_bit(slot, live);
		}
		KUNIT_ASSERT_EQ(test, bitmap_weight(live, n), n);
		for (i = 0; i < n; i++) {
			if (prandom_u32_state(&seed) % 4)
				continue;
			KUNIT_ASSERT_GE(test, mspan_free_index(s, i), 0);
			__clear_bit(i, live);
		}
		KUNIT_ASSERT_TRUE(test, mspan_is_valid(s, false));
		mspan_sweep(s, NULL);
		KUNIT_ASSERT_EQ(test, mspan_alloc_count(s), bitmap_weight(live, n));
		KUNIT_ASSERT_TRUE(test, mspan_is_valid(s, true));
	}
}

/*
 * The sweep against a model, on every geometry the sweep treats apart
 * (one word of slots: 1, 2, 32, 63, 64; several: 65, 128, 200): random
 * allocations (windows left half used), local and remote frees, double
 * frees, and sweeps at random points. The sweep must hand back exactly
 * the slots freed since the last one, nothing twice.
 */
static void mspan_sweep_model_test(struct kunit *test)
{
	static const unsigned int sizes[] = { 1, 2, 32, 63, 64, 65, 128, 200 };
	struct rnd_state rnd = goslab_test_rnd(64);
	unsigned int z, round, i;

	for (z = 0; z < ARRAY_SIZE(sizes); z++) {
		const unsigned int n = sizes[z];
		struct mspan *s = test_span(test, n);
		DECLARE_BITMAP(live, 256) = { 0 };
		DECLARE_BITMAP(freed, 256) = { 0 };
		unsigned int nfreed = 0;
		bool fast;

		for (round = 0; round < 300; round++) {
			unsigned int want = prandom_u32_state(&rnd) % (n + 1);

			for (i = 0; i < want; i++) {
				void *p = span_alloc(s, &fast);
				unsigned int slot;

				if (!p)
					break;
				slot = slot_of(p);
				KUNIT_ASSERT_LT(test, slot, n);
				KUNIT_ASSERT_FALSE_MSG(test, test_bit(slot, live),
						       "%u objects: slot %u handed out twice",
						       n, slot);
				KUNIT_ASSERT_FALSE_MSG(test, test_bit(slot, freed),
						       "%u objects: slot %u reused before its sweep",
						       n, slot);
				__set_bit(slot, live);
			}
			for (i = 0; i < n; i++) {
				u32 r = prandom_u32_state(&rnd);

				if (!test_bit(i, live) || r % 3)
					continue;
				KUNIT_ASSERT_EQ(test, r & 8 ?
						mspan_free_index_local(s, i) :
						min(mspan_free_index(s, i), 0), 0);
				__clear_bit(i, live);
				__set_bit(i, freed);
				nfreed++;
			}
			/* A double free of any kind, and a never-allocated slot. */
			i = prandom_u32_state(&rnd) % n;
			if (!test_bit(i, live)) {
				KUNIT_EXPECT_EQ(test, mspan_free_index(s, i), -EINVAL);
				KUNIT_EXPECT_EQ(test, mspan_free_index_local(s, i),
						-EINVAL);
			}
			KUNIT_ASSERT_TRUE(test, mspan_is_valid(s, false));
			if (prandom_u32_state(&rnd) % 2)
				continue;
			KUNIT_ASSERT_EQ_MSG(test, mspan_sweep(s, NULL), nfreed,
					    "%u objects, round %u", n, round);
			nfreed = 0;
			bitmap_zero(freed, 256);
			KUNIT_ASSERT_EQ(test, mspan_alloc_count(s),
					bitmap_weight(live, n));
			KUNIT_ASSERT_TRUE(test, mspan_is_valid(s, true));
		}
	}
}

/*
 * A span swept while its window is half used (a span given back to
 * mcentral with free slots, then swept there): the slots handed out from
 * the window stay allocated, the ones freed come back, the ones never
 * handed out stay free, and nothing is handed out twice.
 */
static void mspan_sweep_mid_window_test(struct kunit *test)
{
	const unsigned int n = 300;
	struct mspan *s = test_span(test, n);
	DECLARE_BITMAP(live, 300) = { 0 };
	unsigned int i, want;
	bool fast;
	void *p;

	/* Into the second window, with a hole left by a later free. */
	for (i = 0; i < 100; i++) {
		p = span_alloc(s, &fast);
		KUNIT_ASSERT_NOT_NULL(test, p);
		__set_bit(slot_of(p), live);
	}
	KUNIT_EXPECT_EQ(test, s->freeindex, 64);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, mspan_is_allocated(s, i), i < 100,
				    "slot %u", i);
	/* In the window, handed out or not; below it; past it. */
	KUNIT_EXPECT_EQ(test, mspan_free_index(s, 70), 1);
	KUNIT_EXPECT_EQ(test, mspan_free_index(s, 3), 0);
	KUNIT_EXPECT_EQ(test, mspan_free_index(s, 100), -EINVAL);
	KUNIT_EXPECT_EQ(test, mspan_free_index(s, 127), -EINVAL);
	KUNIT_EXPECT_EQ(test, mspan_free_index(s, 200), -EINVAL);
	KUNIT_EXPECT_EQ(test, mspan_free_index_local(s, 99), 0);
	KUNIT_EXPECT_EQ(test, mspan_free_index_local(s, 101), -EINVAL);
	__clear_bit(70, live);
	__clear_bit(3, live);
	__clear_bit(99, live);
	KUNIT_EXPECT_EQ(test, mspan_live(s), 97);
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));

	KUNIT_EXPECT_EQ(test, mspan_sweep(s, NULL), 3);
	KUNIT_EXPECT_EQ(test, mspan_alloc_count(s), 97);
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, mspan_is_allocated(s, i),
				    test_bit(i, live), "slot %u", i);
	want = n - 97;
	for (i = 0; i < want; i++) {
		p = span_alloc(s, &fast);
		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_ASSERT_FALSE_MSG(test, test_bit(slot_of(p), live),
				       "slot %u handed out twice", slot_of(p));
		__set_bit(slot_of(p), live);
	}
	KUNIT_EXPECT_NULL(test, span_alloc(s, &fast));
	KUNIT_EXPECT_EQ(test, mspan_alloc_count(s), n);
	KUNIT_EXPECT_TRUE(test, mspan_is_valid(s, true));
}

static struct kunit_case mspan_cases[] = {
	KUNIT_CASE(mspan_one_object_test),
	KUNIT_CASE(mspan_64_objects_test),
	KUNIT_CASE(mspan_65_objects_test),
	KUNIT_CASE(mspan_window_boundaries_test),
	KUNIT_CASE(mspan_free_and_sweep_test),
	KUNIT_CASE(mspan_double_free_test),
	KUNIT_CASE(mspan_local_free_test),
	KUNIT_CASE(mspan_random_rounds_test),
	KUNIT_CASE(mspan_sweep_mid_window_test),
	KUNIT_CASE(mspan_sweep_model_test),
	{}
};

static struct kunit_suite mspan_suite = {
	.name = "goslab_mspan",
	.test_cases = mspan_cases,
};

kunit_test_suite(mspan_suite);

MODULE_DESCRIPTION("KUnit tests for goslab's spans");
