// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module load and unload, and the internal exports.
 *
 * Load builds the arena index and the span classes, then creates
 * /sys/kernel/debug/goslab/. Unload runs when no module that calls goslab
 * is left: it empties every CPU's cache, gives every span and chunk back
 * to the page allocator, and reports objects that were never freed.
 *
 * The GOSLAB_INTERNAL symbol namespace exports the layers to goslab's own
 * KUnit suites (kunit/), which test each layer directly; it is not API.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/module.h>
#include "internal.h"

static struct dentry *goslab_debugfs_root;

static int __init goslab_init(void)
{
	int ret;

	ret = mheap_init();
	if (ret)
		return ret;
	ret = goslab_classes_init();
	if (ret) {
		goslab_classes_exit();
		mheap_exit();
		return ret;
	}
	goslab_debugfs_root = debugfs_create_dir("goslab", NULL);
	return 0;
}

static void __exit goslab_exit(void)
{
	debugfs_remove_recursive(goslab_debugfs_root);
	goslab_classes_exit();
	mheap_exit();
}

module_init(goslab_init);
module_exit(goslab_exit);

EXPORT_SYMBOL_NS_GPL(goslab_class_to_size, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_class_to_allocnpages, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_class_to_divmul, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_size_to_class8, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_size_to_class128, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_classes, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_mcache, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_emptymspan, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mspan_init, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mspan_desc_size, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mspan_next_free, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mspan_is_allocated, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mspan_free_index, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mspan_sweep, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mspan_live, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mspan_is_valid, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mcache_next_free, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mcache_flush_all, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mcache_flush_class, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mcentral_cache_span, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mcentral_uncache_span, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mcentral_grow, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mcentral_put_span, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mcentral_note_free, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mcentral_shrink, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mcentral_is_valid, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mheap_alloc_span, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mheap_free_span, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mheap_span_of, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mheap_release_free_chunks, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mheap_read_stats, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(mheap_is_valid, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_error_count, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_read_class_stats, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_read_stats_slow, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_validate, GOSLAB_INTERNAL);
EXPORT_SYMBOL_NS_GPL(goslab_large_counts, GOSLAB_INTERNAL);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("goslab: Go's runtime memory allocator as a kernel object allocator");
