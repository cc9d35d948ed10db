/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - counters, the slow recount, validators' and misuse reports,
 * and the IRQs-off measurement: beside the core layers (stats.c).
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_STATS_H
#define _GOSLAB_STATS_H

/*
 * Bits a caller may pass that goslab cannot honour: DMA zones are
 * refused (goslab has no DMA memory; silently returning other memory
 * would break the device); __GFP_ACCOUNT and __GFP_HIGHMEM are dropped
 * with a warning (objects are not charged to a memory cgroup; objects
 * are always mapped). goslab_gfp_check() is the slow path.
 */
#define GOSLAB_GFP_REFUSED	(__GFP_DMA | __GFP_DMA32)
#define GOSLAB_GFP_UNSUPPORTED	(GOSLAB_GFP_REFUSED | __GFP_ACCOUNT | \
				 __GFP_HIGHMEM)

bool goslab_gfp_check(gfp_t gfp, unsigned long ip, const char *what);

/*
 * What every allocation API checks first, on behalf of its caller at @ip:
 * flags goslab cannot honour (goslab_gfp_check()). True when the API must
 * return NULL.
 */
static __always_inline bool goslab_gfp_refused(gfp_t gfp, unsigned long ip,
					       const char *api)
{
	might_alloc(gfp);
	return unlikely(gfp & GOSLAB_GFP_UNSUPPORTED) &&
	       !goslab_gfp_check(gfp, ip, api);
}

/*
 * The same without might_alloc(), for the single-object APIs, whose
 * allocation runs it last (mcache_alloc()): it calls nothing unless
 * the flags need a look.
 */
static __always_inline bool goslab_gfp_refused_nomight(gfp_t gfp,
						       unsigned long ip,
						       const char *api)
{
	return unlikely(gfp & GOSLAB_GFP_UNSUPPORTED) &&
	       !goslab_gfp_check(gfp, ip, api);
}

/*
 * The slow recount's invariant (goslab_read_stats_slow()): allocations -
 * frees (the fast counters) == live objects found by walking every span,
 * less the racing double frees awaiting their sweep; the memory states
 * add up to the pages held.
 */
/* What a slow recount or the fast counters say about one span class. */
struct goslab_class_stats {
	unsigned long spans;
	unsigned long pages;
	unsigned long live;
	unsigned long nmalloc;
	unsigned long nfree;
	unsigned long nrefill;
};

/*
 * The memory states: every byte goslab holds from the page allocator is
 * in exactly one, so they add up to the kernel pages held. Memory given
 * back is not a state but a running counter (kpages_returned).
 *
 *  LIVE      objects handed out and not freed, at their size class (a
 *            large object counts its whole span);
 *  SWEPT     free slots and tail waste of spans no CPU caches;
 *  UNSWEPT   objects freed and awaiting their span's sweep;
 *  PERCPU    free slots and tail waste of the spans CPUs cache;
 *  HEAP      free pages in mheap and in the CPUs' page caches;
 *  RCU       objects passed to goslab_free_rcu() whose grace period has
 *            not been folded yet (a tiny block once its objects are all
 *            gone; before, it is live).
 */
enum goslab_mem_state {
	GOSLAB_MEM_LIVE,
	GOSLAB_MEM_SWEPT,
	GOSLAB_MEM_UNSWEPT,
	GOSLAB_MEM_PERCPU,
	GOSLAB_MEM_HEAP,
	GOSLAB_MEM_RCU,
	GOSLAB_NR_MEM_STATES,
};

/**
 * struct goslab_memstats - goslab's memory by state
 * @bytes: bytes in each enum goslab_mem_state
 * @held: bytes held from the page allocator; the sum of @bytes
 * @released: bytes given back since load
 */
struct goslab_memstats {
	unsigned long bytes[GOSLAB_NR_MEM_STATES];
	unsigned long held;
	unsigned long released;
};

extern const char * const goslab_mem_state_names[GOSLAB_NR_MEM_STATES];

/* A caller's misuse; 0 is none (the free paths return -GOSLAB_ERR_*). */
enum goslab_error {
	GOSLAB_ERR_NONE,
	GOSLAB_ERR_FOREIGN,
	GOSLAB_ERR_INTERIOR,
	GOSLAB_ERR_DOUBLE_FREE,
	GOSLAB_ERR_WRONG_CACHE,
	GOSLAB_NR_ERRORS,
};

/*
 * stats.c: how long goslab keeps IRQs off, measured while debugfs
 * "irqsoff" says so (a static key: nothing is done otherwise). Each
 * site keeps its longest section and where it ended. On PREEMPT_RT,
 * where those locks leave IRQs on, the figures are how long the locks
 * were held, preemption included.
 */
enum goslab_irqsoff_site {
	GOSLAB_IRQSOFF_CENTRAL,	/* an mcentral lock held */
	GOSLAB_IRQSOFF_HEAP,	/* the heap lock held */
	GOSLAB_IRQSOFF_FLUSH,	/* a CPU emptying its caches (work item) */
	GOSLAB_IRQSOFF_CREDIT,	/* the sweep credit paid with IRQs off */
	GOSLAB_IRQSOFF_BULK,	/* a bulk allocation or free */
	GOSLAB_NR_IRQSOFF_SITES,
};

struct seq_file;
DECLARE_STATIC_KEY_FALSE(goslab_irqsoff_on);
void goslab_irqsoff_note(enum goslab_irqsoff_site site, u64 since,
			 unsigned long ip);
void goslab_irqsoff_show(struct seq_file *m);
void goslab_irqsoff_set(bool on);

static __always_inline u64 goslab_irqsoff_begin(void)
{
	return static_branch_unlikely(&goslab_irqsoff_on) ? local_clock() : 0;
}

static __always_inline void goslab_irqsoff_end(enum goslab_irqsoff_site site,
					       u64 since)
{
	if (static_branch_unlikely(&goslab_irqsoff_on) && since)
		goslab_irqsoff_note(site, since, _THIS_IP_);
}

/* stats.c */
/* What a validator found wrong: logged, and shown by debugfs "validate". */
__printf(1, 2) void goslab_inv_err(const char *fmt, ...);
int goslab_validate_into(struct seq_file *m);
extern atomic_long_t goslab_large_nmalloc, goslab_large_nfree;
/*
 * Bytes waiting for goslab_free_rcu()'s grace periods, and large objects
 * among them (rcu.c).
 */
extern atomic_long_t goslab_rcu_pending_bytes, goslab_large_rcu_pending;
void goslab_report(enum goslab_error err, const void *p, unsigned long ip,
		   const char *what);
unsigned long goslab_error_count(enum goslab_error err);
void goslab_report_dup_frees(struct goslab_class *cls, struct mspan *s,
			     unsigned int n);
void goslab_read_class_stats(struct goslab_class *cls,
			     struct goslab_class_stats *st);
void goslab_read_memstats(struct goslab_memstats *ms);
int goslab_validate(void);

#if IS_ENABLED(CONFIG_KUNIT)
/* Static without KUnit (VISIBLE_IF_KUNIT), or for the tests alone. */
void goslab_large_counts(unsigned long *nmalloc, unsigned long *nfree);
void goslab_read_memstats_slow(struct goslab_memstats *ms);
void goslab_report_ratelimit_reset(void);
#endif

#endif /* _GOSLAB_STATS_H */
