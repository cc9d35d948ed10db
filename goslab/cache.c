// SPDX-License-Identifier: GPL-2.0
/*
 * cache.c - typed caches: the kmem_cache-style interface.
 *
 * A goslab_cache is a span class of its own: its exact object size
 * (rounded to its alignment), a span size chosen by Go's rule for size
 * classes (the fewest 8 KiB pages that keep tail waste under 1/8), its
 * own mcentral and its own slot in every CPU's mcache. So its objects go
 * through the same machinery as goslab_alloc()'s classes: the same fast
 * path, sweeping, page cache, scavenger and validators, which find it on
 * goslab_class_list. A constructor runs once per object when a span is
 * carved; objects stay constructed across free and allocation (SLUB's
 * semantics). A GOSLAB_TYPESAFE_BY_RCU cache is SLAB_TYPESAFE_BY_RCU: its
 * spans that empty reach the heap only a grace period later (mheap.c),
 * so that lock-free readers find an object of this cache, maybe freed or
 * reused, at any address they looked up.
 *
 * Not supported yet: NUMA node placement, memcg accounting.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cache.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include "internal.h"

#define GOSLAB_CACHE_FLAGS	(GOSLAB_HWCACHE_ALIGN | GOSLAB_RECLAIMABLE | \
				 GOSLAB_TYPESAFE_BY_RCU)

/* The class is torn down (at destroy, or at unload): its container goes. */
static void cache_release(struct goslab_class *cls)
{
	kfree(container_of(cls, struct goslab_cache, cls));
}

static const struct goslab_class_ops cache_class_ops = {
	.release = cache_release,
};

/**
 * goslab_cache_of_class() - the typed cache a class is
 * @cls: a span class
 *
 * Return: the cache, or NULL for a size class or the tiny class.
 */
struct goslab_cache *goslab_cache_of_class(struct goslab_class *cls)
{
	return cls->ops == &cache_class_ops ?
	       container_of(cls, struct goslab_cache, cls) : NULL;
}

/*
 * Go's rule: the fewest pages (at most GOSLAB_CACHE_MAX_SPAN_PAGES) that
 * keep tail waste <= 1/8.
 */
static unsigned int cache_span_pages(unsigned int size)
{
	unsigned int npages, best = 1;
	unsigned long best_waste = ULONG_MAX;

	for (npages = 1; npages <= GOSLAB_CACHE_MAX_SPAN_PAGES; npages++) {
		unsigned long span = npages * GOSLAB_PAGE_SIZE;
		unsigned long waste = span % size;

		if (span < size)
			continue;
		if (waste <= span / 8)
			return npages;
		if (waste * 16 / npages < best_waste) {
			best_waste = waste * 16 / npages;
			best = npages;
		}
	}
	return best;
}

/**
 * goslab_cache_create() - create a cache of objects of one size
 * @name: a unique name (copied)
 * @size: object size, 1 .. 32768
 * @args: alignment and constructor, or NULL
 * @flags: GOSLAB_HWCACHE_ALIGN, GOSLAB_RECLAIMABLE, GOSLAB_TYPESAFE_BY_RCU
 *
 * Bad arguments (NULL name, a name in use, size 0 or above 32 KiB,
 * alignment not a power of two or above 8 KiB, unknown flags) give NULL
 * and a pr_warn saying why.
 *
 * Context: process context; may sleep.
 * Return: the cache, or NULL.
 */
struct goslab_cache *goslab_cache_create(const char *name, unsigned int size,
					 const struct goslab_cache_args *args,
					 unsigned int flags)
{
	unsigned int align = args ? args->align : 0;
	struct goslab_class_spec spec = {
		.name = name,
		.api = __func__,
		.ctor = args ? args->ctor : NULL,
		.ops = &cache_class_ops,
	};
	struct goslab_cache *c;

	might_sleep();
	if (!name) {
		pr_warn("%s: NULL name\n", __func__);
		return NULL;
	}
	if (!size || size > GOSLAB_MAX_SMALL_SIZE) {
		pr_warn("%s(%s): size %u is not in 1..%u\n", __func__,
			name, size, GOSLAB_MAX_SMALL_SIZE);
		return NULL;
	}
	if (align && (!is_power_of_2(align) || align > GOSLAB_PAGE_SIZE)) {
		pr_warn("%s(%s): alignment %u is not a power of two up to %lu\n",
			__func__, name, align, GOSLAB_PAGE_SIZE);
		return NULL;
	}
	if (flags & ~GOSLAB_CACHE_FLAGS) {
		pr_warn("%s(%s): unknown flags %#x\n", __func__, name,
			flags & ~GOSLAB_CACHE_FLAGS);
		return NULL;
	}
	align = max_t(unsigned int, align, 8);
	if (flags & GOSLAB_HWCACHE_ALIGN)
		align = max_t(unsigned int, align, cache_line_size());
	spec.elemsize = ALIGN(size, align);
	if (spec.elemsize > GOSLAB_MAX_SMALL_SIZE) {
		pr_warn("%s(%s): size %u aligned to %u is above %u\n",
			__func__, name, size, align, GOSLAB_MAX_SMALL_SIZE);
		return NULL;
	}

	spec.npages = cache_span_pages(spec.elemsize);
	spec.page_gfp = flags & GOSLAB_RECLAIMABLE ? __GFP_RECLAIMABLE : 0;
	spec.typesafe_rcu = flags & GOSLAB_TYPESAFE_BY_RCU;
	spec.typed_cache = true;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return NULL;
	c->object_size = size;
	c->align = align;
	c->flags = flags;
	if (goslab_class_create(&c->cls, &spec)) {
		kfree(c);
		return NULL;
	}
	return c;
}
EXPORT_SYMBOL_GPL(goslab_cache_create);

/**
 * goslab_cache_destroy() - destroy a cache
 * @c: the cache; NULL is a no-op
 *
 * Waits for the background sweeper, drains the cache's slot on every CPU
 * and returns its spans to mheap. If objects are still live, reports how
 * many and a few of them, and keeps the cache's memory (and the cache,
 * marked dead: no allocation from it) rather than freeing memory still
 * in use; its objects can still be freed, and calling
 * goslab_cache_destroy() again then finishes the job. Objects passed to
 * goslab_free_rcu() are waited for (goslab_rcu_barrier()), as SLUB's
 * kmem_cache_destroy() waits for kfree_rcu(); so are a type-safe cache's
 * spans waiting for their grace period, as SLUB's rcu_barrier() there.
 *
 * Context: process context; may sleep.
 */
void goslab_cache_destroy(struct goslab_cache *c)
{
	if (!c)
		return;
	if (atomic_long_read(&c->cls.rcu_pending))
		goslab_rcu_barrier();
	/* A dead cache is destroyed again once its objects are gone. */
	if (goslab_class_destroy(&c->cls, __func__))
		c->dead = true;
}
EXPORT_SYMBOL_GPL(goslab_cache_destroy);

static __always_inline bool cache_alloc_ok(struct goslab_cache *c, gfp_t gfp,
					   unsigned long ip, const char *api)
{
	if (goslab_gfp_refused_nomight(gfp, ip, api))
		return false;
	if (unlikely(c->dead)) {
		pr_warn_ratelimited("%s: allocation from a destroyed cache\n",
				    c->cls.name);
		return false;
	}
	if (unlikely((gfp & __GFP_ZERO) && c->cls.ctor)) {
		pr_warn_once("%s: __GFP_ZERO on a cache with a constructor would destroy the constructed state\n",
			     c->cls.name);
		return false;
	}
	return true;
}

/*
 * goslab_cache_alloc() with flags or a cache that need a look, out of
 * its fast path, which then calls nothing before the allocation.
 */
static noinline void *cache_alloc_unusual(struct goslab_cache *c, gfp_t gfp,
					  unsigned long ip)
{
	if (!cache_alloc_ok(c, gfp, ip, "goslab_cache_alloc")) {
		trace_goslab_cache_alloc(ip, NULL, c->cls.name, c->object_size,
					 c->cls.elemsize, gfp);
		return NULL;
	}
	return mcache_alloc(&c->cls, c->object_size, gfp, ip);
}

/**
 * goslab_cache_alloc() - allocate an object from a cache
 * @c: the cache
 * @gfp: GFP flags; __GFP_ZERO is refused on a cache with a constructor
 *
 * Context: any context @gfp allows (on PREEMPT_RT: not hardirq, nor with
 * IRQs or preemption off); sleeps only if @gfp allows.
 * Return: the object, or NULL.
 */
void *goslab_cache_alloc(struct goslab_cache *c, gfp_t gfp)
{
	if (unlikely((gfp & GOSLAB_GFP_UNSUPPORTED) || READ_ONCE(c->dead) ||
		     ((gfp & __GFP_ZERO) && c->cls.ctor)))
		return cache_alloc_unusual(c, gfp, _RET_IP_);
	return mcache_alloc(&c->cls, c->object_size, gfp, _RET_IP_);
}
EXPORT_SYMBOL_GPL(goslab_cache_alloc);

/* goslab_cache_alloc_bulk() with flags or a cache that need a look. */
static noinline int cache_alloc_bulk_unusual(struct goslab_cache *c,
					     gfp_t gfp, size_t n, void **p,
					     unsigned long ip)
{
	if (!cache_alloc_ok(c, gfp, ip, "goslab_cache_alloc_bulk"))
		return 0;
	return mcache_alloc_bulk(&c->cls, c->object_size, gfp, n, p);
}

/* goslab_cache_alloc_bulk() of one object, out of line (a tail call). */
static noinline int cache_alloc_bulk_one(struct goslab_cache *c, gfp_t gfp,
					 void **p)
{
	p[0] = mcache_alloc(&c->cls, c->object_size, gfp, 0);
	return p[0] ? 1 : 0;
}

/**
 * goslab_cache_alloc_bulk() - allocate @n objects at once
 * @c: the cache
 * @gfp: GFP flags
 * @n: how many
 * @p: where to put them
 *
 * Takes whole runs of the CPU's span under one hold of the cpu lock,
 * refilling as the single-object slow path does.
 *
 * Context: any context @gfp allows (on PREEMPT_RT: not hardirq, nor with
 * IRQs or preemption off).
 * Return: @n, or 0 (and nothing allocated) on failure.
 */
int goslab_cache_alloc_bulk(struct goslab_cache *c, gfp_t gfp, size_t n,
			    void **p)
{
	/* As goslab_cache_alloc(): nothing called before the usual case. */
	if (unlikely((gfp & GOSLAB_GFP_UNSUPPORTED) || READ_ONCE(c->dead) ||
		     ((gfp & __GFP_ZERO) && c->cls.ctor)))
		return cache_alloc_bulk_unusual(c, gfp, n, p, _RET_IP_);
	/* One object: the single allocation's path, which saves no register. */
	if (n == 1)
		return cache_alloc_bulk_one(c, gfp, p);
	return mcache_alloc_bulk(&c->cls, c->object_size, gfp, n, p);
}
EXPORT_SYMBOL_GPL(goslab_cache_alloc_bulk);

/**
 * goslab_cache_shrink() - give back the cache's free memory
 * @c: the cache
 *
 * Drains the cache's slot on every CPU, sweeps its spans, gives its
 * empty spans and free kernel pages back, then the heap's free pages.
 *
 * Context: process context; may sleep.
 * Return: 0.
 */
int goslab_cache_shrink(struct goslab_cache *c)
{
	might_sleep();
	mcache_flush_class(&c->cls);
	mcentral_shrink(&c->cls);
	mheap_pcache_flush_all();
	mheap_scavenge();
	return 0;
}
EXPORT_SYMBOL_GPL(goslab_cache_shrink);
