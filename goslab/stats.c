// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - the fast counters, the slow recount and the validators.
 *
 * The fast counters are kept where they cost least: allocations per CPU
 * slot when a span leaves it (Go's mcache.refill accounting), frees per
 * CPU slot with this_cpu_inc(), spans per mcentral and pages in mheap.
 * goslab_read_stats_slow() is Go's ReadMemStatsSlow: it walks every span
 * in the heap, recounts live objects, spans and pages per class, and
 * compares them with the fast counters. With the validators of each layer
 * it is what the KUnit suites end every scenario with.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ratelimit.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include "internal.h"

static atomic_long_t goslab_errors[GOSLAB_NR_ERRORS];

/* Large objects allocated and freed since load (by malloc.c, free.c). */
atomic_long_t goslab_large_nmalloc, goslab_large_nfree;
atomic_long_t goslab_rcu_pending_bytes = ATOMIC_LONG_INIT(0);
EXPORT_SYMBOL_IF_KUNIT(goslab_rcu_pending_bytes);
atomic_long_t goslab_large_rcu_pending = ATOMIC_LONG_INIT(0);
EXPORT_SYMBOL_IF_KUNIT(goslab_large_rcu_pending);

/**
 * goslab_large_counts() - large objects allocated and freed since load
 * @nmalloc: allocations
 * @nfree: frees
 */
VISIBLE_IF_KUNIT void goslab_large_counts(unsigned long *nmalloc,
					  unsigned long *nfree)
{
	*nmalloc = atomic_long_read(&goslab_large_nmalloc);
	*nfree = atomic_long_read(&goslab_large_nfree);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_large_counts);

/*
 * While goslab_validate_into() runs, the validators' reports go to its
 * seq_file as well: problem_lock (a mutex) lets one run at a time,
 * problem_sink_lock (innermost; raw, so that goslab_inv_err() may be
 * called under any of goslab's locks, raw ones included, on PREEMPT_RT
 * too) guards the sink. Writing to the seq_file's existing buffer
 * allocates nothing.
 */
static DEFINE_MUTEX(problem_lock);
static struct seq_file *problem_sink;
static DEFINE_RAW_SPINLOCK(problem_sink_lock);

/**
 * goslab_inv_err() - report an inconsistency a validator found
 * @fmt: printf format
 *
 * Logged with pr_err, and written to the seq_file of a
 * goslab_validate_into() in progress. Callable with any lock held.
 */
void goslab_inv_err(const char *fmt, ...)
{
	struct va_format vaf;
	unsigned long flags;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("%pV", &vaf);
	raw_spin_lock_irqsave(&problem_sink_lock, flags);
	if (problem_sink)
		seq_printf(problem_sink, "%pV", &vaf);
	raw_spin_unlock_irqrestore(&problem_sink_lock, flags);
	va_end(args);
}

static const char * const goslab_error_text[GOSLAB_NR_ERRORS] = {
	[GOSLAB_ERR_FOREIGN] =
		"not memory goslab holds (a foreign pointer, or memory already freed and given back)",
	[GOSLAB_ERR_INTERIOR] = "points inside an object, not at its start",
	[GOSLAB_ERR_DOUBLE_FREE] = "double free: the object is not allocated",
	[GOSLAB_ERR_WRONG_CACHE] = "the object belongs to another cache",
};

/* Reports of misuse, paced as pr_err_ratelimited() would pace them. */
static DEFINE_RATELIMIT_STATE(goslab_report_rs, DEFAULT_RATELIMIT_INTERVAL,
			      DEFAULT_RATELIMIT_BURST);

/**
 * goslab_report() - report and count a caller's misuse
 * @err: what went wrong
 * @p: the pointer the caller passed
 * @ip: the caller's return address
 * @what: the API function the caller called
 *
 * Counted always; printed as "API(pointer) from caller: what", rate
 * limited.
 */
void goslab_report(enum goslab_error err, const void *p, unsigned long ip,
		   const char *what)
{
	atomic_long_inc(&goslab_errors[err]);
	if (__ratelimit(&goslab_report_rs)) {
		pr_err("%s(%p) from %pS: %s\n", what, p, (void *)ip,
		       goslab_error_text[err]);
		goslab_track_report(p);
	}
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
EXPORT_SYMBOL_IF_KUNIT(goslab_error_count);

/**
 * goslab_report_dup_frees() - a sweep found objects freed twice at once
 * @cls: their class
 * @s: the span swept
 * @n: how many
 *
 * A free on the CPU caching a span and a free of the same object on
 * another CPU raced and both recorded themselves (see internal.h). The
 * sweep freed each such slot once; one of the two frees is taken back
 * out of the counters here and reported. Which caller was second cannot
 * be known any more.
 *
 * Context: any but NMI.
 */
void goslab_report_dup_frees(struct goslab_class *cls, struct mspan *s,
			     unsigned int n)
{
	atomic_long_add(n, &cls->dup_frees);
	atomic_long_add(n, &goslab_errors[GOSLAB_ERR_DOUBLE_FREE]);
	pr_err_ratelimited("%s: %u objects of span %p were freed twice at once on two CPUs (found by its sweep); freed once\n",
			   cls->name, n, (void *)s->base);
}

/**
 * goslab_gfp_check() - the slow path for flags goslab cannot honour
 * @gfp: the caller's flags, with a GOSLAB_GFP_UNSUPPORTED bit set
 * @ip: the caller
 * @what: the function called
 *
 * Return: false when the allocation must fail (a DMA zone), true when
 * it goes ahead without the unsupported bits.
 */
bool goslab_gfp_check(gfp_t gfp, unsigned long ip, const char *what)
{
	if (gfp & GOSLAB_GFP_REFUSED) {
		if (!(gfp & __GFP_NOWARN))
			pr_warn_ratelimited("%s() from %pS: goslab has no DMA memory (gfp %pGg); use kmalloc()\n",
					    what, (void *)ip, &gfp);
		return false;
	}
	if (gfp & __GFP_ACCOUNT)
		pr_warn_once("%s() from %pS: __GFP_ACCOUNT ignored: goslab does not charge objects to memory cgroups\n",
			     what, (void *)ip);
	if (gfp & __GFP_HIGHMEM)
		pr_warn_once("%s() from %pS: __GFP_HIGHMEM ignored: objects are always mapped\n",
			     what, (void *)ip);
	return true;
}

DEFINE_STATIC_KEY_FALSE(goslab_irqsoff_on);

static const char * const irqsoff_site_names[GOSLAB_NR_IRQSOFF_SITES] = {
	[GOSLAB_IRQSOFF_CENTRAL] = "mcentral_lock",
	[GOSLAB_IRQSOFF_HEAP] = "heap_lock",
	[GOSLAB_IRQSOFF_FLUSH] = "cpu_flush",
	[GOSLAB_IRQSOFF_CREDIT] = "sweep_credit",
	[GOSLAB_IRQSOFF_BULK] = "bulk",
};

/* The longest section of each site; written under irqsoff_lock. */
static struct {
	u64 max_ns;
	unsigned long ip;
	unsigned long count;
} irqsoff_max[GOSLAB_NR_IRQSOFF_SITES];
static DEFINE_RAW_SPINLOCK(irqsoff_lock);

/**
 * goslab_irqsoff_note() - a section with IRQs off ended
 * @site: which kind
 * @since: local_clock() at its start
 * @ip: where it ended
 *
 * Context: any but NMI.
 */
void goslab_irqsoff_note(enum goslab_irqsoff_site site, u64 since,
			 unsigned long ip)
{
	u64 ns = local_clock() - since;
	unsigned long flags;

	if (ns <= READ_ONCE(irqsoff_max[site].max_ns)) {
		WRITE_ONCE(irqsoff_max[site].count,
			   irqsoff_max[site].count + 1);
		return;
	}
	raw_spin_lock_irqsave(&irqsoff_lock, flags);
	irqsoff_max[site].count++;
	if (ns > irqsoff_max[site].max_ns) {
		irqsoff_max[site].max_ns = ns;
		irqsoff_max[site].ip = ip;
	}
	raw_spin_unlock_irqrestore(&irqsoff_lock, flags);
}

/**
 * goslab_irqsoff_set() - start (anew) or stop measuring IRQs-off sections
 * @on: start, forgetting what was measured, or stop
 *
 * Context: process context.
 */
void goslab_irqsoff_set(bool on)
{
	unsigned long flags;

	if (on) {
		raw_spin_lock_irqsave(&irqsoff_lock, flags);
		memset(irqsoff_max, 0, sizeof(irqsoff_max));
		raw_spin_unlock_irqrestore(&irqsoff_lock, flags);
		static_branch_enable(&goslab_irqsoff_on);
	} else {
		static_branch_disable(&goslab_irqsoff_on);
	}
}

/**
 * goslab_irqsoff_show() - what was measured, a line per site
 * @m: the debugfs file
 */
void goslab_irqsoff_show(struct seq_file *m)
{
	unsigned int i;

	seq_printf(m, "# measuring: %s\n",
		   static_key_enabled(&goslab_irqsoff_on) ? "on" : "off");
	seq_puts(m, "# site          sections  longest_us  ended_at\n");
	for (i = 0; i < GOSLAB_NR_IRQSOFF_SITES; i++)
		seq_printf(m, "%-14s %9lu %11llu  %pS\n", irqsoff_site_names[i],
			   irqsoff_max[i].count,
			   div_u64(irqsoff_max[i].max_ns, NSEC_PER_USEC),
			   (void *)irqsoff_max[i].ip);
}

/**
 * goslab_read_class_stats() - the fast counters of one span class
 * @cls: the span class
 * @st: where to put them
 *
 * Allocations still in a CPU's cached span are counted from the span, so
 * the figures are current without flushing; exact when quiescent. The
 * span is another CPU's, which may give it back and release it at any
 * time: it is read under rcu_read_lock() (descriptors are freed after a
 * grace period).
 *
 * Context: any but NMI.
 */
void goslab_read_class_stats(struct goslab_class *cls,
			     struct goslab_class_stats *st)
{
	int cpu;

	memset(st, 0, sizeof(*st));
	rcu_read_lock();
	for_each_possible_cpu(cpu) {
		struct mcache_slot *slot = per_cpu_ptr(cls->slot, cpu);
		struct mspan *s = READ_ONCE(slot->span);

		st->nmalloc += slot->nmalloc;
		st->nfree += slot->nfree;
		st->nrefill += slot->nrefill;
		if (s != &goslab_emptymspan)
			st->nmalloc += goslab_span_allocs_since(s,
					READ_ONCE(slot->alloc_base));
	}
	rcu_read_unlock();
	st->nfree -= atomic_long_read(&cls->dup_frees);
	st->live = st->nmalloc - st->nfree;
	st->spans = READ_ONCE(cls->central.nspans);
	st->pages = st->spans * cls->npages;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_read_class_stats);

const char * const goslab_mem_state_names[GOSLAB_NR_MEM_STATES] = {
	[GOSLAB_MEM_LIVE] = "live",
	[GOSLAB_MEM_SWEPT] = "free_swept",
	[GOSLAB_MEM_UNSWEPT] = "freed_unswept",
	[GOSLAB_MEM_PERCPU] = "percpu_cached",
	[GOSLAB_MEM_HEAP] = "heap_free",
	[GOSLAB_MEM_RCU] = "rcu_pending",
};
EXPORT_SYMBOL_IF_KUNIT(goslab_mem_state_names);

/* Bytes of a span still held from the page allocator. */
static unsigned long mspan_held_bytes(const struct mspan *s)
{
	return (unsigned long)s->npages * GOSLAB_PAGE_SIZE -
	       (unsigned long)hweight32(s->released_kpages) * PAGE_SIZE;
}

/*
 * Objects allocated and not freed, as the counters see them: a racing
 * double free awaiting its sweep was counted as two frees.
 */
static unsigned int mspan_live_counted(const struct mspan *s)
{
	return mspan_live(s) - mspan_dup_frees(s);
}

/*
 * Bytes in objects freed and awaiting the span's sweep, as counted: not
 * those goslab_free_rcu() marked, which wait for their grace period.
 */
static unsigned long mspan_unswept_bytes(const struct mspan *s)
{
	unsigned int n = bitmap_weight(s->local_free_bits, s->nelems);

	n += bitmap_weight(s->free_bits, s->nelems);
	if (!s->tiny)
		n -= s->rcu_count[0] + s->rcu_count[1];
	return (unsigned long)n * s->elemsize;
}

/* Bytes of the span waiting for goslab_free_rcu()'s grace periods. */
static unsigned long mspan_rcu_bytes(const struct mspan *s)
{
	unsigned int i, n = 0;

	if (!mspan_rcu_pending(s))
		return 0;
	if (!s->cls)
		return mspan_held_bytes(s);
	if (!s->tiny)
		return (unsigned long)(s->rcu_count[0] + s->rcu_count[1]) *
		       s->elemsize;
	for (i = 0; i < s->nelems; i++)
		n += mspan_rcu_marked(s, i) && !atomic_read(&s->tiny[i]);
	return (unsigned long)n * s->elemsize;
}

/**
 * goslab_read_memstats() - the memory states, from the fast counters
 * @ms: where to put them
 *
 * Live and unswept bytes come from the per-class counters (allocations,
 * frees, frees folded in by sweeps), per-CPU bytes from the spans the
 * CPUs cache, heap bytes from mheap; free swept bytes are the rest of
 * what is held. goslab_read_memstats_slow() recounts each from the spans.
 */
void goslab_read_memstats(struct goslab_memstats *ms)
{
	struct goslab_heap_stats hs;
	struct goslab_class *cls;
	unsigned long small_bytes;
	long rest, pending;
	int cpu;

	memset(ms, 0, sizeof(*ms));
	mheap_read_stats(&hs);
	ms->held = (hs.kpages_taken - hs.kpages_returned) * PAGE_SIZE;
	ms->released = hs.kpages_returned * PAGE_SIZE;
	ms->bytes[GOSLAB_MEM_HEAP] = (hs.pages_free + hs.pages_pcache) *
				     GOSLAB_PAGE_SIZE;
	ms->bytes[GOSLAB_MEM_LIVE] = hs.pages_large * GOSLAB_PAGE_SIZE;
	small_bytes = (hs.pages_small - hs.pages_pcache - hs.pages_rcu) *
		      GOSLAB_PAGE_SIZE - hs.kpages_span_released * PAGE_SIZE;
	rcu_read_lock();
	for_each_goslab_class(cls) {
		struct goslab_class_stats st;
		unsigned long swept = READ_ONCE(cls->central.nswept_frees);

		goslab_read_class_stats(cls, &st);
		for_each_possible_cpu(cpu) {
			struct mcache_slot *slot = per_cpu_ptr(cls->slot, cpu);
			struct mspan *s = READ_ONCE(slot->span);

			swept += slot->nswept_frees;
			if (s == &goslab_emptymspan)
				continue;
			ms->bytes[GOSLAB_MEM_PERCPU] += mspan_held_bytes(s) -
				(unsigned long)mspan_live_counted(s) *
				s->elemsize - mspan_unswept_bytes(s);
		}
		ms->bytes[GOSLAB_MEM_LIVE] += st.live * cls->elemsize;
		ms->bytes[GOSLAB_MEM_UNSWEPT] += (st.nfree - swept) *
						 cls->elemsize;
	}
	rcu_read_unlock();
	rest = small_bytes - (ms->bytes[GOSLAB_MEM_LIVE] -
			      hs.pages_large * GOSLAB_PAGE_SIZE) -
	       ms->bytes[GOSLAB_MEM_UNSWEPT] - ms->bytes[GOSLAB_MEM_PERCPU];
	ms->bytes[GOSLAB_MEM_SWEPT] = max(rest, 0L);
	/* Counted live until folded: carved out of live. */
	pending = max(atomic_long_read(&goslab_rcu_pending_bytes), 0L);
	pending = min_t(unsigned long, pending, ms->bytes[GOSLAB_MEM_LIVE]);
	ms->bytes[GOSLAB_MEM_RCU] = pending + hs.pages_rcu * GOSLAB_PAGE_SIZE;
	ms->bytes[GOSLAB_MEM_LIVE] -= pending;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_read_memstats);

static void memstats_span(struct mspan *s, void *arg)
{
	struct goslab_memstats *ms = arg;
	unsigned long held = mspan_held_bytes(s), live, unswept, pending;

	/* A type-safe span that emptied: all of it waits for a grace period. */
	if (s->state == MSPAN_RCU_EMPTY) {
		ms->bytes[GOSLAB_MEM_RCU] += held;
		return;
	}
	pending = mspan_rcu_bytes(s);
	ms->bytes[GOSLAB_MEM_RCU] += pending;
	if (!s->cls) {
		ms->bytes[GOSLAB_MEM_LIVE] += held - pending;
		return;
	}
	live = (unsigned long)mspan_live_counted(s) * s->elemsize;
	unswept = mspan_unswept_bytes(s);
	ms->bytes[GOSLAB_MEM_LIVE] += live - pending;
	ms->bytes[GOSLAB_MEM_UNSWEPT] += unswept;
	ms->bytes[s->state == MSPAN_CACHED ? GOSLAB_MEM_PERCPU :
		  GOSLAB_MEM_SWEPT] += held - live - unswept;
}

/**
 * goslab_read_memstats_slow() - the memory states, recounted from spans
 * @ms: where to put them
 *
 * Walks every span in the heap; run it when nothing is in flight.
 */
VISIBLE_IF_KUNIT void goslab_read_memstats_slow(struct goslab_memstats *ms)
{
	struct goslab_heap_stats hs;

	memset(ms, 0, sizeof(*ms));
	mheap_walk_spans(memstats_span, ms);
	mheap_read_stats(&hs);
	ms->bytes[GOSLAB_MEM_HEAP] = (hs.pages_free + hs.pages_pcache) *
				     GOSLAB_PAGE_SIZE;
	ms->held = (hs.kpages_taken - hs.kpages_returned) * PAGE_SIZE;
	ms->released = hs.kpages_returned * PAGE_SIZE;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_read_memstats_slow);

struct recount {
	unsigned long large_objects;
	unsigned long large_pages;
};

static void recount_span(struct mspan *s, void *arg)
{
	struct recount *rc = arg;
	struct goslab_class_stats *st;

	/* No longer its class's (nor counted there): the heap's, soon. */
	if (s->state == MSPAN_RCU_EMPTY)
		return;
	if (!s->cls) {
		rc->large_objects++;
		rc->large_pages += s->npages;
		return;
	}
	st = &s->cls->recount;
	st->spans++;
	st->pages += s->npages;
	st->live += mspan_live_counted(s);
}

/* The memory states: fast == slow, state by state, and they add up. */
static int goslab_check_memstats(void)
{
	struct goslab_memstats fast, slow;
	unsigned long sum = 0;
	unsigned int i;
	int bad = 0;

	goslab_read_memstats(&fast);
	goslab_read_memstats_slow(&slow);
	for (i = 0; i < GOSLAB_NR_MEM_STATES; i++) {
		sum += slow.bytes[i];
		if (fast.bytes[i] != slow.bytes[i]) {
			goslab_inv_err("memory state %s: counters say %lu bytes, the spans %lu\n",
				       goslab_mem_state_names[i], fast.bytes[i],
				       slow.bytes[i]);
			bad++;
		}
	}
	if (sum != slow.held) {
		goslab_inv_err("memory states add up to %lu bytes, goslab holds %lu\n",
			       sum, slow.held);
		bad++;
	}
	return bad;
}

/**
 * goslab_read_stats_slow() - recount everything and compare
 *
 * Go's ReadMemStatsSlow: walks every span of the heap and checks that
 * live objects, spans and pages per class, large objects and the memory
 * states equal what the fast counters say, and that the states add up to
 * the pages held. Run it when no allocation or free is in flight.
 *
 * Context: process context.
 * Return: 0 when everything agrees, else the number of disagreements
 * (each one logged).
 */
static int goslab_read_stats_slow(void)
{
	unsigned long nmalloc, nfree, accounted;
	struct goslab_heap_stats hs;
	struct recount rc = {};
	struct goslab_class *cls;
	int bad = 0;

	/* The class list and the recount scratch are the mutex's. */
	mutex_lock(&goslab_class_mutex);
	for_each_goslab_class(cls)
		memset(&cls->recount, 0, sizeof(cls->recount));
	mheap_walk_spans(recount_span, &rc);
	for_each_goslab_class(cls) {
		struct goslab_class_stats fast, *slow = &cls->recount;

		goslab_read_class_stats(cls, &fast);
		if (fast.live != slow->live || fast.spans != slow->spans ||
		    fast.pages != slow->pages) {
			goslab_inv_err("%s: counters say %lu live in %lu spans (%lu pages), the spans hold %lu in %lu (%lu pages)\n",
				       cls->name, fast.live, fast.spans, fast.pages,
				       slow->live, slow->spans, slow->pages);
			bad++;
		}
	}
	mutex_unlock(&goslab_class_mutex);
	goslab_large_counts(&nmalloc, &nfree);
	mheap_read_stats(&hs);
	if (nmalloc - nfree != rc.large_objects ||
	    hs.large_objects != rc.large_objects ||
	    hs.pages_large != rc.large_pages) {
		goslab_inv_err("large objects: counters say %lu (%lu by the heap, %lu pages), the heap holds %lu (%lu pages)\n",
			       nmalloc - nfree, hs.large_objects, hs.pages_large,
			       rc.large_objects, rc.large_pages);
		bad++;
	}
	/* What the kernel's slab counters were told, against what is held. */
	accounted = mheap_accounted_kpages();
	if (accounted != hs.kpages_taken - hs.kpages_returned) {
		goslab_inv_err("heap: %lu kernel pages counted as slab memory, %lu held\n",
			       accounted, hs.kpages_taken - hs.kpages_returned);
		bad++;
	}
	bad += goslab_check_memstats();
	return bad;
}

/**
 * goslab_validate() - run every validator and the slow recount
 *
 * Pauses the background sweeper and scavenger while it runs.
 *
 * Context: process context, nothing in flight.
 * Return: 0 when goslab is consistent, else the number of problems found.
 */
int goslab_validate(void)
{
	struct goslab_class *cls;
	int bad = 0;

	goslab_bg_pause();
	if (!mheap_is_valid())
		bad++;
	mutex_lock(&goslab_class_mutex);
	for_each_goslab_class(cls)
		if (!mcentral_is_valid(cls))
			bad++;
	mutex_unlock(&goslab_class_mutex);
	bad += goslab_read_stats_slow();
	goslab_bg_resume();
	return bad;
}
EXPORT_SYMBOL_NS_GPL(goslab_validate, GOSLAB_BENCH);

/**
 * goslab_validate_into() - goslab_validate(), its reports also into @m
 * @m: where each problem is written, besides the log
 *
 * Context: process context, nothing in flight.
 * Return: what goslab_validate() returns.
 */
int goslab_validate_into(struct seq_file *m)
{
	unsigned long flags;
	int bad;

	mutex_lock(&problem_lock);
	raw_spin_lock_irqsave(&problem_sink_lock, flags);
	problem_sink = m;
	raw_spin_unlock_irqrestore(&problem_sink_lock, flags);
	bad = goslab_validate();
	raw_spin_lock_irqsave(&problem_sink_lock, flags);
	problem_sink = NULL;
	raw_spin_unlock_irqrestore(&problem_sink_lock, flags);
	mutex_unlock(&problem_lock);
	return bad;
}

#if IS_ENABLED(CONFIG_KUNIT)
/* For goslab's KUnit suites. */

/**
 * goslab_report_ratelimit_reset() - let the next reports through
 *
 * For tests that check a report's text, whatever was reported before.
 */
void goslab_report_ratelimit_reset(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&goslab_report_rs.lock, flags);
	goslab_report_rs.begin = 0;
	goslab_report_rs.printed = 0;
	raw_spin_unlock_irqrestore(&goslab_report_rs.lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(goslab_report_ratelimit_reset);
#endif
