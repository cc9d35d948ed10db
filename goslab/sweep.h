/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sweep.h - sweeping, the sweep credit, the background sweeper and
 * scavenger, and the shrinker: beside the core layers (sweep.c).
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_SWEEP_H
#define _GOSLAB_SWEEP_H

/* How long the background sweeper and scavenger wait to batch work. */
#define GOSLAB_BG_DELAY		(HZ / 10)

/*
 * Spans the sweep credit sweeps per allocation at most: the allocating
 * context may have IRQs off. What is left waits for the background
 * sweeper.
 */
#define GOSLAB_CREDIT_BUDGET	32

/* sweep.c */
extern atomic_long_t goslab_unswept_pages;
unsigned long goslab_sweepone(void);
void goslab_deduct_sweep_credit(unsigned int npages);
unsigned long goslab_credit_pages_swept(void);
void goslab_bg_kick(void);
void goslab_bg_flush(void);
void goslab_bg_pause(void);
void goslab_bg_resume(void);
int goslab_bg_start(void);
void goslab_bg_stop(void);
bool goslab_bg_pending(void);
unsigned long goslab_shrinker_count(void);
unsigned long goslab_shrinker_scan(unsigned long nr_kpages);
unsigned long goslab_shrinker_released(void);
void goslab_bg_counts(unsigned long *swept, unsigned long *released);

#endif /* _GOSLAB_SWEEP_H */
