// SPDX-License-Identifier: GPL-2.0
/*
 * free.c - the one free path, and the one lookup of an object's size.
 *
 * Every free, whatever API it came through (goslab_free(),
 * goslab_cache_free(), the bulk frees, goslab_realloc(), a tiny block
 * whose last object went), ends here: the arena index names the span,
 * the pointer must be the start of an object handed out, and then the
 * free is local (bit i of local_free_bits, no lock, when this CPU caches
 * the span) or remote (under the span's free_lock). A large object's
 * span goes back to mheap at once. The slot is reused after the span's
 * next sweep (see internal.h's free protocol).
 *
 * Misuse is reported, counted and ignored: a pointer goslab does not
 * hold, a pointer into an object, a double free, an object of another
 * cache. Reports name the API the caller called and the caller's
 * address (goslab_report(): pr_err, never WARN, rate limited).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/sched/mm.h>
#include "internal.h"

/*
 * The span and slot of @p if it is the start of an object goslab handed
 * out, else NULL and an error (GOSLAB_ERR_*); @s is what the arena index
 * says owns @p. A tiny span's slot is UINT_MAX: its objects lie inside
 * blocks, which the class checks. Under goslab_cpu_lock or
 * rcu_read_lock(), for as long as the caller uses the span.
 */
static __always_inline struct mspan *
goslab_object_span_of(struct mspan *s, const void *p, unsigned int *idx,
		      int *err)
{
	unsigned long addr = (unsigned long)p;

	if (unlikely(!s)) {
		*err = GOSLAB_ERR_FOREIGN;
		return NULL;
	}
	if (unlikely(s->tiny)) {
		*idx = UINT_MAX;
		return s;
	}
	/*
	 * A large span holds one object, at its base. Its own return, so
	 * that the caller's test of s->cls folds into this one.
	 */
	if (unlikely(!s->cls)) {
		*idx = 0;
		if (unlikely(s->base != addr)) {
			*err = GOSLAB_ERR_INTERIOR;
			return NULL;
		}
		return s;
	}
	if (unlikely(!mspan_object_at(s, addr, idx))) {
		*err = GOSLAB_ERR_INTERIOR;
		return NULL;
	}
	return s;
}

static __always_inline struct mspan *
goslab_object_span(const void *p, unsigned int *idx, int *err)
{
	return goslab_object_span_of(__mheap_span_of(p), p, idx, err);
}

/*
 * A large object's span: the free that takes nfreed from 0 to 1 owns it.
 * The cpu lock is held on entry and dropped here, before the object is
 * cleared and the span given back (no lookup reads it after that: the
 * winner alone).
 */
static noinline int goslab_free_large(struct mspan *s, unsigned long flags)
{
	bool won;

	raw_spin_lock(&s->free_lock);
	won = !s->nfreed;
	if (won)
		WRITE_ONCE(s->nfreed, 1);
	raw_spin_unlock(&s->free_lock);
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	if (!won)
		return -GOSLAB_ERR_DOUBLE_FREE;
	goslab_release_large(s);
	return 0;
}

/**
 * goslab_release_large() - give a freed large object's span back
 * @s: the span, whose nfreed this caller took from 0 to 1
 *
 * Clears the object and gives the span back to mheap; no lookup reads
 * it after that (the winner alone).
 *
 * Context: no goslab lock held.
 */
void goslab_release_large(struct mspan *s)
{
	atomic_long_inc(&goslab_large_nfree);
	kmemleak_free((void *)s->base);
	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		goslab_kasan_free((void *)s->base, s->elemsize,
				  want_init_on_free());
	else if (want_init_on_free())
		memset((void *)s->base, 0, s->elemsize);
	mheap_free_span(s);
}

/*
 * A free from a CPU that does not cache the span: under the span's
 * free_lock, against sweeps and other frees. Under the cpu lock: the
 * descriptor stays readable (see internal.h) through mcentral_note_free(), which
 * checks under the class's lock that the span is still on its lists.
 * @p is the object to clear, or NULL for a tiny block (its objects were
 * cleared one by one; the block is only poisoned). @noop_pre_free: the
 * caller found goslab_pre_free() to do nothing (constant, so that the
 * free fast path's remote case does not test it again).
 */
static __always_inline int goslab_free_remote(struct goslab_class *cls,
					      struct mspan *s,
					      unsigned int idx, void *p,
					      bool noop_pre_free)
{
	bool first;
	int ret;

	raw_spin_lock(&s->free_lock);
	ret = mspan_free_check(s, idx);
	if (likely(!ret)) {
		if (p && !noop_pre_free)
			goslab_pre_free(cls, p);
		else if (!p)
			goslab_kasan_poison((void *)(s->base +
					    (unsigned long)idx * s->elemsize),
					    s->elemsize, GOSLAB_KASAN_FREED);
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

/*
 * The free of slot @idx of @s: local when this CPU caches the span, else
 * remote. Under the cpu lock. @p as for goslab_free_remote(). Returns 0 or
 * -GOSLAB_ERR_*.
 */
static __always_inline int goslab_free_index(struct goslab_class *cls,
					     struct mspan *s,
					     unsigned int idx, void *p)
{
	struct mcache_slot *slot = this_cpu_ptr(cls->slot);

	if (likely(slot->span == s)) {
		if (unlikely(mspan_free_check_local(s, idx)))
			return -GOSLAB_ERR_DOUBLE_FREE;
		if (likely(p))
			goslab_pre_free(cls, p);
		else
			goslab_kasan_poison((void *)(s->base +
					    (unsigned long)idx * s->elemsize),
					    s->elemsize, GOSLAB_KASAN_FREED);
		mspan_free_publish_local(s, idx);
		slot->nfree++;
		return 0;
	}
	return goslab_free_remote(cls, s, idx, p, false);
}

/*
 * Everything but the fast path's case, entered with the cpu lock held and
 * @s = __mheap_span_of(@p) (maybe NULL); drops the lock and reports
 * misuse after it.
 */
static noinline int free_object_slow(const void *p, struct mspan *s,
				     unsigned long flags,
				     struct goslab_class *expect,
				     unsigned long ip, const char *api)
{
	struct goslab_class *cls;
	unsigned int idx;
	int err = 0;

	/* The pointer as given, before any check, as kfree's event has it. */
	if (static_branch_unlikely(&goslab_free_hooks)) {
		if (expect)
			trace_goslab_cache_free(ip, p, expect->name);
		else
			trace_goslab_free(ip, p);
	}
	s = goslab_object_span_of(s, p, &idx, &err);
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
	if (unlikely(idx == UINT_MAX)) {
		err = -cls->ops->free_object(s, p);
	} else {
		goslab_track_free_caller(ip);
		err = -goslab_free_index(cls, s, idx, (void *)p);
	}
out:
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
reported:
	if (unlikely(err)) {
		goslab_report(err, p, ip, api);
		return -EINVAL;
	}
	return 0;
}

/*
 * The free of slot @idx of @s, an ordinary span this CPU does not cache,
 * with the cpu lock held (goslab_pre_free() found to do nothing); drops
 * it and reports misuse after it.
 */
static noinline int free_object_remote(const void *p, struct mspan *s,
				       unsigned int idx, unsigned long flags,
				       unsigned long ip, const char *api)
{
	int err = -goslab_free_remote(s->cls, s, idx, (void *)p, true);

	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	if (unlikely(err)) {
		goslab_report(err, p, ip, api);
		return -EINVAL;
	}
	return 0;
}

/*
 * The fast path is the free of an ordinary object whose span this CPU
 * caches, with nothing to write into it: under goslab_cpu_lock (IRQs off
 * without PREEMPT_RT), one bit set, no shared lock, no atomic, no call,
 * so that it needs no saved register. Anything else (another CPU's span,
 * a tiny or large object, init_on_free or a sanitizer, misuse) goes on
 * in free_object_slow() from the lookup already made. The lookup and
 * everything that reads the span happen under the lock, an RCU
 * read-side section, so that a racing release of the span cannot free
 * the descriptor under us. Inlined into each API's entry point.
 */
static __always_inline int free_object(const void *p, unsigned long ip,
				       struct goslab_class *expect,
				       const char *api)
{
	struct mcache_slot *slot;
	unsigned long flags;
	unsigned int idx;
	struct mspan *s;

	if (unlikely(ZERO_OR_NULL_PTR(p)))
		return 0;
	local_lock_irqsave(&goslab_cpu_lock, flags);
	s = __mheap_span_of(p);
	if (unlikely(!s || s->tiny || !s->cls || (expect && s->cls != expect) ||
		     !goslab_free_hooks_off() ||
		     !mspan_object_at(s, (unsigned long)p, &idx)))
		return free_object_slow(p, s, flags, expect, ip, api);
	slot = this_cpu_ptr(s->cls->slot);
	if (unlikely(slot->span != s))
		return free_object_remote(p, s, idx, flags, ip, api);
	if (unlikely(mspan_free_check_local(s, idx)))
		return free_object_slow(p, s, flags, expect, ip, api);
	mspan_free_publish_local(s, idx);
	slot->nfree++;
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	return 0;
}

/**
 * goslab_free_object() - free @p on behalf of the caller of @api at @ip
 * @p: the object, or NULL or ZERO_SIZE_PTR (a no-op)
 * @ip: the caller's return address, named in reports
 * @expect: the class the caller says @p belongs to, or NULL for any
 * @api: the function the caller called, named in reports
 *
 * Context: any context but NMI (on PREEMPT_RT: not hardirq, nor with IRQs
 * or preemption off).
 * Return: 0, or -EINVAL when @p was reported as misuse.
 */
int goslab_free_object(const void *p, unsigned long ip,
		       struct goslab_class *expect, const char *api)
{
	return free_object(p, ip, expect, api);
}

/**
 * goslab_free() - free memory from goslab_alloc()
 * @p: the object; NULL and ZERO_SIZE_PTR (goslab_alloc(0)) are no-ops
 *
 * A pointer goslab did not return, a pointer inside an object and a
 * double free are reported with pr_err, counted, and otherwise ignored.
 *
 * Context: any context but NMI (on PREEMPT_RT: not hardirq, nor with IRQs
 * or preemption off).
 */
void goslab_free(const void *p)
{
	free_object(p, _RET_IP_, NULL, __func__);
}
EXPORT_SYMBOL_GPL(goslab_free);

/**
 * goslab_cache_free() - free an object to its cache
 * @c: the cache the object came from
 * @obj: the object; NULL and ZERO_SIZE_PTR are no-ops
 *
 * An object of another cache (or of goslab_alloc()) is reported with
 * pr_err, counted and not freed, as are foreign pointers, interior
 * pointers and double frees.
 *
 * Context: any context but NMI (on PREEMPT_RT: not hardirq, nor with IRQs
 * or preemption off).
 */
void goslab_cache_free(struct goslab_cache *c, void *obj)
{
	free_object(obj, _RET_IP_, &c->cls, __func__);
}
EXPORT_SYMBOL_GPL(goslab_cache_free);

/*
 * goslab_free_rcu() of a large object: nfreed taken to 1 now (a second
 * free is a double free), the span given back by the RCU work. Under the
 * cpu lock. Returns 0 or -GOSLAB_ERR_DOUBLE_FREE, and *@arm as
 * mspan_rcu_mark().
 */
static int goslab_free_rcu_large(struct mspan *s, bool *arm)
{
	int ret = 0;

	raw_spin_lock(&s->free_lock);
	if (s->nfreed) {
		ret = -GOSLAB_ERR_DOUBLE_FREE;
	} else {
		WRITE_ONCE(s->nfreed, 1);
		*arm = mspan_rcu_mark(s, 0, (unsigned long)s->npages *
					 GOSLAB_PAGE_SIZE);
		atomic_long_inc(&goslab_large_rcu_pending);
	}
	raw_spin_unlock(&s->free_lock);
	if (!ret)
		kmemleak_ignore((void *)s->base);
	return ret;
}

/*
 * goslab_free_rcu() of slot @idx of small span @s: checked as a remote
 * free is, its free bit set at once (so that every later free of it is a
 * double free to the usual checks) but not counted in nfreed, which the
 * sweep leaves alone until the RCU work folds it. What is due in the span
 * is folded first (mspan_rcu_fold_before_mark()). Under the cpu lock.
 * Returns 0 or -GOSLAB_ERR_DOUBLE_FREE. Inlined into goslab_free_rcu():
 * nothing here takes a local's address, so that the call needs no stack
 * canary.
 */
static __always_inline int goslab_free_rcu_small(struct mspan *s,
						 unsigned int idx,
						 const void *p)
{
	struct rcu_fold f = {};
	bool arm = false;
	int ret;

	raw_spin_lock(&s->free_lock);
	ret = mspan_free_check(s, idx);
	if (likely(!ret)) {
		f = mspan_rcu_fold_before_mark(s);
		__set_bit(idx, s->free_bits);
		arm = mspan_rcu_mark(s, idx, s->elemsize);
		atomic_long_inc(&s->cls->rcu_pending);
	}
	raw_spin_unlock(&s->free_lock);
	if (unlikely(ret))
		return -GOSLAB_ERR_DOUBLE_FREE;
	/* kmemleak forgets it at the fold, with the other hooks. */
	kmemleak_ignore(p);
	goslab_rcu_mark_done(s, f, arm);
	return 0;
}

/*
 * goslab_free_rcu() of anything but a checked small object (tiny and
 * large objects, misuse), entered with the cpu lock held and @s =
 * __mheap_span_of(@p); drops the lock and reports misuse after it.
 */
static noinline int free_rcu_object_slow(const void *p, struct mspan *s,
					 unsigned long flags, unsigned long ip,
					 const char *api)
{
	struct rcu_fold f = {};
	bool arm = false;
	unsigned int idx;
	int err = 0;

	s = goslab_object_span_of(s, p, &idx, &err);
	if (s) {
		if (!s->cls) {
			err = -goslab_free_rcu_large(s, &arm);
		} else if (idx == UINT_MAX) {
			err = -s->cls->ops->free_rcu(s, p, &f, &arm);
		} else {
			/* The fast path took every checked small object. */
			GOSLAB_WARN_ON_ONCE(1);
			err = GOSLAB_ERR_INTERIOR;
		}
		/* A fold made before a misuse was found is finished too. */
		goslab_rcu_mark_done(s, f, arm);
	}
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	if (unlikely(err)) {
		goslab_report(err, p, ip, api);
		return -EINVAL;
	}
	return 0;
}

/**
 * goslab_free_rcu_object() - goslab_free_rcu() on behalf of @api at @ip
 * @p: the object, or NULL or ZERO_SIZE_PTR (a no-op)
 * @ip: the caller's return address, named in reports
 * @api: the function the caller called, named in reports
 *
 * Context: any context but NMI (on PREEMPT_RT: not hardirq, nor with IRQs
 * or preemption off).
 * Return: 0, or -EINVAL when @p was reported as misuse.
 */
int goslab_free_rcu_object(const void *p, unsigned long ip, const char *api)
{
	unsigned long flags;
	unsigned int idx;
	struct mspan *s;
	int err;

	if (unlikely(ZERO_OR_NULL_PTR(p)))
		return 0;
	local_lock_irqsave(&goslab_cpu_lock, flags);
	s = __mheap_span_of(p);
	if (unlikely(!s || s->tiny || !s->cls ||
		     !mspan_object_at(s, (unsigned long)p, &idx)))
		return free_rcu_object_slow(p, s, flags, ip, api);
	err = -goslab_free_rcu_small(s, idx, p);
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	if (unlikely(err)) {
		goslab_report(err, p, ip, api);
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
 * Context: goslab_cpu_lock held.
 * Return: 0, or -GOSLAB_ERR_DOUBLE_FREE.
 */
int goslab_free_slot(struct mspan *s, unsigned int idx)
{
	goslab_assert_cpu_locked();
	return goslab_free_index(s->cls, s, idx, NULL);
}

/*
 * The bulk free's inner loop: the objects from @p[0] on that are live
 * objects of @s, the span this CPU caches (cpu lock held, no kernel page
 * of it given back). It stops at the first that is not (NULL, another
 * span's, misuse) and leaves it to the caller's general loop, which
 * reports what is wrong. The checks are mspan_free_check_local()'s, with
 * no lookup and the span's count added once. Returns how many were
 * freed.
 */
static __always_inline size_t __free_bulk_run(struct goslab_class *cls,
					      struct mspan *s, void **p,
					      size_t n, const bool noop_pre_free)
{
	unsigned long bytes = mspan_limit(s) - s->base;
	size_t i;

	/*
	 * The window and the bitmaps are read from @s in the loop: with
	 * the registers the multiply takes, copies would only be spilled.
	 * Only this CPU moves the window while it caches the span; remote
	 * frees set free_bits meanwhile, and a remote double free racing
	 * a free here is counted once by the sweep (see internal.h).
	 */
	for (i = 0; i < n; i++) {
		unsigned long addr = (unsigned long)p[i];
		unsigned int idx, off;
		bool free;

		if (addr - s->base >= bytes || !mspan_object_at(s, addr, &idx))
			break;
		off = idx - s->freeindex;
		if (off < 64)
			free = (s->alloc_cache >> off) & 1;
		else
			free = idx >= s->freeindex &&
			       !test_bit(idx, s->alloc_bits);
		if (unlikely(free || test_bit(idx, s->free_bits) ||
			     test_bit(idx, s->local_free_bits)))
			break;
		/* @addr, checked: not p[i] read again. */
		if (!noop_pre_free)
			goslab_pre_free(cls, (void *)addr);
		__set_bit(idx, s->local_free_bits);
	}
	s->nlocal_freed += i;
	return i;
}

/* With goslab_pre_free() on each object: out of line, the usual run not. */
static noinline size_t free_bulk_run_hooked(struct goslab_class *cls,
					    struct mspan *s, void **p,
					    size_t n)
{
	return __free_bulk_run(cls, s, p, n, false);
}

/* Out of line, so that the run has the registers to itself. */
static noinline size_t free_bulk_run(struct goslab_class *cls,
				     struct mspan *s, void **p, size_t n)
{
	if (goslab_pre_free_is_noop(cls))
		return __free_bulk_run(cls, s, p, n, true);
	return free_bulk_run_hooked(cls, s, p, n);
}

/* Objects a remote run frees under a raw lock when each is cleared. */
#define GOSLAB_BULK_HOOKED_RUN	64

/*
 * The bulk free's run in a span this CPU does not cache: the objects from
 * @p[0] on that are live objects of @s, under one hold of its free_lock.
 * No sweep can come between them (a sweep takes that lock), so the span
 * is not released and, unless it gave kernel pages back, its range stays
 * its own: no lookup is needed after the first, which the caller made.
 * Each is checked and published as goslab_free_remote() does one; the
 * run stops at the first that is not an object of @s, which the caller
 * frees or reports alone, or at one freed already (or never allocated),
 * for which it sets *@dup: the caller reports it as a double free. The
 * lock is held for at most one span's objects, and at most
 * GOSLAB_BULK_HOOKED_RUN when each is cleared or poisoned. Returns how
 * many were freed.
 */
static noinline size_t free_bulk_remote_run(struct goslab_class *cls,
					    struct mspan *s, void **p,
					    size_t n, bool *dup)
{
	unsigned long bytes = mspan_limit(s) - s->base;
	bool noop_pre_free = goslab_pre_free_is_noop(cls), first = false;
	size_t i;

	/* Clearing or poisoning each: a bounded hold of a raw lock. */
	if (!noop_pre_free)
		n = min_t(size_t, n, GOSLAB_BULK_HOOKED_RUN);
	raw_spin_lock(&s->free_lock);
	/*
	 * A span that gave kernel pages back (stable under the lock): an
	 * address in such a page may be anyone's now, so only the first
	 * object, which the caller looked up, is freed here.
	 */
	if (unlikely(s->released_kpages))
		n = min_t(size_t, n, 1);
	for (i = 0; i < n; i++) {
		unsigned long addr = (unsigned long)p[i];
		unsigned int idx;

		if (addr - s->base >= bytes || !mspan_object_at(s, addr, &idx))
			break;
		/*
		 * Decided under the lock it was checked under: freed again
		 * after the lock is dropped, a sweep could have made the
		 * slot someone else's.
		 */
		if (mspan_free_check(s, idx)) {
			*dup = true;
			break;
		}
		if (!noop_pre_free)
			goslab_pre_free(cls, (void *)addr);
		first |= mspan_free_publish(s, idx);
	}
	raw_spin_unlock(&s->free_lock);
	if (first)
		mcentral_note_free(cls, s);
	__this_cpu_add(cls->slot->nfree, i);
	__this_cpu_add(cls->slot->nfree_remote, i);
	return i;
}

/*
 * The bulk free from @p[@i] on, past what the first run took: any span,
 * NULLs and misuse, with runs whenever this CPU's span comes up again.
 * Under the cpu lock, which it keeps.
 */
static noinline void free_bulk_general(struct goslab_class *cls, size_t n,
				       void **p, size_t i, unsigned long ip,
				       const char *api)
{
	struct mcache_slot *slot = this_cpu_ptr(cls->slot);
	struct mspan *last = NULL, *s;
	unsigned int idx;
	int err;

	for (; i < n; i++) {
		void *obj;
		unsigned long addr;

		/*
		 * A run in this CPU's span after a local free: the span's
		 * pages are all there while it is cached (only uncached
		 * spans are scavenged).
		 */
		if (last && last == slot->span && !last->released_kpages) {
			size_t run = free_bulk_run(cls, last, p + i, n - i);

			slot->nfree += run;
			i += run;
			if (i == n)
				break;
		}
		/* One load: known non-NULL below, as goslab_free_index() needs. */
		obj = p[i];
		addr = (unsigned long)obj;
		if (ZERO_OR_NULL_PTR(obj))
			continue;
		err = 0;
		/*
		 * Runs of objects from one span skip the arena lookup, unless
		 * it gave pages back: their addresses may be another span's.
		 */
		if (last && addr - last->base < mspan_limit(last) - last->base &&
		    !READ_ONCE(last->released_kpages)) {
			s = last;
			if (unlikely(!mspan_object_at(s, addr, &idx)))
				err = GOSLAB_ERR_INTERIOR;
		} else {
			s = goslab_object_span(obj, &idx, &err);
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
			if (slot->span != s) {
				bool dup = false;
				size_t run = free_bulk_remote_run(cls, s, p + i,
								  n - i, &dup);

				last = NULL;
				i += run;
				if (dup) {
					goslab_report(GOSLAB_ERR_DOUBLE_FREE,
						      p[i], ip, api);
					continue;
				}
				if (run) {
					i--;
					continue;
				}
			}
			err = -goslab_free_index(cls, s, idx, obj);
		}
		if (unlikely(err))
			goslab_report(err, obj, ip, api);
	}
}

/**
 * goslab_free_bulk_class() - free objects of one class, the cpu lock once
 * @cls: the class they must belong to
 * @n: how many
 * @p: the objects; NULL and ZERO_SIZE_PTR entries are skipped
 * @ip: the caller's return address, named in reports
 * @api: the function the caller called, named in reports
 *
 * Context: any context but NMI (on PREEMPT_RT: not hardirq, nor with IRQs
 * or preemption off).
 */
void goslab_free_bulk_class(struct goslab_class *cls, size_t n, void **p,
			    unsigned long ip, const char *api)
{
	struct mcache_slot *slot;
	unsigned long flags;
	size_t i = 0;
	u64 since;

	local_lock_irqsave(&goslab_cpu_lock, flags);
	since = goslab_irqsoff_begin();
	/* For owner tracking: one store, cheaper than a test. */
	goslab_track_free_caller(ip);
	slot = this_cpu_ptr(cls->slot);
	/*
	 * The span this CPU caches first: objects freed soon after their
	 * allocation are in it, and need no arena lookup (a cached span's
	 * pages are its own). Not goslab_emptymspan: every CPU reads it,
	 * and the run would write its count.
	 */
	if (slot->span != &goslab_emptymspan &&
	    !slot->span->released_kpages) {
		if (goslab_pre_free_is_noop(cls))
			i = __free_bulk_run(cls, slot->span, p, n, true);
		else
			i = free_bulk_run_hooked(cls, slot->span, p, n);
		slot->nfree += i;
	}
	if (unlikely(i < n))
		free_bulk_general(cls, n, p, i, ip, api);
	goslab_irqsoff_end(GOSLAB_IRQSOFF_BULK, since);
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
}

/* goslab_cache_free_bulk() of one object, out of line (a tail call). */
static noinline void cache_free_bulk_one(struct goslab_cache *c, void *obj,
					 unsigned long ip)
{
	free_object(obj, ip, &c->cls, "goslab_cache_free_bulk");
}

/**
 * goslab_cache_free_bulk() - free @n objects at once
 * @c: the cache they came from
 * @n: how many
 * @p: the objects; each is checked as by goslab_cache_free()
 *
 * Context: any context but NMI (on PREEMPT_RT: not hardirq, nor with IRQs
 * or preemption off).
 */
void goslab_cache_free_bulk(struct goslab_cache *c, size_t n, void **p)
{
	/* One object: the single free's path, which saves no register. */
	if (n == 1)
		cache_free_bulk_one(c, p[0], _RET_IP_);
	else
		goslab_free_bulk_class(&c->cls, n, p, _RET_IP_, __func__);
}
EXPORT_SYMBOL_GPL(goslab_cache_free_bulk);

/**
 * goslab_object_size() - the usable size of the object at @p
 * @p: an object
 * @ip: the caller's return address, named in reports
 * @api: the function the caller called, named in reports
 * @tiny: set when @p is a tiny object (KASAN checks those per block)
 *
 * Context: any context but NMI (on PREEMPT_RT: not hardirq, nor with IRQs
 * or preemption off).
 * Return: the size, or 0 when @p is not an object handed out and not
 * freed (reported).
 */
size_t goslab_object_size(const void *p, unsigned long ip, const char *api,
			  bool *tiny)
{
	unsigned int idx;
	struct mspan *s;
	size_t size = 0;
	int err = 0;

	rcu_read_lock();
	s = goslab_object_span(p, &idx, &err);
	*tiny = s && idx == UINT_MAX;
	if (!s)
		size = 0;
	else if (*tiny)
		size = s->cls->ops->object_size(s, p, &err);
	else if (!s->cls)
		size = READ_ONCE(s->nfreed) ? 0 : s->elemsize;
	else if (mspan_slot_live_locked(s, idx))
		size = s->elemsize;
	rcu_read_unlock();
	if (!size)
		goslab_report(err ?: GOSLAB_ERR_DOUBLE_FREE, p, ip, api);
	return size;
}
