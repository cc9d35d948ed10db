// SPDX-License-Identifier: GPL-2.0
/*
 * rcu.c - frees after an RCU grace period, with no rcu_head.
 *
 * goslab reuses a freed slot only after its span is swept, so a free that
 * must wait for a grace period (kfree_rcu()'s) is a free whose sweep
 * waits. goslab_free_rcu() checks the object as any free does and marks
 * its slot in one of the span's two generations, each with a
 * grace-period cookie (get_state_synchronize_rcu()), as Go keeps two
 * sweep generations. The marks live in the span's descriptor: the call
 * allocates nothing and never sleeps.
 *
 * A small object's slot gets its free bit at once, so that every later
 * free of it (goslab_free(), goslab_free_rcu(), a bulk free) is a double
 * free to the checks that exist, and the free fast path tests nothing
 * new; the sweep leaves a marked slot alone, and nfreed does not count
 * it. A large object's span takes nfreed to 1 and stays. A tiny object's
 * bits are cleared at once (as goslab_free() clears them) and its block
 * is marked instead: the block is not freed, nor zeroed, before the mark
 * is folded. Nothing is written into the object before its grace period
 * has passed: init_on_free's zeroing and KASAN's poison come with the
 * fold (kmemleak is told at once to ignore the object, or for a tiny one
 * to forget it, since its owner no longer points at it).
 *
 * Generations. Each has a cookie, that of its latest free. A free joins
 * the older one (mspan.rcu_older) while no grace period has started since
 * that generation's cookie was taken (same_state_synchronize_rcu()):
 * joining changes nothing it waits for. Otherwise it joins the younger
 * one, whose cookie moves on to the free's. Once the older one's grace
 * period has passed it is folded (its slots become ordinary frees, which
 * the next sweep makes allocatable) and the younger one becomes the
 * older, with its own cookie, often passed already. So the frees of a
 * span made between two grace-period starts (a burst, a flood) wait for
 * one grace period after them; a free waits at most for the older
 * generation's grace period and then for the younger's, which later frees
 * move on until the older is folded: it is folded within four grace
 * periods of the call, plus two runs of the work (each cookie needs at
 * most the grace period in progress and one more), and sooner where
 * frees keep coming (they fold what is due, below).
 *
 * The work. The first pending free of a span queues it (rcu_queued) on a
 * lock-free list, and the first span queued arms one call_rcu() of a
 * static rcu_head, which starts a grace period if none is in progress and
 * queues the work at its end. The work folds what is due and arms again
 * while any span waits. A queued span is never given back: its pending
 * slots (and a tiny span's marked blocks) are allocated.
 *
 * Locking: rcu_mutex serializes the work and goslab_rcu_barrier() (the
 * waiting list is theirs); a span's marks, counts and cookies are under
 * its free_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>
#include "internal.h"

/* Spans whose first pending free came since the work last ran. */
static LLIST_HEAD(rcu_incoming);
/* Spans the work has seen and that still wait; under rcu_mutex. */
static struct llist_node *rcu_waiting;
static DEFINE_MUTEX(rcu_mutex);

static struct rcu_head rcu_wake_head;
static unsigned long rcu_wake_armed;
static bool rcu_stopped;

static void goslab_rcu_work_fn(struct work_struct *work);
static DECLARE_WORK(goslab_rcu_work, goslab_rcu_work_fn);
static struct workqueue_struct *goslab_rcu_wq;

/* goslab_free_rcu() calls accepted, and frees folded since load. */
atomic_long_t goslab_rcu_calls = ATOMIC_LONG_INIT(0);
static atomic_long_t rcu_folded = ATOMIC_LONG_INIT(0);
static atomic_long_t rcu_work_runs = ATOMIC_LONG_INIT(0);

static void goslab_rcu_wake(struct rcu_head *head)
{
	clear_bit(0, &rcu_wake_armed);
	if (!READ_ONCE(rcu_stopped))
		queue_work(goslab_rcu_wq, &goslab_rcu_work);
}

/**
 * goslab_rcu_arm() - make sure the work runs after a grace period
 *
 * One call_rcu() in flight at a time.
 *
 * Context: any context but NMI; no free_lock held.
 */
void goslab_rcu_arm(void)
{
	if (!test_and_set_bit(0, &rcu_wake_armed))
		call_rcu(&rcu_wake_head, goslab_rcu_wake);
}

/**
 * mspan_rcu_queue() - the first pending free of @s queues it for the work
 * @s: the span; its free_lock held
 *
 * Return: true when the caller must arm the work (goslab_rcu_arm()) once
 * the lock is dropped: the list was empty.
 */
bool mspan_rcu_queue(struct mspan *s)
{
	lockdep_assert_held(&s->free_lock);
	s->rcu_queued = true;
	return llist_add(&s->rcu_node, &rcu_incoming);
}

/*
 * A tiny block whose mark in generation @g is folded: freed now if its
 * objects are all gone and no younger mark waits, else left to the last
 * free of its objects (or the younger mark). Returns whether it was
 * freed.
 */
static bool rcu_fold_tiny_block(struct mspan *s, unsigned int g,
				unsigned int i, struct rcu_fold *f)
{
	void *block = (void *)(s->base + (unsigned long)i * s->elemsize);

	if (test_bit(i, mspan_rcu_bits(s, g ^ 1)) || atomic_read(&s->tiny[i]))
		return false;
	atomic_long_sub(s->elemsize, &goslab_rcu_pending_bytes);
	/* Marked blocks are allocated and have no free bit (mspan.h). */
	if (mspan_free_check(s, i)) {
		GOSLAB_WARN_ON_ONCE(1);
		return false;
	}
	if (want_init_on_free())
		memset(block, 0, s->elemsize);
	goslab_kasan_poison(block, s->elemsize, GOSLAB_KASAN_FREED);
	f->note_free |= mspan_free_publish(s, i);
	return true;
}

/*
 * Slots a fold takes per hold of free_lock when each is cleared or
 * poisoned, as GOSLAB_BULK_HOOKED_RUN bounds a bulk free's run.
 */
#define GOSLAB_RCU_FOLD_HOOKED	64

/*
 * Fold generation @g of @s, whose grace period has passed: its objects
 * are freed as a remote free frees them (a tiny block, when its objects
 * are all gone). When each object is cleared or poisoned, at most
 * *@budget of them, which this lowers. Under free_lock. Returns true
 * when the generation is empty.
 */
static bool rcu_fold_gen(struct mspan *s, unsigned int g, struct rcu_fold *f,
			 unsigned int *budget)
{
	unsigned long *bits = mspan_rcu_bits(s, g);
	struct goslab_class *cls = s->cls;
	unsigned int i, n = 0, marks = 0;
	bool hooked;

	if (!cls) {
		/* A large span: the object goes with it, after the lock. */
		f->release_large = true;
		atomic_long_dec(&goslab_large_rcu_pending);
		__clear_bit(0, bits);
		s->rcu_count[g] = 0;
		atomic_long_inc(&rcu_folded);
		return true;
	}
	hooked = s->tiny ? want_init_on_free() || IS_ENABLED(CONFIG_KASAN_GENERIC) :
			   !goslab_pre_free_is_noop(cls);
	/* Who called goslab_free_rcu() is not known here. */
	if (hooked)
		goslab_track_free_caller(0);
	for_each_set_bit(i, bits, s->nelems) {
		if (hooked && marks == *budget)
			break;
		__clear_bit(i, bits);
		marks++;
		if (s->tiny) {
			n += rcu_fold_tiny_block(s, g, i, f);
			continue;
		}
		if (hooked)
			goslab_pre_free(cls, (void *)(s->base +
					(unsigned long)i * s->elemsize));
		n++;
	}
	if (!s->tiny) {
		/* The free bits are set already: count them now. */
		f->note_free |= !s->nfreed && n;
		WRITE_ONCE(s->nfreed, s->nfreed + n);
		atomic_long_sub((unsigned long)n * s->elemsize,
				&goslab_rcu_pending_bytes);
		atomic_long_sub(n, &cls->rcu_pending);
	}
	s->rcu_count[g] -= marks;
	atomic_long_add(marks, &rcu_folded);
	if (hooked)
		*budget -= marks;
	if (n) {
		__this_cpu_add(cls->slot->nfree, n);
		__this_cpu_add(cls->slot->nfree_remote, n);
	}
	return !s->rcu_count[g];
}

/*
 * Fold every generation of @s whose grace period has passed, closing the
 * younger one whenever the older is empty, within *@budget (see
 * rcu_fold_gen()). Under the cpu lock (the per-CPU counters) and
 * free_lock; *@f says what is left to do once they are dropped
 * (rcu_fold_note(), rcu_fold_release()). Returns true when the budget ran out with more
 * due.
 */
static bool mspan_rcu_fold_locked(struct mspan *s, struct rcu_fold *f,
				  unsigned int *budget)
{
	lockdep_assert_held(&s->free_lock);
	for (;;) {
		unsigned int g = s->rcu_older;

		if (!s->rcu_count[g]) {
			if (!s->rcu_count[g ^ 1])
				return false;
			/* The younger becomes the older, with its cookie. */
			s->rcu_older = g ^ 1;
			continue;
		}
		if (!poll_state_synchronize_rcu(s->rcu_cookie[g]))
			return false;
		if (!rcu_fold_gen(s, g, f, budget))
			return true;
	}
}

/*
 * What a fold leaves for after free_lock: the first free since the
 * span's sweep tells mcentral. Under the cpu lock, which keeps the
 * descriptor readable.
 */
static void rcu_fold_note(struct mspan *s, const struct rcu_fold *f)
{
	if (f->note_free)
		mcentral_note_free(s->cls, s);
}

/* A folded large object's span goes back; no goslab lock held. */
static void rcu_fold_release(struct mspan *s, const struct rcu_fold *f)
{
	if (f->release_large) {
		atomic_long_sub((long)s->npages * GOSLAB_PAGE_SIZE,
				&goslab_rcu_pending_bytes);
		goslab_release_large(s);
	}
}

/**
 * mspan_rcu_fold_before_mark_slow() - fold what is due before a new free
 * @s: a small or tiny span whose older generation's cookie has passed;
 *	the cpu lock and its free_lock held
 *
 * goslab_free_rcu() folds the span's due generations itself (at most
 * GOSLAB_RCU_FOLD_HOOKED objects when each is cleared), so that the frees
 * of a busy span are not left to the work alone: the CPUs that free pay
 * for their frees' folding, as they would for goslab_free(). The
 * mspan_rcu_mark() that follows under the same hold keeps the span
 * pending, so it stays on the work's list without being released.
 *
 * Return: what to do after the lock, for goslab_rcu_mark_done().
 */
struct rcu_fold mspan_rcu_fold_before_mark_slow(struct mspan *s)
{
	unsigned int budget = GOSLAB_RCU_FOLD_HOOKED;
	struct rcu_fold f = {};

	mspan_rcu_fold_locked(s, &f, &budget);
	return f;
}

/*
 * The work's fold of @s, in holds of GOSLAB_RCU_FOLD_HOOKED objects when
 * each is cleared. Returns whether frees still wait. Under
 * rcu_read_lock(): once the locks are dropped and nothing waits, the
 * span may be released, and what follows must still read its
 * descriptor; while frees wait, it is not released.
 */
static bool mspan_rcu_fold_due(struct mspan *s)
{
	unsigned long flags;
	bool waits, more;

	do {
		unsigned int budget = GOSLAB_RCU_FOLD_HOOKED;
		struct rcu_fold f = {};

		rcu_read_lock();
		local_lock_irqsave(&goslab_cpu_lock, flags);
		raw_spin_lock(&s->free_lock);
		more = mspan_rcu_fold_locked(s, &f, &budget);
		waits = mspan_rcu_pending(s);
		if (!waits)
			s->rcu_queued = false;
		raw_spin_unlock(&s->free_lock);
		rcu_fold_note(s, &f);
		local_unlock_irqrestore(&goslab_cpu_lock, flags);
		rcu_fold_release(s, &f);
		rcu_read_unlock();
		if (more)
			cond_resched();
	} while (more);
	return waits;
}

/*
 * One pass over the spans that wait: fold what is due. Returns whether
 * any still waits. Under rcu_mutex.
 */
static bool goslab_rcu_process(void)
{
	struct llist_node *node, *next, *keep = NULL;
	unsigned long n;

	lockdep_assert_held(&rcu_mutex);
	node = llist_del_all(&rcu_incoming);
	/* Append the waiting list: order does not matter. */
	while (rcu_waiting) {
		next = rcu_waiting->next;
		rcu_waiting->next = node;
		node = rcu_waiting;
		rcu_waiting = next;
	}
	for (n = 0; node; node = next) {
		struct mspan *s = llist_entry(node, struct mspan, rcu_node);
		bool waits;

		next = node->next;
		waits = mspan_rcu_fold_due(s);
		/* Past this point a span that no longer waits may be gone. */
		if (waits) {
			node->next = keep;
			keep = node;
		}
		if (!(++n % 64))
			cond_resched();
	}
	rcu_waiting = keep;
	return keep || !llist_empty(&rcu_incoming);
}

static void goslab_rcu_work_fn(struct work_struct *work)
{
	bool waits = true;

	/* The validators need goslab quiescent: if paused, come back later. */
	if (goslab_bg_rcu_begin()) {
		mutex_lock(&rcu_mutex);
		waits = goslab_rcu_process();
		atomic_long_inc(&rcu_work_runs);
		mutex_unlock(&rcu_mutex);
		goslab_bg_rcu_end();
	}
	/* Under rcu_mutex: goslab_rcu_exit() stops it under that lock. */
	mutex_lock(&rcu_mutex);
	if (waits && !rcu_stopped)
		goslab_rcu_arm();
	mutex_unlock(&rcu_mutex);
}

/**
 * goslab_free_rcu() - free a goslab object after an RCU grace period
 * @p: an object from goslab_alloc(), goslab_alloc_tiny(), goslab_realloc()
 *	or goslab_cache_alloc(); NULL and ZERO_SIZE_PTR are no-ops
 *
 * kfree_rcu() without an rcu_head in the object: @p is freed once every
 * RCU read-side critical section that began before the call has ended.
 * Until then the object is untouched (init_on_free's zeroing and KASAN's
 * poison wait for the grace period), and freeing it again, by any
 * goslab free, is reported as a double free and ignored, as is a pointer
 * goslab did not hand out. Nothing is allocated and nothing sleeps; the
 * memory is reusable within four grace periods plus the background
 * work's latency (debugfs memory: rcu_pending).
 *
 * Context: any context but NMI (on PREEMPT_RT: not hardirq, nor with IRQs
 * or preemption off).
 */
void goslab_free_rcu(const void *p)
{
	goslab_free_rcu_object(p, _RET_IP_, __func__);
}
EXPORT_SYMBOL_GPL(goslab_free_rcu);

/*
 * Wait until every cookie taken so far has passed. Expedited first: the
 * caller (an unload, a cache's destruction) waits for it, and
 * rcupdate.rcu_normal makes it a normal grace period where IPIs are
 * unwelcome. An expedited grace period need not advance the polled
 * state every RCU flavour keeps, so a normal one follows when the cookie
 * says so; and not cond_synchronize_rcu(), which on Linux 6.1's Tiny RCU
 * does not advance it at all.
 */
static void rcu_barrier_wait(void)
{
	unsigned long cookie = get_state_synchronize_rcu();

	synchronize_rcu_expedited();
	if (!poll_state_synchronize_rcu(cookie))
		synchronize_rcu();
}

/**
 * goslab_rcu_barrier() - wait for every earlier goslab_free_rcu()
 *
 * Returns once every object passed to goslab_free_rcu() before the call
 * is freed and its slot reusable (the unswept spans of the moment are
 * swept; a CPU's own span is swept when it next refills), as a module
 * that freed objects with goslab_free_rcu() needs before it unloads or
 * destroys their cache. Frees made meanwhile may or may not be waited
 * for. The spans of GOSLAB_TYPESAFE_BY_RCU caches that emptied before the
 * call are back in the heap too, as SLUB's slabs are after rcu_barrier().
 *
 * Context: process context; sleeps.
 */
void goslab_rcu_barrier(void)
{
	unsigned long swept;
	unsigned int round;
	long unswept;

	might_sleep();
	mutex_lock(&rcu_mutex);
	/*
	 * Every call before ours is in an older generation of round 0, whose
	 * cookie moves no more, or in a younger one, whose cookie later
	 * frees may move until it becomes the older. A grace period later
	 * round 1 folds the former and makes the latter older ones; a grace
	 * period after that, round 2 folds those.
	 */
	for (round = 0; round < 3; round++) {
		if (!goslab_rcu_process())
			break;
		if (round < 2)
			rcu_barrier_wait();
	}
	mutex_unlock(&rcu_mutex);
	/*
	 * The folded slots are ordinary frees now; sweep the spans that
	 * wait for it, as many as were unswept (others' frees may keep
	 * adding more).
	 */
	unswept = atomic_long_read(&goslab_unswept_pages);
	while (unswept > 0 && (swept = goslab_sweepone())) {
		unswept -= swept;
		cond_resched();
	}
	/* Type-safe spans that emptied before the call: back in the heap. */
	if (mheap_rcu_spans_waiting()) {
		rcu_barrier();
		mheap_release_rcu_spans();
	}
}
EXPORT_SYMBOL_GPL(goslab_rcu_barrier);

/**
 * goslab_rcu_read_stats() - goslab_free_rcu()'s figures
 * @st: where to put them
 */
void goslab_rcu_read_stats(struct goslab_rcu_stats *st)
{
	st->calls = atomic_long_read(&goslab_rcu_calls);
	st->folded = atomic_long_read(&rcu_folded);
	st->pending_bytes = atomic_long_read(&goslab_rcu_pending_bytes);
	st->work_runs = atomic_long_read(&rcu_work_runs);
}

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * goslab_rcu_flush() - wait for a run of the RCU work in flight
 *
 * For the tests that watch the work fold frees by itself.
 */
void goslab_rcu_flush(void)
{
	flush_work(&goslab_rcu_work);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_rcu_flush);
#endif

/**
 * goslab_rcu_exit() - at unload: fold every pending free, stop the work
 *
 * Context: process context; sleeps.
 */
void goslab_rcu_exit(void)
{
	mutex_lock(&rcu_mutex);
	WRITE_ONCE(rcu_stopped, true);
	mutex_unlock(&rcu_mutex);
	/* The static rcu_head's callback, and the work it may queue. */
	rcu_barrier();
	cancel_work_sync(&goslab_rcu_work);
	goslab_rcu_barrier();
	destroy_workqueue(goslab_rcu_wq);
}

/**
 * goslab_rcu_init() - at load: the RCU work's workqueue
 *
 * WQ_MEM_RECLAIM: frees waiting for a grace period are folded under
 * memory pressure too, when no new worker thread can be made.
 *
 * Return: 0 or -ENOMEM.
 */
int goslab_rcu_init(void)
{
	goslab_rcu_wq = alloc_workqueue("goslab_rcu",
					WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	return goslab_rcu_wq ? 0 : -ENOMEM;
}
