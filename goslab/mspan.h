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
};

struct goslab_class;
struct heap_chunk;

/*
 * Invariants of a span (mspan_is_valid()):
 *
 *  - freeindex <= nelems; alloc_count == |{i < freeindex} U {i >= freeindex
 *    with alloc bit set}|; no alloc bit at or beyond nelems.
 *  - for a span not being allocated from, alloc_cache bit k (k < 64 -
 *    freeindex % 64, freeindex + k < nelems) is set iff slot freeindex + k
 *    has no alloc bit.
 *  - free bits are set only on allocated slots; both kinds on one slot
 *    only after a racing local and remote free, until the next sweep;
 *    popcount(free_bits) == nfreed and popcount(local_free_bits) ==
 *    nlocal_freed once no free is in flight; only a CACHED span has
 *    local free bits.
 *  - pinned slots (npinned of them) are exactly the slots overlapping a
 *    released kernel page of the span; they have alloc bits and no free
 *    bits; a span is empty when alloc_count == npinned.
 *  - a tiny span's block words agree with its live blocks (the class's
 *    ops->span_is_valid()).
 */
/**
 * struct mspan - a run of goslab pages carved into objects of one class
 * @base: address of the first object; GOSLAB_PAGE_SIZE aligned
 * @npages: goslab pages in the span
 * @elemsize: object size (the whole span for a large object)
 * @nelems: objects in the span
 * @divmul: Go's reciprocal: index = (offset * divmul) >> 32
 * @cls: the span class; NULL for a large span
 * @chunk: the heap chunk holding the pages
 * @alloc_cache: inverted alloc_bits from freeindex to the end of its
 *	64-slot window; owner only
 * @freeindex: slots below it are allocated; owner only, grows while cached
 * @alloc_count: allocated slots (pinned ones included); owner only
 * @released_kpages: a bit per kernel page of the span given back to the
 *	page allocator while the span held objects (see mspan_scavenge());
 *	under the mcentral lock, read locklessly by frees. Published before
 *	the alloc bits that pin its pages' slots (smp_wmb()), so that a
 *	lockless reader that sees such a bit and then reads this field
 *	(smp_rmb(), goslab_object_live()) sees the slot pinned
 * @npinned: slots overlapping those pages: allocated for good, never
 *	handed out; under the mcentral lock
 * @tiny: for the tiny class, a word per 16-byte block saying where its
 *	objects start and end (see tiny.c); NULL otherwise. Freed with the
 *	descriptor, after a grace period.
 * @state: enum mspan_state; under the class's mcentral lock
 * @list: linkage on an mcentral list; under the mcentral lock
 * @free_lock: serializes remote frees with the sweep and the scavenger
 *	(see the header comment); raw, innermost, IRQs off
 * @nfreed: free bits set since the last sweep; under @free_lock (a large
 *	span's: 1 once its object is freed)
 * @nlocal_freed: local free bits set since the last sweep; owner only
 * @alloc_bits: allocation bits, written by the owner only (and by the
 *	scavenger, under @free_lock, on a span no CPU caches)
 * @free_bits: remote frees since the last sweep; under @free_lock
 * @local_free_bits: frees made by the CPU caching the span, with IRQs
 *	off and no lock; owner only
 * @rcu: the descriptor is freed after a grace period: every lookup of
 *	a pointer runs under the cpu lock, IRQs off or rcu_read_lock()
 * @bits: storage for the three bitmaps
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
	struct goslab_class *cls;
	struct heap_chunk *chunk;

	u64 alloc_cache;
	unsigned int freeindex;
	unsigned int alloc_count;
	u32 released_kpages;
	unsigned int npinned;
	atomic_t *tiny;

	enum mspan_state state;
	struct list_head list;
	raw_spinlock_t free_lock;
	unsigned int nfreed;
	unsigned int nlocal_freed;
	unsigned long *alloc_bits;
	unsigned long *free_bits;
	unsigned long *local_free_bits;
	struct rcu_head rcu;
	unsigned long bits[];
};

/* Does the span hold no object (pinned slots are not objects)? */
static inline bool mspan_is_empty(const struct mspan *s)
{
	return s->alloc_count == s->npinned;
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
 * mspan_next_free_fast() - allocate from the span's allocCache window
 * @s: the span; its owner's IRQs are off
 *
 * Go's nextFreeFast: the first set bit of alloc_cache is the next free
 * slot. Gives up at the end of a 64-slot window (unless it is the end of
 * the span) so that mspan_next_free() refills the window. One ctz, one
 * multiply, two shifts, no locked instruction.
 *
 * Return: the object, or NULL when the window holds no free slot.
 */
static __always_inline void *mspan_next_free_fast(struct mspan *s)
{
	u64 cache = s->alloc_cache;
	unsigned int bit, result, freeidx;

	if (unlikely(!cache))
		return NULL;
	bit = __ffs64(cache);
	result = s->freeindex + bit;
	if (unlikely(result >= s->nelems))
		return NULL;
	freeidx = result + 1;
	if (unlikely(freeidx % 64 == 0 && freeidx != s->nelems))
		return NULL;
	/* Two shifts: bit + 1 may be 64, which one C shift cannot do. */
	s->alloc_cache = (cache >> bit) >> 1;
	s->freeindex = freeidx;
	s->alloc_count++;
	return (void *)(s->base + (unsigned long)result * s->elemsize);
}

/**
 * mspan_alloc_run() - allocate up to @want objects from the allocCache
 * @s: the span; its owner's IRQs are off
 * @p: where to put the objects
 * @want: how many
 *
 * mspan_next_free_fast() in a loop with the window in registers: the
 * same rule (stop where a 64-slot window ends short of the span's end).
 *
 * Return: how many were allocated.
 */
static __always_inline unsigned int mspan_alloc_run(struct mspan *s, void **p,
						    unsigned int want)
{
	unsigned int fi = s->freeindex, got = 0, bit, result;
	u64 cache = s->alloc_cache;

	while (got < want && cache) {
		bit = __ffs64(cache);
		result = fi + bit;
		if (result >= s->nelems ||
		    ((result + 1) % 64 == 0 && result + 1 != s->nelems))
			break;
		cache = (cache >> bit) >> 1;
		fi = result + 1;
		p[got++] = (void *)(s->base + (unsigned long)result * s->elemsize);
	}
	s->alloc_cache = cache;
	s->freeindex = fi;
	s->alloc_count += got;
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
 * @s: the span
 * @idx: slot index, below nelems
 *
 * Safe against the owner allocating concurrently: freeindex only grows
 * while the span is cached, and slots below it are allocated.
 *
 * Return: true when the slot is allocated.
 */
static __always_inline bool mspan_is_allocated(const struct mspan *s,
					       unsigned int idx)
{
	if (idx < READ_ONCE(s->freeindex))
		return true;
	/* Pairs with the smp_wmb() in mspan_sweep(). */
	smp_rmb();
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
 * span and sweeps it while it is cached. A slot is allocated iff it is
 * below freeindex or its alloc bit is set (see mspan_is_allocated()).
 *
 * Return: 0, or -EINVAL for a double free or a slot never allocated.
 */
static __always_inline int mspan_free_check_local(const struct mspan *s,
						  unsigned int idx)
{
	if (unlikely((idx >= s->freeindex && !test_bit(idx, s->alloc_bits)) ||
		     mspan_slot_pinned(s, idx) || test_bit(idx, s->free_bits) ||
		     test_bit(idx, s->local_free_bits)))
		return -EINVAL;
	return 0;
}

/*
 * Is slot @idx an object handed out and not freed since: allocated, not
 * pinned (a stale pointer's page may be gone) and without a free bit?
 * Racy unless the span is quiescent; never on a fast path.
 */
static inline bool mspan_slot_live(const struct mspan *s, unsigned int idx)
{
	if (!mspan_is_allocated(s, idx))
		return false;
	/* Pairs with the smp_wmb() in mspan_scavenge(). */
	smp_rmb();
	return !mspan_slot_pinned(s, idx) && !test_bit(idx, s->free_bits) &&
	       !test_bit(idx, s->local_free_bits);
}

/* Record a checked local free: no atomic. */
static __always_inline void mspan_free_publish_local(struct mspan *s,
						     unsigned int idx)
{
	__set_bit(idx, s->local_free_bits);
	s->nlocal_freed++;
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
