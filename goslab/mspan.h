/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mspan.h - one span: its allocation state, frees and pinned pages.
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_MSPAN_H
#define _GOSLAB_MSPAN_H

/*
 * Kernel pages of a span that mspan_scavenge() can give back while the
 * span is in use: a bit each in u32 mspan.released_kpages. Later pages
 * of a longer span stay until the span empties.
 */
#define GOSLAB_MAX_RELEASED_KPAGES	BITS_PER_TYPE(u32)

enum mspan_state {
	MSPAN_DEAD,
	MSPAN_CACHED,
	MSPAN_PARTIAL,
	MSPAN_FULL,
	MSPAN_UNSWEPT,
	MSPAN_LARGE,
	MSPAN_RCU_EMPTY,
};

struct goslab_class;
struct heap_chunk;

/*
 * Invariants of a span (mspan_is_valid()):
 *
 *  - freeindex is a multiple of 64, or nelems once the span is full; no
 *    alloc bit at or beyond nelems.
 *  - the allocCache window is slots freeindex ... freeindex + 63: bit k of
 *    alloc_cache set means slot freeindex + k is free and not handed out;
 *    no bit for a slot at or beyond nelems, nor for a slot with an alloc
 *    bit. A slot is allocated iff it is below freeindex, or in the window
 *    with its alloc_cache bit clear, or beyond the window with its alloc
 *    bit set (mspan_is_allocated()).
 *  - alloc_claimed == allocated slots + popcount(alloc_cache): the fast
 *    path hands a slot out by clearing its bit and nothing else.
 *  - free bits are set only on allocated slots; both kinds on one slot
 *    only after a racing local and remote free, until the next sweep;
 *    popcount(free_bits) == nfreed and popcount(local_free_bits) ==
 *    nlocal_freed once no free is in flight; only a CACHED span has
 *    local free bits.
 *  - pinned slots (npinned of them) are exactly the slots overlapping a
 *    released kernel page of the span; they have alloc bits and no free
 *    bits; a span is empty when mspan_alloc_count() == npinned.
 *  - a tiny span's block words agree with its live blocks (the class's
 *    ops->span_is_valid()).
 *  - goslab_free_rcu(): a slot is in at most one generation (a tiny
 *    block may be in both), and popcount of each generation's bits ==
 *    rcu_count[g]. The older generation is empty only if the younger
 *    is; when both hold frees, their cookies differ (a free joins the
 *    older only with the same cookie), and the older's no longer
 *    changes (goslab_rcu_barrier() relies on both). A small span's
 *    pending slot has its free bit too, which every free's check sees,
 *    and nfreed does not count it: popcount(free_bits) == nfreed +
 *    rcu_count[0] + rcu_count[1]. A large span's pending object has
 *    nfreed 1. A tiny block marked pending is allocated, whatever its
 *    word says. A span with a pending free is rcu_queued.
 */
/* Bitmaps in a descriptor, BITS_TO_LONGS(nelems) words each. */
#define MSPAN_NR_BITMAPS	5

/**
 * struct mspan - a run of goslab pages carved into objects of one class
 * @base: address of the first object; GOSLAB_PAGE_SIZE aligned
 * @npages: goslab pages in the span
 * @elemsize: object size (the whole span for a large object)
 * @nelems: objects in the span
 * @divmul: Go's reciprocal: index = (offset * divmul) >> 32
 * @divmagic: ceil(2^64 / elemsize), for mspan_object_at()
 * @cls: the span class; NULL for a large span
 * @chunk: the heap chunk holding the pages
 * @alloc_cache: the allocCache window: bit k set when slot freeindex + k
 *	is free and not handed out; written by the owner only (the fast
 *	path clears bits without a lock, a new window is installed under
 *	@free_lock), read by remote frees under @free_lock
 * @freeindex: start of the window; slots below it are allocated; owner
 *	only, under @free_lock when it moves to a window with free slots
 * @alloc_claimed: allocated slots (pinned ones included) plus the bits
 *	of @alloc_cache; owner only (see mspan_alloc_count())
 * @released_kpages: a bit per kernel page of the span given back to the
 *	page allocator while the span held objects (see mspan_scavenge());
 *	under the mcentral lock and @free_lock (the scavenger holds both),
 *	read by frees under @free_lock or, for a span that is cached (and
 *	so not being scavenged), by its owner
 * @npinned: slots overlapping those pages: allocated for good, never
 *	handed out; under the mcentral lock
 * @tiny: for the tiny class, a word per 16-byte block saying where its
 *	objects start and end (see tiny.c); NULL otherwise. Freed with the
 *	descriptor, after a grace period.
 * @state: an enum mspan_state (a byte, beside the two that follow);
 *	under the class's mcentral lock
 * @list: linkage on an mcentral list; under the mcentral lock
 * @unswept_since: jiffies (low 32 bits, compared with time_before32(): a
 *	u32 fills a hole beside @state) when the span joined its class's
 *	unswept line; under the mcentral lock
 * @free_lock: serializes remote frees with the sweep and the scavenger
 *	(see the header comment); raw, innermost, IRQs off
 * @nfreed: free bits set since the last sweep; under @free_lock (a large
 *	span's: 1 once its object is freed)
 * @nlocal_freed: local free bits set since the last sweep; owner only
 * @alloc_bits: allocation bits, written by the owner only (and by the
 *	scavenger, under @free_lock, on a span no CPU caches); the first
 *	of the five bitmaps in @bits, so reached with no load
 * @free_bits: remote frees since the last sweep; under @free_lock
 * @local_free_bits: frees made by the CPU caching the span, with IRQs
 *	off and no lock; owner only
 * @rcu: the descriptor is freed after a grace period: every lookup of
 *	a pointer runs under the cpu lock, IRQs off or rcu_read_lock(); it
 *	shares @list's storage, which a DEAD span no longer uses
 * @rcu_count: goslab_free_rcu() frees waiting in each of the span's two
 *	generations: objects (a large span: 0 or 1), or for the tiny class
 *	blocks marked (see rcu.c); under @free_lock
 * @rcu_counts: both, for a test of either in one load
 * @rcu_older: which generation is the older one, which new frees join
 *	only while no grace period has started since its cookie was
 *	taken; under @free_lock
 * @rcu_queued: the span is on the RCU work's lists (goslab_rcu_pending
 *	or its own); set with the first pending free, cleared by the work
 *	once none is left; under @free_lock
 * @rcu_poll_skip: frees of the span to come before the next one polls
 *	@rcu_cookie (mspan_rcu_fold_before_mark()); under @free_lock
 * @rcu_cookie: each generation's grace-period cookie
 *	(get_state_synchronize_rcu()), that of its latest free; under
 *	@free_lock
 * @rcu_node: linkage on the RCU work's lists while @rcu_queued
 * @track: the owner-tracking records of its objects (track.c), or NULL;
 *	set once (cmpxchg), freed with the descriptor
 * @bits: storage for the MSPAN_NR_BITMAPS bitmaps, end to end: alloc,
 *	free, local free and the two generations of goslab_free_rcu()
 *	(mspan_rcu_bits())
 *
 * Fields before @alloc_cache are set before the span is published in the
 * arena index and never change afterwards.
 */
struct mspan {
	unsigned long base;
	unsigned int npages;
	unsigned int elemsize;
	unsigned int nelems;
	u32 divmul;
	u64 divmagic;
	struct goslab_class *cls;
	struct heap_chunk *chunk;

	u64 alloc_cache;
	unsigned int freeindex;
	unsigned int alloc_claimed;
	u32 released_kpages;
	unsigned int npinned;
	atomic_t *tiny;

	u8 state;
	u8 rcu_older;
	bool rcu_queued;
	u8 rcu_poll_skip;
	u32 unswept_since;
	union {
		struct list_head list;
		struct rcu_head rcu;
	};
	raw_spinlock_t free_lock;
	unsigned int nfreed;
	unsigned int nlocal_freed;
	union {
		u16 rcu_count[2];
		u32 rcu_counts;
	};
	unsigned long *free_bits;
	unsigned long *local_free_bits;
	unsigned long rcu_cookie[2];
	struct llist_node rcu_node;
	struct goslab_track_obj *track;
	union {
		DECLARE_FLEX_ARRAY(unsigned long, alloc_bits);
		DECLARE_FLEX_ARRAY(unsigned long, bits);
	};
};

/*
 * Allocated slots, pinned ones included. Exact for the owner or under
 * free_lock; for anyone else a racy estimate, which a window being
 * installed or swept in makes too high rather than too low (those
 * writers store the count before the window, smp_wmb()).
 */
static inline unsigned int mspan_alloc_count(const struct mspan *s)
{
	u64 cache = READ_ONCE(s->alloc_cache);

	/* Pairs with the writers' smp_wmb() between count and window. */
	smp_rmb();
	return READ_ONCE(s->alloc_claimed) - hweight64(cache);
}

/*
 * Allocations from a span cached by another CPU since its count was
 * @base, racily: 0 when a sweep has lowered the count below @base and
 * the CPU has not yet moved @base.
 */
static inline unsigned int goslab_span_allocs_since(const struct mspan *s,
						    unsigned int base)
{
	unsigned int n = mspan_alloc_count(s);

	return n > base ? n - base : 0;
}

/* Does the span hold no object (pinned slots are not objects)? */
static inline bool mspan_is_empty(const struct mspan *s)
{
	return mspan_alloc_count(s) == s->npinned;
}

/*
 * Does slot @idx overlap a kernel page given back to the page allocator?
 * Such a slot was free when its page went and is pinned: never handed
 * out, so freeing it is a double free.
 */
static __always_inline bool mspan_slot_pinned(const struct mspan *s,
					      unsigned int idx)
{
	unsigned long first, last;

	if (likely(!READ_ONCE(s->released_kpages)))
		return false;
	first = ((unsigned long)idx * s->elemsize) >> PAGE_SHIFT;
	last = ((unsigned long)(idx + 1) * s->elemsize - 1) >> PAGE_SHIFT;
	return READ_ONCE(s->released_kpages) & GENMASK(last, first);
}

/*
 * Did the span give goslab page @j (both its kernel pages) back while in
 * use? Its index entry may be another chunk's then. Spans whose pages
 * are scavenged have at most GOSLAB_MAX_RELEASED_KPAGES kernel pages.
 */
static inline bool mspan_page_given_back(const struct mspan *s,
					 unsigned int j)
{
	const u32 whole = BIT(GOSLAB_KPAGES_PER_PAGE) - 1;

	if (!s->released_kpages ||
	    j >= GOSLAB_MAX_RELEASED_KPAGES / GOSLAB_KPAGES_PER_PAGE)
		return false;
	return ((s->released_kpages >> (j * GOSLAB_KPAGES_PER_PAGE)) &
		whole) == whole;
}

/* Has the span received frees since its last sweep? Owner only. */
static inline bool mspan_has_frees(const struct mspan *s)
{
	return s->nlocal_freed || READ_ONCE(s->nfreed);
}

static inline unsigned long mspan_limit(const struct mspan *s)
{
	return s->base + (unsigned long)s->nelems * s->elemsize;
}

/* Index of the object at @p, which must lie inside the span. */
static inline unsigned int mspan_obj_index(const struct mspan *s,
					   unsigned long p)
{
	return (u32)(((u64)(p - s->base) * s->divmul) >> 32);
}

/**
 * mspan_object_at() - is @p the start of an object of the span?
 * @s: a small span whose pages hold @p
 * @p: the address
 * @idx: where to put the object's index
 *
 * On x86_64, one 64x64->128-bit multiply by ceil(2^64 / elemsize): the
 * high half is the index and the low half says whether the offset is a
 * multiple of elemsize, below the multiplier iff it is (Lemire, Kaser
 * and Kurz, "Faster remainder by direct computation", 2019; exact for
 * offsets and sizes below 2^32, which a span's are). Elsewhere Go's
 * divmul and a multiply back.
 *
 * Return: true when @p is the start of slot *@idx, which exists.
 */
static __always_inline bool mspan_object_at(const struct mspan *s,
					    unsigned long p, unsigned int *idx)
{
	unsigned long off = p - s->base;
#ifdef __x86_64__
	u64 lo, hi;

	/*
	 * One mulq for both halves; a C __int128 would make the compiler
	 * realign the stack of every function this is inlined into.
	 */
	asm("mulq %3" : "=a" (lo), "=d" (hi) : "a" (off), "rm" (s->divmagic));
	*idx = (unsigned int)hi;
	return lo < s->divmagic && *idx < s->nelems;
#else
	*idx = mspan_obj_index(s, p);
	return (unsigned long)*idx * s->elemsize == off && *idx < s->nelems;
#endif
}

/**
 * mspan_next_free_fast() - allocate from the span's allocCache window
 * @s: the span; its owner's IRQs are off
 *
 * Go's nextFreeFast, with the window fixed at freeindex instead of
 * shifted along: the lowest set bit of alloc_cache is the next free
 * slot, and clearing it is the whole allocation (freeindex and the count
 * move only with the window, in mspan_next_free()). One ctz, one clear
 * of the lowest bit, one multiply; no locked instruction, no compare
 * but the empty window's.
 *
 * Return: the object, or NULL when the window holds no free slot.
 */
static __always_inline void *mspan_next_free_fast(struct mspan *s)
{
	u64 cache = s->alloc_cache;

	if (unlikely(!cache))
		return NULL;
	/* A remote free's check reads the window under free_lock. */
	WRITE_ONCE(s->alloc_cache, cache & (cache - 1));
	return (void *)(s->base + (unsigned long)(s->freeindex +
			__ffs64(cache)) * s->elemsize);
}

/**
 * mspan_alloc_run() - allocate up to @want objects from the allocCache
 * @s: the span; its owner's IRQs are off
 * @p: where to put the objects
 * @want: how many
 *
 * mspan_next_free_fast() in a loop with the window in a register.
 *
 * Return: how many were allocated.
 */
static __always_inline unsigned int mspan_alloc_run(struct mspan *s, void **p,
						    unsigned int want)
{
	/* Locals: a store to @p could alias the span for the compiler. */
	unsigned long size = s->elemsize;
	unsigned long base = s->base + (unsigned long)s->freeindex * size;
	u64 cache = s->alloc_cache;
	unsigned int got = 0;

	while (got < want && cache) {
		p[got++] = (void *)(base + (unsigned long)__ffs64(cache) * size);
		cache &= cache - 1;
	}
	/* Not when nothing was taken: @s may be goslab_emptymspan. */
	if (got)
		WRITE_ONCE(s->alloc_cache, cache);
	return got;
}

extern struct mspan goslab_emptymspan;

/* mspan.c */
void mspan_init(struct mspan *s, unsigned long base, unsigned int npages,
		unsigned int elemsize, unsigned int nelems);
size_t mspan_desc_size(unsigned int nelems);
void *mspan_next_free(struct mspan *s);

/**
 * mspan_is_allocated() - is slot @idx handed out (and maybe freed since)?
 * @s: the span; its owner, or @s->free_lock held, or quiescent
 * @idx: slot index, below nelems
 *
 * Every move of the window (mspan_next_free(), mspan_sweep()) holds
 * free_lock; without it the owner changes the window only by handing
 * slots out, so under the lock the answer is exact for every slot but
 * one being handed out at that moment. Lock-free readers would need more
 * than a re-read of freeindex: a sweep takes it back to an earlier
 * window (ABA), so they take the lock (mspan_slot_live_locked()).
 *
 * Return: true when the slot is allocated.
 */
static __always_inline bool mspan_is_allocated(const struct mspan *s,
					       unsigned int idx)
{
	unsigned int fi = READ_ONCE(s->freeindex);

	if (idx < fi)
		return true;
	if (idx - fi < 64)
		return !((READ_ONCE(s->alloc_cache) >> (idx - fi)) & 1);
	return test_bit(idx, s->alloc_bits);
}

/**
 * mspan_free_check() - may slot @idx be freed by a CPU that does not
 *	cache the span?
 * @s: the span; @s->free_lock held
 * @idx: slot index, below nelems
 *
 * The local bits belong to the CPU caching the span, if any: looking at
 * them catches every double free that does not race (see the header
 * comment for the one that does).
 *
 * Return: 0, or -EINVAL for a double free or a slot never allocated.
 */
static __always_inline int mspan_free_check(const struct mspan *s,
					    unsigned int idx)
{
	lockdep_assert_held(&s->free_lock);
	if (unlikely(!mspan_is_allocated(s, idx) || mspan_slot_pinned(s, idx) ||
		     test_bit(idx, s->free_bits) ||
		     test_bit(idx, s->local_free_bits)))
		return -EINVAL;
	return 0;
}

/**
 * mspan_free_publish() - record a checked remote free of slot @idx
 * @s: the span; @s->free_lock held
 * @idx: slot index, checked by mspan_free_check()
 *
 * The slot becomes allocatable at the span's next sweep.
 *
 * Return: true when this free took nfreed from 0 to 1 (the caller tells
 * mcentral, after dropping the lock).
 */
static __always_inline bool mspan_free_publish(struct mspan *s,
					       unsigned int idx)
{
	__set_bit(idx, s->free_bits);
	WRITE_ONCE(s->nfreed, s->nfreed + 1);
	return s->nfreed == 1;
}

/**
 * mspan_free_check_local() - may the CPU caching the span free @idx?
 * @s: the span, in this CPU's mcache; the cpu lock held
 * @idx: slot index, below nelems
 *
 * The owner's check: no lock, since only this CPU allocates from the
 * span and sweeps it while it is cached (the rule is
 * mspan_is_allocated()'s).
 *
 * Return: 0, or -EINVAL for a double free or a slot never allocated.
 */
static __always_inline int mspan_free_check_local(const struct mspan *s,
						  unsigned int idx)
{
	unsigned int off = idx - s->freeindex;
	bool free;

	/* In the window (off wraps above 63 when idx is below freeindex). */
	if (off < 64)
		free = (s->alloc_cache >> off) & 1;
	else
		free = idx >= s->freeindex && !test_bit(idx, s->alloc_bits);
	if (unlikely(free || mspan_slot_pinned(s, idx) ||
		     test_bit(idx, s->free_bits) ||
		     test_bit(idx, s->local_free_bits)))
		return -EINVAL;
	return 0;
}

/*
 * Is slot @idx an object handed out and not freed since: allocated, not
 * pinned (a stale pointer's page may be gone) and without a free bit?
 * The span quiescent, or free_lock held (see mspan_slot_live_locked());
 * never on a fast path.
 */
static inline bool mspan_slot_live(const struct mspan *s, unsigned int idx)
{
	return mspan_is_allocated(s, idx) && !mspan_slot_pinned(s, idx) &&
	       !test_bit(idx, s->free_bits) &&
	       !test_bit(idx, s->local_free_bits);
}

/*
 * mspan_slot_live() for a span in use by others: under free_lock, which
 * every window move, sweep and remote free holds. The frees of the CPU
 * caching the span do not take it: a local free racing this check may
 * or may not be seen, as for any racing free.
 */
static inline bool mspan_slot_live_locked(struct mspan *s, unsigned int idx)
{
	unsigned long flags;
	bool live;

	raw_spin_lock_irqsave(&s->free_lock, flags);
	live = mspan_slot_live(s, idx);
	raw_spin_unlock_irqrestore(&s->free_lock, flags);
	return live;
}

/* Record a checked local free: no atomic. */
static __always_inline void mspan_free_publish_local(struct mspan *s,
						     unsigned int idx)
{
	__set_bit(idx, s->local_free_bits);
	s->nlocal_freed++;
}

/*
 * Generation @g of the span's goslab_free_rcu() bits, after the alloc,
 * free and local free bitmaps. Never on a fast path.
 */
static inline unsigned long *mspan_rcu_bits(const struct mspan *s,
					    unsigned int g)
{
	return (unsigned long *)s->bits + (3 + g) * BITS_TO_LONGS(s->nelems);
}

/* Does the span hold goslab_free_rcu() frees waiting for a grace period? */
static inline bool mspan_rcu_pending(const struct mspan *s)
{
	/* Both counts in one load: the sweep tests it every time. */
	return s->rcu_counts;
}

/*
 * Word @w of the slots pending in either generation: those a small
 * span's sweep must leave alone. Under free_lock or quiescent.
 */
static inline unsigned long mspan_rcu_word(const struct mspan *s,
					   unsigned int w)
{
	if (likely(!mspan_rcu_pending(s)))
		return 0;
	return mspan_rcu_bits(s, 0)[w] | mspan_rcu_bits(s, 1)[w];
}

/* Is slot @idx in a generation? Under free_lock or quiescent. */
static inline bool mspan_rcu_marked(const struct mspan *s, unsigned int idx)
{
	return mspan_rcu_pending(s) &&
	       (test_bit(idx, mspan_rcu_bits(s, 0)) ||
		test_bit(idx, mspan_rcu_bits(s, 1)));
}

int mspan_free_index(struct mspan *s, unsigned int idx);
unsigned int mspan_dup_frees(const struct mspan *s);
#if IS_ENABLED(CONFIG_KUNIT)
int mspan_free_index_local(struct mspan *s, unsigned int idx);
#endif

unsigned int mspan_sweep(struct mspan *s, unsigned int *dup);
u32 mspan_scavenge(struct mspan *s);
unsigned int mspan_live(const struct mspan *s);
bool mspan_is_valid(const struct mspan *s, bool check_cache);

#endif /* _GOSLAB_MSPAN_H */
