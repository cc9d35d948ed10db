// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module load and unload: the one place that orders them.
 *
 * Load builds the arena index and the span classes, then creates
 * /sys/kernel/debug/goslab/. Unload runs when no module that calls goslab
 * is left: it empties every CPU's cache, gives every span and chunk back
 * to the page allocator, and reports objects that were never freed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include "internal.h"

static int goslab_cpuhp_state;

/* A CPU went offline: its tiny block, cached spans and pages go back. */
static int goslab_cpu_dead(unsigned int cpu)
{
	goslab_tiny_flush_dead_cpu(cpu);
	mcache_flush_dead_cpu(cpu);
	mheap_pcache_flush_cpu(cpu);
	return 0;
}

/*
 * The whole load order; unload (and a failed load) undo it in reverse.
 * Each layer's state exists before anything that calls into it: the
 * heap before the classes that carve it, every class before the CPU
 * hotplug callback and the background work that walk the classes, and
 * debugfs (which lets a person allocate) last.
 */
static int __init goslab_init(void)
{
	int ret;

	goslab_hooks_init();
	ret = mheap_init();
	if (ret)
		return ret;
	ret = goslab_tiny_init();
	if (ret)
		goto err_classes;
	ret = goslab_size_classes_init();
	if (ret)
		goto err_classes;
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "goslab:dead",
					NULL, goslab_cpu_dead);
	if (ret < 0)
		goto err_classes;
	goslab_cpuhp_state = ret;
	ret = goslab_bg_start();
	if (ret)
		goto err_cpuhp;
	ret = goslab_rcu_init();
	if (ret)
		goto err_bg;
	goslab_debugfs_init();
	return 0;

err_bg:
	goslab_bg_stop();
err_cpuhp:
	cpuhp_remove_state_nocalls(goslab_cpuhp_state);
err_classes:
	/* Every class created so far: the size classes, tiny's. */
	goslab_classes_exit();
	mheap_exit();
	return ret;
}

static void __exit goslab_exit(void)
{
	/* The control file's objects and caches go with it. */
	goslab_debugfs_exit();
	/* goslab_free_rcu()'s frees still waiting are folded first. */
	goslab_rcu_exit();
	/* Nothing in the background may run once teardown starts. */
	goslab_bg_stop();
	cpuhp_remove_state_nocalls(goslab_cpuhp_state);
	/* Typed caches left by their users, the tiny class, size classes. */
	goslab_classes_exit();
	mheap_exit();
}

module_init(goslab_init);
module_exit(goslab_exit);

MODULE_VERSION(GOSLAB_VERSION);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("goslab: Go's runtime memory allocator as a kernel object allocator");
