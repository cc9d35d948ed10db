// SPDX-License-Identifier: GPL-2.0
/*
 * mheap.c - the page heap: chunks from alloc_pages(), spans carved from
 * them, and the arena index from an address to its span.
 *
 * Go's mheap owns the address space in 64 MiB arenas and hands out runs
 * of 8 KiB pages as spans. goslab's heap owns naturally aligned chunks
 * from the buddy allocator (up to 4 MiB, the largest order it gives), a
 * bitmap of goslab pages per chunk, and finds a run first-fit. The heap
 * grows by chunks proportional to its size (an eighth of it, like Go's
 * growth rounding), falling back to smaller orders when large blocks are
 * scarce. A chunk is split into order-0 pages (split_page()) as soon as
 * it arrives, so that its free pages can go back to the buddy allocator
 * one by one, as Go's scavenger returns free pages to the OS: a chunk
 * with no span goes back at once unless it is the one free chunk kept
 * for the next span, and mheap_scavenge() (on shrink) gives back every
 * free page. A page given back is "released": it stays marked in the
 * chunk's inuse bitmap, so it is never carved again.
 *
 * The arena index is Go's arena map in two levels over physical
 * addresses: arena_l1[] (sized for the memory present at load) -> a table
 * of 512 arena pointers -> struct goslab_arena, a span pointer per goslab
 * page. Entries are written under mheap.lock and read without a lock;
 * tables and arenas are never freed before module exit, so a lookup never
 * reads freed memory. A pointer is first checked to lie in the direct
 * map (see __mheap_span_of()), so goslab never reads another allocator's
 * struct page.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include "internal.h"

#define ARENA_L2_LEN		BIT(GOSLAB_ARENA_L2_BITS)
/* The smallest chunk worth a trip to the buddy allocator: 32 KiB. */
#define CHUNK_MIN_ORDER		3

/**
 * struct mheap - the page heap
 * @lock: protects everything below and writes to the arena index
 * @chunks: every chunk taken from the buddy allocator
 * @st: counters (see struct goslab_heap_stats)
 * @free_chunks: chunks with no page in use
 */
struct mheap {
	spinlock_t lock;	/* innermost goslab lock, IRQ-safe */
	struct list_head chunks;
	struct goslab_heap_stats st;
	unsigned long free_chunks;
};

static struct mheap mheap = {
	.lock = __SPIN_LOCK_UNLOCKED(mheap.lock),
	.chunks = LIST_HEAD_INIT(mheap.chunks),
};

/**
 * struct page_cache - Go's pageCache: a CPU's window of free heap pages
 * @chunk: the chunk the window lies in
 * @base: address of the window's first goslab page
 * @cache: bit i set: the page at @base + i pages is free and this CPU's
 *
 * One-page spans (most size classes) are carved from it with IRQs off
 * and no heap lock. Pages in a page cache are marked in use in their
 * chunk and counted in pages_small (and in pcache_pages) from the moment
 * the cache takes them, so carving one touches no heap counter. Only its
 * CPU touches it, with IRQs off, except when the CPU is offline.
 */
struct page_cache {
	struct heap_chunk *chunk;
	unsigned long base;
	u64 cache;
};

static DEFINE_PER_CPU(struct page_cache, goslab_pcache);
static atomic_long_t pcache_pages = ATOMIC_LONG_INIT(0);
/* Span descriptors, counted apart: page-cache spans take no heap lock. */
static atomic_long_t span_meta_bytes = ATOMIC_LONG_INIT(0);

struct goslab_arena ***goslab_arena_l1;
unsigned long goslab_arena_l1_len;
unsigned long goslab_direct_map_size;

unsigned int goslab_fail_page_alloc_nth;
module_param_named(fail_page_alloc_nth, goslab_fail_page_alloc_nth, uint,
		   0644);
MODULE_PARM_DESC(fail_page_alloc_nth,
		 "fault injection: fail every Nth page allocation goslab makes (0: never)");
EXPORT_SYMBOL_NS_GPL(goslab_fail_page_alloc_nth, GOSLAB_INTERNAL);

static atomic_t page_alloc_calls = ATOMIC_INIT(0);
atomic_long_t goslab_injected_failures = ATOMIC_LONG_INIT(0);
EXPORT_SYMBOL_NS_GPL(goslab_injected_failures, GOSLAB_INTERNAL);

/**
 * goslab_should_fail_page_alloc() - the fault-injection decision
 *
 * Return: true when this page allocation is to fail.
 */
bool goslab_should_fail_page_alloc(void)
{
	unsigned int nth = READ_ONCE(goslab_fail_page_alloc_nth);

	if (!nth)
		return false;
	if ((unsigned int)atomic_inc_return(&page_alloc_calls) % nth)
		return false;
	atomic_long_inc(&goslab_injected_failures);
	return true;
}

/* The gfp bits that say how hard to try, without zone or zeroing bits. */
static gfp_t heap_gfp(gfp_t gfp)
{
	return gfp & (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HIGH |
		      __GFP_NOWARN | __GFP_NORETRY | __GFP_RETRY_MAYFAIL |
		      __GFP_NOFAIL | __GFP_MEMALLOC | __GFP_NOMEMALLOC);
}

#define arena_l1	goslab_arena_l1
#define arena_l1_len	goslab_arena_l1_len
#define arena_of	goslab_arena_of

static unsigned int arena_page(unsigned long addr)
{
	return (__pa(addr) & (GOSLAB_ARENA_SIZE - 1)) >> GOSLAB_PAGE_SHIFT;
}

/**
 * mheap_span_of() - the span owning the memory at @p
 * @p: any pointer
 *
 * The out-of-line __mheap_span_of(), for the layers' tests.
 *
 * Return: the span, or NULL when goslab does not own @p.
 */
struct mspan *mheap_span_of(const void *p)
{
	return __mheap_span_of(p);
}
EXPORT_SYMBOL_NS_GPL(mheap_span_of, GOSLAB_INTERNAL);

/*
 * Make sure the index has a table and an arena for @pa. Allocates with
 * @gfp outside the lock, installs under it.
 */
static int arena_prepare(phys_addr_t pa, gfp_t gfp)
{
	unsigned long ai = pa >> GOSLAB_ARENA_SHIFT;
	unsigned long i1 = ai >> GOSLAB_ARENA_L2_BITS;
	struct goslab_arena **l2 = NULL, *a = NULL;
	unsigned long flags;

	if (i1 >= arena_l1_len) {
		pr_warn_once("memory at %pa is beyond the arena index (sized at load); not using it\n",
			     &pa);
		return -ERANGE;
	}
	if (!READ_ONCE(arena_l1[i1])) {
		l2 = kcalloc(ARENA_L2_LEN, sizeof(*l2), gfp);
		if (!l2)
			return -ENOMEM;
	}
	if (!arena_of(pa)) {
		a = kzalloc(sizeof(*a), gfp);
		if (!a) {
			kfree(l2);
			return -ENOMEM;
		}
	}
	spin_lock_irqsave(&mheap.lock, flags);
	if (l2 && !arena_l1[i1]) {
		/* A lock-free reader seeing the table sees it zeroed. */
		smp_store_release(&arena_l1[i1], l2);
		mheap.st.meta_bytes += kmalloc_size_roundup(ARENA_L2_LEN *
							    sizeof(*l2));
		l2 = NULL;
	}
	if (a && !arena_l1[i1][ai & (ARENA_L2_LEN - 1)]) {
		/* Likewise for the arena. */
		smp_store_release(&arena_l1[i1][ai & (ARENA_L2_LEN - 1)], a);
		mheap.st.meta_bytes += kmalloc_size_roundup(sizeof(*a));
		a = NULL;
	}
	spin_unlock_irqrestore(&mheap.lock, flags);
	kfree(l2);
	kfree(a);
	return 0;
}

static void arena_set(struct mspan *s, struct mspan *val)
{
	struct goslab_arena *a = arena_of(__pa(s->base));
	unsigned int first = arena_page(s->base), i;

	lockdep_assert_held(&mheap.lock);
	for (i = 0; i < s->npages; i++)
		/* mheap_span_of() must see the span initialized. */
		smp_store_release(&a->spans[first + i], val);
}

/* Kernel pages of a split chunk are order-0 pages: freed one by one. */
static void free_goslab_page(unsigned long addr)
{
	unsigned int k;

	for (k = 0; k < GOSLAB_KPAGES_PER_PAGE; k++)
		__free_page(virt_to_page((void *)(addr + k * PAGE_SIZE)));
}

static void mheap_release_chunk(struct heap_chunk *chunk)
{
	unsigned int i;

	for (i = 0; i < chunk->npages; i++)
		if (!test_bit(i, chunk->released))
			free_goslab_page(chunk->base + i * GOSLAB_PAGE_SIZE);
	kfree(chunk);
}

static bool chunk_has_spans(const struct heap_chunk *chunk)
{
	return chunk->nfree + chunk->nreleased != chunk->npages;
}

/* Take a chunk with no span off the heap; the caller releases it. */
static void mheap_unlink_chunk(struct heap_chunk *chunk)
{
	lockdep_assert_held(&mheap.lock);
	list_del(&chunk->list);
	if (!chunk->nreleased)
		mheap.free_chunks--;
	mheap.st.meta_bytes -= kmalloc_size_roundup(sizeof(*chunk));
	mheap.st.chunks--;
	mheap.st.pages_total -= chunk->nfree;
	mheap.st.pages_free -= chunk->nfree;
	mheap.st.kpages_returned += (unsigned long)chunk->nfree *
				    GOSLAB_KPAGES_PER_PAGE;
}

/* The order of the next chunk: enough for @need, an eighth of the heap. */
static unsigned int chunk_order(unsigned int need)
{
	unsigned long kpages = READ_ONCE(mheap.st.pages_total) *
			       GOSLAB_KPAGES_PER_PAGE;
	unsigned int order = CHUNK_MIN_ORDER;

	if (kpages / 8 > 1)
		order = max_t(unsigned int, order, ilog2(kpages / 8));
	order = max(order, need);
	return min_t(unsigned int, order, MAX_PAGE_ORDER);
}

static struct heap_chunk *mheap_grow(unsigned int need, gfp_t gfp)
{
	unsigned int order = chunk_order(need);
	struct heap_chunk *chunk;
	struct page *page = NULL;

	chunk = kzalloc(sizeof(*chunk), heap_gfp(gfp) & ~__GFP_NOFAIL);
	if (!chunk)
		return NULL;
	for (;; order--) {
		gfp_t g = gfp;

		/*
		 * A bigger chunk than needed is only worth it when it comes
		 * easily: no reclaim, no retries, no warning.
		 */
		if (order > need)
			g = (gfp & ~(__GFP_DIRECT_RECLAIM | __GFP_NOFAIL)) |
			    __GFP_NOWARN | __GFP_NORETRY;
		else if (order > 1)
			g &= ~__GFP_NOFAIL;
		if (!goslab_should_fail_page_alloc())
			page = alloc_pages(g, order);
		if (page || order == need)
			break;
	}
	if (!page) {
		kfree(chunk);
		return NULL;
	}
	split_page(page, order);
	chunk->base = (unsigned long)page_address(page);
	chunk->order = order;
	chunk->npages = (1U << order) / GOSLAB_KPAGES_PER_PAGE;
	chunk->nfree = chunk->npages;
	if (arena_prepare(__pa(chunk->base), heap_gfp(gfp) & ~__GFP_NOFAIL)) {
		mheap_release_chunk(chunk);
		return NULL;
	}
	return chunk;
}

/* First fit of @npages pages in the heap; returns the chunk and start. */
static struct heap_chunk *mheap_find(unsigned int npages, unsigned int *start)
{
	struct heap_chunk *chunk;

	lockdep_assert_held(&mheap.lock);
	list_for_each_entry(chunk, &mheap.chunks, list) {
		unsigned long i;

		if (chunk->nfree < npages)
			continue;
		i = bitmap_find_next_zero_area(chunk->inuse, chunk->npages, 0,
					       npages, 0);
		if (i < chunk->npages) {
			*start = i;
			return chunk;
		}
	}
	return NULL;
}

/* A span's descriptor: the struct and its bitmaps. */
static size_t span_desc_size(struct goslab_class *cls, unsigned int nelems)
{
	return mspan_desc_size(nelems);
}

static void span_set_class(struct mspan *s, struct goslab_class *cls)
{
	s->cls = cls;
}

/**
 * mheap_span_meta() - count @bytes of metadata kept for a span
 * @bytes: positive when allocated, negative when freed
 *
 * For what other layers keep per span (the tiny allocator's block words).
 */
void mheap_span_meta(long bytes)
{
	atomic_long_add(bytes, &span_meta_bytes);
}

/*
 * Fill an empty page cache with the free pages of the 64-page window of
 * @chunk around page @start (Go's allocToCache). Heap lock held, IRQs off.
 */
static void pcache_refill_locked(struct page_cache *pc,
				 struct heap_chunk *chunk, unsigned int start)
{
	unsigned int first = round_down(start, 64), i, n = 0;
	unsigned int end = min(first + 64, chunk->npages);
	u64 bits = 0;

	lockdep_assert_held(&mheap.lock);
	if (pc->cache)
		return;
	for (i = first; i < end; i++) {
		if (test_bit(i, chunk->inuse))
			continue;
		__set_bit(i, chunk->inuse);
		bits |= BIT_ULL(i - first);
		n++;
	}
	if (!n)
		return;
	chunk->nfree -= n;
	mheap.st.pages_free -= n;
	mheap.st.pages_small += n;
	atomic_long_add(n, &pcache_pages);
	pc->chunk = chunk;
	pc->base = chunk->base + first * GOSLAB_PAGE_SIZE;
	pc->cache = bits;
}

/* Give a page cache's pages back to the heap. Heap lock held. */
static void pcache_flush_locked(struct page_cache *pc)
{
	struct heap_chunk *chunk = pc->chunk;
	unsigned int first, bit, n = 0;

	lockdep_assert_held(&mheap.lock);
	if (!pc->cache)
		return;
	first = (pc->base - chunk->base) >> GOSLAB_PAGE_SHIFT;
	while (pc->cache) {
		bit = __ffs64(pc->cache);
		pc->cache &= pc->cache - 1;
		__clear_bit(first + bit, chunk->inuse);
		n++;
	}
	chunk->nfree += n;
	mheap.st.pages_free += n;
	mheap.st.pages_small -= n;
	atomic_long_sub(n, &pcache_pages);
	if (!chunk_has_spans(chunk) && !chunk->nreleased)
		mheap.free_chunks++;
}

/*
 * Carve a one-page span from this CPU's page cache: no heap lock. The
 * page is this CPU's, so its arena entry is written without the lock.
 */
static bool mheap_alloc_from_pcache(struct mspan *s, struct goslab_class *cls)
{
	struct heap_chunk *chunk;
	struct page_cache *pc;
	unsigned long flags, base;
	struct goslab_arena *a;
	unsigned int bit;

	local_irq_save(flags);
	pc = this_cpu_ptr(&goslab_pcache);
	if (!pc->cache) {
		local_irq_restore(flags);
		return false;
	}
	bit = __ffs64(pc->cache);
	pc->cache &= pc->cache - 1;
	base = pc->base + bit * GOSLAB_PAGE_SIZE;
	chunk = pc->chunk;
	local_irq_restore(flags);
	atomic_long_dec(&pcache_pages);
	atomic_long_add(kmalloc_size_roundup(span_desc_size(cls, cls->nelems)),
			&span_meta_bytes);
	mspan_init(s, base, 1, cls->elemsize, cls->nelems);
	span_set_class(s, cls);
	s->chunk = chunk;
	a = arena_of(__pa(base));
	/* mheap_span_of() must see the span initialized. */
	smp_store_release(&a->spans[arena_page(base)], s);
	return true;
}

static void pcache_flush_cpu(void *unused)
{
	unsigned long flags;

	spin_lock_irqsave(&mheap.lock, flags);
	pcache_flush_locked(this_cpu_ptr(&goslab_pcache));
	spin_unlock_irqrestore(&mheap.lock, flags);
}

/**
 * mheap_pcache_flush_cpu() - empty the page cache of an offline CPU
 * @cpu: the CPU, offline (or the caller runs on it with IRQs off)
 */
void mheap_pcache_flush_cpu(unsigned int cpu)
{
	unsigned long flags;

	spin_lock_irqsave(&mheap.lock, flags);
	pcache_flush_locked(per_cpu_ptr(&goslab_pcache, cpu));
	spin_unlock_irqrestore(&mheap.lock, flags);
}

/**
 * mheap_pcache_flush_all() - give every page cache's pages to the heap
 *
 * Context: process context; may sleep.
 */
void mheap_pcache_flush_all(void)
{
	int cpu;

	cpus_read_lock();
	on_each_cpu(pcache_flush_cpu, NULL, 1);
	for_each_possible_cpu(cpu)
		if (!cpu_online(cpu))
			mheap_pcache_flush_cpu(cpu);
	cpus_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(mheap_pcache_flush_all, GOSLAB_INTERNAL);

/**
 * mheap_pcache_pages_cpu() - goslab pages one CPU's page cache holds
 * @cpu: the CPU
 *
 * Return: the count; a racy read for any CPU but an offline one.
 */
unsigned int mheap_pcache_pages_cpu(unsigned int cpu)
{
	return hweight64(READ_ONCE(per_cpu_ptr(&goslab_pcache, cpu)->cache));
}
EXPORT_SYMBOL_NS_GPL(mheap_pcache_pages_cpu, GOSLAB_INTERNAL);

/**
 * mheap_pcache_pages() - goslab pages the page caches hold
 *
 * Return: the count.
 */
unsigned long mheap_pcache_pages(void)
{
	return atomic_long_read(&pcache_pages);
}
EXPORT_SYMBOL_NS_GPL(mheap_pcache_pages, GOSLAB_INTERNAL);

/**
 * mheap_alloc_span() - take a span of @npages goslab pages from the heap
 * @cls: the span class, or NULL for a large object
 * @npages: goslab pages (1 .. GOSLAB_PAGES_PER_ARENA)
 * @gfp: how hard to try; may sleep when it allows
 *
 * Context: no goslab lock held; IRQs as the caller's gfp requires.
 * Return: an initialized span (state DEAD, every slot free) published in
 * the arena index, or NULL.
 */
struct mspan *mheap_alloc_span(struct goslab_class *cls, unsigned int npages,
			       gfp_t gfp)
{
	unsigned int nelems = cls ? cls->nelems : 1;
	unsigned int need = order_base_2(npages * GOSLAB_KPAGES_PER_PAGE);
	struct heap_chunk *chunk, *fresh;
	unsigned long flags;
	unsigned int start;
	struct mspan *s;

	s = kmalloc(span_desc_size(cls, nelems), heap_gfp(gfp) & ~__GFP_NOFAIL);
	if (!s)
		return NULL;
	if (cls && npages == 1 && mheap_alloc_from_pcache(s, cls))
		return s;
	spin_lock_irqsave(&mheap.lock, flags);
	while (!(chunk = mheap_find(npages, &start))) {
		spin_unlock_irqrestore(&mheap.lock, flags);
		fresh = mheap_grow(need, gfp);
		if (!fresh) {
			kfree(s);
			return NULL;
		}
		spin_lock_irqsave(&mheap.lock, flags);
		list_add(&fresh->list, &mheap.chunks);
		mheap.st.chunks++;
		mheap.st.pages_total += fresh->npages;
		mheap.st.pages_free += fresh->npages;
		mheap.st.kpages_taken += 1UL << fresh->order;
		mheap.st.meta_bytes += kmalloc_size_roundup(sizeof(*fresh));
		mheap.free_chunks++;
	}
	if (chunk->nfree == chunk->npages)
		mheap.free_chunks--;
	bitmap_set(chunk->inuse, start, npages);
	chunk->nfree -= npages;
	mheap.st.pages_free -= npages;
	atomic_long_add(kmalloc_size_roundup(span_desc_size(cls, nelems)),
			&span_meta_bytes);
	if (cls) {
		mspan_init(s, chunk->base + start * GOSLAB_PAGE_SIZE, npages,
			   cls->elemsize, cls->nelems);
		span_set_class(s, cls);
		mheap.st.pages_small += npages;
	} else {
		mspan_init(s, chunk->base + start * GOSLAB_PAGE_SIZE, npages,
			   npages * GOSLAB_PAGE_SIZE, 1);
		/* The object is handed out as soon as the span is published. */
		s->freeindex = 1;
		s->alloc_count = 1;
		s->alloc_cache = 0;
		s->state = MSPAN_LARGE;
		mheap.st.pages_large += npages;
		mheap.st.large_objects++;
	}
	s->chunk = chunk;
	arena_set(s, s);
	if (cls && npages == 1)
		pcache_refill_locked(this_cpu_ptr(&goslab_pcache), chunk, start);
	spin_unlock_irqrestore(&mheap.lock, flags);
	return s;
}
EXPORT_SYMBOL_NS_GPL(mheap_alloc_span, GOSLAB_INTERNAL);

/*
 * Free the pages of a span some of whose kernel pages went back while it
 * was in use (mspan_scavenge()). A goslab page with a half gone cannot be
 * carved again: its other half goes back too and the page is released.
 */
static void mheap_free_released_span_pages(struct mspan *s,
					   struct heap_chunk *chunk,
					   unsigned int start)
{
	unsigned int j, k;

	lockdep_assert_held(&mheap.lock);
	for (j = 0; j < s->npages; j++) {
		unsigned long page = s->base + j * GOSLAB_PAGE_SIZE;
		unsigned int gone = 0;

		for (k = 0; k < GOSLAB_KPAGES_PER_PAGE; k++)
			gone += !!(s->released_kpages &
				   BIT(j * GOSLAB_KPAGES_PER_PAGE + k));
		if (!gone) {
			__clear_bit(start + j, chunk->inuse);
			chunk->nfree++;
			mheap.st.pages_free++;
			continue;
		}
		for (k = 0; k < GOSLAB_KPAGES_PER_PAGE; k++) {
			if (s->released_kpages &
			    BIT(j * GOSLAB_KPAGES_PER_PAGE + k))
				continue;
			__free_page(virt_to_page((void *)(page + k * PAGE_SIZE)));
			mheap.st.kpages_returned++;
		}
		__set_bit(start + j, chunk->released);
		chunk->nreleased++;
		mheap.st.pages_total--;
		mheap.st.kpages_span_released -= gone;
	}
}

/**
 * mheap_release_span_kpage() - give back kernel page @k of a span in use
 * @s: the span; its slots on that page are pinned by the caller
 * @k: the kernel page's index in the span
 *
 * Context: any; the span's mcentral lock held.
 */
void mheap_release_span_kpage(struct mspan *s, unsigned int k)
{
	unsigned long flags;

	__free_page(virt_to_page((void *)(s->base + k * PAGE_SIZE)));
	spin_lock_irqsave(&mheap.lock, flags);
	mheap.st.kpages_returned++;
	mheap.st.kpages_span_released++;
	spin_unlock_irqrestore(&mheap.lock, flags);
}

/**
 * mheap_free_span() - give a span's pages back to the heap
 * @s: a span no CPU, list or object refers to any more
 *
 * A chunk left with no page in use goes back to the buddy allocator
 * unless it is the only free chunk, which the heap keeps for the next
 * span.
 *
 * Context: any; may be called with an mcentral lock held.
 */
void mheap_free_span(struct mspan *s)
{
	struct heap_chunk *chunk = s->chunk;
	unsigned int start = (s->base - chunk->base) >> GOSLAB_PAGE_SHIFT;
	unsigned long flags;

	spin_lock_irqsave(&mheap.lock, flags);
	arena_set(s, NULL);
	if (unlikely(s->released_kpages)) {
		mheap_free_released_span_pages(s, chunk, start);
	} else {
		bitmap_clear(chunk->inuse, start, s->npages);
		chunk->nfree += s->npages;
		mheap.st.pages_free += s->npages;
	}
	atomic_long_sub(kmalloc_size_roundup(span_desc_size(s->cls, s->nelems)),
			&span_meta_bytes);
	if (s->tiny) {
		atomic_long_sub(kmalloc_size_roundup(s->nelems *
						     sizeof(atomic_t)),
				&span_meta_bytes);
		kfree(s->tiny);
		s->tiny = NULL;
	}
	if (s->cls) {
		mheap.st.pages_small -= s->npages;
	} else {
		mheap.st.pages_large -= s->npages;
		mheap.st.large_objects--;
	}
	if (!chunk_has_spans(chunk) && !chunk->nreleased)
		mheap.free_chunks++;
	spin_unlock_irqrestore(&mheap.lock, flags);
	WRITE_ONCE(s->state, MSPAN_DEAD);
	/* A remote free may still be reading it: see goslab_free_remote(). */
	kfree_rcu(s, rcu);
	/* Free pages are kept for reuse; the scavenger paces their return. */
	goslab_bg_kick();
}
EXPORT_SYMBOL_NS_GPL(mheap_free_span, GOSLAB_INTERNAL);

/**
 * mheap_scavenge() - give every free page back to the page allocator
 *
 * Chunks with no span go back whole; in the others each free page is
 * given back and marked released. Go's scavenger, run on demand.
 *
 * Context: any; IRQs are disabled while the heap lock is held.
 * Return: the number of kernel pages given back.
 */
unsigned long mheap_scavenge(void)
{
	return mheap_scavenge_pages(ULONG_MAX);
}
EXPORT_SYMBOL_NS_GPL(mheap_scavenge, GOSLAB_INTERNAL);

/**
 * mheap_scavenge_pages() - give up to @max free goslab pages back
 * @max: the most goslab pages to give back
 *
 * Whole chunks with no span go first (they give back memory in large
 * blocks), then free pages inside chunks that hold spans.
 *
 * Context: any; IRQs are disabled while the heap lock is held.
 * Return: the number of kernel pages given back.
 */
unsigned long mheap_scavenge_pages(unsigned long max)
{
	struct heap_chunk *chunk, *tmp;
	unsigned long flags, kpages = 0, pages = 0;
	LIST_HEAD(release);

	spin_lock_irqsave(&mheap.lock, flags);
	list_for_each_entry_safe(chunk, tmp, &mheap.chunks, list) {
		if (chunk_has_spans(chunk) || pages + chunk->nfree > max)
			continue;
		pages += chunk->nfree;
		kpages += (unsigned long)chunk->nfree * GOSLAB_KPAGES_PER_PAGE;
		mheap_unlink_chunk(chunk);
		list_add(&chunk->list, &release);
	}
	list_for_each_entry_safe(chunk, tmp, &mheap.chunks, list) {
		unsigned int i;

		if (pages >= max)
			break;
		if (!chunk->nfree)
			continue;
		/* A whole free chunk stops being one as its pages go. */
		if (!chunk_has_spans(chunk) && !chunk->nreleased)
			mheap.free_chunks--;
		for_each_clear_bit(i, chunk->inuse, chunk->npages) {
			if (pages >= max)
				break;
			pages++;
			__set_bit(i, chunk->inuse);
			__set_bit(i, chunk->released);
			chunk->nfree--;
			chunk->nreleased++;
			mheap.st.pages_total--;
			mheap.st.pages_free--;
			mheap.st.kpages_returned += GOSLAB_KPAGES_PER_PAGE;
			kpages += GOSLAB_KPAGES_PER_PAGE;
			free_goslab_page(chunk->base + i * GOSLAB_PAGE_SIZE);
		}
		if (!chunk_has_spans(chunk) && !chunk->nfree) {
			/* Every page gone: only the descriptor is left. */
			mheap_unlink_chunk(chunk);
			list_add(&chunk->list, &release);
		}
	}
	spin_unlock_irqrestore(&mheap.lock, flags);
	list_for_each_entry_safe(chunk, tmp, &release, list)
		mheap_release_chunk(chunk);
	return kpages;
}

/**
 * mheap_retained_goal() - free pages the heap keeps for reuse
 *
 * Go's scavenger keeps about 10% over the heap goal; goslab keeps free
 * pages up to a tenth of the pages in spans, and at least
 * GOSLAB_RETAIN_FLOOR pages, so that a small heap is not returned and
 * refetched page by page.
 *
 * Return: the goal, in goslab pages.
 */
unsigned long mheap_retained_goal(void)
{
	unsigned long in_use = READ_ONCE(mheap.st.pages_small) +
			       READ_ONCE(mheap.st.pages_large);

	return max_t(unsigned long, GOSLAB_RETAIN_FLOOR, in_use / 10);
}
EXPORT_SYMBOL_NS_GPL(mheap_retained_goal, GOSLAB_INTERNAL);

/**
 * mheap_read_stats() - a consistent copy of the heap counters
 * @st: where to put them
 */
void mheap_read_stats(struct goslab_heap_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&mheap.lock, flags);
	*st = mheap.st;
	spin_unlock_irqrestore(&mheap.lock, flags);
	st->meta_bytes += atomic_long_read(&span_meta_bytes);
	st->pages_pcache = atomic_long_read(&pcache_pages);
}
EXPORT_SYMBOL_NS_GPL(mheap_read_stats, GOSLAB_INTERNAL);

/**
 * mheap_free_pages() - goslab pages the heap can carve without growing
 *
 * Return: the count; a racy read.
 */
unsigned long mheap_free_pages(void)
{
	return READ_ONCE(mheap.st.pages_free);
}

/**
 * mheap_walk_spans() - call @fn once for every span in the heap
 * @fn: called with mheap.lock held and IRQs off; must not take locks
 * @arg: passed to @fn
 *
 * Return: the number of spans walked.
 */
unsigned long mheap_walk_spans(void (*fn)(struct mspan *s, void *arg),
			       void *arg)
{
	struct heap_chunk *chunk;
	unsigned long flags, n = 0;

	spin_lock_irqsave(&mheap.lock, flags);
	list_for_each_entry(chunk, &mheap.chunks, list) {
		struct goslab_arena *a = arena_of(__pa(chunk->base));
		unsigned int first = arena_page(chunk->base), i;

		for_each_set_bit(i, chunk->inuse, chunk->npages) {
			struct mspan *s;

			/*
			 * A released page is the page allocator's again; its
			 * index entry is whoever has the memory now, maybe a
			 * span of another chunk.
			 */
			if (test_bit(i, chunk->released))
				continue;
			s = a->spans[first + i];
			if (s && s->base == chunk->base + i * GOSLAB_PAGE_SIZE) {
				fn(s, arg);
				n++;
			}
		}
	}
	spin_unlock_irqrestore(&mheap.lock, flags);
	return n;
}

/* Is page @i of @chunk in some CPU's page cache? Heap lock held. */
static bool pcache_holds(struct heap_chunk *chunk, unsigned int i)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct page_cache *pc = per_cpu_ptr(&goslab_pcache, cpu);
		unsigned long page = chunk->base + i * GOSLAB_PAGE_SIZE;

		unsigned long bit = (page - pc->base) >> GOSLAB_PAGE_SHIFT;

		if (pc->cache && pc->chunk == chunk && page >= pc->base &&
		    bit < 64 && (pc->cache & BIT_ULL(bit)))
			return true;
	}
	return false;
}

/**
 * mheap_is_valid() - check the heap's invariants
 *
 * Every in-use page belongs to exactly one span that covers it and lies
 * in its chunk; free pages have no index entry; the counters add up.
 *
 * Return: true when consistent; each problem is logged.
 */
bool mheap_is_valid(void)
{
	unsigned long flags, total = 0, nfree = 0, small = 0, large = 0;
	unsigned long nlarge = 0, chunks = 0, free_chunks = 0, kpages = 0;
	unsigned long pcached = 0;
	struct heap_chunk *chunk;
	bool ok = true;

	spin_lock_irqsave(&mheap.lock, flags);
	list_for_each_entry(chunk, &mheap.chunks, list) {
		struct goslab_arena *a = arena_of(__pa(chunk->base));
		unsigned int first = arena_page(chunk->base), i = 0;

		chunks++;
		total += chunk->npages - chunk->nreleased;
		kpages += (1UL << chunk->order) -
			  (unsigned long)chunk->nreleased * GOSLAB_KPAGES_PER_PAGE;
		if (!a || chunk->npages != (1U << chunk->order) /
		    GOSLAB_KPAGES_PER_PAGE) {
			inv_err("heap: chunk %p has no arena or a bad size\n",
				(void *)chunk->base);
			ok = false;
			continue;
		}
		if (bitmap_weight(chunk->inuse, chunk->npages) !=
		    chunk->npages - chunk->nfree) {
			inv_err("heap: chunk %p: nfree %u disagrees with its bitmap\n",
				(void *)chunk->base, chunk->nfree);
			ok = false;
		}
		if (bitmap_weight(chunk->released, chunk->npages) !=
		    chunk->nreleased ||
		    !bitmap_subset(chunk->released, chunk->inuse,
				   chunk->npages)) {
			inv_err("heap: chunk %p: released pages disagree\n",
				(void *)chunk->base);
			ok = false;
		}
		nfree += chunk->nfree;
		free_chunks += chunk->nfree == chunk->npages;
		while (i < chunk->npages) {
			struct mspan *s = a->spans[first + i];
			unsigned int j;

			if (pcache_holds(chunk, i)) {
				if (s || !test_bit(i, chunk->inuse)) {
					inv_err("heap: page %u of chunk %p is in a page cache but mapped or free\n",
						i, (void *)chunk->base);
					ok = false;
				}
				pcached++;
				i++;
				continue;
			}

			/* Released: see mheap_walk_spans(). */
			if (test_bit(i, chunk->released)) {
				i++;
				continue;
			}
			if (!test_bit(i, chunk->inuse)) {
				if (s) {
					inv_err("heap: free page %u of chunk %p maps to span %p (%u pages, state %d)\n",
						i, (void *)chunk->base,
						(void *)s->base, s->npages,
						READ_ONCE(s->state));
					ok = false;
				}
				i++;
				continue;
			}
			if (!s || s->chunk != chunk ||
			    s->base != chunk->base + i * GOSLAB_PAGE_SIZE ||
			    i + s->npages > chunk->npages) {
				inv_err("heap: page %u of chunk %p does not start a span of the chunk\n",
					i, (void *)chunk->base);
				ok = false;
				break;
			}
			for (j = 0; j < s->npages; j++) {
				if (a->spans[first + i + j] != s ||
				    !test_bit(i + j, chunk->inuse)) {
					inv_err("heap: span %p: page %u not mapped to it\n",
						(void *)s->base, j);
					ok = false;
				}
			}
			if (s->cls) {
				small += s->npages;
			} else {
				large += s->npages;
				nlarge++;
			}
			i += s->npages;
		}
	}
	if (chunks != mheap.st.chunks || total != mheap.st.pages_total ||
	    nfree != mheap.st.pages_free ||
	    small + pcached != mheap.st.pages_small ||
	    pcached != atomic_long_read(&pcache_pages) ||
	    large != mheap.st.pages_large ||
	    nlarge != mheap.st.large_objects ||
	    free_chunks != mheap.free_chunks ||
	    kpages - mheap.st.kpages_span_released !=
	    mheap.st.kpages_taken - mheap.st.kpages_returned ||
	    total != small + pcached + large + nfree) {
		inv_err("heap: counters disagree with the chunks: chunks %lu/%lu pages %lu/%lu free %lu/%lu small+pcache %lu+%lu/%lu pcache %ld free chunks %lu/%lu large %lu/%lu objects %lu/%lu kpages %lu/%lu\n",
			chunks, mheap.st.chunks, total, mheap.st.pages_total,
			nfree, mheap.st.pages_free, small, pcached,
			mheap.st.pages_small, atomic_long_read(&pcache_pages),
			free_chunks, mheap.free_chunks,
			large, mheap.st.pages_large, nlarge,
			mheap.st.large_objects, kpages,
			mheap.st.kpages_taken - mheap.st.kpages_returned);
		ok = false;
	}
	spin_unlock_irqrestore(&mheap.lock, flags);
	return ok;
}
EXPORT_SYMBOL_NS_GPL(mheap_is_valid, GOSLAB_INTERNAL);

int mheap_init(void)
{
	phys_addr_t top = __pa(high_memory - 1) + 1;

	goslab_direct_map_size = (unsigned long)high_memory - PAGE_OFFSET;

	/* Twice the memory present at load, for memory added later. */
	arena_l1_len = DIV_ROUND_UP(2 * (u64)top,
				    GOSLAB_ARENA_SIZE * ARENA_L2_LEN);
	arena_l1 = kvcalloc(arena_l1_len, sizeof(*arena_l1), GFP_KERNEL);
	return arena_l1 ? 0 : -ENOMEM;
}

/* Module exit: everything has been given back to the heap already. */
void mheap_exit(void)
{
	unsigned long i, j;

	mheap_pcache_flush_all();
	mheap_scavenge();
	if (!list_empty(&mheap.chunks))
		pr_err("heap: %lu chunks still in use at exit; leaking them\n",
		       mheap.st.chunks);
	for (i = 0; i < arena_l1_len; i++) {
		if (!arena_l1[i])
			continue;
		for (j = 0; j < ARENA_L2_LEN; j++)
			kfree(arena_l1[i][j]);
		kfree(arena_l1[i]);
	}
	kvfree(arena_l1);
}
