/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goslab - Go's runtime memory allocator as a kernel object allocator.
 *
 * goslab_alloc() and goslab_free() are kmalloc()-style: any size up to
 * 4 MiB, objects at least 8-byte aligned, power-of-two sizes naturally
 * aligned up to 8 KiB. Objects up to 32 KiB come from Go's 67 size
 * classes through a per-CPU cache; larger ones get pages of their own.
 *
 * Contexts: allocation works wherever the gfp flags allow (GFP_ATOMIC in
 * hardirq and softirq context) and sleeps only when they allow it; free
 * works in any context but NMI. On PREEMPT_RT kernels, as with SLUB,
 * neither may be called from hardirq context (an hrtimer in hard mode,
 * an IPI) or with IRQs or preemption disabled (under a raw spinlock):
 * goslab's locks are sleeping locks there. Threaded interrupt handlers,
 * softirqs and spinlock_t sections, which is where such code runs on
 * PREEMPT_RT, are fine. Lockdep with CONFIG_PROVE_RAW_LOCK_NESTING judges
 * every kernel by those rules, and so reports a hardirq caller (an
 * invalid wait context), as it does SLUB's slow path there. Misuse (a
 * pointer goslab did not return, a pointer into the middle of an object,
 * a double free) is reported with a rate-limited pr_err naming the
 * caller, counted, and not acted on.
 */
#ifndef _LINUX_GOSLAB_H
#define _LINUX_GOSLAB_H

#include <linux/gfp_types.h>
#include <linux/types.h>

struct goslab_cache;

/**
 * struct goslab_cache_args - optional arguments of goslab_cache_create()
 * @align: minimum alignment of the objects (a power of two up to 8 KiB;
 *	0 or anything below 8 means 8)
 * @ctor: run once on every object when goslab carves its span; objects
 *	stay constructed across free and allocation, as with SLUB
 */
struct goslab_cache_args {
	unsigned int align;
	void (*ctor)(void *obj);
};

/* Align objects to the cache line size. */
#define GOSLAB_HWCACHE_ALIGN	0x1U
/*
 * The cache's pages come from alloc_pages() with __GFP_RECLAIMABLE,
 * grouped apart from unreclaimable ones, as kmalloc-rcl-* caches are (the
 * second half of goslab's span classes: Go's noscan bit, a kernel meaning).
 */
#define GOSLAB_RECLAIMABLE	0x2U
/*
 * SLAB_TYPESAFE_BY_RCU: a freed object may be reused at once, but only as
 * an object of the same cache: its memory is not given back to the heap
 * (nor re-classed, nor returned to the page allocator) before a grace
 * period has passed since its span emptied. A reader under
 * rcu_read_lock() that found the object may thus find it freed or reused,
 * never of another type: it must take a reference (or the object's lock)
 * and check the object is still the one it looked up. Constructed state,
 * and anything the reader's check relies on, survives free and
 * allocation: init_on_alloc and init_on_free do not zero such objects
 * (__GFP_ZERO still does) and KASAN does not poison them when freed.
 * See Documentation/goslab.rst, "Type-safe caches".
 */
#define GOSLAB_TYPESAFE_BY_RCU	0x4U

/*
 * GOSLAB_CACHE() - a cache for objects of type struct @__struct, named
 * after it and aligned as it needs, like KMEM_CACHE().
 */
#define GOSLAB_CACHE(__struct, __flags)					\
	__GOSLAB_CACHE(#__struct, struct __struct, (__flags))
#define __GOSLAB_CACHE(name, type, flags)				\
	goslab_cache_create(name, sizeof(type),				\
			    &(struct goslab_cache_args){		\
				.align = __alignof__(type),		\
			    }, flags)

/*
 * Typed caches do not support yet: NUMA node placement, memcg accounting.
 * goslab_free_rcu() frees any goslab object after a grace period.
 */
struct goslab_cache *goslab_cache_create(const char *name, unsigned int size,
					 const struct goslab_cache_args *args,
					 unsigned int flags);
void goslab_cache_destroy(struct goslab_cache *c);
void *goslab_cache_alloc(struct goslab_cache *c, gfp_t gfp);
void goslab_cache_free(struct goslab_cache *c, void *obj);
int goslab_cache_alloc_bulk(struct goslab_cache *c, gfp_t gfp, size_t n,
			    void **p);
void goslab_cache_free_bulk(struct goslab_cache *c, size_t n, void **p);
int goslab_cache_shrink(struct goslab_cache *c);

void *goslab_alloc(size_t size, gfp_t gfp);
/*
 * goslab_alloc_tiny() packs objects under 16 bytes into a shared 16-byte
 * block (Go's tiny allocator): aligned to 8, 4 or 2 bytes when the size is
 * a multiple of it, else not aligned; it shares a cache line and its
 * block's lifetime with its neighbours. Use it for small, pointer-free
 * data where memory matters more than alignment; free it with
 * goslab_free(). Sizes of 16 and more are goslab_alloc().
 */
void *goslab_alloc_tiny(size_t size, gfp_t gfp);
void goslab_free(const void *p);
/*
 * goslab_free_rcu() is kfree_rcu() without an rcu_head: the object is
 * freed once a grace period has passed, and nothing is allocated, nor
 * does the call sleep. goslab_rcu_barrier() waits for every earlier one.
 */
void goslab_free_rcu(const void *p);
void goslab_rcu_barrier(void);
size_t goslab_usable_size(const void *p);
void *goslab_realloc(const void *p, size_t new_size, gfp_t gfp);
int goslab_shrink(void);

#endif /* _LINUX_GOSLAB_H */
