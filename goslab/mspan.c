// SPDX-License-Identifier: GPL-2.0
/*
 * mspan.c - one span: its allocation bits, the allocCache window, frees,
 * the sweep and the scavenger's pinning.
 *
 * A span is Go's mspan: a run of goslab pages carved into nelems objects
 * of elemsize bytes. Allocation takes the slots that alloc_bits leaves
 * free 64 at a time, through the allocCache window at freeindex (the
 * free slots of the window, consumed with ctz by mspan_next_free_fast()
 * in mspan.h; mspan_next_free() here moves the window).
 * Frees only set a bit in free_bits or local_free_bits; the sweep folds
 * them back into alloc_bits and restarts freeindex at 0, as Go's sweep
 * installs the mark bits as the new allocation bits. Locking is the
 * caller's: the owner of the allocation state (see internal.h) calls
 * everything here; remote frees, the sweep and the scavenger also
 * serialize on the span's free_lock.
 */
#include <linux/module.h>
#include "internal.h"

/*
 * Go's emptymspan: what an mcache slot holding no span points at.
 * nelems == 0 and alloc_cache == 0: every allocation from it fails.
 */
struct mspan goslab_emptymspan = {
	.state = MSPAN_DEAD,
};
EXPORT_SYMBOL_IF_KUNIT(goslab_emptymspan);

size_t mspan_desc_size(unsigned int nelems)
{
	return struct_size_t(struct mspan, bits,
			     MSPAN_NR_BITMAPS * BITS_TO_LONGS(nelems));
}
EXPORT_SYMBOL_IF_KUNIT(mspan_desc_size);

/* 64 allocation bits starting at slot 64 * @whichword. */
static u64 mspan_alloc_word(const struct mspan *s, unsigned int whichword)
{
	unsigned int start = whichword * 64;
	u64 w = 0;

	if (start >= s->nelems)
		return ~0ULL;
#if BITS_PER_LONG == 64
	w = s->alloc_bits[whichword];
#else
	w = s->alloc_bits[2 * whichword];
	if (start + 32 < s->nelems)
		w |= (u64)s->alloc_bits[2 * whichword + 1] << 32;
#endif
	return w;
}

/* The window's slots that exist: bit k for slot @fi + k below nelems. */
static u64 mspan_window_mask(const struct mspan *s, unsigned int fi)
{
	unsigned int n = s->nelems - fi;

	return n >= 64 ? ~0ULL : BIT_ULL(n) - 1;
}

/*
 * The window at freeindex (a multiple of 64, below nelems) as it is in
 * the allocation bits: its free slots.
 */
static u64 mspan_window_of_bits(const struct mspan *s)
{
	return ~mspan_alloc_word(s, s->freeindex / 64) &
	       mspan_window_mask(s, s->freeindex);
}

/**
 * mspan_init() - set up a span with every slot free
 * @s: a descriptor of at least mspan_desc_size(@nelems) bytes
 * @base: address of the first object
 * @npages: goslab pages the span covers
 * @elemsize: object size
 * @nelems: objects (at most GOSLAB_MAX_NELEMS)
 */
void mspan_init(struct mspan *s, unsigned long base, unsigned int npages,
		unsigned int elemsize, unsigned int nelems)
{
	unsigned int words = BITS_TO_LONGS(nelems);

	s->base = base;
	s->npages = npages;
	s->elemsize = elemsize;
	s->nelems = nelems;
	s->divmul = (u32)(U32_MAX / elemsize) + 1;
	s->divmagic = U64_MAX / elemsize + 1;
	s->cls = NULL;
	s->chunk = NULL;
	s->freeindex = 0;
	s->released_kpages = 0;
	s->npinned = 0;
	s->tiny = NULL;
	s->track = NULL;
	s->state = MSPAN_DEAD;
	INIT_LIST_HEAD(&s->list);
	raw_spin_lock_init(&s->free_lock);
	s->nfreed = 0;
	s->nlocal_freed = 0;
	s->free_bits = s->bits + words;
	s->local_free_bits = s->bits + 2 * words;
	/*
	 * The bitmaps lie end to end: one clear, and for a span of at most
	 * 64 slots (every large span) no call at all, which a large
	 * object's allocation would pay for each bitmap.
	 */
	if (words == 1) {
		unsigned int i;

		for (i = 0; i < MSPAN_NR_BITMAPS; i++)
			s->bits[i] = 0;
	} else {
		memset(s->bits, 0, MSPAN_NR_BITMAPS * words * sizeof(long));
	}
	s->rcu_count[0] = 0;
	s->rcu_count[1] = 0;
	s->rcu_older = 0;
	s->rcu_queued = false;
	s->rcu_poll_skip = 0;
	s->alloc_cache = mspan_window_mask(s, 0);
	s->alloc_claimed = hweight64(s->alloc_cache);
}
EXPORT_SYMBOL_IF_KUNIT(mspan_init);

/**
 * mspan_next_free() - allocate when the allocCache window is used up
 * @s: the span; its owner's IRQs are off
 *
 * Go's nextFreeIndex: move the window past freeindex until one has a
 * free slot, and take it. Every slot of the window left behind is
 * allocated (its free ones were all taken), so freeindex may pass it.
 * A window with free slots is installed under free_lock, so that a
 * remote free's check sees a consistent window (mspan_is_allocated()).
 * Moving past full windows changes no slot's answer and needs no lock.
 *
 * Return: the object, or NULL when the span is full.
 */
void *mspan_next_free(struct mspan *s)
{
	unsigned int fi = s->freeindex;
	unsigned long flags;
	u64 cache = 0;

	if (s->alloc_cache)
		return mspan_next_free_fast(s);
	/* Full, or goslab_emptymspan, whose line every CPU reads. */
	if (fi >= s->nelems)
		return NULL;
	while (fi < s->nelems) {
		fi = round_down(fi, 64) + 64;
		if (fi >= s->nelems)
			break;
		cache = ~mspan_alloc_word(s, fi / 64) &
			mspan_window_mask(s, fi);
		if (cache)
			break;
	}
	if (!cache) {
		/* No window holds a free slot: every slot is allocated. */
		WRITE_ONCE(s->freeindex, s->nelems);
		return NULL;
	}
	raw_spin_lock_irqsave(&s->free_lock, flags);
	/* The emptied window before freeindex moves, for racy readers. */
	smp_wmb();
	WRITE_ONCE(s->freeindex, fi);
	/* The count before the window: see mspan_alloc_count(). */
	WRITE_ONCE(s->alloc_claimed, s->alloc_claimed + hweight64(cache));
	/* freeindex and the count before the window: mspan_is_allocated(). */
	smp_wmb();
	WRITE_ONCE(s->alloc_cache, cache);
	raw_spin_unlock_irqrestore(&s->free_lock, flags);
	return mspan_next_free_fast(s);
}
EXPORT_SYMBOL_IF_KUNIT(mspan_next_free);

/**
 * mspan_free_index() - record the free of slot @idx from any CPU
 * @s: the span
 * @idx: slot index, below nelems
 *
 * mspan_free_check() and mspan_free_publish() under the span's
 * free_lock, for callers with nothing to write into the object.
 *
 * Return: 1 when this free took nfreed from 0 to 1 (the caller tells
 * mcentral), 0 for other good frees, -EINVAL for a double free or a slot
 * that was never allocated.
 */
int mspan_free_index(struct mspan *s, unsigned int idx)
{
	unsigned long flags;
	int ret;

	raw_spin_lock_irqsave(&s->free_lock, flags);
	ret = mspan_free_check(s, idx);
	if (!ret)
		ret = mspan_free_publish(s, idx);
	raw_spin_unlock_irqrestore(&s->free_lock, flags);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(mspan_free_index);

/* The slots overlapping kernel page @k of the span; false if none. */
static bool mspan_kpage_slots(const struct mspan *s, unsigned int k,
			      unsigned int *first, unsigned int *last)
{
	unsigned long start = (unsigned long)k << PAGE_SHIFT;

	*first = start / s->elemsize;
	if (*first >= s->nelems)
		return false;
	*last = min_t(unsigned long, s->nelems - 1,
		      (start + PAGE_SIZE - 1) / s->elemsize);
	return true;
}

/* Is slot @idx on one of the kernel pages in @released? */
static bool mspan_slot_on(const struct mspan *s, unsigned int idx,
			  u32 released)
{
	unsigned long first = ((unsigned long)idx * s->elemsize) >> PAGE_SHIFT;
	unsigned long last = ((unsigned long)(idx + 1) * s->elemsize - 1) >>
			     PAGE_SHIFT;

	return released & GENMASK(last, first);
}

/*
 * Allocated slots: those below freeindex, those of the window not in
 * alloc_cache, and those beyond it with an alloc bit.
 */
static unsigned int mspan_count_allocated(const struct mspan *s)
{
	unsigned int fi = s->freeindex, end;

	if (fi >= s->nelems)
		return s->nelems;
	end = min(fi + 64, s->nelems);
	return end - hweight64(s->alloc_cache) +
	       bitmap_weight(s->alloc_bits, s->nelems) -
	       bitmap_weight(s->alloc_bits, end);
}

/*
 * Set the allocation bits of the pinned slots again: a double free of one
 * that raced with its pinning may have cleared it in the sweep.
 */
static void mspan_repin(struct mspan *s)
{
	unsigned int k, first, last;
	unsigned long mask = s->released_kpages;

	for_each_set_bit(k, &mask, BITS_PER_LONG)
		if (mspan_kpage_slots(s, k, &first, &last))
			bitmap_set(s->alloc_bits, first, last - first + 1);
}

/*
 * mspan_sweep() for a span of one word of slots (objects of 128 bytes or
 * more) with no kernel page given back: the window, at slot 0 unless the
 * span is full, covers every slot, so the sweep is a few word operations
 * and every slot is either allocated or in the new window.
 */
static unsigned int mspan_sweep_word(struct mspan *s, unsigned int *dup)
{
	unsigned long mask = BITMAP_LAST_WORD_MASK(s->nelems);
	unsigned long allocated, remote, local, freed, flags, kept;

	raw_spin_lock_irqsave(&s->free_lock, flags);
	/* Full: every slot allocated; else those the window handed out. */
	allocated = s->freeindex ? mask : mask & ~(unsigned long)s->alloc_cache;
	WRITE_ONCE(s->alloc_cache, 0);
	remote = s->free_bits[0];
	local = s->local_free_bits[0];
	s->free_bits[0] = 0;
	s->local_free_bits[0] = 0;
	kept = 0;
	if (unlikely(mspan_rcu_pending(s))) {
		/* goslab_free_rcu() frees keep their free bit and slot. */
		unsigned long pending = mspan_rcu_word(s, 0);

		s->free_bits[0] = remote & pending;
		remote &= ~pending;
		/* A local free of one is a double free: counted below. */
		kept = local & pending;
		local &= ~pending;
	}
	freed = remote | local;
	allocated &= ~freed;
	s->alloc_bits[0] = allocated;
	WRITE_ONCE(s->freeindex, allocated == mask ? s->nelems : 0);
	WRITE_ONCE(s->alloc_claimed, s->nelems);
	/* The count before the window: see mspan_alloc_count(). */
	smp_wmb();
	WRITE_ONCE(s->alloc_cache, mask & ~allocated);
	WRITE_ONCE(s->nfreed, 0);
	s->nlocal_freed = 0;
	raw_spin_unlock_irqrestore(&s->free_lock, flags);
	if (dup)
		*dup = hweight_long(remote & local) +
		       (kept ? hweight_long(kept) : 0);
	return hweight_long(freed);
}

/**
 * mspan_sweep() - make the slots freed since the last sweep allocatable
 * @s: the span; its owner (the CPU caching it, under its cpu lock, or
 *	the holder of its class's mcentral lock)
 * @dup: where to put the number of slots freed twice at once (a local
 *	and a remote free that raced; see internal.h), or NULL
 *
 * Takes the remote and the local free bits under free_lock, so that no
 * remote free is between its check and its bit, folds the window's
 * handed-out slots into the alloc bits and restarts the window at the
 * first free slot. A slot freed twice is freed once; a slot
 * goslab_free_rcu() marked keeps its free bit and stays allocated.
 *
 * Return: the number of slots freed.
 */
unsigned int mspan_sweep(struct mspan *s, unsigned int *dup)
{
	unsigned int words = BITS_TO_LONGS(s->nelems);
	unsigned int fi = s->freeindex;
	unsigned int w, taken = 0, ndup = 0, count = 0;
	u64 handed_out = 0, cache;
	unsigned long flags;
	bool rcu;

	if (s->nelems <= BITS_PER_LONG && !READ_ONCE(s->released_kpages))
		return mspan_sweep_word(s, dup);
	if (fi < s->nelems)
		handed_out = mspan_window_mask(s, fi) & ~s->alloc_cache;
	raw_spin_lock_irqsave(&s->free_lock, flags);
	WRITE_ONCE(s->alloc_cache, 0);
	rcu = mspan_rcu_pending(s);
	for (w = 0; w < words; w++) {
		unsigned long below, allocated, remote, local;
		unsigned int first = w * BITS_PER_LONG;

		if (fi >= first + BITS_PER_LONG)
			below = ~0UL;
		else if (fi > first)
			below = BIT(fi - first) - 1;
		else
			below = 0;
		if (first + BITS_PER_LONG > s->nelems)
			below &= BIT(s->nelems - first) - 1;
		allocated = s->alloc_bits[w] | below;
		if (first >= fi && first < fi + 64)
			allocated |= (unsigned long)(handed_out >> (first - fi));
		remote = s->free_bits[w];
		local = s->local_free_bits[w];
		s->free_bits[w] = 0;
		s->local_free_bits[w] = 0;
		if (unlikely(rcu)) {
			/* goslab_free_rcu() frees keep their free bit and slot. */
			unsigned long pending = mspan_rcu_word(s, w);

			s->free_bits[w] = remote & pending;
			remote &= ~pending;
			ndup += hweight_long(local & pending);
			local &= ~pending;
		}
		taken += hweight_long(remote | local);
		ndup += hweight_long(remote & local);
		allocated &= ~(remote | local);
		s->alloc_bits[w] = allocated;
		count += hweight_long(allocated);
	}
	if (unlikely(s->released_kpages)) {
		mspan_repin(s);
		count = bitmap_weight(s->alloc_bits, s->nelems);
	}
	/*
	 * The window at the first free slot, so that the allocations after
	 * the sweep do not each move it (and take free_lock) past full
	 * windows.
	 */
	for (fi = 0, cache = 0; fi < s->nelems; fi += 64) {
		cache = ~mspan_alloc_word(s, fi / 64) & mspan_window_mask(s, fi);
		if (cache)
			break;
	}
	WRITE_ONCE(s->freeindex, min(fi, s->nelems));
	WRITE_ONCE(s->alloc_claimed, count + hweight64(cache));
	/* The count before the window: see mspan_alloc_count(). */
	smp_wmb();
	WRITE_ONCE(s->alloc_cache, cache);
	WRITE_ONCE(s->nfreed, 0);
	s->nlocal_freed = 0;
	raw_spin_unlock_irqrestore(&s->free_lock, flags);
	if (dup)
		*dup = ndup;
	return taken;
}
EXPORT_SYMBOL_IF_KUNIT(mspan_sweep);

/**
 * mspan_dup_frees() - slots freed twice at once, awaiting the sweep
 * @s: the span, quiescent
 *
 * Return: slots with both a remote and a local free bit.
 */
unsigned int mspan_dup_frees(const struct mspan *s)
{
	unsigned int w, n = 0;

	for (w = 0; w < BITS_TO_LONGS(s->nelems); w++)
		n += hweight_long(s->free_bits[w] & s->local_free_bits[w]);
	return n;
}

/**
 * mspan_live() - objects allocated and not freed
 * @s: the span
 *
 * A slot freed twice at once (awaiting the sweep) counts as freed once;
 * a goslab_free_rcu() free counts only once its generation is folded.
 *
 * Return: the count; exact when no free or allocation is in flight.
 */
unsigned int mspan_live(const struct mspan *s)
{
	unsigned int w, freed = s->npinned, allocated = mspan_alloc_count(s);

	/* A goslab_free_rcu() free is live until its generation is folded. */
	for (w = 0; w < BITS_TO_LONGS(s->nelems); w++)
		freed += hweight_long((s->free_bits[w] | s->local_free_bits[w]) &
				      ~mspan_rcu_word(s, w));
	return allocated - min(freed, allocated);
}
EXPORT_SYMBOL_IF_KUNIT(mspan_live);

/**
 * mspan_scavenge() - pin the slots of the span's kernel pages that hold
 *	no object
 * @s: a span no CPU caches, off its class's lists or under its mcentral
 *	lock; IRQs off (its mcentral lock, on !PREEMPT_RT)
 *
 * A goslab page is two kernel pages, and with 8 KiB spans a span with
 * one live object keeps 8 KiB where SLUB, with 4 KiB slabs, would keep 4
 * KiB. So a kernel page of a span in use whose slots are all free (or
 * pinned already) can go back to the page allocator; its slots are
 * pinned: allocated for good and never handed out, until the whole span
 * goes back to mheap. The caller gives the pages back
 * (mheap_release_span_kpages()): nothing on them is used from here on.
 * Pending frees keep their slots allocated, so their pages stay. A
 * type-safe class's span gives back nothing while it lives: an RCU
 * reader may be reading a freed object on any of its pages.
 *
 * Return: a bit per kernel page of the span newly released.
 */
u32 mspan_scavenge(struct mspan *s)
{
	unsigned int nkpages = min_t(unsigned int,
				     s->npages * GOSLAB_KPAGES_PER_PAGE,
				     GOSLAB_MAX_RELEASED_KPAGES);
	const u32 first_page = BIT(GOSLAB_KPAGES_PER_PAGE) - 1;
	unsigned int k, first, last, i;
	u32 released, fresh = 0;
	unsigned long flags;

	if (!s->cls || s->cls->typesafe_rcu || mspan_is_empty(s))
		return 0;
	raw_spin_lock_irqsave(&s->free_lock, flags);
	released = s->released_kpages;
	for (k = 0; k < nkpages; k++) {
		bool busy = false;

		if (released & BIT(k))
			continue;
		/*
		 * The first goslab page stays in part: the heap finds a span
		 * by the index entry of its first page, and the entry of a
		 * page given back whole may be another chunk's later.
		 */
		if (k < GOSLAB_KPAGES_PER_PAGE &&
		    ((released | BIT(k)) & first_page) == first_page)
			continue;
		if (mspan_kpage_slots(s, k, &first, &last)) {
			/* A slot pinned for a page already gone is no object. */
			for (i = first; i <= last && !busy; i++)
				busy = mspan_is_allocated(s, i) &&
				       !mspan_slot_on(s, i, released);
			if (busy)
				continue;
		}
		released |= BIT(k);
		fresh |= BIT(k);
	}
	if (fresh) {
		unsigned int pinned = 0;

		WRITE_ONCE(s->released_kpages, released);
		for (k = 0; k < nkpages; k++)
			if ((fresh & BIT(k)) &&
			    mspan_kpage_slots(s, k, &first, &last))
				bitmap_set(s->alloc_bits, first,
					   last - first + 1);
		for (i = 0; i < s->nelems; i++)
			pinned += mspan_slot_on(s, i, released);
		s->npinned = pinned;
		/* The window loses the slots just pinned. */
		if (s->freeindex < s->nelems)
			WRITE_ONCE(s->alloc_cache,
				   s->alloc_cache & mspan_window_of_bits(s));
		WRITE_ONCE(s->alloc_claimed, mspan_count_allocated(s) +
			   hweight64(s->alloc_cache));
	}
	raw_spin_unlock_irqrestore(&s->free_lock, flags);
	return fresh;
}

/*
 * The goslab_free_rcu() state of a quiescent span (see the invariants in
 * mspan.h).
 */
static bool mspan_rcu_is_valid(const struct mspan *s)
{
	const unsigned long *g0 = mspan_rcu_bits(s, 0);
	const unsigned long *g1 = mspan_rcu_bits(s, 1);
	unsigned int g, i;

	for (g = 0; g < 2; g++) {
		unsigned int n = bitmap_weight(mspan_rcu_bits(s, g), s->nelems);

		if (n != s->rcu_count[g]) {
			goslab_inv_err("span %p: rcu generation %u counts %u but has %u bits\n",
				       (void *)s->base, g, s->rcu_count[g], n);
			return false;
		}
	}
	if (mspan_rcu_pending(s) && !s->rcu_queued) {
		goslab_inv_err("span %p: goslab_free_rcu() frees pending but not queued\n",
			       (void *)s->base);
		return false;
	}
	g = s->rcu_older;
	if (!s->rcu_count[g] && s->rcu_count[g ^ 1]) {
		goslab_inv_err("span %p: older rcu generation empty, younger holds %u\n",
			       (void *)s->base, s->rcu_count[g ^ 1]);
		return false;
	}
	if (s->rcu_count[g] && s->rcu_count[g ^ 1] &&
	    same_state_synchronize_rcu(s->rcu_cookie[0], s->rcu_cookie[1])) {
		goslab_inv_err("span %p: both rcu generations wait for one cookie\n",
			       (void *)s->base);
		return false;
	}
	for (i = 0; i < s->nelems; i++) {
		bool in0 = test_bit(i, g0), in1 = test_bit(i, g1);

		if (!in0 && !in1)
			continue;
		if (in0 && in1 && !s->tiny) {
			goslab_inv_err("span %p: slot %u in both rcu generations\n",
				       (void *)s->base, i);
			return false;
		}
		if (!mspan_is_allocated(s, i) ||
		    (!s->tiny && !test_bit(i, s->free_bits)) ||
		    (s->tiny && test_bit(i, s->free_bits))) {
			goslab_inv_err("span %p: slot %u pending rcu but not allocated%s\n",
				       (void *)s->base, i,
				       s->tiny ? " or freed" : " with a free bit");
			return false;
		}
	}
	return true;
}

/**
 * mspan_is_valid() - check every invariant of one span
 * @s: the span, quiescent (no allocation or free in flight)
 * @check_cache: also check that allocCache offers no slot with an
 *	allocation bit
 *
 * A slot with both a remote and a local free bit is a racing double
 * free awaiting the sweep, not an inconsistency.
 *
 * Return: true when the span is consistent; each problem is logged.
 */
bool mspan_is_valid(const struct mspan *s, bool check_cache)
{
	unsigned int i, allocated = 0, freed = 0, local = 0;
	bool ok = true;

	if (!s->nelems || !s->elemsize || s->freeindex > s->nelems ||
	    (s->freeindex % 64 && s->freeindex != s->nelems) ||
	    (unsigned long)s->nelems * s->elemsize >
	    (unsigned long)s->npages * GOSLAB_PAGE_SIZE) {
		goslab_inv_err("span %p: bad geometry (nelems %u elemsize %u npages %u freeindex %u)\n",
			       (void *)s->base, s->nelems, s->elemsize, s->npages,
			       s->freeindex);
		return false;
	}
	if (s->freeindex < s->nelems ?
	    s->alloc_cache & ~mspan_window_mask(s, s->freeindex) :
	    s->alloc_cache) {
		goslab_inv_err("span %p: allocCache %llx has bits past the span's last slot\n",
			       (void *)s->base, s->alloc_cache);
		ok = false;
	}
	for (i = 0; i < s->nelems; i++) {
		bool a = mspan_is_allocated(s, i);

		allocated += a;
		freed += test_bit(i, s->free_bits) &&
			 !(mspan_rcu_word(s, i / BITS_PER_LONG) &
			   BIT(i % BITS_PER_LONG));
		local += test_bit(i, s->local_free_bits);
		if ((test_bit(i, s->free_bits) || test_bit(i, s->local_free_bits)) &&
		    !a) {
			goslab_inv_err("span %p: slot %u freed but not allocated\n",
				       (void *)s->base, i);
			ok = false;
		}
	}
	if (find_next_bit(s->alloc_bits, BITS_TO_LONGS(s->nelems) *
			  BITS_PER_LONG, s->nelems) <
	    BITS_TO_LONGS(s->nelems) * BITS_PER_LONG) {
		goslab_inv_err("span %p: allocation bit beyond nelems\n",
			       (void *)s->base);
		ok = false;
	}
	if (s->released_kpages) {
		unsigned long mask = s->released_kpages;
		unsigned int k, first, last, pinned = 0, j;

		for (j = 0; j < s->nelems; j++) {
			bool p = false;

			for_each_set_bit(k, &mask, BITS_PER_LONG)
				if (mspan_kpage_slots(s, k, &first, &last) &&
				    j >= first && j <= last)
					p = true;
			if (!p)
				continue;
			pinned++;
			if (!test_bit(j, s->alloc_bits) ||
			    test_bit(j, s->free_bits) ||
			    test_bit(j, s->local_free_bits)) {
				goslab_inv_err("span %p: pinned slot %u not allocated or freed\n",
					       (void *)s->base, j);
				ok = false;
			}
		}
		if (pinned != s->npinned) {
			goslab_inv_err("span %p: %u pinned slots, npinned %u\n",
				       (void *)s->base, pinned, s->npinned);
			ok = false;
		}
	} else if (s->npinned) {
		goslab_inv_err("span %p: npinned %u with no page released\n",
			       (void *)s->base, s->npinned);
		ok = false;
	}
	if (!mspan_rcu_is_valid(s))
		ok = false;
	if (s->cls && s->cls->ops && s->cls->ops->span_is_valid &&
	    !s->cls->ops->span_is_valid(s))
		ok = false;
	if (allocated + hweight64(s->alloc_cache) != s->alloc_claimed) {
		goslab_inv_err("span %p: alloc_claimed %u but %u slots allocated and %u in allocCache\n",
			       (void *)s->base, s->alloc_claimed, allocated,
			       (unsigned int)hweight64(s->alloc_cache));
		ok = false;
	}
	if (freed != s->nfreed || local != s->nlocal_freed) {
		goslab_inv_err("span %p: nfreed %u/%u but %u/%u free bits\n",
			       (void *)s->base, s->nfreed, s->nlocal_freed, freed,
			       local);
		ok = false;
	}
	if (check_cache && s->freeindex < s->nelems) {
		unsigned int k;

		/* A slot in the window is free there only if its bits say so. */
		for (k = 0; k < 64 && s->freeindex + k < s->nelems; k++) {
			unsigned int j = s->freeindex + k;

			if (((s->alloc_cache >> k) & 1) &&
			    test_bit(j, s->alloc_bits)) {
				goslab_inv_err("span %p: allocCache bit %u set for slot %u, which has an alloc bit\n",
					       (void *)s->base, k, j);
				ok = false;
				break;
			}
		}
	}
	return ok;
}
EXPORT_SYMBOL_IF_KUNIT(mspan_is_valid);

#if IS_ENABLED(CONFIG_KUNIT)
/* For goslab's KUnit suites: a local free without an object to write. */

/**
 * mspan_free_index_local() - record a free on the CPU caching the span
 * @s: the span, in this CPU's mcache; the cpu lock held
 * @idx: slot index, below nelems
 *
 * Return: 0, or -EINVAL for a double free or a slot never allocated.
 */
int mspan_free_index_local(struct mspan *s, unsigned int idx)
{
	int ret = mspan_free_check_local(s, idx);

	if (!ret)
		mspan_free_publish_local(s, idx);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(mspan_free_index_local);
#endif
