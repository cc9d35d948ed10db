/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - what goslab needs from kernels older than the newest it
 * supports, in one place. goslab is written against 6.12; each block
 * below gives an older kernel (6.1 at the oldest, see Kbuild) the newer
 * interface under its mainline name, so that the code reads as mainline
 * code and a block can go when its kernels leave the supported range.
 *
 * Included first by internal.h.
 */
#ifndef _GOSLAB_COMPAT_H
#define _GOSLAB_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/stackdepot.h>

/*
 * The largest page order alloc_pages() takes. MAX_ORDER was one past it
 * until 6.4, the order itself from 6.4, and became MAX_PAGE_ORDER in 6.8.
 */
#ifndef MAX_PAGE_ORDER
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define MAX_PAGE_ORDER	(MAX_ORDER - 1)
#else
#define MAX_PAGE_ORDER	MAX_ORDER
#endif
#endif

/*
 * 6.12: kvfree_rcu_barrier(), for the benchmark's kfree_rcu() side. Before
 * it, rcu_barrier() does not wait for kfree_rcu()'s batches, which are
 * freed by a work item after their grace period: two grace periods'
 * callbacks bound that closely enough for a measurement.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#include <linux/rcupdate.h>
static inline void kvfree_rcu_barrier(void)
{
	rcu_barrier();
	synchronize_rcu();
	rcu_barrier();
}
#endif

/* 6.5 */
#ifndef struct_size_t
#define struct_size_t(type, member, count) \
	struct_size((type *)NULL, member, count)
#endif

/* 6.3: a show attribute whose file also takes writes, to __name##_write. */
#ifndef DEFINE_SHOW_STORE_ATTRIBUTE
#define DEFINE_SHOW_STORE_ATTRIBUTE(__name)				\
static int __name ## _open(struct inode *inode, struct file *file)	\
{									\
	return single_open(file, __name ## _show, inode->i_private);	\
}									\
									\
static const struct file_operations __name ## _fops = {		\
	.owner		= THIS_MODULE,					\
	.open		= __name ## _open,				\
	.read		= seq_read,					\
	.write		= __name ## _write,				\
	.llseek		= seq_lseek,					\
	.release	= single_release,				\
}
#endif

/*
 * 6.2: include/kunit/visibility.h. Test-only symbols are exported to the
 * KUnit suites' namespace, and static without KUnit.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#include <kunit/visibility.h>
#elif IS_ENABLED(CONFIG_KUNIT)
#define VISIBLE_IF_KUNIT
#define EXPORT_SYMBOL_IF_KUNIT(symbol) \
	EXPORT_SYMBOL_NS(symbol, EXPORTED_FOR_KUNIT_TESTING)
#else
#define VISIBLE_IF_KUNIT static
#define EXPORT_SYMBOL_IF_KUNIT(symbol)
#endif

/*
 * 6.7 (SHRINKER_ALLOCATED came with it, a test that distributions'
 * backports pass too): shrinkers are allocated by shrinker_alloc(), published by
 * shrinker_register() and torn down by shrinker_free(). Before, the
 * caller owned the struct and register_shrinker() could fail; then the
 * shrinker is left out (goslab still gives memory back through its
 * background scavenger) and shrinker_free() skips the unregistered one.
 * goslab names its shrinker with a plain string, never a format.
 */
#ifndef SHRINKER_ALLOCATED
struct goslab_compat_shrinker {
	struct shrinker shrinker;
	const char *name;
};

static inline struct shrinker *shrinker_alloc(unsigned int flags,
					      const char *name)
{
	struct goslab_compat_shrinker *cs = kzalloc(sizeof(*cs), GFP_KERNEL);

	if (!cs)
		return NULL;
	cs->shrinker.flags = flags;
	cs->shrinker.seeks = DEFAULT_SEEKS;
	cs->name = name;
	return &cs->shrinker;
}

static inline void shrinker_register(struct shrinker *s)
{
	struct goslab_compat_shrinker *cs =
		container_of(s, struct goslab_compat_shrinker, shrinker);

	if (register_shrinker(s, "%s", cs->name))
		pr_warn("%s: no shrinker (out of memory registering it); memory is given back in the background only\n",
			cs->name);
}

static inline void shrinker_free(struct shrinker *s)
{
	if (!s)
		return;
	unregister_shrinker(s);
	kfree(container_of(s, struct goslab_compat_shrinker, shrinker));
}
#endif

/*
 * For the KUnit suites (kunit/goslab_test.h includes <kunit/test.h>
 * first). 6.6: case attributes (a slow case is an ordinary one before).
 * 6.5: deferred actions, which goslab's tests use to free what a case
 * leaves when an assertion ends it early; before, a KUnit resource
 * whose free function runs the action does the same, in the same
 * reverse order at the end of the case. A resource is matched by the
 * address of these static functions: an action must be added and
 * released from one translation unit (goslab_test.h's helpers are).
 */
#ifdef _KUNIT_TEST_H
#ifndef KUNIT_CASE_SLOW
#define KUNIT_CASE_SLOW(test_name)	KUNIT_CASE(test_name)
#define KUNIT_CASE_PARAM_ATTR(test_name, gen_params, attributes) \
	KUNIT_CASE_PARAM(test_name, gen_params)
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#include <kunit/resource.h>

typedef void (kunit_action_t)(void *);

struct goslab_compat_action {
	kunit_action_t *fn;
	void *arg;
};

static inline int goslab_compat_action_init(struct kunit_resource *res,
					    void *action)
{
	res->data = action;
	return 0;
}

static inline void goslab_compat_action_free(struct kunit_resource *res)
{
	struct goslab_compat_action *a = res->data;

	if (a->fn)
		a->fn(a->arg);
	kfree(a);
}

static inline bool goslab_compat_action_match(struct kunit *test,
					      struct kunit_resource *res,
					      void *action)
{
	struct goslab_compat_action *a = res->data, *b = action;

	return res->free == goslab_compat_action_free &&
	       a->fn == b->fn && a->arg == b->arg;
}

static inline int kunit_add_action_or_reset(struct kunit *test,
					    kunit_action_t *fn, void *arg)
{
	struct goslab_compat_action *a = kmalloc(sizeof(*a), GFP_KERNEL);

	if (a) {
		a->fn = fn;
		a->arg = arg;
		if (kunit_alloc_resource(test, goslab_compat_action_init,
					 goslab_compat_action_free,
					 GFP_KERNEL, a))
			return 0;
		kfree(a);
	}
	fn(arg);
	return -ENOMEM;
}

static inline void kunit_release_action(struct kunit *test,
					kunit_action_t *fn, void *arg)
{
	struct goslab_compat_action key = { .fn = fn, .arg = arg };

	kunit_destroy_resource(test, goslab_compat_action_match, &key);
}

/* Forget the action without running it (a NULL fn is not run). */
static inline void kunit_remove_action(struct kunit *test,
				       kunit_action_t *fn, void *arg)
{
	struct goslab_compat_action key = { .fn = fn, .arg = arg };
	struct kunit_resource *res;

	res = kunit_find_resource(test, goslab_compat_action_match, &key);
	if (!res)
		return;
	((struct goslab_compat_action *)res->data)->fn = NULL;
	kunit_remove_resource(test, res);
	kunit_put_resource(res);
}
#endif
#endif /* _KUNIT_TEST_H */

/* __assign_str() (trace events) lost its source argument in 6.10. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define goslab_assign_str(dst, src)	__assign_str(dst)
#else
#define goslab_assign_str(dst, src)	__assign_str(dst, src)
#endif

/*
 * A stack into the depot, allocating a new pool only if @can_alloc: the
 * flags argument replaced __stack_depot_save()'s bool in 6.8 (tested by
 * the flag's name).
 */
#ifdef STACK_DEPOT_FLAG_CAN_ALLOC
#define goslab_stack_depot_save(entries, n, gfp, can_alloc)		\
	stack_depot_save_flags(entries, n, gfp,				\
			       (can_alloc) ? STACK_DEPOT_FLAG_CAN_ALLOC : 0)
#else
#define goslab_stack_depot_save(entries, n, gfp, can_alloc)		\
	__stack_depot_save(entries, n, 0, gfp, can_alloc)
#endif

#endif /* _GOSLAB_COMPAT_H */
