// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_stress: several CPUs at once. Objects allocated on one CPU are
 * freed on another (remote frees go through the atomic free-bit path and
 * reach the producer's spans while it still caches them), through a plain
 * handoff, a bounded ring, shared slots and hardirq context; caches come
 * and go while the background work, the shrinker and the pageCache flush
 * run; the page allocator runs out of memory. Each test is bounded in
 * scale, fills every object with a pattern checked before the free, runs
 * in rounds with the validators and the slow recount between them, and
 * ends with every kernel page given back. The cross-CPU cases run a
 * second time with every third page allocation failing
 * (fail_page_alloc_nth): each allocation must then give a valid object or
 * NULL. Cases that need two CPUs skip in UML; make check runs them under
 * QEMU -smp 4.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/goslab.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/vmalloc.h>
#include "goslab_test.h"

#define STRESS_RING_LEN		1024	/* power of two */

/*
 * Every case runs all of its steps at any scale; the scale sets how many
 * objects and operations go through them. make check runs half on the
 * PREEMPT_RT debug kernel, whose four emulated CPUs share two real ones.
 */
static unsigned int scale = 100;
module_param(scale, uint, 0444);
MODULE_PARM_DESC(scale, "percent of the full number of objects and operations of each case");

static unsigned long stress_scaled(unsigned long n)
{
	return max(1UL, n * scale / 100);
}

struct stress_obj {
	void *p;
	u32 size;
};

struct stress_ctx {
	struct kunit *test;
	void **objs;		/* goslab_test_objs(): object i of stress_size(i) */
	unsigned long nobjs;
	/* ring: head written by the producer only, tail by the consumer only */
	struct stress_obj ring[STRESS_RING_LEN];
	unsigned long head;
	unsigned long tail;
	bool producer_done;
	unsigned long alloc_failed;
	unsigned long corrupt;
	unsigned long peak_kpages;
	unsigned long base_kpages;
	atomic_long_t live_bytes;	/* of the objects in the ring */
	unsigned long live_at_peak;	/* live_bytes when peak_kpages was seen */
	struct completion done;
};

static unsigned long stress_held_kpages(void)
{
	struct goslab_heap_stats st;

	mheap_read_stats(&st);
	return st.kpages_taken - st.kpages_returned;
}

static u32 stress_size(unsigned long i)
{
	static const u32 sizes[] = { 8, 24, 64, 100, 256, 512, 1024, 3000 };

	return sizes[(i * 7 + (i >> 3)) % ARRAY_SIZE(sizes)];
}

static void stress_fill(void *p, u32 size)
{
	unsigned long tag = (unsigned long)p ^ size;
	u32 i;

	for (i = 0; i + sizeof(long) <= size; i += sizeof(long))
		*(unsigned long *)(p + i) = tag + i;
}

static bool stress_intact(const void *p, u32 size)
{
	unsigned long tag = (unsigned long)p ^ size;
	u32 i;

	for (i = 0; i + sizeof(long) <= size; i += sizeof(long))
		if (*(const unsigned long *)(p + i) != tag + i)
			return false;
	return true;
}

/* Two online CPUs to pin the two sides on, or skip. */
static bool stress_two_cpus(struct kunit *test, unsigned int *a,
			    unsigned int *b)
{
	*a = cpumask_first(cpu_online_mask);
	*b = cpumask_next(*a, cpu_online_mask);
	if (*b >= nr_cpu_ids) {
		kunit_skip(test, "needs two online CPUs");
		return false;
	}
	return true;
}

static struct task_struct *stress_start(struct kunit *test,
					int (*fn)(void *), void *arg,
					unsigned int cpu, const char *name)
{
	struct task_struct *t;

	t = kthread_create(fn, arg, "%s/%u", name, cpu);
	if (IS_ERR(t))
		return t;
	kthread_bind(t, cpu);
	wake_up_process(t);
	return t;
}

/* Object @i of a stress run, filled; NULL (counted) if none could be had. */
static void *stress_alloc_filled(struct stress_ctx *c, unsigned long i,
				 u32 *size)
{
	void *p;

	*size = stress_size(i);
	p = goslab_alloc(*size, GFP_KERNEL);
	if (!p)
		c->alloc_failed++;
	else
		stress_fill(p, *size);
	return p;
}

/* Put a new, filled object of @size in *@slot; check and free the old one. */
static void stress_replace(void **slot, u32 size, gfp_t gfp,
			   atomic_long_t *failed, atomic_long_t *corrupt)
{
	void *p = goslab_alloc(size, gfp);
	void *old;

	if (!p) {
		atomic_long_inc(failed);
		return;
	}
	stress_fill(p, size);
	old = xchg(slot, p);
	if (old) {
		if (!stress_intact(old, size))
			atomic_long_inc(corrupt);
		goslab_free(old);
	}
}

/* Check and free what @n slots hold; slot i holds stress_size(i) bytes. */
static void stress_free_slots(void **slots, unsigned int n,
			      atomic_long_t *corrupt)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!slots[i])
			continue;
		if (!stress_intact(slots[i], stress_size(i)))
			atomic_long_inc(corrupt);
		goslab_free(slots[i]);
		slots[i] = NULL;
	}
}

/* Threads on distinct CPUs that say when the last of them is done. */
struct stress_team {
	atomic_t running;
	struct completion done;
};

static void stress_team_done(struct stress_team *tm)
{
	if (atomic_dec_and_test(&tm->running))
		complete(&tm->done);
}

/*
 * Run fns[i](args[i]) in a thread bound to the i-th online CPU, i < @n,
 * and wait until each called stress_team_done(). If a thread cannot be
 * started, *@stop (when given) is set so that the others end.
 */
static void stress_team_run(struct kunit *test, struct stress_team *tm,
			    unsigned int n, int (*const fns[])(void *),
			    void *const args[], bool *stop, const char *name)
{
	unsigned int cpu, i = 0;

	init_completion(&tm->done);
	atomic_set(&tm->running, n + 1);	/* held until all started */
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		if (i == n)
			break;
		t = stress_start(test, fns[i], args[i], cpu, name);
		if (IS_ERR(t)) {
			KUNIT_FAIL(test, "cannot start a thread on CPU %u", cpu);
			if (stop)
				WRITE_ONCE(*stop, true);
			stress_team_done(tm);
		}
		i++;
	}
	stress_team_done(tm);
	wait_for_completion(&tm->done);
}

static int remote_alloc_fn(void *arg)
{
	struct stress_ctx *c = arg;
	unsigned long i;

	for (i = 0; i < c->nobjs; i++) {
		u32 size;
		void *p = stress_alloc_filled(c, i, &size);

		if (!p)
			continue;
		c->objs[i] = p;
		if (!(i & 1023))
			cond_resched();
	}
	complete(&c->done);
	return 0;
}

static int remote_free_fn(void *arg)
{
	struct stress_ctx *c = arg;
	unsigned long i;

	for (i = 0; i < c->nobjs; i++) {
		unsigned long k = (i * 7919) % c->nobjs;

		if (!c->objs[k])
			continue;
		if (!stress_intact(c->objs[k], stress_size(k)))
			c->corrupt++;
		goslab_free(c->objs[k]);
		c->objs[k] = NULL;
		if (!(i & 1023))
			cond_resched();
	}
	complete(&c->done);
	return 0;
}

static void stress_expect_all_back(struct kunit *test)
{
	struct goslab_heap_stats st;

	goslab_shrink();
	mheap_read_stats(&st);
	KUNIT_EXPECT_EQ_MSG(test, st.kpages_taken, st.kpages_returned,
			    "kernel pages still held after everything was freed");
	goslab_expect_consistent(test);
}

/* Between rounds, with nothing in flight. */
static void stress_validate(struct kunit *test, const char *when)
{
	KUNIT_EXPECT_EQ_MSG(test, goslab_validate(), 0,
			    "validators or slow recount disagree %s", when);
}

/* The parameter of the cross-CPU cases: injected page-allocation faults. */
struct stress_faults {
	unsigned int fail_nth;	/* 0: none */
	long injected;		/* the failure counter when armed */
};

static const struct stress_faults stress_fault_params[] = {
	{ .fail_nth = 0 }, { .fail_nth = 3 },
};

static void stress_faults_desc(const struct stress_faults *f, char *desc)
{
	if (f->fail_nth)
		snprintf(desc, KUNIT_PARAM_DESC_SIZE,
			 "fail_page_alloc_nth=%u", f->fail_nth);
	else
		snprintf(desc, KUNIT_PARAM_DESC_SIZE, "no faults");
}

KUNIT_ARRAY_PARAM(stress_faults, stress_fault_params, stress_faults_desc);

/*
 * Arm the test's fault injection. With faults, goslab first gives its
 * free pages back so that the failures hit at once.
 */
static unsigned int stress_faults_begin(struct kunit *test,
					struct stress_faults *f)
{
	const struct stress_faults *p = test->param_value;

	f->fail_nth = p ? p->fail_nth : 0;
	if (f->fail_nth)
		goslab_shrink();
	f->injected = atomic_long_read(&goslab_injected_failures);
	WRITE_ONCE(goslab_fail_page_alloc_nth, f->fail_nth);
	return f->fail_nth;
}

/* Disarm; with faults, some must have been injected. Returns how many. */
static long stress_faults_end(struct kunit *test, struct stress_faults *f)
{
	WRITE_ONCE(goslab_fail_page_alloc_nth, 0);
	f->injected = atomic_long_read(&goslab_injected_failures) -
		      f->injected;
	if (f->fail_nth)
		KUNIT_EXPECT_GT_MSG(test, f->injected, 0,
				    "no page allocation failure was injected");
	return f->injected;
}

/*
 * One CPU allocates a mixed-size set, another checks and frees all of it
 * in a scattered order; then the first CPU allocates the set again, which
 * must come from the remotely freed slots rather than new pages.
 */
static void stress_remote_free_test(struct kunit *test)
{
	unsigned int cpu_a, cpu_b, round;
	struct stress_faults faults;
	struct task_struct *t;
	struct stress_ctx *c;
	unsigned long first_peak = 0;

	if (!stress_two_cpus(test, &cpu_a, &cpu_b))
		return;
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	/* Prime to 7919 (below 7919 * 100), so the free order is a permutation. */
	c->nobjs = stress_scaled(20000);
	c->objs = goslab_test_objs(test, c->nobjs);
	KUNIT_ASSERT_NOT_NULL(test, c->objs);

	stress_faults_begin(test, &faults);
	/*
	 * What is measured is the reuse of remotely freed slots, by the
	 * allocations themselves (refills sweep, the sweep credit sweeps).
	 * The background scavenger, run between or during the rounds, may
	 * give back pages of chunks, which are not carved again: round 1
	 * then grew new chunks, up to 120 pages above the first peak, in 2
	 * of 12 runs. It stays paused while the rounds run.
	 */
	goslab_test_bg_pause(test);
	for (round = 0; round < 2; round++) {
		unsigned long held;

		init_completion(&c->done);
		t = stress_start(test, remote_alloc_fn, c, cpu_a, "gs_alloc");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		wait_for_completion(&c->done);
		held = stress_held_kpages();
		if (!round)
			first_peak = held;
		stress_validate(test, "after the allocating round");

		init_completion(&c->done);
		t = stress_start(test, remote_free_fn, c, cpu_b, "gs_free");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		wait_for_completion(&c->done);
		stress_validate(test, "after the remote frees");
		kunit_info(test, "round %u: %lu kernel pages held at peak\n",
			   round, held);
		if (round && !faults.fail_nth)
			KUNIT_EXPECT_LE_MSG(test, held, first_peak + 64,
					    "remote frees were not reused");
	}
	goslab_test_bg_resume(test);
	stress_faults_end(test, &faults);
	kunit_info(test, "%lu of %lu allocations failed, %ld page allocations failed\n",
		   c->alloc_failed, 2 * c->nobjs, faults.injected);
	if (!faults.fail_nth)
		KUNIT_EXPECT_EQ(test, c->alloc_failed, 0);
	KUNIT_EXPECT_EQ(test, c->corrupt, 0);
	stress_expect_all_back(test);
}

static int pc_producer_fn(void *arg)
{
	struct stress_ctx *c = arg;
	unsigned long i, kp;

	for (i = 0; i < c->nobjs; i++) {
		u32 size;
		void *p = stress_alloc_filled(c, i, &size);

		if (!p)
			continue;
		/* pairs with the consumer's release: its read of the slot is done */
		while (c->head - smp_load_acquire(&c->tail) == STRESS_RING_LEN)
			cond_resched();
		c->ring[c->head % STRESS_RING_LEN].p = p;
		c->ring[c->head % STRESS_RING_LEN].size = size;
		atomic_long_add(size, &c->live_bytes);
		/* publishes the slot and the object's pattern to the consumer */
		smp_store_release(&c->head, c->head + 1);
		if (!(i & 255)) {
			kp = stress_held_kpages();
			if (kp > c->peak_kpages) {
				c->peak_kpages = kp;
				c->live_at_peak =
					atomic_long_read(&c->live_bytes);
			}
			cond_resched();
		}
	}
	/* after the last head: see the consumer */
	smp_store_release(&c->producer_done, true);
	complete(&c->done);
	return 0;
}

static int pc_consumer_fn(void *arg)
{
	struct stress_ctx *c = arg;
	unsigned long n = 0;

	for (;;) {
		struct stress_obj o;

		/* pairs with the producer's release of head */
		if (smp_load_acquire(&c->head) == c->tail) {
			/*
			 * Pairs with the producer's release of producer_done,
			 * after its last head: the re-read of head below sees
			 * the final value.
			 */
			if (smp_load_acquire(&c->producer_done) &&
			    READ_ONCE(c->head) == c->tail)
				break;
			cond_resched();
			continue;
		}
		o = c->ring[c->tail % STRESS_RING_LEN];
		/* hands the slot back once it is read */
		smp_store_release(&c->tail, c->tail + 1);
		if (!stress_intact(o.p, o.size))
			c->corrupt++;
		goslab_free(o.p);
		atomic_long_sub(o.size, &c->live_bytes);
		if (!(++n & 255))
			cond_resched();
	}
	complete(&c->done);
	return 0;
}

/*
 * Producer/consumer through a bounded ring (xmalloc-test style): every
 * object is freed on the other CPU, so each of the producer's spans fills
 * with remote frees. At most STRESS_RING_LEN objects (<= 3 MiB) are live
 * at once; the pages held must stay bounded by that, not grow with the
 * number of objects passed through. Four rounds, validated in between.
 */
static void stress_producer_consumer_test(struct kunit *test)
{
	unsigned int cpu_a, cpu_b, round;
	struct task_struct *tp, *tc;
	struct stress_faults faults;
	struct stress_ctx *c;
	unsigned long live_kpages_max, total = 0;

	if (!stress_two_cpus(test, &cpu_a, &cpu_b))
		return;
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->nobjs = stress_scaled(100000);
	stress_faults_begin(test, &faults);
	c->base_kpages = stress_held_kpages();
	for (round = 0; round < 4; round++) {
		c->head = 0;
		c->tail = 0;
		c->producer_done = false;
		init_completion(&c->done);
		tc = stress_start(test, pc_consumer_fn, c, cpu_b, "gs_cons");
		KUNIT_ASSERT_FALSE(test, IS_ERR(tc));
		tp = stress_start(test, pc_producer_fn, c, cpu_a, "gs_prod");
		if (IS_ERR(tp)) {
			WRITE_ONCE(c->producer_done, true);
			wait_for_completion(&c->done);
			KUNIT_FAIL(test, "cannot start the producer");
			break;
		}
		wait_for_completion(&c->done);
		wait_for_completion(&c->done);
		KUNIT_EXPECT_EQ(test, c->head, c->tail);
		total += c->nobjs;
		stress_validate(test, "between producer/consumer rounds");
	}
	stress_faults_end(test, &faults);

	/* The live bytes at most: the ring full of the largest objects. */
	live_kpages_max = DIV_ROUND_UP(STRESS_RING_LEN * 3072UL, PAGE_SIZE);
	kunit_info(test, "%lu objects through a %u-slot ring: peak %lu kernel pages held while %lu KiB were live (a full ring of the largest objects: %lu pages); %lu allocations failed\n",
		   total, STRESS_RING_LEN,
		   c->peak_kpages - c->base_kpages, c->live_at_peak >> 10,
		   live_kpages_max, c->alloc_failed);
	if (!faults.fail_nth)
		KUNIT_EXPECT_EQ(test, c->alloc_failed, 0);
	KUNIT_EXPECT_EQ(test, c->corrupt, 0);
	KUNIT_EXPECT_LE_MSG(test, c->peak_kpages - c->base_kpages,
			    4 * live_kpages_max,
			    "remote frees made memory pile up");
	stress_expect_all_back(test);
}

#define LARSON_SLOTS		4096
#define LARSON_MAX_THREADS	4

struct larson_ctx {
	void *slots[LARSON_SLOTS];	/* slot i holds an object of stress_size(i) */
	unsigned long ops;
	atomic_long_t alloc_failed;
	atomic_long_t corrupt;
	struct stress_team team;
};

struct larson_thread {
	struct larson_ctx *c;
	struct rnd_state seed;
};

/*
 * Each thread replaces objects in slots shared by all threads: the object
 * it frees was most often allocated by a thread on another CPU.
 */
static int larson_fn(void *arg)
{
	struct larson_thread *lt = arg;
	struct larson_ctx *c = lt->c;
	unsigned long i;

	for (i = 0; i < c->ops; i++) {
		unsigned int idx = prandom_u32_state(&lt->seed) % LARSON_SLOTS;

		stress_replace(&c->slots[idx], stress_size(idx), GFP_KERNEL,
			       &c->alloc_failed, &c->corrupt);
		if (!(i & 255))
			cond_resched();
	}
	stress_team_done(&c->team);
	return 0;
}

/*
 * Larson-style: random replacement in slots shared between CPUs, in four
 * rounds with the validators in between (the slots stay filled across
 * rounds).
 */
static void stress_larson_test(struct kunit *test)
{
	int (*fns[LARSON_MAX_THREADS])(void *);
	unsigned int n = min(num_online_cpus(), LARSON_MAX_THREADS), i, round;
	struct larson_thread lt[LARSON_MAX_THREADS];
	void *args[LARSON_MAX_THREADS];
	struct stress_faults faults;
	struct larson_ctx *c;

	if (n < 2) {
		kunit_skip(test, "needs two online CPUs");
		return;
	}
	c = vzalloc(sizeof(*c));
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->ops = stress_scaled(25000);
	for (i = 0; i < n; i++) {
		lt[i].c = c;
		prandom_seed_state(&lt[i].seed, 12345 + i);
		fns[i] = larson_fn;
		args[i] = &lt[i];
	}
	stress_faults_begin(test, &faults);
	for (round = 0; round < 4; round++) {
		stress_team_run(test, &c->team, n, fns, args, NULL,
				"gs_larson");
		stress_validate(test, "between larson rounds");
	}
	stress_faults_end(test, &faults);
	kunit_info(test, "%u threads, %lu replacements each, %lu kernel pages held, %ld page allocations failed, %ld object allocations failed\n",
		   n, 4 * c->ops, stress_held_kpages(), faults.injected,
		   atomic_long_read(&c->alloc_failed));
	stress_free_slots(c->slots, LARSON_SLOTS, &c->corrupt);
	if (!faults.fail_nth)
		KUNIT_EXPECT_EQ(test, atomic_long_read(&c->alloc_failed), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c->corrupt), 0);
	vfree(c);
	stress_expect_all_back(test);
}

#define CHURN_CPUS		4	/* the creator, then allocators, the reclaimer */
#define CHURN_ROUNDS		300	/* caches made at scale 100, in CHURN_PHASES phases */
#define CHURN_PHASES		3
#define CHURN_OBJS		64

struct churn_ctx {
	struct goslab_cache *shared;	/* allocated from while others come and go */
	struct stress_team team;
	bool stop;
	atomic_long_t failed;
	atomic_long_t corrupt;
	atomic_long_t created;
	unsigned int first;	/* of this phase's rounds */
	unsigned int rounds;	/* per phase */
};

/* Create a cache, fill and empty it, destroy it; c->rounds times. */
static int churn_creator_fn(void *arg)
{
	struct churn_ctx *c = arg;
	void *objs[CHURN_OBJS];
	unsigned int round, i;
	char name[32];

	for (round = c->first; round < c->first + c->rounds; round++) {
		u32 size = stress_size(round);
		struct goslab_cache *gc;

		snprintf(name, sizeof(name), "stress-churn-%u", round);
		gc = goslab_cache_create(name, size, NULL, 0);
		if (!gc) {
			atomic_long_inc(&c->failed);
			continue;
		}
		atomic_long_inc(&c->created);
		for (i = 0; i < CHURN_OBJS; i++) {
			objs[i] = goslab_cache_alloc(gc, GFP_KERNEL);
			if (objs[i])
				stress_fill(objs[i], size);
			else
				atomic_long_inc(&c->failed);
		}
		for (i = 0; i < CHURN_OBJS; i++) {
			if (!objs[i])
				continue;
			if (!stress_intact(objs[i], size))
				atomic_long_inc(&c->corrupt);
			goslab_cache_free(gc, objs[i]);
		}
		goslab_cache_destroy(gc);
		cond_resched();
	}
	WRITE_ONCE(c->stop, true);
	stress_team_done(&c->team);
	return 0;
}

/* Allocate and free from the shared cache and the kmalloc-style classes. */
static int churn_alloc_fn(void *arg)
{
	struct churn_ctx *c = arg;
	struct stress_obj objs[CHURN_OBJS];
	unsigned long i = 0;
	u32 j;

	while (!READ_ONCE(c->stop)) {
		u32 size = stress_size(i++);

		/* odd slots from the shared cache (size 128), even kmalloc-style */
		for (j = 0; j < CHURN_OBJS; j++) {
			objs[j].size = (j & 1) ? 128 : size;
			objs[j].p = (j & 1) ?
				goslab_cache_alloc(c->shared, GFP_KERNEL) :
				goslab_alloc(size, GFP_KERNEL);
			if (objs[j].p)
				stress_fill(objs[j].p, objs[j].size);
			else
				atomic_long_inc(&c->failed);
		}
		for (j = 0; j < CHURN_OBJS; j++) {
			struct stress_obj o = objs[j];

			if (!o.p)
				continue;
			if (!stress_intact(o.p, o.size))
				atomic_long_inc(&c->corrupt);
			if (j & 1)
				goslab_cache_free(c->shared, o.p);
			else
				goslab_free(o.p);
		}
		cond_resched();
	}
	stress_team_done(&c->team);
	return 0;
}

/* What memory pressure and the background work do, as often as possible. */
static int churn_reclaim_fn(void *arg)
{
	struct churn_ctx *c = arg;

	while (!READ_ONCE(c->stop)) {
		goslab_shrinker_scan(64);
		mheap_pcache_flush_all();
		goslab_bg_flush();
		goslab_shrink();
		usleep_range(100, 200);
	}
	stress_team_done(&c->team);
	return 0;
}

/* One phase of the churn: the threads start, run, and are all done. */
static void churn_phase(struct kunit *test, struct churn_ctx *c)
{
	int (*fns[CHURN_CPUS])(void *);
	unsigned int n = min(num_online_cpus(), CHURN_CPUS), i;
	void *args[CHURN_CPUS];

	for (i = 0; i < n; i++) {
		fns[i] = i == 0 ? churn_creator_fn :
			 i == 1 ? churn_reclaim_fn : churn_alloc_fn;
		args[i] = c;
	}
	WRITE_ONCE(c->stop, false);
	stress_team_run(test, &c->team, n, fns, args, &c->stop, "gs_churn");
}

/*
 * Caches created and destroyed on one CPU while the others allocate from
 * other caches, racing the shrinker, the page-cache flush, the background
 * sweeper and goslab_shrink().
 */
static void stress_cache_churn_test(struct kunit *test)
{
	struct stress_faults faults;
	struct churn_ctx *c;
	unsigned int phase;

	if (num_online_cpus() < 2) {
		kunit_skip(test, "needs two online CPUs");
		return;
	}
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->shared = goslab_test_cache_create(test, "stress-shared", 128, NULL,
					     0);
	KUNIT_ASSERT_NOT_NULL(test, c->shared);
	c->rounds = stress_scaled(CHURN_ROUNDS / CHURN_PHASES);
	stress_faults_begin(test, &faults);
	for (phase = 0; phase < CHURN_PHASES; phase++) {
		c->first = phase * c->rounds;
		churn_phase(test, c);
		stress_validate(test, "between churn phases");
	}
	stress_faults_end(test, &faults);
	kunit_info(test, "%ld caches created and destroyed with %u threads; %ld allocations failed\n",
		   atomic_long_read(&c->created),
		   min(num_online_cpus(), CHURN_CPUS),
		   atomic_long_read(&c->failed));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c->created),
			CHURN_PHASES * c->rounds);
	if (!faults.fail_nth)
		KUNIT_EXPECT_EQ(test, atomic_long_read(&c->failed), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c->corrupt), 0);
	goslab_test_cache_destroy(test, c->shared);
	stress_expect_all_back(test);
}

#define IRQ_SLOTS		512	/* shared by every CPU's timer */
#define IRQ_PROC_SLOTS		256	/* private to each process-context thread */
#define IRQ_PERIOD_NS		(20 * NSEC_PER_USEC)

struct irq_ctx {
	void *slots[IRQ_SLOTS];		/* slot i: an object of stress_size(i) */
	unsigned long ops;		/* replacements per thread per round */
	atomic_long_t irq_failed;
	atomic_long_t proc_failed;
	atomic_long_t corrupt;
	struct stress_team team;
};

struct irq_cpu {
	struct irq_ctx *c;
	struct hrtimer timer;
	void *own[IRQ_PROC_SLOTS];	/* slot i: an object of stress_size(i) */
	unsigned long fired;
	struct rnd_state seed;		/* the process side's */
	struct rnd_state irq_seed;	/* the timer's */
	bool stop;
};

/*
 * Hardirq: replace an object in a slot shared by every CPU's timer, so
 * the object freed was often allocated in another CPU's hardirq.
 */
static enum hrtimer_restart irq_replace(struct hrtimer *t)
{
	struct irq_cpu *ic = container_of(t, struct irq_cpu, timer);
	struct irq_ctx *c = ic->c;
	unsigned int idx = prandom_u32_state(&ic->irq_seed) % IRQ_SLOTS;

	ic->fired++;
	stress_replace(&c->slots[idx], stress_size(idx),
		       GFP_ATOMIC | __GFP_NOWARN, &c->irq_failed, &c->corrupt);
	if (READ_ONCE(ic->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(IRQ_PERIOD_NS));
	return HRTIMER_RESTART;
}

/*
 * Process context on the timer's CPU replaces objects of the same classes
 * in its own slots; the timer interrupts it anywhere in goslab_alloc() and
 * goslab_free().
 */
static int irq_proc_fn(void *arg)
{
	struct irq_cpu *ic = arg;
	struct irq_ctx *c = ic->c;
	unsigned long i;

	WRITE_ONCE(ic->stop, false);
	hrtimer_init(&ic->timer, CLOCK_MONOTONIC, GOSLAB_TEST_IRQ_TIMER_MODE);
	ic->timer.function = irq_replace;
	hrtimer_start(&ic->timer, ns_to_ktime(IRQ_PERIOD_NS),
		      GOSLAB_TEST_IRQ_TIMER_MODE);
	for (i = 0; i < c->ops; i++) {
		unsigned int idx = prandom_u32_state(&ic->seed) % IRQ_PROC_SLOTS;

		stress_replace(&ic->own[idx], stress_size(idx), GFP_KERNEL,
			       &c->proc_failed, &c->corrupt);
		if (!(i & 255))
			cond_resched();
	}
	WRITE_ONCE(ic->stop, true);
	hrtimer_cancel(&ic->timer);
	stress_team_done(&c->team);
	return 0;
}

/*
 * Allocation and free in hardirq (a pinned hrtimer every 20 us on each
 * CPU) while process context on the same CPU allocates and frees the same
 * classes; hardirq frees are remote when another CPU's timer allocated
 * the object. Runs on one CPU too.
 */
static void stress_hardirq_test(struct kunit *test)
{
	int (*fns[LARSON_MAX_THREADS])(void *);
	unsigned int n = min(num_online_cpus(), LARSON_MAX_THREADS), i, round;
	void *args[LARSON_MAX_THREADS];
	struct stress_faults faults;
	struct irq_cpu *ics;
	struct irq_ctx *c;
	unsigned long fired = 0;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	ics = kunit_kcalloc(test, n, sizeof(*ics), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ics);
	c->ops = stress_scaled(20000);
	for (i = 0; i < n; i++) {
		ics[i].c = c;
		prandom_seed_state(&ics[i].seed, 777 + i);
		prandom_seed_state(&ics[i].irq_seed, 4242 + i);
		fns[i] = irq_proc_fn;
		args[i] = &ics[i];
	}
	stress_faults_begin(test, &faults);
	for (round = 0; round < 3; round++) {
		stress_team_run(test, &c->team, n, fns, args, NULL, "gs_irq");
		stress_validate(test, "between hardirq rounds");
	}
	stress_faults_end(test, &faults);
	for (i = 0; i < n; i++) {
		fired += ics[i].fired;
		KUNIT_EXPECT_GT_MSG(test, ics[i].fired, 0,
				    "the timer of thread %u never fired", i);
		stress_free_slots(ics[i].own, IRQ_PROC_SLOTS, &c->corrupt);
	}
	stress_free_slots(c->slots, IRQ_SLOTS, &c->corrupt);
	kunit_info(test, "%u CPUs: %lu hardirq replacements against %lu in process context; failed: %ld hardirq, %ld process\n",
		   n, fired, 3 * n * c->ops,
		   atomic_long_read(&c->irq_failed),
		   atomic_long_read(&c->proc_failed));
	if (!faults.fail_nth)
		KUNIT_EXPECT_EQ(test, atomic_long_read(&c->proc_failed), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c->corrupt), 0);
	stress_expect_all_back(test);
}

#define PRESSURE_LIVE		2000
#define PRESSURE_CACHED		8192	/* 2 KiB objects: 16 MiB, then freed */

/*
 * Memory pressure: goslab holds free memory for reuse (its retained heap
 * pages and the empty spans classes keep) while live objects stay
 * allocated; then pages are taken from the page allocator with
 * __GFP_RETRY_MAYFAIL until it fails. Reclaim must have called goslab's
 * shrinker and the shrinker must have given memory back; the live
 * objects are untouched, and everything is given back at the end.
 */
static void stress_memory_pressure_test(struct kunit *test)
{
	unsigned long released, held_before, held_after, cached, cached_after;
	unsigned long hogged = 0, i;
	struct page *page, *tmp;
	LIST_HEAD(pages);
	void **live, **tmpobjs;	/* live[i]: an object of stress_size(i) */
	long corrupt = 0;

	live = goslab_test_objs(test, PRESSURE_LIVE);
	tmpobjs = goslab_test_objs(test, PRESSURE_CACHED);
	KUNIT_ASSERT_NOT_NULL(test, live);
	KUNIT_ASSERT_NOT_NULL(test, tmpobjs);
	for (i = 0; i < PRESSURE_LIVE; i++) {
		live[i] = goslab_alloc(stress_size(i), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, live[i]);
		stress_fill(live[i], stress_size(i));
	}
	for (i = 0; i < PRESSURE_CACHED; i++) {
		tmpobjs[i] = goslab_alloc(2048, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, tmpobjs[i]);
	}
	goslab_test_free_objs(tmpobjs, PRESSURE_CACHED);
	/* The background work settles at its goal: what it keeps is cached. */
	mcache_flush_all();
	goslab_bg_flush();
	cached = goslab_shrinker_count();
	held_before = stress_held_kpages();
	released = goslab_test_sweep_stats().shrinker_kpages_released;
	KUNIT_ASSERT_GT_MSG(test, cached, 0, "goslab holds no free memory");

	/* No reporting (it allocates) until the pages are given back. */
	while ((page = alloc_page(GFP_KERNEL | __GFP_RETRY_MAYFAIL |
				  __GFP_NOWARN))) {
		list_add(&page->lru, &pages);
		if (!(++hogged & 1023))
			cond_resched();
	}
	released = goslab_test_sweep_stats().shrinker_kpages_released -
		   released;
	held_after = stress_held_kpages();
	cached_after = goslab_shrinker_count();
	list_for_each_entry_safe(page, tmp, &pages, lru) {
		list_del(&page->lru);
		__free_page(page);
	}

	kunit_info(test, "%lu pages taken until the page allocator failed; goslab cached %lu free kernel pages, the shrinker released %lu; held %lu -> %lu, cached %lu after\n",
		   hogged, cached, released, held_before, held_after,
		   cached_after);
	KUNIT_EXPECT_GT_MSG(test, released, 0,
			    "the shrinker gave nothing back under pressure");
	KUNIT_EXPECT_LT(test, held_after, held_before);
	for (i = 0; i < PRESSURE_LIVE; i++) {
		if (!stress_intact(live[i], stress_size(i)))
			corrupt++;
		goslab_free(live[i]);
		live[i] = NULL;
	}
	KUNIT_EXPECT_EQ(test, corrupt, 0);
	stress_expect_all_back(test);
}

/* Each cross-CPU case runs without faults, then with them. */
#define STRESS_CASE(fn)							\
	KUNIT_CASE_PARAM_ATTR(fn, stress_faults_gen_params,		\
			      { .speed = KUNIT_SPEED_SLOW })

static struct kunit_case stress_cases[] = {
	STRESS_CASE(stress_remote_free_test),
	STRESS_CASE(stress_producer_consumer_test),
	STRESS_CASE(stress_larson_test),
	STRESS_CASE(stress_hardirq_test),
	STRESS_CASE(stress_cache_churn_test),
	KUNIT_CASE_SLOW(stress_memory_pressure_test),
	{}
};

static struct kunit_suite stress_suite = {
	.name = "goslab_stress",
	.test_cases = stress_cases,
};

kunit_test_suite(stress_suite);
