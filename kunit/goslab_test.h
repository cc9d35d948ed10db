/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by goslab's KUnit suites. The suites reach the layers
 * through EXPORT_SYMBOL_IF_KUNIT() and end every scenario with
 * goslab_expect_consistent(): every validator and the slow recount.
 */
#ifndef _GOSLAB_TEST_H
#define _GOSLAB_TEST_H

#include <kunit/test.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include "internal.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_IMPORT_NS(GOSLAB_BENCH);
MODULE_LICENSE("GPL");

static inline void goslab_expect_consistent(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, goslab_validate(), 0,
			    "goslab's validators or slow recount disagree (see the kernel log)");
}

/*
 * Suite init/exit that keep the background sweeper and scavenger from
 * changing goslab under a test that counts pages or looks at span states.
 */
static inline int goslab_test_pause_bg(struct kunit *test)
{
	goslab_bg_pause();
	return 0;
}

static inline void goslab_test_resume_bg(struct kunit *test)
{
	goslab_bg_resume();
}

/* The sweep counters of debugfs "sweep", as one value. */
static inline struct goslab_sweep_stats goslab_test_sweep_stats(void)
{
	struct goslab_sweep_stats st;

	goslab_read_sweep_stats(&st);
	return st;
}

/*
 * No goslab call from hardirq context: on PREEMPT_RT, where goslab does
 * not serve hardirq callers (include/linux/goslab.h), and where lockdep
 * checks locks as PREEMPT_RT would take them (PROVE_RAW_LOCK_NESTING: a
 * hardirq caller is then an invalid wait context by design, as for
 * SLUB), so that such a kernel checks everything else goslab does.
 */
#define GOSLAB_TEST_NO_HARDIRQ						\
	(IS_ENABLED(CONFIG_PREEMPT_RT) ||				\
	 IS_ENABLED(CONFIG_PROVE_RAW_LOCK_NESTING))

/*
 * The hrtimer mode of the cases that allocate and free from an interrupt
 * on the CPU a process-context loop uses: hardirq context, except where
 * GOSLAB_TEST_NO_HARDIRQ, where the timer runs as a softirq, the most
 * constrained context goslab serves there.
 */
#define GOSLAB_TEST_IRQ_TIMER_MODE					\
	(GOSLAB_TEST_NO_HARDIRQ ? HRTIMER_MODE_REL_PINNED_SOFT :	\
				  HRTIMER_MODE_REL_PINNED_HARD)
#define GOSLAB_TEST_IRQ_NAME	\
	(GOSLAB_TEST_NO_HARDIRQ ? "softirq" : "hardirq")

/*
 * An atomic caller's context around a GFP_ATOMIC call: IRQs off; on
 * PREEMPT_RT, where goslab's locks sleep and IRQs-off callers are not
 * served, migration disabled, as under the spinlock_t an atomic caller
 * holds there.
 */
static inline void goslab_test_atomic_begin(unsigned long *flags)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		migrate_disable();
	else
		local_irq_save(*flags);
}

static inline void goslab_test_atomic_end(unsigned long *flags)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		migrate_enable();
	else
		local_irq_restore(*flags);
}

/* A case that needs hardirq context: not where GOSLAB_TEST_NO_HARDIRQ. */
static inline void goslab_test_need_hardirq(struct kunit *test)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		kunit_skip(test, "PREEMPT_RT: goslab is not for hardirq context");
	if (GOSLAB_TEST_NO_HARDIRQ)
		kunit_skip(test, "PROVE_RAW_LOCK_NESTING: hardirq callers are invalid by design");
}

static void goslab_test_bg_resume_action(void *unused)
{
	goslab_bg_resume();
}

/*
 * goslab_bg_pause() for part of a case: undone by goslab_test_bg_resume(),
 * or when the case ends, however it ends, so that a failed assertion
 * does not leave the background work paused for the cases after it.
 */
static inline void goslab_test_bg_pause(struct kunit *test)
{
	int err;

	goslab_bg_pause();
	err = kunit_add_action_or_reset(test, goslab_test_bg_resume_action,
					NULL);
	KUNIT_ASSERT_EQ(test, err, 0);
}

static inline void goslab_test_bg_resume(struct kunit *test)
{
	kunit_release_action(test, goslab_test_bg_resume_action, NULL);
}

static void goslab_test_cache_destroy_action(void *c)
{
	goslab_cache_destroy(c);
}

/*
 * goslab_cache_create() for a case: KUnit destroys the cache when the
 * case ends, however it ends, so that a failed assertion leaves neither
 * the cache nor its name to the next case. goslab_test_cache_destroy()
 * destroys it earlier, once.
 */
static inline struct goslab_cache *
goslab_test_cache_create(struct kunit *test, const char *name,
			 unsigned int size, const struct goslab_cache_args *args,
			 unsigned int flags)
{
	struct goslab_cache *c = goslab_cache_create(name, size, args, flags);

	if (c && kunit_add_action_or_reset(test,
					   goslab_test_cache_destroy_action,
					   c))
		return NULL;
	return c;
}

static inline void goslab_test_cache_destroy(struct kunit *test,
					     struct goslab_cache *c)
{
	kunit_release_action(test, goslab_test_cache_destroy_action, c);
}

/* An array of objects whose non-NULL entries are freed when a case ends. */
struct goslab_test_objs {
	unsigned long n;
	void *obj[];
};

static void goslab_test_objs_action(void *arg)
{
	struct goslab_test_objs *t = arg;
	unsigned long i;

	for (i = 0; i < t->n; i++)
		goslab_free(t->obj[i]);
	kvfree(t);
}

/*
 * Room for @n objects, KUnit-managed: whatever the case has not freed
 * (and set back to NULL) when it ends, by a failed assertion too, is
 * freed then, before the case's caches are destroyed (actions run in
 * reverse order). kvzalloc(): the big scenarios hold 10^5 objects.
 * Return: the array, zeroed, or NULL.
 */
static inline void **goslab_test_objs(struct kunit *test, unsigned long n)
{
	struct goslab_test_objs *t;

	t = kvzalloc(struct_size(t, obj, n), GFP_KERNEL);
	if (!t)
		return NULL;
	t->n = n;
	if (kunit_add_action_or_reset(test, goslab_test_objs_action, t))
		return NULL;
	return t->obj;
}

/* Free @n objects of a goslab_test_objs() array and forget them. */
static inline void goslab_test_free_objs(void **obj, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		goslab_free(obj[i]);
		obj[i] = NULL;
	}
}

static void goslab_test_free_action(void *p)
{
	goslab_free(p);
}

/*
 * One object a case holds across a KUNIT_ASSERT, KUnit-managed: a failed
 * assertion would otherwise leave it allocated into the next case, whose
 * page counts and validators it skews. goslab_test_hold() has KUnit free
 * @p (from goslab_alloc(), goslab_alloc_tiny(), ...) when the case ends;
 * give it back earlier with goslab_test_free(), never goslab_free() (the
 * action would free it again: a double free). A deliberate second free
 * after goslab_test_free() is the case's own. Return: @p, or NULL (@p
 * then freed) if KUnit could not record it.
 */
static inline void *goslab_test_hold(struct kunit *test, void *p)
{
	if (!ZERO_OR_NULL_PTR(p) &&
	    kunit_add_action_or_reset(test, goslab_test_free_action, p))
		return NULL;
	return p;
}

static inline void *goslab_test_alloc(struct kunit *test, size_t size,
				      gfp_t gfp)
{
	return goslab_test_hold(test, goslab_alloc(size, gfp));
}

/*
 * goslab_realloc() of a held object (or NULL): what KUnit frees at the
 * end follows the object returned. On failure @p stays held.
 */
static inline void *goslab_test_realloc(struct kunit *test, void *p,
					size_t size, gfp_t gfp)
{
	void *q = goslab_realloc(p, size, gfp);

	if (q == p)
		return q;
	/* Moved, or freed by a size of 0: @p is gone. */
	if (p && (q || !size))
		kunit_remove_action(test, goslab_test_free_action, p);
	return goslab_test_hold(test, q);
}

/* A tunable set for one case, restored when it ends, however it ends. */
struct goslab_test_tunable {
	unsigned int *var;
	unsigned int old;
};

static void goslab_test_tunable_restore(void *arg)
{
	struct goslab_test_tunable *t = arg;

	WRITE_ONCE(*t->var, t->old);
	kfree(t);
}

static inline void goslab_test_pin_tunable(struct kunit *test,
					   unsigned int *var, unsigned int v)
{
	struct goslab_test_tunable *t = kmalloc(sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->var = var;
	t->old = READ_ONCE(*var);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test,
						  goslab_test_tunable_restore,
						  t), 0);
	WRITE_ONCE(*var, v);
}

/* Free a held object now, once. */
static inline void goslab_test_free(struct kunit *test, void *p)
{
	if (p)
		kunit_release_action(test, goslab_test_free_action, p);
}

/* An array of mheap spans whose non-NULL entries are freed at the end. */
struct goslab_test_spans {
	unsigned long n;
	struct mspan *span[];
};

static void goslab_test_spans_action(void *arg)
{
	struct goslab_test_spans *t = arg;
	unsigned long i;

	for (i = 0; i < t->n; i++)
		if (t->span[i])
			mheap_free_span(t->span[i]);
	kvfree(t);
}

/*
 * Room for @n spans of mheap_alloc_span(), KUnit-managed like
 * goslab_test_objs(): the entries still set when the case ends go back
 * with mheap_free_span(). Set an entry to NULL when the case frees it.
 * Return: the array, zeroed, or NULL.
 */
static inline struct mspan **goslab_test_spans(struct kunit *test,
					       unsigned long n)
{
	struct goslab_test_spans *t;

	t = kvzalloc(struct_size(t, span, n), GFP_KERNEL);
	if (!t)
		return NULL;
	t->n = n;
	if (kunit_add_action_or_reset(test, goslab_test_spans_action, t))
		return NULL;
	return t->span;
}

/*
 * The suites' random numbers: prandom_u32_state() on a state seeded with
 * a fixed number, so that failures reproduce.
 */
static inline struct rnd_state goslab_test_rnd(u64 seed)
{
	struct rnd_state state;

	prandom_seed_state(&state, seed);
	return state;
}

static inline int goslab_test_cmp_ptr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Is @p on a kernel page its span gave back to the page allocator? */
static inline bool goslab_test_on_released_page(const void *p)
{
	struct mspan *s = mheap_span_of(p);

	return s && (READ_ONCE(s->released_kpages) &
		     BIT(((unsigned long)p - s->base) >> PAGE_SHIFT));
}

/*
 * No two of the @n live objects at @obj (each at least @size bytes)
 * overlap, and none lies on a kernel page given back: each byte has one
 * owner. Returns the number of offenders.
 */
static inline unsigned int goslab_test_overlaps(struct kunit *test,
						void **obj, unsigned int n,
						size_t size)
{
	void **sorted = kmemdup(obj, n * sizeof(*obj), GFP_KERNEL);
	unsigned int i, bad = 0;

	KUNIT_ASSERT_NOT_NULL(test, sorted);
	sort(sorted, n, sizeof(*sorted), goslab_test_cmp_ptr, NULL);
	for (i = 0; i < n; i++) {
		if (i && sorted[i] - sorted[i - 1] < size)
			bad++;
		if (goslab_test_on_released_page(sorted[i]))
			bad++;
	}
	kfree(sorted);
	return bad;
}

#endif /* _GOSLAB_TEST_H */
