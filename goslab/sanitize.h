/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sanitize.h - what goslab tells KASAN and kmemleak about its objects.
 *
 * Included through internal.h, which orders the layers' headers.
 */
#ifndef _GOSLAB_SANITIZE_H
#define _GOSLAB_SANITIZE_H

/* sanitize.c: KASAN's shadow values for goslab's memory (mm/kasan/). */
#define GOSLAB_KASAN_UNALLOCATED	0xFC	/* KASAN_SLAB_REDZONE */
#define GOSLAB_KASAN_FREED		0xFB	/* KASAN_SLAB_FREE */
#define GOSLAB_KASAN_HEAP_FREE		0xFF	/* KASAN_PAGE_FREE */

#ifdef CONFIG_KASAN_GENERIC
void goslab_kasan_poison(const void *p, size_t size, u8 value);
void goslab_kasan_unpoison(const void *p, size_t size);
void goslab_kasan_alloc(void *p, size_t size, unsigned int elemsize,
			bool init);
void goslab_kasan_free(void *p, unsigned int elemsize, bool init);
size_t goslab_valid_bytes(const void *p, size_t usable);
#else
static inline void goslab_kasan_poison(const void *p, size_t size, u8 value)
{
}

static inline void goslab_kasan_unpoison(const void *p, size_t size)
{
}

static inline void goslab_kasan_alloc(void *p, size_t size,
				      unsigned int elemsize, bool init)
{
}

static inline void goslab_kasan_free(void *p, unsigned int elemsize,
				     bool init)
{
}

static inline size_t goslab_valid_bytes(const void *p, size_t usable)
{
	return usable;
}
#endif
void goslab_forget_live_objects(struct mspan *s);

/*
 * The fast paths' one test for work after an allocation (before a free):
 * on while init_on_alloc (init_on_free) is, or while an allocation (free)
 * event is enabled (trace.h), each of which takes a reference. The paths
 * they lead to decide exactly what to do; the keys only say whether to go
 * there. One key where the kernel's init_on_* key was tested before:
 * events add nothing to the fast paths while they are off.
 */
DECLARE_STATIC_KEY_FALSE(goslab_alloc_hooks);
DECLARE_STATIC_KEY_FALSE(goslab_free_hooks);
void goslab_hooks_init(void);

/* track.c: owner tracking, where goslab_pre_free() records a free. */
struct seq_file;
void goslab_track_alloc(void *p, gfp_t gfp, unsigned long ip);
void goslab_track_free(void *p);
DECLARE_PER_CPU(unsigned long, goslab_track_free_ip);

/*
 * Name the caller of the free about to be made on this CPU (0: not
 * known), for goslab_track_free(). A store, cheaper than testing whether
 * anything is tracked; the cpu lock held, or a raw spinlock.
 */
static __always_inline void goslab_track_free_caller(unsigned long ip)
{
	this_cpu_write(goslab_track_free_ip, ip);
}

void goslab_track_release(struct mspan *s);
void goslab_track_report(const void *p);
int goslab_track_describe(const void *p, char *buf, size_t size);
void goslab_track_new_class(struct goslab_class *cls);
void goslab_track_class_gone(struct goslab_class *cls);
int goslab_class_set_track(struct goslab_class *cls, bool on);
int goslab_track_show_traces(struct seq_file *m, struct goslab_class *cls,
			     bool free);
int goslab_track_show_callers(struct seq_file *m);
unsigned long goslab_track_dropped(void);

/*
 * Is an object of @cls zeroed when handed out (init_on_alloc, __GFP_ZERO)?
 * Not a constructed one, nor a type-safe one unless __GFP_ZERO asks. The
 * static key first: the class is not read when it is off.
 */
static __always_inline bool goslab_init_on_alloc(const struct goslab_class *cls,
						 gfp_t gfp)
{
	return want_init_on_alloc(gfp) && !cls->ctor &&
	       (!cls->typesafe_rcu || (gfp & __GFP_ZERO));
}

/* Is an object of @cls zeroed when freed (init_on_free)? */
static __always_inline bool goslab_init_on_free(const struct goslab_class *cls)
{
	return want_init_on_free() && !cls->ctor && !cls->typesafe_rcu;
}

/**
 * goslab_post_alloc() - an object of @cls is handed out for @size bytes
 * @cls: its class (not the tiny one)
 * @p: the object
 * @size: the bytes the caller asked for
 * @gfp: the caller's flags
 *
 * Zeroes it for init_on_alloc or __GFP_ZERO (a class with a constructor
 * keeps its constructed state, as SLUB's do, and a type-safe one its
 * bytes unless __GFP_ZERO asks: a reader may still check them), tells
 * KASAN which bytes are the caller's and kmemleak that the object exists.
 */
static __always_inline void goslab_post_alloc(const struct goslab_class *cls,
					      void *p, size_t size, gfp_t gfp)
{
	bool init = goslab_init_on_alloc(cls, gfp);

	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		goslab_kasan_alloc(p, size, cls->elemsize, init);
	else if (unlikely(init))
		memset(p, 0, cls->elemsize);
	kmemleak_alloc(p, cls->elemsize, 1, gfp);
}

/*
 * Would goslab_pre_free() do nothing to an object of @cls (nor owner
 * tracking)? The key first: it is on whenever init_on_free is, or a
 * class is tracked, so while it is off one test answers.
 */
static __always_inline bool goslab_pre_free_is_noop(const struct goslab_class *cls)
{
	if (IS_ENABLED(CONFIG_KASAN_GENERIC) ||
	    IS_ENABLED(CONFIG_DEBUG_KMEMLEAK))
		return false;
	if (!static_branch_unlikely(&goslab_free_hooks))
		return true;
	return !goslab_init_on_free(cls) && !READ_ONCE(cls->track);
}

/*
 * Would goslab_post_alloc() do nothing to an object of @cls (nor owner
 * tracking)? While the key is off, init_on_alloc is: only __GFP_ZERO
 * zeroes (not a constructed object).
 */
static __always_inline bool goslab_post_alloc_is_noop(const struct goslab_class *cls,
						      gfp_t gfp)
{
	if (IS_ENABLED(CONFIG_KASAN_GENERIC) ||
	    IS_ENABLED(CONFIG_DEBUG_KMEMLEAK))
		return false;
	if (!static_branch_unlikely(&goslab_alloc_hooks))
		return !(gfp & __GFP_ZERO) || cls->ctor;
	return !goslab_init_on_alloc(cls, gfp) && !READ_ONCE(cls->track);
}

/*
 * May the free fast path skip goslab_pre_free() and the free events? One
 * static key, before anything of the object is read.
 */
static __always_inline bool goslab_free_hooks_off(void)
{
	return !IS_ENABLED(CONFIG_KASAN_GENERIC) &&
	       !IS_ENABLED(CONFIG_DEBUG_KMEMLEAK) &&
	       !static_branch_unlikely(&goslab_free_hooks);
}

/*
 * May the allocation fast path skip goslab_post_alloc() and the
 * allocation events? The static key, then the caller's flags.
 */
static __always_inline bool goslab_alloc_hooks_off(gfp_t gfp)
{
	return !IS_ENABLED(CONFIG_KASAN_GENERIC) &&
	       !IS_ENABLED(CONFIG_DEBUG_KMEMLEAK) &&
	       !static_branch_unlikely(&goslab_alloc_hooks) &&
	       !(gfp & __GFP_ZERO);
}

/**
 * goslab_pre_free() - an object of @cls is about to be freed
 * @cls: its class (not the tiny one)
 * @p: the object, checked and not yet published as free
 *
 * Under the exclusion of internal.h's free protocol: on the CPU caching
 * the span or under its free_lock, so that nothing written here lands
 * after the slot is someone else's. A type-safe class's object is left
 * as it is (SLUB's way): RCU readers may still read it legitimately.
 */
static __always_inline void goslab_pre_free(const struct goslab_class *cls,
					    void *p)
{
	bool init = false;

	/*
	 * The fast paths' key first, the one test of every object of a bulk
	 * free: it is on whenever init_on_free is, or a class is tracked.
	 */
	if (static_branch_unlikely(&goslab_free_hooks)) {
		if (unlikely(READ_ONCE(cls->track)))
			goslab_track_free(p);
		init = goslab_init_on_free(cls);
	}
	kmemleak_free(p);
	if (cls->typesafe_rcu)
		return;
	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		goslab_kasan_free(p, cls->elemsize, init);
	else if (unlikely(init))
		memset(p, 0, cls->elemsize);
}

#endif /* _GOSLAB_SANITIZE_H */
