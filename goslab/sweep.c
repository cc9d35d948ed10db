// SPDX-License-Identifier: GPL-2.0
/*
 * sweep.c - sweeping across span classes, and the sweep credit.
 *
 * Go's GC leaves every span unswept at the start of a cycle; the sweeper
 * then visits them before they are reused, paced by "sweep credit" so that
 * sweeping finishes before the heap reaches its goal. goslab has no cycle:
 * a span becomes unswept when it receives a free after its last sweep
 * (mcentral_note_free()), and goslab_unswept_pages counts the pages of
 * every class waiting on an unswept list. That is the sweep debt.
 *
 * The credit, goslab_deduct_sweep_credit(), is charged to every
 * allocation that takes pages from mheap (a class growing, a large
 * object). Go sweeps sweepPagesPerByte pages per byte allocated, where
 * the rate is the unswept pages over the heap distance left before the
 * goal. goslab's distance is the free pages mheap holds: while they
 * last, taking n pages first sweeps n * unswept / free pages, so the debt
 * is paid off by the time the free pages run out; when they do not cover
 * n (the heap is about to grow), everything unswept is swept first, until
 * mheap has n free pages. Spans of any class that sweep to empty go back
 * to mheap on the way, so one class's freed memory serves another before
 * goslab takes a page from the page allocator. The allocating context
 * may have IRQs off (GFP_ATOMIC, hardirq), so one allocation sweeps at
 * most GOSLAB_CREDIT_BUDGET spans and leaves the rest of the debt to the
 * background sweeper.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/notifier.h>
#include <linux/oom.h>
#include <linux/ratelimit.h>
#include <linux/workqueue.h>
#include "internal.h"

atomic_long_t goslab_unswept_pages = ATOMIC_LONG_INIT(0);
EXPORT_SYMBOL_IF_KUNIT(goslab_unswept_pages);

static atomic_t sweep_cursor = ATOMIC_INIT(0);
static atomic_long_t credit_pages_swept = ATOMIC_LONG_INIT(0);

/*
 * Go's sweepone: every span class is visited, starting a little further
 * along the class list each call so that no class waits on another.
 * @waiting as for mcentral_sweepone().
 */
static unsigned long __goslab_sweepone(bool *waiting)
{
	unsigned int skip = atomic_inc_return(&sweep_cursor) % 64, pass;
	struct goslab_class *cls;
	unsigned long n = 0;

	/* Start a little further along the list each time, then wrap. */
	rcu_read_lock();
	for (pass = 0; pass < 2 && !n; pass++) {
		unsigned int k = 0;

		for_each_goslab_class(cls) {
			if (pass == 0 && k++ < skip)
				continue;
			n = mcentral_sweepone(cls, waiting);
			if (n)
				break;
		}
	}
	rcu_read_unlock();
	return n;
}

/**
 * goslab_sweepone() - sweep one unswept span of any class
 *
 * Context: any but NMI.
 * Return: the pages of the span swept, 0 when nothing is unswept.
 */
unsigned long goslab_sweepone(void)
{
	return __goslab_sweepone(NULL);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_sweepone);

/**
 * goslab_deduct_sweep_credit() - sweep before taking pages from mheap
 * @npages: goslab pages about to leave mheap's free pool
 *
 * Go's deductSweepCredit, with the heap distance taken to be mheap's free
 * pages (see the comment at the top of this file), and a bound on the
 * spans one call sweeps.
 *
 * Context: any but NMI; no goslab lock held.
 */
void goslab_deduct_sweep_credit(unsigned int npages)
{
	long unswept = atomic_long_read(&goslab_unswept_pages);
	unsigned long free_pages, target, swept = 0, n;
	unsigned int spans = 0;
	bool growing;
	u64 since;

	if (unswept <= 0)
		return;
	/* Measured when the caller has IRQs off: then it all is. */
	since = irqs_disabled() ? goslab_irqsoff_begin() : 0;
	free_pages = mheap_free_pages();
	growing = free_pages < npages;
	if (growing)
		target = unswept;
	else
		target = DIV_ROUND_UP((unsigned long)npages * unswept,
				      free_pages);
	while (swept < target && spans < GOSLAB_CREDIT_BUDGET &&
	       (n = goslab_sweepone())) {
		swept += n;
		spans++;
		if (growing && mheap_free_pages() >= npages)
			break;
	}
	atomic_long_add(swept, &credit_pages_swept);
	goslab_irqsoff_end(GOSLAB_IRQSOFF_CREDIT, since);
	if (spans == GOSLAB_CREDIT_BUDGET)
		goslab_bg_kick();
}

/*
 * The background sweeper and scavenger (Go's bgsweep and bgscavenge): one
 * delayed work item, not a thread, queued when there is something to do
 * (a span became unswept, or mheap holds more free pages than its goal)
 * and run goslab_bg_delay() later so that work is batched. It sweeps every
 * unswept span (empty ones go back to mheap, beyond the one a class
 * keeps), then gives back the free pages above mheap_retained_goal().
 * Only the poor spans a churning class keeps in line to collect frees
 * (see mcentral_span_is_poor()) wait: those that joined the line less
 * than goslab_bg_delay() ago are left, and the work runs again that much
 * later, so that every unswept span is swept within two delays of its
 * first free unless a refill took it first.
 */
static void goslab_bg_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(goslab_bg_work, goslab_bg_work_fn);
static bool goslab_bg_stopped = true;
static atomic_t goslab_bg_paused = ATOMIC_INIT(0);
/*
 * Held by the shrinker's scan: goslab_bg_pause() waits on it, so that the
 * reclaim path (kswapd, direct reclaim) leaves goslab quiescent too.
 */
static DEFINE_MUTEX(goslab_shrinker_mutex);
static atomic_long_t bg_pages_swept = ATOMIC_LONG_INIT(0);
static atomic_long_t bg_kpages_released = ATOMIC_LONG_INIT(0);

/* Stopped, or paused: a kick may have queued the work just before. */
/* Held by a run of the RCU work (rcu.c): goslab_bg_pause() waits on it. */
static DEFINE_MUTEX(goslab_bg_rcu_mutex);

/**
 * goslab_bg_rcu_begin() - start a run of the RCU work, unless paused
 *
 * The RCU work changes spans as the sweeper does, so goslab_bg_pause()
 * holds it too: it waits for a run in flight, and runs begun after it
 * do nothing.
 *
 * Context: process context; sleeps.
 * Return: true when the run may go on; it ends with goslab_bg_rcu_end().
 */
bool goslab_bg_rcu_begin(void)
{
	mutex_lock(&goslab_bg_rcu_mutex);
	if (!atomic_read(&goslab_bg_paused))
		return true;
	mutex_unlock(&goslab_bg_rcu_mutex);
	return false;
}

/**
 * goslab_bg_rcu_end() - end a run goslab_bg_rcu_begin() let go on
 */
void goslab_bg_rcu_end(void)
{
	mutex_unlock(&goslab_bg_rcu_mutex);
}

static bool goslab_bg_held(void)
{
	return READ_ONCE(goslab_bg_stopped) || atomic_read(&goslab_bg_paused);
}

static void goslab_bg_work_fn(struct work_struct *work)
{
	unsigned long swept = 0, n, free_pages, goal, batch = 0, kpages = 0;
	bool waiting = false;

	/* Type-safe spans out of their grace period: heap pages again. */
	if (!goslab_bg_held())
		mheap_release_rcu_spans();
	while (!goslab_bg_held() && (n = __goslab_sweepone(&waiting))) {
		swept += n;
		if (++batch % 64 == 0)
			cond_resched();
	}
	atomic_long_add(swept, &bg_pages_swept);
	/* Spans left to collect frees: swept on a later run, once old. */
	if (waiting && !goslab_bg_held())
		queue_delayed_work(system_unbound_wq, &goslab_bg_work,
				   goslab_bg_delay());
	free_pages = mheap_free_pages();
	goal = mheap_retained_goal();
	if (!goslab_bg_held() && free_pages > goal) {
		kpages = mheap_scavenge_pages(free_pages - goal);
		atomic_long_add(kpages, &bg_kpages_released);
	}
	trace_goslab_bg_work(swept, kpages, waiting);
}

/**
 * goslab_bg_kick() - queue the background sweeper if it has work
 *
 * Cheap when it is already queued: one flag test.
 *
 * Context: any but NMI.
 */
void goslab_bg_kick(void)
{
	/* goslab_bg_stop() waits for a grace period: see there. */
	rcu_read_lock();
	if (READ_ONCE(goslab_bg_stopped) || atomic_read(&goslab_bg_paused) ||
	    delayed_work_pending(&goslab_bg_work))
		goto out;
	if (atomic_long_read(&goslab_unswept_pages) > 0 ||
	    mheap_free_pages() > mheap_retained_goal() ||
	    mheap_rcu_spans_due())
		queue_delayed_work(system_unbound_wq, &goslab_bg_work,
				   goslab_bg_delay());
out:
	rcu_read_unlock();
}

/**
 * goslab_bg_pause() - keep the background work and the shrinker from running
 *
 * For the validators and the tests that look at spans in a given state:
 * they need goslab quiescent. While paused, the shrinker's scan returns
 * SHRINK_STOP. Pauses nest.
 *
 * Context: process context; sleeps.
 */
void goslab_bg_pause(void)
{
	atomic_inc(&goslab_bg_paused);
	cancel_delayed_work_sync(&goslab_bg_work);
	/* A scan or an RCU run already past its pause check finishes first. */
	mutex_lock(&goslab_shrinker_mutex);
	mutex_unlock(&goslab_shrinker_mutex);
	mutex_lock(&goslab_bg_rcu_mutex);
	mutex_unlock(&goslab_bg_rcu_mutex);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_bg_pause);

/**
 * goslab_bg_resume() - undo goslab_bg_pause(), and queue pending work
 */
void goslab_bg_resume(void)
{
	if (atomic_dec_and_test(&goslab_bg_paused))
		goslab_bg_kick();
}
EXPORT_SYMBOL_IF_KUNIT(goslab_bg_resume);

/*
 * Memory pressure: a shrinker whose count is goslab's cached free memory
 * (free heap pages and the empty spans classes keep) and whose scan
 * sweeps, gives the empty spans to mheap and the heap's free pages to the
 * page allocator.
 */
static struct shrinker *goslab_shrinker;
static atomic_long_t shrinker_kpages_released = ATOMIC_LONG_INIT(0);

/**
 * goslab_shrinker_count() - the shrinker's count_objects
 *
 * Return: kernel pages goslab could give back now.
 */
VISIBLE_IF_KUNIT unsigned long goslab_shrinker_count(void)
{
	unsigned long pages = mheap_free_pages();
	struct goslab_class *cls;

	rcu_read_lock();
	for_each_goslab_class(cls)
		pages += READ_ONCE(cls->central.nempty) * cls->npages;
	rcu_read_unlock();
	return pages * GOSLAB_KPAGES_PER_PAGE;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_shrinker_count);

/**
 * goslab_shrinker_scan() - the shrinker's scan_objects
 * @nr_kpages: kernel pages the kernel asks for
 *
 * Return: kernel pages given back.
 */
VISIBLE_IF_KUNIT unsigned long goslab_shrinker_scan(unsigned long nr_kpages)
{
	struct goslab_class *cls;
	unsigned long kpages;
	unsigned int spans;

	/*
	 * Sweep to find spans that emptied, a bounded number per scan:
	 * reclaim calls again while there is memory to give back, and the
	 * background sweeper does the rest.
	 */
	for (spans = 0; spans < READ_ONCE(goslab_sweep_budget) &&
	     goslab_sweepone(); spans++)
		cond_resched();
	rcu_read_lock();
	for_each_goslab_class(cls)
		mcentral_release_empty(cls);
	rcu_read_unlock();
	kpages = mheap_scavenge_pages(DIV_ROUND_UP(nr_kpages,
						   GOSLAB_KPAGES_PER_PAGE));
	atomic_long_add(kpages, &shrinker_kpages_released);
	trace_goslab_shrinker_scan(nr_kpages, spans, kpages);
	return kpages;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_shrinker_scan);

static unsigned long goslab_count_objects(struct shrinker *sh,
					  struct shrink_control *sc)
{
	return goslab_shrinker_count() ?: SHRINK_EMPTY;
}

static unsigned long goslab_scan_objects(struct shrinker *sh,
					 struct shrink_control *sc)
{
	unsigned long kpages;

	if (!mutex_trylock(&goslab_shrinker_mutex))
		return SHRINK_STOP;
	if (atomic_read(&goslab_bg_paused)) {
		mutex_unlock(&goslab_shrinker_mutex);
		return SHRINK_STOP;
	}
	kpages = goslab_shrinker_scan(sc->nr_to_scan);
	mutex_unlock(&goslab_shrinker_mutex);
	sc->nr_scanned = kpages;
	return kpages ?: SHRINK_STOP;
}

/*
 * The OOM notifier, a last-chance shrink. out_of_memory() calls it before
 * the OOM killer chooses a victim; the kernel calls no notifier for a
 * memory cgroup's OOM, so there goslab gives back only what its shrinker
 * does. Everything unswept is swept, every empty span and every free heap
 * page goes back, whatever the tunables keep; the CPUs' caches are left
 * (flushing them waits on each CPU). What it gave back spares a victim
 * (out_of_memory() returns and the allocation is retried), but at most
 * once a second: a notifier cannot see the OOM's nodes or constraint,
 * and a goslab user churning meanwhile always leaves something to give
 * back, which must not hold the killer off for good.
 *
 * Like the shrinker's scan it takes no goslab mutex but the shrinker's,
 * with a trylock: the task out of memory may be inside goslab, holding
 * goslab_class_mutex (a cache being created) or the shrinker's own.
 */
static atomic_long_t oom_calls = ATOMIC_LONG_INIT(0);
static atomic_long_t oom_kpages_released = ATOMIC_LONG_INIT(0);
/* When the notifier last told out_of_memory() it freed something. */
static unsigned long oom_last_claim;
static bool oom_claimed;
static DEFINE_RATELIMIT_STATE(oom_report_rs, 5 * HZ, 8);

/* Classes named in the summary: those holding the most memory. */
#define GOSLAB_OOM_TOP_CLASSES	3

struct oom_class {
	const char *name;	/* valid under rcu_read_lock() */
	unsigned long bytes;
	unsigned long live;
};

static void goslab_oom_top(struct oom_class *top, unsigned int n)
{
	struct goslab_class_stats st;
	struct goslab_class *cls;
	unsigned int i;

	memset(top, 0, n * sizeof(*top));
	for_each_goslab_class(cls) {
		unsigned long bytes;

		goslab_read_class_stats(cls, &st);
		bytes = st.pages * GOSLAB_PAGE_SIZE;
		if (bytes <= top[n - 1].bytes)
			continue;
		for (i = n - 1; i > 0 && top[i - 1].bytes < bytes; i--)
			top[i] = top[i - 1];
		top[i].name = cls->name;
		top[i].bytes = bytes;
		top[i].live = st.live;
	}
}

/**
 * goslab_oom_release() - the OOM notifier's shrink, and its report
 *
 * Context: process context; may sleep. Not with goslab paused.
 * Return: kernel pages given back.
 */
VISIBLE_IF_KUNIT unsigned long goslab_oom_release(void)
{
	struct oom_class top[GOSLAB_OOM_TOP_CLASSES];
	struct goslab_memstats ms;
	struct goslab_class *cls;
	unsigned long kpages, n = 0, swept, pages = 0;
	unsigned int i;

	while ((swept = goslab_sweepone())) {
		pages += swept;
		if (++n % 64 == 0)
			cond_resched();
	}
	rcu_read_lock();
	for_each_goslab_class(cls)
		mcentral_release_empty(cls);
	rcu_read_unlock();
	kpages = mheap_scavenge();
	atomic_long_inc(&oom_calls);
	atomic_long_add(kpages, &oom_kpages_released);

	goslab_read_memstats(&ms);
	trace_goslab_oom(pages, kpages, ms.held);
	/* Under oom_lock, which every allocator out of memory waits on. */
	if (!kpages || !__ratelimit(&oom_report_rs))
		return kpages;
	pr_info("out of memory: gave back %lu KiB; holding %lu KiB, %lu KiB of it live objects\n",
		kpages * (PAGE_SIZE / SZ_1K), ms.held / SZ_1K,
		ms.bytes[GOSLAB_MEM_LIVE] / SZ_1K);
	rcu_read_lock();
	goslab_oom_top(top, ARRAY_SIZE(top));
	for (i = 0; i < ARRAY_SIZE(top) && top[i].bytes; i++)
		pr_info("out of memory: class %s holds %lu KiB, %lu objects live\n",
			top[i].name, top[i].bytes / SZ_1K, top[i].live);
	rcu_read_unlock();
	return kpages;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_oom_release);

static int goslab_oom_notify(struct notifier_block *nb, unsigned long unused,
			     void *parm)
{
	unsigned long *freed = parm;

	if (!mutex_trylock(&goslab_shrinker_mutex))
		return NOTIFY_OK;
	if (!atomic_read(&goslab_bg_paused) && !READ_ONCE(goslab_bg_stopped)) {
		unsigned long kpages = goslab_oom_release();

		/* oom_lock serializes the calls, and so these two. */
		if (kpages && (!oom_claimed ||
			       time_after(jiffies, oom_last_claim + HZ))) {
			*freed += kpages;
			oom_last_claim = jiffies;
			oom_claimed = true;
		}
	}
	mutex_unlock(&goslab_shrinker_mutex);
	return NOTIFY_OK;
}

static struct notifier_block goslab_oom_nb = {
	.notifier_call = goslab_oom_notify,
};

/**
 * goslab_bg_start() - start the background work, the shrinker, the OOM
 *	notifier
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int goslab_bg_start(void)
{
	int ret;

	goslab_shrinker = shrinker_alloc(0, "goslab");
	if (!goslab_shrinker)
		return -ENOMEM;
	goslab_shrinker->count_objects = goslab_count_objects;
	goslab_shrinker->scan_objects = goslab_scan_objects;
	ret = register_oom_notifier(&goslab_oom_nb);
	if (ret) {
		shrinker_free(goslab_shrinker);
		goslab_shrinker = NULL;
		return ret;
	}
	WRITE_ONCE(goslab_bg_stopped, false);
	shrinker_register(goslab_shrinker);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_bg_start);

/**
 * goslab_bg_stop() - drop the OOM notifier and the shrinker, stop the
 *	background work
 *
 * In the order the kernel's own subsystems tear down: the OOM notifier
 * and the shrinker go first (unregister_oom_notifier() and
 * shrinker_free() wait for a call in flight, which may free spans and so
 * queue the work), then the work is stopped for good. A
 * goslab_bg_kick() tests goslab_bg_stopped and queues inside one RCU
 * read-side section, so after the grace period every kick either saw
 * the flag or has queued the work, and the cancel below catches that
 * (disable_delayed_work_sync() does the same from 6.10 on; this works on
 * every kernel goslab supports). After it returns nothing runs in the
 * background that touches goslab's structures.
 *
 * Context: process context; sleeps.
 */
void goslab_bg_stop(void)
{
	/* Waits for a call in flight: the chain's rwsem. */
	unregister_oom_notifier(&goslab_oom_nb);
	shrinker_free(goslab_shrinker);
	goslab_shrinker = NULL;
	WRITE_ONCE(goslab_bg_stopped, true);
	synchronize_rcu();
	cancel_delayed_work_sync(&goslab_bg_work);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_bg_stop);

/**
 * goslab_read_sweep_stats() - who swept and gave back how much
 * @st: filled with the counts since load, and the work pending now
 *
 * Context: any; the counters are read one at a time, not as one snapshot.
 */
void goslab_read_sweep_stats(struct goslab_sweep_stats *st)
{
	st->unswept_pages = max(atomic_long_read(&goslab_unswept_pages), 0L);
	st->credit_pages_swept = atomic_long_read(&credit_pages_swept);
	st->bg_pages_swept = atomic_long_read(&bg_pages_swept);
	st->bg_kpages_released = atomic_long_read(&bg_kpages_released);
	st->shrinker_kpages_released =
		atomic_long_read(&shrinker_kpages_released);
	st->reclaimable_kpages = goslab_shrinker_count();
	st->oom_calls = atomic_long_read(&oom_calls);
	st->oom_kpages_released = atomic_long_read(&oom_kpages_released);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_read_sweep_stats);

#if IS_ENABLED(CONFIG_KUNIT)
/* For goslab's KUnit suites: they wait for, or on, the background work. */

/**
 * goslab_bg_flush() - run the background work now, if it is queued
 *
 * Context: process context; sleeps.
 */
void goslab_bg_flush(void)
{
	flush_delayed_work(&goslab_bg_work);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_bg_flush);

/**
 * goslab_bg_pending() - whether the background work is queued or running
 *
 * Return: true when it is.
 */
bool goslab_bg_pending(void)
{
	return delayed_work_pending(&goslab_bg_work) ||
	       work_busy(&goslab_bg_work.work);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_bg_pending);
#endif
