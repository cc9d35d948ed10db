// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for goslab_free_rcu() and goslab_rcu_barrier(): an object
 * freed after a grace period is never handed out again, nor written to,
 * while a reader that could have found it runs; misuse is reported and
 * changes nothing; the pending memory is shown and drains by itself; and
 * after the barrier everything is reusable and consistent. A type-safe
 * cache (GOSLAB_TYPESAFE_BY_RCU) keeps an emptied span out of the heap
 * for a grace period and serves a lock-free lookup whose readers never
 * see memory of another type.
 */
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/sched/task.h>
#include <linux/rcupdate.h>
#include "goslab_test.h"

static unsigned int scale = 100;
module_param(scale, uint, 0444);
MODULE_PARM_DESC(scale, "percent of the flood's 10^6 frees to make");

static long rcu_pending(void)
{
	struct goslab_memstats ms;

	goslab_read_memstats(&ms);
	return ms.bytes[GOSLAB_MEM_RCU];
}

/*
 * Let the background work fold what is due, without goslab_rcu_barrier():
 * each round lets the armed callback's grace period end and waits for
 * the work it queues. Returns the rounds it took, or -1.
 */
static int rcu_drain_by_itself(unsigned int max_rounds)
{
	unsigned int i;

	for (i = 0; i < max_rounds; i++) {
		if (!atomic_long_read(&goslab_rcu_pending_bytes))
			return i;
		rcu_barrier();
		goslab_rcu_flush();
	}
	return atomic_long_read(&goslab_rcu_pending_bytes) ? -1 : i;
}

struct rcu_obj {
	unsigned long magic;
	unsigned long gen;
	u8 fill[240];
};

#define RCU_OBJ_MAGIC	0x5eedfacecafef00dUL

static void rcu_obj_fill(struct rcu_obj *o, unsigned long gen)
{
	o->magic = RCU_OBJ_MAGIC;
	o->gen = gen;
	memset(o->fill, (u8)gen, sizeof(o->fill));
}

static bool rcu_obj_intact(const struct rcu_obj *o, unsigned long gen)
{
	return READ_ONCE(o->magic) == RCU_OBJ_MAGIC &&
	       READ_ONCE(o->gen) == gen &&
	       !memchr_inv(o->fill, (u8)gen, sizeof(o->fill));
}

/*
 * One CPU: an object passed to goslab_free_rcu() inside a read-side
 * section stays intact and is not handed out by any allocation made in
 * that section, however many spans the allocations sweep; after the
 * barrier its slot is handed out again.
 */
static void rcu_not_reused_in_section_test(struct kunit *test)
{
	struct goslab_cache *c;
	struct rcu_obj *victim;
	unsigned int i, n = 256;
	bool reused = false;
	void **objs;

	c = goslab_test_cache_create(test, "rcu_t", sizeof(struct rcu_obj),
				     NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	objs = kunit_kcalloc(test, n, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	victim = goslab_cache_alloc(c, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, victim);
	rcu_obj_fill(victim, 7);

	rcu_read_lock();
	goslab_free_rcu(victim);
	for (i = 0; i < n; i++) {
		objs[i] = goslab_cache_alloc(c, GFP_ATOMIC);
		KUNIT_EXPECT_PTR_NE(test, objs[i], (void *)victim);
		if (objs[i])
			rcu_obj_fill(objs[i], i);
		/* Free half at once: sweeps find slots to reuse. */
		if (i % 2) {
			goslab_cache_free(c, objs[i]);
			objs[i] = NULL;
		}
		while (goslab_sweepone())
			;
	}
	KUNIT_EXPECT_TRUE(test, rcu_obj_intact(victim, 7));
	KUNIT_EXPECT_GE(test, rcu_pending(), (long)sizeof(struct rcu_obj));
	rcu_read_unlock();

	for (i = 0; i < n; i++)
		goslab_cache_free(c, objs[i]);
	goslab_expect_consistent(test);
	goslab_rcu_barrier();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goslab_rcu_pending_bytes), 0);
	/* Reusable now: the cache hands the slot out again. */
	for (i = 0; i < n && !reused; i++) {
		objs[i] = goslab_cache_alloc(c, GFP_KERNEL);
		reused = objs[i] == (void *)victim;
	}
	KUNIT_EXPECT_TRUE(test, reused);
	while (i--)
		goslab_cache_free(c, objs[i]);
	goslab_expect_consistent(test);
	goslab_test_cache_destroy(test, c);
}

/*
 * Every later free of an object passed to goslab_free_rcu() is a double
 * free, reported and ignored, for each kind of object: a small one, a
 * typed cache's, a tiny one and a large one. And a foreign pointer is
 * reported too.
 */
static void rcu_misuse_test(struct kunit *test)
{
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	unsigned long foreign = goslab_error_count(GOSLAB_ERR_FOREIGN);
	static const size_t sizes[] = { 5, 64, 4096, 65536 };
	unsigned long expect = 0, onstack;
	struct goslab_cache *c;
	void *p, *bulk[1];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		p = sizes[i] < 16 ? goslab_alloc_tiny(sizes[i], GFP_KERNEL) :
				    goslab_alloc(sizes[i], GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p);
		goslab_free_rcu(p);
		goslab_free_rcu(p);
		goslab_free(p);
		KUNIT_EXPECT_EQ(test, goslab_usable_size(p), 0);
		expect += 3;
		KUNIT_EXPECT_EQ_MSG(test,
				    goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
				    dbl + expect, "size %zu", sizes[i]);
	}
	c = goslab_test_cache_create(test, "rcu_misuse", 100, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	p = goslab_cache_alloc(c, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	goslab_free_rcu(p);
	goslab_cache_free(c, p);
	bulk[0] = p;
	goslab_cache_free_bulk(c, 1, bulk);
	expect += 2;
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + expect);
	goslab_free_rcu(&onstack);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_FOREIGN),
			foreign + 1);
	goslab_free_rcu(NULL);
	goslab_expect_consistent(test);
	goslab_rcu_barrier();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goslab_rcu_pending_bytes), 0);
	goslab_expect_consistent(test);
	goslab_test_cache_destroy(test, c);
}

/*
 * Tiny objects: a block whose objects were freed with goslab_free_rcu()
 * is kept until the grace period has passed, even once its other objects
 * are freed with goslab_free(); the validators agree all along.
 */
static void rcu_tiny_test(struct kunit *test)
{
	void *p[48];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(p); i++) {
		p[i] = goslab_alloc_tiny(1 + i % 7, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
		memset(p[i], 0xa5, 1 + i % 7);
	}
	rcu_read_lock();
	for (i = 0; i < ARRAY_SIZE(p); i += 2)
		goslab_free_rcu(p[i]);
	for (i = 1; i < ARRAY_SIZE(p); i += 2)
		goslab_free(p[i]);
	/* The objects freed under RCU keep their bytes until the reader goes. */
	for (i = 0; i < ARRAY_SIZE(p); i += 2)
		KUNIT_EXPECT_TRUE(test, !memchr_inv(p[i], 0xa5, 1 + i % 7));
	rcu_read_unlock();
	goslab_tiny_flush();
	goslab_expect_consistent(test);
	KUNIT_EXPECT_GT(test, rcu_pending(), 0);
	goslab_rcu_barrier();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goslab_rcu_pending_bytes), 0);
	KUNIT_EXPECT_EQ(test, rcu_pending(), 0);
	goslab_expect_consistent(test);
}

/*
 * The fold a goslab_free_rcu() makes of its span's due generation must
 * not free the block of the tiny object it is freeing: two objects fill
 * a block (so no CPU holds it); the first is freed under RCU and its
 * grace period passes; freeing the second under RCU must leave the block
 * allocated, marked and counted as pending until the second's grace
 * period.
 */
static void rcu_tiny_fold_keeps_block_test(struct kunit *test)
{
	unsigned int idx, round, kept = 0;
	bool freed, marked;
	struct mspan *s;
	void *a, *b;

	/* The fold under test is goslab_free_rcu()'s, not the work's. */
	goslab_test_bg_pause(test);
	for (round = 0; round < 8; round++) {
		a = goslab_alloc_tiny(8, GFP_KERNEL);
		b = goslab_alloc_tiny(8, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, a);
		KUNIT_ASSERT_NOT_NULL(test, b);
		if (b != a + 8) {
			/* Not one block: try again. */
			goslab_free(a);
			goslab_free(b);
			continue;
		}
		goslab_free_rcu(a);
		synchronize_rcu();
		rcu_read_lock();
		goslab_free_rcu(b);
		s = mheap_span_of(b);
		KUNIT_ASSERT_NOT_NULL(test, s);
		idx = ((unsigned long)b - s->base) / GOSLAB_TINY_SIZE;
		freed = test_bit(idx, s->free_bits);
		marked = mspan_rcu_marked(s, idx);
		KUNIT_EXPECT_FALSE_MSG(test, freed,
				       "block freed while an object in it waits");
		KUNIT_EXPECT_TRUE(test, marked);
		rcu_read_unlock();
		kept++;
		goslab_rcu_barrier();
		goslab_expect_consistent(test);
	}
	goslab_test_bg_resume(test);
	KUNIT_EXPECT_GT(test, kept, 0);
}

/*
 * A large object's span stays until its grace period, counted as
 * rcu_pending, then goes back to the heap.
 */
static void rcu_large_test(struct kunit *test)
{
	long before = rcu_pending();
	void *p = goslab_alloc(256 * 1024, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, 0x3c, 256 * 1024);
	goslab_free_rcu(p);
	KUNIT_EXPECT_GE(test, rcu_pending() - before, 256 * 1024);
	goslab_expect_consistent(test);
	goslab_rcu_barrier();
	KUNIT_EXPECT_EQ(test, rcu_pending(), 0);
	goslab_expect_consistent(test);
}

/*
 * Without the barrier: the background work folds the pending frees by
 * itself, a few grace periods after they were made (the bound in
 * Documentation/goslab.rst: four, plus the work's runs).
 */
static void rcu_drains_by_itself_test(struct kunit *test)
{
	unsigned int i;
	int rounds;
	void *p;

	for (i = 0; i < 1000; i++) {
		p = goslab_alloc(32 + i % 512, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p);
		goslab_free_rcu(p);
	}
	KUNIT_EXPECT_GT(test, rcu_pending(), 0);
	rounds = rcu_drain_by_itself(8);
	kunit_info(test, "drained in %d rounds of a grace period\n", rounds);
	KUNIT_EXPECT_GE(test, rounds, 0);
	goslab_expect_consistent(test);
}

/*
 * The frees of a span made before any grace period starts (a burst) join
 * one generation, the older, and so wait for one grace period: the
 * younger stays empty.
 */
#define RCU_BURST	16

static void rcu_burst_one_generation_test(struct kunit *test)
{
	void **obj = goslab_test_objs(test, RCU_BURST);
	unsigned int i, tries, older = 0, younger = 0;
	struct mspan *s = NULL;
	unsigned long cookie;
	bool burst = false;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	goslab_test_bg_pause(test);
	for (tries = 0; tries < 50 && !burst; tries++) {
		goslab_rcu_barrier();
		for (i = 0; i < RCU_BURST; i++) {
			obj[i] = goslab_alloc(64, GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, obj[i]);
		}
		s = mheap_span_of(obj[0]);
		for (i = 1; i < RCU_BURST; i++)
			if (mheap_span_of(obj[i]) != s)
				break;
		if (i < RCU_BURST) {
			/* Not one span: try again. */
			goslab_test_free_objs(obj, RCU_BURST);
			continue;
		}
		cookie = get_state_synchronize_rcu();
		for (i = 0; i < RCU_BURST; i++)
			goslab_free_rcu(obj[i]);
		burst = same_state_synchronize_rcu(cookie,
						   get_state_synchronize_rcu());
		raw_spin_lock_irq(&s->free_lock);
		older = s->rcu_count[s->rcu_older];
		younger = s->rcu_count[s->rcu_older ^ 1];
		raw_spin_unlock_irq(&s->free_lock);
		memset(obj, 0, RCU_BURST * sizeof(*obj));
	}
	goslab_test_bg_resume(test);
	if (!burst)
		kunit_skip(test, "a grace period started during every burst");
	KUNIT_EXPECT_EQ(test, older, RCU_BURST);
	KUNIT_EXPECT_EQ(test, younger, 0);
	goslab_rcu_barrier();
	goslab_expect_consistent(test);
}

/*
 * goslab_rcu_barrier() against frees that keep moving the younger
 * generation's cookie on while it waits: a free made before the barrier
 * in the older generation and one in the younger are both folded when it
 * returns.
 */
struct rcu_mover {
	void **obj;
	unsigned int n;
	unsigned int freed;
};

static int rcu_mover_fn(void *arg)
{
	struct rcu_mover *m = arg;

	while (!kthread_should_stop()) {
		if (m->freed < m->n) {
			goslab_free_rcu(m->obj[m->freed]);
			m->obj[m->freed++] = NULL;
		}
		usleep_range(200, 400);
	}
	return 0;
}

static void rcu_barrier_moving_cookie_test(struct kunit *test)
{
	void **obj = goslab_test_objs(test, 64);
	struct rcu_mover m = { .obj = obj + 2, .n = 62 };
	struct task_struct *mover;
	unsigned int i, ia, ib;
	unsigned long cookie;
	bool marked_a, marked_b;
	struct mspan *s;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	for (i = 0; i < 64; i++) {
		obj[i] = goslab_alloc(64, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	}
	s = mheap_span_of(obj[0]);
	for (i = 1; i < 64; i++)
		if (mheap_span_of(obj[i]) != s)
			kunit_skip(test, "the objects are not in one span");
	KUNIT_ASSERT_TRUE(test, mspan_object_at(s, (unsigned long)obj[0], &ia));
	KUNIT_ASSERT_TRUE(test, mspan_object_at(s, (unsigned long)obj[1], &ib));
	goslab_free_rcu(obj[0]);
	obj[0] = NULL;
	/* The free armed a grace period: once it starts, b is younger. */
	cookie = get_state_synchronize_rcu();
	for (i = 0; i < 1000; i++) {
		if (!same_state_synchronize_rcu(cookie,
						get_state_synchronize_rcu()))
			break;
		usleep_range(100, 200);
	}
	goslab_free_rcu(obj[1]);
	obj[1] = NULL;
	/* The barrier's folds alone (and the mover's own, in its span). */
	goslab_test_bg_pause(test);
	mover = kthread_run(rcu_mover_fn, &m, "goslab_rcu_mover");
	if (IS_ERR(mover)) {
		goslab_test_bg_resume(test);
		KUNIT_FAIL(test, "no mover thread");
		return;
	}
	goslab_rcu_barrier();
	raw_spin_lock_irq(&s->free_lock);
	marked_a = mspan_rcu_marked(s, ia);
	marked_b = mspan_rcu_marked(s, ib);
	raw_spin_unlock_irq(&s->free_lock);
	kthread_stop(mover);
	goslab_test_bg_resume(test);
	kunit_info(test, "%u frees made during the barrier\n", m.freed);
	KUNIT_EXPECT_FALSE(test, marked_a);
	KUNIT_EXPECT_FALSE(test, marked_b);
	goslab_rcu_barrier();
	goslab_expect_consistent(test);
}

/*
 * Readers on other CPUs look up objects that writers replace and free
 * with goslab_free_rcu(): inside a read-side section an object a reader
 * found keeps its contents (magic and generation), so it was neither
 * reused nor cleared. Writers allocate and free the same cache all along.
 */
#define RCU_SLOTS	64

struct rcu_table {
	struct rcu_obj __rcu *slot[RCU_SLOTS];
	struct goslab_cache *c;
	unsigned long writes;
	atomic_long_t reads;
	atomic_long_t bad;
	unsigned long failed;
};

static int rcu_reader(void *arg)
{
	struct rcu_table *t = arg;
	unsigned int i = 0, k;

	while (!kthread_should_stop()) {
		struct rcu_obj *o;
		unsigned long gen;

		rcu_read_lock();
		o = rcu_dereference(t->slot[i++ % RCU_SLOTS]);
		if (o) {
			gen = READ_ONCE(o->gen);
			for (k = 0; k < 8; k++) {
				if (!rcu_obj_intact(o, gen)) {
					atomic_long_inc(&t->bad);
					break;
				}
				cpu_relax();
			}
		}
		rcu_read_unlock();
		atomic_long_inc(&t->reads);
		if (!(i % 256))
			cond_resched();
	}
	return 0;
}

static int rcu_writer(void *arg)
{
	struct rcu_table *t = arg;
	unsigned long gen = 1;
	unsigned int i;

	while (!kthread_should_stop()) {
		struct rcu_obj *o = goslab_cache_alloc(t->c, GFP_KERNEL), *old;

		if (!o) {
			t->failed++;
			continue;
		}
		rcu_obj_fill(o, gen++);
		i = get_random_u32_below(RCU_SLOTS);
		old = rcu_replace_pointer(t->slot[i], o, true);
		goslab_free_rcu(old);
		t->writes++;
		if (!(gen % 64))
			cond_resched();
	}
	return 0;
}

/*
 * Run @writer on the first online CPU and @reader on each of the next
 * ones, @max threads at most (on one CPU, a reader beside the writer,
 * interleaved), for 250 ms. Returns how many ran, or 0 when a thread
 * could not be made (those made are stopped before they run).
 */
static unsigned int rcu_run_threads(int (*writer)(void *),
				    int (*reader)(void *), void *arg,
				    unsigned int max)
{
	struct task_struct *task[4];
	unsigned int cpu, nr = 0, i;

	max = min_t(unsigned int, max, ARRAY_SIZE(task));
	for_each_online_cpu(cpu) {
		if (nr == max)
			break;
		task[nr] = kthread_create(nr ? reader : writer, arg,
					  "goslab_rcu/%u", cpu);
		if (IS_ERR(task[nr]))
			goto stop;
		kthread_bind(task[nr], cpu);
		nr++;
	}
	if (nr == 1) {
		task[nr] = kthread_create(reader, arg, "goslab_rcu_r");
		if (IS_ERR(task[nr]))
			goto stop;
		nr++;
	}
	for (i = 0; i < nr; i++) {
		get_task_struct(task[i]);
		wake_up_process(task[i]);
	}
	msleep(250);
	for (i = 0; i < nr; i++) {
		kthread_stop(task[i]);
		put_task_struct(task[i]);
	}
	return nr;
stop:
	for (i = 0; i < nr; i++)
		kthread_stop(task[i]);
	return 0;
}

static void rcu_readers_test(struct kunit *test)
{
	struct rcu_table *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	unsigned int nr, i;

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->c = goslab_test_cache_create(test, "rcu_readers",
					sizeof(struct rcu_obj), NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, t->c);
	/* The writer on the first CPU, a reader on each of up to 2 others. */
	nr = rcu_run_threads(rcu_writer, rcu_reader, t, 3);
	KUNIT_ASSERT_GT(test, nr, 0);
	kunit_info(test, "%lu replacements, %ld lookups on %u threads\n",
		   t->writes, atomic_long_read(&t->reads), nr);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->bad), 0);
	KUNIT_EXPECT_EQ(test, t->failed, 0);
	KUNIT_EXPECT_GT(test, t->writes, 100);
	for (i = 0; i < RCU_SLOTS; i++)
		goslab_free_rcu(rcu_replace_pointer(t->slot[i], NULL, true));
	goslab_rcu_barrier();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goslab_rcu_pending_bytes), 0);
	goslab_expect_consistent(test);
	goslab_test_cache_destroy(test, t->c);
}

/*
 * A flood: every online CPU (up to 4) allocates and passes to
 * goslab_free_rcu() its share of 10^6 objects, and a timer does the same
 * from hardirq context. The pending memory is watched as the frees go:
 * it must drain as grace periods pass, not pile up, and it all returns
 * after the barrier.
 */
struct rcu_flood {
	unsigned long per_cpu;
	atomic_long_t done;
	atomic_long_t failed;
	long peak;
	struct hrtimer timer;
	unsigned long irq_frees;
	bool stop;
	struct completion finished[4];
};

static int rcu_flood_fn(void *arg)
{
	struct rcu_flood *f = arg;
	unsigned int me = smp_processor_id() % 4;
	unsigned long i;

	for (i = 0; i < f->per_cpu; i++) {
		void *p = goslab_alloc(64 + (i % 4) * 64, GFP_KERNEL);

		if (!p) {
			atomic_long_inc(&f->failed);
			continue;
		}
		goslab_free_rcu(p);
		if (!(i % 1024)) {
			long pend = atomic_long_read(&goslab_rcu_pending_bytes);

			if (pend > READ_ONCE(f->peak))
				WRITE_ONCE(f->peak, pend);
			cond_resched();
		}
	}
	atomic_long_add(i, &f->done);
	complete(&f->finished[me]);
	return 0;
}

static enum hrtimer_restart rcu_flood_irq(struct hrtimer *t)
{
	struct rcu_flood *f = container_of(t, struct rcu_flood, timer);
	unsigned int i;

	if (READ_ONCE(f->stop))
		return HRTIMER_NORESTART;
	for (i = 0; i < 8; i++) {
		void *p = goslab_alloc(96, GFP_ATOMIC);

		if (p) {
			goslab_free_rcu(p);
			f->irq_frees++;
		}
	}
	hrtimer_forward_now(t, ns_to_ktime(50 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static void rcu_flood_test(struct kunit *test)
{
	struct rcu_flood *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	unsigned int cpus = min(num_online_cpus(), 4U), cpu, n = 0, i;
	unsigned long total = 1000000UL * scale / 100;
	struct task_struct *task[4];
	bool irq = !GOSLAB_TEST_NO_HARDIRQ;
	int rounds;

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->per_cpu = total / cpus;
	for (i = 0; i < ARRAY_SIZE(f->finished); i++)
		init_completion(&f->finished[i]);
	if (irq) {
		hrtimer_init(&f->timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL_PINNED_HARD);
		f->timer.function = rcu_flood_irq;
		hrtimer_start(&f->timer, ns_to_ktime(50 * NSEC_PER_USEC),
			      HRTIMER_MODE_REL_PINNED_HARD);
	}
	for_each_online_cpu(cpu) {
		if (n == cpus)
			break;
		task[n] = kthread_create(rcu_flood_fn, f, "goslab_flood/%u",
					 cpu);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task[n]));
		kthread_bind(task[n], cpu);
		n++;
	}
	for (i = 0; i < n; i++)
		wake_up_process(task[i]);
	for (i = 0; i < n; i++)
		wait_for_completion(&f->finished[i]);
	WRITE_ONCE(f->stop, true);
	if (irq)
		hrtimer_cancel(&f->timer);
	kunit_info(test, "%ld frees from %u CPUs, %lu from hardirq; peak pending %ld KiB\n",
		   atomic_long_read(&f->done), n, f->irq_frees, f->peak >> 10);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&f->failed), 0);
	/* Not piled up: at most a quarter of all that was freed waited. */
	/* A small flood (scale) lasts a few grace periods: 4 MiB at least. */
	KUNIT_EXPECT_LT(test, f->peak,
			max_t(long, total * 160 / 4, 4L << 20));
	rounds = rcu_drain_by_itself(8);
	KUNIT_EXPECT_GE(test, rounds, 0);
	goslab_rcu_barrier();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goslab_rcu_pending_bytes), 0);
	goslab_expect_consistent(test);
}

/*
 * Objects of a type-safe cache: @magic is the constructor's and nobody
 * writes it again; @ref is 0 while the object is free; @key says which
 * table slot the object belongs to (key % TS_SLOTS) and @fill repeats
 * its low byte.
 */
struct ts_obj {
	unsigned long magic;
	atomic_t ref;
	u32 key;
	u8 fill[200];
};

#define TS_MAGIC	0x7e5afeb7c0ffee11UL
#define TS_SLOTS	64

static void ts_ctor(void *p)
{
	struct ts_obj *o = p;

	o->magic = TS_MAGIC;
	atomic_set(&o->ref, 0);
	o->key = 0;
}

static struct goslab_cache *ts_cache_create(struct kunit *test,
					    const char *name)
{
	struct goslab_cache_args args = { .ctor = ts_ctor };

	return goslab_test_cache_create(test, name, sizeof(struct ts_obj),
					&args, GOSLAB_TYPESAFE_BY_RCU);
}

/*
 * A type-safe cache's span that empties is not given back to the heap
 * (nor scavenged) before a grace period: it waits as RCU_EMPTY, counted
 * in rcu_pending, and a free of a stale pointer into it is a double free.
 * Freed objects keep their bytes (no zeroing, no KASAN poison: readers
 * may read them). goslab_rcu_barrier() gives the span back.
 */
static void rcu_typesafe_span_test(struct kunit *test)
{
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	struct goslab_cache *c = ts_cache_create(test, "rcu_typesafe");
	unsigned int n, i;
	struct ts_obj **o;
	struct mspan *s;
	long pending;
	bool waits;

	KUNIT_ASSERT_NOT_NULL(test, c);
	n = 2 * c->cls.nelems;
	o = kunit_kcalloc(test, n, sizeof(*o), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	for (i = 0; i < n; i++) {
		o[i] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, o[i]);
		KUNIT_EXPECT_EQ(test, o[i]->magic, TS_MAGIC);
		o[i]->key = i + 1;
	}
	/* The background work would give the span back once it is due. */
	goslab_test_bg_pause(test);
	for (i = 0; i < n; i++)
		goslab_cache_free(c, o[i]);
	/* Read after free: legal for a reader of a type-safe cache. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(o[0]->magic), TS_MAGIC);
	KUNIT_EXPECT_EQ(test, READ_ONCE(o[0]->key), 1);
	goslab_cache_shrink(c);
	rcu_read_lock();
	s = mheap_span_of(o[0]);
	waits = s && READ_ONCE(s->state) == MSPAN_RCU_EMPTY;
	rcu_read_unlock();
	KUNIT_EXPECT_TRUE(test, waits);
	KUNIT_EXPECT_TRUE(test, mheap_rcu_spans_waiting());
	pending = rcu_pending();
	KUNIT_EXPECT_GE(test, pending,
			(long)c->cls.npages * GOSLAB_PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, READ_ONCE(o[0]->magic), TS_MAGIC);
	/* Consistent with the spans waiting: the states add up. */
	goslab_expect_consistent(test);
	goslab_cache_free(c, o[0]);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 1);
	/* Due, but the paused work leaves it: nothing moves under a validator. */
	rcu_barrier();
	rcu_read_lock();
	s = mheap_span_of(o[0]);
	waits = s && READ_ONCE(s->state) == MSPAN_RCU_EMPTY;
	rcu_read_unlock();
	KUNIT_EXPECT_TRUE(test, waits);
	goslab_rcu_barrier();
	KUNIT_EXPECT_FALSE(test, mheap_rcu_spans_waiting());
	rcu_read_lock();
	s = mheap_span_of(o[0]);
	waits = s && s->cls == &c->cls;
	rcu_read_unlock();
	KUNIT_EXPECT_FALSE(test, waits);
	KUNIT_EXPECT_EQ(test, rcu_pending(), 0);
	goslab_test_bg_resume(test);
	goslab_expect_consistent(test);
	goslab_test_cache_destroy(test, c);
}

/*
 * The guarantee itself, with a reader that does not let go: a thread on
 * another CPU finds an object and stays inside rcu_read_lock() while this
 * one frees every object of the cache, shrinks it, runs the background
 * work and fills memory of the same size through goslab_alloc() with
 * another pattern. When the reader looks again, the object's memory must
 * still be a span of the cache, holding the constructor's magic.
 */
struct ts_hold {
	struct goslab_cache *c;
	struct ts_obj *o;
	struct completion found;
	struct completion finished;
	bool done;
	bool same_cache;
	bool magic;
};

static int ts_holder(void *arg)
{
	struct ts_hold *h = arg;
	unsigned long timeout = jiffies + 5 * HZ;
	struct ts_obj *o;
	struct mspan *s;

	rcu_read_lock();
	o = READ_ONCE(h->o);
	complete(&h->found);
	while (!READ_ONCE(h->done) && time_before(jiffies, timeout))
		cpu_relax();
	s = mheap_span_of(o);
	h->same_cache = s && READ_ONCE(s->cls) == &h->c->cls;
	h->magic = READ_ONCE(o->magic) == TS_MAGIC;
	rcu_read_unlock();
	complete(&h->finished);
	return 0;
}

static void rcu_typesafe_reader_holds_test(struct kunit *test)
{
	struct ts_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	unsigned int n, i, cpu;
	struct task_struct *task;
	struct ts_obj **o;
	void **other;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs a second CPU for the reader");
	KUNIT_ASSERT_NOT_NULL(test, h);
	h->c = ts_cache_create(test, "rcu_typesafe_hold");
	KUNIT_ASSERT_NOT_NULL(test, h->c);
	init_completion(&h->found);
	init_completion(&h->finished);
	n = 2 * h->c->cls.nelems;
	o = kunit_kcalloc(test, n, sizeof(*o), GFP_KERNEL);
	other = kunit_kcalloc(test, 4 * n, sizeof(*other), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_ASSERT_NOT_NULL(test, other);
	for (i = 0; i < n; i++) {
		o[i] = goslab_cache_alloc(h->c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, o[i]);
	}
	h->o = o[n / 2 + 1];
	cpu = cpumask_any_but(cpu_online_mask, raw_smp_processor_id());
	task = kthread_create(ts_holder, h, "goslab_ts_hold");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	kthread_bind(task, cpu);
	wake_up_process(task);
	wait_for_completion(&h->found);
	for (i = 0; i < n; i++)
		goslab_cache_free(h->c, o[i]);
	goslab_cache_shrink(h->c);
	goslab_bg_flush();
	for (i = 0; i < 4 * n; i++) {
		other[i] = goslab_alloc(sizeof(struct ts_obj), GFP_KERNEL);
		if (other[i])
			memset(other[i], 0xa5, sizeof(struct ts_obj));
	}
	WRITE_ONCE(h->done, true);
	wait_for_completion(&h->finished);
	for (i = 0; i < 4 * n; i++)
		goslab_free(other[i]);
	KUNIT_EXPECT_TRUE(test, h->same_cache);
	KUNIT_EXPECT_TRUE(test, h->magic);
	goslab_test_cache_destroy(test, h->c);
	KUNIT_EXPECT_FALSE(test, mheap_rcu_spans_waiting());
	goslab_expect_consistent(test);
}

/*
 * The lock-free lookup SLAB_TYPESAFE_BY_RCU exists for: readers on up to
 * 3 other CPUs look objects up in a table without locks, take a
 * reference with atomic_inc_not_zero() and recheck the object's
 * identity; writers replace objects and free them at once (no grace
 * period), take and free batches of objects and shrink the cache so that
 * spans empty and go back, and churn
 * goslab_alloc() objects of the same size filled with another pattern,
 * so that memory given back early would be another type's. A reader
 * must always find an object of the cache (the constructor's magic, a
 * span of the cache in the arena index), and one it holds a reference to
 * must be whole.
 */
struct ts_table {
	struct ts_obj __rcu *slot[TS_SLOTS];
	struct goslab_cache *c;
	unsigned long writes;
	unsigned long failed;
	atomic_long_t lookups;
	atomic_long_t hits;
	atomic_long_t bad;
};

static void ts_put(struct ts_table *t, struct ts_obj *o)
{
	if (atomic_dec_and_test(&o->ref))
		goslab_cache_free(t->c, o);
}

static bool ts_whole(const struct ts_obj *o, u32 key)
{
	return !memchr_inv(o->fill, (u8)key, sizeof(o->fill));
}

static int ts_reader(void *arg)
{
	struct ts_table *t = arg;
	unsigned int i = 0;

	while (!kthread_should_stop()) {
		unsigned int slot = i++ % TS_SLOTS;
		struct ts_obj *o;
		struct mspan *s;

		rcu_read_lock();
		o = rcu_dereference(t->slot[slot]);
		if (o) {
			s = mheap_span_of(o);
			if (READ_ONCE(o->magic) != TS_MAGIC || !s ||
			    READ_ONCE(s->cls) != &t->c->cls)
				atomic_long_inc(&t->bad);
			if (atomic_inc_not_zero(&o->ref)) {
				u32 key = READ_ONCE(o->key);

				/* Reused for another slot, or replaced: retry. */
				if (key % TS_SLOTS == slot &&
				    rcu_access_pointer(t->slot[slot]) == o) {
					if (!ts_whole(o, key))
						atomic_long_inc(&t->bad);
					atomic_long_inc(&t->hits);
				}
				ts_put(t, o);
			}
		}
		rcu_read_unlock();
		atomic_long_inc(&t->lookups);
		if (!(i % 256))
			cond_resched();
	}
	return 0;
}

static int ts_writer(void *arg)
{
	struct ts_table *t = arg;
	unsigned long gen = 1;
	void *other[96];
	unsigned int j;

	while (!kthread_should_stop()) {
		unsigned int slot = get_random_u32_below(TS_SLOTS);
		struct ts_obj *o = goslab_cache_alloc(t->c, GFP_KERNEL), *old;
		u32 key = slot + TS_SLOTS * (u32)gen++;

		if (!o) {
			t->failed++;
			continue;
		}
		/* The constructor's state survives free and reuse. */
		if (READ_ONCE(o->magic) != TS_MAGIC || atomic_read(&o->ref))
			atomic_long_inc(&t->bad);
		o->key = key;
		memset(o->fill, (u8)key, sizeof(o->fill));
		atomic_set_release(&o->ref, 1);
		old = rcu_replace_pointer(t->slot[slot], o, true);
		if (old)
			ts_put(t, old);
		t->writes++;
		if (gen % 128)
			continue;
		/* A batch fills spans of its own, which then empty. */
		for (j = 0; j < ARRAY_SIZE(other); j++)
			other[j] = goslab_cache_alloc(t->c, GFP_KERNEL);
		for (j = 0; j < ARRAY_SIZE(other); j++)
			if (other[j])
				goslab_cache_free(t->c, other[j]);
		/* Empty spans go back; heap memory becomes another type's. */
		goslab_cache_shrink(t->c);
		for (j = 0; j < ARRAY_SIZE(other); j++) {
			other[j] = goslab_alloc(sizeof(struct ts_obj),
						GFP_KERNEL);
			if (other[j])
				memset(other[j], 0xa5, sizeof(struct ts_obj));
		}
		for (j = 0; j < ARRAY_SIZE(other); j++)
			goslab_free(other[j]);
		cond_resched();
	}
	return 0;
}

static void rcu_typesafe_lookup_test(struct kunit *test)
{
	struct ts_table *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	unsigned long released;
	unsigned int nr, i;

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->c = ts_cache_create(test, "rcu_typesafe_lookup");
	KUNIT_ASSERT_NOT_NULL(test, t->c);
	released = READ_ONCE(t->c->cls.central.nrelease);
	/* The writer on the first CPU, a reader on each of up to 3 others. */
	nr = rcu_run_threads(ts_writer, ts_reader, t, 4);
	KUNIT_ASSERT_GT(test, nr, 0);
	released = READ_ONCE(t->c->cls.central.nrelease) - released;
	kunit_info(test, "%lu replacements, %ld lookups (%ld hits) on %u threads, %lu spans released\n",
		   t->writes, atomic_long_read(&t->lookups),
		   atomic_long_read(&t->hits), nr, released);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->bad), 0);
	KUNIT_EXPECT_EQ(test, t->failed, 0);
	KUNIT_EXPECT_GT(test, t->writes, 100);
	KUNIT_EXPECT_GT(test, atomic_long_read(&t->hits), 0);
	KUNIT_EXPECT_GT(test, released, 0);
	for (i = 0; i < TS_SLOTS; i++) {
		struct ts_obj *o = rcu_replace_pointer(t->slot[i], NULL, true);

		if (o)
			ts_put(t, o);
	}
	goslab_rcu_barrier();
	goslab_expect_consistent(test);
	goslab_test_cache_destroy(test, t->c);
	KUNIT_EXPECT_FALSE(test, mheap_rcu_spans_waiting());
}

static struct kunit_case rcu_cases[] = {
	KUNIT_CASE(rcu_not_reused_in_section_test),
	KUNIT_CASE(rcu_misuse_test),
	KUNIT_CASE(rcu_tiny_test),
	KUNIT_CASE(rcu_tiny_fold_keeps_block_test),
	KUNIT_CASE(rcu_large_test),
	KUNIT_CASE(rcu_drains_by_itself_test),
	KUNIT_CASE(rcu_burst_one_generation_test),
	KUNIT_CASE(rcu_barrier_moving_cookie_test),
	KUNIT_CASE(rcu_readers_test),
	KUNIT_CASE(rcu_typesafe_span_test),
	KUNIT_CASE(rcu_typesafe_reader_holds_test),
	KUNIT_CASE(rcu_typesafe_lookup_test),
	KUNIT_CASE_SLOW(rcu_flood_test),
	{}
};

static struct kunit_suite rcu_suite = {
	.name = "goslab_rcu",
	.test_cases = rcu_cases,
};

kunit_test_suite(rcu_suite);

MODULE_DESCRIPTION("KUnit tests for goslab_free_rcu()");
