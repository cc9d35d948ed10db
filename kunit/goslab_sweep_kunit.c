// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_sweep: lazy sweeping, the sweep credit, and memory going back.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "goslab_test.h"

static unsigned int scale = 100;
module_param(scale, uint, 0444);
MODULE_PARM_DESC(scale, "percent of the full size of the big scenarios");

/*
 * The steady-churn case replaces its 20000 live objects this many times
 * in all. A quarter of it still turns each object over a dozen times;
 * the debug kernels under QEMU, which take a minute for the full count,
 * run that (make check).
 */
static unsigned long churn_ops = 1000000;
module_param(churn_ops, ulong, 0444);
MODULE_PARM_DESC(churn_ops, "objects replaced by the steady-churn case");

static unsigned long scaled(unsigned long n)
{
	return max(1UL, n * scale / 100);
}

static unsigned long kpages_taken(void)
{
	struct goslab_heap_stats st;

	mheap_read_stats(&st);
	return st.kpages_taken;
}

static void shuffle(void **obj, unsigned long n, struct rnd_state *seed)
{
	unsigned long i;

	for (i = n - 1; i > 0; i--) {
		unsigned long j = prandom_u32_state(seed) % (i + 1);

		swap(obj[i], obj[j]);
	}
}

/*
 * Fill many spans, free 90% at random, allocate the same number again:
 * the freed slots are swept and reused, no page is taken.
 */
static void sweep_reuse_before_growth_test(struct kunit *test)
{
	unsigned long n = scaled(50000), nfree = n - n / 10, i, before;
	struct rnd_state seed = goslab_test_rnd(11);
	void **obj;

	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(256, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	goslab_test_bg_pause(test);
	shuffle(obj, n, &seed);
	goslab_test_free_objs(obj, nfree);
	KUNIT_EXPECT_GT(test, atomic_long_read(&goslab_unswept_pages), 0);
	before = kpages_taken();
	for (i = 0; i < nfree; i++) {
		obj[i] = goslab_alloc(256, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	KUNIT_EXPECT_EQ(test, kpages_taken(), before);
	goslab_test_bg_resume(test);
	goslab_expect_consistent(test);
	goslab_test_free_objs(obj, n);
	goslab_shrink();
	goslab_expect_consistent(test);
}

/*
 * One class's freed memory serves another: after the 4096 B class is
 * freed entirely (its spans wait unswept), growing the 2048 B class pays
 * the sweep credit, the 4096 B spans sweep to empty and go back to mheap,
 * and the 2048 B spans are carved from them, not from new pages.
 */
static void sweep_credit_across_classes_test(struct kunit *test)
{
	unsigned long n = scaled(4000), i, before, swept;
	struct rnd_state seed = goslab_test_rnd(3);
	void **obj;

	obj = goslab_test_objs(test, 2 * n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	goslab_shrink();
	/* The unswept spans are for the credit to sweep, not the sweeper. */
	goslab_test_bg_pause(test);
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(4096, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	mcache_flush_all();
	shuffle(obj, n, &seed);
	goslab_test_free_objs(obj, n);
	KUNIT_EXPECT_GE(test, atomic_long_read(&goslab_unswept_pages),
			n / 2 - 1);
	before = kpages_taken();
	swept = goslab_test_sweep_stats().credit_pages_swept;
	for (i = 0; i < 2 * n; i++) {
		obj[i] = goslab_alloc(2048, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	kunit_info(test, "credit swept %lu pages; %lu kernel pages taken\n",
		   goslab_test_sweep_stats().credit_pages_swept - swept,
		   kpages_taken() - before);
	KUNIT_EXPECT_GT(test, goslab_test_sweep_stats().credit_pages_swept,
			swept);
	/* At most a chunk's worth of slack, not the n pages a grow takes. */
	KUNIT_EXPECT_LE(test, kpages_taken() - before, n / 8 + 16);
	goslab_test_bg_resume(test);
	goslab_expect_consistent(test);
	goslab_test_free_objs(obj, 2 * n);
	goslab_shrink();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goslab_unswept_pages), 0);
	goslab_expect_consistent(test);
}

static unsigned long kpages_held(void)
{
	struct goslab_heap_stats st;

	mheap_read_stats(&st);
	return st.kpages_taken - st.kpages_returned;
}

/*
 * Frees and nothing else: the background sweeper sweeps the spans, sends
 * the empty ones to mheap, and the scavenger gives the heap's free pages
 * back down to its retained goal, with no allocation to pay credit.
 */
static void sweep_background_test(struct kunit *test)
{
	unsigned int spc = goslab_span_class(goslab_size_to_class(512), false);
	struct goslab_class *cls = &goslab_classes[spc];
	unsigned long n = scaled(8000), i, swept, released, swept2, released2;
	struct goslab_heap_stats st;
	void **obj;

	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	goslab_shrink();
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(512, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	mcache_flush_all();
	swept = goslab_test_sweep_stats().bg_pages_swept;
	released = goslab_test_sweep_stats().bg_kpages_released;
	goslab_test_free_objs(obj, n);
	goslab_bg_flush();
	swept2 = goslab_test_sweep_stats().bg_pages_swept;
	released2 = goslab_test_sweep_stats().bg_kpages_released;
	mheap_read_stats(&st);
	kunit_info(test, "background: swept %lu pages, gave back %lu kernel pages; %lu free pages kept (goal %lu)\n",
		   swept2 - swept, released2 - released, st.pages_free,
		   mheap_retained_goal());
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goslab_unswept_pages), 0);
	KUNIT_EXPECT_GT(test, swept2, swept);
	KUNIT_EXPECT_GT(test, released2, released);
	KUNIT_EXPECT_LE(test, cls->central.nspans,
			READ_ONCE(goslab_keep_empty));
	KUNIT_EXPECT_LE(test, st.pages_free, mheap_retained_goal());
	goslab_expect_consistent(test);
}

/* The shrinker's count is what its scan can give back. */
static void sweep_shrinker_test(struct kunit *test)
{
	unsigned long n = scaled(4000), i, count, got, before;
	void **obj;

	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	goslab_test_bg_pause(test);
	goslab_shrink();
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(1024, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	mcache_flush_all();
	goslab_test_free_objs(obj, n);
	/* Sweep, so that the freed spans are empty and counted. */
	while (goslab_sweepone())
		;
	before = kpages_held();
	count = goslab_shrinker_count();
	KUNIT_EXPECT_GT(test, count, 0);
	got = goslab_shrinker_scan(count);
	kunit_info(test, "shrinker: counted %lu kernel pages, gave back %lu\n",
		   count, got);
	KUNIT_EXPECT_GE(test, got, count);
	KUNIT_EXPECT_EQ(test, kpages_held(), before - got);
	KUNIT_EXPECT_EQ(test, goslab_shrinker_count(), 0);
	goslab_test_bg_resume(test);
	goslab_expect_consistent(test);
}

/*
 * The OOM notifier's shrink gives back everything goslab caches, whatever
 * the tunables keep: unswept spans are swept, empty spans released, free
 * heap pages returned; live objects are untouched.
 */
static void sweep_oom_test(struct kunit *test)
{
	unsigned long n = scaled(4000), i, got, before, calls;
	struct goslab_sweep_stats st;
	void **obj;

	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	goslab_test_bg_pause(test);
	goslab_test_pin_tunable(test, &goslab_retain_percent, 100);
	goslab_test_pin_tunable(test, &goslab_keep_empty, 64);
	goslab_shrink();
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(1024, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
		memset(obj[i], i & 0xff, 1024);
	}
	mcache_flush_all();
	/* The first half freed and left unswept; the second half live. */
	for (i = 0; i < n / 2; i++) {
		goslab_free(obj[i]);
		obj[i] = NULL;
	}
	KUNIT_EXPECT_GT(test, atomic_long_read(&goslab_unswept_pages), 0);
	calls = goslab_test_sweep_stats().oom_calls;
	before = kpages_held();
	got = goslab_oom_release();
	kunit_info(test, "OOM notifier: gave back %lu kernel pages of %lu\n",
		   got, before);
	/* Spans of 8 objects: all but the two at the ends emptied. */
	KUNIT_EXPECT_GE(test, got,
			(n / 2 / 8 - 2) * 1024 * 8 / PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, kpages_held(), before - got);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goslab_unswept_pages), 0);
	KUNIT_EXPECT_EQ(test, mheap_free_pages(), 0);
	st = goslab_test_sweep_stats();
	KUNIT_EXPECT_EQ(test, st.reclaimable_kpages, 0);
	KUNIT_EXPECT_EQ(test, st.oom_calls, calls + 1);
	KUNIT_EXPECT_GE(test, st.oom_kpages_released, got);
	for (i = n / 2; i < n; i++) {
		KUNIT_EXPECT_TRUE(test, memchr_inv(obj[i], i & 0xff, 1024) ==
					NULL);
		goslab_free(obj[i]);
		obj[i] = NULL;
	}
	goslab_test_bg_resume(test);
	goslab_expect_consistent(test);
}

/*
 * Leave @nspans spans of 1 KiB objects unswept (one free each), with no
 * free page in the heap; return their objects, to free with
 * free_unswept().
 */
static void **make_unswept(struct kunit *test, unsigned long nspans)
{
	unsigned long n = nspans * 8, i;
	void **obj = goslab_test_objs(test, n);

	KUNIT_ASSERT_NOT_NULL(test, obj);
	goslab_test_bg_pause(test);
	goslab_shrink();
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(1024, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	mcache_flush_all();
	for (i = 0; i < n; i += 8) {
		goslab_free(obj[i]);
		obj[i] = NULL;
	}
	mheap_pcache_flush_all();
	mheap_scavenge();
	KUNIT_EXPECT_EQ(test, mheap_free_pages(), 0);
	KUNIT_EXPECT_GE(test, atomic_long_read(&goslab_unswept_pages),
			nspans / 2);
	return obj;
}

static void free_unswept(struct kunit *test, void **obj, unsigned long nspans)
{
	goslab_test_free_objs(obj, nspans * 8);
	goslab_test_bg_resume(test);
}

/*
 * The sweep credit is paid in the allocating context, IRQs off for an
 * atomic caller: it sweeps a bounded number of spans, however much is
 * unswept, and leaves the rest to the background sweeper.
 */
static void sweep_credit_bounded_test(struct kunit *test)
{
	unsigned long nspans = scaled(2000), before, swept, flags;
	void **obj = make_unswept(test, nspans);
	void *p;

	before = goslab_test_sweep_stats().credit_pages_swept;
	goslab_test_atomic_begin(&flags);
	p = goslab_alloc(4000, GFP_ATOMIC);
	goslab_test_atomic_end(&flags);
	swept = goslab_test_sweep_stats().credit_pages_swept - before;
	kunit_info(test, "one atomic allocation swept %lu of %lu unswept pages\n",
		   swept, nspans);
	KUNIT_EXPECT_NOT_NULL(test, p);
	KUNIT_EXPECT_LE(test, swept, GOSLAB_CREDIT_BUDGET);
	KUNIT_EXPECT_GT(test, atomic_long_read(&goslab_unswept_pages), 0);
	goslab_free(p);
	free_unswept(test, obj, nspans);
	goslab_expect_consistent(test);
}

/* A shrinker scan does bounded work too, however much is unswept. */
static void sweep_shrinker_bounded_test(struct kunit *test)
{
	unsigned long nspans = scaled(2000), unswept;
	void **obj = make_unswept(test, nspans);

	unswept = atomic_long_read(&goslab_unswept_pages);
	goslab_shrinker_scan(64);
	kunit_info(test, "one scan for 64 kernel pages left %ld of %lu unswept pages\n",
		   atomic_long_read(&goslab_unswept_pages), unswept);
	KUNIT_EXPECT_GE(test, atomic_long_read(&goslab_unswept_pages),
			unswept - READ_ONCE(goslab_sweep_budget));
	free_unswept(test, obj, nspans);
	goslab_expect_consistent(test);
}

/*
 * Steady churn, a fixed live set replaced at random: pages held stay
 * bounded by the live bytes, and everything goes back at the end.
 */
static void sweep_churn_test(struct kunit *test)
{
	static const u16 sizes[] = { 16, 64, 100, 256, 700, 2048 };
	unsigned long live = scaled(20000), ops = scaled(churn_ops), i;
	unsigned long live_bytes = 0, peak = 0, bound;
	struct rnd_state seed = goslab_test_rnd(77);
	u16 *size;
	void **obj;

	obj = goslab_test_objs(test, live);
	size = vmalloc(live * sizeof(*size));
	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_ASSERT_NOT_NULL(test, size);
	for (i = 0; i < live; i++) {
		size[i] = sizes[prandom_u32_state(&seed) % ARRAY_SIZE(sizes)];
		obj[i] = goslab_alloc(size[i], GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
		live_bytes += size[i];
	}
	for (i = 0; i < ops; i++) {
		unsigned long k = prandom_u32_state(&seed) % live;

		goslab_free(obj[k]);
		live_bytes -= size[k];
		size[k] = sizes[prandom_u32_state(&seed) % ARRAY_SIZE(sizes)];
		obj[k] = goslab_alloc(size[k], GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[k]);
		live_bytes += size[k];
		if (i % 1024 == 0) {
			peak = max(peak, kpages_held());
			cond_resched();
		}
	}
	peak = max(peak, kpages_held());
	/* Size-class rounding, partial spans of six classes, heap slack. */
	bound = 2 * DIV_ROUND_UP(live_bytes, PAGE_SIZE) + 1024;
	kunit_info(test, "churn: %lu ops, %lu live bytes (%lu kernel pages), pages held peak %lu, final %lu\n",
		   ops, live_bytes, DIV_ROUND_UP(live_bytes, PAGE_SIZE), peak,
		   kpages_held());
	KUNIT_EXPECT_LE(test, peak, bound);
	goslab_expect_consistent(test);
	goslab_test_free_objs(obj, live);
	vfree(size);
	goslab_shrink();
	KUNIT_EXPECT_EQ(test, kpages_held(), 0);
	goslab_expect_consistent(test);
}

/* Every state gets bytes, and fast and slow agree and add up. */
static void sweep_memory_states_test(struct kunit *test)
{
	const unsigned long n = 3000;
	struct goslab_memstats fast, slow;
	unsigned long i, sum = 0;
	void **obj, *big;

	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	goslab_test_bg_pause(test);
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(64 << (i % 5), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	big = goslab_alloc(100000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, big);
	for (i = 0; i < n; i += 3) {
		goslab_free(obj[i]);
		obj[i] = NULL;
	}
	goslab_read_memstats(&fast);
	goslab_read_memstats_slow(&slow);
	/*
	 * A line per state only when one is wrong: Linux 6.1's KUnit keeps
	 * a suite's log in a fixed buffer, which a line per state overran.
	 */
	for (i = 0; i < GOSLAB_NR_MEM_STATES; i++) {
		KUNIT_EXPECT_EQ_MSG(test, fast.bytes[i], slow.bytes[i],
				    "memory state %s", goslab_mem_state_names[i]);
		sum += fast.bytes[i];
	}
	kunit_info(test, "held %lu bytes, released %lu\n", fast.held,
		   fast.released);
	KUNIT_EXPECT_EQ(test, sum, fast.held);
	KUNIT_EXPECT_GT(test, fast.bytes[GOSLAB_MEM_LIVE], 0);
	KUNIT_EXPECT_GT(test, fast.bytes[GOSLAB_MEM_UNSWEPT] +
			fast.bytes[GOSLAB_MEM_SWEPT], 0);
	KUNIT_EXPECT_GT(test, fast.bytes[GOSLAB_MEM_PERCPU], 0);
	goslab_expect_consistent(test);
	goslab_test_free_objs(obj, n);	/* the rest: i % 3 != 0 */
	goslab_free(big);
	goslab_test_bg_resume(test);
	goslab_shrink();
	goslab_read_memstats(&fast);
	KUNIT_EXPECT_EQ(test, fast.held, 0);
	goslab_expect_consistent(test);
}

/*
 * The tunables (module parameters; debugfs tunables): a value out of its
 * range, or not a number, is refused and changes nothing, through the
 * one function sysfs writes call; keep_empty and retain_percent decide
 * what the background work keeps; sweep_budget bounds a shrinker scan's
 * sweeping; bg_delay_ms is the work's delay in jiffies.
 */
static void tunable_set(struct kunit *test, unsigned int *var,
			unsigned int v)
{
	unsigned int i;
	char buf[16];

	for (i = 0; i < GOSLAB_NR_TUNABLES; i++) {
		if (goslab_tunables[i].value != var)
			continue;
		snprintf(buf, sizeof(buf), "%u\n", v);
		KUNIT_ASSERT_EQ(test, goslab_tunable_write(&goslab_tunables[i],
							   buf), 0);
		KUNIT_ASSERT_EQ(test, READ_ONCE(*var), v);
		return;
	}
	KUNIT_FAIL(test, "no such tunable");
}

/* Free @n objects of 512 B after the work has run: what is left. */
static void tunables_background_round(struct kunit *test, void **obj,
				      unsigned long n)
{
	unsigned long i;

	goslab_shrink();
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(512, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	mcache_flush_all();
	goslab_test_free_objs(obj, n);
	goslab_bg_flush();
}

static void sweep_tunables_test(struct kunit *test)
{
	unsigned int spc = goslab_span_class(goslab_size_to_class(512), false);
	struct goslab_class *cls = &goslab_classes[spc];
	unsigned long n = scaled(2000), nspans = scaled(100), unswept;
	struct goslab_heap_stats st;
	unsigned int i;
	void **obj;
	char buf[16];

	/* Each restored when the case ends, however it ends. */
	for (i = 0; i < GOSLAB_NR_TUNABLES; i++)
		goslab_test_pin_tunable(test, goslab_tunables[i].value,
					READ_ONCE(*goslab_tunables[i].value));
	for (i = 0; i < GOSLAB_NR_TUNABLES; i++) {
		struct goslab_tunable *t = &goslab_tunables[i];
		unsigned int v = READ_ONCE(*t->value);

		KUNIT_EXPECT_EQ(test, goslab_tunable_write(t, "many"), -EINVAL);
		KUNIT_EXPECT_EQ(test, goslab_tunable_write(t, "-1"), -EINVAL);
		snprintf(buf, sizeof(buf), "%u", t->max + 1);
		KUNIT_EXPECT_EQ(test, goslab_tunable_write(t, buf), -EINVAL);
		if (t->min) {
			snprintf(buf, sizeof(buf), "%u", t->min - 1);
			KUNIT_EXPECT_EQ(test, goslab_tunable_write(t, buf),
					-EINVAL);
		}
		KUNIT_EXPECT_EQ_MSG(test, READ_ONCE(*t->value), v, "%s",
				    t->name);
		tunable_set(test, t->value, t->min);
		tunable_set(test, t->value, t->max);
		tunable_set(test, t->value, v);
	}

	tunable_set(test, &goslab_bg_delay_ms, 10);
	KUNIT_EXPECT_EQ(test, goslab_bg_delay(), msecs_to_jiffies(10));

	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	tunable_set(test, &goslab_keep_empty, 3);
	tunable_set(test, &goslab_retain_percent, 0);
	tunables_background_round(test, obj, n);
	mheap_read_stats(&st);
	KUNIT_EXPECT_EQ(test, cls->central.nspans, 3);
	KUNIT_EXPECT_EQ(test, mheap_retained_goal(), GOSLAB_RETAIN_FLOOR);
	KUNIT_EXPECT_LE(test, st.pages_free, GOSLAB_RETAIN_FLOOR);
	tunable_set(test, &goslab_keep_empty, 0);
	tunable_set(test, &goslab_retain_percent, 100);
	tunables_background_round(test, obj, n);
	mheap_read_stats(&st);
	KUNIT_EXPECT_EQ(test, cls->central.nspans, 0);
	KUNIT_EXPECT_EQ(test, mheap_retained_goal(),
			max_t(unsigned long, GOSLAB_RETAIN_FLOOR,
			      st.pages_small + st.pages_large));

	tunable_set(test, &goslab_sweep_budget, 5);
	obj = make_unswept(test, nspans);
	unswept = atomic_long_read(&goslab_unswept_pages);
	goslab_shrinker_scan(64);
	KUNIT_EXPECT_GE(test, atomic_long_read(&goslab_unswept_pages),
			unswept - 5);
	free_unswept(test, obj, nspans);
	goslab_expect_consistent(test);
}

static struct kunit_case sweep_cases[] = {
	KUNIT_CASE(sweep_reuse_before_growth_test),
	KUNIT_CASE(sweep_credit_across_classes_test),
	KUNIT_CASE(sweep_background_test),
	KUNIT_CASE(sweep_shrinker_test),
	KUNIT_CASE(sweep_oom_test),
	KUNIT_CASE(sweep_credit_bounded_test),
	KUNIT_CASE(sweep_shrinker_bounded_test),
	KUNIT_CASE(sweep_tunables_test),
	KUNIT_CASE(sweep_memory_states_test),
	KUNIT_CASE_SLOW(sweep_churn_test),
	{}
};

static struct kunit_suite sweep_suite = {
	.name = "goslab_sweep",
	.test_cases = sweep_cases,
};

kunit_test_suite(sweep_suite);

MODULE_DESCRIPTION("KUnit tests for goslab's sweeping and memory return");
