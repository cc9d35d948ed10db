// SPDX-License-Identifier: GPL-2.0
/*
 * tunables.c - the knobs a person may turn at run time.
 *
 * Each is a module parameter, set at load (goslab.<name>=) or later
 * through /sys/module/goslab/parameters/<name>, with a range: a value
 * outside it, or not a number, is refused with -EINVAL and a pr_warn
 * that names the range, and changes nothing. debugfs tunables lists them
 * with their ranges. The layers read them with READ_ONCE() where they
 * decide, so a change takes effect at the next decision; nothing already
 * decided is undone (a class keeps the empty spans it holds until they
 * are used or shrunk).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include "internal.h"

/* Go's scavenger keeps 10% over the heap in use (mheap_retained_goal()). */
unsigned int goslab_retain_percent = 10;
EXPORT_SYMBOL_IF_KUNIT(goslab_retain_percent);
/* The background work's batching delay (goslab_bg_delay()). */
unsigned int goslab_bg_delay_ms = 100;
EXPORT_SYMBOL_IF_KUNIT(goslab_bg_delay_ms);
/* Empty spans a class keeps for its next refill (mcentral_free_span()). */
unsigned int goslab_keep_empty = 1;
EXPORT_SYMBOL_IF_KUNIT(goslab_keep_empty);
/*
 * Unswept spans a refill sweeps at most before it grows the class, and a
 * shrinker scan before it gives pages back (Go's mcentral: 100).
 */
unsigned int goslab_sweep_budget = 100;
EXPORT_SYMBOL_IF_KUNIT(goslab_sweep_budget);

/* Not const: a module parameter's argument is a plain pointer. */
struct goslab_tunable goslab_tunables[GOSLAB_NR_TUNABLES] = {
	{ "retain_percent", &goslab_retain_percent, 0, 100,
	  "percent of the pages in use kept free in the heap" },
	{ "bg_delay_ms", &goslab_bg_delay_ms, 10, 10000,
	  "ms the background sweeper and scavenger wait to batch work" },
	{ "keep_empty", &goslab_keep_empty, 0, 64,
	  "empty spans each class keeps" },
	{ "sweep_budget", &goslab_sweep_budget, 1, 100000,
	  "unswept spans a refill or shrinker scan sweeps at most" },
};
EXPORT_SYMBOL_IF_KUNIT(goslab_tunables);

/**
 * goslab_tunable_write() - set a tunable from text, within its range
 * @t: the tunable
 * @val: a number (a trailing newline is fine)
 *
 * Context: any context that may print.
 * Return: 0, or -EINVAL (reported) with the value unchanged.
 */
int goslab_tunable_write(const struct goslab_tunable *t, const char *val)
{
	unsigned int v;

	if (kstrtouint(val, 0, &v) || v < t->min || v > t->max) {
		pr_warn("%s: '%.*s' is not a number in %u..%u (%s)\n",
			t->name, (int)strcspn(val, "\n"), val, t->min, t->max,
			t->unit);
		return -EINVAL;
	}
	WRITE_ONCE(*t->value, v);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_tunable_write);

static int tunable_set(const char *val, const struct kernel_param *kp)
{
	return goslab_tunable_write(kp->arg, val);
}

static int tunable_get(char *buf, const struct kernel_param *kp)
{
	const struct goslab_tunable *t = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*t->value));
}

static const struct kernel_param_ops tunable_ops = {
	.set = tunable_set,
	.get = tunable_get,
};

module_param_cb(retain_percent, &tunable_ops, &goslab_tunables[0], 0644);
MODULE_PARM_DESC(retain_percent,
		 "free heap pages kept for reuse, in percent of the pages in use (0-100, default 10)");
module_param_cb(bg_delay_ms, &tunable_ops, &goslab_tunables[1], 0644);
MODULE_PARM_DESC(bg_delay_ms,
		 "background sweeper and scavenger batching delay in ms (10-10000, default 100)");
module_param_cb(keep_empty, &tunable_ops, &goslab_tunables[2], 0644);
MODULE_PARM_DESC(keep_empty,
		 "empty spans each class keeps for its next refill (0-64, default 1)");
module_param_cb(sweep_budget, &tunable_ops, &goslab_tunables[3], 0644);
MODULE_PARM_DESC(sweep_budget,
		 "unswept spans a refill or a shrinker scan sweeps at most (1-100000, default 100)");
