/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goslab internals: Go's runtime allocator, in the kernel.
 *
 * Glossary (Go's names, kept):
 *
 *  page       an 8 KiB goslab page: two 4 KiB kernel pages on x86, so Go's
 *             size-class table applies unchanged. Every figure shown to a
 *             person (debugfs, benchmarks) counts 4 KiB kernel pages or
 *             bytes instead, so it compares directly with SLUB's.
 *  size class one of Go's 67 object sizes (8 B ... 32 KiB), each with the
 *             span size (1-10 pages) that keeps tail waste under 1/8.
 *  span class a size class and one bit (Go's noscan bit; here: whether
 *             the span's pages are __GFP_RECLAIMABLE). A goslab_class is
 *             one span class: its geometry, its mcentral and its slot in
 *             every CPU's mcache. Typed caches are span classes too.
 *  mspan      a run of pages carved into equal objects of one class (or
 *             holding one large object). Its allocation state is Go's:
 *             allocBits, freeindex and allocCache (an inverted 64-bit
 *             window onto allocBits at freeindex, consumed with ctz).
 *  mcache     per CPU: one span per span class, allocated from without a
 *             lock by mspan_next_free_fast().
 *  mcentral   per span class: the spans not in any mcache, under a lock.
 *  mheap      the pages: chunks taken from alloc_pages(), carved into
 *             spans, and an index (the arena map) from an address to the
 *             span that owns it.
 *  pinned     a free slot of a span in use whose kernel page was given
 *             back by mspan_scavenge(): allocated for good, never handed
 *             out, until the span empties and goes back to mheap.
 *  page cache Go's pageCache: a CPU's window of up to 64 free heap pages
 *             (a base and a 64-bit bitmap), from which one-page spans are
 *             carved without the heap lock.
 *  sweep credit  sweeping charged to an allocation that takes pages from
 *             mheap (see sweep.c): unswept pages over free heap pages.
 *  sweep      folding the frees recorded on a span since its last sweep
 *             into its allocation bits, which makes those slots
 *             allocatable again (Go swaps in the mark bits).
 *
 * The walk (as in Go's malloc.go):
 *
 *   small: mcache slot -> mspan_next_free_fast() -> mspan_next_free()
 *          -> mcache_refill() -> mcentral_cache_span() (swept partial
 *          spans, then sweeping unswept ones) -> mcentral_grow() ->
 *          mheap_alloc_span() -> alloc_pages()
 *   large: mheap_alloc_span() directly, one object per span.
 *
 * Allocated objects and frees. A slot i of a small span is allocated iff
 * i < freeindex or bit i of alloc_bits is set (Go's rule: nextFreeFast
 * only skips allocated slots, so everything below freeindex is in use).
 * alloc_count is the number of allocated slots. A free never touches the
 * allocation state, which belongs to the span's owner; it records itself
 * in one of two bitmaps, and the sweep folds them into the allocation
 * bits. A slot is live iff it is allocated and neither free bit is set.
 *
 *  - A free on the CPU whose mcache holds the span (the common case)
 *    checks the slot and sets bit i of local_free_bits with IRQs off, no
 *    lock and no atomic (mspan_free_check_local(), _publish_local()).
 *  - Any other free takes the span's free_lock (a raw spinlock, IRQs
 *    off), checks the slot and sets bit i of free_bits (nfreed counts
 *    them). The sweep and the scavenger take free_lock too, so a remote
 *    free's check and its bit are one step against them: a second free
 *    of a slot swept in between finds it free, never marks it again.
 *  - A local and a remote free of the same slot at the same moment can
 *    both set their bit (the local one looks at free_bits without a
 *    barrier). The sweep, which sees both bitmaps, frees such a slot
 *    once, reports the double free and takes the second free back out
 *    of the counters (mspan_sweep()'s @dup); until then the slow recount
 *    counts it apart (mspan_dup_frees()).
 *
 * What a free writes into the object (init_on_free zeroing, KASAN
 * poison, kmemleak) happens after its checks (a pinned slot's page may
 * be gone) and before its bit is published (after that the slot may be
 * someone else's), on the owning CPU or under free_lock: the sweep
 * waits for free_lock, so no write lands after a slot is reused.
 *
 * Span states and owners (mspan.state, under the class's mcentral lock):
 *
 *   CACHED    in one CPU's mcache slot; only that CPU (IRQs off) changes
 *             freeindex, alloc_cache and alloc_count, and sweeps it in
 *             place when it is used up and has frees (mcache_refill()).
 *   PARTIAL   on mcentral.partial: swept, has a free slot. Spans with no
 *             object at all sit at the tail, at most GOSLAB_KEEP_EMPTY
 *             of them per class (nempty); the rest go back to mheap.
 *   FULL      on mcentral.full: swept, no free slot.
 *   UNSWEPT   on mcentral.partial_unswept or full_unswept (Go's unswept
 *             sets; whether it had a free slot before the frees):
 *             received frees since its last sweep.
 *             The free that takes nfreed from 0 to 1 moves a PARTIAL or
 *             FULL span here (mcentral_note_free()); a CACHED span is
 *             swept when its CPU gives it back (mcentral_uncache_span()).
 *   LARGE     a large object's span, owned by the object; its free takes
 *             nfreed from 0 to 1 under free_lock, and only that free
 *             writes into the object and gives the span back.
 *   DEAD      descriptor of a span given back to mheap. Freed (with its
 *             tiny words) only after an RCU grace period: every path
 *             that looks a pointer up in the arena index does so with
 *             IRQs off or under rcu_read_lock() and uses the span only
 *             there, so a double free or a stale pointer racing the
 *             span's release reads a descriptor that still exists, and a
 *             remote free that took nfreed from 0 to 1 may find the span
 *             released before it calls mcentral_note_free(), which then
 *             checks its state under the class's lock.
 *
 * Lock order: see "DOC: Lock order" below.
 *
 * Nothing sleeps under the spinning locks. mcentral_grow() runs with no
 * lock held and IRQs in the caller's state, so that alloc_pages() can
 * sleep when gfp allows; the mcache slow path re-reads this_cpu state
 * after it. The sweep credit runs there too, taking one mcentral lock at
 * a time, for a bounded number of spans (GOSLAB_CREDIT_BUDGET) since the
 * caller may have IRQs off. The background sweeper and scavenger (a
 * delayed work item) and the shrinker take the same locks in the same
 * order, one span or one batch of pages per lock hold; goslab_bg_stop()
 * unregisters the shrinker and disables the work before anything is torn
 * down.
 *
 * Fast-path choice: IRQs off (local_irq_save) around the mcache. Go's
 * allocation state is three fields of the span (alloc_cache, freeindex,
 * alloc_count) plus the slot's span pointer; SLUB's transaction-id scheme
 * commits one pointer with this_cpu_cmpxchg, and here would need a
 * double-word cmpxchg over a per-CPU copy of the allocation window and a
 * retry loop. Saving and restoring IRQ state is a few unlocked
 * instructions on x86 and makes hardirq allocation and free on the same
 * CPU safe without any atomic. The benchmark (make bench) measures it.
 *
 * Invariants (checked by mspan_is_valid(), mcentral_is_valid(),
 * mheap_is_valid() and the slow recount, goslab_read_stats_slow()):
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
 *  - a span is on exactly the list its state names; nspans counts CACHED,
 *    PARTIAL, FULL and UNSWEPT spans of the class.
 *  - every page of a span maps to the span in the arena index; every
 *    in-use page of a chunk belongs to exactly one span or is released;
 *    a free page maps to nothing. A released page's index entry is not
 *    its chunk's: the page allocator may have handed the memory to
 *    another chunk since, whose span it then names. A chunk's nfree is
 *    its count of clear bits; heap pages == in spans + free; kernel
 *    pages taken - returned == the chunks' pages that are not released.
 *  - allocations - frees (the fast counters) == live objects found by
 *    walking every span, less the racing double frees awaiting their
 *    sweep (the slow recount).
 *
 * Every double free is detected exactly once: sequential ones at once,
 * racing ones at once or (local against remote) at the span's next
 * sweep; none is counted as a free.
 *
 * The layers' functions that goslab's KUnit suites (kunit/) call are
 * exported with EXPORT_SYMBOL_IF_KUNIT(): only in a kernel with KUnit,
 * in the EXPORTED_FOR_KUNIT_TESTING namespace. The two the benchmark
 * module needs in kernels without KUnit (goslab_validate(),
 * mheap_read_stats()) are in the GOSLAB_BENCH namespace. Neither is API.
 */

/**
 * DOC: Lock order
 *
 * Outer first. Sleeping locks: the control file's mutex
 * (control.c), the validators' problem_lock (stats.c: one
 * goslab_validate_into() at a time), goslab_shrinker_mutex (sweep.c:
 * held by the shrinker's scan, which takes it with a trylock so that
 * reclaim never waits; goslab_bg_pause() takes it briefly to wait for a
 * scan in flight), goslab_class_mutex (mcentral.c: changes to the class
 * list, the slow recount, class observers), cpus_read_lock() (the
 * flushes of mcaches, page caches and tiny blocks). Then the spinning
 * ones, every one taken with IRQs disabled because allocation and free
 * work in hardirq context:
 *
 *   1. IRQs off on the local CPU: the mcache (one CPU's slots), the
 *      CPU's page cache and its tiny block. The fast path takes no lock
 *      and no locked instruction. A CPU that went offline runs nothing,
 *      so the cpuhp callback (goslab_cpu_dead()) empties all three from
 *      another CPU; debugfs/goslab/cpus reads them racily.
 *   2. mcentral.lock (one per span class): the four span lists, every
 *      span's state and list linkage, nspans, nempty, released_kpages and
 *      npinned; and the allocation state of every span of the class that
 *      is not CACHED (sweeping).
 *   3. mspan.free_lock (one span's at a time): its free_bits and nfreed,
 *      and the sweep and the scavenger against remote frees (see above).
 *      mheap.lock, beside it (never nested with it): the chunk list,
 *      each chunk's bitmaps, the heap page counters, refilling and
 *      flushing page caches, and writes to the arena index (except a
 *      page cache's own pages, written by its CPU). Pages go back to
 *      the buddy allocator under it (its zone->lock nests inside).
 *   4. problem_sink_lock (stats.c) and irqsoff_lock (stats.c),
 *      innermost and never nested with each other: validators report
 *      under any of the above, and the end of a measured IRQs-off
 *      section (mcentral.lock, mheap.lock) records its length.
 *
 * Checked against what lockdep records (scripts/goslab-lockorder after
 * the stress, race, cache, tiny, sweep and torture suites and the
 * control-file tests, 4 CPUs): the control mutex and problem_lock
 * before goslab_shrinker_mutex, goslab_class_mutex and cpu_hotplug_lock;
 * those before mcentral.lock; mcentral.lock before free_lock, mheap.lock
 * and irqsoff_lock; mheap.lock before irqsoff_lock; no other nesting
 * among goslab's locks.
 */
#ifndef _GOSLAB_INTERNAL_H
#define _GOSLAB_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/gfp.h>
#include <linux/kmemleak.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/percpu.h>
#include <linux/jump_label.h>
#include <linux/sched/clock.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/goslab.h>
/* Before 6.2, Kbuild supplies these (compat/kunit_visibility.h). */
#ifndef EXPORT_SYMBOL_IF_KUNIT
#include <kunit/visibility.h>
#endif

/*
 * A state-machine precondition (Go's throw("...")): a WARN in kernels
 * built for testing (CONFIG_DEBUG_VM, or KUnit built in), where make
 * check turns any WARN into a failure; compiled out elsewhere, as
 * VM_WARN_ON_ONCE() is without CONFIG_DEBUG_VM.
 */
#if IS_ENABLED(CONFIG_DEBUG_VM) || IS_BUILTIN(CONFIG_KUNIT)
#define GOSLAB_WARN_ON_ONCE(cond)	WARN_ON_ONCE(cond)
#else
#define GOSLAB_WARN_ON_ONCE(cond)	BUILD_BUG_ON_INVALID(cond)
#endif

#define GOSLAB_PAGE_SHIFT	13
#define GOSLAB_PAGE_SIZE	BIT(GOSLAB_PAGE_SHIFT)
/* Kernel pages per goslab page, and the alloc_pages() order of one. */
#define GOSLAB_KPAGES_PER_PAGE	(GOSLAB_PAGE_SIZE >> PAGE_SHIFT)
#define GOSLAB_PAGE_ORDER	(GOSLAB_PAGE_SHIFT - PAGE_SHIFT)

#define GOSLAB_NUM_SIZE_CLASSES	68	/* class 0 is large objects */
#define GOSLAB_NUM_SPAN_CLASSES	(GOSLAB_NUM_SIZE_CLASSES << 1)
#define GOSLAB_MAX_SMALL_SIZE	32768
#define GOSLAB_SMALL_SIZE_DIV	8
#define GOSLAB_SMALL_SIZE_MAX	1024
#define GOSLAB_LARGE_SIZE_DIV	128
#define GOSLAB_SIZE_TO_CLASS8_LEN \
	(GOSLAB_SMALL_SIZE_MAX / GOSLAB_SMALL_SIZE_DIV + 1)
#define GOSLAB_SIZE_TO_CLASS128_LEN \
	((GOSLAB_MAX_SMALL_SIZE - GOSLAB_SMALL_SIZE_MAX) / \
	 GOSLAB_LARGE_SIZE_DIV + 1)
#define GOSLAB_MAX_SPAN_PAGES	10
#define GOSLAB_MAX_NELEMS	(GOSLAB_PAGE_SIZE / 8)

/*
 * An arena is the largest naturally aligned block alloc_pages() can give
 * (4 MiB with 4 KiB pages). Chunks are naturally aligned blocks of at
 * most that size, so a chunk never straddles two arenas.
 */
#define GOSLAB_ARENA_SHIFT	(PAGE_SHIFT + MAX_PAGE_ORDER)
#define GOSLAB_ARENA_SIZE	BIT(GOSLAB_ARENA_SHIFT)
#define GOSLAB_PAGES_PER_ARENA	(GOSLAB_ARENA_SIZE >> GOSLAB_PAGE_SHIFT)
/* The largest large object: a whole arena, as kmalloc's MAX_PAGE_ORDER. */
#define GOSLAB_MAX_LARGE_SIZE	GOSLAB_ARENA_SIZE
/* Second level of the arena index: one 4 KiB table of arena pointers. */
#define GOSLAB_ARENA_L2_BITS	9

/*
 * Kernel pages of a span that mspan_scavenge() can give back while the
 * span is in use: a bit each in u32 mspan.released_kpages. Later pages
 * of a longer span stay until the span empties.
 */
#define GOSLAB_MAX_RELEASED_KPAGES	BITS_PER_TYPE(u32)
/*
 * The longest span of a typed cache, in goslab pages (Go's rule, capped):
 * every kernel page of any class's span can be given back while in use.
 */
#define GOSLAB_CACHE_MAX_SPAN_PAGES	16
static_assert(GOSLAB_CACHE_MAX_SPAN_PAGES * GOSLAB_KPAGES_PER_PAGE <=
	      GOSLAB_MAX_RELEASED_KPAGES);
static_assert(GOSLAB_MAX_SPAN_PAGES <= GOSLAB_CACHE_MAX_SPAN_PAGES);

/* Empty spans a class keeps on its partial list before giving back. */
#define GOSLAB_KEEP_EMPTY	1
/* Objects below this size may be packed by goslab_alloc_tiny(). */
#define GOSLAB_TINY_SIZE	16
/* Free heap pages always kept for reuse, whatever the heap's size. */
#define GOSLAB_RETAIN_FLOOR	128
/* How long the background sweeper and scavenger wait to batch work. */
#define GOSLAB_BG_DELAY		(HZ / 10)
/* Unswept spans mcentral_cache_span() sweeps before growing (Go: 100). */
#define GOSLAB_SWEEP_BUDGET	100
/*
 * Spans the sweep credit sweeps per allocation at most: the allocating
 * context may have IRQs off. What is left waits for the background
 * sweeper.
 */
#define GOSLAB_CREDIT_BUDGET	32

/*
 * The gfp bits of a caller's request that reach the page allocator and
 * goslab's own metadata allocations: how hard to try, and where
 * (mm/internal.h's GFP_RECLAIM_MASK and GFP_CONSTRAINT_MASK, which a
 * module cannot include). Zone, zeroing, accounting, compound and
 * mobility bits never do: objects are neither movable nor charged, and
 * a chunk is split into order-0 pages.
 */
#define GOSLAB_GFP_RECLAIM_MASK	(__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | \
				 __GFP_FS | __GFP_NOWARN | \
				 __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | \
				 __GFP_NORETRY | __GFP_MEMALLOC | \
				 __GFP_NOMEMALLOC | __GFP_NOLOCKDEP)
#define GOSLAB_GFP_CONSTRAINT_MASK	(__GFP_HARDWALL | __GFP_THISNODE)

static inline gfp_t goslab_page_gfp(gfp_t gfp)
{
	return gfp & (GOSLAB_GFP_RECLAIM_MASK | GOSLAB_GFP_CONSTRAINT_MASK);
}

/*
 * Bits a caller may pass that goslab cannot honour: DMA zones are
 * refused (goslab has no DMA memory; silently returning other memory
 * would break the device); __GFP_ACCOUNT and __GFP_HIGHMEM are dropped
 * with a warning (objects are not charged to a memory cgroup; objects
 * are always mapped). goslab_gfp_check() is the slow path.
 */
#define GOSLAB_GFP_REFUSED	(__GFP_DMA | __GFP_DMA32)
#define GOSLAB_GFP_UNSUPPORTED	(GOSLAB_GFP_REFUSED | __GFP_ACCOUNT | \
				 __GFP_HIGHMEM)

bool goslab_gfp_check(gfp_t gfp, unsigned long ip, const char *what);

/*
 * What every allocation API checks first, on behalf of its caller at @ip:
 * flags goslab cannot honour (goslab_gfp_check()) and a size of 0. True
 * when the API must return NULL.
 */
static __always_inline bool goslab_alloc_refused(size_t size, gfp_t gfp,
						 unsigned long ip,
						 const char *api)
{
	might_alloc(gfp);
	if (unlikely(gfp & GOSLAB_GFP_UNSUPPORTED) &&
	    !goslab_gfp_check(gfp, ip, api))
		return true;
	return unlikely(!size);
}

extern const u16 goslab_class_to_size[GOSLAB_NUM_SIZE_CLASSES];
extern const u8 goslab_class_to_allocnpages[GOSLAB_NUM_SIZE_CLASSES];
extern const u8 goslab_size_to_class8[GOSLAB_SIZE_TO_CLASS8_LEN];
extern const u8 goslab_size_to_class128[GOSLAB_SIZE_TO_CLASS128_LEN];

/**
 * goslab_size_to_class() - the smallest size class holding @size bytes
 * @size: 1 .. GOSLAB_MAX_SMALL_SIZE
 *
 * Return: the size class (1 .. GOSLAB_NUM_SIZE_CLASSES - 1).
 */
static inline unsigned int goslab_size_to_class(size_t size)
{
	if (size <= GOSLAB_SMALL_SIZE_MAX)
		return goslab_size_to_class8[DIV_ROUND_UP(size,
						GOSLAB_SMALL_SIZE_DIV)];
	return goslab_size_to_class128[DIV_ROUND_UP(size - GOSLAB_SMALL_SIZE_MAX,
						    GOSLAB_LARGE_SIZE_DIV)];
}

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
 *	(see the header comment); innermost, IRQs off
 * @nfreed: free bits set since the last sweep; under @free_lock (a large
 *	span's: 1 once its object is freed)
 * @nlocal_freed: local free bits set since the last sweep; owner only
 * @alloc_bits: allocation bits, written by the owner only (and by the
 *	scavenger, under @free_lock, on a span no CPU caches)
 * @free_bits: remote frees since the last sweep; under @free_lock
 * @local_free_bits: frees made by the CPU caching the span, with IRQs
 *	off and no lock; owner only
 * @rcu: the descriptor is freed after a grace period: every lookup of
 *	a pointer runs with IRQs off or under rcu_read_lock()
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

/**
 * struct mcache_slot - one CPU's slot for one span class
 * @span: the span allocated from; &goslab_emptymspan when there is none
 * @alloc_base: @span's alloc_count when it was cached
 * @nmalloc: allocations, counted when a span leaves the slot (Go's way)
 * @nfree: frees of this class's objects made on this CPU
 * @nrefill: spans taken from mcentral
 * @nsweep: sweeps of a used-up span in place, without mcentral
 * @nswept_frees: frees those sweeps folded in
 * @nalloc_slow: allocations that took the slow path (debugfs)
 * @nfree_remote: frees of a span this CPU did not cache (debugfs)
 * @alloc_fast_base: what "alloc_fastpath" read when last cleared
 * @free_fast_base: what "free_fastpath" read when last cleared
 *
 * Written only by its CPU with IRQs off (nfree with this_cpu_inc()).
 */
struct mcache_slot {
	struct mspan *span;
	unsigned int alloc_base;
	unsigned long nmalloc;
	unsigned long nfree;
	unsigned long nrefill;
	unsigned long nsweep;
	unsigned long nswept_frees;
	unsigned long nalloc_slow;
	unsigned long nfree_remote;
	unsigned long alloc_fast_base;
	unsigned long free_fast_base;
};

/**
 * struct mcentral - the spans of one class that no mcache holds
 * @lock: protects everything here and the state of those spans
 * @partial: swept spans with a free slot; empty ones at the tail
 * @full: swept spans without a free slot
 * @partial_unswept: spans with frees since their last sweep that had a
 *	free slot before them
 * @full_unswept: spans with frees since their last sweep that were full
 * @nspans: spans of the class, cached ones included
 * @nempty: spans on @partial with no object allocated
 * @ngrow: spans taken from mheap
 * @nsweep: sweeps done
 * @nswept_frees: frees those sweeps folded in
 * @nrelease: empty spans given back to mheap
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
	unsigned long nempty;
	unsigned long ngrow;
	unsigned long nsweep;
	unsigned long nswept_frees;
	unsigned long nrelease;
};

/* What a slow recount or the fast counters say about one span class. */
struct goslab_class_stats {
	unsigned long spans;
	unsigned long pages;
	unsigned long live;
	unsigned long nmalloc;
	unsigned long nfree;
	unsigned long nrefill;
};

/**
 * struct goslab_class_ops - what only one kind of class knows
 * @free_object: free the object at @p inside slot-sized blocks of @s (the
 *	tiny class); IRQs off. Returns 0 or -GOSLAB_ERR_*
 * @object_size: the size of the object at @p, or 0 with *@err set
 * @span_is_valid: check what the kind keeps per span (mspan_is_valid())
 * @flush: every CPU lets go of what it holds of the class above its
 *	mcache slot (a tiny block); may sleep
 * @release: free the class's container once the class is torn down
 *
 * @free_object and @object_size are required of a class whose spans
 * carry tiny block words (the free path calls them for every object of
 * such a span); every other member may be NULL, and the size classes
 * have no ops at all.
 */
struct goslab_class_ops {
	int (*free_object)(struct mspan *s, const void *p);
	size_t (*object_size)(struct mspan *s, const void *p, int *err);
	bool (*span_is_valid)(const struct mspan *s);
	void (*flush)(struct goslab_class *cls);
	void (*release)(struct goslab_class *cls);
};

/**
 * struct goslab_class_spec - what goslab_class_create() builds a class from
 * @name: unique among classes; copied
 * @api: the caller's API function, for reports
 * @elemsize: object size
 * @npages: goslab pages per span
 * @page_gfp: extra gfp bits for the spans' pages (__GFP_RECLAIMABLE)
 * @tiny: spans carry the tiny allocator's block words
 * @ctor: constructor run on each object when a span is carved, or NULL
 * @ops: the kind's behaviour, or NULL
 */
struct goslab_class_spec {
	const char *name;
	const char *api;
	unsigned int elemsize;
	unsigned int npages;
	gfp_t page_gfp;
	bool tiny;
	void (*ctor)(void *obj);
	const struct goslab_class_ops *ops;
};

/**
 * struct goslab_class_observer - follows classes as they come and go
 * @add: a class was created (or existed when observing began)
 * @remove: a class goes (or observing stops)
 *
 * Called under goslab_class_mutex; may sleep.
 */
struct goslab_class_observer {
	void (*add)(struct goslab_class *cls);
	void (*remove)(struct goslab_class *cls);
};

/**
 * struct goslab_class - a span class: geometry, mcentral, mcache slots
 * @name: for reports and debugfs
 * @elemsize: object size
 * @npages: goslab pages per span
 * @nelems: objects per span
 * @divmul: reciprocal of @elemsize
 * @page_gfp: extra gfp bits for the span's pages (__GFP_RECLAIMABLE)
 * @node: on goslab_class_list (RCU; written under goslab_class_mutex)
 * @ctor: constructor run on each object when a span is carved, or NULL
 * @tiny: the tiny allocator's class of 16-byte blocks (tiny.c)
 * @ops: what only this kind of class knows, or NULL
 * @dup_frees: frees counted twice: racing double frees found by sweeps
 * @recount: the slow recount's scratch (goslab_read_stats_slow())
 * @debugfs: its caches/<name>/ directory
 * @debugfs_files: the files' private data
 * @slot: this class's slot in each CPU's mcache
 * @central: the class's mcentral
 */
struct goslab_class {
	struct list_head node;
	const char *name;
	unsigned int elemsize;
	unsigned int npages;
	unsigned int nelems;
	u32 divmul;
	gfp_t page_gfp;
	bool tiny;
	void (*ctor)(void *obj);
	const struct goslab_class_ops *ops;
	atomic_long_t dup_frees;
	struct goslab_class_stats recount;
	struct dentry *debugfs;
	void *debugfs_files;
	struct mcache_slot __percpu *slot;
	struct mcentral central;
};

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

extern struct goslab_class goslab_classes[GOSLAB_NUM_SPAN_CLASSES];
extern struct mspan goslab_emptymspan;

static inline unsigned int goslab_span_class(unsigned int sizeclass,
					     bool reclaimable)
{
	return sizeclass << 1 | reclaimable;
}

/**
 * struct heap_chunk - a naturally aligned block from alloc_pages()
 * @list: on mheap.chunks
 * @base: its address
 * @order: its alloc_pages() order
 * @npages: goslab pages in it
 * @nfree: goslab pages neither in a span nor released
 * @nreleased: goslab pages given back to the buddy allocator
 * @inuse: a bit per goslab page in a span or released
 * @released: a bit per goslab page given back
 */
struct heap_chunk {
	struct list_head list;
	unsigned long base;
	unsigned int order;
	unsigned int npages;
	unsigned int nfree;
	unsigned int nreleased;
	DECLARE_BITMAP(inuse, GOSLAB_PAGES_PER_ARENA);
	DECLARE_BITMAP(released, GOSLAB_PAGES_PER_ARENA);
};

/* The page-heap counters, in goslab pages unless the name says kpages. */
struct goslab_heap_stats {
	unsigned long chunks;
	unsigned long pages_total;
	unsigned long pages_free;
	unsigned long pages_small;
	unsigned long pages_large;
	unsigned long pages_pcache;	/* in page caches, within pages_small */
	unsigned long large_objects;
	unsigned long kpages_taken;
	unsigned long kpages_returned;
	unsigned long kpages_span_released;	/* of spans still in use */
	unsigned long meta_bytes;	/* descriptors, chunks, arena index */
};

/*
 * The memory states: every byte goslab holds from the page allocator is
 * in exactly one, so they add up to the kernel pages held. Memory given
 * back is not a state but a running counter (kpages_returned).
 *
 *  LIVE      objects handed out and not freed, at their size class (a
 *            large object counts its whole span);
 *  SWEPT     free slots and tail waste of spans no CPU caches;
 *  UNSWEPT   objects freed and awaiting their span's sweep;
 *  PERCPU    free slots and tail waste of the spans CPUs cache;
 *  HEAP      free pages in mheap and in the CPUs' page caches.
 */
enum goslab_mem_state {
	GOSLAB_MEM_LIVE,
	GOSLAB_MEM_SWEPT,
	GOSLAB_MEM_UNSWEPT,
	GOSLAB_MEM_PERCPU,
	GOSLAB_MEM_HEAP,
	GOSLAB_NR_MEM_STATES,
};

/**
 * struct goslab_memstats - goslab's memory by state
 * @bytes: bytes in each enum goslab_mem_state
 * @held: bytes held from the page allocator; the sum of @bytes
 * @released: bytes given back since load
 */
struct goslab_memstats {
	unsigned long bytes[GOSLAB_NR_MEM_STATES];
	unsigned long held;
	unsigned long released;
};

extern const char * const goslab_mem_state_names[GOSLAB_NR_MEM_STATES];

/* A caller's misuse; 0 is none (the free paths return -GOSLAB_ERR_*). */
enum goslab_error {
	GOSLAB_ERR_NONE,
	GOSLAB_ERR_FOREIGN,
	GOSLAB_ERR_INTERIOR,
	GOSLAB_ERR_DOUBLE_FREE,
	GOSLAB_ERR_WRONG_CACHE,
	GOSLAB_NR_ERRORS,
};

/**
 * struct goslab_arena - the arena index's leaf: a span per goslab page
 * @spans: the span holding each goslab page of a 4 MiB arena, or NULL
 */
struct goslab_arena {
	struct mspan *spans[GOSLAB_PAGES_PER_ARENA];
};

extern struct goslab_arena ***goslab_arena_l1;
extern unsigned long goslab_arena_l1_len;

/*
 * The arena of physical address @pa, or NULL. IRQs off or under
 * rcu_read_lock(): arena_l1[] may be replaced by a larger copy, which is
 * published before its length (so a length read first never indexes
 * past the array read after it) and the old one freed after a grace
 * period.
 */
static __always_inline struct goslab_arena *goslab_arena_of(phys_addr_t pa)
{
	unsigned long ai = pa >> GOSLAB_ARENA_SHIFT;
	unsigned long i1 = ai >> GOSLAB_ARENA_L2_BITS;
	struct goslab_arena **l2;

	if (unlikely(i1 >= READ_ONCE(goslab_arena_l1_len)))
		return NULL;
	/* Pairs with the smp_store_release()s in arena_l1_grow(). */
	smp_rmb();
	l2 = READ_ONCE(READ_ONCE(goslab_arena_l1)[i1]);
	if (unlikely(!l2))
		return NULL;
	return READ_ONCE(l2[ai & (BIT(GOSLAB_ARENA_L2_BITS) - 1)]);
}

/**
 * __mheap_span_of() - the span owning the memory at @p, in O(1)
 * @p: any pointer
 *
 * virt_addr_valid() begins by testing that an address lies in the direct
 * map; goslab's memory always does, so that test, inline, is the whole
 * check here: the arena index, not struct page, then says whether goslab
 * owns the page (virt_addr_valid()'s pfn_valid() and its out-of-line call
 * would double the cost of a free). The direct map ends at high_memory,
 * which grows when memory is hot-added. Three dependent loads, no lock;
 * the span may be changing state concurrently.
 *
 * Context: IRQs off or under rcu_read_lock(), until the caller is done
 * with the span (its descriptor is freed after a grace period).
 * Return: the span, or NULL when goslab does not own @p.
 */
static __always_inline struct mspan *__mheap_span_of(const void *p)
{
	unsigned long addr = (unsigned long)p;
	struct goslab_arena *a;
	phys_addr_t pa;

	if (unlikely(addr - PAGE_OFFSET >=
		     (unsigned long)READ_ONCE(high_memory) - PAGE_OFFSET))
		return NULL;
	pa = addr - PAGE_OFFSET;
	a = goslab_arena_of(pa);
	if (unlikely(!a))
		return NULL;
	return READ_ONCE(a->spans[(pa & (GOSLAB_ARENA_SIZE - 1)) >>
				  GOSLAB_PAGE_SHIFT]);
}

/* mspan.c */
void mspan_init(struct mspan *s, unsigned long base, unsigned int npages,
		unsigned int elemsize, unsigned int nelems);
size_t mspan_desc_size(unsigned int nelems);
void mspan_refill_alloc_cache(struct mspan *s, unsigned int whichword);
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
 * @s: the span, in this CPU's mcache; IRQs off
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
int mspan_free_index_local(struct mspan *s, unsigned int idx);
unsigned int mspan_dup_frees(const struct mspan *s);

unsigned int mspan_sweep(struct mspan *s, unsigned int *dup);
u32 mspan_scavenge(struct mspan *s);
unsigned int mspan_live(const struct mspan *s);
bool mspan_is_valid(const struct mspan *s, bool check_cache);

/* mcache.c */
int mcache_alloc_bulk(struct goslab_class *cls, size_t size, gfp_t gfp,
		      size_t n, void **p);
void *mcache_next_free(struct goslab_class *cls, gfp_t gfp,
		       unsigned long flags);
void mcache_flush_all(void);
void mcache_flush_class(struct goslab_class *cls);
void mcache_flush_dead_cpu(unsigned int cpu);
unsigned int mcache_cached_spans_cpu(unsigned int cpu);

/*
 * stats.c: how long goslab keeps IRQs off, measured while debugfs
 * "irqsoff" says so (a static key: nothing is done otherwise). Each
 * site keeps its longest section and where it ended.
 */
enum goslab_irqsoff_site {
	GOSLAB_IRQSOFF_CENTRAL,	/* an mcentral lock held */
	GOSLAB_IRQSOFF_HEAP,	/* the heap lock held */
	GOSLAB_IRQSOFF_FLUSH,	/* a CPU emptying its caches (IPI) */
	GOSLAB_IRQSOFF_CREDIT,	/* the sweep credit paid with IRQs off */
	GOSLAB_IRQSOFF_BULK,	/* a bulk allocation or free */
	GOSLAB_NR_IRQSOFF_SITES,
};

struct seq_file;
DECLARE_STATIC_KEY_FALSE(goslab_irqsoff_on);
void goslab_irqsoff_note(enum goslab_irqsoff_site site, u64 since,
			 unsigned long ip);
void goslab_irqsoff_show(struct seq_file *m);
void goslab_irqsoff_set(bool on);

static __always_inline u64 goslab_irqsoff_begin(void)
{
	return static_branch_unlikely(&goslab_irqsoff_on) ? local_clock() : 0;
}

static __always_inline void goslab_irqsoff_end(enum goslab_irqsoff_site site,
					       u64 since)
{
	if (static_branch_unlikely(&goslab_irqsoff_on) && since)
		goslab_irqsoff_note(site, since, _THIS_IP_);
}

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

/* sanitize.c: KASAN's shadow values for goslab's memory (mm/kasan/). */
#define GOSLAB_KASAN_UNALLOCATED	0xFC	/* KASAN_SLAB_REDZONE */
#define GOSLAB_KASAN_FREED		0xFB	/* KASAN_SLAB_FREE */
#define GOSLAB_KASAN_HEAP_FREE		0xFF	/* KASAN_PAGE_FREE */

#ifdef CONFIG_KASAN_GENERIC
void goslab_kasan_poison(const void *p, size_t size, u8 value);
void goslab_kasan_unpoison(const void *p, size_t size);
void goslab_kasan_alloc(void *p, size_t size, unsigned int elemsize,
			bool init);
void goslab_kasan_free(void *p, unsigned int elemsize, bool init);
size_t goslab_valid_bytes(const void *p, size_t usable);
#else
static inline void goslab_kasan_poison(const void *p, size_t size, u8 value)
{
}

static inline void goslab_kasan_unpoison(const void *p, size_t size)
{
}

static inline void goslab_kasan_alloc(void *p, size_t size,
				      unsigned int elemsize, bool init)
{
}

static inline void goslab_kasan_free(void *p, unsigned int elemsize,
				     bool init)
{
}

static inline size_t goslab_valid_bytes(const void *p, size_t usable)
{
	return usable;
}
#endif
void goslab_forget_live_objects(struct mspan *s);

/**
 * goslab_post_alloc() - an object of @cls is handed out for @size bytes
 * @cls: its class (not the tiny one)
 * @p: the object
 * @size: the bytes the caller asked for
 * @gfp: the caller's flags
 *
 * Zeroes it for init_on_alloc or __GFP_ZERO (a class with a constructor
 * keeps its constructed state, as SLUB's do), tells KASAN which bytes
 * are the caller's and kmemleak that the object exists.
 */
static __always_inline void goslab_post_alloc(const struct goslab_class *cls,
					      void *p, size_t size, gfp_t gfp)
{
	bool init = !cls->ctor && want_init_on_alloc(gfp);

	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		goslab_kasan_alloc(p, size, cls->elemsize, init);
	else if (unlikely(init))
		memset(p, 0, cls->elemsize);
	kmemleak_alloc(p, cls->elemsize, 1, gfp);
}

/**
 * goslab_pre_free() - an object of @cls is about to be freed
 * @cls: its class (not the tiny one)
 * @p: the object, checked and not yet published as free
 *
 * Under the exclusion of internal.h's free protocol: on the CPU caching
 * the span or under its free_lock, so that nothing written here lands
 * after the slot is someone else's.
 */
static __always_inline void goslab_pre_free(const struct goslab_class *cls,
					    void *p)
{
	bool init = !cls->ctor && want_init_on_free();

	kmemleak_free(p);
	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		goslab_kasan_free(p, cls->elemsize, init);
	else if (unlikely(init))
		memset(p, 0, cls->elemsize);
}

/**
 * mcache_alloc() - allocate one object of @cls on this CPU
 * @cls: the span class
 * @size: the bytes the caller asked for (for the sanitizers)
 * @gfp: allocation flags; the fast path looks only at the zeroing ones
 *
 * Return: the object, or NULL when memory could not be had.
 */
static __always_inline void *mcache_alloc(struct goslab_class *cls,
					  size_t size, gfp_t gfp)
{
	unsigned long flags;
	void *v;

	local_irq_save(flags);
	v = mspan_next_free_fast(this_cpu_ptr(cls->slot)->span);
	if (unlikely(!v))
		v = mcache_next_free(cls, gfp, flags);
	local_irq_restore(flags);
	if (likely(v))
		goslab_post_alloc(cls, v, size, gfp);
	return v;
}

/* sweep.c */
extern atomic_long_t goslab_unswept_pages;
unsigned long goslab_sweepone(void);
void goslab_deduct_sweep_credit(unsigned int npages);
unsigned long goslab_credit_pages_swept(void);
void goslab_bg_kick(void);
void goslab_bg_flush(void);
void goslab_bg_pause(void);
void goslab_bg_resume(void);
int goslab_bg_start(void);
void goslab_bg_stop(void);
bool goslab_bg_pending(void);
unsigned long goslab_shrinker_count(void);
unsigned long goslab_shrinker_scan(unsigned long nr_kpages);
unsigned long goslab_shrinker_released(void);
void goslab_bg_counts(unsigned long *swept, unsigned long *released);

/* mcentral.c */
void mcentral_init(struct mcentral *c);
struct mspan *mcentral_cache_span(struct goslab_class *cls);
void mcentral_uncache_span(struct goslab_class *cls, struct mspan *s);
struct mspan *mcentral_exchange_span(struct goslab_class *cls,
				     struct mspan *old);
unsigned long mcentral_sweepone(struct goslab_class *cls);
unsigned long mcentral_release_empty(struct goslab_class *cls);
struct mspan *mcentral_grow(struct goslab_class *cls, gfp_t gfp);
void mcentral_put_span(struct goslab_class *cls, struct mspan *s);
void mcentral_note_free(struct goslab_class *cls, struct mspan *s);
unsigned long mcentral_shrink(struct goslab_class *cls);
bool mcentral_is_valid(struct goslab_class *cls);
void mcentral_report_live(struct goslab_class *cls, unsigned int max);
unsigned long mcentral_destroy(struct goslab_class *cls);

/* mheap.c */
int mheap_init(void);
void mheap_exit(void);
struct mspan *mheap_alloc_span(struct goslab_class *cls, unsigned int npages,
			       gfp_t gfp);
void mheap_free_span(struct mspan *s);
void mheap_release_span_kpages(struct mspan *s, u32 kpages);
void mheap_span_meta(long bytes);
struct mspan *mheap_span_of(const void *p);
struct mspan **mheap_arena_entry(const void *p);
unsigned long mheap_scavenge(void);
void mheap_pcache_flush_cpu(unsigned int cpu);
void mheap_pcache_flush_all(void);
unsigned long mheap_pcache_pages(void);
unsigned int mheap_pcache_pages_cpu(unsigned int cpu);
unsigned long mheap_scavenge_pages(unsigned long max);
unsigned long mheap_retained_goal(void);
void mheap_read_stats(struct goslab_heap_stats *st);
unsigned long mheap_free_pages(void);
bool mheap_is_valid(void);
unsigned long mheap_walk_spans(void (*fn)(struct mspan *s, void *arg),
			       void *arg);
bool goslab_should_fail_page_alloc(void);

/* class.c */
int goslab_class_create(struct goslab_class *cls,
			const struct goslab_class_spec *spec);
unsigned long goslab_class_destroy(struct goslab_class *cls, const char *api);
void goslab_class_observe(const struct goslab_class_observer *obs);
void goslab_classes_flush(void);
int goslab_size_classes_init(void);
void goslab_classes_exit(void);

/* free.c */
int goslab_free_object(const void *p, unsigned long ip,
		       struct goslab_class *expect, const char *api);
int goslab_free_slot(struct mspan *s, unsigned int idx);
void goslab_free_bulk_class(struct goslab_class *cls, size_t n, void **p,
			    unsigned long ip, const char *api);
size_t goslab_object_size(const void *p, unsigned long ip, const char *api,
			  bool *tiny);

/* debugfs.c, control.c */
void goslab_debugfs_init(void);
void goslab_debugfs_exit(void);
void goslab_control_init(struct dentry *dir);
void goslab_control_exit(void);

/* tiny.c */
extern struct goslab_class goslab_tiny_class;
int goslab_tiny_init(void);
void goslab_tiny_flush(void);
void goslab_tiny_flush_dead_cpu(unsigned int cpu);
bool goslab_tiny_held_cpu(unsigned int cpu);
void goslab_tiny_stats(unsigned long *nalloc, unsigned long *nfree,
		       long *live_bytes, long *class_bytes);

/* cache.c */
/**
 * struct goslab_cache - a typed cache
 * @cls: its span class (geometry, mcentral, per-CPU slots, constructor)
 * @object_size: the size asked for
 * @align: the alignment objects get
 * @flags: GOSLAB_* flags
 * @dead: destroyed with objects still live; kept so that their memory
 *	stays accounted, never allocated from again
 */
struct goslab_cache {
	struct goslab_class cls;
	unsigned int object_size;
	unsigned int align;
	unsigned int flags;
	bool dead;
};

struct goslab_class *goslab_cache_class(struct goslab_cache *c);

/* stats.c */
/* What a validator found wrong: logged, and shown by debugfs "validate". */
__printf(1, 2) void goslab_inv_err(const char *fmt, ...);
int goslab_validate_into(struct seq_file *m);
extern atomic_long_t goslab_large_nmalloc, goslab_large_nfree;
void goslab_large_counts(unsigned long *nmalloc, unsigned long *nfree);
void goslab_report(enum goslab_error err, const void *p, unsigned long ip,
		   const char *what);
unsigned long goslab_error_count(enum goslab_error err);
void goslab_report_ratelimit_reset(void);
void goslab_report_dup_frees(struct goslab_class *cls, struct mspan *s,
			     unsigned int n);
void goslab_read_class_stats(struct goslab_class *cls,
			     struct goslab_class_stats *st);
int goslab_read_stats_slow(void);
void goslab_read_memstats(struct goslab_memstats *ms);
void goslab_read_memstats_slow(struct goslab_memstats *ms);
int goslab_validate(void);

/* mheap.c: fault injection */
extern unsigned int goslab_fail_page_alloc_nth;
extern atomic_long_t goslab_injected_failures;

#endif /* _GOSLAB_INTERNAL_H */
