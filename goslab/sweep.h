/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sweep.h - sweeping, the sweep credit, the background sweeper and
 * scavenger, and the shrinker: beside the core layers (sweep.c).
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_SWEEP_H
#define _GOSLAB_SWEEP_H

/*
 * Spans the sweep credit sweeps per allocation at most: the allocating
 * context may have IRQs off. What is left waits for the background
 * sweeper.
 */
#define GOSLAB_CREDIT_BUDGET	32

/**
 * struct goslab_sweep_stats - who swept, and who gave pages back
 * @unswept_pages: goslab pages of spans not yet swept, now
 * @credit_pages_swept: pages swept by allocations' sweep credit
 * @bg_pages_swept: pages swept by the background sweeper
 * @bg_kpages_released: kernel pages the background scavenger gave back
 * @shrinker_kpages_released: kernel pages the shrinker gave back
 * @reclaimable_kpages: kernel pages the shrinker could give back now
 * @oom_calls: calls of the OOM notifier that shrank
 * @oom_kpages_released: kernel pages the OOM notifier gave back
 *
 * Counts are since load, except the two that say "now".
 */
struct goslab_sweep_stats {
	unsigned long unswept_pages;
	unsigned long credit_pages_swept;
	unsigned long bg_pages_swept;
	unsigned long bg_kpages_released;
	unsigned long shrinker_kpages_released;
	unsigned long reclaimable_kpages;
	unsigned long oom_calls;
	unsigned long oom_kpages_released;
};

/* sweep.c */
extern atomic_long_t goslab_unswept_pages;
void goslab_deduct_sweep_credit(unsigned int npages);
void goslab_bg_kick(void);
void goslab_bg_pause(void);
void goslab_bg_resume(void);
int goslab_bg_start(void);
void goslab_bg_stop(void);
void goslab_read_sweep_stats(struct goslab_sweep_stats *st);
unsigned long goslab_sweepone(void);
bool goslab_bg_rcu_begin(void);
void goslab_bg_rcu_end(void);

#if IS_ENABLED(CONFIG_KUNIT)
/* Static without KUnit (VISIBLE_IF_KUNIT), or for the tests alone. */
unsigned long goslab_shrinker_count(void);
unsigned long goslab_shrinker_scan(unsigned long nr_kpages);
unsigned long goslab_oom_release(void);
void goslab_bg_flush(void);
bool goslab_bg_pending(void);
#endif

#endif /* _GOSLAB_SWEEP_H */
