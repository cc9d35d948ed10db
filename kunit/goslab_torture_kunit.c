// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_torture: a seeded random mix of everything goslab does, from
 * several threads and from hardirq timers at once, checked against a
 * shadow model.
 *
 * The model holds every live object: its address, the size asked for,
 * its usable size, the bytes its owner may use, its kind and a tag from
 * which a pattern over those bytes is computed. A new object goes into
 * an interval tree, where it must overlap no live object (one owner per
 * byte) and lie on no kernel page given back, and is filled with its
 * pattern. An object to be freed is first claimed (taken out of the list
 * other threads pick from), its pattern checked, and it leaves the model
 * before goslab frees it (the memory may be handed out again at once).
 * Usable sizes are checked, and deliberate misuse (double frees, also
 * two CPUs freeing one object at once, interior and wild pointers, the
 * wrong cache) must each be reported exactly once and change nothing.
 * Every validate_every operations the workers park, the CPUs' caches are
 * flushed and every span swept, and every validator, the slow recount,
 * the model's recount and the count of reported misuse must agree. At
 * the end everything is freed and shrunk, and every kernel page goslab
 * took must be back.
 *
 * Operations: goslab_alloc (sizes weighted to the small classes, with
 * large ones; GFP_KERNEL, GFP_ATOMIC with IRQs off, __GFP_ZERO,
 * __GFP_RECLAIMABLE, __GFP_NOFAIL), goslab_alloc_tiny, goslab_realloc,
 * goslab_usable_size, goslab_free_rcu (the object must stay intact and
 * not be handed out while the read-side section around the call runs),
 * typed caches created and destroyed during the run
 * (sizes, alignments, constructors, GOSLAB_TYPESAFE_BY_RCU, bulk
 * allocation and free), lock-free reads of a type-safe cache's objects
 * (inside the read-side section, the memory of an object found live
 * stays a span of that cache however it is freed and reused), frees
 * from any thread on any CPU, goslab_shrink, goslab_cache_shrink, the
 * shrinker's scan, the background work, owner tracking turned on and
 * off, threads moving between CPUs
 * (the caches they leave become remote), CPU hotplug at validation
 * points, page-allocation fault injection, and hrtimer callbacks that
 * allocate and free in hardirq context.
 *
 * The seed (random unless given) is printed first; a failure prints it
 * and each thread's last operations. make torture SEED=... OPS=...
 * THREADS=... runs it as long as asked; make check runs a bounded run.
 */
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/goslab.h>
#include "goslab_test.h"

static unsigned int seed;
module_param(seed, uint, 0444);
MODULE_PARM_DESC(seed, "seed of the run (0: a random one, printed)");
static unsigned long ops = 1000000;
module_param(ops, ulong, 0444);
MODULE_PARM_DESC(ops, "operations of all threads together");
static unsigned int threads;
module_param(threads, uint, 0444);
MODULE_PARM_DESC(threads, "worker threads (0: one per online CPU, at least 2)");
static unsigned int seconds = 60;
module_param(seconds, uint, 0444);
MODULE_PARM_DESC(seconds, "stop early after this long (0: run all ops)");
static unsigned int validate_every = 5000;
module_param(validate_every, uint, 0444);
MODULE_PARM_DESC(validate_every, "operations between full validations");
static bool hotplug = true;
module_param(hotplug, bool, 0444);
static bool timers = true;
module_param(timers, bool, 0444);
MODULE_PARM_DESC(timers, "allocate and free in hardirq timer callbacks too");
MODULE_PARM_DESC(hotplug, "take a CPU offline and back at validation points");

#define T_MAX_THREADS	16
#define T_MAX_LIVE	12000
#define T_MAX_LARGE	24
#define T_NCACHES	4
#define T_RING		16
#define T_TIMER_OBJS	8
#define T_TIMER_PERIOD_NS	(500 * NSEC_PER_USEC)
#define T_BULK		16
#define T_BURST		512
#define T_CTOR_MAGIC	0x6f7374727563744cULL

enum tkind { T_KMALLOC, T_TINY, T_LARGE, T_CACHE };

struct tobj {
	struct rb_node node;
	void *p;
	u32 size;	/* asked for */
	u32 usable;	/* what goslab_usable_size() must say */
	u32 valid;	/* bytes the owner may use, which hold the pattern */
	u32 tag;
	u8 kind;
	s8 cache;	/* T_CACHE: its slot in shadow.caches[] */
	bool listed;	/* in shadow.live[] at @slot: pickable */
	unsigned int slot;
};

/*
 * A typed cache of the run. @active counts operations on it in flight
 * (an allocation, a claimed object); a thread that recreates it sets
 * @dying, which stops new ones, and waits for @active to drop to 0.
 */
struct tcache {
	struct goslab_cache *c;
	unsigned int size, align, gen;
	bool ctor;
	bool typesafe;
	bool dying;
	atomic_t active;
};

/* The shadow model; everything here under @lock (IRQ-safe: timers). */
static struct {
	spinlock_t lock;	/* the model: IRQ-safe, the timers use it */
	struct rb_root tree;	/* every live object, claimed or not */
	struct tobj **live;	/* the pickable ones */
	unsigned int nlive;
	struct tobj *pool;
	struct tobj **free;
	unsigned int nfree;
	unsigned int nlarge;
	struct tcache caches[T_NCACHES];
} shadow;

struct top {
	u8 op;
	u8 kind;
	u32 size;
	void *p;
};

struct tthread {
	unsigned int id;
	struct rnd_state rng;
	unsigned long done;
	unsigned long nulls;
	unsigned long expected;	/* misuse this thread made */
	struct top ring[T_RING];
	unsigned int ring_pos;
	struct task_struct *task;
	struct hrtimer timer;
	struct rnd_state timer_rng;
	struct tobj *timer_objs[T_TIMER_OBJS];
	unsigned long timer_ops;
	bool timer_stop;
	void *bulk[T_BULK];
	struct tobj *burst[T_BURST];
	unsigned int nbulk;
	int bulk_cache;
	unsigned int bulk_gen;
};

/* A duel: an object two CPUs free at once, posted by its owner. */
struct tduel {
	spinlock_t lock;	/* who is owner and partner */
	struct tthread *owner;
	unsigned int owner_cpu;
	struct tthread *partner;
	void *obj;
	unsigned int gen;	/* the duel's number */
	atomic_t phase;	/* duel_phase(gen, DUEL_WAIT ... DUEL_ABANDONED) */
};

static struct {
	struct tthread t[T_MAX_THREADS];
	unsigned int nthreads;
	atomic_long_t started;	/* operations begun */
	unsigned long target;
	atomic_t failed;
	bool stop;
	bool pause;
	atomic_t parked;
	atomic_t running;
	struct completion all_done;
	struct tduel duel;
	struct goslab_cache *duel_cache;
	atomic_long_t duels;
	u64 deadline;
	unsigned int seed;
	unsigned int validations;
	bool faults;
} tor;

enum {
	OP_ALLOC, OP_TINY, OP_REALLOC, OP_FREE, OP_USABLE, OP_CACHE_ALLOC,
	OP_CACHE_BULK, OP_CACHE_FREE_BULK, OP_DOUBLE_FREE, OP_INTERIOR,
	OP_WILD, OP_WRONG_CACHE, OP_DUEL, OP_SHRINK, OP_CACHE_SHRINK, OP_SCAN,
	OP_BG_FLUSH, OP_MIGRATE, OP_CACHE_RECREATE, OP_FAULTS, OP_BURST,
	OP_CHURN, OP_BULK_MISUSE, OP_FREE_RCU, OP_TYPESAFE_READ, OP_TRACK,
	NR_OPS,
};

static const char * const op_names[NR_OPS] = {
	"alloc", "alloc_tiny", "realloc", "free", "usable_size",
	"cache_alloc", "cache_alloc_bulk", "cache_free_bulk", "double_free",
	"interior_free", "wild_free", "wrong_cache_free", "duel", "shrink",
	"cache_shrink", "shrinker_scan", "bg_flush", "migrate",
	"cache_recreate", "faults", "burst", "churn", "bulk_misuse",
	"free_rcu", "typesafe_read", "store_user",
};

/* Relative weights of the operations. */
static const u16 op_weight[NR_OPS] = {
	[OP_ALLOC] = 300, [OP_TINY] = 80, [OP_REALLOC] = 40, [OP_FREE] = 440,
	[OP_USABLE] = 20, [OP_CACHE_ALLOC] = 150, [OP_CACHE_BULK] = 15,
	[OP_CACHE_FREE_BULK] = 15, [OP_DOUBLE_FREE] = 6, [OP_INTERIOR] = 4,
	[OP_WILD] = 3, [OP_WRONG_CACHE] = 3, [OP_DUEL] = 4, [OP_SHRINK] = 1,
	[OP_CACHE_SHRINK] = 2, [OP_SCAN] = 2, [OP_BG_FLUSH] = 1,
	[OP_MIGRATE] = 4, [OP_CACHE_RECREATE] = 1, [OP_FAULTS] = 2,
	[OP_BURST] = 6, [OP_CHURN] = 1, [OP_BULK_MISUSE] = 3,
	[OP_FREE_RCU] = 60, [OP_TYPESAFE_READ] = 20, [OP_TRACK] = 2,
};

/* prandom: the same sequence for the same seed. Below @n, unbiased enough. */
static u32 trand_below(struct rnd_state *s, u32 n)
{
	return (u32)(((u64)prandom_u32_state(s) * n) >> 32);
}

static void tnote(struct tthread *t, unsigned int op, unsigned int kind,
		  u32 size, void *p)
{
	struct top *o = &t->ring[t->ring_pos++ % T_RING];

	o->op = op;
	o->kind = kind;
	o->size = size;
	o->p = p;
}

static void tdump(struct tthread *t)
{
	unsigned int i;

	pr_err("goslab_torture: seed %u: thread %u after %lu operations; its last ones, oldest first:\n",
	       tor.seed, t->id, t->done);
	for (i = 0; i < T_RING; i++) {
		struct top *o = &t->ring[(t->ring_pos + i) % T_RING];

		if (o->p || o->size)
			pr_err("goslab_torture:   %-17s kind %u size %u at %p\n",
			       op_names[o->op], o->kind, o->size, o->p);
	}
}

/* A failure: print it with the seed and the thread's last operations. */
static __printf(2, 3) void tfail(struct tthread *t, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("goslab_torture: FAILED (seed %u): %pV", tor.seed, &vaf);
	va_end(args);
	if (t)
		tdump(t);
	atomic_inc(&tor.failed);
	WRITE_ONCE(tor.stop, true);
}

static u8 tpattern(u32 tag, size_t i)
{
	u64 w = ((u64)tag << 32 | tag) ^ ((i / 8) * 0x9E3779B97F4A7C15ULL);

	return (u8)(w >> (i % 8 * 8));
}

static void tfill(void *p, size_t from, size_t to, u32 tag)
{
	size_t i;

	for (i = from; i < to; i++)
		((u8 *)p)[i] = tpattern(tag, i);
}

/* The first byte in [@from, @to) not holding the pattern, or @to. */
static size_t tcheck(const void *p, size_t from, size_t to, u32 tag)
{
	size_t i;

	for (i = from; i < to; i++)
		if (((const u8 *)p)[i] != tpattern(tag, i))
			return i;
	return to;
}

static bool tctor_obj(const struct tobj *o)
{
	return o->kind == T_CACHE && shadow.caches[o->cache].ctor;
}

/* A constructed object keeps its constructor's word; the pattern follows. */
static size_t tpattern_start(const struct tobj *o)
{
	return tctor_obj(o) ? sizeof(u64) : 0;
}

static void tctor(void *p)
{
	*(u64 *)p = T_CTOR_MAGIC;
}

/* Insert @o into the tree unless it overlaps a live object. Locked. */
static struct tobj *tree_insert(struct tobj *o)
{
	struct rb_node **link = &shadow.tree.rb_node, *parent = NULL, *n;
	unsigned long start = (unsigned long)o->p, end = start + o->usable;
	struct tobj *x;

	while (*link) {
		x = rb_entry(*link, struct tobj, node);
		parent = *link;
		link = start < (unsigned long)x->p ? &(*link)->rb_left :
						     &(*link)->rb_right;
	}
	rb_link_node(&o->node, parent, link);
	rb_insert_color(&o->node, &shadow.tree);
	n = rb_prev(&o->node);
	x = n ? rb_entry(n, struct tobj, node) : NULL;
	if (x && (unsigned long)x->p + x->usable > start)
		goto clash;
	n = rb_next(&o->node);
	x = n ? rb_entry(n, struct tobj, node) : NULL;
	if (x && (unsigned long)x->p < end)
		goto clash;
	return NULL;
clash:
	rb_erase(&o->node, &shadow.tree);
	return x;
}

static struct tobj *tree_find(const void *p)
{
	struct rb_node *n = shadow.tree.rb_node;

	while (n) {
		struct tobj *x = rb_entry(n, struct tobj, node);

		if (p == x->p)
			return x;
		n = p < x->p ? n->rb_left : n->rb_right;
	}
	return NULL;
}

static void tlist(struct tobj *o)
{
	lockdep_assert_held(&shadow.lock);
	o->listed = true;
	o->slot = shadow.nlive;
	shadow.live[shadow.nlive++] = o;
}

static void tunlist(struct tobj *o)
{
	unsigned int i = o->slot;

	lockdep_assert_held(&shadow.lock);
	o->listed = false;
	shadow.live[i] = shadow.live[--shadow.nlive];
	shadow.live[i]->slot = i;
}

static struct tobj *tobj_get(void)
{
	struct tobj *o = NULL;
	unsigned long flags;

	spin_lock_irqsave(&shadow.lock, flags);
	if (shadow.nfree > T_TIMER_OBJS * T_MAX_THREADS + T_BULK)
		o = shadow.free[--shadow.nfree];
	spin_unlock_irqrestore(&shadow.lock, flags);
	if (o)
		memset(o, 0, sizeof(*o));
	return o;
}

/* A timer's: from the reserve the others leave. */
static struct tobj *tobj_get_reserved(void)
{
	struct tobj *o = NULL;
	unsigned long flags;

	spin_lock_irqsave(&shadow.lock, flags);
	if (shadow.nfree)
		o = shadow.free[--shadow.nfree];
	spin_unlock_irqrestore(&shadow.lock, flags);
	if (o)
		memset(o, 0, sizeof(*o));
	return o;
}

static void tobj_put(struct tobj *o)
{
	unsigned long flags;

	spin_lock_irqsave(&shadow.lock, flags);
	shadow.free[shadow.nfree++] = o;
	spin_unlock_irqrestore(&shadow.lock, flags);
}

/*
 * A new object from goslab: in the model, or a failure if it overlaps a
 * live one or lies on a kernel page given back. Then filled. @listed:
 * pickable by any thread (timers keep theirs).
 */
static bool tadd(struct tthread *t, struct tobj *o, bool listed)
{
	struct tobj *clash;
	unsigned long flags;

	if (goslab_test_on_released_page(o->p)) {
		tfail(t, "object %p (%u bytes, kind %u) handed out on a kernel page given back\n",
		      o->p, o->size, o->kind);
		return false;
	}
	spin_lock_irqsave(&shadow.lock, flags);
	clash = tree_insert(o);
	if (!clash && o->kind == T_LARGE)
		shadow.nlarge++;
	spin_unlock_irqrestore(&shadow.lock, flags);
	if (clash) {
		tfail(t, "%p (%u usable, kind %u) overlaps %p (%u, kind %u): handed out twice\n",
		      o->p, o->usable, o->kind, clash->p, clash->usable,
		      clash->kind);
		return false;
	}
	/* Filled before another thread can pick it. */
	tfill(o->p, tpattern_start(o), o->valid, o->tag);
	if (listed) {
		spin_lock_irqsave(&shadow.lock, flags);
		tlist(o);
		spin_unlock_irqrestore(&shadow.lock, flags);
	}
	return true;
}

/* Take a random pickable object out of the list; NULL if none. */
static struct tobj *tclaim(struct tthread *t)
{
	struct tobj *o = NULL;
	unsigned long flags;
	unsigned int tries;

	spin_lock_irqsave(&shadow.lock, flags);
	for (tries = 0; tries < 4 && shadow.nlive; tries++) {
		o = shadow.live[trand_below(&t->rng, shadow.nlive)];
		if (o->kind == T_CACHE) {
			if (shadow.caches[o->cache].dying) {
				o = NULL;
				continue;
			}
			atomic_inc(&shadow.caches[o->cache].active);
		}
		tunlist(o);
		break;
	}
	spin_unlock_irqrestore(&shadow.lock, flags);
	return o;
}

/* Claim the object at @p if it is still pickable. */
static struct tobj *tclaim_ptr(const void *p)
{
	unsigned long flags;
	struct tobj *o;

	spin_lock_irqsave(&shadow.lock, flags);
	o = tree_find(p);
	if (o && (!o->listed ||
		  (o->kind == T_CACHE && shadow.caches[o->cache].dying)))
		o = NULL;
	if (o) {
		if (o->kind == T_CACHE)
			atomic_inc(&shadow.caches[o->cache].active);
		tunlist(o);
	}
	spin_unlock_irqrestore(&shadow.lock, flags);
	return o;
}

/* Give a claimed object back to the list. */
static void tunclaim(struct tobj *o)
{
	unsigned long flags;

	spin_lock_irqsave(&shadow.lock, flags);
	tlist(o);
	if (o->kind == T_CACHE)
		atomic_dec(&shadow.caches[o->cache].active);
	spin_unlock_irqrestore(&shadow.lock, flags);
}

/* Take a claimed object out of the model (the caller frees it). */
static void tforget(struct tobj *o)
{
	unsigned long flags;

	spin_lock_irqsave(&shadow.lock, flags);
	rb_erase(&o->node, &shadow.tree);
	if (o->kind == T_LARGE)
		shadow.nlarge--;
	spin_unlock_irqrestore(&shadow.lock, flags);
}

/* A claimed object still holds its pattern (and constructed state). */
static bool tintact(struct tthread *t, struct tobj *o)
{
	size_t bad = tcheck(o->p, tpattern_start(o), o->valid, o->tag);

	if (tctor_obj(o) && *(u64 *)o->p != T_CTOR_MAGIC) {
		tfail(t, "constructed object %p lost its constructor's state\n",
		      o->p);
		return false;
	}
	if (bad < o->valid) {
		tfail(t, "object %p (%u bytes, kind %u) overwritten at byte %zu: a second owner\n",
		      o->p, o->size, o->kind, bad);
		return false;
	}
	return true;
}

/* Check a claimed object, take it out of the model and free it. */
static void tfree(struct tthread *t, struct tobj *o)
{
	struct tcache *tc = o->kind == T_CACHE ? &shadow.caches[o->cache] :
						 NULL;
	void *p = o->p;

	if (!tintact(t, o)) {
		tunclaim(o);
		return;
	}
	tforget(o);
	tobj_put(o);
	if (tc) {
		goslab_cache_free(tc->c, p);
		atomic_dec(&tc->active);
	} else {
		goslab_free(p);
	}
}

/* What goslab_usable_size() says of goslab_alloc(@size). */
static u32 tusable(size_t size)
{
	if (size > GOSLAB_MAX_SMALL_SIZE)
		return round_up(size, GOSLAB_PAGE_SIZE);
	return goslab_class_to_size[goslab_size_to_class(size)];
}

static u32 tpick_size(struct tthread *t)
{
	u32 r = trand_below(&t->rng, 1000);

	if (r < 550)
		return 1 + trand_below(&t->rng, 256);
	if (r < 800)
		return 257 + trand_below(&t->rng, 1024 - 256);
	if (r < 950)
		return 1025 + trand_below(&t->rng, 8192 - 1024);
	if (r < 992 || READ_ONCE(shadow.nlarge) >= T_MAX_LARGE)
		return 8193 + trand_below(&t->rng, GOSLAB_MAX_SMALL_SIZE - 8192);
	return GOSLAB_MAX_SMALL_SIZE + 1 +
	       trand_below(&t->rng, 256 * 1024 - GOSLAB_MAX_SMALL_SIZE);
}

/* Flags for an allocation; *@atomic: make it with IRQs off. */
static gfp_t tpick_gfp(struct tthread *t, bool *atomic)
{
	u32 r = trand_below(&t->rng, 64);
	gfp_t gfp = GFP_KERNEL;

	*atomic = r < 8;
	if (*atomic)
		gfp = GFP_ATOMIC | __GFP_NOWARN;
	else if (r == 8)
		gfp |= __GFP_NOFAIL;
	else if (READ_ONCE(tor.faults))
		gfp |= __GFP_NOWARN;
	if (!trand_below(&t->rng, 8))
		gfp |= __GFP_ZERO;
	if (!trand_below(&t->rng, 16))
		gfp |= __GFP_RECLAIMABLE;
	return gfp;
}

/* An allocation gave @p for @o, which is filled in but for the pointer. */
static void tgot(struct tthread *t, struct tobj *o, void *p, gfp_t gfp,
		 unsigned int align)
{
	if (!p) {
		t->nulls++;
		if (gfp & __GFP_NOFAIL)
			tfail(t, "a __GFP_NOFAIL allocation of %u bytes gave NULL\n",
			      o->size);
		tobj_put(o);
		return;
	}
	o->p = p;
	if ((gfp & __GFP_ZERO) && memchr_inv(p, 0, o->size))
		tfail(t, "__GFP_ZERO object %p (%u bytes) not zeroed\n", p,
		      o->size);
	if ((unsigned long)p % align)
		tfail(t, "object %p (%u bytes, kind %u) not %u-byte aligned\n",
		      p, o->size, o->kind, align);
	if (!tadd(t, o, true))
		tobj_put(o);
}

/*
 * goslab_alloc(@size) through one of slab.h's helpers, by @api: 0
 * goslab_zalloc() and 1 goslab_calloc(), which must zero without being
 * asked (the caller adds __GFP_ZERO to @gfp, for tgot() to check, and it
 * is taken off here), 2 goslab_alloc_array() (elements of a divisor of
 * @size), 3 a goslab_alloc(0) first, whose ZERO_SIZE_PTR every free and
 * lookup must take as a no-op; else goslab_alloc().
 */
static void *talloc_api(struct tthread *t, u32 api, u32 size, gfp_t gfp)
{
	u32 n = size % 4 ? (size % 3 ? 1 : 3) : 4;
	void *z;

	switch (api) {
	case 0:
		return goslab_zalloc(size, gfp & ~__GFP_ZERO);
	case 1:
		return goslab_calloc(n, size / n, gfp & ~__GFP_ZERO);
	case 2:
		return goslab_alloc_array(size / n, n, gfp);
	case 3:
		z = goslab_alloc(0, gfp);
		if (z != ZERO_SIZE_PTR && z)
			tfail(t, "goslab_alloc(0) gave %p, not ZERO_SIZE_PTR\n",
			      z);
		if (goslab_usable_size(z))
			tfail(t, "goslab_usable_size(ZERO_SIZE_PTR) not 0\n");
		goslab_free(z);
		goslab_free_rcu(z);
		fallthrough;
	default:
		return goslab_alloc(size, gfp);
	}
}

static void op_alloc(struct tthread *t)
{
	struct tobj *o = tobj_get();
	unsigned int align = 8;
	unsigned long flags;
	bool atomic;
	gfp_t gfp;
	u32 api;
	void *p;

	if (!o)
		return;
	o->size = tpick_size(t);
	o->kind = o->size > GOSLAB_MAX_SMALL_SIZE ? T_LARGE : T_KMALLOC;
	o->usable = tusable(o->size);
	o->valid = o->size;
	o->tag = prandom_u32_state(&t->rng);
	o->cache = -1;
	/* kmalloc's rule: the largest power of two dividing the size. */
	if (o->size <= GOSLAB_MAX_SMALL_SIZE)
		align = max_t(u32, o->size & -o->size, 8);
	gfp = tpick_gfp(t, &atomic);
	api = trand_below(&t->rng, 16);
	/* The zeroing helpers: tgot() checks what __GFP_ZERO promises. */
	if (api <= 1)
		gfp |= __GFP_ZERO;
	tnote(t, OP_ALLOC, o->kind, o->size, NULL);
	if (atomic)
		goslab_test_atomic_begin(&flags);
	p = talloc_api(t, api, o->size, gfp);
	if (atomic)
		goslab_test_atomic_end(&flags);
	tnote(t, OP_ALLOC, o->kind, o->size, p);
	tgot(t, o, p, gfp, align);
}

/* Go's tiny alignment: by the size's largest power-of-two divisor to 8. */
static unsigned int ttiny_align(u32 size)
{
	return !(size & 7) ? 8 : !(size & 3) ? 4 : !(size & 1) ? 2 : 1;
}

static void op_tiny(struct tthread *t)
{
	struct tobj *o = tobj_get();
	bool atomic;
	gfp_t gfp;
	void *p;

	if (!o)
		return;
	o->size = 1 + trand_below(&t->rng, GOSLAB_TINY_SIZE - 1);
	o->kind = T_TINY;
	o->usable = o->size;
	o->valid = o->size;
	o->tag = prandom_u32_state(&t->rng);
	o->cache = -1;
	gfp = tpick_gfp(t, &atomic) & ~__GFP_RECLAIMABLE;
	p = goslab_alloc_tiny(o->size, gfp);
	tnote(t, OP_TINY, T_TINY, o->size, p);
	tgot(t, o, p, gfp, ttiny_align(o->size));
}

static void op_free(struct tthread *t)
{
	struct tobj *o = tclaim(t);

	if (!o)
		return;
	tnote(t, OP_FREE, o->kind, o->size, o->p);
	if (tctor_obj(o) && tintact(t, o))
		tctor(o->p);
	tfree(t, o);
}

/*
 * goslab_free_rcu(): the object stays in the model (so that an allocation
 * of its memory by any thread clashes) and must keep its pattern until
 * the read-side section around the call ends; only then does it leave
 * the model. Now and then it is freed again inside the section, which
 * must be reported and change nothing.
 */
static void op_free_rcu(struct tthread *t)
{
	struct tobj *o = tclaim(t);
	struct tcache *tc;
	bool again;
	void *p;

	if (!o)
		return;
	tc = o->kind == T_CACHE ? &shadow.caches[o->cache] : NULL;
	tnote(t, OP_FREE_RCU, o->kind, o->size, o->p);
	/* Its pattern is checked once, at the end of the read section. */
	if (tctor_obj(o))
		tctor(o->p);
	p = o->p;
	again = !IS_ENABLED(CONFIG_PREEMPT_RT) && !trand_below(&t->rng, 8);
	rcu_read_lock();
	goslab_free_rcu(p);
	if (again) {
		if (tc)
			goslab_cache_free(tc->c, p);
		else
			goslab_free(p);
		t->expected++;
	}
	/* Other threads allocate meanwhile; its bytes stay its own. */
	tintact(t, o);
	rcu_read_unlock();
	tforget(o);
	tobj_put(o);
	if (tc)
		atomic_dec(&tc->active);
}

/*
 * A lock-free reader of a type-safe cache: inside rcu_read_lock() it
 * finds a live object of such a cache (as a lookup would) and keeps
 * reading its first byte while other threads free, reuse and shrink at
 * will: its memory must stay in a span of that cache, never be given
 * back (KASAN checks the reads), until the section ends. The cache
 * itself is held active: destroying it under readers is the user's bug.
 */
static void op_typesafe_read(struct tthread *t)
{
	struct goslab_class *cls = NULL;
	struct tcache *tc = NULL;
	unsigned long flags;
	unsigned int k;
	void *p = NULL;

	rcu_read_lock();
	spin_lock_irqsave(&shadow.lock, flags);
	if (shadow.nlive) {
		struct tobj *o = shadow.live[trand_below(&t->rng,
							 shadow.nlive)];

		tc = o->kind == T_CACHE ? &shadow.caches[o->cache] : NULL;
		if (tc && tc->typesafe && !tc->dying && tc->c) {
			atomic_inc(&tc->active);
			p = o->p;
			cls = &tc->c->cls;
		}
	}
	spin_unlock_irqrestore(&shadow.lock, flags);
	if (!p) {
		rcu_read_unlock();
		return;
	}
	tnote(t, OP_TYPESAFE_READ, T_CACHE, 0, p);
	for (k = 0; k < 64; k++) {
		struct mspan *s = mheap_span_of(p);

		if (!s || READ_ONCE(s->cls) != cls ||
		    READ_ONCE(s->state) == MSPAN_DEAD) {
			tfail(t, "type-safe %p left %s in a read section (span %p, state %d)\n",
			      p, cls->name, s, s ? READ_ONCE(s->state) : -1);
			break;
		}
		(void)READ_ONCE(*(u8 *)p);
		cpu_relax();
	}
	rcu_read_unlock();
	atomic_dec(&tc->active);
}

/*
 * goslab_realloc(): the prefix the owner used survives, moved or not.
 * The old object leaves the model first: if it moves, goslab frees it and
 * its memory may be handed out at once.
 */
static void op_realloc(struct tthread *t)
{
	struct tobj *o = tclaim(t);
	u32 new_size, keep;
	unsigned long flags;
	struct tobj *clash;
	void *p;

	if (!o)
		return;
	if (o->kind == T_CACHE) {
		tunclaim(o);
		return;
	}
	if (!tintact(t, o)) {
		tunclaim(o);
		return;
	}
	new_size = trand_below(&t->rng, 4) ? tpick_size(t) :
		   1 + trand_below(&t->rng, o->valid);
	tnote(t, OP_REALLOC, o->kind, new_size, o->p);
	tforget(o);
	/* krealloc_array()'s form now and then: the same bytes. */
	if (!trand_below(&t->rng, 8) && !(new_size % 4))
		p = goslab_realloc_array(o->p, new_size / 4, 4,
					 GFP_KERNEL | __GFP_NOWARN);
	else
		p = goslab_realloc(o->p, new_size, GFP_KERNEL | __GFP_NOWARN);
	if (!p) {
		/* Untouched: back in the model as it was. */
		t->nulls++;
		spin_lock_irqsave(&shadow.lock, flags);
		clash = tree_insert(o);
		if (!clash) {
			tlist(o);
			if (o->kind == T_LARGE)
				shadow.nlarge++;
		}
		spin_unlock_irqrestore(&shadow.lock, flags);
		if (clash)
			tfail(t, "object %p overlaps %p after a failed realloc\n",
			      o->p, clash->p);
		return;
	}
	keep = min(o->valid, new_size);
	if (tcheck(p, 0, keep, o->tag) < keep)
		tfail(t, "realloc of %p (%u bytes) to %p (%u bytes) lost the contents\n",
		      o->p, o->valid, p, new_size);
	if (p == o->p) {
		o->valid = new_size;
	} else {
		o->kind = new_size > GOSLAB_MAX_SMALL_SIZE ? T_LARGE : T_KMALLOC;
		o->usable = tusable(new_size);
		o->valid = new_size;
		o->p = p;
	}
	o->size = new_size;
	o->tag = prandom_u32_state(&t->rng);
	if (!tadd(t, o, true))
		tobj_put(o);
}

/* goslab_usable_size() says what it must; then all of it is the owner's. */
static void op_usable(struct tthread *t)
{
	struct tobj *o = tclaim(t);
	size_t usable;

	if (!o)
		return;
	tnote(t, OP_USABLE, o->kind, o->size, o->p);
	usable = goslab_usable_size(o->p);
	if (usable != o->usable) {
		tfail(t, "goslab_usable_size(%p) = %zu, expected %u (%u bytes asked, kind %u)\n",
		      o->p, usable, o->usable, o->size, o->kind);
	} else if (tintact(t, o)) {
		tfill(o->p, o->valid, o->usable, o->tag);
		o->valid = o->usable;
	}
	tunclaim(o);
}

/* A random cache that is not being recreated, held active; or NULL. */
static struct tcache *tcache_get(struct tthread *t, int *slot)
{
	struct tcache *tc;
	unsigned long flags;

	*slot = trand_below(&t->rng, T_NCACHES);
	tc = &shadow.caches[*slot];
	spin_lock_irqsave(&shadow.lock, flags);
	if (tc->dying || !tc->c)
		tc = NULL;
	else
		atomic_inc(&tc->active);
	spin_unlock_irqrestore(&shadow.lock, flags);
	return tc;
}

static void tcache_put(struct tcache *tc)
{
	atomic_dec(&tc->active);
}

static void tcache_fill(struct tthread *t, struct tobj *o, struct tcache *tc,
			int slot)
{
	o->kind = T_CACHE;
	o->cache = slot;
	o->size = tc->size;
	o->usable = goslab_cache_class(tc->c)->elemsize;
	o->valid = tc->size;
	o->tag = prandom_u32_state(&t->rng);
}

/* A new cache object: constructed if its cache has a constructor. */
static void tcache_got(struct tthread *t, struct tobj *o, struct tcache *tc,
		       void *p, gfp_t gfp)
{
	if (p && tc->ctor && *(u64 *)p != T_CTOR_MAGIC)
		tfail(t, "object %p of a cache with a constructor is not constructed\n",
		      p);
	tgot(t, o, p, gfp, tc->align);
}

static void op_cache_alloc(struct tthread *t)
{
	struct tcache *tc;
	struct tobj *o;
	unsigned long flags;
	bool atomic;
	gfp_t gfp;
	void *p;
	int slot;

	o = tobj_get();
	if (!o)
		return;
	tc = tcache_get(t, &slot);
	if (!tc) {
		tobj_put(o);
		return;
	}
	tcache_fill(t, o, tc, slot);
	gfp = tpick_gfp(t, &atomic);
	if (tc->ctor)
		gfp &= ~__GFP_ZERO;
	if (atomic) {
		goslab_test_atomic_begin(&flags);
		p = goslab_cache_alloc(tc->c, gfp);
		goslab_test_atomic_end(&flags);
	} else {
		p = goslab_cache_alloc(tc->c, gfp);
	}
	tnote(t, OP_CACHE_ALLOC, T_CACHE, o->size, p);
	tcache_got(t, o, tc, p, gfp);
	tcache_put(tc);
}

static void op_cache_bulk(struct tthread *t)
{
	unsigned int n = 1 + trand_below(&t->rng, T_BULK), i;
	struct tobj *o[T_BULK];
	struct tcache *tc;
	int slot;

	tc = tcache_get(t, &slot);
	if (!tc)
		return;
	for (i = 0; i < n; i++) {
		o[i] = tobj_get();
		if (!o[i])
			goto put;
	}
	if (goslab_cache_alloc_bulk(tc->c, GFP_KERNEL | __GFP_NOWARN, n,
				    t->bulk) != n) {
		t->nulls++;
		goto put;
	}
	tnote(t, OP_CACHE_BULK, T_CACHE, n, t->bulk[0]);
	for (i = 0; i < n; i++) {
		tcache_fill(t, o[i], tc, slot);
		tcache_got(t, o[i], tc, t->bulk[i], GFP_KERNEL);
	}
	t->nbulk = n;
	t->bulk_cache = slot;
	t->bulk_gen = tc->gen;
	tcache_put(tc);
	return;
put:
	while (i--)
		tobj_put(o[i]);
	tcache_put(tc);
}

/* Free, in bulk, what this thread's last bulk allocation left unfreed. */
static void op_cache_free_bulk(struct tthread *t)
{
	struct tcache *tc = &shadow.caches[t->bulk_cache];
	unsigned int i, n = 0;
	struct tobj *o;
	void *p[T_BULK];

	if (!t->nbulk)
		return;
	for (i = 0; i < t->nbulk; i++) {
		o = tclaim_ptr(t->bulk[i]);
		if (!o)
			continue;
		if (o->kind != T_CACHE || o->cache != t->bulk_cache ||
		    shadow.caches[o->cache].gen != t->bulk_gen ||
		    !tintact(t, o)) {
			tunclaim(o);
			continue;
		}
		if (tc->ctor)
			tctor(o->p);
		p[n++] = o->p;
		tforget(o);
		tobj_put(o);
	}
	t->nbulk = 0;
	tnote(t, OP_CACHE_FREE_BULK, T_CACHE, n, n ? p[0] : NULL);
	if (!n)
		return;
	goslab_cache_free_bulk(tc->c, n, p);
	for (i = 0; i < n; i++)
		atomic_dec(&tc->active);
}

/*
 * A double free that cannot hit a reused slot: the object is allocated
 * and freed twice with IRQs off, so its span stays in this CPU's cache
 * (nothing can sweep it) and the second free must be reported. Not on
 * PREEMPT_RT: there the thread can be preempted between the frees (by
 * the timers' softirq, or a flush's work item on this CPU) and the slot
 * swept and handed to someone else; the duels and goslab_race cover
 * double frees there.
 */
static void op_double_free(struct tthread *t)
{
	u32 r = trand_below(&t->rng, 3), size;
	struct tcache *tc = NULL;
	unsigned long flags;
	void *p;
	int slot;

	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return;
	if (r == 2) {
		tc = tcache_get(t, &slot);
		if (!tc)
			return;
	}
	size = r == 0 ? 1 + trand_below(&t->rng, 4096) :
	       1 + trand_below(&t->rng, GOSLAB_TINY_SIZE - 1);
	goslab_test_atomic_begin(&flags);
	if (tc)
		p = goslab_cache_alloc(tc->c, GFP_ATOMIC | __GFP_NOWARN);
	else if (r == 0)
		p = goslab_alloc(size, GFP_ATOMIC | __GFP_NOWARN);
	else
		p = goslab_alloc_tiny(size, GFP_ATOMIC | __GFP_NOWARN);
	if (p && tc) {
		if (tc->ctor)
			tctor(p);
		goslab_cache_free(tc->c, p);
		goslab_cache_free(tc->c, p);
	} else if (p) {
		goslab_free(p);
		goslab_free(p);
	}
	goslab_test_atomic_end(&flags);
	tnote(t, OP_DOUBLE_FREE, tc ? T_CACHE : r ? T_TINY : T_KMALLOC,
	      size, p);
	if (p)
		t->expected++;
	if (tc)
		tcache_put(tc);
}

/*
 * A bulk free with misuse among good objects: a bulk allocation, then a
 * free of it with the first and the last object twice in a row, a NULL
 * and an interior pointer. IRQs stay off from the allocation to the
 * free. The repeats are decided where the first free was: in this CPU's
 * span, which stays this CPU's (no sweep can make the slot someone
 * else's), or in a span the bulk allocation left, under the free_lock
 * its run holds. The interior pointer is reported once too (as interior,
 * or as foreign if its span was swept and given back meanwhile); the
 * rest are freed.
 */
static void op_bulk_misuse(struct tthread *t)
{
	unsigned int n = 1 + trand_below(&t->rng, T_BULK - 3), i, k = 0;
	void *got[T_BULK], *p[T_BULK + 4];
	struct tcache *tc;
	unsigned long flags;
	bool interior;
	int slot;

	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return;
	tc = tcache_get(t, &slot);
	if (!tc)
		return;
	interior = tc->size >= 2;
	goslab_test_atomic_begin(&flags);
	if (goslab_cache_alloc_bulk(tc->c, GFP_ATOMIC | __GFP_NOWARN, n,
				    got) != n) {
		goslab_test_atomic_end(&flags);
		tcache_put(tc);
		return;
	}
	p[k++] = got[0];
	p[k++] = got[0];
	for (i = 1; i < n; i++) {
		if (i == (n + 1) / 2) {
			p[k++] = NULL;
			if (interior)
				p[k++] = got[0] + 1;
		}
		p[k++] = got[i];
	}
	if (n == 1) {
		p[k++] = NULL;
		if (interior)
			p[k++] = got[0] + 1;
	} else {
		p[k++] = got[n - 1];
	}
	goslab_cache_free_bulk(tc->c, k, p);
	goslab_test_atomic_end(&flags);
	tnote(t, OP_BULK_MISUSE, T_CACHE, n, got[0]);
	t->expected += 1 + (n > 1) + interior;
	tcache_put(tc);
}

/*
 * A pointer into a live object, tiny ones too (their block's word must
 * tell an interior pointer from a freed neighbour's start).
 */
static void op_interior(struct tthread *t)
{
	struct tobj *o = tclaim(t);
	void *q;

	if (!o)
		return;
	if (o->usable < 2) {
		tunclaim(o);
		return;
	}
	q = o->p + 1 + trand_below(&t->rng, o->usable - 1);
	tnote(t, OP_INTERIOR, o->kind, o->size, q);
	if (o->kind == T_CACHE)
		goslab_cache_free(shadow.caches[o->cache].c, q);
	else
		goslab_free(q);
	t->expected++;
	tintact(t, o);
	tunclaim(o);
}

static u64 twild_static;

/* Memory goslab does not hold: another allocator's, the stack, data. */
static void op_wild(struct tthread *t)
{
	u64 on_stack = 0;
	void *k = kmalloc(64, GFP_KERNEL);

	tnote(t, OP_WILD, 0, 0, k);
	goslab_free(&on_stack);
	goslab_free(&twild_static);
	t->expected += 2;
	if (k) {
		goslab_free(k);
		t->expected++;
	}
	kfree(k);
}

/* A live object freed to a cache it does not belong to. */
static void op_wrong_cache(struct tthread *t)
{
	struct tobj *o = tclaim(t);
	struct tcache *tc;
	int slot;

	if (!o)
		return;
	tc = tcache_get(t, &slot);
	if (!tc || (o->kind == T_CACHE && o->cache == slot)) {
		if (tc)
			tcache_put(tc);
		tunclaim(o);
		return;
	}
	tnote(t, OP_WRONG_CACHE, o->kind, o->size, o->p);
	goslab_cache_free(tc->c, o->p);
	t->expected++;
	tcache_put(tc);
	tintact(t, o);
	tunclaim(o);
}

/*
 * Two CPUs free one object at once: exactly one double free is reported
 * (at once, or by the span's sweep). The owner allocates the object with
 * IRQs off and keeps them off until both frees returned, so that its span
 * stays in its cache, unswept, and the slot cannot be handed out between
 * the two frees (a late double free would free its next owner).
 *
 * Each side has IRQs off from the moment it commits (the owner when it
 * posts itself, the partner when it joins) to the end: a side that could
 * be preempted in between could be held up by work that waits for the
 * other side's CPU (an on_each_cpu() flush), while that CPU spins for it.
 * The phase moves forward only by atomic_cmpxchg(), so that a side that
 * gives up after a second never frees an object the other side took; it
 * carries the duel's number, so that a side late from one duel cannot
 * act on the next.
 */
enum {
	DUEL_WAIT,	/* the owner is allocating */
	DUEL_POSTED,	/* the object is in d->obj */
	DUEL_TAKEN,	/* the partner is freeing it */
	DUEL_DONE,	/* the partner's free returned */
	DUEL_NONE,	/* the allocation failed: no duel */
	DUEL_ABANDONED,	/* a side gave up waiting for the other */
};

/* Phase @ph of duel number @gen. */
static int duel_phase(unsigned int gen, int ph)
{
	return (int)((gen & 0xfffffff) << 3 | ph);
}

static bool duel_wait(struct tduel *d, unsigned int gen, int ph)
{
	u64 until = ktime_get_ns() + NSEC_PER_SEC;

	while (atomic_read(&d->phase) == duel_phase(gen, ph)) {
		if (ktime_get_ns() > until)
			return false;
		cpu_relax();
	}
	return true;
}

/* Called with IRQs off, as the partner of a posted owner. */
static void duel_partner(struct tthread *t, struct tduel *d,
			 unsigned int gen)
{
	int wait = duel_phase(gen, DUEL_WAIT);
	int posted = duel_phase(gen, DUEL_POSTED);
	void *p;

	if (!duel_wait(d, gen, DUEL_WAIT) &&
	    atomic_cmpxchg(&d->phase, wait,
			   duel_phase(gen, DUEL_ABANDONED)) == wait)
		return;
	if (atomic_cmpxchg(&d->phase, posted,
			   duel_phase(gen, DUEL_TAKEN)) != posted)
		return;
	p = READ_ONCE(d->obj);
	goslab_cache_free(tor.duel_cache, p);
	tnote(t, OP_DUEL, T_CACHE, 1, p);
	atomic_set(&d->phase, duel_phase(gen, DUEL_DONE));
}

/* Called with IRQs off, once a partner has joined. */
static void duel_owner(struct tthread *t, struct tduel *d, unsigned int gen)
{
	int wait = duel_phase(gen, DUEL_WAIT);
	int posted = duel_phase(gen, DUEL_POSTED);
	void *p;

	p = goslab_cache_alloc(tor.duel_cache, GFP_ATOMIC | __GFP_NOWARN);
	WRITE_ONCE(d->obj, p);
	if (atomic_cmpxchg(&d->phase, wait,
			   duel_phase(gen, p ? DUEL_POSTED : DUEL_NONE)) !=
	    wait) {
		/* The partner left: no duel, an ordinary free. */
		goslab_cache_free(tor.duel_cache, p);
		tfail(t, "the duel's partner left after waiting a second for the owner\n");
		return;
	}
	if (!p)
		return;
	if (!duel_wait(d, gen, DUEL_POSTED) &&
	    atomic_cmpxchg(&d->phase, posted,
			   duel_phase(gen, DUEL_ABANDONED)) == posted) {
		goslab_cache_free(tor.duel_cache, p);
		tfail(t, "the duel's partner did not take the object within a second\n");
		return;
	}
	goslab_cache_free(tor.duel_cache, p);
	/* One double free each, counted apart from the threads'. */
	atomic_long_inc(&tor.duels);
	/* The partner is inside goslab_cache_free() with IRQs off. */
	while (atomic_read(&d->phase) != duel_phase(gen, DUEL_DONE))
		cpu_relax();
	tnote(t, OP_DUEL, T_CACHE, 0, p);
}

static void op_duel(struct tthread *t)
{
	struct tduel *d = &tor.duel;
	bool partner = false, owner = false;
	unsigned long flags;
	unsigned int gen;
	u64 until;

	if (num_online_cpus() < 2)
		return;
	/* IRQs stay off (migration, on PREEMPT_RT) through the duel. */
	goslab_test_atomic_begin(&flags);
	spin_lock(&d->lock);
	if (d->owner && !d->partner && d->owner != t &&
	    d->owner_cpu != smp_processor_id()) {
		d->partner = t;
		partner = true;
	} else if (!d->owner) {
		d->owner = t;
		d->owner_cpu = smp_processor_id();
		d->partner = NULL;
		d->gen++;
		atomic_set(&d->phase, duel_phase(d->gen, DUEL_WAIT));
		owner = true;
	}
	gen = d->gen;
	spin_unlock(&d->lock);
	if (partner) {
		duel_partner(t, d, gen);
	} else if (owner) {
		/* Every other thread looks for a duel between operations. */
		until = ktime_get_ns() + 2 * NSEC_PER_MSEC;
		while (!READ_ONCE(d->partner) && ktime_get_ns() < until)
			cpu_relax();
		spin_lock(&d->lock);
		partner = d->partner;
		/* No partner came: withdraw, none may join from now on. */
		if (!partner)
			d->owner = NULL;
		spin_unlock(&d->lock);
		if (partner)
			duel_owner(t, d, gen);
		spin_lock(&d->lock);
		d->owner = NULL;
		d->partner = NULL;
		spin_unlock(&d->lock);
	}
	goslab_test_atomic_end(&flags);
}

static void op_cache_shrink(struct tthread *t)
{
	struct tcache *tc;
	int slot;

	tc = tcache_get(t, &slot);
	if (!tc)
		return;
	tnote(t, OP_CACHE_SHRINK, T_CACHE, slot, NULL);
	goslab_cache_shrink(tc->c);
	tcache_put(tc);
}

/*
 * Owner tracking on or off for a cache or a size class, under every
 * other operation: allocations and frees of a class change path as it
 * changes, and a misuse report then prints the object's owners.
 */
static void op_track(struct tthread *t)
{
	bool on = trand_below(&t->rng, 2);
	struct tcache *tc;
	int slot;

	if (trand_below(&t->rng, 2)) {
		tc = tcache_get(t, &slot);
		if (!tc)
			return;
		tnote(t, OP_TRACK, T_CACHE, on, NULL);
		goslab_class_set_track(goslab_cache_class(tc->c), on);
		tcache_put(tc);
		return;
	}
	slot = trand_below(&t->rng, GOSLAB_NUM_SPAN_CLASSES);
	tnote(t, OP_TRACK, T_KMALLOC, on, NULL);
	goslab_class_set_track(&goslab_classes[slot], on);
}

static void op_migrate(struct tthread *t)
{
	unsigned int n = trand_below(&t->rng, num_online_cpus() + 1), cpu;

	cpus_read_lock();
	cpu = cpumask_nth(n % num_online_cpus(), cpu_online_mask);
	tnote(t, OP_MIGRATE, 0, cpu, NULL);
	if (n == num_online_cpus() || cpu >= nr_cpu_ids)
		set_cpus_allowed_ptr(current, cpu_possible_mask);
	else
		set_cpus_allowed_ptr(current, cpumask_of(cpu));
	cpus_read_unlock();
}

static int tcache_create(struct rnd_state *rng, struct tcache *tc,
			 int slot)
{
	static const unsigned int aligns[] = { 0, 8, 16, 64, 128, 256, 4096 };
	struct goslab_cache_args args = {};
	unsigned int flags = 0;
	char name[32];
	u32 r = trand_below(rng, 100);

	tc->size = r < 70 ? 1 + trand_below(rng, 512) :
		   r < 95 ? 1 + trand_below(rng, 4096) :
			    1 + trand_below(rng, 20000);
	args.align = aligns[trand_below(rng, ARRAY_SIZE(aligns))];
	if (!trand_below(rng, 4))
		flags |= GOSLAB_HWCACHE_ALIGN;
	if (!trand_below(rng, 4))
		flags |= GOSLAB_RECLAIMABLE;
	tc->ctor = tc->size >= sizeof(u64) && !trand_below(rng, 3);
	args.ctor = tc->ctor ? tctor : NULL;
	tc->typesafe = !trand_below(rng, 3);
	if (tc->typesafe)
		flags |= GOSLAB_TYPESAFE_BY_RCU;
	tc->gen++;
	snprintf(name, sizeof(name), "torture-%d-%u", slot, tc->gen);
	tc->c = goslab_cache_create(name, tc->size, &args, flags);
	if (!tc->c)
		return -ENOMEM;
	tc->align = max_t(unsigned int, args.align, 8);
	if (flags & GOSLAB_HWCACHE_ALIGN)
		tc->align = max_t(unsigned int, tc->align, cache_line_size());
	return 0;
}

/*
 * Destroy a cache and create another in its slot: no new operation on
 * it starts, those in flight end, its objects are freed, then it goes.
 */
static void op_cache_recreate(struct tthread *t)
{
	int slot = trand_below(&t->rng, T_NCACHES);
	struct tcache *tc = &shadow.caches[slot];
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&shadow.lock, flags);
	if (tc->dying || !tc->c) {
		spin_unlock_irqrestore(&shadow.lock, flags);
		return;
	}
	tc->dying = true;
	spin_unlock_irqrestore(&shadow.lock, flags);
	tnote(t, OP_CACHE_RECREATE, T_CACHE, slot, NULL);
	while (atomic_read(&tc->active))
		cond_resched();
	for (;;) {
		struct tobj *o = NULL;

		spin_lock_irqsave(&shadow.lock, flags);
		for (i = 0; i < shadow.nlive && !o; i++)
			if (shadow.live[i]->kind == T_CACHE &&
			    shadow.live[i]->cache == slot)
				o = shadow.live[i];
		if (o) {
			atomic_inc(&tc->active);
			tunlist(o);
		}
		spin_unlock_irqrestore(&shadow.lock, flags);
		if (!o)
			break;
		if (tc->ctor && tintact(t, o))
			tctor(o->p);
		tfree(t, o);
		if (READ_ONCE(tor.stop))
			break;
	}
	goslab_cache_destroy(tc->c);
	tc->c = NULL;
	if (!READ_ONCE(tor.stop) && tcache_create(&t->rng, tc, slot))
		tfail(t, "creating cache slot %d failed\n", slot);
	spin_lock_irqsave(&shadow.lock, flags);
	tc->dying = false;
	spin_unlock_irqrestore(&shadow.lock, flags);
}

static void op_faults(struct tthread *t)
{
	bool on = !trand_below(&t->rng, 2);

	WRITE_ONCE(tor.faults, on);
	WRITE_ONCE(goslab_fail_page_alloc_nth,
		   on ? 3 + trand_below(&t->rng, 30) : 0);
	tnote(t, OP_FAULTS, 0, on, NULL);
}

/* One object of the burst's kind and size, in the model; NULL if none. */
static struct tobj *tburst_alloc(struct tthread *t, struct tcache *tc,
				 int slot, u32 size)
{
	struct tobj *o = tobj_get();
	void *p;

	if (!o)
		return NULL;
	if (tc) {
		tcache_fill(t, o, tc, slot);
		p = goslab_cache_alloc(tc->c, GFP_KERNEL | __GFP_NOWARN);
		if (p && tc->ctor && *(u64 *)p != T_CTOR_MAGIC)
			tfail(t, "object %p of a cache with a constructor is not constructed\n",
			      p);
	} else {
		o->kind = T_KMALLOC;
		o->size = size;
		o->usable = tusable(size);
		o->valid = size;
		o->tag = prandom_u32_state(&t->rng);
		o->cache = -1;
		p = goslab_alloc(size, GFP_KERNEL | __GFP_NOWARN);
	}
	if (!p) {
		t->nulls++;
		tobj_put(o);
		return NULL;
	}
	o->p = p;
	if (!tadd(t, o, false)) {
		tobj_put(o);
		return NULL;
	}
	return o;
}

/* Add up to @k objects to the burst's @n. */
static unsigned int tburst_fill(struct tthread *t, struct tcache *tc, int slot,
				u32 size, unsigned int n, unsigned int k)
{
	while (k-- && n < T_BURST) {
		struct tobj *o = tburst_alloc(t, tc, slot, size);

		if (!o)
			break;
		t->burst[n++] = o;
	}
	return n;
}

/*
 * The objects of a burst or a churn come from one of the caches half of
 * the time (then of its size), else from goslab_alloc(@size). False when
 * the cache picked is being recreated.
 */
static bool tburst_begin(struct tthread *t, unsigned int op, u32 *size,
			 struct tcache **tc, int *slot)
{
	*tc = NULL;
	*slot = -1;
	if (trand_below(&t->rng, 2)) {
		*tc = tcache_get(t, slot);
		if (!*tc)
			return false;
		*size = (*tc)->size;
	}
	tnote(t, op, *tc ? T_CACHE : T_KMALLOC, *size, NULL);
	return true;
}

/* Free a burst's object (constructed again first, as its cache wants). */
static void tburst_free(struct tthread *t, struct tcache *tc, struct tobj *o)
{
	if (tc) {
		if (tc->ctor)
			tctor(o->p);
		atomic_inc(&tc->active);
	}
	tfree(t, o);
}

/* Hand a burst's @n objects over to every thread; let go of its cache. */
static void tburst_end(struct tthread *t, struct tcache *tc, unsigned int n)
{
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&shadow.lock, flags);
	for (i = 0; i < n; i++)
		tlist(t->burst[i]);
	spin_unlock_irqrestore(&shadow.lock, flags);
	if (tc)
		tcache_put(tc);
}

/*
 * A burst on one CPU, as a caller filling and draining a structure does:
 * many objects of one size; the newest part freed again (last in, first
 * out); more allocated, which sweeps the span in place when it is used
 * up and moves on past the survivors; maybe a shrink; more allocated.
 * Spans end up half used, cached past their first 64 slots, with free
 * tails and whole kernel pages free: what the sweep, the scavenger and
 * the allocation window must get right together.
 */
static void op_burst(struct tthread *t)
{
	/* Mostly classes with more than 64 objects per span. */
	u32 size = 1 + trand_below(&t->rng, trand_below(&t->rng, 4) ? 128 : 256);
	struct tcache *tc;
	unsigned int n, m, i;
	int slot;

	if (!tburst_begin(t, OP_BURST, &size, &tc, &slot))
		return;
	migrate_disable();
	n = tburst_fill(t, tc, slot, size, 0,
			16 + trand_below(&t->rng, T_BURST - 16));
	m = trand_below(&t->rng, n + 1);
	for (i = 0; i < m; i++)
		tburst_free(t, tc, t->burst[--n]);
	n = tburst_fill(t, tc, slot, size, n, trand_below(&t->rng, 2 * m + 1));
	if (trand_below(&t->rng, 4)) {
		if (tc)
			goslab_cache_shrink(tc->c);
		else
			goslab_shrink();
	}
	n = tburst_fill(t, tc, slot, size, n, 64 + trand_below(&t->rng, 200));
	migrate_enable();
	tburst_end(t, tc, n);
}

/*
 * Steady churn over one size: a live set of many spans' worth, then its
 * objects replaced at random, so that the frees land one or two per
 * span and a refill may grow the class instead of taking a span that
 * collected too few (mcentral_span_is_poor(), for classes of 32 or more
 * objects per span: 256 bytes or less). Not pinned to a CPU: frees are
 * remote ones once the thread has moved.
 */
static void op_churn(struct tthread *t)
{
	u32 size = 1 + trand_below(&t->rng, 256);
	struct tcache *tc;
	unsigned int n, i, ops;
	int slot;

	if (!tburst_begin(t, OP_CHURN, &size, &tc, &slot))
		return;
	/* Light enough not to crowd out the other operations under KASAN. */
	n = tburst_fill(t, tc, slot, size, 0,
			T_BURST / 4 + trand_below(&t->rng, T_BURST * 3 / 4));
	ops = n;
	for (i = 0; i < ops && n; i++) {
		unsigned int k = trand_below(&t->rng, n);
		struct tobj *o;

		tburst_free(t, tc, t->burst[k]);
		o = tburst_alloc(t, tc, slot, size);
		t->burst[k] = o ?: t->burst[--n];
		if ((i & 127) == 127)
			cond_resched();
	}
	tburst_end(t, tc, n);
}

static void trun_op(struct tthread *t, unsigned int op)
{
	switch (op) {
	case OP_ALLOC:
		op_alloc(t);
		break;
	case OP_TINY:
		op_tiny(t);
		break;
	case OP_REALLOC:
		op_realloc(t);
		break;
	case OP_FREE:
		op_free(t);
		break;
	case OP_USABLE:
		op_usable(t);
		break;
	case OP_CACHE_ALLOC:
		op_cache_alloc(t);
		break;
	case OP_CACHE_BULK:
		op_cache_bulk(t);
		break;
	case OP_CACHE_FREE_BULK:
		op_cache_free_bulk(t);
		break;
	case OP_DOUBLE_FREE:
		op_double_free(t);
		break;
	case OP_INTERIOR:
		op_interior(t);
		break;
	case OP_WILD:
		op_wild(t);
		break;
	case OP_WRONG_CACHE:
		op_wrong_cache(t);
		break;
	case OP_DUEL:
		op_duel(t);
		break;
	case OP_SHRINK:
		tnote(t, OP_SHRINK, 0, 0, NULL);
		goslab_shrink();
		break;
	case OP_CACHE_SHRINK:
		op_cache_shrink(t);
		break;
	case OP_SCAN:
		tnote(t, OP_SCAN, 0, 0, NULL);
		goslab_shrinker_scan(1 + trand_below(&t->rng, 256));
		break;
	case OP_BG_FLUSH:
		tnote(t, OP_BG_FLUSH, 0, 0, NULL);
		goslab_bg_flush();
		break;
	case OP_MIGRATE:
		op_migrate(t);
		break;
	case OP_CACHE_RECREATE:
		op_cache_recreate(t);
		break;
	case OP_FAULTS:
		op_faults(t);
		break;
	case OP_BURST:
		op_burst(t);
		break;
	case OP_BULK_MISUSE:
		op_bulk_misuse(t);
		break;
	case OP_CHURN:
		op_churn(t);
		break;
	case OP_FREE_RCU:
		op_free_rcu(t);
		break;
	case OP_TRACK:
		op_track(t);
		break;
	case OP_TYPESAFE_READ:
		op_typesafe_read(t);
		break;
	}
}

static unsigned int tpick_op(struct tthread *t)
{
	unsigned int total = 0, op, r;

	for (op = 0; op < NR_OPS; op++)
		total += op_weight[op];
	r = trand_below(&t->rng, total);
	for (op = 0; r >= op_weight[op]; op++)
		r -= op_weight[op];
	/* Keep the live set bounded: free instead of allocating. */
	if (op <= OP_TINY || op == OP_CACHE_ALLOC || op == OP_CACHE_BULK ||
	    op == OP_BURST || op == OP_CHURN) {
		if (READ_ONCE(shadow.nlive) > T_MAX_LIVE * 3 / 4)
			op = OP_FREE;
	}
	return op;
}

/*
 * A hardirq timer on the thread's CPU: GFP_ATOMIC allocations and frees
 * of small and tiny objects in a ring of its own, in the model too.
 */
static enum hrtimer_restart ttimer_fn(struct hrtimer *timer)
{
	struct tthread *t = container_of(timer, struct tthread, timer);
	unsigned int i = trand_below(&t->timer_rng, T_TIMER_OBJS);
	struct tobj *o = t->timer_objs[i];
	void *p;

	if (READ_ONCE(t->timer_stop) || READ_ONCE(tor.stop))
		return HRTIMER_NORESTART;
	t->timer_ops++;
	if (o) {
		t->timer_objs[i] = NULL;
		p = o->p;
		if (tcheck(p, 0, o->valid, o->tag) < o->valid)
			tfail(NULL, "timer object %p (%u bytes) overwritten\n",
			      p, o->size);
		tforget(o);
		tobj_put(o);
		goslab_free(p);
	} else {
		o = tobj_get_reserved();
		if (!o)
			goto again;
		o->size = 1 + trand_below(&t->timer_rng, 600);
		o->kind = o->size < GOSLAB_TINY_SIZE ? T_TINY : T_KMALLOC;
		o->usable = o->kind == T_TINY ? o->size : tusable(o->size);
		o->valid = o->size;
		o->tag = prandom_u32_state(&t->timer_rng);
		o->cache = -1;
		p = o->kind == T_TINY ?
		    goslab_alloc_tiny(o->size, GFP_ATOMIC | __GFP_NOWARN) :
		    goslab_alloc(o->size, GFP_ATOMIC | __GFP_NOWARN);
		if (!p) {
			tobj_put(o);
			goto again;
		}
		o->p = p;
		if (tadd(NULL, o, false))
			t->timer_objs[i] = o;
		else
			tobj_put(o);
	}
again:
	hrtimer_forward_now(timer, ns_to_ktime(T_TIMER_PERIOD_NS));
	return HRTIMER_RESTART;
}

static void ttimer_start(struct tthread *t)
{
	if (!timers)
		return;
	t->timer_stop = false;
	hrtimer_start(&t->timer, ns_to_ktime(T_TIMER_PERIOD_NS),
		      GOSLAB_TEST_IRQ_TIMER_MODE);
}

static void ttimer_stop(struct tthread *t)
{
	WRITE_ONCE(t->timer_stop, true);
	hrtimer_cancel(&t->timer);
}

static int tworker(void *arg)
{
	struct tthread *t = arg;

	ttimer_start(t);
	while (!READ_ONCE(tor.stop)) {
		if (READ_ONCE(tor.pause)) {
			ttimer_stop(t);
			atomic_inc(&tor.parked);
			while (READ_ONCE(tor.pause))
				usleep_range(1000, 2000);
			atomic_dec(&tor.parked);
			ttimer_start(t);
			continue;
		}
		if (atomic_long_inc_return(&tor.started) > tor.target ||
		    (tor.deadline && ktime_get_ns() > tor.deadline))
			break;
		/* A duel waiting for a partner is joined first. */
		if (READ_ONCE(tor.duel.owner) && !READ_ONCE(tor.duel.partner))
			op_duel(t);
		trun_op(t, tpick_op(t));
		t->done++;
		cond_resched();
	}
	ttimer_stop(t);
	if (atomic_dec_and_test(&tor.running))
		complete(&tor.all_done);
	return 0;
}

static unsigned long tmisuse_reported(void)
{
	return goslab_error_count(GOSLAB_ERR_FOREIGN) +
	       goslab_error_count(GOSLAB_ERR_INTERIOR) +
	       goslab_error_count(GOSLAB_ERR_DOUBLE_FREE) +
	       goslab_error_count(GOSLAB_ERR_WRONG_CACHE);
}

static unsigned long tmisuse_expected(void)
{
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i < tor.nthreads; i++)
		n += tor.t[i].expected;
	return n;
}

/*
 * Spans grown for churn (mcentral_span_is_poor()) by the classes there
 * are now: what shows that op_churn reached that path.
 */
static unsigned long tchurn_grows(void)
{
	struct goslab_class *cls;
	unsigned long n = 0;

	mutex_lock(&goslab_class_mutex);
	for_each_goslab_class(cls)
		n += READ_ONCE(cls->central.nchurn_grow);
	mutex_unlock(&goslab_class_mutex);
	return n;
}

/* Objects goslab counts as live, but for tiny ones (it counts blocks). */
static unsigned long tgoslab_live(void)
{
	unsigned long nmalloc, nfree, live = 0;
	struct goslab_class_stats st;
	struct goslab_class *cls;

	mutex_lock(&goslab_class_mutex);
	for_each_goslab_class(cls) {
		if (cls == &goslab_tiny_class)
			continue;
		goslab_read_class_stats(cls, &st);
		/* Freed under RCU and not folded: counted live, not the model's. */
		live += st.live - atomic_long_read(&cls->rcu_pending);
	}
	mutex_unlock(&goslab_class_mutex);
	goslab_large_counts(&nmalloc, &nfree);
	return live + nmalloc - nfree -
	       atomic_long_read(&goslab_large_rcu_pending);
}

static unsigned long tmodel_live(void)
{
	unsigned long flags, n = 0;
	struct rb_node *node;

	spin_lock_irqsave(&shadow.lock, flags);
	for (node = rb_first(&shadow.tree); node; node = rb_next(node))
		n += rb_entry(node, struct tobj, node)->kind != T_TINY;
	spin_unlock_irqrestore(&shadow.lock, flags);
	return n;
}

/* Sweep every span goslab holds, so that racing double frees are counted. */
static void tsweep_all(void)
{
	goslab_bg_pause();
	mcache_flush_all();
	while (goslab_sweepone())
		cond_resched();
	goslab_bg_resume();
}

static void tcheck_all_patterns(struct kunit *test)
{
	unsigned long flags;
	struct rb_node *node;
	unsigned int bad = 0;

	spin_lock_irqsave(&shadow.lock, flags);
	for (node = rb_first(&shadow.tree); node; node = rb_next(node)) {
		struct tobj *o = rb_entry(node, struct tobj, node);

		if (tcheck(o->p, tpattern_start(o), o->valid, o->tag) <
		    o->valid)
			bad++;
	}
	spin_unlock_irqrestore(&shadow.lock, flags);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "seed %u: live objects overwritten",
			    tor.seed);
}

/*
 * With the workers parked: sweep, then the validators, the slow recount,
 * the model's recount and the misuse count must all agree.
 */
static void tvalidate(struct kunit *test, unsigned long base_live,
		      unsigned long base_errors)
{
	unsigned long reported, expected, glive, mlive;

	WRITE_ONCE(goslab_fail_page_alloc_nth, 0);
	/*
	 * goslab_free_rcu()'s frees are mostly pending here, and counted
	 * apart; every 16th time the barrier folds them all first.
	 */
	if (!(++tor.validations % 16))
		goslab_rcu_barrier();
	tsweep_all();
	/* The RCU work must not fold while the counts are read. */
	goslab_bg_pause();
	reported = tmisuse_reported() - base_errors;
	expected = tmisuse_expected() + atomic_long_read(&tor.duels);
	KUNIT_EXPECT_EQ_MSG(test, reported, expected,
			    "seed %u: %lu misuses made, %lu reported",
			    tor.seed, expected, reported);
	KUNIT_EXPECT_EQ_MSG(test, goslab_validate(), 0,
			    "seed %u: validators or slow recount disagree",
			    tor.seed);
	glive = tgoslab_live() - base_live;
	goslab_bg_resume();
	mlive = tmodel_live();
	KUNIT_EXPECT_EQ_MSG(test, glive, mlive,
			    "seed %u: goslab counts %lu live objects, the model %lu",
			    tor.seed, glive, mlive);
	tcheck_all_patterns(test);
	if (reported != expected || glive != mlive || test->status == KUNIT_FAILURE) {
		unsigned int i;

		for (i = 0; i < tor.nthreads; i++)
			tdump(&tor.t[i]);
		WRITE_ONCE(tor.stop, true);
	}
	WRITE_ONCE(goslab_fail_page_alloc_nth,
		   READ_ONCE(tor.faults) ? 7 : 0);
}

/* A CPU other than the boot one goes offline and comes back. */
static void thotplug(struct kunit *test, struct rnd_state *rng)
{
	unsigned int cpu;

	if (!hotplug || num_online_cpus() < 2)
		return;
	cpu = cpumask_nth(1 + trand_below(rng, num_online_cpus() - 1),
			  cpu_online_mask);
	if (cpu >= nr_cpu_ids || remove_cpu(cpu))
		return;
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), 0);
}

static void tfree_everything(struct kunit *test)
{
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < tor.nthreads; i++) {
		struct tthread *t = &tor.t[i];
		unsigned int k;

		for (k = 0; k < T_TIMER_OBJS; k++) {
			struct tobj *o = t->timer_objs[k];

			if (!o)
				continue;
			t->timer_objs[k] = NULL;
			spin_lock_irqsave(&shadow.lock, flags);
			tlist(o);
			spin_unlock_irqrestore(&shadow.lock, flags);
		}
	}
	for (;;) {
		struct tobj *o;

		spin_lock_irqsave(&shadow.lock, flags);
		o = shadow.nlive ? shadow.live[shadow.nlive - 1] : NULL;
		if (o) {
			tunlist(o);
			if (o->kind == T_CACHE)
				atomic_inc(&shadow.caches[o->cache].active);
		}
		spin_unlock_irqrestore(&shadow.lock, flags);
		if (!o)
			break;
		if (tctor_obj(o) && tintact(&tor.t[0], o))
			tctor(o->p);
		tfree(&tor.t[0], o);
	}
	KUNIT_EXPECT_TRUE(test, RB_EMPTY_ROOT(&shadow.tree));
	/* goslab_free_rcu()'s last frees, before the pages are counted. */
	goslab_rcu_barrier();
	for (i = 0; i < T_NCACHES; i++) {
		goslab_cache_destroy(shadow.caches[i].c);
		shadow.caches[i].c = NULL;
	}
	goslab_cache_destroy(tor.duel_cache);
}

static void goslab_torture_test(struct kunit *test)
{
	unsigned long base_live, base_errors, base_churn, next_check, started;
	unsigned long total_ops, timer_ops;
	struct goslab_heap_stats st;
	struct rnd_state rng;
	u64 t0, elapsed;
	unsigned int i, n;

	memset(&tor, 0, sizeof(tor));
	memset(&shadow, 0, sizeof(shadow));
	tor.seed = seed ?: (get_random_u32() | 1);
	kunit_info(test, "seed %u, %lu operations, %u seconds at most\n",
		   tor.seed, ops, seconds);
	pr_info("goslab_torture: seed %u (replay: make torture SEED=%u)\n",
		tor.seed, tor.seed);
	prandom_seed_state(&rng, tor.seed);

	spin_lock_init(&shadow.lock);
	spin_lock_init(&tor.duel.lock);
	shadow.tree = RB_ROOT;
	shadow.pool = vzalloc(T_MAX_LIVE * sizeof(*shadow.pool));
	shadow.free = vmalloc(T_MAX_LIVE * sizeof(*shadow.free));
	shadow.live = vmalloc(T_MAX_LIVE * sizeof(*shadow.live));
	KUNIT_ASSERT_NOT_NULL(test, shadow.pool);
	KUNIT_ASSERT_NOT_NULL(test, shadow.free);
	KUNIT_ASSERT_NOT_NULL(test, shadow.live);
	for (i = 0; i < T_MAX_LIVE; i++)
		shadow.free[shadow.nfree++] = &shadow.pool[i];

	goslab_shrink();
	base_live = tgoslab_live();
	base_errors = tmisuse_reported();
	base_churn = tchurn_grows();
	tor.duel_cache = goslab_cache_create("torture-duel", 64, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, tor.duel_cache);
	for (i = 0; i < T_NCACHES; i++)
		KUNIT_ASSERT_EQ(test, tcache_create(&rng, &shadow.caches[i], i),
				0);

	n = threads ?: max(2U, num_online_cpus());
	tor.nthreads = min_t(unsigned int, n, T_MAX_THREADS);
	tor.target = ops;
	tor.deadline = seconds ? ktime_get_ns() + seconds * NSEC_PER_SEC : 0;
	atomic_set(&tor.running, tor.nthreads);
	init_completion(&tor.all_done);
	t0 = ktime_get_ns();
	for (i = 0; i < tor.nthreads; i++) {
		struct tthread *t = &tor.t[i];

		t->id = i;
		prandom_seed_state(&t->rng, (u64)tor.seed << 32 | (i + 1));
		prandom_seed_state(&t->timer_rng,
				   ((u64)tor.seed << 32 | (i + 1)) ^ 0x5bd1e995);
		t->bulk_cache = 0;
		hrtimer_init(&t->timer, CLOCK_MONOTONIC,
			     GOSLAB_TEST_IRQ_TIMER_MODE);
		t->timer.function = ttimer_fn;
		t->task = kthread_run(tworker, t, "goslab_torture/%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t->task));
	}

	next_check = validate_every;
	while (!wait_for_completion_timeout(&tor.all_done, HZ / 10)) {
		started = atomic_long_read(&tor.started);
		if (started < next_check || READ_ONCE(tor.stop))
			continue;
		/* Park the workers, validate, maybe replug a CPU, go on. */
		WRITE_ONCE(tor.pause, true);
		while (atomic_read(&tor.parked) + tor.nthreads -
		       atomic_read(&tor.running) < tor.nthreads &&
		       !completion_done(&tor.all_done))
			usleep_range(1000, 2000);
		tvalidate(test, base_live, base_errors);
		thotplug(test, &rng);
		next_check = atomic_long_read(&tor.started) + validate_every;
		WRITE_ONCE(tor.pause, false);
	}
	elapsed = ktime_get_ns() - t0;
	WRITE_ONCE(goslab_fail_page_alloc_nth, 0);

	total_ops = 0;
	timer_ops = 0;
	for (i = 0; i < tor.nthreads; i++) {
		total_ops += tor.t[i].done;
		timer_ops += tor.t[i].timer_ops;
		if (atomic_read(&tor.failed))
			tdump(&tor.t[i]);
	}
	kunit_info(test, "seed %u: %lu operations by %u threads and %lu in %s timers, %u CPUs, %llu ms: %llu per second; %ld duels, %lu misuses reported, %lu spans grown for churn\n",
		   tor.seed, total_ops, tor.nthreads, timer_ops,
		   GOSLAB_TEST_IRQ_NAME, num_online_cpus(),
		   elapsed / NSEC_PER_MSEC,
		   elapsed ? (total_ops + timer_ops) * NSEC_PER_SEC / elapsed :
		   0, atomic_long_read(&tor.duels),
		   tmisuse_reported() - base_errors,
		   tchurn_grows() - base_churn);
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&tor.failed), 0,
			    "seed %u: see the kernel log for the failure and the last operations",
			    tor.seed);
	if (!atomic_read(&tor.failed))
		tvalidate(test, base_live, base_errors);

	for (i = 0; i < GOSLAB_NUM_SPAN_CLASSES; i++)
		goslab_class_set_track(&goslab_classes[i], false);
	tfree_everything(test);
	tsweep_all();
	KUNIT_EXPECT_EQ(test, tmisuse_reported() - base_errors,
			tmisuse_expected() + atomic_long_read(&tor.duels));
	goslab_shrink();
	mheap_read_stats(&st);
	KUNIT_EXPECT_EQ_MSG(test, st.kpages_taken, st.kpages_returned,
			    "seed %u: kernel pages not given back", tor.seed);
	goslab_expect_consistent(test);
	vfree(shadow.live);
	vfree(shadow.free);
	vfree(shadow.pool);
}

static struct kunit_case torture_cases[] = {
	KUNIT_CASE_SLOW(goslab_torture_test),
	{}
};

static struct kunit_suite torture_suite = {
	.name = "goslab_torture",
	.test_cases = torture_cases,
};

kunit_test_suite(torture_suite);

MODULE_DESCRIPTION("goslab's randomized torture test against a shadow model");
