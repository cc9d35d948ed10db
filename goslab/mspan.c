// SPDX-License-Identifier: GPL-2.0
/*
 * mspan.c - one span: its allocation bits, the allocCache window, frees
 * and the sweep.
 *
 * A span is Go's mspan: a run of goslab pages carved into nelems objects
 * of elemsize bytes. Allocation advances freeindex through the slots that
 * alloc_bits leaves free, 64 at a time through the inverted allocCache
 * window (mspan_next_free_fast() in internal.h, mspan_next_free() here).
 * Frees only set a bit in free_bits; the sweep folds them back into
 * alloc_bits and restarts freeindex at 0, as Go's sweep installs the mark
 * bits as the new allocation bits. Locking is the caller's: the owner of
 * the allocation state (see internal.h) calls everything here but
 * mspan_free_index(), which any CPU may call.
 */
#include "internal.h"

size_t mspan_desc_size(unsigned int nelems)
{
	return struct_size_t(struct mspan, bits, 3 * BITS_TO_LONGS(nelems));
}
EXPORT_SYMBOL_NS_GPL(mspan_desc_size, GOSLAB_INTERNAL);

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
	s->cls = NULL;
	s->chunk = NULL;
	s->freeindex = 0;
	s->alloc_count = 0;
	s->released_kpages = 0;
	s->npinned = 0;
	s->tiny = NULL;
	s->state = MSPAN_DEAD;
	INIT_LIST_HEAD(&s->list);
	atomic_set(&s->nfreed, 0);
	s->nlocal_freed = 0;
	s->alloc_bits = s->bits;
	s->free_bits = s->bits + words;
	s->local_free_bits = s->bits + 2 * words;
	bitmap_zero(s->alloc_bits, nelems);
	bitmap_zero(s->free_bits, nelems);
	bitmap_zero(s->local_free_bits, nelems);
	mspan_refill_alloc_cache(s, 0);
}
EXPORT_SYMBOL_NS_GPL(mspan_init, GOSLAB_INTERNAL);

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

/**
 * mspan_refill_alloc_cache() - load the allocCache window at freeindex
 * @s: the span
 * @whichword: the 64-slot window holding freeindex (freeindex / 64)
 *
 * Go's refillAllocCache: the cache is the inverted allocation bits,
 * shifted so that bit 0 is slot freeindex.
 */
void mspan_refill_alloc_cache(struct mspan *s, unsigned int whichword)
{
	s->alloc_cache = ~mspan_alloc_word(s, whichword) >> (s->freeindex % 64);
}

/**
 * mspan_next_free() - allocate when the allocCache window is used up
 * @s: the span; its owner's IRQs are off
 *
 * Go's nextFreeIndex: walk the windows past freeindex until one has a
 * free slot, and take it.
 *
 * Return: the object, or NULL when the span is full.
 */
void *mspan_next_free(struct mspan *s)
{
	unsigned int sfreeindex = s->freeindex;
	unsigned int bit, result;
	u64 cache;

	if (sfreeindex >= s->nelems)
		return NULL;
	cache = s->alloc_cache;
	while (!cache) {
		sfreeindex = (sfreeindex + 64) & ~63U;
		if (sfreeindex >= s->nelems) {
			s->freeindex = s->nelems;
			return NULL;
		}
		s->freeindex = sfreeindex;
		mspan_refill_alloc_cache(s, sfreeindex / 64);
		cache = s->alloc_cache;
	}
	bit = __ffs64(cache);
	result = sfreeindex + bit;
	if (result >= s->nelems) {
		s->freeindex = s->nelems;
		s->alloc_cache = 0;
		return NULL;
	}
	s->alloc_cache = (cache >> bit) >> 1;
	sfreeindex = result + 1;
	s->freeindex = sfreeindex;
	if (sfreeindex % 64 == 0 && sfreeindex != s->nelems)
		mspan_refill_alloc_cache(s, sfreeindex / 64);
	s->alloc_count++;
	return (void *)(s->base + (unsigned long)result * s->elemsize);
}
EXPORT_SYMBOL_NS_GPL(mspan_next_free, GOSLAB_INTERNAL);

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
	/* Called by the sweep, which has folded freeindex into the bits. */
	s->alloc_count = bitmap_weight(s->alloc_bits, s->nelems);
}

/**
 * mspan_sweep() - make the slots freed since the last sweep allocatable
 * @s: the span; not cached, its mcentral lock held (or otherwise owned)
 *
 * Takes the free bits with xchg() so that frees racing with the sweep are
 * either taken now or left for the next one, and the owner's local free
 * bits; restarts freeindex at 0.
 *
 * Return: the number of frees taken.
 */
unsigned int mspan_sweep(struct mspan *s)
{
	unsigned int words = BITS_TO_LONGS(s->nelems);
	unsigned int fi = s->freeindex;
	unsigned int w, taken = 0, local = 0, count = 0;

	for (w = 0; w < words; w++) {
		unsigned long below, allocated, freed;
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
		freed = READ_ONCE(s->free_bits[w]) ? xchg(&s->free_bits[w], 0) : 0;
		taken += hweight_long(freed);
		if (s->local_free_bits[w]) {
			local += hweight_long(s->local_free_bits[w]);
			freed |= s->local_free_bits[w];
			s->local_free_bits[w] = 0;
		}
		allocated &= ~freed;
		s->alloc_bits[w] = allocated;
		count += hweight_long(allocated);
	}
	s->alloc_count = count;
	if (unlikely(s->released_kpages))
		mspan_repin(s);
	/* New bits before freeindex: see mspan_is_allocated(). */
	smp_wmb();
	WRITE_ONCE(s->freeindex, 0);
	mspan_refill_alloc_cache(s, 0);
	if (taken)
		atomic_sub(taken, &s->nfreed);
	s->nlocal_freed -= local;
	return taken + local;
}
EXPORT_SYMBOL_NS_GPL(mspan_sweep, GOSLAB_INTERNAL);

/**
 * mspan_live() - objects allocated and not freed
 * @s: the span
 *
 * Return: the count; exact when no free or allocation is in flight.
 */
unsigned int mspan_live(const struct mspan *s)
{
	unsigned int freed = bitmap_weight(s->free_bits, s->nelems) +
			     bitmap_weight(s->local_free_bits, s->nelems) +
			     s->npinned;

	return s->alloc_count - min(freed, s->alloc_count);
}

/**
 * mspan_scavenge() - give back the kernel pages of a span that hold no
 *	object
 * @s: a swept span with no pending free, not cached; mcentral lock held
 *
 * A goslab page is two kernel pages, and with 8 KiB spans a span with
 * one live object keeps 8 KiB where SLUB, with 4 KiB slabs, would keep 4
 * KiB. So a kernel page of a span in use whose slots are all free goes
 * back to the page allocator, and those slots are pinned: allocated for
 * good and never handed out, until the whole span goes back to mheap.
 *
 * Return: the number of kernel pages given back.
 */
unsigned int mspan_scavenge(struct mspan *s)
{
	unsigned int k, first, last, n = 0;
	unsigned int nkpages = s->npages * GOSLAB_KPAGES_PER_PAGE;

	if (!s->cls || mspan_is_empty(s))
		return 0;
	for (k = 0; k < nkpages && k < 32; k++) {
		if (s->released_kpages & BIT(k))
			continue;
		if (mspan_kpage_slots(s, k, &first, &last)) {
			unsigned int i;
			bool busy = false;

			for (i = first; i <= last && !busy; i++)
				busy = mspan_is_allocated(s, i);
			if (busy)
				continue;
			bitmap_set(s->alloc_bits, first, last - first + 1);
		}
		WRITE_ONCE(s->released_kpages, s->released_kpages | BIT(k));
		mheap_release_span_kpage(s, k);
		n++;
	}
	if (n) {
		unsigned int pinned = 0;
		unsigned long mask = s->released_kpages;

		/* Slots straddling two released pages count once. */
		bitmap_zero(s->local_free_bits, s->nelems);
		for_each_set_bit(k, &mask, BITS_PER_LONG)
			if (mspan_kpage_slots(s, k, &first, &last))
				bitmap_set(s->local_free_bits, first,
					   last - first + 1);
		pinned = bitmap_weight(s->local_free_bits, s->nelems);
		bitmap_zero(s->local_free_bits, s->nelems);
		s->alloc_count += pinned - s->npinned;
		s->npinned = pinned;
		mspan_refill_alloc_cache(s, 0);
	}
	return n;
}
EXPORT_SYMBOL_NS_GPL(mspan_live, GOSLAB_INTERNAL);

/**
 * mspan_is_valid() - check every invariant of one span
 * @s: the span, quiescent (no allocation or free in flight)
 * @check_cache: also check allocCache against the allocation bits
 *
 * Return: true when the span is consistent; each problem is logged.
 */
bool mspan_is_valid(const struct mspan *s, bool check_cache)
{
	unsigned int i, allocated = 0, freed = 0, local = 0;
	bool ok = true;

	if (!s->nelems || !s->elemsize || s->freeindex > s->nelems ||
	    (unsigned long)s->nelems * s->elemsize >
	    (unsigned long)s->npages * GOSLAB_PAGE_SIZE) {
		inv_err("span %p: bad geometry (nelems %u elemsize %u npages %u freeindex %u)\n",
			(void *)s->base, s->nelems, s->elemsize, s->npages,
			s->freeindex);
		return false;
	}
	for (i = 0; i < s->nelems; i++) {
		bool a = i < s->freeindex || test_bit(i, s->alloc_bits);

		allocated += a;
		freed += test_bit(i, s->free_bits);
		local += test_bit(i, s->local_free_bits);
		if ((test_bit(i, s->free_bits) || test_bit(i, s->local_free_bits)) &&
		    (!a || (test_bit(i, s->free_bits) &&
			    test_bit(i, s->local_free_bits)))) {
			inv_err("span %p: slot %u freed twice or not allocated\n",
				(void *)s->base, i);
			ok = false;
		}
	}
	if (find_next_bit(s->alloc_bits, BITS_TO_LONGS(s->nelems) *
			  BITS_PER_LONG, s->nelems) <
	    BITS_TO_LONGS(s->nelems) * BITS_PER_LONG) {
		inv_err("span %p: allocation bit beyond nelems\n",
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
				inv_err("span %p: pinned slot %u not allocated or freed\n",
					(void *)s->base, j);
				ok = false;
			}
		}
		if (pinned != s->npinned) {
			inv_err("span %p: %u pinned slots, npinned %u\n",
				(void *)s->base, pinned, s->npinned);
			ok = false;
		}
	} else if (s->npinned) {
		inv_err("span %p: npinned %u with no page released\n",
			(void *)s->base, s->npinned);
		ok = false;
	}
	if (s->tiny && !goslab_tiny_span_is_valid(s))
		ok = false;
	if (allocated != s->alloc_count) {
		inv_err("span %p: alloc_count %u but %u slots allocated\n",
			(void *)s->base, s->alloc_count, allocated);
		ok = false;
	}
	if (freed != (unsigned int)atomic_read(&s->nfreed) ||
	    local != s->nlocal_freed) {
		inv_err("span %p: nfreed %d/%u but %u/%u free bits\n",
			(void *)s->base, atomic_read(&s->nfreed),
			s->nlocal_freed, freed, local);
		ok = false;
	}
	if (check_cache && s->freeindex < s->nelems) {
		unsigned int k, window = 64 - s->freeindex % 64;

		for (k = 0; k < window && s->freeindex + k < s->nelems; k++) {
			bool cache_free = (s->alloc_cache >> k) & 1;
			bool bit = test_bit(s->freeindex + k, s->alloc_bits);

			if (cache_free == bit) {
				inv_err("span %p: allocCache bit %u disagrees with slot %u\n",
					(void *)s->base, k, s->freeindex + k);
				ok = false;
				break;
			}
		}
	}
	return ok;
}
EXPORT_SYMBOL_NS_GPL(mspan_is_valid, GOSLAB_INTERNAL);
