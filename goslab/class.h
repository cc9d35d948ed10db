/* SPDX-License-Identifier: GPL-2.0 */
/*
 * class.h - a span class: geometry, mcentral, mcache slots, and what
 * only its kind knows (class.c).
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_CLASS_H
#define _GOSLAB_CLASS_H

/*
 * The longest span of a typed cache, in goslab pages (Go's rule, capped):
 * every kernel page of any class's span can be given back while in use.
 */
#define GOSLAB_CACHE_MAX_SPAN_PAGES	16
static_assert(GOSLAB_CACHE_MAX_SPAN_PAGES * GOSLAB_KPAGES_PER_PAGE <=
	      GOSLAB_MAX_RELEASED_KPAGES);
static_assert(GOSLAB_MAX_SPAN_PAGES <= GOSLAB_CACHE_MAX_SPAN_PAGES);

struct rcu_fold;

/**
 * struct goslab_class_ops - what only one kind of class knows
 * @free_object: free the object at @p inside slot-sized blocks of @s (the
 *	tiny class); the cpu lock held. Returns 0 or -GOSLAB_ERR_*
 * @free_rcu: goslab_free_rcu() of such an object; the cpu lock held.
 *	Returns as @free_object, and sets *@f and *@arm for
 *	goslab_rcu_mark_done()
 * @object_size: the size of the object at @p, or 0 with *@err set
 * @span_is_valid: check what the kind keeps per span (mspan_is_valid())
 * @flush: every CPU lets go of what it holds of the class above its
 *	mcache slot (a tiny block); may sleep
 * @release: free the class's container once the class is torn down
 *
 * @free_object, @free_rcu and @object_size are required of a class whose
 * spans carry tiny block words (the free paths call them for every
 * object of such a span); every other member may be NULL, and the size
 * classes have no ops at all.
 */
struct goslab_class_ops {
	int (*free_object)(struct mspan *s, const void *p);
	int (*free_rcu)(struct mspan *s, const void *p, struct rcu_fold *f,
			bool *arm);
	size_t (*object_size)(struct mspan *s, const void *p, int *err);
	bool (*span_is_valid)(const struct mspan *s);
	void (*flush)(struct goslab_class *cls);
	void (*release)(struct goslab_class *cls);
};

/**
 * struct goslab_class_spec - what goslab_class_create() builds a class from
 * @name: unique among classes; copied
 * @api: the caller's API function, for reports
 * @elemsize: object size
 * @npages: goslab pages per span
 * @page_gfp: extra gfp bits for the spans' pages (__GFP_RECLAIMABLE)
 * @tiny: spans carry the tiny allocator's block words
 * @typed_cache: a goslab_cache_create() cache (its events are
 *	goslab_cache_alloc's)
 * @ctor: constructor run on each object when a span is carved, or NULL
 * @typesafe_rcu: spans that empty wait a grace period before going back
 *	to the heap, and objects keep their bytes across free and allocation
 *	(GOSLAB_TYPESAFE_BY_RCU)
 * @ops: the kind's behaviour, or NULL
 */
struct goslab_class_spec {
	const char *name;
	const char *api;
	unsigned int elemsize;
	unsigned int npages;
	gfp_t page_gfp;
	bool tiny;
	bool typed_cache;
	bool typesafe_rcu;
	void (*ctor)(void *obj);
	const struct goslab_class_ops *ops;
};

/**
 * struct goslab_class_observer - follows classes as they come and go
 * @add: a class was created (or existed when observing began)
 * @remove: a class goes (or observing stops)
 *
 * Called under goslab_class_mutex; may sleep.
 */
struct goslab_class_observer {
	void (*add)(struct goslab_class *cls);
	void (*remove)(struct goslab_class *cls);
};

/**
 * struct goslab_class - a span class: geometry, mcentral, mcache slots
 * @name: for reports and debugfs
 * @elemsize: object size
 * @npages: goslab pages per span
 * @nelems: objects per span
 * @divmul: reciprocal of @elemsize
 * @page_gfp: extra gfp bits for the span's pages (__GFP_RECLAIMABLE)
 * @node: on goslab_class_list (RCU; written under goslab_class_mutex)
 * @ctor: constructor run on each object when a span is carved, or NULL
 * @tiny: the tiny allocator's class of 16-byte blocks (tiny.c)
 * @typed_cache: a goslab_cache_create() cache
 * @track: its objects' owners are recorded (track.c; under its mutex)
 * @track_gen: how often tracking was turned on: records of an earlier
 *	time are void (track.c)
 * @typesafe_rcu: GOSLAB_TYPESAFE_BY_RCU: an emptied span goes back to the
 *	heap a grace period later (mheap_free_span()); no zeroing or poison
 *	of objects at free, no scavenging of spans in use
 * @ops: what only this kind of class knows, or NULL
 * @dup_frees: frees counted twice: racing double frees found by sweeps
 * @rcu_pending: objects passed to goslab_free_rcu() whose generation is
 *	not folded yet, counted live until then (not the tiny class's)
 * @recount: the slow recount's scratch (goslab_read_stats_slow())
 * @debugfs: its caches/<name>/ directory and files (debugfs.c's)
 * @slot: this class's slot in each CPU's mcache
 * @central: the class's mcentral
 */
struct goslab_class {
	struct list_head node;
	const char *name;
	unsigned int elemsize;
	unsigned int npages;
	unsigned int nelems;
	u32 divmul;
	gfp_t page_gfp;
	bool tiny;
	bool typed_cache;
	bool typesafe_rcu;
	bool track;
	u32 track_gen;
	void (*ctor)(void *obj);
	const struct goslab_class_ops *ops;
	atomic_long_t dup_frees;
	atomic_long_t rcu_pending;
	struct goslab_class_stats recount;
	void *debugfs;
	struct mcache_slot __percpu *slot;
	struct mcentral central;
};

extern struct goslab_class goslab_classes[GOSLAB_NUM_SPAN_CLASSES];

/* class.c */
int goslab_class_create(struct goslab_class *cls,
			const struct goslab_class_spec *spec);
unsigned long goslab_class_destroy(struct goslab_class *cls, const char *api);
void goslab_class_observe(const struct goslab_class_observer *obs);
void goslab_classes_flush(void);
int goslab_size_classes_init(void);
void goslab_classes_exit(void);

#endif /* _GOSLAB_CLASS_H */
