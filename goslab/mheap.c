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
 * The arena index is Go's arena map, flat, over physical addresses:
 * goslab_arenas[] -> struct goslab_arena, a span pointer per goslab page.
 * goslab_arenas[] has an entry per 4 MiB of physical address space (8
 * bytes: 2 MiB per TiB), sized at load for the memory present, and grows
 * (to twice its length at least) when a chunk arrives from beyond it
 * (memory hot-added since): a larger copy is published before its
 * length, and the old one freed after a grace period. The copy is made
 * under mheap.lock, with IRQs off: about 1 ms per TiB indexed, once per
 * doubling of the physical address space. Entries are written under mheap.lock and read
 * without a lock, with IRQs off or under rcu_read_lock(); arenas are
 * never freed before module exit. Only arenas goslab has pages in have
 * an entry, so a pointer outside the direct map (whose offset from
 * PAGE_OFFSET is past the index, or wraps) finds none: goslab never
 * reads another allocator's struct page.
 *
 * Free heap pages go back to the page allocator outside mheap.lock, at
 * most MHEAP_RELEASE_BATCH goslab pages per lock hold (a walk of the
 * chunk list each), so that IRQs are never off for long; a span's own
 * pages (at most a span's worth) go back under it when it is freed.
 *
 * Every kernel page goslab holds is counted where the kernel counts slab
 * memory, NR_SLAB_UNRECLAIMABLE_B of its node (/proc/meminfo's SUnreclaim
 * and Slab, the nodes' vmstat): from the alloc_pages() that brings it to
 * the __free_page() that gives it back, whatever goslab uses it for.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/workqueue.h>
#include "internal.h"

/* The smallest chunk worth a trip to the buddy allocator: 32 KiB. */
#define CHUNK_MIN_ORDER		3
/* Free heap pages given back per hold of mheap.lock. */
#define MHEAP_RELEASE_BATCH	32

/**
 * struct mheap - the page heap
 * @lock: protects everything below and writes to the arena index
 * @held_since: when @lock was taken, while goslab measures how long it
 *	keeps IRQs off
 * @chunks: every chunk taken from the buddy allocator
 * @st: counters (see struct goslab_heap_stats)
 * @free_chunks: chunks with no page in use
 */
struct mheap {
	spinlock_t lock;	/* IRQ-safe; see the lock order, internal.h */
	u64 held_since;
	struct list_head chunks;
	struct goslab_heap_stats st;
	unsigned long free_chunks;
};

static struct mheap mheap = {
	.lock = __SPIN_LOCK_UNLOCKED(mheap.lock),
	.chunks = LIST_HEAD_INIT(mheap.chunks),
};

/* The heap lock, with the time it is held measured. */
static __always_inline void __heap_lock(unsigned long *flags)
	__acquires(&mheap.lock)
{
	spin_lock_irqsave(&mheap.lock, *flags);
	mheap.held_since = goslab_irqsoff_begin();
}

static __always_inline void heap_unlock(unsigned long flags)
	__releases(&mheap.lock)
{
	goslab_irqsoff_end(GOSLAB_IRQSOFF_HEAP, mheap.held_since);
	spin_unlock_irqrestore(&mheap.lock, flags);
}

#define heap_lock(flags)	__heap_lock(&(flags))

/**
 * struct page_cache - Go's pageCache: a CPU's window of free heap pages
 * @chunk: the chunk the window lies in
 * @first: the window's first goslab page in @chunk (an index, not an
 *	address: kmemleak would take an address for a reference to the
 *	object a span carved there starts with)
 * @cache: bit i set: page @first + i of @chunk is free and this CPU's
 *
 * One-page spans (most size classes) are carved from it under the cpu
 * lock and no heap lock. Pages in a page cache are marked in use in their
 * chunk and counted in pages_small (and in pcache_pages) from the moment
 * the cache takes them, so carving one touches no heap counter. Only its
 * CPU touches it, under goslab_cpu_lock, except when the CPU is offline.
 */
struct page_cache {
	struct heap_chunk *chunk;
	unsigned int first;
	u64 cache;
};

static DEFINE_PER_CPU(struct page_cache, goslab_pcache);

DEFINE_PER_CPU(local_lock_t, goslab_cpu_lock) =
	INIT_LOCAL_LOCK(goslab_cpu_lock);

/*
 * Runs goslab_on_each_cpu()'s work: WQ_MEM_RECLAIM, as SLUB's flushwq,
 * since a shrink may be asked for from reclaim.
 */
static struct workqueue_struct *goslab_cpu_wq;

/**
 * struct goslab_cpu_work - goslab_on_each_cpu()'s work on one CPU
 * @work: queued on that CPU
 * @fn: what to run there, under goslab_cpu_lock
 * @arg: its argument
 */
struct goslab_cpu_work {
	struct work_struct work;
	void (*fn)(void *arg);
	void *arg;
};

static DEFINE_PER_CPU(struct goslab_cpu_work, goslab_cpu_work);
/* One goslab_on_each_cpu() at a time: the per-CPU work items are shared. */
static DEFINE_MUTEX(goslab_cpu_work_mutex);
/* The CPUs it queued work on; under goslab_cpu_work_mutex. */
static struct cpumask goslab_cpu_work_queued;

static void goslab_cpu_work_fn(struct work_struct *work)
{
	struct goslab_cpu_work *w = container_of(work, struct goslab_cpu_work,
						 work);
	unsigned long flags;

	local_lock_irqsave(&goslab_cpu_lock, flags);
	/* Bound to its CPU: cpus_read_lock() keeps the CPU from going. */
	GOSLAB_WARN_ON_ONCE(w != this_cpu_ptr(&goslab_cpu_work));
	w->fn(w->arg);
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
}

/**
 * goslab_on_each_cpu() - run @fn on every online CPU that has work for it
 * @fn: the function; it finds its CPU's state with this_cpu_ptr()
 * @has_work: whether a CPU holds anything for @fn (a racy read), or NULL
 * @arg: the argument of both
 *
 * A work item bound to each CPU, not an IPI: @fn takes mcentral and heap
 * locks, which are sleeping locks on PREEMPT_RT, where an IPI runs in
 * hardirq context. Only CPUs @has_work says hold something get one (as
 * SLUB's has_cpu_slab()): a CPU held by a real-time task, or isolated,
 * cannot then stall a flush it has nothing for. State ordered before
 * the call (by the caller's own synchronization with whoever took it)
 * is seen by the racy read; what a CPU takes after, or holds through a
 * refill in flight (the slot is empty while it grows), may stay, as
 * before this test.
 * Returns when each of those CPUs has run @fn. The caller empties
 * offline CPUs' state itself.
 *
 * Context: process context, cpus_read_lock() held; sleeps.
 */
void goslab_on_each_cpu(void (*fn)(void *arg),
			bool (*has_work)(unsigned int cpu, void *arg),
			void *arg)
{
	unsigned int cpu;

	might_sleep();
	mutex_lock(&goslab_cpu_work_mutex);
	cpumask_clear(&goslab_cpu_work_queued);
	for_each_online_cpu(cpu) {
		struct goslab_cpu_work *w = per_cpu_ptr(&goslab_cpu_work, cpu);

		if (has_work && !has_work(cpu, arg))
			continue;
		INIT_WORK(&w->work, goslab_cpu_work_fn);
		w->fn = fn;
		w->arg = arg;
		queue_work_on(cpu, goslab_cpu_wq, &w->work);
		cpumask_set_cpu(cpu, &goslab_cpu_work_queued);
	}
	for_each_cpu(cpu, &goslab_cpu_work_queued)
		flush_work(&per_cpu_ptr(&goslab_cpu_work, cpu)->work);
	mutex_unlock(&goslab_cpu_work_mutex);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_on_each_cpu);
static atomic_long_t pcache_pages = ATOMIC_LONG_INIT(0);
/* Span descriptors, counted apart: page-cache spans take no heap lock. */
static atomic_long_t span_meta_bytes = ATOMIC_LONG_INIT(0);

struct goslab_arena **goslab_arenas;
unsigned long goslab_arenas_len;

/* goslab_arenas[]'s allocation: freed after a grace period when it grows. */
struct arena_index_block {
	struct rcu_head rcu;
	struct goslab_arena *arenas[];
};

static size_t arena_index_bytes(unsigned long len)
{
	return PAGE_ALIGN(struct_size_t(struct arena_index_block, arenas, len));
}

unsigned int goslab_fail_page_alloc_nth;
module_param_named(fail_page_alloc_nth, goslab_fail_page_alloc_nth, uint,
		   0644);
MODULE_PARM_DESC(fail_page_alloc_nth,
		 "fault injection: fail every Nth page allocation goslab makes (0: never)");
EXPORT_SYMBOL_IF_KUNIT(goslab_fail_page_alloc_nth);

static atomic_t page_alloc_calls = ATOMIC_INIT(0);
VISIBLE_IF_KUNIT atomic_long_t goslab_injected_failures = ATOMIC_LONG_INIT(0);
EXPORT_SYMBOL_IF_KUNIT(goslab_injected_failures);

/**
 * goslab_should_fail_page_alloc() - the fault-injection decision
 *
 * A __GFP_NOFAIL allocation that failed (injected or not) retries
 * without asking again, so that it ends, whatever the setting.
 *
 * Return: true when this page allocation is to fail.
 */
static bool goslab_should_fail_page_alloc(void)
{
	unsigned int nth = READ_ONCE(goslab_fail_page_alloc_nth);

	if (!nth)
		return false;
	if ((unsigned int)atomic_inc_return(&page_alloc_calls) % nth)
		return false;
	atomic_long_inc(&goslab_injected_failures);
	return true;
}

static unsigned int arena_page(unsigned long addr)
{
	return (__pa(addr) & (GOSLAB_ARENA_SIZE - 1)) >> GOSLAB_PAGE_SHIFT;
}

/*
 * Grow goslab_arenas[] to hold index @ai: memory was hot-added beyond
 * what the index was sized for. The copy is published before its
 * length, so a reader that sees the new length sees the new array (see
 * goslab_arena_of()); the old array is freed after a grace period.
 */
static int arena_index_grow(unsigned long ai, gfp_t gfp)
{
	unsigned long len = max(ai + 1, 2 * READ_ONCE(goslab_arenas_len)), flags;
	struct arena_index_block *fresh, *old;
	unsigned long old_len;

	fresh = kvzalloc(arena_index_bytes(len), gfp);
	if (!fresh)
		return -ENOMEM;
	heap_lock(flags);
	if (ai < goslab_arenas_len) {
		heap_unlock(flags);
		kvfree(fresh);
		return 0;
	}
	old_len = goslab_arenas_len;
	memcpy(fresh->arenas, goslab_arenas, old_len * sizeof(*goslab_arenas));
	old = container_of(goslab_arenas, struct arena_index_block, arenas[0]);
	/*
	 * Its entries before the array, the array before its length: pairs
	 * with the address dependency and the smp_rmb() in goslab_arena_of().
	 */
	smp_store_release(&goslab_arenas, fresh->arenas);
	/* The array before its length; see the comment above. */
	smp_store_release(&goslab_arenas_len, len);
	mheap.st.meta_bytes += arena_index_bytes(len) -
			       arena_index_bytes(old_len);
	heap_unlock(flags);
	pr_info("arena index grown to %lu GiB of physical memory\n",
		(len << GOSLAB_ARENA_SHIFT) >> 30);
	kvfree_rcu(old, rcu);
	return 0;
}

/*
 * Make sure the index has an arena for @pa. Allocates with @gfp outside
 * the lock, installs under it.
 */
static int arena_prepare(phys_addr_t pa, gfp_t gfp)
{
	unsigned long ai = pa >> GOSLAB_ARENA_SHIFT;
	struct goslab_arena *a;
	unsigned long flags;
	bool need_a;

	if (ai >= READ_ONCE(goslab_arenas_len) && arena_index_grow(ai, gfp)) {
		pr_warn_ratelimited("no memory to index %pa (memory added since load); not using it\n",
				    &pa);
		return -ENOMEM;
	}
	/* goslab_arenas[] may be replaced meanwhile: looked at under RCU. */
	rcu_read_lock();
	need_a = !goslab_arena_of(pa);
	rcu_read_unlock();
	if (!need_a)
		return 0;
	a = kzalloc(sizeof(*a), gfp);
	if (!a)
		return -ENOMEM;
	heap_lock(flags);
	if (!goslab_arenas[ai]) {
		/* A lock-free reader seeing the arena sees it zeroed. */
		smp_store_release(&goslab_arenas[ai], a);
		mheap.st.meta_bytes += kmalloc_size_roundup(sizeof(*a));
		a = NULL;
	}
	heap_unlock(flags);
	kfree(a);
	return 0;
}

static void arena_set(struct mspan *s, struct mspan *val)
{
	struct goslab_arena *a = goslab_arena_of(__pa(s->base));
	unsigned int first = arena_page(s->base), i;

	lockdep_assert_held(&mheap.lock);
	for (i = 0; i < s->npages; i++)
		/* mheap_span_of() must see the span initialized. */
		smp_store_release(&a->spans[first + i], val);
}

/*
 * Kernel pages goslab holds, per node, as added to the node's slab
 * counter: what is still there at unload is taken out of it then.
 */
static atomic_long_t node_kpages[MAX_NUMNODES];

/* @kpages kernel pages of @page's node enter (> 0) or leave goslab. */
static void mheap_account_kpages(struct page *page, long kpages)
{
	atomic_long_add(kpages, &node_kpages[page_to_nid(page)]);
	/* Any context: the per-CPU counters take IRQ-safe updates. */
	mod_node_page_state(page_pgdat(page), NR_SLAB_UNRECLAIMABLE_B,
			    kpages * (long)PAGE_SIZE);
}

/* A kernel page back to the page allocator, and out of the slab count. */
static void mheap_put_kpage(unsigned long addr)
{
	struct page *page = virt_to_page((void *)addr);

	mheap_account_kpages(page, -1);
	__free_page(page);
}

/**
 * mheap_accounted_kpages() - kernel pages goslab counts as slab memory
 *
 * Equal to the pages held (kpages_taken - kpages_returned) when no page
 * is on its way in or out.
 *
 * Return: the sum over the nodes.
 */
unsigned long mheap_accounted_kpages(void)
{
	long sum = 0;
	int nid;

	for_each_node(nid)
		sum += atomic_long_read(&node_kpages[nid]);
	return sum;
}
EXPORT_SYMBOL_IF_KUNIT(mheap_accounted_kpages);

/* Kernel pages of a split chunk are order-0 pages: freed one by one. */
static void free_goslab_page(unsigned long addr)
{
	unsigned int k;

	for (k = 0; k < GOSLAB_KPAGES_PER_PAGE; k++)
		mheap_put_kpage(addr + k * PAGE_SIZE);
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

/*
 * One try at a chunk: the largest order worth having down to @need. A
 * bigger chunk than needed is only worth it when it comes easily: no
 * reclaim, no retries, no warning. __GFP_NOFAIL reaches the page
 * allocator only for orders it accepts it for (1 and below).
 */
static struct page *mheap_try_chunk(unsigned int need, gfp_t gfp,
				    bool inject, unsigned int *orderp)
{
	unsigned int order = chunk_order(need);
	struct page *page = NULL;

	for (;; order--) {
		gfp_t g = gfp;

		if (order > need)
			g = (gfp & ~(__GFP_DIRECT_RECLAIM | __GFP_NOFAIL)) |
			    __GFP_NOWARN | __GFP_NORETRY;
		else if (order > 1)
			g &= ~__GFP_NOFAIL;
		if (!inject || !goslab_should_fail_page_alloc())
			page = alloc_pages(g, order);
		if (page || order == need)
			break;
	}
	*orderp = order;
	return page;
}

/* The growth event, out of line behind its key. */
static noinline void mheap_trace_grow(struct page *page, unsigned int order,
				      gfp_t gfp)
{
	trace_goslab_heap_grow((unsigned long)page_address(page), order,
			       page_to_nid(page), gfp);
}

static struct heap_chunk *mheap_grow(unsigned int need, gfp_t gfp)
{
	struct heap_chunk *chunk;
	unsigned int order;
	struct page *page;
	bool inject = true;

	chunk = kzalloc(sizeof(*chunk), gfp & ~__GFP_RECLAIMABLE);
	if (!chunk)
		return NULL;
	/*
	 * Neither scanned (@base is no reference to an object) nor reported
	 * by kmemleak (chunks reach each other only through their lists).
	 */
	kmemleak_ignore(chunk);
	/*
	 * __GFP_NOFAIL never fails, as the page allocator promises for the
	 * orders it takes it for: goslab retries the larger ones itself.
	 * Without direct reclaim nothing can be waited for, and the page
	 * allocator fails such requests too.
	 */
	while (!(page = mheap_try_chunk(need, gfp, inject, &order))) {
		if (!(gfp & __GFP_NOFAIL) || !(gfp & __GFP_DIRECT_RECLAIM)) {
			kfree(chunk);
			return NULL;
		}
		inject = false;
		memalloc_retry_wait(gfp);
	}
	split_page(page, order);
	mheap_account_kpages(page, 1L << order);
	if (trace_goslab_heap_grow_enabled())
		mheap_trace_grow(page, order, gfp);
	chunk->base = (unsigned long)page_address(page);
	chunk->order = order;
	chunk->npages = (1U << order) / GOSLAB_KPAGES_PER_PAGE;
	chunk->nfree = chunk->npages;
	/* Free heap memory: no object lives here until a span is carved. */
	goslab_kasan_poison((void *)chunk->base, PAGE_SIZE << order,
			    GOSLAB_KASAN_HEAP_FREE);
	if (arena_prepare(__pa(chunk->base), gfp & ~__GFP_RECLAIMABLE)) {
		mheap_release_chunk(chunk);
		return NULL;
	}
	return chunk;
}

/*
 * First fit of @npages pages in the heap, starting at a multiple of
 * @align_mask + 1 pages (chunks are aligned to their own size, at least
 * 32 KiB); returns the chunk and start.
 */
static struct heap_chunk *mheap_find(unsigned int npages,
				     unsigned long align_mask,
				     unsigned int *start)
{
	struct heap_chunk *chunk;

	lockdep_assert_held(&mheap.lock);
	list_for_each_entry(chunk, &mheap.chunks, list) {
		unsigned long i;

		if (chunk->nfree < npages)
			continue;
		i = bitmap_find_next_zero_area(chunk->inuse, chunk->npages, 0,
					       npages, align_mask);
		if (i < chunk->npages) {
			*start = i;
			return chunk;
		}
	}
	return NULL;
}

/*
 * Span descriptors come from caches of their exact size, one per length
 * of the bitmaps (BITS_TO_LONGS(nelems)), where a kmalloc bucket would
 * round, say, 312 bytes up to 512. mheap_desc_cache_get() makes them as
 * classes are created; unload destroys them.
 */
#define GOSLAB_DESC_MAX_WORDS \
	BITS_TO_LONGS(GOSLAB_CACHE_MAX_SPAN_PAGES * GOSLAB_PAGE_SIZE / 8)
static struct kmem_cache *desc_caches[GOSLAB_DESC_MAX_WORDS + 1];
static DEFINE_MUTEX(desc_cache_mutex);

/**
 * mheap_desc_cache_get() - make the descriptor cache for spans of @nelems
 * @nelems: objects per span, at least 1
 *
 * Context: process context; may sleep.
 * Return: 0, -EINVAL for a span too long, or -ENOMEM.
 */
int mheap_desc_cache_get(unsigned int nelems)
{
	unsigned int words = BITS_TO_LONGS(nelems);
	struct kmem_cache *c;
	char name[24];
	int ret = 0;

	might_sleep();
	if (!nelems || words > GOSLAB_DESC_MAX_WORDS)
		return -EINVAL;
	mutex_lock(&desc_cache_mutex);
	if (!desc_caches[words]) {
		snprintf(name, sizeof(name), "goslab_desc_%u", words);
		c = kmem_cache_create(name, mspan_desc_size(nelems),
				      __alignof__(struct mspan), 0, NULL);
		if (c)
			WRITE_ONCE(desc_caches[words], c);
		else
			ret = -ENOMEM;
	}
	mutex_unlock(&desc_cache_mutex);
	return ret;
}

/* The cache of descriptors of spans of @nelems; made by then. */
static struct kmem_cache *desc_cache_of(unsigned int nelems)
{
	return READ_ONCE(desc_caches[BITS_TO_LONGS(nelems)]);
}

/* What a descriptor of a span of @nelems takes, for meta_bytes. */
static long desc_bytes(unsigned int nelems)
{
	return kmem_cache_size(desc_cache_of(nelems));
}

static void desc_caches_destroy(void)
{
	unsigned int w;

	for (w = 0; w <= GOSLAB_DESC_MAX_WORDS; w++) {
		kmem_cache_destroy(desc_caches[w]);
		desc_caches[w] = NULL;
	}
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
 * Fill the empty page cache @pc with the free pages of the 64-page window
 * of @chunk around page @start (Go's allocToCache): marked in use and
 * counted as a page cache's from now on. Heap lock and cpu lock held.
 */
static void pcache_take_window(struct page_cache *pc,
			       struct heap_chunk *chunk, unsigned int start)
{
	unsigned int first = round_down(start, 64), i, n = 0;
	unsigned int end = min(first + 64, chunk->npages);
	u64 bits = 0;

	lockdep_assert_held(&mheap.lock);
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
	pc->first = first;
	WRITE_ONCE(pc->cache, bits);
}

/* Give a page cache's pages back to the heap. Heap lock held. */
static void pcache_flush_locked(struct page_cache *pc)
{
	struct heap_chunk *chunk = pc->chunk;
	unsigned int first, bit, n = 0;

	lockdep_assert_held(&mheap.lock);
	if (!pc->cache)
		return;
	first = pc->first;
	while (pc->cache) {
		bit = __ffs64(pc->cache);
		WRITE_ONCE(pc->cache, pc->cache & (pc->cache - 1));
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

	local_lock_irqsave(&goslab_cpu_lock, flags);
	pc = this_cpu_ptr(&goslab_pcache);
	if (!pc->cache) {
		local_unlock_irqrestore(&goslab_cpu_lock, flags);
		return false;
	}
	bit = __ffs64(pc->cache);
	WRITE_ONCE(pc->cache, pc->cache & (pc->cache - 1));
	chunk = pc->chunk;
	base = chunk->base + (pc->first + bit) * GOSLAB_PAGE_SIZE;
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	atomic_long_dec(&pcache_pages);
	atomic_long_add(desc_bytes(cls->nelems), &span_meta_bytes);
	mspan_init(s, base, 1, cls->elemsize, cls->nelems);
	span_set_class(s, cls);
	s->chunk = chunk;
	/* goslab_arenas[] may be replaced meanwhile: read it under RCU. */
	rcu_read_lock();
	a = goslab_arena_of(__pa(base));
	/* mheap_span_of() must see the span initialized. */
	smp_store_release(&a->spans[arena_page(base)], s);
	rcu_read_unlock();
	return true;
}

/*
 * Fill this CPU's page cache, if empty, from the window of @chunk around
 * page @start: the cpu lock, then the heap lock (the lock order). @chunk
 * holds the span just carved around @start, so it stays.
 */
static void pcache_refill(struct heap_chunk *chunk, unsigned int start)
{
	unsigned long flags, hflags;
	struct page_cache *pc;

	local_lock_irqsave(&goslab_cpu_lock, flags);
	pc = this_cpu_ptr(&goslab_pcache);
	if (!pc->cache) {
		heap_lock(hflags);
		pcache_take_window(pc, chunk, start);
		heap_unlock(hflags);
	}
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
}

/* goslab_on_each_cpu(): this CPU's page cache back to the heap. */
static void pcache_flush_cpu(void *unused)
{
	unsigned long flags;

	heap_lock(flags);
	pcache_flush_locked(this_cpu_ptr(&goslab_pcache));
	heap_unlock(flags);
}

static bool pcache_has_pages(unsigned int cpu, void *unused)
{
	return mheap_pcache_pages_cpu(cpu);
}

/**
 * mheap_pcache_flush_cpu() - empty the page cache of an offline CPU
 * @cpu: the CPU, offline: it runs nothing, so no cpu lock is needed
 */
void mheap_pcache_flush_cpu(unsigned int cpu)
{
	unsigned long flags;

	heap_lock(flags);
	pcache_flush_locked(per_cpu_ptr(&goslab_pcache, cpu));
	heap_unlock(flags);
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
	goslab_on_each_cpu(pcache_flush_cpu, pcache_has_pages, NULL);
	for_each_possible_cpu(cpu)
		if (!cpu_online(cpu))
			mheap_pcache_flush_cpu(cpu);
	cpus_read_unlock();
}
EXPORT_SYMBOL_IF_KUNIT(mheap_pcache_flush_all);

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
EXPORT_SYMBOL_IF_KUNIT(mheap_pcache_pages_cpu);

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
	unsigned long flags, align_mask = 0;
	unsigned int start;
	struct mspan *s;

	/*
	 * kmalloc's rule: an object of a power-of-two size is aligned to it.
	 * Spans start on goslab pages; those of the classes above a page
	 * (16 and 32 KiB, one object each) start on their own size.
	 */
	if (cls && is_power_of_2(cls->elemsize) &&
	    cls->elemsize > GOSLAB_PAGE_SIZE)
		align_mask = cls->elemsize / GOSLAB_PAGE_SIZE - 1;

	/*
	 * How hard to try and where; zone, zeroing and the like are goslab's.
	 * Metadata is never reclaimable; the pages may be grouped as such.
	 */
	s = kmem_cache_alloc(desc_cache_of(nelems), goslab_page_gfp(gfp));
	gfp = goslab_page_gfp(gfp) | (gfp & __GFP_RECLAIMABLE);
	if (!s)
		return NULL;
	/* @base is no reference to the object at it, for kmemleak. */
	kmemleak_no_scan(s);
	if (cls && npages == 1 && mheap_alloc_from_pcache(s, cls))
		goto carved;
	heap_lock(flags);
	while (!(chunk = mheap_find(npages, align_mask, &start))) {
		heap_unlock(flags);
		fresh = mheap_grow(need, gfp);
		if (!fresh) {
			kmem_cache_free(desc_cache_of(nelems), s);
			return NULL;
		}
		heap_lock(flags);
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
	atomic_long_add(desc_bytes(nelems), &span_meta_bytes);
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
		s->alloc_claimed = 1;
		s->alloc_cache = 0;
		s->state = MSPAN_LARGE;
		mheap.st.pages_large += npages;
		mheap.st.large_objects++;
	}
	s->chunk = chunk;
	arena_set(s, s);
	heap_unlock(flags);
	if (cls && npages == 1)
		pcache_refill(chunk, start);
carved:
	/* Nothing in it is handed out yet; the caller unpoisons objects. */
	goslab_kasan_poison((void *)s->base, npages * GOSLAB_PAGE_SIZE,
			    GOSLAB_KASAN_UNALLOCATED);
	return s;
}
EXPORT_SYMBOL_IF_KUNIT(mheap_alloc_span);

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
			mheap_put_kpage(page + k * PAGE_SIZE);
			mheap.st.kpages_returned++;
		}
		__set_bit(start + j, chunk->released);
		chunk->nreleased++;
		mheap.st.pages_total--;
		mheap.st.kpages_span_released -= gone;
	}
}

/**
 * mheap_release_span_kpages() - give back kernel pages of a span in use
 * @s: the span; its slots on those pages pinned by mspan_scavenge(),
 *	which has marked them in @s->released_kpages
 * @kpages: a bit per kernel page of the span to give back
 *
 * A goslab page of the span given back whole leaves the arena index
 * first, under the heap lock: once its memory is the page allocator's,
 * another chunk may get it and publish its own spans there, and nothing
 * of this span may then be found (or erased) at that address.
 *
 * Context: any; the span's mcentral lock held (a span's worth of pages).
 */
void mheap_release_span_kpages(struct mspan *s, u32 kpages)
{
	struct goslab_arena *a = goslab_arena_of(__pa(s->base));
	unsigned int first = arena_page(s->base), j, k;
	unsigned long mask = kpages, flags;

	heap_lock(flags);
	/* Only pages this call completes: an earlier one's may be reused. */
	for (j = 0; j < min_t(unsigned int, s->npages,
			      GOSLAB_MAX_RELEASED_KPAGES /
			      GOSLAB_KPAGES_PER_PAGE); j++)
		if (((kpages >> (j * GOSLAB_KPAGES_PER_PAGE)) &
		     (BIT(GOSLAB_KPAGES_PER_PAGE) - 1)) &&
		    mspan_page_given_back(s, j))
			WRITE_ONCE(a->spans[first + j], NULL);
	mheap.st.kpages_returned += hweight32(kpages);
	mheap.st.kpages_span_released += hweight32(kpages);
	heap_unlock(flags);
	for_each_set_bit(k, &mask, GOSLAB_MAX_RELEASED_KPAGES)
		mheap_put_kpage(s->base + k * PAGE_SIZE);
}

/*
 * Clear the index entries of a span being freed. A goslab page the span
 * gave back whole while it lived left the index then
 * (mheap_release_span_kpages()); it is the page allocator's, may be part
 * of another chunk since, whose span its entry then names: leave it.
 * Heap lock held.
 */
static void arena_clear_span(struct mspan *s)
{
	struct goslab_arena *a = goslab_arena_of(__pa(s->base));
	unsigned int first = arena_page(s->base), j;

	lockdep_assert_held(&mheap.lock);
	for (j = 0; j < s->npages; j++)
		if (!mspan_page_given_back(s, j))
			WRITE_ONCE(a->spans[first + j], NULL);
}

/* After a grace period: no lookup can still be reading the span. */
static void mspan_free_rcu(struct rcu_head *head)
{
	struct mspan *s = container_of(head, struct mspan, rcu);

	kfree(s->tiny);
	goslab_track_release(s);
	kmem_cache_free(desc_cache_of(s->nelems), s);
}

static void mheap_free_span_now(struct mspan *s)
{
	struct heap_chunk *chunk = s->chunk;
	unsigned int start = (s->base - chunk->base) >> GOSLAB_PAGE_SHIFT;
	unsigned long flags;

	heap_lock(flags);
	if (s->state == MSPAN_RCU_EMPTY)
		mheap.st.pages_rcu -= s->npages;
	arena_clear_span(s);
	if (unlikely(s->released_kpages)) {
		mheap_free_released_span_pages(s, chunk, start);
	} else {
		bitmap_clear(chunk->inuse, start, s->npages);
		chunk->nfree += s->npages;
		mheap.st.pages_free += s->npages;
	}
	atomic_long_sub(desc_bytes(s->nelems), &span_meta_bytes);
	if (s->tiny)
		atomic_long_sub(kmalloc_size_roundup(s->nelems *
						     sizeof(atomic_t)),
				&span_meta_bytes);
	if (s->cls) {
		mheap.st.pages_small -= s->npages;
	} else {
		mheap.st.pages_large -= s->npages;
		mheap.st.large_objects--;
	}
	if (!chunk_has_spans(chunk) && !chunk->nreleased)
		mheap.free_chunks++;
	heap_unlock(flags);
	WRITE_ONCE(s->state, MSPAN_DEAD);
	call_rcu(&s->rcu, mspan_free_rcu);
	/* Free pages are kept for reuse; the scavenger paces their return. */
	goslab_bg_kick();
}

/*
 * Type-safe spans whose grace period has passed, for the background
 * work (or a barrier) to give back: from an RCU callback, the heap's
 * counters would move under a validator that paused the work.
 */
static LLIST_HEAD(rcu_spans_due);
/*
 * Held across a release of the due spans, so that a caller that finds
 * the list empty knows the spans taken before are back in the heap.
 */
static DEFINE_MUTEX(rcu_spans_mutex);

static void mheap_rcu_span_due(struct rcu_head *head)
{
	struct mspan *s = container_of(head, struct mspan, rcu);

	llist_add(&s->rcu_node, &rcu_spans_due);
	goslab_bg_kick();
}

/**
 * mheap_rcu_spans_waiting() - are type-safe spans waiting to go back?
 *
 * Return: true while any is RCU_EMPTY; a racy read.
 */
bool mheap_rcu_spans_waiting(void)
{
	return READ_ONCE(mheap.st.pages_rcu);
}
EXPORT_SYMBOL_IF_KUNIT(mheap_rcu_spans_waiting);

/**
 * mheap_rcu_spans_due() - are type-safe spans ready to go back?
 *
 * Return: true when mheap_release_rcu_spans() has work; a racy read.
 */
bool mheap_rcu_spans_due(void)
{
	return !llist_empty(&rcu_spans_due);
}

/**
 * mheap_release_rcu_spans() - give back the type-safe spans whose grace
 *	period has passed
 *
 * Their memory leaves the cache's type here: it is cleared for
 * init_on_free and poisoned for KASAN as the heap's, which the objects'
 * frees did not do (readers could still read them).
 *
 * Context: process context, no goslab lock held.
 * Return: how many went back.
 */
unsigned long mheap_release_rcu_spans(void)
{
	struct llist_node *node, *next;
	unsigned long n = 0;

	mutex_lock(&rcu_spans_mutex);
	for (node = llist_del_all(&rcu_spans_due); node; node = next) {
		struct mspan *s = llist_entry(node, struct mspan, rcu_node);
		unsigned long bytes = s->npages * GOSLAB_PAGE_SIZE;

		next = node->next;
		if (want_init_on_free()) {
			goslab_kasan_unpoison((void *)s->base, bytes);
			memset((void *)s->base, 0, bytes);
		}
		goslab_kasan_poison((void *)s->base, bytes,
				    GOSLAB_KASAN_HEAP_FREE);
		mheap_free_span_now(s);
		if (!(++n % 64))
			cond_resched();
	}
	mutex_unlock(&rcu_spans_mutex);
	return n;
}

/**
 * mheap_free_span() - give a span's pages back to the heap
 * @s: a span no CPU, list or object refers to any more
 *
 * A chunk left with no page in use goes back to the buddy allocator
 * unless it is the only free chunk, which the heap keeps for the next
 * span. The descriptor and the tiny words are freed after a grace
 * period: a lookup racing the release may still read them. A type-safe
 * class's span (GOSLAB_TYPESAFE_BY_RCU) is given back only after a grace
 * period (call_rcu(), then mheap_release_rcu_spans()): RCU readers may
 * still be reading objects in it, which must stay objects of that class
 * until they leave. Meanwhile it is RCU_EMPTY (the rcu_head is free: the
 * span is on no list).
 *
 * Context: any; may be called with an mcentral lock held.
 */
void mheap_free_span(struct mspan *s)
{
	unsigned long flags;

	if (s->cls && s->cls->typesafe_rcu) {
		/* rcu_node is free: no goslab_free_rcu() waits in an empty span. */
		GOSLAB_WARN_ON_ONCE(s->rcu_queued || mspan_rcu_pending(s));
		heap_lock(flags);
		WRITE_ONCE(s->state, MSPAN_RCU_EMPTY);
		mheap.st.pages_rcu += s->npages;
		heap_unlock(flags);
		call_rcu(&s->rcu, mheap_rcu_span_due);
		return;
	}
	mheap_free_span_now(s);
}
EXPORT_SYMBOL_IF_KUNIT(mheap_free_span);

static unsigned long __mheap_scavenge_pages(unsigned long max,
					    unsigned long caller);

/**
 * mheap_scavenge() - give every free page back to the page allocator
 *
 * Chunks with no span go back whole; in the others each free page is
 * given back and marked released. Go's scavenger, run on demand.
 *
 * Context: process context; may sleep.
 * Return: the number of kernel pages given back.
 */
noinline unsigned long mheap_scavenge(void)
{
	return __mheap_scavenge_pages(ULONG_MAX, _RET_IP_);
}
EXPORT_SYMBOL_IF_KUNIT(mheap_scavenge);

static void mheap_release_chunks(struct list_head *release)
{
	struct heap_chunk *chunk, *tmp;

	list_for_each_entry_safe(chunk, tmp, release, list) {
		list_del(&chunk->list);
		mheap_release_chunk(chunk);
		cond_resched();
	}
}

/*
 * Mark up to @room free pages of chunks that hold spans released and put
 * their addresses in @batch; chunks left with nothing go on @release.
 * Heap lock held.
 */
static unsigned int mheap_take_free_pages(unsigned long *batch,
					  unsigned int room,
					  struct list_head *release)
{
	struct heap_chunk *chunk, *tmp;
	unsigned int n = 0, i;

	lockdep_assert_held(&mheap.lock);
	list_for_each_entry_safe(chunk, tmp, &mheap.chunks, list) {
		if (n == room)
			break;
		if (!chunk->nfree)
			continue;
		/* A whole free chunk stops being one as its pages go. */
		if (!chunk_has_spans(chunk) && !chunk->nreleased)
			mheap.free_chunks--;
		for_each_clear_bit(i, chunk->inuse, chunk->npages) {
			if (n == room)
				break;
			__set_bit(i, chunk->inuse);
			__set_bit(i, chunk->released);
			chunk->nfree--;
			chunk->nreleased++;
			mheap.st.pages_total--;
			mheap.st.pages_free--;
			mheap.st.kpages_returned += GOSLAB_KPAGES_PER_PAGE;
			batch[n++] = chunk->base + i * GOSLAB_PAGE_SIZE;
		}
		if (!chunk_has_spans(chunk) && !chunk->nfree) {
			/* Every page gone: only the descriptor is left. */
			mheap_unlink_chunk(chunk);
			list_add(&chunk->list, release);
		}
	}
	return n;
}

/**
 * mheap_scavenge_pages() - give up to @max free goslab pages back
 * @max: the most goslab pages to give back
 *
 * Whole chunks with no span go first (they give back memory in large
 * blocks), then free pages inside chunks that hold spans. Pages go back
 * outside the heap lock, MHEAP_RELEASE_BATCH per lock hold.
 *
 * Context: process context; may sleep.
 * Return: the number of kernel pages given back.
 */
unsigned long mheap_scavenge_pages(unsigned long max)
{
	return __mheap_scavenge_pages(max, _RET_IP_);
}

/* mheap_scavenge_pages() on behalf of @caller, which its event names. */
static unsigned long __mheap_scavenge_pages(unsigned long max,
					    unsigned long caller)
{
	unsigned long batch[MHEAP_RELEASE_BATCH];
	unsigned long flags, pages = 0;
	struct heap_chunk *chunk, *tmp;
	LIST_HEAD(release);
	unsigned int n, i;

	might_sleep();
	heap_lock(flags);
	list_for_each_entry_safe(chunk, tmp, &mheap.chunks, list) {
		if (chunk_has_spans(chunk) || pages + chunk->nfree > max)
			continue;
		pages += chunk->nfree;
		mheap_unlink_chunk(chunk);
		list_add(&chunk->list, &release);
	}
	heap_unlock(flags);
	mheap_release_chunks(&release);
	while (pages < max) {
		heap_lock(flags);
		n = mheap_take_free_pages(batch, min_t(unsigned long,
						       MHEAP_RELEASE_BATCH,
						       max - pages),
					  &release);
		heap_unlock(flags);
		for (i = 0; i < n; i++)
			free_goslab_page(batch[i]);
		mheap_release_chunks(&release);
		pages += n;
		if (n < MHEAP_RELEASE_BATCH)
			break;
		cond_resched();
	}
	trace_goslab_scavenge(caller, max, pages * GOSLAB_KPAGES_PER_PAGE);
	return pages * GOSLAB_KPAGES_PER_PAGE;
}

/**
 * mheap_retained_goal() - free pages the heap keeps for reuse
 *
 * Go's scavenger keeps about 10% over the heap goal; goslab keeps free
 * pages up to retain_percent (a tunable, 10 by default) of the pages in
 * spans, and at least
 * GOSLAB_RETAIN_FLOOR pages, so that a small heap is not returned and
 * refetched page by page.
 *
 * Return: the goal, in goslab pages.
 */
unsigned long mheap_retained_goal(void)
{
	unsigned long in_use = READ_ONCE(mheap.st.pages_small) +
			       READ_ONCE(mheap.st.pages_large);

	return max_t(unsigned long, GOSLAB_RETAIN_FLOOR,
		     in_use * READ_ONCE(goslab_retain_percent) / 100);
}
EXPORT_SYMBOL_IF_KUNIT(mheap_retained_goal);

/**
 * mheap_read_stats() - a consistent copy of the heap counters
 * @st: where to put them
 */
void mheap_read_stats(struct goslab_heap_stats *st)
{
	unsigned long flags;

	heap_lock(flags);
	*st = mheap.st;
	heap_unlock(flags);
	st->meta_bytes += atomic_long_read(&span_meta_bytes);
	st->pages_pcache = atomic_long_read(&pcache_pages);
}
EXPORT_SYMBOL_NS_GPL(mheap_read_stats, GOSLAB_BENCH);

/**
 * mheap_free_pages() - goslab pages the heap can carve without growing
 *
 * Return: the count; a racy read.
 */
unsigned long mheap_free_pages(void)
{
	return READ_ONCE(mheap.st.pages_free);
}
EXPORT_SYMBOL_IF_KUNIT(mheap_free_pages);

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

	heap_lock(flags);
	list_for_each_entry(chunk, &mheap.chunks, list) {
		struct goslab_arena *a = goslab_arena_of(__pa(chunk->base));
		unsigned int first = arena_page(chunk->base), i = 0;

		while (i < chunk->npages) {
			struct mspan *s;

			/*
			 * A released page is the page allocator's again; its
			 * index entry is whoever has the memory now, maybe a
			 * span of another chunk. So is a goslab page a span
			 * gave back whole while it lives: spans are found by
			 * their first page (never given back whole, see
			 * mspan_scavenge()) and skipped over.
			 */
			if (!test_bit(i, chunk->inuse) ||
			    test_bit(i, chunk->released)) {
				i++;
				continue;
			}
			s = a->spans[first + i];
			if (s && s->chunk == chunk &&
			    s->base == chunk->base + i * GOSLAB_PAGE_SIZE) {
				fn(s, arg);
				n++;
				i += s->npages;
			} else {
				i++;
			}
		}
	}
	heap_unlock(flags);
	return n;
}

/* The pages of @chunk in the CPUs' page caches. Heap lock held. */
static void pcache_pages_of(struct heap_chunk *chunk, unsigned long *held)
{
	int cpu;

	bitmap_zero(held, GOSLAB_PAGES_PER_ARENA);
	for_each_possible_cpu(cpu) {
		struct page_cache *pc = per_cpu_ptr(&goslab_pcache, cpu);
		u64 cache = pc->cache;

		if (!cache || pc->chunk != chunk)
			continue;
		while (cache) {
			__set_bit(pc->first + __ffs64(cache), held);
			cache &= cache - 1;
		}
	}
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

	heap_lock(flags);
	list_for_each_entry(chunk, &mheap.chunks, list) {
		struct goslab_arena *a = goslab_arena_of(__pa(chunk->base));
		unsigned int first = arena_page(chunk->base), i = 0;
		DECLARE_BITMAP(pcached_pages, GOSLAB_PAGES_PER_ARENA);

		chunks++;
		pcache_pages_of(chunk, pcached_pages);
		total += chunk->npages - chunk->nreleased;
		kpages += (1UL << chunk->order) -
			  (unsigned long)chunk->nreleased * GOSLAB_KPAGES_PER_PAGE;
		if (!a || chunk->npages != (1U << chunk->order) /
		    GOSLAB_KPAGES_PER_PAGE) {
			goslab_inv_err("heap: chunk %p has no arena or a bad size\n",
				       (void *)chunk->base);
			ok = false;
			continue;
		}
		if (bitmap_weight(chunk->inuse, chunk->npages) !=
		    chunk->npages - chunk->nfree) {
			goslab_inv_err("heap: chunk %p: nfree %u disagrees with its bitmap\n",
				       (void *)chunk->base, chunk->nfree);
			ok = false;
		}
		if (bitmap_weight(chunk->released, chunk->npages) !=
		    chunk->nreleased ||
		    !bitmap_subset(chunk->released, chunk->inuse,
				   chunk->npages)) {
			goslab_inv_err("heap: chunk %p: released pages disagree\n",
				       (void *)chunk->base);
			ok = false;
		}
		nfree += chunk->nfree;
		free_chunks += chunk->nfree == chunk->npages;
		while (i < chunk->npages) {
			struct mspan *s = a->spans[first + i];
			unsigned int j;

			if (test_bit(i, pcached_pages)) {
				if (s || !test_bit(i, chunk->inuse)) {
					goslab_inv_err("heap: page %u of chunk %p is in a page cache but mapped or free\n",
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
					goslab_inv_err("heap: free page %u of chunk %p maps to span %p (%u pages, state %d)\n",
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
				goslab_inv_err("heap: page %u of chunk %p does not start a span of the chunk\n",
					       i, (void *)chunk->base);
				ok = false;
				break;
			}
			for (j = 0; j < s->npages; j++) {
				/* Given back whole: see mheap_walk_spans(). */
				if (mspan_page_given_back(s, j) &&
				    test_bit(i + j, chunk->inuse))
					continue;
				if (a->spans[first + i + j] != s ||
				    !test_bit(i + j, chunk->inuse)) {
					goslab_inv_err("heap: span %p: page %u not mapped to it\n",
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
		goslab_inv_err("heap: counters disagree with the chunks: chunks %lu/%lu pages %lu/%lu free %lu/%lu small+pcache %lu+%lu/%lu pcache %ld free chunks %lu/%lu large %lu/%lu objects %lu/%lu kpages %lu/%lu\n",
			       chunks, mheap.st.chunks, total, mheap.st.pages_total,
			       nfree, mheap.st.pages_free, small, pcached,
			       mheap.st.pages_small, atomic_long_read(&pcache_pages),
			       free_chunks, mheap.free_chunks,
			       large, mheap.st.pages_large, nlarge,
			       mheap.st.large_objects, kpages,
			       mheap.st.kpages_taken - mheap.st.kpages_returned);
		ok = false;
	}
	heap_unlock(flags);
	return ok;
}
EXPORT_SYMBOL_IF_KUNIT(mheap_is_valid);

int mheap_init(void)
{
	phys_addr_t top = __pa(high_memory - 1) + 1;
	struct arena_index_block *index;

	/* The memory present at load; it grows for memory added later. */
	goslab_arenas_len = DIV_ROUND_UP((u64)top, GOSLAB_ARENA_SIZE);
	goslab_cpu_wq = alloc_workqueue("goslab_cpu", WQ_MEM_RECLAIM, 0);
	if (!goslab_cpu_wq)
		return -ENOMEM;
	index = kvzalloc(arena_index_bytes(goslab_arenas_len), GFP_KERNEL);
	if (!index) {
		destroy_workqueue(goslab_cpu_wq);
		return -ENOMEM;
	}
	goslab_arenas = index->arenas;
	mheap.st.meta_bytes += arena_index_bytes(goslab_arenas_len);
	/* Large objects' spans. */
	if (mheap_desc_cache_get(1)) {
		kvfree(index);
		destroy_workqueue(goslab_cpu_wq);
		return -ENOMEM;
	}
	return 0;
}

/* Module exit: everything has been given back to the heap already. */
void mheap_exit(void)
{
	unsigned long i;
	int nid;

	mheap_pcache_flush_all();
	mheap_scavenge();
	if (!list_empty(&mheap.chunks))
		pr_err("heap: %lu chunks still in use at exit; leaking them\n",
		       mheap.st.chunks);
	/*
	 * Leaked pages are nobody's slab memory: they leave the counter, in
	 * steps that fit the int the per-CPU counters take the bytes in.
	 */
	for_each_node(nid) {
		long kpages = atomic_long_xchg(&node_kpages[nid], 0);

		while (kpages > 0) {
			long step = min_t(long, kpages, SZ_1G / PAGE_SIZE);

			mod_node_page_state(NODE_DATA(nid),
					    NR_SLAB_UNRECLAIMABLE_B,
					    -step * (long)PAGE_SIZE);
			kpages -= step;
		}
	}
	/* Descriptors and old index arrays waiting for a grace period. */
	rcu_barrier();
	for (i = 0; i < goslab_arenas_len; i++)
		kfree(goslab_arenas[i]);
	kvfree(container_of(goslab_arenas, struct arena_index_block,
			    arenas[0]));
	desc_caches_destroy();
	destroy_workqueue(goslab_cpu_wq);
}

#if IS_ENABLED(CONFIG_KUNIT)
/* For goslab's KUnit suites: what the layers' tests look at. */

/**
 * mheap_span_of() - the span owning the memory at @p
 * @p: any pointer
 *
 * The out-of-line __mheap_span_of(), for the layers' tests, which keep
 * the span alive themselves (they hold an object of it, or the span).
 *
 * Return: the span, or NULL when goslab does not own @p.
 */
struct mspan *mheap_span_of(const void *p)
{
	struct mspan *s;

	rcu_read_lock();
	s = __mheap_span_of(p);
	rcu_read_unlock();
	return s;
}
EXPORT_SYMBOL_IF_KUNIT(mheap_span_of);

/**
 * mheap_arena_entry() - the arena index entry for the goslab page of @p
 * @p: any address in the direct map
 *
 * For the layers' tests, which check that an entry survives what it
 * must. Not for the allocator itself.
 *
 * Return: the entry, or NULL when the index has no arena for @p.
 */
struct mspan **mheap_arena_entry(const void *p)
{
	struct goslab_arena *a = goslab_arena_of(__pa(p));

	return a ? &a->spans[arena_page((unsigned long)p)] : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mheap_arena_entry);

/**
 * mheap_pcache_pages() - goslab pages the page caches hold
 *
 * Return: the count.
 */
unsigned long mheap_pcache_pages(void)
{
	return atomic_long_read(&pcache_pages);
}
EXPORT_SYMBOL_IF_KUNIT(mheap_pcache_pages);

/**
 * goslab_test_cpu_lock() - take this CPU's goslab_cpu_lock
 * @flags: the saved IRQ state, for goslab_test_cpu_unlock()
 *
 * For the tests that drive the layers below mcache themselves.
 */
void goslab_test_cpu_lock(unsigned long *flags)
{
	local_lock_irqsave(&goslab_cpu_lock, *flags);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_test_cpu_lock);

/**
 * goslab_test_cpu_unlock() - release what goslab_test_cpu_lock() took
 * @flags: the IRQ state it saved
 */
void goslab_test_cpu_unlock(unsigned long *flags)
{
	local_unlock_irqrestore(&goslab_cpu_lock, *flags);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_test_cpu_unlock);
#endif
