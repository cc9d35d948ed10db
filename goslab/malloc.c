// SPDX-License-Identifier: GPL-2.0
/*
 * malloc.c - goslab_alloc() and friends: Go's mallocgc for the kernel.
 *
 * Size decides the path, as in Go's mallocgc: up to 32 KiB an object
 * comes from its size class through this CPU's mcache; above that it
 * gets a span of its own from mheap (a large object). goslab_free() and
 * every other free are free.c's. goslab_shrink() gives back what every
 * layer keeps free.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include "internal.h"

static void *goslab_alloc_large(size_t size, gfp_t gfp, unsigned long ip)
{
	unsigned int npages;
	struct mspan *s;
	void *p;

	if (size > GOSLAB_MAX_LARGE_SIZE) {
		if (!(gfp & __GFP_NOWARN))
			pr_warn_ratelimited("goslab_alloc(%zu) from %pS: above the %lu byte limit\n",
					    size, (void *)ip,
					    GOSLAB_MAX_LARGE_SIZE);
		return NULL;
	}
	npages = DIV_ROUND_UP(size, GOSLAB_PAGE_SIZE);
	goslab_deduct_sweep_credit(npages);
	s = mheap_alloc_span(NULL, npages, gfp);
	if (!s)
		return NULL;
	atomic_long_inc(&goslab_large_nmalloc);
	p = (void *)s->base;
	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		goslab_kasan_alloc(p, size, s->elemsize, want_init_on_alloc(gfp));
	else if (want_init_on_alloc(gfp))
		memset(p, 0, s->elemsize);
	kmemleak_alloc(p, s->elemsize, 1, gfp);
	return p;
}

/*
 * goslab_alloc() of a size of 0 or above 32 KiB, or with flags that need
 * a look: out of its fast path, which then calls nothing before the
 * allocation.
 */
static noinline void *goslab_alloc_unusual(size_t size, gfp_t gfp,
					   unsigned long ip)
{
	unsigned int spc;
	void *p;

	if (goslab_gfp_refused(gfp, ip, "goslab_alloc")) {
		p = NULL;
	} else if (!size) {
		/* kmalloc(0)'s answer, with no event, as kmalloc(0) has none. */
		return ZERO_SIZE_PTR;
	} else if (size > GOSLAB_MAX_SMALL_SIZE) {
		p = goslab_alloc_large(size, gfp, ip);
	} else {
		spc = goslab_span_class(goslab_size_to_class(size),
					!!(gfp & __GFP_RECLAIMABLE));
		/* Runs might_alloc() again: harmless, and only here. */
		return mcache_alloc(&goslab_classes[spc], size, gfp, ip);
	}
	trace_goslab_alloc(ip, p, size, goslab_size_roundup(size), gfp);
	return p;
}

/* goslab_alloc() on behalf of the caller at @ip (the events name it). */
static __always_inline void *goslab_alloc_at(size_t size, gfp_t gfp,
					     unsigned long ip)
{
	unsigned int spc;

	if (unlikely(size - 1 >= GOSLAB_MAX_SMALL_SIZE ||
		     (gfp & GOSLAB_GFP_UNSUPPORTED)))
		return goslab_alloc_unusual(size, gfp, ip);
	spc = goslab_span_class(goslab_size_to_class(size),
				!!(gfp & __GFP_RECLAIMABLE));
	return mcache_alloc(&goslab_classes[spc], size, gfp, ip);
}

/**
 * goslab_alloc_caller() - goslab_alloc() for another front end
 * @size: as goslab_alloc()'s
 * @gfp: as goslab_alloc()'s
 * @ip: the caller of that front end, named in the goslab_alloc event
 *
 * Return: what goslab_alloc() returns.
 */
void *goslab_alloc_caller(size_t size, gfp_t gfp, unsigned long ip)
{
	return goslab_alloc_at(size, gfp, ip);
}

/**
 * goslab_alloc() - allocate memory, like kmalloc()
 * @size: bytes wanted; up to 4 MiB
 * @gfp: GFP flags; __GFP_ZERO (or init_on_alloc) zeroes the object,
 *	__GFP_RECLAIMABLE takes it from spans grouped with reclaimable
 *	pages, __GFP_NOFAIL never fails when it may sleep; GFP_DMA and
 *	GFP_DMA32 are refused, __GFP_ACCOUNT and __GFP_HIGHMEM ignored
 *
 * Up to 32 KiB an object meets kmalloc's alignment rule: aligned to the
 * largest power of two dividing @size (at least 8), so power-of-two sizes
 * are naturally aligned. Larger objects are 8 KiB aligned (kmalloc's,
 * from the page allocator, are aligned to their power-of-two order).
 *
 * Context: any context @gfp allows (on PREEMPT_RT: not hardirq, nor with
 * IRQs or preemption off); sleeps only if @gfp allows.
 * Return: the object; ZERO_SIZE_PTR when @size is 0 (as kmalloc(0):
 * not to be dereferenced, and a no-op for goslab_free()); NULL when @size
 * is above 4 MiB, @gfp asks for a DMA zone, or memory could not be had.
 */
void *goslab_alloc(size_t size, gfp_t gfp)
{
	return goslab_alloc_at(size, gfp, _RET_IP_);
}
EXPORT_SYMBOL_GPL(goslab_alloc);

/**
 * goslab_size_roundup() - the size goslab_alloc() would give, like
 *	kmalloc_size_roundup()
 * @size: the bytes a caller would ask for
 *
 * A caller that wants to use the whole object asks for this many bytes:
 * FORTIFY_SOURCE bounds its accesses by the size asked for
 * (goslab_alloc()'s __alloc_size), whatever goslab_usable_size() says
 * afterwards.
 *
 * Context: any.
 * Return: goslab_usable_size() of goslab_alloc(@size): its size class
 * up to 32 KiB, whole goslab pages above; @size itself for 0 and above
 * 4 MiB (no such object).
 */
size_t goslab_size_roundup(size_t size)
{
	if (!size || size > GOSLAB_MAX_LARGE_SIZE)
		return size;
	if (size <= GOSLAB_MAX_SMALL_SIZE)
		return goslab_class_to_size[goslab_size_to_class(size)];
	return round_up(size, GOSLAB_PAGE_SIZE);
}
EXPORT_SYMBOL_GPL(goslab_size_roundup);

/**
 * goslab_usable_size() - the bytes behind @p, like ksize()
 * @p: an object from goslab_alloc()
 *
 * A report, as ksize() is since Linux 6.2: FORTIFY_SOURCE bounds the
 * caller's accesses by the size it asked for, so a caller that wants the
 * whole object asks for goslab_size_roundup() bytes. For callers written
 * against the older ksize(), KASAN is still told the bytes are usable.
 *
 * Context: any context but NMI (on PREEMPT_RT: not hardirq, nor with IRQs
 * or preemption off).
 * Return: the object's size class (or a large object's page-rounded
 * size, or a tiny object's exact size); 0 for NULL, ZERO_SIZE_PTR or a
 * pointer goslab did not return (reported).
 */
size_t goslab_usable_size(const void *p)
{
	size_t size;
	bool tiny;

	if (ZERO_OR_NULL_PTR(p))
		return 0;
	size = goslab_object_size(p, _RET_IP_, __func__, &tiny);
	if (size && !tiny)
		goslab_kasan_unpoison(p, size);
	return size;
}
EXPORT_SYMBOL_GPL(goslab_usable_size);

/**
 * goslab_realloc() - resize an object, like krealloc()
 * @p: the object, or NULL or ZERO_SIZE_PTR (then this is goslab_alloc())
 * @new_size: bytes wanted; 0 frees @p and returns ZERO_SIZE_PTR, as
 *	krealloc() does
 * @gfp: GFP flags; with __GFP_ZERO the bytes past @new_size in a kept
 *	object and the new bytes of a moved one are zero
 *
 * Keeps @p when it is large enough, else moves the contents to a new
 * object and frees @p. Only the bytes the caller may use are copied (the
 * size asked for, or the usable size after goslab_usable_size()). On
 * failure @p is untouched.
 *
 * Context: any context @gfp allows (on PREEMPT_RT: not hardirq, nor with
 * IRQs or preemption off).
 * Return: the object, ZERO_SIZE_PTR for a @new_size of 0, or NULL.
 */
void *goslab_realloc(const void *p, size_t new_size, gfp_t gfp)
{
	size_t usable;
	bool tiny;
	void *ret;

	if (ZERO_OR_NULL_PTR(p))
		return goslab_alloc_at(new_size, gfp, _RET_IP_);
	if (!new_size) {
		goslab_free_object(p, _RET_IP_, NULL, __func__);
		return ZERO_SIZE_PTR;
	}
	usable = goslab_object_size(p, _RET_IP_, __func__, &tiny);
	if (!usable)
		return NULL;
	if (new_size <= usable) {
		/* Tiny objects are checked per block (see sanitize.c). */
		if (!tiny)
			goslab_kasan_unpoison(p, usable);
		if (gfp & __GFP_ZERO)
			memset((char *)p + new_size, 0, usable - new_size);
		if (!tiny)
			goslab_kasan_alloc((void *)p, new_size, usable, false);
		return (void *)p;
	}
	ret = goslab_alloc_at(new_size, gfp, _RET_IP_);
	if (!ret)
		return NULL;
	memcpy(ret, p, goslab_valid_bytes(p, usable));
	goslab_free_object(p, _RET_IP_, NULL, __func__);
	return ret;
}
EXPORT_SYMBOL_GPL(goslab_realloc);

/**
 * goslab_shrink() - give all cached free memory back to the page allocator
 *
 * Empties every CPU's cache and page cache, sweeps every span, gives
 * every empty span back to the heap and every free page (including the
 * free kernel pages of spans in use) back to the buddy allocator.
 *
 * Context: process context; may sleep.
 * Return: the number of 4 KiB kernel pages given back.
 */
int goslab_shrink(void)
{
	struct goslab_heap_stats before, after;
	struct goslab_class *cls;

	might_sleep();
	mheap_read_stats(&before);
	goslab_classes_flush();
	/* Under the mutex, not RCU: shrinking a class may sleep. */
	mutex_lock(&goslab_class_mutex);
	for_each_goslab_class(cls)
		mcentral_shrink(cls);
	mutex_unlock(&goslab_class_mutex);
	mheap_pcache_flush_all();
	mheap_scavenge();
	/* Free heap pages and free kernel pages of spans in use alike. */
	mheap_read_stats(&after);
	return min_t(unsigned long,
		     after.kpages_returned - before.kpages_returned, INT_MAX);
}
EXPORT_SYMBOL_GPL(goslab_shrink);
