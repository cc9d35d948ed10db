/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mheap.h - the page heap: chunks from alloc_pages(), the per-CPU page
 * caches and the arena index from an address to its span.
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_MHEAP_H
#define _GOSLAB_MHEAP_H

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

/* Free heap pages always kept for reuse, whatever the heap's size. */
#define GOSLAB_RETAIN_FLOOR	128

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
 * Invariants of the heap (mheap_is_valid()): every page of a span maps
 * to the span in the arena index; every in-use page of a chunk belongs to
 * exactly one span, is released, or sits in a CPU's page cache (mapped
 * to nothing); a free page maps to nothing. A released page's index
 * entry is not its chunk's: the page allocator may have handed the
 * memory to another chunk since, whose span it then names. A chunk's
 * nfree is its count of clear bits; heap pages == in spans + in page
 * caches + free (pages_small counts the page caches' pages); kernel pages
 * taken - returned == the chunks' pages that are not released.
 */
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
	unsigned long pages_rcu;	/* RCU_EMPTY spans', within pages_small */
	unsigned long large_objects;
	unsigned long kpages_taken;
	unsigned long kpages_returned;
	unsigned long kpages_span_released;	/* of spans still in use */
	unsigned long meta_bytes;	/* descriptors, chunks, arena index */
};

/**
 * struct goslab_arena - the arena index's leaf: a span per goslab page
 * @spans: the span holding each goslab page of a 4 MiB arena, or NULL
 */
struct goslab_arena {
	struct mspan *spans[GOSLAB_PAGES_PER_ARENA];
};

extern struct goslab_arena **goslab_arenas;
extern unsigned long goslab_arenas_len;

/*
 * The arena of physical address @pa, or NULL. The cpu lock, IRQs off or
 * rcu_read_lock(): goslab_arenas[] may be replaced by a larger copy,
 * which is published before its length (so a length read first never
 * indexes past the array read after it) and the old one freed after a
 * grace period.
 */
static __always_inline struct goslab_arena *goslab_arena_of(phys_addr_t pa)
{
	unsigned long ai = pa >> GOSLAB_ARENA_SHIFT;

	if (unlikely(ai >= READ_ONCE(goslab_arenas_len)))
		return NULL;
	/* Pairs with the smp_store_release()s in arena_index_grow(). */
	smp_rmb();
	return READ_ONCE(READ_ONCE(goslab_arenas)[ai]);
}

/**
 * __mheap_span_of() - the span owning the memory at @p, in O(1)
 * @p: any pointer
 *
 * Not virt_addr_valid() nor struct page: the arena index alone says
 * whether goslab owns the page. On 64-bit an address below PAGE_OFFSET
 * wraps to an offset past the index; any other address outside the
 * direct map lands past it or on an arena goslab does not have (only
 * arenas of goslab's own direct-map pages are in the index). One
 * compare and three dependent loads, no lock; the span may be changing
 * state concurrently.
 *
 * Context: goslab_cpu_lock held, IRQs off or under rcu_read_lock(),
 * until the caller is done with the span (its descriptor is freed after
 * a grace period).
 * Return: the span, or NULL when goslab does not own @p.
 */
static __always_inline struct mspan *__mheap_span_of(const void *p)
{
	unsigned long addr = (unsigned long)p;
	struct goslab_arena *a;
	phys_addr_t pa;

	/* On PREEMPT_RT the cpu lock is an RCU reader through rt_spin_lock(). */
	RCU_LOCKDEP_WARN(!rcu_read_lock_any_held(),
			 "goslab: span lookup outside an RCU read-side section");
	pa = addr - PAGE_OFFSET;
	a = goslab_arena_of(pa);
	if (unlikely(!a))
		return NULL;
	return READ_ONCE(a->spans[(pa & (GOSLAB_ARENA_SIZE - 1)) >>
				  GOSLAB_PAGE_SHIFT]);
}

/*
 * goslab_cpu_lock - a CPU's own goslab state: its mcache slots, its page
 * cache and its tiny block.
 *
 * local_lock_irqsave(): without PREEMPT_RT it disables IRQs, and nothing
 * more unless lockdep is on, so that allocation and free work in hardirq
 * context and the fast path costs what local_irq_save() costs. On
 * PREEMPT_RT it is a per-CPU sleeping spinlock taken with migration
 * disabled, IRQs stay on, and the locks goslab takes inside it (mcentral
 * and heap locks, spinlock_t) may sleep: goslab is then not for hardirq
 * context, as SLUB is not (include/linux/goslab.h). Either way the holder
 * is in an RCU read-side section, which keeps span descriptors readable
 * (the span state DEAD, internal.h).
 */
DECLARE_PER_CPU(local_lock_t, goslab_cpu_lock);

/* What the functions documented "Context: goslab_cpu_lock held" check. */
static __always_inline void goslab_assert_cpu_locked(void)
{
	lockdep_assert_held(this_cpu_ptr(&goslab_cpu_lock));
}

/* mheap.c */
void goslab_on_each_cpu(void (*fn)(void *arg),
			bool (*has_work)(unsigned int cpu, void *arg),
			void *arg);
int mheap_init(void);
void mheap_exit(void);
struct mspan *mheap_alloc_span(struct goslab_class *cls, unsigned int npages,
			       gfp_t gfp);
void mheap_free_span(struct mspan *s);
bool mheap_rcu_spans_due(void);
bool mheap_rcu_spans_waiting(void);
unsigned long mheap_release_rcu_spans(void);
void mheap_release_span_kpages(struct mspan *s, u32 kpages);
int mheap_desc_cache_get(unsigned int nelems);
void mheap_span_meta(long bytes);
unsigned long mheap_scavenge(void);
void mheap_pcache_flush_cpu(unsigned int cpu);
void mheap_pcache_flush_all(void);
unsigned int mheap_pcache_pages_cpu(unsigned int cpu);
unsigned long mheap_scavenge_pages(unsigned long max);
unsigned long mheap_retained_goal(void);
void mheap_read_stats(struct goslab_heap_stats *st);
unsigned long mheap_free_pages(void);
unsigned long mheap_accounted_kpages(void);
bool mheap_is_valid(void);
unsigned long mheap_walk_spans(void (*fn)(struct mspan *s, void *arg),
			       void *arg);

/* mheap.c: fault injection */
extern unsigned int goslab_fail_page_alloc_nth;

#if IS_ENABLED(CONFIG_KUNIT)
/* Static without KUnit (VISIBLE_IF_KUNIT), or for the tests alone. */
extern atomic_long_t goslab_injected_failures;
struct mspan *mheap_span_of(const void *p);
struct mspan **mheap_arena_entry(const void *p);
unsigned long mheap_pcache_pages(void);
void goslab_test_cpu_lock(unsigned long *flags);
void goslab_test_cpu_unlock(unsigned long *flags);
#endif

#endif /* _GOSLAB_MHEAP_H */
