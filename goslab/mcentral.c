// SPDX-License-Identifier: GPL-2.0
/*
 * mcentral.c - the spans of one span class that no CPU holds.
 *
 * Go's mcentral: one per span class, shared by every CPU, behind a lock.
 * It starts empty and takes spans from mheap when an mcache needs one and
 * nothing it holds has a free slot (mcentral_grow()). Spans come back
 * from mcaches when they are used up (mcentral_uncache_span()), and are
 * sorted by what their sweep finds: partial (some slot free), full, or
 * empty (kept up to keep_empty per class, a tunable, the rest back to mheap).
 * A span on the partial or full list that receives its first free since
 * its sweep moves to the unswept list (mcentral_note_free()), and
 * mcentral_cache_span() sweeps at most sweep_budget (a tunable) of those before
 * it asks for fresh pages, so freed memory is reused before the heap
 * grows.
 *
 * Locking: mcentral.lock, IRQ-safe, nests outside mheap.lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include "internal.h"

void mcentral_init(struct mcentral *c)
{
	spin_lock_init(&c->lock);
	INIT_LIST_HEAD(&c->partial);
	INIT_LIST_HEAD(&c->full);
	INIT_LIST_HEAD(&c->partial_unswept);
	INIT_LIST_HEAD(&c->full_unswept);
	c->nspans = 0;
	c->nchurn_spans = 0;
	c->nchurn_grow = 0;
	c->nempty = 0;
	c->ngrow = 0;
	c->nsweep = 0;
	c->nswept_frees = 0;
	c->nrelease = 0;
}

/*
 * Every span class's mcentral, as Go's mheap_.central: the classes, on a
 * list walked under rcu_read_lock() or goslab_class_mutex (class.c),
 * which also serializes the slow recount.
 */
struct list_head goslab_class_list = LIST_HEAD_INIT(goslab_class_list);
EXPORT_SYMBOL_IF_KUNIT(goslab_class_list);
/* Serializes changes to goslab_class_list and the slow recount. */
DEFINE_MUTEX(goslab_class_mutex);
EXPORT_SYMBOL_IF_KUNIT(goslab_class_mutex);

/* Give an empty span back to mheap. */
static void mcentral_release(struct goslab_class *cls, struct mspan *s)
{
	struct mcentral *c = &cls->central;

	lockdep_assert_held(&c->lock);
	c->nspans--;
	if (c->nchurn_spans)
		c->nchurn_spans--;
	c->nrelease++;
	mheap_free_span(s);
}

/*
 * Give back the empty spans at the tail of the partial list (where
 * mcentral_file_span() puts them). Returns their goslab pages.
 */
static unsigned long mcentral_release_empty_tail(struct goslab_class *cls)
{
	struct mcentral *c = &cls->central;
	unsigned long pages = 0;
	struct mspan *s, *tmp;

	lockdep_assert_held(&c->lock);
	list_for_each_entry_safe_reverse(s, tmp, &c->partial, list) {
		if (!mspan_is_empty(s))
			break;
		list_del(&s->list);
		c->nempty--;
		pages += s->npages;
		mcentral_release(cls, s);
	}
	return pages;
}

/*
 * Go's unswept sets: spans in line for a sweep, oldest first (they have
 * had the longest to collect frees). Counted in goslab_unswept_pages,
 * which paces the sweep credit and the background sweeper.
 */
static void mcentral_add_unswept(struct mcentral *c, struct mspan *s,
				 bool full)
{
	s->state = MSPAN_UNSWEPT;
	s->unswept_since = (u32)jiffies;
	list_add_tail(&s->list, full ? &c->full_unswept : &c->partial_unswept);
	atomic_long_add(s->npages, &goslab_unswept_pages);
}

/* The oldest unswept span, partial ones first. */
static struct mspan *mcentral_first_unswept(struct mcentral *c)
{
	return list_first_entry_or_null(&c->partial_unswept, struct mspan,
					list) ?:
	       list_first_entry_or_null(&c->full_unswept, struct mspan, list);
}

static void mcentral_del_unswept(struct mcentral *c, struct mspan *s)
{
	list_del(&s->list);
	atomic_long_sub(s->npages, &goslab_unswept_pages);
}

/* The oldest unswept span, off its list. */
static struct mspan *mcentral_pop_unswept(struct mcentral *c)
{
	struct mspan *s = mcentral_first_unswept(c);

	if (s)
		mcentral_del_unswept(c, s);
	return s;
}

/* The free slots an unswept span (no CPU's) would have after a sweep. */
static unsigned int mspan_free_after_sweep(struct mspan *s)
{
	return s->nelems - mspan_alloc_count(s) + READ_ONCE(s->nfreed);
}

/*
 * Steady churn over a full class (as many allocations as frees, the frees
 * scattered over its spans) leaves each span about one free slot by the
 * time it reaches the head of the unswept line: every refill would then
 * sweep a span, under the class lock, for one object. Go never meets
 * this: its heap grows between collections (GOGC), so that a sweep finds
 * many dead objects in a span. goslab lets such a class grow a little
 * instead. An unswept span at the head of the line that would give fewer
 * than n / 16 of its n slots goes, unswept, behind every other unswept
 * span (partial or full: a line of one must not hold up the rest), and
 * the class takes a fresh span from mcentral_grow_for_churn(): no sweep
 * credit (it would sweep the spans waiting to collect frees), no
 * reclaim, no reserves. Spans then wait long enough to collect frees:
 * under uniform churn a line of S spans holding about S * n / 32 free
 * slots has about n / 16 at its head, so that a refill, a sweep and a
 * class-lock trip serve that many allocations instead of one.
 *
 * The cost is memory, and it is bounded: nchurn_spans, taken under the
 * lock when a head is declined (so that CPUs growing at once all count)
 * and given back when no span could be had or when the class releases a
 * span, keeps the growth under 1/GOSLAB_CHURN_SHARE (1/32) of the class's
 * spans beyond what it has given back; each span declined holds fewer
 * than n / 16 free slots. Spans of fewer than GOSLAB_CHURN_MIN_OBJS
 * objects gain nothing (one free slot is already 1/16 of them: the
 * caller does not ask for those), nor do classes of a few spans.
 */
static bool mcentral_span_is_poor(struct mcentral *c, struct mspan *s)
{
	if (c->nspans < GOSLAB_CHURN_MIN_SPANS ||
	    c->nchurn_spans * GOSLAB_CHURN_SHARE >= c->nspans)
		return false;
	return mspan_free_after_sweep(s) < s->nelems / 16;
}

/*
 * File a span that no CPU holds on the list its state calls for. Spans
 * with pending frees wait on the unswept list; empty spans beyond the
 * ones the class keeps go back to mheap.
 */
static void mcentral_file_span(struct goslab_class *cls, struct mspan *s)
{
	struct mcentral *c = &cls->central;
	unsigned int allocated = mspan_alloc_count(s);

	lockdep_assert_held(&c->lock);
	/* Local frees belong to a CPU's cache: swept before filing. */
	GOSLAB_WARN_ON_ONCE(s->nlocal_freed);
	if (READ_ONCE(s->nfreed)) {
		mcentral_add_unswept(c, s, allocated == s->nelems);
	} else if (allocated == s->nelems) {
		s->state = MSPAN_FULL;
		list_add(&s->list, &c->full);
	} else if (allocated != s->npinned) {
		s->state = MSPAN_PARTIAL;
		list_add(&s->list, &c->partial);
	} else if (c->nempty < READ_ONCE(goslab_keep_empty) && !s->released_kpages) {
		s->state = MSPAN_PARTIAL;
		list_add_tail(&s->list, &c->partial);
		c->nempty++;
	} else {
		mcentral_release(cls, s);
	}
}

/* The sweep event, out of line behind its key. */
static noinline void mcentral_trace_sweep(struct goslab_class *cls,
					  struct mspan *s, unsigned int freed)
{
	trace_goslab_sweep(cls->name, s->base, s->npages, freed,
			   mspan_alloc_count(s));
}

static __always_inline void mcentral_sweep_span(struct goslab_class *cls,
						struct mspan *s)
{
	unsigned int dup, freed;

	lockdep_assert_held(&cls->central.lock);
	freed = mspan_sweep(s, &dup);
	cls->central.nswept_frees += freed;
	cls->central.nsweep++;
	if (trace_goslab_sweep_enabled())
		mcentral_trace_sweep(cls, s, freed);
	if (unlikely(dup))
		goslab_report_dup_frees(cls, s, dup);
}

/*
 * Go's cacheSpan without the grow: a swept partial span if there is one,
 * else the first unswept span that sweeps to one with a free slot,
 * sweeping at most sweep_budget spans. With @churn, NULL and
 * *@churn set when the head of the unswept line is poor (see
 * mcentral_span_is_poor()): the caller grows the class instead. Lock
 * held.
 */
static struct mspan *__mcentral_cache_span(struct goslab_class *cls,
					   bool *churn)
{
	struct mcentral *c = &cls->central;
	unsigned int budget = READ_ONCE(goslab_sweep_budget);
	struct mspan *s;

	lockdep_assert_held(&c->lock);
	s = list_first_entry_or_null(&c->partial, struct mspan, list);
	if (s) {
		list_del(&s->list);
		if (mspan_is_empty(s))
			c->nempty--;
		goto have;
	}
	/* The class first: the refills of small-span classes pay one test. */
	if (churn && cls->nelems >= GOSLAB_CHURN_MIN_OBJS) {
		s = mcentral_first_unswept(c);
		if (s && mcentral_span_is_poor(c, s)) {
			list_move_tail(&s->list, &c->full_unswept);
			c->nchurn_spans++;
			*churn = true;
			return NULL;
		}
	}
	while (budget-- && (s = mcentral_pop_unswept(c))) {
		mcentral_sweep_span(cls, s);
		if (mspan_alloc_count(s) < s->nelems)
			goto have;
		mcentral_file_span(cls, s);
	}
	return NULL;
have:
	s->state = MSPAN_CACHED;
	return s;
}

/* Sweep what a span got while cached, then file it. Lock held. */
static __always_inline void __mcentral_uncache_span(struct goslab_class *cls,
						    struct mspan *s)
{
	lockdep_assert_held(&cls->central.lock);
	GOSLAB_WARN_ON_ONCE(s->state != MSPAN_CACHED || s->cls != cls);
	if (mspan_has_frees(s))
		mcentral_sweep_span(cls, s);
	mcentral_file_span(cls, s);
}

/**
 * mcentral_cache_span() - a span with a free slot, for an mcache
 * @cls: the span class
 * @churn: NULL, or where to say that the class should grow for churn
 *	rather than take a poor span (see mcentral_span_is_poor())
 *
 * Context: goslab_cpu_lock held.
 * Return: the span, now CACHED, or NULL when the class must grow
 * (mcentral_grow_for_churn() when *@churn was set, else mcentral_grow()).
 */
struct mspan *mcentral_cache_span(struct goslab_class *cls, bool *churn)
{
	struct mspan *s;

	goslab_assert_cpu_locked();
	mcentral_lock(&cls->central);
	s = __mcentral_cache_span(cls, churn);
	mcentral_unlock(&cls->central);
	return s;
}
EXPORT_SYMBOL_IF_KUNIT(mcentral_cache_span);

/**
 * mcentral_exchange_span() - give back a used-up span, take another
 * @cls: the span class
 * @old: the span just removed from the slot
 * @churn: as for mcentral_cache_span()
 *
 * mcentral_uncache_span() and mcentral_cache_span() in one trip under
 * the lock: the refill of a busy class.
 *
 * Context: goslab_cpu_lock held.
 * Return: the span, now CACHED, or NULL as for mcentral_cache_span().
 */
struct mspan *mcentral_exchange_span(struct goslab_class *cls,
				     struct mspan *old, bool *churn)
{
	struct mspan *s;

	goslab_assert_cpu_locked();
	mcentral_lock(&cls->central);
	__mcentral_uncache_span(cls, old);
	s = __mcentral_cache_span(cls, churn);
	mcentral_unlock(&cls->central);
	return s;
}

/*
 * The background sweeper's patience (see mcentral_sweepone()): the head
 * @s of one of the class's two unswept lists, if it would give fewer than
 * 1/16 of its slots (in a class that may grow for churn, see
 * mcentral_span_is_poor()) and joined the line less than goslab_bg_delay()
 * ago, is waiting to collect frees: sweeping it would only move it, as
 * poor, to the partial list. NULL then, else @s. Whether the class still
 * has room to grow does not matter: at its bound its line is as long,
 * and refills take the heads in turn.
 */
static struct mspan *mcentral_unless_waiting(struct goslab_class *cls,
					     struct mspan *s, bool *waiting)
{
	if (s && cls->nelems >= GOSLAB_CHURN_MIN_OBJS &&
	    cls->central.nspans >= GOSLAB_CHURN_MIN_SPANS &&
	    mspan_free_after_sweep(s) < s->nelems / 16 &&
	    time_before32((u32)jiffies, s->unswept_since + goslab_bg_delay())) {
		*waiting = true;
		return NULL;
	}
	return s;
}

/**
 * mcentral_sweepone() - sweep the oldest unswept span of a class
 * @cls: the span class
 * @waiting: NULL to sweep the oldest span whatever it holds; else the
 *	background sweeper's call, which leaves the head of either unswept
 *	list when it is poor and joined the line less than goslab_bg_delay()
 *	ago, sweeps the other list's head if that one is not waiting, and
 *	sets *@waiting when it left one (under churn the line is long, and
 *	sweeping it all every goslab_bg_delay() cost more than the refills it
 *	saved)
 *
 * Go's sweepone for one class: the span is filed by what the sweep finds;
 * one that sweeps to empty goes back to mheap (beyond the one kept).
 *
 * Context: any but NMI.
 * Return: the pages of the span swept, 0 when there was none.
 */
unsigned long mcentral_sweepone(struct goslab_class *cls, bool *waiting)
{
	struct mcentral *c = &cls->central;
	unsigned long flags, npages = 0;
	struct mspan *s;

	if (list_empty(&c->partial_unswept) && list_empty(&c->full_unswept))
		return 0;
	mcentral_lock_irqsave(c, flags);
	if (waiting) {
		s = list_first_entry_or_null(&c->partial_unswept, struct mspan,
					     list);
		s = mcentral_unless_waiting(cls, s, waiting);
		if (!s) {
			s = list_first_entry_or_null(&c->full_unswept,
						     struct mspan, list);
			s = mcentral_unless_waiting(cls, s, waiting);
		}
		if (s)
			mcentral_del_unswept(c, s);
	} else {
		s = mcentral_pop_unswept(c);
	}
	if (s) {
		npages = s->npages;
		mcentral_sweep_span(cls, s);
		mcentral_file_span(cls, s);
	}
	mcentral_unlock_irqrestore(c, flags);
	return npages;
}
EXPORT_SYMBOL_IF_KUNIT(mcentral_sweepone);

/**
 * mcentral_release_empty() - give the class's kept empty spans to mheap
 * @cls: the span class
 *
 * Context: any but NMI.
 * Return: the goslab pages given back.
 */
unsigned long mcentral_release_empty(struct goslab_class *cls)
{
	struct mcentral *c = &cls->central;
	unsigned long flags, pages;

	if (!READ_ONCE(c->nempty))
		return 0;
	mcentral_lock_irqsave(c, flags);
	pages = mcentral_release_empty_tail(cls);
	mcentral_unlock_irqrestore(c, flags);
	return pages;
}

/**
 * mcentral_uncache_span() - take back a span from an mcache
 * @cls: the span class
 * @s: the span, just removed from its slot
 *
 * Sweeps the frees it received while cached, then files it.
 *
 * Context: goslab_cpu_lock held.
 */
void mcentral_uncache_span(struct goslab_class *cls, struct mspan *s)
{
	goslab_assert_cpu_locked();
	mcentral_lock(&cls->central);
	__mcentral_uncache_span(cls, s);
	mcentral_unlock(&cls->central);
}
EXPORT_SYMBOL_IF_KUNIT(mcentral_uncache_span);

/*
 * A fresh span, carved for the class (tiny block words, constructors),
 * counted and CACHED; NULL when mheap has none to give.
 */
static struct mspan *mcentral_new_span(struct goslab_class *cls, gfp_t gfp,
				       bool churn)
{
	struct mcentral *c = &cls->central;
	unsigned long flags;
	struct mspan *s;

	s = mheap_alloc_span(cls, cls->npages, gfp | cls->page_gfp);
	if (!s)
		return NULL;
	if (cls->tiny) {
		/* The tiny allocator's block words, an exact kmalloc size. */
		s->tiny = kcalloc(s->nelems, sizeof(atomic_t),
				  goslab_page_gfp(gfp));
		if (!s->tiny) {
			mheap_free_span(s);
			return NULL;
		}
		/* No pointers in them; the descriptor is not scanned. */
		kmemleak_ignore(s->tiny);
		mheap_span_meta(kmalloc_size_roundup(s->nelems *
						     sizeof(atomic_t)));
	}
	/*
	 * init_on_alloc does not zero the objects of these classes when
	 * handed out; their span is zeroed when carved from pages another
	 * class may have used, as SLUB's slabs come zeroed from the page
	 * allocator.
	 */
	if ((cls->ctor || cls->typesafe_rcu) && want_init_on_alloc(0)) {
		unsigned long bytes = s->npages * GOSLAB_PAGE_SIZE;

		goslab_kasan_unpoison((void *)s->base, bytes);
		memset((void *)s->base, 0, bytes);
		goslab_kasan_poison((void *)s->base, bytes,
				    GOSLAB_KASAN_UNALLOCATED);
	}
	if (cls->ctor) {
		unsigned int i;

		/* Once per object, when its span is carved (SLUB's way). */
		for (i = 0; i < s->nelems; i++) {
			void *obj = (void *)(s->base +
					     (unsigned long)i * s->elemsize);

			goslab_kasan_unpoison(obj, s->elemsize);
			cls->ctor(obj);
			goslab_kasan_poison(obj, s->elemsize,
					    GOSLAB_KASAN_UNALLOCATED);
		}
	}
	mcentral_lock_irqsave(c, flags);
	s->state = MSPAN_CACHED;
	c->nspans++;
	c->ngrow++;
	c->nchurn_grow += churn;
	mcentral_unlock_irqrestore(c, flags);
	return s;
}

/**
 * mcentral_grow() - a fresh span from mheap
 * @cls: the span class
 * @gfp: how hard to try; may sleep when it allows
 *
 * Pays the sweep credit first (goslab_deduct_sweep_credit()), and takes
 * a span of the class that it swept, if any, rather than growing.
 *
 * Context: no goslab lock held, IRQs as @gfp requires.
 * Return: the span, CACHED, or NULL.
 */
struct mspan *mcentral_grow(struct goslab_class *cls, gfp_t gfp)
{
	struct mcentral *c = &cls->central;
	unsigned long flags;
	struct mspan *s;

	/* Pay the sweep credit; it may have swept a span of ours to use. */
	goslab_deduct_sweep_credit(cls->npages);
	mcentral_lock_irqsave(c, flags);
	s = __mcentral_cache_span(cls, NULL);
	mcentral_unlock_irqrestore(c, flags);
	if (s)
		return s;
	return mcentral_new_span(cls, gfp, false);
}
EXPORT_SYMBOL_IF_KUNIT(mcentral_grow);

/**
 * mcentral_grow_for_churn() - grow rather than take a poor span
 * @cls: the span class
 * @gfp: the caller's flags
 *
 * See mcentral_span_is_poor(). The span is optional: no sweep credit
 * (it would sweep the spans waiting in line to collect frees), no
 * reclaim, no warning; when mheap and the page allocator have nothing
 * at hand, it is mcentral_grow(), which takes an unswept span first.
 *
 * Context: no goslab lock held, IRQs as @gfp requires.
 * Return: the span, CACHED, or NULL.
 */
struct mspan *mcentral_grow_for_churn(struct goslab_class *cls, gfp_t gfp)
{
	gfp_t light = (gfp & ~(__GFP_DIRECT_RECLAIM | __GFP_NOFAIL |
			       __GFP_HIGH | __GFP_MEMALLOC)) |
		      __GFP_NOWARN | __GFP_NOMEMALLOC;
	struct mcentral *c = &cls->central;
	unsigned long flags;
	struct mspan *s;

	s = mcentral_new_span(cls, light, true);
	if (s)
		return s;
	/* Not grown: the share taken when the head was declined. */
	mcentral_lock_irqsave(c, flags);
	if (c->nchurn_spans)
		c->nchurn_spans--;
	mcentral_unlock_irqrestore(c, flags);
	return mcentral_grow(cls, gfp);
}

/**
 * mcentral_put_span() - file a span that was about to be cached
 * @cls: the span class
 * @s: a CACHED span no slot holds
 */
void mcentral_put_span(struct goslab_class *cls, struct mspan *s)
{
	unsigned long flags;

	GOSLAB_WARN_ON_ONCE(s->state != MSPAN_CACHED || s->cls != cls);
	mcentral_lock_irqsave(&cls->central, flags);
	mcentral_file_span(cls, s);
	mcentral_unlock_irqrestore(&cls->central, flags);
}

/**
 * mcentral_note_free() - a span got its first free since its sweep
 * @cls: the span class
 * @s: the span
 *
 * Moves a partial or full span to the unswept list, so that the next
 * mcentral_cache_span() finds the freed slots. A cached span is swept
 * when it comes back; an unswept one is already in line.
 *
 * Context: any but NMI.
 */
void mcentral_note_free(struct goslab_class *cls, struct mspan *s)
{
	struct mcentral *c = &cls->central;
	unsigned long flags;

	mcentral_lock_irqsave(c, flags);
	/*
	 * The free is already published: the span may have been swept and
	 * released since, its pages even reused; its descriptor is still
	 * readable and says MSPAN_DEAD (see goslab_free_remote()). Only a
	 * span on this class's swept lists moves.
	 */
	if (READ_ONCE(s->cls) == cls &&
	    (s->state == MSPAN_PARTIAL || s->state == MSPAN_FULL)) {
		if (s->state == MSPAN_PARTIAL && mspan_is_empty(s))
			c->nempty--;
		list_del(&s->list);
		mcentral_add_unswept(c, s, s->state == MSPAN_FULL);
	}
	mcentral_unlock_irqrestore(c, flags);
	goslab_bg_kick();
}
EXPORT_SYMBOL_IF_KUNIT(mcentral_note_free);

/**
 * mcentral_shrink() - sweep everything and give every empty span back
 * @cls: the span class; its mcache slots flushed by the caller
 *
 * Also gives back the kernel pages of partial spans that hold no object
 * (mspan_scavenge()). One span per lock hold: IRQs are never off for
 * more than one span's work.
 *
 * Context: process context; may sleep.
 * Return: goslab pages given back to mheap.
 */
unsigned long mcentral_shrink(struct goslab_class *cls)
{
	struct mcentral *c = &cls->central;
	unsigned long flags, pages, n;
	struct mspan *s;
	LIST_HEAD(done);

	might_sleep();
	/* Each span once: frees racing the shrink may put some back in line. */
	for (n = READ_ONCE(c->nspans); n && mcentral_sweepone(cls, NULL); n--)
		cond_resched();
	pages = mcentral_release_empty(cls);
	/*
	 * Kernel pages with no object in the spans that remain. A span
	 * scavenged waits on @done, still PARTIAL (a free may move it to
	 * the unswept list meanwhile), so that each is visited once.
	 */
	for (;;) {
		u32 kpages;

		mcentral_lock_irqsave(c, flags);
		s = list_first_entry_or_null(&c->partial, struct mspan, list);
		if (!s || mspan_is_empty(s)) {
			mcentral_unlock_irqrestore(c, flags);
			break;
		}
		/* In order: the span a CPU gave back last stays first. */
		list_move_tail(&s->list, &done);
		kpages = mspan_scavenge(s);
		if (kpages)
			mheap_release_span_kpages(s, kpages);
		if (mspan_alloc_count(s) == s->nelems) {
			list_move(&s->list, &c->full);
			s->state = MSPAN_FULL;
		}
		mcentral_unlock_irqrestore(c, flags);
		cond_resched();
	}
	/* Ahead of the empty spans kept at the tail. */
	mcentral_lock_irqsave(c, flags);
	list_splice(&done, &c->partial);
	mcentral_unlock_irqrestore(c, flags);
	return pages;
}
EXPORT_SYMBOL_IF_KUNIT(mcentral_shrink);

static bool mcentral_check_list(struct goslab_class *cls,
				struct list_head *head, enum mspan_state state,
				unsigned long *nspans, unsigned long *nempty)
{
	struct mspan *s;
	bool ok = true;

	list_for_each_entry(s, head, list) {
		(*nspans)++;
		if (s->state != state || s->cls != cls) {
			goslab_inv_err("%s: span %p on the wrong list (state %d, list %d)\n",
				       cls->name, (void *)s->base, s->state, state);
			ok = false;
		}
		if (!mspan_is_valid(s, true))
			ok = false;
		if (state == MSPAN_FULL && mspan_alloc_count(s) != s->nelems) {
			goslab_inv_err("%s: span %p on the full list with %u of %u allocated\n",
				       cls->name, (void *)s->base, mspan_alloc_count(s),
				       s->nelems);
			ok = false;
		}
		if (state == MSPAN_PARTIAL) {
			if (mspan_alloc_count(s) >= s->nelems) {
				goslab_inv_err("%s: span %p on the partial list but full\n",
					       cls->name, (void *)s->base);
				ok = false;
			}
			if (mspan_is_empty(s))
				(*nempty)++;
		}
		if (s->nlocal_freed) {
			goslab_inv_err("%s: span %p in mcentral has local frees\n",
				       cls->name, (void *)s->base);
			ok = false;
		}
		if (state != MSPAN_UNSWEPT && s->nfreed) {
			goslab_inv_err("%s: span %p has frees but is not on the unswept list\n",
				       cls->name, (void *)s->base);
			ok = false;
		}
	}
	return ok;
}

/**
 * mcentral_is_valid() - check a class's mcentral and its cached spans
 * @cls: the span class, quiescent
 *
 * Return: true when consistent; each problem is logged.
 */
bool mcentral_is_valid(struct goslab_class *cls)
{
	struct mcentral *c = &cls->central;
	unsigned long flags, nspans = 0, nempty = 0;
	bool ok = true;
	int cpu;

	mcentral_lock_irqsave(c, flags);
	ok &= mcentral_check_list(cls, &c->partial, MSPAN_PARTIAL, &nspans,
				  &nempty);
	ok &= mcentral_check_list(cls, &c->full, MSPAN_FULL, &nspans,
				  &nempty);
	ok &= mcentral_check_list(cls, &c->partial_unswept, MSPAN_UNSWEPT,
				  &nspans, &nempty);
	ok &= mcentral_check_list(cls, &c->full_unswept, MSPAN_UNSWEPT,
				  &nspans, &nempty);
	/* Taken only while nchurn_spans * share < nspans (before it). */
	if (c->nchurn_spans * GOSLAB_CHURN_SHARE >=
	    c->nspans + GOSLAB_CHURN_SHARE) {
		goslab_inv_err("%s: %lu of %lu spans grown for churn, over 1/%d\n",
			       cls->name, c->nchurn_spans, c->nspans,
			       GOSLAB_CHURN_SHARE);
		ok = false;
	}
	for_each_possible_cpu(cpu) {
		struct mspan *s = per_cpu_ptr(cls->slot, cpu)->span;

		if (s == &goslab_emptymspan)
			continue;
		nspans++;
		if (s->state != MSPAN_CACHED || s->cls != cls) {
			goslab_inv_err("%s: CPU %d caches span %p in state %d\n",
				       cls->name, cpu, (void *)s->base, s->state);
			ok = false;
		}
		if (!mspan_is_valid(s, true))
			ok = false;
	}
	if (nspans != c->nspans || nempty != c->nempty) {
		goslab_inv_err("%s: %lu spans (%lu empty) found, counters say %lu (%lu)\n",
			       cls->name, nspans, nempty, c->nspans, c->nempty);
		ok = false;
	}
	mcentral_unlock_irqrestore(c, flags);
	return ok;
}
EXPORT_SYMBOL_IF_KUNIT(mcentral_is_valid);

/**
 * mcentral_report_live() - name a few objects of a class still live
 * @cls: the span class; no CPU caches any of its spans
 * @max: how many to name at most
 */
void mcentral_report_live(struct goslab_class *cls, unsigned int max)
{
	struct list_head *lists[] = { &cls->central.partial,
				      &cls->central.full,
				      &cls->central.partial_unswept,
				      &cls->central.full_unswept };
	unsigned int i, j, shown = 0;
	unsigned long flags;
	struct mspan *s;

	mcentral_lock_irqsave(&cls->central, flags);
	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		list_for_each_entry(s, lists[i], list) {
			for (j = 0; j < s->nelems; j++) {
				if (shown == max)
					goto out;
				if (!mspan_slot_live(s, j))
					continue;
				pr_err("%s: still live at destroy: %p\n",
				       cls->name,
				       (void *)(s->base +
						(unsigned long)j * s->elemsize));
				shown++;
			}
		}
	}
out:
	mcentral_unlock_irqrestore(&cls->central, flags);
}

/**
 * mcentral_destroy() - give back every span of a class
 * @cls: the span class; no CPU caches any of its spans
 *
 * One span per lock hold.
 *
 * Context: process context.
 * Return: objects still live (leaked by their users); their spans are
 * given back all the same.
 */
unsigned long mcentral_destroy(struct goslab_class *cls)
{
	struct list_head *lists[] = { &cls->central.partial,
				      &cls->central.full,
				      &cls->central.partial_unswept,
				      &cls->central.full_unswept };
	struct mcentral *c = &cls->central;
	unsigned long flags, live = 0;
	struct mspan *s;
	unsigned int i;

	for (;;) {
		mcentral_lock_irqsave(c, flags);
		s = NULL;
		for (i = 0; i < ARRAY_SIZE(lists) && !s; i++)
			s = list_first_entry_or_null(lists[i], struct mspan,
						     list);
		if (!s) {
			c->nempty = 0;
			mcentral_unlock_irqrestore(c, flags);
			return live;
		}
		list_del(&s->list);
		if (s->state == MSPAN_UNSWEPT)
			atomic_long_sub(s->npages, &goslab_unswept_pages);
		if (mspan_live(s)) {
			live += mspan_live(s);
			goslab_forget_live_objects(s);
		}
		mcentral_release(cls, s);
		mcentral_unlock_irqrestore(c, flags);
		cond_resched();
	}
}
