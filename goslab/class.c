// SPDX-License-Identifier: GPL-2.0
/*
 * class.c - the life of a span class, whatever kind it is.
 *
 * goslab_alloc()'s 134 size classes, the tiny allocator's class and every
 * typed cache are span classes: a geometry, an mcentral and a slot in
 * every CPU's mcache. They are all created by goslab_class_create() and
 * all torn down by class_give_back() and class_free(): at runtime, for a typed cache, by
 * goslab_class_destroy() (which refuses while objects are live), and at
 * unload by goslab_classes_exit(). What only one kind of class knows (the
 * tiny allocator's block words, a typed cache's container) reaches the
 * layers below through the class's ops, never through a call upward.
 *
 * Something above the allocator that wants to follow classes as they
 * come and go (debugfs's caches/<name>/) registers an observer, called
 * under goslab_class_mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include "internal.h"

struct goslab_class goslab_classes[GOSLAB_NUM_SPAN_CLASSES];
EXPORT_SYMBOL_IF_KUNIT(goslab_classes);

/* Under goslab_class_mutex. */
static const struct goslab_class_observer *class_observer;

static struct goslab_class *find_class_locked(const char *name)
{
	struct goslab_class *cls;

	lockdep_assert_held(&goslab_class_mutex);
	for_each_goslab_class(cls)
		if (!strcmp(cls->name, name))
			return cls;
	return NULL;
}

/**
 * goslab_class_create() - set up a span class and make it allocatable
 * @cls: zeroed storage for the class (static, or inside its owner)
 * @spec: its name (copied), geometry, page flags, constructor and ops
 *
 * Context: process context; may sleep.
 * Return: 0, -EEXIST when another class has the name (with a pr_warn),
 * -EINVAL for a tiny class without its ops, or -ENOMEM.
 */
int goslab_class_create(struct goslab_class *cls,
			const struct goslab_class_spec *spec)
{
	int cpu;

	might_sleep();
	/* The free path calls these for every object of a tiny span. */
	if (WARN_ON_ONCE(spec->tiny &&
			 (!spec->ops || !spec->ops->free_object ||
			  !spec->ops->free_rcu || !spec->ops->object_size)))
		return -EINVAL;
	cls->name = kstrdup(spec->name, GFP_KERNEL);
	cls->slot = alloc_percpu(struct mcache_slot);
	cls->nelems = spec->npages * GOSLAB_PAGE_SIZE / spec->elemsize;
	if (!cls->name || !cls->slot || mheap_desc_cache_get(cls->nelems))
		goto nomem;
	cls->elemsize = spec->elemsize;
	cls->npages = spec->npages;
	/* Go's divMagic: exact for every offset inside a span. */
	cls->divmul = (u32)(U32_MAX / spec->elemsize) + 1;
	cls->page_gfp = spec->page_gfp;
	cls->tiny = spec->tiny;
	cls->typed_cache = spec->typed_cache;
	cls->typesafe_rcu = spec->typesafe_rcu;
	cls->ctor = spec->ctor;
	cls->ops = spec->ops;
	for_each_possible_cpu(cpu)
		per_cpu_ptr(cls->slot, cpu)->span = &goslab_emptymspan;
	mcentral_init(&cls->central);

	mutex_lock(&goslab_class_mutex);
	if (find_class_locked(cls->name)) {
		mutex_unlock(&goslab_class_mutex);
		pr_warn("%s(%s): the name is in use\n", spec->api, cls->name);
		free_percpu(cls->slot);
		kfree(cls->name);
		return -EEXIST;
	}
	goslab_track_new_class(cls);
	list_add_tail_rcu(&cls->node, &goslab_class_list);
	if (class_observer)
		class_observer->add(cls);
	mutex_unlock(&goslab_class_mutex);
	return 0;
nomem:
	free_percpu(cls->slot);
	kfree(cls->name);
	return -ENOMEM;
}

/* Take @cls off the class list; walkers under RCU may still see it. */
static void class_unlist(struct goslab_class *cls)
{
	lockdep_assert_held(&goslab_class_mutex);
	list_del_rcu(&cls->node);
	/* Its files first: a store_user write in flight ends before. */
	if (class_observer)
		class_observer->remove(cls);
	goslab_track_class_gone(cls);
}

/*
 * The one teardown, in two steps. First every span goes back to mheap
 * (live objects' too, which are reported): no CPU caches a span of the
 * class any more, and it is off the class list.
 */
static void class_give_back(struct goslab_class *cls)
{
	unsigned long live = mcentral_destroy(cls);

	if (live)
		pr_err("%s: %lu %s never freed; their memory is given back at unload\n",
		       cls->name, live,
		       cls->tiny ? "blocks with objects" : "objects");
}

/*
 * Then the class's own memory, once nothing can reach it: no walker of
 * the class list, and no lookup of a pointer into one of its spans (a
 * stale pointer's free reads the span's class, its slots and its lock).
 */
static void class_free(struct goslab_class *cls)
{
	free_percpu(cls->slot);
	kfree(cls->name);
	if (cls->ops && cls->ops->release)
		cls->ops->release(cls);
}

/* The CPUs let go of whatever they hold of @cls. */
static void class_flush(struct goslab_class *cls)
{
	if (cls->ops && cls->ops->flush)
		cls->ops->flush(cls);
	mcache_flush_class(cls);
}

/**
 * goslab_classes_flush() - the CPUs let go of everything they hold
 *
 * What a kind of class keeps above the mcache (tiny blocks), then every
 * mcache slot: each span goes back to its mcentral, swept.
 *
 * Context: process context; may sleep.
 */
void goslab_classes_flush(void)
{
	struct goslab_class *cls;

	mutex_lock(&goslab_class_mutex);
	for_each_goslab_class(cls)
		if (cls->ops && cls->ops->flush)
			cls->ops->flush(cls);
	mutex_unlock(&goslab_class_mutex);
	mcache_flush_all();
}

/**
 * goslab_class_destroy() - tear a class down unless objects are live
 * @cls: the class; its owner allocates from it no more
 * @api: the function the caller called, for reports
 *
 * Waits for the background sweeper, takes every CPU's span of the class
 * back and sweeps them. If objects are still live, reports how many and
 * a few of them and keeps everything (the caller keeps the class, so
 * that the objects can still be freed and the memory stays accounted).
 * Otherwise gives every span back and frees the class's memory, the
 * owner's container with it (ops->release).
 *
 * Context: process context; may sleep.
 * Return: 0 when the class is gone, else the objects still live.
 */
unsigned long goslab_class_destroy(struct goslab_class *cls, const char *api)
{
	struct goslab_class_stats st;

	might_sleep();
	goslab_bg_pause();
	class_flush(cls);
	mcentral_shrink(cls);
	goslab_read_class_stats(cls, &st);
	if (st.live) {
		pr_err("%s(%s): %lu objects still allocated; keeping their memory\n",
		       api, cls->name, st.live);
		mcentral_report_live(cls, 4);
		goslab_bg_resume();
		return st.live;
	}
	mutex_lock(&goslab_class_mutex);
	class_unlist(cls);
	mutex_unlock(&goslab_class_mutex);
	/*
	 * Walkers that still see the class (the sweep credit, a flush of
	 * every class) take its lock or find its slots empty.
	 */
	class_give_back(cls);
	/* A type-safe class's spans go back once their grace period ends. */
	if (cls->typesafe_rcu) {
		rcu_barrier();
		mheap_release_rcu_spans();
	}
	/* Nothing walks the class or looks up its spans any more. */
	synchronize_rcu();
	class_free(cls);
	goslab_bg_resume();
	return 0;
}

/**
 * goslab_class_observe() - follow classes as they are created and go
 * @obs: called for every class now and for each created later (add),
 *	and for each as it goes (remove); NULL calls the current
 *	observer's remove for every class and stops
 *
 * Context: process context.
 */
void goslab_class_observe(const struct goslab_class_observer *obs)
{
	struct goslab_class *cls;

	mutex_lock(&goslab_class_mutex);
	for_each_goslab_class(cls) {
		if (obs)
			obs->add(cls);
		else if (class_observer)
			class_observer->remove(cls);
	}
	class_observer = obs;
	mutex_unlock(&goslab_class_mutex);
}

/**
 * goslab_size_classes_init() - create goslab_alloc()'s span classes
 *
 * Go's size classes, each twice: with and without __GFP_RECLAIMABLE
 * pages. On failure the caller unwinds with goslab_classes_exit().
 *
 * Context: module load.
 * Return: 0 or -ENOMEM.
 */
int goslab_size_classes_init(void)
{
	unsigned int sc, rcl;
	char name[24];
	int ret;

	for (sc = 1; sc < GOSLAB_NUM_SIZE_CLASSES; sc++) {
		for (rcl = 0; rcl < 2; rcl++) {
			struct goslab_class_spec spec = {
				.name = name,
				.api = __func__,
				.elemsize = goslab_class_to_size[sc],
				.npages = goslab_class_to_allocnpages[sc],
				.page_gfp = rcl ? __GFP_RECLAIMABLE : 0,
			};

			snprintf(name, sizeof(name), "goslab%s-%u",
				 rcl ? "-rcl" : "", spec.elemsize);
			ret = goslab_class_create(&goslab_classes[goslab_span_class(sc, rcl)],
						  &spec);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/**
 * goslab_classes_exit() - tear down every class left, newest first
 *
 * Typed caches their users did not destroy, the tiny class, the size
 * classes: each through class_give_back(), which reports the objects
 * never freed and gives their memory back, and class_free().
 *
 * Context: module unload (or a failed load); nothing allocates, frees or
 * walks the classes any more, so no grace period is needed.
 */
void goslab_classes_exit(void)
{
	struct goslab_class *cls, *tmp;

	goslab_classes_flush();
	mutex_lock(&goslab_class_mutex);
	list_for_each_entry_safe_reverse(cls, tmp, &goslab_class_list, node) {
		class_unlist(cls);
		class_give_back(cls);
		class_free(cls);
	}
	mutex_unlock(&goslab_class_mutex);
	/*
	 * Type-safe caches left by their users: their spans wait for a grace
	 * period (the background work is stopped). The release reads no
	 * class.
	 */
	rcu_barrier();
	mheap_release_rcu_spans();
}
