// SPDX-License-Identifier: GPL-2.0
/*
 * mcache.c - the per-CPU span cache and the allocation slow path.
 *
 * Go gives each P an mcache holding one span per span class, so that most
 * allocations need no shared lock: mcache_alloc() (mcache.h) runs
 * mspan_next_free_fast() on the slot's span under goslab_cpu_lock (IRQs
 * off, without PREEMPT_RT). When the allocCache window is used up,
 * mspan_next_free() moves to the next window; when the span is full,
 * mcache_refill() sweeps it in place if it has received frees, else
 * gives it back to mcentral and takes another, growing the class from
 * mheap as a last resort. Growing may sleep, so it runs with the cpu
 * lock dropped and IRQs back in the caller's state, and the slow path
 * starts over on whatever CPU it wakes up on.
 *
 * Other CPUs' slots are emptied by goslab_on_each_cpu(), a work item on
 * each CPU, never an IPI (mcentral locks sleep on PREEMPT_RT).
 *
 * A slot that holds nothing points at goslab_emptymspan (mspan.c), a span
 * with no free slot, so the fast path needs no NULL check (Go's
 * emptymspan). Each class allocates its slots (class.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/smp.h>
#include "internal.h"

/*
 * The allocation event of goslab's API, out of mcache_alloc()'s fast
 * path, and out of line: the slow path pays a no-op for it (the key).
 */
static noinline void __mcache_trace_alloc(struct goslab_class *cls,
					  void *v, size_t size, gfp_t gfp,
					  unsigned long ip)
{
	if (!ip)
		return;
	if (cls->typed_cache)
		trace_goslab_cache_alloc(ip, v, cls->name, size, cls->elemsize,
					 gfp);
	else
		trace_goslab_alloc(ip, v, size, cls->elemsize, gfp);
}

static __always_inline void mcache_trace_alloc(struct goslab_class *cls,
					       void *v, size_t size, gfp_t gfp,
					       unsigned long ip)
{
	if (static_branch_unlikely(&goslab_alloc_hooks))
		__mcache_trace_alloc(cls, v, size, gfp, ip);
}

/*
 * The refill event, out of line behind its key. A CPU sweeping its own
 * span in place has no sweep event: the refill's free count is what the
 * sweep found.
 */
static noinline void mcache_trace_refill(struct goslab_class *cls,
					 struct mspan *s)
{
	trace_goslab_refill(cls->name, s->base,
			    s->nelems - mspan_alloc_count(s), s->nelems);
}

/*
 * Replace the slot's span with one that has a free slot. Returns false
 * when no memory could be had.
 */
static bool mcache_refill(struct goslab_class *cls, gfp_t gfp,
			  unsigned long flags)
{
	struct mcache_slot *slot = this_cpu_ptr(cls->slot);
	struct mspan *s = slot->span;
	bool churn = false;

	/* Go: throw("refill of span with free space remaining"). */
	GOSLAB_WARN_ON_ONCE(s != &goslab_emptymspan &&
			    s->freeindex != s->nelems);
	/*
	 * A used-up span that has received frees is swept where it is: this
	 * CPU owns its allocation state, and the free bits are taken with
	 * xchg(), so no lock is needed, and the objects just freed are
	 * reused while they are still in this CPU's cache.
	 */
	if (mspan_has_frees(s)) {
		unsigned int dup, count;

		slot->nmalloc += mspan_alloc_count(s) - slot->alloc_base;
		slot->nswept_frees += mspan_sweep(s, &dup);
		if (unlikely(dup))
			goslab_report_dup_frees(cls, s, dup);
		count = mspan_alloc_count(s);
		slot->alloc_base = count;
		slot->nsweep++;
		if (count < s->nelems) {
			if (trace_goslab_refill_enabled())
				mcache_trace_refill(cls, s);
			return true;
		}
	}
	if (s != &goslab_emptymspan) {
		slot->nmalloc += mspan_alloc_count(s) - slot->alloc_base;
		WRITE_ONCE(slot->span, &goslab_emptymspan);
		s = mcentral_exchange_span(cls, s, &churn);
	} else {
		s = mcentral_cache_span(cls, &churn);
	}
	if (!s) {
		/*
		 * Unlocked, in the caller's IRQ state, to grow (alloc_pages()
		 * may sleep if gfp allows), then locked again, maybe on
		 * another CPU; the caller's saved state is unchanged, so its
		 * local_unlock_irqrestore() is right.
		 */
		local_unlock_irqrestore(&goslab_cpu_lock, flags);
		s = churn ? mcentral_grow_for_churn(cls, gfp) :
			    mcentral_grow(cls, gfp);
		local_lock_irq(&goslab_cpu_lock);
		if (!s)
			return false;
		slot = this_cpu_ptr(cls->slot);
		if (slot->span != &goslab_emptymspan) {
			/* This CPU was refilled while we slept: use that. */
			mcentral_put_span(cls, s);
			return true;
		}
	}
	WRITE_ONCE(slot->span, s);
	slot->alloc_base = mspan_alloc_count(s);
	slot->nrefill++;
	if (trace_goslab_refill_enabled())
		mcache_trace_refill(cls, s);
	return true;
}

/**
 * mcache_next_free() - the allocation slow path
 * @cls: the span class
 * @gfp: how hard to try
 * @flags: the caller's saved IRQ state, from local_lock_irqsave()
 *
 * Go's mcache.nextFree: the next window of the cached span, else a
 * refill. May drop the cpu lock (and sleep, if @gfp allows) while
 * growing.
 *
 * Context: goslab_cpu_lock held, on entry and on return.
 * Return: the object, or NULL when no memory could be had.
 */
void *mcache_next_free(struct goslab_class *cls, gfp_t gfp,
		       unsigned long flags)
{
	goslab_assert_cpu_locked();
	for (;;) {
		struct mcache_slot *slot = this_cpu_ptr(cls->slot);
		void *v;

		/*
		 * Counted on the CPU that hands the object out, which the
		 * caller's count of allocations is too: a refill that grew
		 * may have moved us.
		 */
		v = mspan_next_free_fast(slot->span);
		if (!v)
			v = mspan_next_free(slot->span);
		if (v) {
			slot->nalloc_slow++;
			return v;
		}
		if (!mcache_refill(cls, gfp, flags))
			return NULL;
	}
}

/**
 * mcache_alloc_hooked() - mcache_alloc() with work after the allocation:
 *	zeroing, sanitizers, the event, owner tracking; might_alloc()
 *	included
 * @cls: the span class
 * @v: the object the fast path took, or NULL if its window was used up
 * @size: the bytes the caller asked for (for the sanitizers)
 * @gfp: how hard to try
 * @flags: the caller's saved IRQ state, from local_lock_irqsave()
 * @ip: the caller of goslab's API, or 0 (see mcache_alloc())
 *
 * Context: goslab_cpu_lock held; dropped here.
 * Return: the object, or NULL when no memory could be had.
 */
static noinline void *mcache_alloc_hooked(struct goslab_class *cls, void *v,
					  size_t size, gfp_t gfp,
					  unsigned long flags, unsigned long ip)
{
	if (!v)
		v = mcache_next_free(cls, gfp, flags);
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	if (likely(v)) {
		goslab_post_alloc(cls, v, size, gfp);
		if (unlikely(READ_ONCE(cls->track)))
			goslab_track_alloc(v, gfp, ip);
	}
	mcache_trace_alloc(cls, v, size, gfp, ip);
	might_alloc(gfp);
	return v;
}

/**
 * mcache_alloc_slow() - mcache_alloc() when the slot's window is used up
 *	or there is work after the allocation, might_alloc() included
 * @cls: the span class
 * @v: the object the fast path took, or NULL if its window was used up
 * @size: the bytes the caller asked for (for the sanitizers)
 * @gfp: how hard to try
 * @flags: the caller's saved IRQ state, from local_lock_irqsave()
 * @ip: the caller of goslab's API, or 0 (see mcache_alloc())
 *
 * The work after an allocation goes on in mcache_alloc_hooked(), so
 * that a refill with none keeps nothing but @gfp across it.
 *
 * Context: goslab_cpu_lock held; dropped here.
 * Return: the object, or NULL when no memory could be had.
 */
void *mcache_alloc_slow(struct goslab_class *cls, void *v, size_t size,
			gfp_t gfp, unsigned long flags, unsigned long ip)
{
	/*
	 * With an object, the fast path saw work to do after it: the key
	 * may have gone off since (another CPU's store_user, an event
	 * disabled), and the object must not be dropped.
	 */
	if (unlikely(v || !goslab_alloc_hooks_off(gfp)))
		return mcache_alloc_hooked(cls, v, size, gfp, flags, ip);
	/* No work after it: the fast path came here for a refill. */
	v = mcache_next_free(cls, gfp, flags);
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	might_alloc(gfp);
	return v;
}

/**
 * mcache_might_alloc() - might_alloc(), out of the fast path
 * @v: the object allocated
 * @gfp: the caller's flags
 *
 * Return: @v.
 */
void *mcache_might_alloc(void *v, gfp_t gfp)
{
	might_alloc(gfp);
	return v;
}

/*
 * Give back what a bulk allocation took before it failed. The objects
 * were never handed out (nor told to the sanitizers): each is freed as a
 * remote free records itself (mspan_free_index(), under the span's
 * free_lock, which is right whether or not this CPU caches the span) and
 * counted, so that the class's counters balance.
 */
static void mcache_undo_bulk(struct goslab_class *cls, void **p, size_t n)
{
	unsigned long flags;
	struct mspan *s;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		/* The descriptor stays readable under the cpu lock. */
		local_lock_irqsave(&goslab_cpu_lock, flags);
		s = __mheap_span_of(p[i]);
		r = mspan_free_index(s, mspan_obj_index(s, (unsigned long)p[i]));
		if (r > 0)
			mcentral_note_free(cls, s);
		GOSLAB_WARN_ON_ONCE(r < 0);
		if (r >= 0)
			__this_cpu_inc(cls->slot->nfree);
		local_unlock_irqrestore(&goslab_cpu_lock, flags);
	}
}

/*
 * The rest of a bulk allocation, from @p[@i] on, once the slot's window
 * ran out: refills (which may drop the cpu lock to grow) and the runs
 * after them. Out of line, so that a bulk the window covers saves few
 * registers. On failure the cpu lock is dropped, what was taken given
 * back, and false returned.
 */
static noinline bool mcache_alloc_bulk_refill(struct goslab_class *cls,
					      gfp_t gfp, size_t n, void **p,
					      size_t i, unsigned long flags)
{
	while (i < n) {
		void *v = mcache_next_free(cls, gfp, flags);

		if (unlikely(!v)) {
			local_unlock_irqrestore(&goslab_cpu_lock, flags);
			mcache_undo_bulk(cls, p, i);
			return false;
		}
		p[i++] = v;
		i += mspan_alloc_run(this_cpu_ptr(cls->slot)->span, p + i,
				     n - i);
	}
	return true;
}

/**
 * mcache_alloc_bulk() - allocate @n objects of @cls
 * @cls: the span class
 * @size: the bytes the caller asked for in each (for the sanitizers)
 * @gfp: how hard to try
 * @n: how many
 * @p: where to put them
 *
 * Whole runs of the slot's span are taken under one hold of the cpu
 * lock; only the refills go through the slow path. Runs might_alloc()
 * (the callers' flags are checked).
 *
 * Return: @n, or 0 with nothing allocated.
 */
int mcache_alloc_bulk(struct goslab_class *cls, size_t size, gfp_t gfp,
		      size_t n, void **p)
{
	unsigned long flags;
	size_t i, j;
	u64 since;

	might_alloc(gfp);
	local_lock_irqsave(&goslab_cpu_lock, flags);
	since = goslab_irqsoff_begin();
	i = mspan_alloc_run(this_cpu_ptr(cls->slot)->span, p, n);
	if (unlikely(i < n)) {
		/* Not measured across a grow, which may sleep or migrate. */
		goslab_irqsoff_end(GOSLAB_IRQSOFF_BULK, since);
		if (!mcache_alloc_bulk_refill(cls, gfp, n, p, i, flags))
			return 0;
		since = goslab_irqsoff_begin();
	}
	goslab_irqsoff_end(GOSLAB_IRQSOFF_BULK, since);
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	if (!goslab_post_alloc_is_noop(cls, gfp))
		for (j = 0; j < n; j++) {
			goslab_post_alloc(cls, p[j], size, gfp);
			if (unlikely(READ_ONCE(cls->track)))
				goslab_track_alloc(p[j], gfp, 0);
		}
	return n;
}

static void mcache_flush_slot(struct goslab_class *cls,
			      struct mcache_slot *slot)
{
	struct mspan *s = slot->span;

	if (s == &goslab_emptymspan)
		return;
	slot->nmalloc += mspan_alloc_count(s) - slot->alloc_base;
	WRITE_ONCE(slot->span, &goslab_emptymspan);
	mcentral_uncache_span(cls, s);
}

/*
 * goslab_on_each_cpu(): every class's slot on this CPU (or @arg's only),
 * each span swept and filed.
 */
static void mcache_flush_cpu(void *arg)
{
	struct goslab_class *only = arg, *cls;
	u64 since = goslab_irqsoff_begin();

	if (only) {
		mcache_flush_slot(only, this_cpu_ptr(only->slot));
	} else {
		rcu_read_lock();
		for_each_goslab_class(cls)
			mcache_flush_slot(cls, this_cpu_ptr(cls->slot));
		rcu_read_unlock();
	}
	goslab_irqsoff_end(GOSLAB_IRQSOFF_FLUSH, since);
}

static bool mcache_has_spans(unsigned int cpu, void *arg)
{
	struct goslab_class *only = arg;

	if (only)
		return READ_ONCE(per_cpu_ptr(only->slot, cpu)->span) !=
		       &goslab_emptymspan;
	return mcache_cached_spans_cpu(cpu);
}

static void mcache_flush(struct goslab_class *only)
{
	unsigned long flags;
	int cpu;

	cpus_read_lock();
	goslab_on_each_cpu(mcache_flush_cpu, mcache_has_spans, only);
	/*
	 * Offline CPUs do not run: their slots can be emptied from here,
	 * under this CPU's lock (what the layers below assert).
	 */
	for_each_possible_cpu(cpu) {
		struct goslab_class *cls;

		if (cpu_online(cpu))
			continue;
		local_lock_irqsave(&goslab_cpu_lock, flags);
		if (only) {
			mcache_flush_slot(only, per_cpu_ptr(only->slot, cpu));
		} else {
			rcu_read_lock();
			for_each_goslab_class(cls)
				mcache_flush_slot(cls,
						  per_cpu_ptr(cls->slot, cpu));
			rcu_read_unlock();
		}
		local_unlock_irqrestore(&goslab_cpu_lock, flags);
	}
	cpus_read_unlock();
}

/**
 * mcache_flush_dead_cpu() - empty the slots of a CPU that went offline
 * @cpu: the CPU; it runs nothing any more
 *
 * Under this CPU's lock, which the layers below assert.
 */
void mcache_flush_dead_cpu(unsigned int cpu)
{
	struct goslab_class *cls;
	unsigned long flags;

	local_lock_irqsave(&goslab_cpu_lock, flags);
	rcu_read_lock();
	for_each_goslab_class(cls)
		mcache_flush_slot(cls, per_cpu_ptr(cls->slot, cpu));
	rcu_read_unlock();
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
}

/**
 * mcache_flush_all() - give every cached span back to its mcentral
 *
 * Context: process context; may sleep.
 */
void mcache_flush_all(void)
{
	mcache_flush(NULL);
}
EXPORT_SYMBOL_IF_KUNIT(mcache_flush_all);

/**
 * mcache_flush_class() - give back every CPU's span of one class
 * @cls: the span class
 *
 * Context: process context; may sleep.
 */
void mcache_flush_class(struct goslab_class *cls)
{
	mcache_flush(cls);
}
EXPORT_SYMBOL_IF_KUNIT(mcache_flush_class);

/**
 * mcache_cached_spans_cpu() - spans a CPU's slots hold
 * @cpu: the CPU
 *
 * Context: process context.
 * Return: the count; a racy read for an online CPU.
 */
unsigned int mcache_cached_spans_cpu(unsigned int cpu)
{
	struct goslab_class *cls;
	unsigned int n = 0;

	rcu_read_lock();
	for_each_goslab_class(cls)
		n += READ_ONCE(per_cpu_ptr(cls->slot, cpu)->span) !=
		     &goslab_emptymspan;
	rcu_read_unlock();
	return n;
}
