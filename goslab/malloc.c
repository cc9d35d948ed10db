// SPDX-License-Identifier: GPL-2.0
/*
 * malloc.c - goslab_alloc() and friends: Go's mallocgc for the kernel.
 *
 * Size decides the path, as in Go's mallocgc: up to 32 KiB an object
 * comes from its size class through this CPU's mcache; above that it
 * gets a span of its own from mheap (a large object). Free finds the
 * object's span through the arena index, checks that the pointer is the
 * start of an allocated object, and records the free in the span's free
 * bits; the slot is reused after the span's next sweep.
 *
 * Misuse is reported, counted and ignored: a pointer goslab does not hold,
 * a pointer into an object, a double free. Reports are pr_err (never
 * WARN: the caller is wrong, not goslab) and rate limited.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include "internal.h"

struct goslab_class goslab_classes[GOSLAB_NUM_SPAN_CLASSES];
EXPORT_SYMBOL_NS_GPL(goslab_classes, GOSLAB_INTERNAL);
LIST_HEAD(goslab_class_list);
EXPORT_SYMBOL_NS_GPL(goslab_class_list, GOSLAB_INTERNAL);
/* Serializes changes to goslab_class_list and the slow recount. */
DEFINE_MUTEX(goslab_class_mutex);
EXPORT_SYMBOL_NS_GPL(goslab_class_mutex, GOSLAB_INTERNAL);

static atomic_long_t large_nmalloc, large_nfree;

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
	atomic_long_inc(&large_nmalloc);
	p = (void *)s->base;
	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		goslab_kasan_alloc(p, size, s->elemsize, want_init_on_alloc(gfp));
	else if (want_init_on_alloc(gfp))
		memset(p, 0, s->elemsize);
	kmemleak_alloc(p, s->elemsize, 1, gfp);
	return p;
}

/**
 * goslab_alloc() - allocate memory, like kmalloc()
 * @size: bytes wanted; up to 4 MiB
 * @gfp: GFP flags; __GFP_ZERO (or init_on_alloc) zeroes the object,
 *	__GFP_RECLAIMABLE takes it from spans grouped with reclaimable
 *	pages, __GFP_NOFAIL never fails when it may sleep; GFP_DMA and
 *	GFP_DMA32 are refused, __GFP_ACCOUNT and __GFP_HIGHMEM ignored
 *
 * Objects are at least 8-byte aligned, and power-of-two sizes up to 8 KiB
 * are naturally aligned.
 *
 * Context: any context @gfp allows; sleeps only if @gfp allows.
 * Return: the object, or NULL when @size is 0, above 4 MiB, @gfp asks
 * for a DMA zone, or memory could not be had.
 */
void *goslab_alloc(size_t size, gfp_t gfp)
{
	unsigned int spc;

	might_alloc(gfp);
	if (unlikely(gfp & GOSLAB_GFP_UNSUPPORTED) &&
	    !goslab_gfp_check(gfp, _RET_IP_, __func__))
		return NULL;
	if (unlikely(!size))
		return NULL;
	if (unlikely(size > GOSLAB_MAX_SMALL_SIZE))
		return goslab_alloc_large(size, gfp, _RET_IP_);
	spc = goslab_span_class(goslab_size_to_class(size),
				!!(gfp & __GFP_RECLAIMABLE));
	return mcache_alloc(&goslab_classes[spc], size, gfp);
}
EXPORT_SYMBOL_GPL(goslab_alloc);

/*
 * The span and slot of @p if it is the start of an object goslab handed
 * out, else an error (GOSLAB_ERR_*, negated). IRQs off or under
 * rcu_read_lock(), for as long as the caller uses the span.
 */
static __always_inline struct mspan *
goslab_object_span(const void *p, unsigned int *idx, int *err)
{
	unsigned long addr = (unsigned long)p;
	struct mspan *s = __mheap_span_of(p);

	if (unlikely(!s)) {
		*err = GOSLAB_ERR_FOREIGN;
		return NULL;
	}
	/* Tiny objects lie inside 16-byte blocks: tiny.c checks them. */
	if (unlikely(s->tiny)) {
		*idx = UINT_MAX;
		return s;
	}
	/* A large span holds one object: no division needed (or exact). */
	*idx = likely(s->cls) ? mspan_obj_index(s, addr) : 0;
	if (unlikely(s->base + (unsigned long)*idx * s->elemsize != addr ||
		     *idx >= s->nelems)) {
		*err = GOSLAB_ERR_INTERIOR;
		return NULL;
	}
	return s;
}

/*
 * A large object's span: the free that takes nfreed from 0 to 1 owns it.
 * IRQs off on entry; restored here, before the object is cleared and the
 * span given back (no lookup reads it after that: the winner alone).
 */
static noinline int goslab_free_large(struct mspan *s, unsigned long flags)
{
	bool won;

	raw_spin_lock(&s->free_lock);
	won = !s->nfreed;
	if (won)
		WRITE_ONCE(s->nfreed, 1);
	raw_spin_unlock(&s->free_lock);
	local_irq_restore(flags);
	if (!won)
		return -GOSLAB_ERR_DOUBLE_FREE;
	atomic_long_inc(&large_nfree);
	kmemleak_free((void *)s->base);
	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		goslab_kasan_free((void *)s->base, s->elemsize,
				  want_init_on_free());
	else if (want_init_on_free())
		memset((void *)s->base, 0, s->elemsize);
	mheap_free_span(s);
	return 0;
}

/*
 * A free from a CPU that does not cache the span: under the span's
 * free_lock, against sweeps and other frees. IRQs off: the descriptor
 * stays readable (see internal.h) through mcentral_note_free(), which
 * checks under the class's lock that the span is still on its lists.
 */
static noinline int goslab_free_remote(struct goslab_class *cls,
				       struct mspan *s, unsigned int idx,
				       void *p)
{
	bool first;
	int ret;

	raw_spin_lock(&s->free_lock);
	ret = mspan_free_check(s, idx);
	if (likely(!ret)) {
		goslab_pre_free(cls, p);
		first = mspan_free_publish(s, idx);
	}
	raw_spin_unlock(&s->free_lock);
	if (unlikely(ret))
		return -GOSLAB_ERR_DOUBLE_FREE;
	if (first)
		mcentral_note_free(cls, s);
	__this_cpu_inc(cls->slot->nfree);
	__this_cpu_inc(cls->slot->nfree_remote);
	return 0;
}

/* The free of slot @idx of @s; IRQs off. Returns 0 or -GOSLAB_ERR_*. */
static __always_inline int goslab_free_index(struct goslab_class *cls,
					     struct mspan *s,
					     unsigned int idx, void *p)
{
	struct mcache_slot *slot = this_cpu_ptr(cls->slot);

	if (likely(slot->span == s)) {
		if (unlikely(mspan_free_check_local(s, idx)))
			return -GOSLAB_ERR_DOUBLE_FREE;
		goslab_pre_free(cls, p);
		mspan_free_publish_local(s, idx);
		slot->nfree++;
		return 0;
	}
	return goslab_free_remote(cls, s, idx, p);
}

/*
 * The fast path is the free of an object whose span this CPU caches: IRQs
 * off, one bit set, no lock, no atomic. Any other free is recorded under
 * the span's free_lock. The lookup and everything that reads the span
 * happen with IRQs off, so that a racing release of the span cannot free
 * the descriptor under us. Misuse is reported after IRQs are back on.
 */
static __always_inline int __goslab_free(const void *p, unsigned long ip,
					 struct goslab_class *expect,
					 const char *what)
{
	struct goslab_class *cls;
	unsigned long flags;
	unsigned int idx;
	struct mspan *s;
	int err = 0;

	if (unlikely(!p))
		return 0;
	local_irq_save(flags);
	s = goslab_object_span(p, &idx, &err);
	if (unlikely(!s))
		goto out;
	cls = s->cls;
	if (unlikely(expect && cls != expect)) {
		err = GOSLAB_ERR_WRONG_CACHE;
		goto out;
	}
	if (unlikely(!cls)) {
		err = -goslab_free_large(s, flags);
		goto reported;
	}
	if (unlikely(idx == UINT_MAX))
		err = -goslab_tiny_free(s, p);
	else
		err = -goslab_free_index(cls, s, idx, (void *)p);
out:
	local_irq_restore(flags);
reported:
	if (unlikely(err)) {
		goslab_report(err, p, ip, what);
		return -EINVAL;
	}
	return 0;
}

/**
 * goslab_free_slot() - free a tiny block, slot @idx of span @s
 * @s: the span, of the tiny class
 * @idx: the slot
 *
 * For the tiny allocator, which frees a block when its last object goes;
 * the objects in it were freed (and cleared) one by one.
 *
 * Context: IRQs off.
 * Return: 0, or -GOSLAB_ERR_DOUBLE_FREE.
 */
int goslab_free_slot(struct mspan *s, unsigned int idx)
{
	struct goslab_class *cls = s->cls;
	struct mcache_slot *slot = this_cpu_ptr(cls->slot);
	void *block = (void *)(s->base + (unsigned long)idx * s->elemsize);
	bool first = false;
	int ret;

	lockdep_assert_irqs_disabled();
	if (slot->span == s) {
		ret = mspan_free_check_local(s, idx);
		if (!ret) {
			goslab_kasan_poison(block, s->elemsize,
					    GOSLAB_KASAN_FREED);
			mspan_free_publish_local(s, idx);
		}
	} else {
		raw_spin_lock(&s->free_lock);
		ret = mspan_free_check(s, idx);
		if (!ret) {
			goslab_kasan_poison(block, s->elemsize,
					    GOSLAB_KASAN_FREED);
			first = mspan_free_publish(s, idx);
		}
		raw_spin_unlock(&s->free_lock);
		if (first)
			mcentral_note_free(cls, s);
	}
	if (ret)
		return -GOSLAB_ERR_DOUBLE_FREE;
	slot->nfree++;
	return 0;
}

/**
 * goslab_free_ip() - goslab_free() on behalf of the caller at @ip
 * @p: the object, or NULL
 * @ip: the return address to name in reports
 *
 * Return: 0, or -EINVAL when @p was reported as misuse.
 */
int goslab_free_ip(const void *p, unsigned long ip)
{
	return __goslab_free(p, ip, NULL, "goslab_free");
}
EXPORT_SYMBOL_NS_GPL(goslab_free_ip, GOSLAB_INTERNAL);

/**
 * goslab_free_checked() - free @p, which must belong to class @expect
 * @p: the object, or NULL
 * @ip: the return address to name in reports
 * @expect: the span class the caller says @p belongs to
 *
 * Return: 0, or -EINVAL when @p was reported as misuse.
 */
int goslab_free_checked(const void *p, unsigned long ip,
			struct goslab_class *expect)
{
	return __goslab_free(p, ip, expect, "goslab_cache_free");
}

/**
 * goslab_free_bulk_class() - free objects of one class with IRQs off once
 * @cls: the class they must belong to
 * @n: how many
 * @p: the objects; NULL entries are skipped
 * @ip: the return address to name in reports
 */
void goslab_free_bulk_class(struct goslab_class *cls, size_t n, void **p,
			    unsigned long ip)
{
	struct mspan *last = NULL, *s;
	unsigned long flags;
	unsigned int idx;
	u64 since;
	size_t i;
	int err;

	local_irq_save(flags);
	since = goslab_irqsoff_begin();
	for (i = 0; i < n; i++) {
		unsigned long addr = (unsigned long)p[i];

		if (!p[i])
			continue;
		err = 0;
		/*
		 * Runs of objects from one span skip the arena lookup, unless
		 * it gave pages back: their addresses may be another span's.
		 */
		if (last && addr - last->base < mspan_limit(last) - last->base &&
		    !READ_ONCE(last->released_kpages)) {
			s = last;
			idx = mspan_obj_index(s, addr);
			if (unlikely(s->base + (unsigned long)idx * s->elemsize !=
				     addr))
				err = GOSLAB_ERR_INTERIOR;
		} else {
			s = goslab_object_span(p[i], &idx, &err);
			last = s && s->cls == cls ? s : NULL;
		}
		if (!err && unlikely(s->cls != cls))
			err = GOSLAB_ERR_WRONG_CACHE;
		if (!err) {
			/*
			 * Once a remote free is published the span may be
			 * released and its pages reused: the next object
			 * needs its own lookup.
			 */
			if (this_cpu_ptr(cls->slot)->span != s)
				last = NULL;
			err = -goslab_free_index(cls, s, idx, p[i]);
		}
		if (unlikely(err))
			goslab_report(err, p[i], ip, "goslab_cache_free_bulk");
	}
	goslab_irqsoff_end(GOSLAB_IRQSOFF_BULK, since);
	local_irq_restore(flags);
}

/**
 * goslab_free() - free memory from goslab_alloc()
 * @p: the object; NULL is a no-op
 *
 * A pointer goslab did not return, a pointer inside an object and a
 * double free are reported with pr_err, counted, and otherwise ignored.
 *
 * Context: any context but NMI.
 */
void goslab_free(const void *p)
{
	__goslab_free(p, _RET_IP_, NULL, "goslab_free");
}
EXPORT_SYMBOL_GPL(goslab_free);

/*
 * Is slot @idx of @s an object handed out and not freed? Not a free or
 * pinned slot (a stale pointer's: its page may be gone). RCU held.
 */
static bool goslab_object_live(const struct mspan *s, unsigned int idx)
{
	if (!s->cls)
		return !READ_ONCE(s->nfreed);
	if (!mspan_is_allocated(s, idx))
		return false;
	/* Pairs with the smp_wmb() in mspan_scavenge(). */
	smp_rmb();
	return !mspan_slot_pinned(s, idx) && !test_bit(idx, s->free_bits) &&
	       !test_bit(idx, s->local_free_bits);
}

/*
 * The usable size of the object at @p, or 0 (reported); *@tiny says
 * whether it is a tiny object (KASAN checks those per block).
 */
static size_t goslab_object_size(const void *p, unsigned long ip,
				 const char *what, bool *tiny)
{
	unsigned int idx;
	struct mspan *s;
	size_t size;
	int err = 0;

	rcu_read_lock();
	s = goslab_object_span(p, &idx, &err);
	*tiny = s && idx == UINT_MAX;
	if (!s)
		size = 0;
	else if (*tiny)
		size = goslab_tiny_size(s, p);
	else if (goslab_object_live(s, idx))
		size = s->elemsize;
	else
		size = 0;
	rcu_read_unlock();
	if (!size)
		goslab_report(err ?: GOSLAB_ERR_DOUBLE_FREE, p, ip, what);
	return size;
}

/**
 * goslab_usable_size() - the bytes usable at @p, like ksize()
 * @p: an object from goslab_alloc()
 *
 * As with ksize(), the caller may then use all of them: KASAN is told
 * so.
 *
 * Context: any context but NMI.
 * Return: the object's size class (or a large object's page-rounded
 * size, or a tiny object's exact size); 0 for NULL or a pointer goslab
 * did not return (reported).
 */
size_t goslab_usable_size(const void *p)
{
	size_t size;
	bool tiny;

	if (!p)
		return 0;
	size = goslab_object_size(p, _RET_IP_, "goslab_usable_size", &tiny);
	if (size && !tiny)
		goslab_kasan_unpoison(p, size);
	return size;
}
EXPORT_SYMBOL_GPL(goslab_usable_size);

/**
 * goslab_realloc() - resize an object, like krealloc()
 * @p: the object, or NULL (then this is goslab_alloc())
 * @new_size: bytes wanted; 0 frees @p and returns NULL
 * @gfp: GFP flags; with __GFP_ZERO the bytes past @new_size in a kept
 *	object and the new bytes of a moved one are zero
 *
 * Keeps @p when it is large enough, else moves the contents to a new
 * object and frees @p. Only the bytes the caller may use are copied (the
 * size asked for, or the usable size after goslab_usable_size()). On
 * failure @p is untouched.
 *
 * Context: any context @gfp allows.
 * Return: the object, or NULL.
 */
void *goslab_realloc(const void *p, size_t new_size, gfp_t gfp)
{
	size_t usable;
	bool tiny;
	void *ret;

	if (!p)
		return goslab_alloc(new_size, gfp);
	if (!new_size) {
		goslab_free_ip(p, _RET_IP_);
		return NULL;
	}
	usable = goslab_object_size(p, _RET_IP_, "goslab_realloc", &tiny);
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
	ret = goslab_alloc(new_size, gfp);
	if (!ret)
		return NULL;
	memcpy(ret, p, goslab_valid_bytes(p, usable));
	goslab_free_ip(p, _RET_IP_);
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
	goslab_tiny_flush();
	mcache_flush_all();
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

/**
 * goslab_large_counts() - large objects allocated and freed since load
 * @nmalloc: allocations
 * @nfree: frees
 */
void goslab_large_counts(unsigned long *nmalloc, unsigned long *nfree)
{
	*nmalloc = atomic_long_read(&large_nmalloc);
	*nfree = atomic_long_read(&large_nfree);
}
EXPORT_SYMBOL_NS_GPL(goslab_large_counts, GOSLAB_INTERNAL);

int goslab_classes_init(void)
{
	unsigned int sc, rcl;

	if (mcache_init() || goslab_tiny_init())
		return -ENOMEM;
	for (sc = 1; sc < GOSLAB_NUM_SIZE_CLASSES; sc++) {
		for (rcl = 0; rcl < 2; rcl++) {
			unsigned int spc = goslab_span_class(sc, rcl);
			struct goslab_class *cls = &goslab_classes[spc];

			cls->elemsize = goslab_class_to_size[sc];
			cls->npages = goslab_class_to_allocnpages[sc];
			cls->nelems = cls->npages * GOSLAB_PAGE_SIZE /
				      cls->elemsize;
			cls->divmul = goslab_class_to_divmul[sc];
			cls->page_gfp = rcl ? __GFP_RECLAIMABLE : 0;
			cls->name = kasprintf(GFP_KERNEL, "goslab%s-%u",
					      rcl ? "-rcl" : "",
					      cls->elemsize);
			if (!cls->name)
				return -ENOMEM;
			cls->slot = &goslab_mcache->alloc[spc];
			mcentral_init(&cls->central);
			mutex_lock(&goslab_class_mutex);
			list_add_tail_rcu(&cls->node, &goslab_class_list);
			mutex_unlock(&goslab_class_mutex);
		}
	}
	return 0;
}

/* Module exit: every user is gone; give everything back. */
void goslab_classes_exit(void)
{
	unsigned int i;

	goslab_caches_exit();
	goslab_tiny_exit();
	mcache_flush_all();
	for (i = 0; i < GOSLAB_NUM_SPAN_CLASSES; i++) {
		struct goslab_class *cls = &goslab_classes[i];
		unsigned long live;

		if (!cls->slot)
			continue;
		mutex_lock(&goslab_class_mutex);
		list_del_rcu(&cls->node);
		mutex_unlock(&goslab_class_mutex);
		live = mcentral_destroy(cls);
		if (live)
			pr_err("%s: %lu objects never freed; their memory is given back at unload\n",
			       cls->name, live);
		kfree(cls->name);
	}
	mcache_exit();
}
