/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goslab internals: Go's runtime allocator, in the kernel.
 *
 * Glossary (Go's names, kept):
 *
 *  page       an 8 KiB goslab page: two 4 KiB kernel pages on x86, so Go's
 *             size-class table applies unchanged. Every figure shown to a
 *             person (debugfs, benchmarks) counts 4 KiB kernel pages or
 *             bytes instead, so it compares directly with SLUB's.
 *  size class one of Go's 67 object sizes (8 B ... 32 KiB), each with the
 *             span size (1-10 pages) that keeps tail waste under 1/8.
 *  span class a size class and one bit (Go's noscan bit; here: whether
 *             the span's pages are __GFP_RECLAIMABLE). A goslab_class is
 *             one span class: its geometry, its mcentral and its slot in
 *             every CPU's mcache. Typed caches are span classes too.
 *  mspan      a run of pages carved into equal objects of one class (or
 *             holding one large object). Its allocation state is Go's:
 *             allocBits, freeindex and allocCache (the free slots of the
 *             64-slot window at freeindex, consumed with ctz).
 *  mcache     per CPU: one span per span class, allocated from without a
 *             lock by mspan_next_free_fast().
 *  mcentral   per span class: the spans not in any mcache, under a lock.
 *  mheap      the pages: chunks taken from alloc_pages(), carved into
 *             spans, and an index (the arena map) from an address to the
 *             span that owns it.
 *  pinned     a free slot of a span in use whose kernel page was given
 *             back by mspan_scavenge(): allocated for good, never handed
 *             out, until the span empties and goes back to mheap.
 *  page cache Go's pageCache: a CPU's window of up to 64 free heap pages
 *             (a base and a 64-bit bitmap), from which one-page spans are
 *             carved without the heap lock.
 *  sweep credit  sweeping charged to an allocation that takes pages from
 *             mheap (see sweep.c): unswept pages over free heap pages.
 *  sweep      folding the frees recorded on a span since its last sweep
 *             into its allocation bits, which makes those slots
 *             allocatable again (Go swaps in the mark bits).
 *
 * The walk (as in Go's malloc.go):
 *
 *   small: mcache slot -> mspan_next_free_fast() -> mspan_next_free()
 *          -> mcache_refill() -> mcentral_cache_span() (swept partial
 *          spans, then sweeping unswept ones) -> mcentral_grow() ->
 *          mheap_alloc_span() -> alloc_pages()
 *   large: mheap_alloc_span() directly, one object per span.
 *
 * Allocated objects and frees. A slot i of a small span is allocated iff
 * i < freeindex, or i is in the window at freeindex and its allocCache
 * bit is clear, or i is past the window and bit i of alloc_bits is set
 * (Go's rule: the window moves on only when its free slots are all
 * taken, so everything below freeindex is in use). An allocation clears
 * one allocCache bit and writes nothing else; mspan_alloc_count() is
 * the number of allocated slots. A free never touches the
 * allocation state, which belongs to the span's owner; it records itself
 * in one of two bitmaps, and the sweep folds them into the allocation
 * bits. A slot is live iff it is allocated and neither free bit is set.
 *
 *  - A free on the CPU whose mcache holds the span (the common case)
 *    checks the slot and sets bit i of local_free_bits under
 *    goslab_cpu_lock, no other lock and no atomic (mspan_free_check_local(), _publish_local()).
 *  - Any other free takes the span's free_lock (a raw spinlock, IRQs
 *    off), checks the slot and sets bit i of free_bits (nfreed counts
 *    them). The sweep and the scavenger take free_lock too, so a remote
 *    free's check and its bit are one step against them: a second free
 *    of a slot swept in between finds it free, never marks it again.
 *  - A local and a remote free of the same slot at the same moment can
 *    both set their bit (the local one looks at free_bits without a
 *    barrier). The sweep, which sees both bitmaps, frees such a slot
 *    once, reports the double free and takes the second free back out
 *    of the counters (mspan_sweep()'s @dup); until then the slow recount
 *    counts it apart (mspan_dup_frees()).
 *  - A bulk free (goslab_free_bulk_class()) frees runs of objects of one
 *    span with these same checks: the CPU's own span under its cpu lock,
 *    any other span under one hold of its free_lock. Within such a hold
 *    no sweep can release the span, so only the run's first object is
 *    looked up in the arena index, unless the span has given kernel
 *    pages back (their addresses may be anyone's); an object repeated
 *    in the run is reported as a double free under the lock its first
 *    free was published under. goslab_emptymspan, read by every CPU, is
 *    never written, not even with the value it holds.
 *  - goslab_free_rcu() checks a slot as a remote free does, under
 *    free_lock, sets its free bit without counting it in nfreed and
 *    marks it in the span's younger or older generation (rcu.c). Every
 *    check above sees the free bit, so any later free of the object is a
 *    double free; the sweep leaves a marked slot allocated, its free bit
 *    set. Once the generation's grace period has passed the RCU work
 *    clears the mark under free_lock and counts the slot in nfreed: an
 *    ordinary free from then on. A tiny block is marked instead of its
 *    object, and a marked block is freed only by that work.
 *
 * What a free writes into the object (init_on_free zeroing, KASAN
 * poison, kmemleak) happens after its checks (a pinned slot's page may
 * be gone) and before its bit is published (after that the slot may be
 * someone else's), on the owning CPU or under free_lock: the sweep
 * waits for free_lock, so no write lands after a slot is reused.
 *
 * Span states and owners (mspan.state, under the class's mcentral lock):
 *
 *   CACHED    in one CPU's mcache slot; only that CPU (its cpu lock) changes
 *             freeindex, alloc_cache and alloc_claimed, and sweeps it in
 *             place when it is used up and has frees (mcache_refill()).
 *   PARTIAL   on mcentral.partial: swept, has a free slot. Spans with no
 *             object at all sit at the tail, at most keep_empty (a tunable)
 *             of them per class (nempty); the rest go back to mheap.
 *   FULL      on mcentral.full: swept, no free slot.
 *   UNSWEPT   on mcentral.partial_unswept or full_unswept (Go's unswept
 *             sets; whether it had a free slot before the frees):
 *             received frees since its last sweep.
 *             The free that takes nfreed from 0 to 1 moves a PARTIAL or
 *             FULL span here (mcentral_note_free()); a CACHED span is
 *             swept when its CPU gives it back (mcentral_uncache_span()).
 *   LARGE     a large object's span, owned by the object; its free takes
 *             nfreed from 0 to 1 under free_lock, and only that free
 *             writes into the object and gives the span back.
 *   RCU_EMPTY a type-safe class's span that emptied, waiting a grace
 *             period (call_rcu()) before mheap_free_span() gives its pages
 *             back: on no list, still in the arena index with every slot
 *             free, so a free of a stale pointer into it is a double
 *             free. Its state is written under mheap.lock, with the
 *             heap's pages_rcu that counts it (the memory state
 *             rcu_pending). A type-safe class's spans in use are never
 *             scavenged (mspan_scavenge()): readers may read freed slots.
 *   DEAD      descriptor of a span given back to mheap. Freed (with its
 *             tiny words) only after an RCU grace period: every path
 *             that looks a pointer up in the arena index does so under
 *             the cpu lock, IRQs off or rcu_read_lock() and uses the span only
 *             there, so a double free or a stale pointer racing the
 *             span's release reads a descriptor that still exists, and a
 *             remote free that took nfreed from 0 to 1 may find the span
 *             released before it calls mcentral_note_free(), which then
 *             checks its state under the class's lock.
 *
 * Lock order: see "DOC: Lock order" below.
 *
 * Nothing sleeps under the spinning locks (on PREEMPT_RT: nothing takes
 * a sleeping lock, the page allocator or the slab allocator under the
 * raw ones). mcentral_grow() runs with no
 * lock held and IRQs in the caller's state, so that alloc_pages() can
 * sleep when gfp allows; the mcache slow path re-reads this_cpu state
 * after it. The sweep credit runs there too, taking one mcentral lock at
 * a time, for a bounded number of spans (GOSLAB_CREDIT_BUDGET) since the
 * caller may have IRQs off. The background sweeper and scavenger (a
 * delayed work item) and the shrinker take the same locks in the same
 * order, one span or one batch of pages per lock hold; goslab_bg_stop()
 * unregisters the shrinker and stops the work for good before anything
 * is torn down.
 *
 * Fast-path choice: goslab_cpu_lock around the mcache, which is IRQs off
 * (local_irq_save) and nothing more on !PREEMPT_RT without lockdep. Go's
 * allocation state is the span's alloc_cache, beside freeindex, plus
 * the slot's span pointer; SLUB's transaction-id scheme
 * commits one pointer with this_cpu_cmpxchg, and here would need a
 * double-word cmpxchg over a per-CPU copy of the allocation window and a
 * retry loop. Saving and restoring IRQ state is a few unlocked
 * instructions on x86 and makes hardirq allocation and free on the same
 * CPU safe without any atomic. The benchmark (make bench) measures it.
 * On PREEMPT_RT the lock sleeps and goslab is not for hardirq callers.
 *
 * Invariants sit above the structure they constrain, in the layer's
 * header, each naming its validator: mspan.h (mspan_is_valid()),
 * mcentral.h (mcentral_is_valid()), mheap.h (mheap_is_valid()) and
 * stats.h (the slow recount, goslab_read_stats_slow()).
 *
 * The fast paths' keys (sanitize.h): goslab_alloc_hooks is on while
 * init_on_alloc is, while an allocation event has a probe (trace.h's
 * registration callbacks) and while any class is tracked (track.c), and
 * likewise goslab_free_hooks for frees; each holder takes one reference.
 * Only while a key is off may a fast path skip goslab_post_alloc() or
 * goslab_pre_free(), the events and owner tracking. A path that reads a
 * key twice must not lose what it did after the first read (an object
 * taken: mcache_alloc_slow()).
 *
 * Every double free is detected exactly once: sequential ones at once,
 * racing ones at once or (local against remote) at the span's next
 * sweep; none is counted as a free.
 *
 * The layers' functions that goslab's KUnit suites (kunit/) call are
 * exported with EXPORT_SYMBOL_IF_KUNIT(): only in a kernel with KUnit,
 * in the EXPORTED_FOR_KUNIT_TESTING namespace. The two the benchmark
 * module needs in kernels without KUnit (goslab_validate(),
 * mheap_read_stats()) are in the GOSLAB_BENCH namespace. Neither is API.
 */

/**
 * DOC: Lock order
 *
 * Outer first. Outside all of goslab's: the kernel's oom_lock and the
 * OOM notifier chain's rwsem (the OOM notifier, sweep.c), the shrinker
 * core's locks. Sleeping locks: the control file's mutex
 * (control.c), the validators' problem_lock (stats.c: one
 * goslab_validate_into() at a time), goslab_shrinker_mutex (sweep.c:
 * held by the shrinker's scan and the OOM notifier, which take it with a
 * trylock so that reclaim never waits; goslab_bg_pause() takes it
 * briefly to wait for a scan in flight), goslab_class_mutex (mcentral.c: changes to the class
 * list, the slow recount, class observers; class.c flushes the tiny
 * blocks under it), track_mutex (track.c: turning a class's owner
 * tracking on or off, and the fast paths' key references that goes
 * with; taken under goslab_class_mutex when a class is created or
 * track_owners is set), cpus_read_lock() (the flushes of mcaches, page
 * caches and tiny blocks, and debugfs's counter clears),
 * goslab_cpu_work_mutex (mheap.c: one goslab_on_each_cpu() at a time,
 * with the mask of CPUs it queued work on; its work items take the
 * locks below on each CPU), goslab_bg_rcu_mutex (sweep.c: held by a run
 * of the RCU work, which goslab_bg_pause() waits for) before rcu_mutex
 * (rcu.c: the RCU work's list of spans, and goslab_rcu_barrier()).
 * rcu_spans_mutex (mheap.c: one mheap_release_rcu_spans() at a time, so
 * that a caller finding the due list empty knows the spans taken before
 * it are in the heap) is taken with none of goslab_class_mutex, the cpu
 * hotplug lock, goslab_bg_rcu_mutex or rcu_mutex held. Then
 * the spinning ones, every one taken with
 * IRQs disabled on !PREEMPT_RT because allocation and free work in
 * hardirq context there (on PREEMPT_RT, 1, 2 and mheap.lock are sleeping
 * locks and IRQs stay on; free_lock and the locks of 4 are raw):
 *
 *   1. goslab_cpu_lock (mheap.h; a local_lock_t, local_lock_irqsave()):
 *      the mcache (one CPU's slots), the CPU's page cache and its tiny
 *      block. The fast path takes no other lock and no locked
 *      instruction. A CPU that went offline runs nothing, so the cpuhp
 *      callback (goslab_cpu_dead()) empties all three from another CPU,
 *      holding that CPU's own cpu lock: it excludes nothing the dead CPU
 *      could do, but is what the layers below assert; debugfs/goslab/cpus
 *      reads them racily.
 *   2. mcentral.lock (one per span class): the four span lists, every
 *      span's state and list linkage, nspans, nempty, released_kpages and
 *      npinned; and the allocation state of every span of the class that
 *      is not CACHED (sweeping).
 *   3. mspan.free_lock (one span's at a time): its free_bits and nfreed,
 *      and the sweep and the scavenger against remote frees (see above).
 *      mheap.lock, beside it (never nested with it): the chunk list,
 *      each chunk's bitmaps, the heap page counters, refilling and
 *      flushing page caches, and writes to the arena index (except a
 *      page cache's own pages, written by its CPU). Pages go back to
 *      the buddy allocator under it (its zone->lock nests inside).
 *   4. problem_sink_lock (stats.c) and irqsoff_lock (stats.c), raw,
 *      innermost and never nested with each other: validators report
 *      under any of the above, and the end of a measured IRQs-off
 *      section (mcentral.lock, mheap.lock) records its length. The
 *      reports' rate limits are innermost too: goslab_report_rs
 *      (stats.c; misuse is reported with no goslab lock held, or
 *      under the cpu lock by the bulk free) and
 *      goslab_report_dup_frees()'s (under mcentral.lock
 *      or on the CPU sweeping its cached span).
 *
 * Checked against what lockdep records (scripts/goslab-lockorder after
 * every KUnit suite and the control-file tests, 4 CPUs, x86_64 debug
 * kernel): the control mutex and problem_lock before
 * goslab_shrinker_mutex, goslab_class_mutex and cpu_hotplug_lock;
 * goslab_class_mutex before cpu_hotplug_lock; cpu_hotplug_lock before
 * goslab_cpu_work_mutex, whose work items (the goslab_cpu workqueue)
 * take goslab_cpu_lock; goslab_cpu_lock (which /proc/lockdep names
 * "(null)": a per-CPU lock in module memory) before mcentral.lock,
 * free_lock, mheap.lock and irqsoff_lock; mcentral.lock before
 * free_lock, mheap.lock and irqsoff_lock; mheap.lock before
 * irqsoff_lock; problem_lock before problem_sink_lock; no other nesting
 * among goslab's locks. Kernel locks nest inside them: debugfs's inode
 * and dentry locks under goslab_class_mutex (a class's files come and go
 * with it), the console's under any (reports), a timer base's under
 * mcentral.lock (goslab_bg_kick()), zone->lock under mheap.lock.
 */
#ifndef _GOSLAB_INTERNAL_H
#define _GOSLAB_INTERNAL_H

#include "compat.h"

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/gfp.h>
#include <linux/kmemleak.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/percpu.h>
#include <linux/jump_label.h>
#include <linux/sched/clock.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/goslab.h>

/*
 * A state-machine precondition (Go's throw("...")): a WARN in kernels
 * built for testing (CONFIG_DEBUG_VM, or KUnit built in), where make
 * check turns any WARN into a failure; compiled out elsewhere, as
 * VM_WARN_ON_ONCE() is without CONFIG_DEBUG_VM.
 */
#if IS_ENABLED(CONFIG_DEBUG_VM) || IS_BUILTIN(CONFIG_KUNIT)
#define GOSLAB_WARN_ON_ONCE(cond)	WARN_ON_ONCE(cond)
#else
#define GOSLAB_WARN_ON_ONCE(cond)	BUILD_BUG_ON_INVALID(cond)
#endif

/* The layers, bottom up: each header may use those before it. */
#include "sizeclasses.h"
#include "tunables.h"
#include "mspan.h"
#include "mheap.h"
#include "stats.h"
#include "mcentral.h"
#include "class.h"
#include "trace.h"
#include "sanitize.h"
#include "mcache.h"
#include "sweep.h"

/* malloc.c */
void *goslab_alloc_caller(size_t size, gfp_t gfp, unsigned long ip);

/* free.c */
int goslab_free_object(const void *p, unsigned long ip,
		       struct goslab_class *expect, const char *api);
int goslab_free_slot(struct mspan *s, unsigned int idx);
void goslab_free_bulk_class(struct goslab_class *cls, size_t n, void **p,
			    unsigned long ip, const char *api);
size_t goslab_object_size(const void *p, unsigned long ip, const char *api,
			  bool *tiny);

/* free.c, for rcu.c */
int goslab_free_rcu_object(const void *p, unsigned long ip, const char *api);
void goslab_release_large(struct mspan *s);

/* rcu.c */
/**
 * struct goslab_rcu_stats - goslab_free_rcu()'s figures
 * @calls: goslab_free_rcu() calls that were accepted
 * @folded: frees (tiny: block marks) folded after their grace period
 * @pending_bytes: bytes waiting for a grace period
 * @work_runs: runs of the RCU work
 */
struct goslab_rcu_stats {
	unsigned long calls;
	unsigned long folded;
	long pending_bytes;
	unsigned long work_runs;
};

/* What a fold leaves to do once free_lock is dropped. */
struct rcu_fold {
	bool note_free;
	bool release_large;
};

extern atomic_long_t goslab_rcu_calls;

struct rcu_fold mspan_rcu_fold_before_mark_slow(struct mspan *s);
bool mspan_rcu_queue(struct mspan *s);
void goslab_rcu_arm(void);

/*
 * Frees of a span that skip the poll of its older generation's cookie
 * after one poll: each poll calls into RCU and nearly always finds the
 * grace period running, while a fold found one free later is as good.
 */
#define GOSLAB_RCU_POLL_SKIP	7

/**
 * mspan_rcu_fold_before_mark() - fold what is due before a new free
 * @s: a small or tiny span; the cpu lock and its free_lock held
 *
 * Polls the older generation's cookie at every GOSLAB_RCU_POLL_SKIP + 1st
 * free of the span, and folds what is due when it has passed (the work
 * folds whatever these polls miss).
 *
 * Return: what to do after the lock, for goslab_rcu_mark_done().
 */
static __always_inline struct rcu_fold
mspan_rcu_fold_before_mark(struct mspan *s)
{
	struct rcu_fold f = {};

	lockdep_assert_held(&s->free_lock);
	if (!s->rcu_count[s->rcu_older])
		return f;
	if (s->rcu_poll_skip) {
		s->rcu_poll_skip--;
		return f;
	}
	s->rcu_poll_skip = GOSLAB_RCU_POLL_SKIP;
	if (poll_state_synchronize_rcu(s->rcu_cookie[s->rcu_older]))
		f = mspan_rcu_fold_before_mark_slow(s);
	return f;
}

/**
 * mspan_rcu_mark() - put slot @idx of @s in the generation new frees join
 * @s: the span; its free_lock held
 * @idx: the slot (a tiny span's block)
 * @bytes: what the free keeps waiting, for the rcu_pending figure
 *
 * The older generation while no grace period has started since its
 * cookie was taken (or it is empty: then so is the younger, see
 * mspan_rcu_fold_locked()), else the younger, whose cookie becomes the
 * free's. The cookie is taken here, under free_lock and after the
 * caller made the object unreachable. A tiny block may be in both
 * generations: its marks count once per generation.
 *
 * Return: true when the caller must call goslab_rcu_arm() after
 * dropping the lock (the span is the first queued since the work ran).
 */
static __always_inline bool mspan_rcu_mark(struct mspan *s, unsigned int idx,
					   unsigned long bytes)
{
	unsigned long cookie = get_state_synchronize_rcu();
	unsigned int g = s->rcu_older;

	lockdep_assert_held(&s->free_lock);
	if (!s->rcu_count[g])
		s->rcu_poll_skip = GOSLAB_RCU_POLL_SKIP;
	else if (!same_state_synchronize_rcu(s->rcu_cookie[g], cookie))
		g ^= 1;
	s->rcu_cookie[g] = cookie;
	if (!__test_and_set_bit(idx, mspan_rcu_bits(s, g)))
		s->rcu_count[g]++;
	if (bytes)
		atomic_long_add(bytes, &goslab_rcu_pending_bytes);
	atomic_long_inc(&goslab_rcu_calls);
	if (likely(s->rcu_queued))
		return false;
	return mspan_rcu_queue(s);
}

/**
 * goslab_rcu_mark_done() - after a goslab_free_rcu() dropped free_lock
 * @s: the span
 * @f: from mspan_rcu_fold_before_mark()
 * @arm: from mspan_rcu_mark()
 *
 * The first free since the span's sweep (a fold's) tells mcentral.
 *
 * Context: the cpu lock held (the descriptor stays readable).
 */
static __always_inline void goslab_rcu_mark_done(struct mspan *s,
						 struct rcu_fold f, bool arm)
{
	if (unlikely(f.note_free))
		mcentral_note_free(s->cls, s);
	if (unlikely(arm))
		goslab_rcu_arm();
}

void goslab_rcu_read_stats(struct goslab_rcu_stats *st);
int goslab_rcu_init(void);
void goslab_rcu_exit(void);
#if IS_ENABLED(CONFIG_KUNIT)
void goslab_rcu_flush(void);
#endif

/* tiny.c */
extern struct goslab_class goslab_tiny_class;
int goslab_tiny_init(void);
void goslab_tiny_flush_dead_cpu(unsigned int cpu);
bool goslab_tiny_held_cpu(unsigned int cpu);
void goslab_tiny_stats(unsigned long *nalloc, unsigned long *nfree,
		       long *live_bytes, long *class_bytes);
#if IS_ENABLED(CONFIG_KUNIT)
void goslab_tiny_flush(void);
#endif

/* cache.c */
/**
 * struct goslab_cache - a typed cache
 * @cls: its span class (geometry, mcentral, per-CPU slots, constructor)
 * @object_size: the size asked for
 * @align: the alignment objects get
 * @flags: GOSLAB_* flags
 * @dead: destroyed with objects still live; kept so that their memory
 *	stays accounted, never allocated from again
 */
struct goslab_cache {
	struct goslab_class cls;
	unsigned int object_size;
	unsigned int align;
	unsigned int flags;
	bool dead;
};

struct goslab_cache *goslab_cache_of_class(struct goslab_class *cls);

/* The span class of a cache, for goslab's tests. */
static inline struct goslab_class *goslab_cache_class(struct goslab_cache *c)
{
	return &c->cls;
}

/* debugfs.c, control.c */
void goslab_debugfs_init(void);
void goslab_debugfs_exit(void);
void goslab_control_init(struct dentry *dir);
void goslab_control_exit(void);

#endif /* _GOSLAB_INTERNAL_H */
