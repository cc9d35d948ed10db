// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_race: the races that once let goslab hand out memory twice or
 * read freed metadata, each driven head-on by two threads bound to two
 * CPUs that meet at a barrier and then act at the same moment, many
 * rounds over. A race that goes wrong shows as a miscount of double
 * frees, a validator's report, an object handed out twice, or a KASAN
 * report in the debug kernel. The cases need two CPUs: they skip in UML
 * and run under QEMU -smp 4 in make check.
 */
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/goslab.h>
#include "goslab_test.h"

static unsigned int rounds = 300;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "rounds of each race");

/* Two threads meeting at barriers, each crossing counted in @gen. */
struct race {
	struct kunit *test;
	struct goslab_cache *cache;
	atomic_t arrived;
	unsigned int nrounds;
	void *obj;	/* handed between the threads through the barriers */
	void *other;
	unsigned long misses;
	struct completion done[2];
	bool stop;
};

/* Wait until both threads reached crossing @gen (1, 2, ...). */
static void race_meet(struct race *r, unsigned int gen)
{
	/* Ordered both ways: what one wrote before, the other reads after. */
	atomic_inc_return(&r->arrived);
	while (atomic_read_acquire(&r->arrived) < 2 * gen &&
	       !READ_ONCE(r->stop))
		cpu_relax();
}

/* Run @a on one online CPU and @b on another; skip with fewer CPUs. */
static void race_run(struct kunit *test, struct race *r, int (*a)(void *),
		     int (*b)(void *))
{
	unsigned int cpu_a = cpumask_first(cpu_online_mask);
	unsigned int cpu_b = cpumask_next(cpu_a, cpu_online_mask);
	struct task_struct *ta, *tb;

	if (cpu_b >= nr_cpu_ids) {
		kunit_skip(test, "needs two online CPUs");
		return;
	}
	r->test = test;
	init_completion(&r->done[0]);
	init_completion(&r->done[1]);
	ta = kthread_create(a, r, "race_a/%u", cpu_a);
	tb = kthread_create(b, r, "race_b/%u", cpu_b);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ta));
	KUNIT_ASSERT_FALSE(test, IS_ERR(tb));
	kthread_bind(ta, cpu_a);
	kthread_bind(tb, cpu_b);
	wake_up_process(ta);
	wake_up_process(tb);
	wait_for_completion(&r->done[0]);
	wait_for_completion(&r->done[1]);
}

/*
 * A local and a remote free of one object at the same moment. The CPU
 * caching the span allocates an object; both CPUs free it at once. One
 * of the two frees is a double free, every round: exactly @rounds double
 * frees must be reported once the spans are swept, and nothing must be
 * handed out twice.
 */
static int local_remote_owner(void *arg)
{
	struct race *r = arg;
	unsigned int i;

	for (i = 0; i < r->nrounds; i++) {
		r->obj = goslab_cache_alloc(r->cache, GFP_KERNEL);
		if (!r->obj) {
			r->misses++;
			WRITE_ONCE(r->stop, true);
		}
		race_meet(r, 2 * i + 1);
		if (READ_ONCE(r->stop))
			break;
		goslab_cache_free(r->cache, r->obj);
		race_meet(r, 2 * i + 2);
	}
	complete(&r->done[0]);
	return 0;
}

static int local_remote_other(void *arg)
{
	struct race *r = arg;
	unsigned int i;

	for (i = 0; i < r->nrounds; i++) {
		race_meet(r, 2 * i + 1);
		if (READ_ONCE(r->stop))
			break;
		goslab_cache_free(r->cache, r->obj);
		race_meet(r, 2 * i + 2);
	}
	complete(&r->done[1]);
	return 0;
}

/* Allocate @n objects of @c and count those handed out twice. */
static unsigned int race_handed_twice(struct kunit *test,
				      struct goslab_cache *c, unsigned int n,
				      size_t size)
{
	void **obj = goslab_test_objs(test, n);
	unsigned int i, bad;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	for (i = 0; i < n; i++) {
		obj[i] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	bad = goslab_test_overlaps(test, obj, n, size);
	for (i = 0; i < n; i++) {
		goslab_cache_free(c, obj[i]);
		obj[i] = NULL;
	}
	return bad;
}

/*
 * Run a double-free race @rounds times in a 64-byte cache: every round's
 * second free must be reported exactly once (at once or by the span's
 * sweep), and no slot may be handed out twice afterwards.
 */
static void race_double_free(struct kunit *test, const char *name,
			     int (*owner)(void *), int (*other)(void *),
			     const char *what)
{
	struct race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	unsigned long reported;

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->cache = goslab_test_cache_create(test, name, 64, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, r->cache);
	r->nrounds = rounds;
	race_run(test, r, owner, other);
	/* Racing pairs are found by the spans' sweeps. */
	goslab_cache_shrink(r->cache);
	reported = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE) - dbl;
	kunit_info(test, "%u rounds: %lu double frees reported, %lu setup misses\n",
		   rounds, reported, r->misses);
	KUNIT_EXPECT_EQ(test, r->misses, 0);
	KUNIT_EXPECT_EQ_MSG(test, reported, rounds, "%s", what);
	goslab_expect_consistent(test);
	KUNIT_EXPECT_EQ(test, race_handed_twice(test, r->cache, 4 * 128, 64), 0);
	goslab_test_cache_destroy(test, r->cache);
	goslab_expect_consistent(test);
}

static void race_local_remote_double_free_test(struct kunit *test)
{
	race_double_free(test, "race-local-remote", local_remote_owner,
			 local_remote_other,
			 "a double free went unreported or was reported twice");
}

/*
 * A double free racing the sweep that folds the first free in. The CPU
 * caching a span uses it up; the other CPU frees two of its objects, @q
 * (a lower slot) and @obj; then the owner allocates once more, which
 * sweeps the span in place and takes @q's slot, while the other CPU frees
 * @obj again. That second free must be reported every round, whether it
 * lands before, during or after the sweep: @obj's slot stays free.
 */
static int sweep_race_owner(void *arg)
{
	struct race *r = arg;
	struct goslab_class *cls = goslab_cache_class(r->cache);
	unsigned int i, n, nelems = cls->nelems;
	void **held = kcalloc(2 * nelems, sizeof(*held), GFP_KERNEL);

	for (i = 0; i < r->nrounds && held; i++) {
		struct mspan *s;
		void *fresh;

		/*
		 * A swept span from mcentral, used up here: no free pending,
		 * so the sweep below finds exactly the other CPU's two.
		 */
		mcache_flush_class(cls);
		n = 0;
		do {
			held[n] = goslab_cache_alloc(r->cache, GFP_KERNEL);
			if (!held[n++])
				break;
			/* Bound to this CPU: its own slot, read racily. */
			s = raw_cpu_ptr(cls->slot)->span;
		} while (mspan_alloc_count(s) < s->nelems && n < 2 * nelems);
		if (!held[n - 1] || n < 2 || mheap_span_of(held[n - 1]) != s ||
		    mheap_span_of(held[n - 2]) != s) {
			r->misses++;
			WRITE_ONCE(r->stop, true);
		}
		r->other = held[n - 2];
		r->obj = held[n - 1];
		if (r->other > r->obj)
			swap(r->other, r->obj);
		race_meet(r, 3 * i + 1);
		/* The other CPU frees both. */
		race_meet(r, 3 * i + 2);
		if (READ_ONCE(r->stop))
			break;
		fresh = goslab_cache_alloc(r->cache, GFP_KERNEL);
		if (fresh != r->other)
			r->misses++;
		race_meet(r, 3 * i + 3);
		while (n--)
			if (held[n] != r->obj && held[n] != r->other)
				goslab_cache_free(r->cache, held[n]);
		goslab_cache_free(r->cache, fresh);
	}
	if (!held)
		WRITE_ONCE(r->stop, true);
	kfree(held);
	complete(&r->done[0]);
	return 0;
}

static int sweep_race_other(void *arg)
{
	struct race *r = arg;
	unsigned int i;

	for (i = 0; i < r->nrounds; i++) {
		race_meet(r, 3 * i + 1);
		if (READ_ONCE(r->stop))
			break;
		goslab_cache_free(r->cache, r->other);
		goslab_cache_free(r->cache, r->obj);
		race_meet(r, 3 * i + 2);
		goslab_cache_free(r->cache, r->obj);
		race_meet(r, 3 * i + 3);
	}
	complete(&r->done[1]);
	return 0;
}

static void race_sweep_double_free_test(struct kunit *test)
{
	race_double_free(test, "race-sweep", sweep_race_owner,
			 sweep_race_other,
			 "a double free racing a sweep went unreported");
}

/*
 * A stale pointer used while its span is released: one CPU gives a tiny
 * span back to the heap (its descriptor and block words go) while the
 * other frees and sizes a pointer into it. Every such call must be
 * reported and read nothing freed (KASAN watches in the debug kernel).
 */
static int release_race_owner(void *arg)
{
	struct race *r = arg;
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < r->nrounds; i++) {
		struct mspan *s = mcentral_grow(&goslab_tiny_class,
						GFP_KERNEL);

		if (!s) {
			r->misses++;
			WRITE_ONCE(r->stop, true);
		} else {
			/* Slot 1's block, never handed out: a stale pointer. */
			r->obj = (void *)(s->base + GOSLAB_TINY_SIZE + 4);
		}
		race_meet(r, 2 * i + 1);
		if (READ_ONCE(r->stop))
			break;
		goslab_test_atomic_begin(&flags);
		s->state = MSPAN_DEAD;
		mheap_free_span(s);
		goslab_test_atomic_end(&flags);
		race_meet(r, 2 * i + 2);
	}
	complete(&r->done[0]);
	return 0;
}

static int release_race_other(void *arg)
{
	struct race *r = arg;
	unsigned int i;

	for (i = 0; i < r->nrounds; i++) {
		race_meet(r, 2 * i + 1);
		if (READ_ONCE(r->stop))
			break;
		goslab_free(r->obj);
		if (goslab_usable_size(r->obj))
			r->misses++;
		race_meet(r, 2 * i + 2);
	}
	complete(&r->done[1]);
	return 0;
}

static void race_stale_pointer_release_test(struct kunit *test)
{
	struct race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct goslab_class *cls = &goslab_tiny_class;
	unsigned long before = goslab_error_count(GOSLAB_ERR_FOREIGN) +
			       goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->nrounds = rounds;
	race_run(test, r, release_race_owner, release_race_other);
	/* mcentral_grow() counted the spans: they were released by hand. */
	spin_lock_irq(&cls->central.lock);
	cls->central.nspans -= r->nrounds - r->misses;
	cls->central.ngrow -= r->nrounds - r->misses;
	spin_unlock_irq(&cls->central.lock);
	KUNIT_EXPECT_EQ(test, r->misses, 0);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_FOREIGN) +
			goslab_error_count(GOSLAB_ERR_DOUBLE_FREE) - before,
			2 * rounds);
	goslab_expect_consistent(test);
}

/*
 * The background work must not be queued once goslab_bg_stop() returned,
 * however a shrinker scan that gives spans back races it (module unload).
 */
static int unload_race_scanner(void *arg)
{
	struct race *r = arg;
	void *obj[64];
	unsigned int i;

	while (!READ_ONCE(r->stop)) {
		for (i = 0; i < ARRAY_SIZE(obj); i++)
			obj[i] = goslab_alloc(2048, GFP_KERNEL);
		for (i = 0; i < ARRAY_SIZE(obj); i++)
			goslab_free(obj[i]);
		mcache_flush_all();
		goslab_shrinker_scan(1024);
	}
	complete(&r->done[0]);
	return 0;
}

static int unload_race_stopper(void *arg)
{
	struct race *r = arg;
	unsigned int i;

	for (i = 0; i < r->nrounds / 10; i++) {
		goslab_bg_stop();
		/* Time for a late kick to queue the work. */
		usleep_range(50, 100);
		if (goslab_bg_pending())
			r->misses++;
		if (goslab_bg_start()) {
			r->misses++;
			break;
		}
	}
	WRITE_ONCE(r->stop, true);
	complete(&r->done[1]);
	return 0;
}

static void race_unload_test(struct kunit *test)
{
	struct race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->nrounds = rounds;
	race_run(test, r, unload_race_scanner, unload_race_stopper);
	KUNIT_EXPECT_EQ_MSG(test, r->misses, 0,
			    "background work queued after goslab_bg_stop()");
	goslab_shrink();
	goslab_expect_consistent(test);
}

/*
 * Statistics read another CPU's cached span while that CPU releases it:
 * the readers must see the descriptor alive (KASAN watches).
 */
static int stats_race_churner(void *arg)
{
	struct race *r = arg;
	struct goslab_class *cls = goslab_cache_class(r->cache);
	unsigned int i, n = 2 * cls->nelems, round = 0;
	void **obj = kcalloc(n, sizeof(*obj), GFP_KERNEL);

	while (obj && !READ_ONCE(r->stop)) {
		for (i = 0; i < n; i++)
			obj[i] = goslab_cache_alloc(r->cache, GFP_KERNEL);
		for (i = 0; i < n; i++)
			goslab_cache_free(r->cache, obj[i]);
		if (++round % 8 == 0)
			mcache_flush_class(cls);
		mcentral_shrink(cls);
	}
	if (!obj)
		r->misses++;
	kfree(obj);
	complete(&r->done[0]);
	return 0;
}

static int stats_race_reader(void *arg)
{
	struct race *r = arg;
	struct goslab_class *cls = goslab_cache_class(r->cache);
	struct goslab_class_stats st;
	unsigned int i;

	for (i = 0; i < 20 * r->nrounds; i++) {
		goslab_read_class_stats(cls, &st);
		if (!(i % 64))
			cond_resched();
	}
	WRITE_ONCE(r->stop, true);
	complete(&r->done[1]);
	return 0;
}

static void race_stats_reader_test(struct kunit *test)
{
	struct race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->cache = goslab_test_cache_create(test, "race-stats", 64, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, r->cache);
	r->nrounds = rounds;
	race_run(test, r, stats_race_churner, stats_race_reader);
	KUNIT_EXPECT_EQ(test, r->misses, 0);
	goslab_test_cache_destroy(test, r->cache);
	goslab_expect_consistent(test);
}

/*
 * The fast paths' key goes off between an allocation's two looks at it:
 * one CPU allocates and frees while the other turns owner tracking of
 * another cache on and off (each change moves the key). An object the
 * fast path took when the key was on must come out of the slow path,
 * not be dropped there for a fresh one: the class's live count returns
 * to where it was (kernels without KASAN or kmemleak, where the key is
 * all there is).
 */
static int key_flip_allocator(void *arg)
{
	struct race *r = arg;
	unsigned int i;
	void *p;

	for (i = 0; i < 50 * r->nrounds; i++) {
		p = goslab_alloc(96, GFP_KERNEL);
		if (!p)
			r->misses++;
		goslab_free(p);
		if (!(i % 256))
			cond_resched();
	}
	WRITE_ONCE(r->stop, true);
	complete(&r->done[0]);
	return 0;
}

static int key_flip_toggler(void *arg)
{
	struct race *r = arg;
	struct goslab_class *cls = goslab_cache_class(r->cache);
	bool on = true;

	while (!READ_ONCE(r->stop)) {
		goslab_class_set_track(cls, on);
		on = !on;
	}
	goslab_class_set_track(cls, false);
	complete(&r->done[1]);
	return 0;
}

static void race_alloc_key_flip_test(struct kunit *test)
{
	struct race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	unsigned int spc = goslab_span_class(goslab_size_to_class(96), false);
	struct goslab_class *cls = &goslab_classes[spc];
	struct goslab_class_stats before, after;

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->cache = goslab_test_cache_create(test, "race-keyflip", 64, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, r->cache);
	r->nrounds = rounds;
	goslab_read_class_stats(cls, &before);
	race_run(test, r, key_flip_allocator, key_flip_toggler);
	goslab_read_class_stats(cls, &after);
	KUNIT_EXPECT_EQ(test, r->misses, 0);
	KUNIT_EXPECT_EQ_MSG(test, after.live, before.live,
			    "objects lost between the fast path and the slow one");
	goslab_test_cache_destroy(test, r->cache);
	goslab_expect_consistent(test);
}

static struct kunit_case race_cases[] = {
	KUNIT_CASE(race_local_remote_double_free_test),
	KUNIT_CASE(race_sweep_double_free_test),
	KUNIT_CASE(race_stale_pointer_release_test),
	KUNIT_CASE(race_unload_test),
	KUNIT_CASE(race_stats_reader_test),
	KUNIT_CASE(race_alloc_key_flip_test),
	{}
};

static struct kunit_suite race_suite = {
	.name = "goslab_race",
	.test_cases = race_cases,
};

kunit_test_suite(race_suite);

MODULE_DESCRIPTION("KUnit race tests for goslab's frees, sweeps and teardown");
