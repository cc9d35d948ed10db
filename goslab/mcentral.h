/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mcentral.h - the spans of one span class that no CPU holds, and the
 * list of every class.
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_MCENTRAL_H
#define _GOSLAB_MCENTRAL_H

/*
 * Churn (mcentral_span_is_poor()): a class of at least this many objects
 * per span and this many spans may grow by up to 1/GOSLAB_CHURN_SHARE of
 * its spans rather than take unswept spans that would give fewer than
 * 1/16 of their slots.
 */
#define GOSLAB_CHURN_MIN_OBJS	32
#define GOSLAB_CHURN_MIN_SPANS	16
#define GOSLAB_CHURN_SHARE	32

/*
 * Invariants of a class's spans (mcentral_is_valid()): a span is on
 * exactly the list its state names; nspans counts CACHED, PARTIAL, FULL
 * and UNSWEPT spans of the class; nempty counts the empty spans on the
 * partial list; no span on a list has local free bits.
 */
/**
 * struct mcentral - the spans of one class that no mcache holds
 * @lock: protects everything here and the state of those spans
 * @partial: swept spans with a free slot; empty ones at the tail
 * @full: swept spans without a free slot
 * @partial_unswept: spans with frees since their last sweep that had a
 *	free slot before them
 * @full_unswept: spans with frees since their last sweep that were full,
 *	and poor spans sent to the back of the line (see
 *	mcentral_span_is_poor())
 * @nspans: spans of the class, cached ones included
 * @nchurn_spans: spans the class may still be growing or has grown for
 *	churn, less the spans it has given back since (the 1/32 bound)
 * @nempty: spans on @partial with no object allocated
 * @ngrow: spans taken from mheap
 * @nsweep: sweeps done
 * @nswept_frees: frees those sweeps folded in
 * @nrelease: empty spans given back to mheap
 * @nchurn_grow: spans taken for churn (debugfs grow_churn)
 * @held_since: when @lock was taken, while goslab measures how long it
 *	keeps IRQs off (see goslab_irqsoff_begin())
 */
struct mcentral {
	spinlock_t lock;	/* see the lock order in the header comment */
	u64 held_since;
	struct list_head partial;
	struct list_head full;
	struct list_head partial_unswept;
	struct list_head full_unswept;
	unsigned long nspans;
	unsigned long nchurn_spans;
	unsigned long nempty;
	unsigned long ngrow;
	unsigned long nsweep;
	unsigned long nswept_frees;
	unsigned long nrelease;
	unsigned long nchurn_grow;
};

/* An mcentral lock, with the time it is held measured. */
static __always_inline void mcentral_lock(struct mcentral *c)
	__acquires(&c->lock)
{
	spin_lock(&c->lock);
	c->held_since = goslab_irqsoff_begin();
}

static __always_inline void mcentral_unlock(struct mcentral *c)
	__releases(&c->lock)
{
	goslab_irqsoff_end(GOSLAB_IRQSOFF_CENTRAL, c->held_since);
	spin_unlock(&c->lock);
}

static __always_inline void __mcentral_lock_irqsave(struct mcentral *c,
						    unsigned long *flags)
	__acquires(&c->lock)
{
	spin_lock_irqsave(&c->lock, *flags);
	c->held_since = goslab_irqsoff_begin();
}

static __always_inline void __mcentral_unlock_irqrestore(struct mcentral *c,
							 unsigned long flags)
	__releases(&c->lock)
{
	goslab_irqsoff_end(GOSLAB_IRQSOFF_CENTRAL, c->held_since);
	spin_unlock_irqrestore(&c->lock, flags);
}

#define mcentral_lock_irqsave(c, flags)	__mcentral_lock_irqsave(c, &(flags))
#define mcentral_unlock_irqrestore(c, flags)				\
	__mcentral_unlock_irqrestore(c, flags)

/*
 * Every span class, goslab_alloc()'s, the tiny one and typed caches', is
 * on goslab_class_list (mcentral.c): walked under rcu_read_lock() (the
 * sweeper may walk it from any context) or goslab_class_mutex, which
 * serializes changes (class.c).
 */
extern struct list_head goslab_class_list;
extern struct mutex goslab_class_mutex;
#define for_each_goslab_class(cls)					\
	list_for_each_entry_rcu(cls, &goslab_class_list, node,		\
				lockdep_is_held(&goslab_class_mutex))

/* mcentral.c */
void mcentral_init(struct mcentral *c);
struct mspan *mcentral_cache_span(struct goslab_class *cls, bool *churn);
void mcentral_uncache_span(struct goslab_class *cls, struct mspan *s);
struct mspan *mcentral_exchange_span(struct goslab_class *cls,
				     struct mspan *old, bool *churn);
unsigned long mcentral_sweepone(struct goslab_class *cls, bool *waiting);
unsigned long mcentral_release_empty(struct goslab_class *cls);
struct mspan *mcentral_grow(struct goslab_class *cls, gfp_t gfp);
struct mspan *mcentral_grow_for_churn(struct goslab_class *cls, gfp_t gfp);
void mcentral_put_span(struct goslab_class *cls, struct mspan *s);
void mcentral_note_free(struct goslab_class *cls, struct mspan *s);
unsigned long mcentral_shrink(struct goslab_class *cls);
bool mcentral_is_valid(struct goslab_class *cls);
void mcentral_report_live(struct goslab_class *cls, unsigned int max);
unsigned long mcentral_destroy(struct goslab_class *cls);

#endif /* _GOSLAB_MCENTRAL_H */
