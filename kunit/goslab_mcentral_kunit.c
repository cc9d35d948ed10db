// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_mcentral: a span's trip between mcentral's lists, lazy sweeping
 * of freed spans before growth, and giving empty spans back.
 *
 * The suite drives the 27264-byte class (3 objects per 10-page span),
 * which nothing else in the kernel uses, through the mcentral calls the
 * mcache makes, holding IRQs off where an mcache would.
 */
#include <linux/delay.h>
#include <linux/slab.h>
#include "goslab_test.h"

#define TEST_SIZE	27264

static struct goslab_class *test_class(void)
{
	return &goslab_classes[goslab_span_class(goslab_size_to_class(TEST_SIZE),
						 false)];
}

/* Start from a class with no span at all. */
static void empty_class(struct kunit *test, struct goslab_class *cls)
{
	mcache_flush_class(cls);
	mcentral_shrink(cls);
	KUNIT_ASSERT_EQ(test, cls->central.nspans, 0);
}

static void *own_alloc(struct mspan *s)
{
	unsigned long flags;
	void *p;

	goslab_test_cpu_lock(&flags);
	p = mspan_next_free_fast(s) ?: mspan_next_free(s);
	/* Counted as an mcache would, so that the statistics add up. */
	if (p)
		this_cpu_inc(s->cls->slot->nmalloc);
	goslab_test_cpu_unlock(&flags);
	return p;
}

static void own_free(struct goslab_class *cls, struct mspan *s, void *p)
{
	int r = mspan_free_index(s, mspan_obj_index(s, (unsigned long)p));

	if (r >= 0)
		this_cpu_inc(cls->slot->nfree);
	if (r > 0)
		mcentral_note_free(cls, s);
}

static struct mspan *cache_span(struct goslab_class *cls)
{
	unsigned long flags;
	struct mspan *s;

	goslab_test_cpu_lock(&flags);
	s = mcentral_cache_span(cls, NULL);
	goslab_test_cpu_unlock(&flags);
	return s;
}

static void uncache_span(struct goslab_class *cls, struct mspan *s)
{
	unsigned long flags;

	goslab_test_cpu_lock(&flags);
	mcentral_uncache_span(cls, s);
	goslab_test_cpu_unlock(&flags);
}

/* grow -> full -> a free makes it unswept -> cache_span sweeps it. */
static void mcentral_span_lifecycle_test(struct kunit *test)
{
	struct goslab_class *cls = test_class();
	void *obj[3];
	struct mspan *s;
	unsigned int i;

	empty_class(test, cls);
	KUNIT_EXPECT_NULL(test, cache_span(cls));
	s = mcentral_grow(cls, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, s->state, MSPAN_CACHED);
	KUNIT_EXPECT_EQ(test, s->nelems, 3);
	KUNIT_EXPECT_EQ(test, cls->central.nspans, 1);
	for (i = 0; i < 3; i++) {
		obj[i] = own_alloc(s);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	KUNIT_EXPECT_NULL(test, own_alloc(s));
	uncache_span(cls, s);
	KUNIT_EXPECT_EQ(test, s->state, MSPAN_FULL);
	KUNIT_EXPECT_TRUE(test, mcentral_is_valid(cls));
	KUNIT_EXPECT_NULL(test, cache_span(cls));

	own_free(cls, s, obj[1]);
	KUNIT_EXPECT_EQ(test, s->state, MSPAN_UNSWEPT);
	KUNIT_EXPECT_TRUE(test, mcentral_is_valid(cls));

	KUNIT_EXPECT_PTR_EQ(test, cache_span(cls), s);
	KUNIT_EXPECT_EQ(test, s->state, MSPAN_CACHED);
	KUNIT_EXPECT_EQ(test, mspan_alloc_count(s), 2);
	KUNIT_EXPECT_PTR_EQ(test, own_alloc(s), obj[1]);
	KUNIT_EXPECT_NULL(test, own_alloc(s));
	uncache_span(cls, s);

	for (i = 0; i < 3; i++)
		own_free(cls, s, obj[i]);
	KUNIT_EXPECT_EQ(test, s->state, MSPAN_UNSWEPT);
	KUNIT_EXPECT_TRUE(test, mcentral_is_valid(cls));
	mcentral_shrink(cls);
	KUNIT_EXPECT_EQ(test, cls->central.nspans, 0);
	KUNIT_EXPECT_TRUE(test, mcentral_is_valid(cls));
	goslab_expect_consistent(test);
}

/* A span sweeping to empty is kept (one), the next goes back to mheap. */
static void mcentral_keep_empty_test(struct kunit *test)
{
	struct goslab_class *cls = test_class();
	struct mspan *a, *b;
	void *pa, *pb;

	/* The default, whatever goslab was loaded with. */
	goslab_test_pin_tunable(test, &goslab_keep_empty, 1);
	empty_class(test, cls);
	a = mcentral_grow(cls, GFP_KERNEL);
	b = mcentral_grow(cls, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	pa = own_alloc(a);
	pb = own_alloc(b);
	own_free(cls, a, pa);
	own_free(cls, b, pb);
	uncache_span(cls, a);
	KUNIT_EXPECT_EQ(test, a->state, MSPAN_PARTIAL);
	KUNIT_EXPECT_EQ(test, cls->central.nempty, 1);
	uncache_span(cls, b);
	KUNIT_EXPECT_EQ(test, cls->central.nspans, 1);
	KUNIT_EXPECT_EQ(test, cls->central.nrelease > 0, true);
	KUNIT_EXPECT_TRUE(test, mcentral_is_valid(cls));
	mcentral_shrink(cls);
	KUNIT_EXPECT_EQ(test, cls->central.nspans, 0);
	goslab_expect_consistent(test);
}

/* Freed slots in full spans are swept and reused before the heap grows. */
static void mcentral_reuse_before_grow_test(struct kunit *test)
{
	struct goslab_class *cls = test_class();
	const unsigned int nspans = 20, n = nspans * 3;
	unsigned long ngrow;
	void **obj;
	unsigned int i;

	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	empty_class(test, cls);
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(TEST_SIZE, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	mcache_flush_class(cls);
	KUNIT_EXPECT_EQ(test, cls->central.nspans, nspans);
	/* One object out of every span. */
	for (i = 0; i < n; i += 3) {
		goslab_free(obj[i]);
		obj[i] = NULL;
	}
	ngrow = cls->central.ngrow;
	for (i = 0; i < n; i += 3) {
		obj[i] = goslab_alloc(TEST_SIZE, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	KUNIT_EXPECT_EQ(test, cls->central.ngrow, ngrow);
	KUNIT_EXPECT_EQ(test, cls->central.nspans, nspans);
	goslab_expect_consistent(test);
	goslab_test_free_objs(obj, n);
	goslab_shrink();
	KUNIT_EXPECT_EQ(test, cls->central.nspans, 0);
	goslab_expect_consistent(test);
}

static unsigned long class_refills(struct goslab_class *cls)
{
	unsigned long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += per_cpu_ptr(cls->slot, cpu)->nrefill;
	return n;
}

/*
 * Steady churn over a full class: each free lands in a random span, each
 * allocation follows one. Refilling from the unswept span at the head of
 * the line would sweep a span (under the class lock) for about one
 * object per allocation; the class grows instead, by at most 1/32 of its
 * spans, so that spans collect frees before they are swept.
 */
static void mcentral_churn_grows_a_little_test(struct kunit *test)
{
	const unsigned int nspans = 64, ops = 20000;
	struct goslab_cache *c;
	struct goslab_class *cls;
	unsigned long refills, spans, filled;
	struct rnd_state rnd = goslab_test_rnd(16);
	unsigned int n, i;
	void **obj;

	c = goslab_test_cache_create(test, "kunit-churn", 64, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	cls = goslab_cache_class(c);
	n = nspans * cls->nelems;
	KUNIT_ASSERT_GE(test, cls->nelems, GOSLAB_CHURN_MIN_OBJS);
	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	/*
	 * No background sweep: it sweeps the whole line 100 ms after a
	 * first free, which makes the count of refills depend on timing
	 * (make bench measures the churn with it running).
	 */
	goslab_test_bg_pause(test);
	for (i = 0; i < n; i++) {
		obj[i] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	/* A CPU the case moved away from may cache a span of its own. */
	filled = cls->central.nspans;
	KUNIT_EXPECT_LE(test, filled - nspans, num_possible_cpus());
	KUNIT_EXPECT_EQ(test, cls->central.nchurn_grow, 0);
	refills = class_refills(cls);
	for (i = 0; i < ops; i++) {
		unsigned int k = prandom_u32_state(&rnd) % n;

		goslab_cache_free(c, obj[k]);
		obj[k] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[k]);
	}
	refills = class_refills(cls) - refills;
	spans = cls->central.nspans;
	/* Without the growth: about 0.9 refills per allocation. */
	KUNIT_EXPECT_LT_MSG(test, refills * 4, ops, "%lu refills", refills);
	KUNIT_EXPECT_GT(test, cls->central.nchurn_grow, 0);
	KUNIT_EXPECT_LE(test, spans - filled,
			DIV_ROUND_UP(spans, GOSLAB_CHURN_SHARE));
	KUNIT_EXPECT_EQ(test, cls->central.nchurn_grow, spans - filled);
	goslab_expect_consistent(test);
	goslab_test_bg_resume(test);
	goslab_test_free_objs(obj, n);
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

static unsigned int unswept_spans(struct goslab_class *cls)
{
	struct mcentral *c = &cls->central;
	struct list_head *pos;
	unsigned int n = 0;
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	list_for_each(pos, &c->partial_unswept)
		n++;
	list_for_each(pos, &c->full_unswept)
		n++;
	spin_unlock_irqrestore(&c->lock, flags);
	return n;
}

/*
 * The background sweeper leaves a poor span of a churning class that
 * joined the unswept line less than goslab_bg_delay() ago (it is waiting to
 * collect frees), and sweeps it once older; every other caller sweeps it
 * at once.
 */
static void mcentral_bg_leaves_young_poor_span_test(struct kunit *test)
{
	const unsigned int nspans = GOSLAB_CHURN_MIN_SPANS + 4;
	struct goslab_cache *c;
	struct goslab_class *cls;
	bool waiting = false;
	unsigned long start, swept;
	unsigned int n, i;
	void **obj;

	c = goslab_test_cache_create(test, "kunit-bg-wait", 64, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	cls = goslab_cache_class(c);
	n = nspans * cls->nelems;
	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	goslab_test_bg_pause(test);
	for (i = 0; i < n; i++) {
		obj[i] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	/* One free in each of the first two spans (full, cached by none). */
	start = jiffies;
	for (i = 0; i < 2; i++) {
		goslab_cache_free(c, obj[i * cls->nelems]);
		obj[i * cls->nelems] = NULL;
	}
	KUNIT_ASSERT_EQ(test, unswept_spans(cls), 2);
	swept = mcentral_sweepone(cls, &waiting);
	/* A machine too loaded to look within goslab_bg_delay() proves nothing. */
	if (!waiting && time_after_eq(jiffies, start + goslab_bg_delay()))
		kunit_skip(test, "the spans were older than goslab_bg_delay()");
	KUNIT_EXPECT_EQ(test, swept, 0);
	KUNIT_EXPECT_TRUE(test, waiting);
	KUNIT_EXPECT_EQ(test, unswept_spans(cls), 2);
	/* Anyone else sweeps it now. */
	KUNIT_EXPECT_EQ(test, mcentral_sweepone(cls, NULL), cls->npages);
	msleep(READ_ONCE(goslab_bg_delay_ms) + 20);
	waiting = false;
	KUNIT_EXPECT_EQ(test, mcentral_sweepone(cls, &waiting), cls->npages);
	KUNIT_EXPECT_FALSE(test, waiting);
	KUNIT_EXPECT_EQ(test, unswept_spans(cls), 0);
	goslab_expect_consistent(test);
	goslab_test_bg_resume(test);
	goslab_test_free_objs(obj, n);
	goslab_test_cache_destroy(test, c);
}

static struct kunit_case mcentral_cases[] = {
	KUNIT_CASE(mcentral_span_lifecycle_test),
	KUNIT_CASE(mcentral_keep_empty_test),
	KUNIT_CASE(mcentral_reuse_before_grow_test),
	KUNIT_CASE(mcentral_churn_grows_a_little_test),
	KUNIT_CASE(mcentral_bg_leaves_young_poor_span_test),
	{}
};

static struct kunit_suite mcentral_suite = {
	.name = "goslab_mcentral",
	.init = goslab_test_pause_bg,
	.exit = goslab_test_resume_bg,
	.test_cases = mcentral_cases,
};

kunit_test_suite(mcentral_suite);

MODULE_DESCRIPTION("KUnit tests for goslab's mcentral");
