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

static atomic_long_t goslab_errors[GOSLAB_NR_ERRORS];
static atomic_long_t large_nmalloc, large_nfree;

static const char * const goslab_error_text[GOSLAB_NR_ERRORS] = {
	[GOSLAB_ERR_FOREIGN] =
		"not memory goslab holds (a foreign pointer, or memory already freed and given back)",
	[GOSLAB_ERR_INTERIOR] = "points inside an object, not at its start",
	[GOSLAB_ERR_DOUBLE_FREE] = "double free: the object is not allocated",
	[GOSLAB_ERR_WRONG_CACHE] = "the object belongs to another cache",
};

/**
 * goslab_report() - report and count a caller's misuse
 * @err: what went wrong
 * @p: the pointer the caller passed
 * @ip: the caller's return address
 * @what: the function that was called
 */
void goslab_report(enum goslab_error err, const void *p, unsigned long ip,
		   const char *what)
{
	atomic_long_inc(&goslab_errors[err]);
	pr_err_ratelimited("%s(%p) from %pS: %s\n", what, p, (void *)ip,
			   goslab_error_text[err]);
}

/**
 * goslab_error_count() - how often a misuse was reported
 * @err: which kind
 *
 * Return: the count since load.
 */
unsigned long goslab_error_count(enum goslab_error err)
{
	return atomic_long_read(&goslab_errors[err]);
}
EXPORT_SYMBOL_NS_GPL(goslab_error_count, GOSLAB_INTERNAL);

static void *goslab_alloc_large(size_t size, gfp_t gfp, unsigned long ip)
{
	unsigned int npages;
	struct mspan *s;

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
	if (gfp & __GFP_ZERO)
		memset((void *)s->base, 0, s->elemsize);
	return (void *)s->base;
}

/**
 * goslab_alloc() - allocate memory, like kmalloc()
 * @size: bytes wanted; up to 4 MiB
 * @gfp: GFP flags; __GFP_ZERO zeroes the object, __GFP_RECLAIMABLE takes
 *	it from spans grouped with reclaimable pages
 *
 * Objects are at least 8-byte aligned, and power-of-two sizes up to 8 KiB
 * are naturally aligned.
 *
 * Context: any context @gfp allows; sleeps only if @gfp allows.
 * Return: the object, or NULL when @size is 0, above 4 MiB, or memory
 * could not be had.
 */
void *goslab_alloc(size_t size, gfp_t gfp)
{
	unsigned int spc;

	might_alloc(gfp);
	if (unlikely(!size))
		return NULL;
	if (unlikely(size > GOSLAB_MAX_SMALL_SIZE))
		return goslab_alloc_large(size, gfp, _RET_IP_);
	spc = goslab_span_class(goslab_size_to_class(size),
				!!(gfp & __GFP_RECLAIMABLE));
	return mcache_alloc(&goslab_classes[spc], gfp);
}
EXPORT_SYMBOL_GPL(goslab_alloc);

/*
 * The span and slot of @p if it is the start of an object goslab handed
 * out; reports and returns NULL otherwise.
 */
static __always_inline struct mspan *
goslab_object_span(const void *p, unsigned long ip, const char *what,
		   unsigned int *idx)
{
	unsigned long addr = (unsigned long)p;
	struct mspan *s = __mheap_span_of(p);

	if (unlikely(!s)) {
		goslab_report(GOSLAB_ERR_FOREIGN, p, ip, what);
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
		goslab_report(GOSLAB_ERR_INTERIOR, p, ip, what);
		return NULL;
	}
	return s;
}

static noinline int goslab_free_large(struct mspan *s, const void *p,
				      unsigned long ip)
{
	if (atomic_cmpxchg(&s->nfreed, 0, 1) != 0) {
		goslab_report(GOSLAB_ERR_DOUBLE_FREE, p, ip, "goslab_free");
		return -EINVAL;
	}
	atomic_long_inc(&large_nfree);
	mheap_free_span(s);
	return 0;
}

/*
 * A free from a CPU that does not cache the span: atomics, may tell
 * mcentral. The object is live until its free bit is set, so until then
 * the span cannot be swept empty and released and its class is stable:
 * read it first. Once the bit is set, another CPU may sweep the span,
 * release it and reuse its pages for another class; the descriptor stays
 * readable for the RCU read side (mheap_free_span() frees it after a
 * grace period) and mcentral_note_free() checks under the class's lock
 * that the span is still on that class's lists.
 */
static noinline int goslab_free_remote(struct mspan *s, unsigned int idx,
				       const void *p, unsigned long ip)
{
	struct goslab_class *cls = s->cls;
	int ret;

	rcu_read_lock();
	ret = mspan_free_index(s, idx);
	if (ret > 0)
		mcentral_note_free(cls, s);
	rcu_read_unlock();
	if (unlikely(ret < 0)) {
		goslab_report(GOSLAB_ERR_DOUBLE_FREE, p, ip, "goslab_free");
		return ret;
	}
	this_cpu_inc(cls->slot->nfree);
	this_cpu_inc(cls->slot->nfree_remote);
	return 0;
}

/*
 * The fast path is the free of an object whose span this CPU caches: IRQs
 * off, one bit set, no atomic. Any other free is recorded atomically.
 */
static __always_inline int __goslab_free(const void *p, unsigned long ip,
					 struct goslab_class *expect)
{
	struct mcache_slot *slot;
	unsigned long flags;
	unsigned int idx;
	struct mspan *s;
	int ret;

	if (unlikely(!p))
		return 0;
	s = goslab_object_span(p, ip, "goslab_free", &idx);
	if (unlikely(!s))
		return -EINVAL;
	if (unlikely(expect && s->cls != expect)) {
		goslab_report(GOSLAB_ERR_WRONG_CACHE, p, ip, "goslab_cache_free");
		return -EINVAL;
	}
	if (unlikely(!s->cls))
		return goslab_free_large(s, p, ip);
	if (unlikely(idx == UINT_MAX))
		return goslab_tiny_free(s, p, ip);
	local_irq_save(flags);
	slot = this_cpu_ptr(s->cls->slot);
	if (likely(slot->span == s)) {
		ret = mspan_free_index_local(s, idx);
		slot->nfree += !ret;
		local_irq_restore(flags);
		if (unlikely(ret))
			goslab_report(GOSLAB_ERR_DOUBLE_FREE, p, ip,
				      "goslab_free");
		return ret;
	}
	local_irq_restore(flags);
	return goslab_free_remote(s, idx, p, ip);
}

/**
 * goslab_free_slot() - free slot @idx of small span @s
 * @s: the span
 * @idx: the slot
 * @p: the pointer to name in reports
 * @ip: the return address to name in reports
 *
 * For the tiny allocator, which frees a block when its last object goes.
 *
 * Return: 0, or -EINVAL for a double free.
 */
int goslab_free_slot(struct mspan *s, unsigned int idx, const void *p,
		     unsigned long ip)
{
	struct mcache_slot *slot;
	unsigned long flags;
	int ret;

	local_irq_save(flags);
	slot = this_cpu_ptr(s->cls->slot);
	if (slot->span == s) {
		ret = mspan_free_index_local(s, idx);
		slot->nfree += !ret;
		local_irq_restore(flags);
		if (ret)
			goslab_report(GOSLAB_ERR_DOUBLE_FREE, p, ip,
				      "goslab_free");
		return ret;
	}
	local_irq_restore(flags);
	return goslab_free_remote(s, idx, p, ip);
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
	return __goslab_free(p, ip, NULL);
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
	return __goslab_free(p, ip, expect);
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
	struct mcache_slot *slot;
	unsigned long flags;
	unsigned int idx;
	size_t i;
	int ret;

	local_irq_save(flags);
	slot = this_cpu_ptr(cls->slot);
	for (i = 0; i < n; i++) {
		unsigned long addr = (unsigned long)p[i];

		if (!p[i])
			continue;
		/* Runs of objects from one span skip the arena lookup. */
		if (last && addr - last->base < mspan_limit(last) - last->base) {
			s = last;
			idx = mspan_obj_index(s, addr);
			if (unlikely(s->base + (unsigned long)idx * s->elemsize !=
				     addr)) {
				goslab_report(GOSLAB_ERR_INTERIOR, p[i], ip,
					      "goslab_cache_free_bulk");
				continue;
			}
		} else {
			s = goslab_object_span(p[i], ip,
					       "goslab_cache_free_bulk", &idx);
			if (unlikely(!s))
				continue;
			last = s->cls == cls ? s : NULL;
		}
		if (unlikely(s->cls != cls)) {
			goslab_report(GOSLAB_ERR_WRONG_CACHE, p[i], ip,
				      "goslab_cache_free_bulk");
			continue;
		}
		if (likely(slot->span == s)) {
			ret = mspan_free_index_local(s, idx);
		} else {
			/*
			 * IRQs are off: an RCU read side for the descriptor
			 * (see goslab_free_remote()). Once this free is
			 * published the span may be released and its pages
			 * reused: the next object needs its own lookup.
			 */
			ret = mspan_free_index(s, idx);
			if (ret > 0)
				mcentral_note_free(cls, s);
			last = NULL;
		}
		if (unlikely(ret < 0))
			goslab_report(GOSLAB_ERR_DOUBLE_FREE, p[i], ip,
				      "goslab_cache_free_bulk");
		else
			slot->nfree++;
	}
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
	__goslab_free(p, _RET_IP_, NULL);
}
EXPORT_SYMBOL_GPL(goslab_free);

/**
 * goslab_usable_size() - the bytes usable at @p, like ksize()
 * @p: an object from goslab_alloc()
 *
 * Context: any context but NMI.
 * Return: the object's size class (or a large object's page-rounded
 * size); 0 for NULL or a pointer goslab did not return (reported).
 */
size_t goslab_usable_size(const void *p)
{
	unsigned int idx;
	struct mspan *s;

	if (!p)
		return 0;
	s = goslab_object_span(p, _RET_IP_, "goslab_usable_size", &idx);
	if (s && idx == UINT_MAX)
		return goslab_tiny_size(s, p);
	return s ? s->elemsize : 0;
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
 * object and frees @p. On failure @p is untouched.
 *
 * Context: any context @gfp allows.
 * Return: the object, or NULL.
 */
void *goslab_realloc(const void *p, size_t new_size, gfp_t gfp)
{
	size_t usable;
	unsigned int idx;
	struct mspan *s;
	void *ret;

	if (!p)
		return goslab_alloc(new_size, gfp);
	if (!new_size) {
		goslab_free_ip(p, _RET_IP_);
		return NULL;
	}
	s = goslab_object_span(p, _RET_IP_, "goslab_realloc", &idx);
	if (!s)
		return NULL;
	usable = idx == UINT_MAX ? goslab_tiny_size(s, p) : s->elemsize;
	if (!usable)
		return NULL;
	if (new_size <= usable) {
		if (gfp & __GFP_ZERO)
			memset((char *)p + new_size, 0, usable - new_size);
		return (void *)p;
	}
	ret = goslab_alloc(new_size, gfp);
	if (!ret)
		return NULL;
	memcpy(ret, p, usable);
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
	struct goslab_class *cls;

	might_sleep();
	goslab_tiny_flush();
	mcache_flush_all();
	rcu_read_lock();
	for_each_goslab_class(cls)
		mcentral_shrink(cls);
	rcu_read_unlock();
	mheap_pcache_flush_all();
	return min_t(unsigned long, mheap_scavenge(), INT_MAX);
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
