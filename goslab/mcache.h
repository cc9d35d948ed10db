/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mcache.h - the per-CPU slots and the allocation fast path.
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_MCACHE_H
#define _GOSLAB_MCACHE_H

/**
 * struct mcache_slot - one CPU's slot for one span class
 * @span: the span allocated from; &goslab_emptymspan when there is none
 * @alloc_base: mspan_alloc_count() of @span when it was cached
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
 * Written only by its CPU under goslab_cpu_lock (debugfs's clears of
 * the counters too, as per-CPU work items), or, for an offline CPU, by
 * another, which it cannot race. @span is read racily (WRITE_ONCE) by
 * debugfs and by the flushes' test of whether a CPU holds anything.
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

/* mcache.c */
void *mcache_alloc_slow(struct goslab_class *cls, void *v, size_t size,
			gfp_t gfp, unsigned long flags, unsigned long ip);
void *mcache_might_alloc(void *v, gfp_t gfp);
int mcache_alloc_bulk(struct goslab_class *cls, size_t size, gfp_t gfp,
		      size_t n, void **p);
void *mcache_next_free(struct goslab_class *cls, gfp_t gfp,
		       unsigned long flags);
void mcache_flush_all(void);
void mcache_flush_class(struct goslab_class *cls);
void mcache_flush_dead_cpu(unsigned int cpu);
unsigned int mcache_cached_spans_cpu(unsigned int cpu);

/**
 * mcache_alloc() - allocate one object of @cls on this CPU
 * @cls: the span class
 * @size: the bytes the caller asked for (for the sanitizers)
 * @gfp: allocation flags; the fast path looks only at the zeroing ones
 * @ip: the caller of goslab's API, named in the allocation event; 0 for
 *	no event (a bulk allocation's)
 *
 * The fast path makes no call when there is nothing to write into the
 * object, so that it needs no saved register: the slow path, the
 * zeroing and sanitizer hooks, the allocation event, and might_alloc()
 * (run after the allocation rather than before: it is a check of the
 * caller's context and a voluntary preemption point, and either is the
 * same there) are tail calls, each running might_alloc().
 *
 * Return: the object, or NULL when memory could not be had.
 */
static __always_inline void *mcache_alloc(struct goslab_class *cls,
					  size_t size, gfp_t gfp,
					  unsigned long ip)
{
	unsigned long flags;
	void *v;

	local_lock_irqsave(&goslab_cpu_lock, flags);
	v = mspan_next_free_fast(this_cpu_ptr(cls->slot)->span);
	/* One way out: the caller's address is read once, to pass it. */
	if (unlikely(!v || !goslab_alloc_hooks_off(gfp)))
		return mcache_alloc_slow(cls, v, size, gfp, flags, ip);
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	if (gfpflags_allow_blocking(gfp))
		return mcache_might_alloc(v, gfp);
	return v;
}

#endif /* _GOSLAB_MCACHE_H */
