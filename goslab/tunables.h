/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tunables.h - the knobs a person may turn at run time (tunables.c).
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_TUNABLES_H
#define _GOSLAB_TUNABLES_H

/* Read with READ_ONCE() where a layer decides; written by tunables.c. */
extern unsigned int goslab_retain_percent;
extern unsigned int goslab_bg_delay_ms;
extern unsigned int goslab_keep_empty;
extern unsigned int goslab_sweep_budget;

/**
 * struct goslab_tunable - one module parameter and its range
 * @name: its name in /sys/module/goslab/parameters and debugfs tunables
 * @value: the variable the layers read
 * @min: the smallest value accepted
 * @max: the largest value accepted
 * @unit: what the number counts
 */
struct goslab_tunable {
	const char *name;
	unsigned int *value;
	unsigned int min;
	unsigned int max;
	const char *unit;
};

#define GOSLAB_NR_TUNABLES	4
extern struct goslab_tunable goslab_tunables[GOSLAB_NR_TUNABLES];
int goslab_tunable_write(const struct goslab_tunable *t, const char *val);

/* How long the background sweeper and scavenger wait to batch work. */
static inline unsigned long goslab_bg_delay(void)
{
	return msecs_to_jiffies(READ_ONCE(goslab_bg_delay_ms));
}

#endif /* _GOSLAB_TUNABLES_H */
