/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goslab - Go's runtime memory allocator as a kernel object allocator.
 *
 * goslab_alloc() and goslab_free() are kmalloc()-style: any size up to
 * 4 MiB; up to 32 KiB, kmalloc's alignment (the largest power of two
 * dividing the size, at least 8: power-of-two sizes naturally aligned),
 * above that 8 KiB. Objects up to 32 KiB come from Go's 67 size classes
 * through a per-CPU cache; larger ones get pages of their own.
 * goslab_alloc(0) returns ZERO_SIZE_PTR, as kmalloc(0) does.
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
#include <linux/overflow.h>
/* ZERO_SIZE_PTR, ZERO_OR_NULL_PTR() and, from 6.5, DEFINE_FREE(). */
#include <linux/slab.h>
#include <linux/types.h>

/*
 * Every object of goslab_alloc() and goslab_cache_alloc() is at least
 * this aligned (size classes are multiples of 8, spans start on pages);
 * goslab_alloc_tiny()'s are not, nor, therefore, goslab_realloc()'s.
 */
#define GOSLAB_MINALIGN		8

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
void *goslab_cache_alloc(struct goslab_cache *c, gfp_t gfp)
	__assume_aligned(GOSLAB_MINALIGN) __malloc;
void goslab_cache_free(struct goslab_cache *c, void *obj);
int goslab_cache_alloc_bulk(struct goslab_cache *c, gfp_t gfp, size_t n,
			    void **p);
void goslab_cache_free_bulk(struct goslab_cache *c, size_t n, void **p);
int goslab_cache_shrink(struct goslab_cache *c);

void *goslab_alloc(size_t size, gfp_t gfp)
	__assume_aligned(GOSLAB_MINALIGN) __alloc_size(1) __malloc;
/*
 * goslab_alloc_tiny() packs objects under 16 bytes into a shared 16-byte
 * block (Go's tiny allocator): aligned to 8, 4 or 2 bytes when the size is
 * a multiple of it, else not aligned; it shares a cache line and its
 * block's lifetime with its neighbours. Use it for small, pointer-free
 * data where memory matters more than alignment; free it with
 * goslab_free(). Sizes of 16 and more are goslab_alloc().
 */
void *goslab_alloc_tiny(size_t size, gfp_t gfp) __alloc_size(1) __malloc;
void goslab_free(const void *p);
/*
 * goslab_free_rcu() is kfree_rcu() without an rcu_head: the object is
 * freed once a grace period has passed, and nothing is allocated, nor
 * does the call sleep. goslab_rcu_barrier() waits for every earlier one.
 */
void goslab_free_rcu(const void *p);
void goslab_rcu_barrier(void);
size_t goslab_usable_size(const void *p);
size_t goslab_size_roundup(size_t size);
void *goslab_realloc(const void *p, size_t new_size, gfp_t gfp)
	__realloc_size(2);
int goslab_shrink(void);

/*
 * slab.h's helpers, inline as there: the attributes of the calls they
 * make (alignment, __malloc) reach their callers, and __alloc_size tells
 * FORTIFY_SOURCE the size.
 */

/**
 * goslab_zalloc() - goslab_alloc() of zeroed memory, like kzalloc()
 * @size: bytes wanted
 * @gfp: GFP flags
 *
 * Context: as goslab_alloc().
 * Return: as goslab_alloc().
 */
static inline __alloc_size(1)
void *goslab_zalloc(size_t size, gfp_t gfp)
{
	return goslab_alloc(size, gfp | __GFP_ZERO);
}

/**
 * goslab_alloc_array() - an array of @n elements of @size bytes, like
 *	kmalloc_array()
 * @n: number of elements
 * @size: bytes per element
 * @gfp: GFP flags
 *
 * Context: as goslab_alloc().
 * Return: as goslab_alloc(); NULL, with no message, when @n * @size
 * overflows.
 */
static inline __alloc_size(1, 2)
void *goslab_alloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(n, size, &bytes)))
		return NULL;
	return goslab_alloc(bytes, gfp);
}

/**
 * goslab_calloc() - goslab_alloc_array() of zeroed memory, like kcalloc()
 * @n: number of elements
 * @size: bytes per element
 * @gfp: GFP flags
 *
 * Context: as goslab_alloc().
 * Return: as goslab_alloc_array().
 */
static inline __alloc_size(1, 2)
void *goslab_calloc(size_t n, size_t size, gfp_t gfp)
{
	return goslab_alloc_array(n, size, gfp | __GFP_ZERO);
}

/**
 * goslab_realloc_array() - resize an array, like krealloc_array()
 * @p: the array, or NULL or ZERO_SIZE_PTR
 * @new_n: number of elements wanted
 * @new_size: bytes per element
 * @gfp: GFP flags
 *
 * Context: as goslab_realloc().
 * Return: as goslab_realloc(); NULL, with @p untouched and no message,
 * when @new_n * @new_size overflows.
 */
static inline __realloc_size(2, 3)
void *goslab_realloc_array(const void *p, size_t new_n, size_t new_size,
			   gfp_t gfp)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(new_n, new_size, &bytes)))
		return NULL;
	return goslab_realloc(p, bytes, gfp);
}

/**
 * goslab_cache_zalloc() - goslab_cache_alloc() of a zeroed object, like
 *	kmem_cache_zalloc()
 * @c: the cache
 * @gfp: GFP flags
 *
 * Refused (NULL, reported) for a cache with a constructor, whose state
 * zeroing would destroy (SLUB warns there).
 *
 * Context: as goslab_cache_alloc().
 * Return: as goslab_cache_alloc().
 */
static inline void *goslab_cache_zalloc(struct goslab_cache *c, gfp_t gfp)
{
	return goslab_cache_alloc(c, gfp | __GFP_ZERO);
}

#ifdef DEFINE_FREE
/* void *p __free(goslab_free) = goslab_alloc(...): freed at scope exit. */
DEFINE_FREE(goslab_free, void *, if (!IS_ERR_OR_NULL(_T)) goslab_free(_T))
#endif

#endif /* _LINUX_GOSLAB_H */
