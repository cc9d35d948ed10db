// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_mcache: the per-CPU fast path, refills, flushing, and hardirq
 * allocations interleaved with process-context ones on the same CPU.
 */
#include <linux/cpu.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include "goslab_test.h"

#define TEST_SIZE	128	/* 64 objects per span: a window per span */

static struct goslab_class *test_class(void)
{
	return &goslab_classes[goslab_span_class(goslab_size_to_class(TEST_SIZE),
						 false)];
}

/* One refill per span's worth of objects, counted on this CPU. */
static void mcache_refill_test(struct kunit *test)
{
	struct goslab_class *cls = test_class();
	const unsigned int n = 3 * 64 + 1;
	unsigned long refills, nmalloc;
	struct mcache_slot *slot;
	void **obj;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, cls->nelems, 64);
	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	migrate_disable();
	mcache_flush_class(cls);
	slot = this_cpu_ptr(cls->slot);
	KUNIT_EXPECT_PTR_EQ(test, slot->span, &goslab_emptymspan);
	refills = slot->nrefill;
	nmalloc = slot->nmalloc;
	for (i = 0; i < n; i++) {
		obj[i] = goslab_alloc(TEST_SIZE, GFP_KERNEL);
		if (!obj[i])
			break;
		KUNIT_EXPECT_PTR_EQ(test, mheap_span_of(obj[i]),
				    this_cpu_ptr(cls->slot)->span);
	}
	KUNIT_EXPECT_EQ(test, i, n);
	slot = this_cpu_ptr(cls->slot);
	KUNIT_EXPECT_EQ(test, slot->nrefill - refills, 4);
	/* Allocations are counted when a span leaves the slot (Go's way). */
	KUNIT_EXPECT_EQ(test, slot->nmalloc - nmalloc, 3 * 64);
	KUNIT_EXPECT_EQ(test, mspan_alloc_count(slot->span) - slot->alloc_base, 1);
	migrate_enable();
	goslab_test_free_objs(obj, n);
	goslab_expect_consistent(test);
}

/* A flush leaves every CPU's slots empty and loses nothing. */
static void mcache_flush_test(struct kunit *test)
{
	void *p = goslab_alloc(TEST_SIZE, GFP_KERNEL);
	unsigned int i;
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, p);
	mcache_flush_all();
	for_each_possible_cpu(cpu)
		for (i = 0; i < GOSLAB_NUM_SPAN_CLASSES; i++)
			if (goslab_classes[i].slot)
				KUNIT_EXPECT_PTR_EQ(test,
						    per_cpu_ptr(goslab_classes[i].slot,
								cpu)->span,
						    &goslab_emptymspan);
	goslab_expect_consistent(test);
	goslab_free(p);
	goslab_expect_consistent(test);
}

#define ON_CPU_OBJS	16

/* KUnit-managed, so that an assertion failing after the call frees them. */
struct on_cpu_work {
	void **obj;		/* goslab_test_objs(), ON_CPU_OBJS */
	struct mspan **span;	/* goslab_test_spans(), one */
};

static int alloc_on_cpu(void *arg)
{
	struct goslab_class *cls = test_class();
	struct on_cpu_work *w = arg;
	unsigned int i;

	for (i = 0; i < ON_CPU_OBJS; i++)
		w->obj[i] = goslab_alloc(TEST_SIZE, GFP_KERNEL);
	/* A fresh one-page span fills this CPU's page cache. */
	w->span[0] = mheap_alloc_span(cls, 1, GFP_KERNEL);
	return 0;
}

/*
 * A CPU going offline gives back its cached spans and page cache (the
 * cpuhp callback), and nothing is lost: the objects it allocated stay
 * valid and are freed from another CPU.
 */
static void mcache_cpu_offline_test(struct kunit *test)
{
	struct goslab_class *cls = test_class();
	struct on_cpu_work *w;
	unsigned int i, cpu;
	int ret;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs (runs under QEMU -smp 2)");
	cpu = cpumask_last(cpu_online_mask);
	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	w->obj = goslab_test_objs(test, ON_CPU_OBJS);
	KUNIT_ASSERT_NOT_NULL(test, w->obj);
	w->span = goslab_test_spans(test, 1);
	KUNIT_ASSERT_NOT_NULL(test, w->span);
	KUNIT_ASSERT_EQ(test, smp_call_on_cpu(cpu, alloc_on_cpu, w, false), 0);
	for (i = 0; i < ON_CPU_OBJS; i++)
		KUNIT_ASSERT_NOT_NULL(test, w->obj[i]);
	KUNIT_ASSERT_NOT_NULL(test, w->span[0]);
	KUNIT_EXPECT_PTR_NE(test, per_cpu_ptr(cls->slot, cpu)->span,
			    &goslab_emptymspan);
	KUNIT_EXPECT_GT(test, mheap_pcache_pages_cpu(cpu), 0);
	mheap_free_span(w->span[0]);
	w->span[0] = NULL;
	ret = remove_cpu(cpu);
	if (ret) {
		kunit_skip(test, "CPU %u cannot go offline (%d)", cpu, ret);
		return;
	}
	KUNIT_EXPECT_PTR_EQ(test, per_cpu_ptr(cls->slot, cpu)->span,
			    &goslab_emptymspan);
	KUNIT_EXPECT_EQ(test, mheap_pcache_pages_cpu(cpu), 0);
	goslab_expect_consistent(test);
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), 0);
	goslab_test_free_objs(w->obj, ON_CPU_OBJS);
	goslab_shrink();
	KUNIT_EXPECT_EQ(test, mheap_pcache_pages(), 0);
	goslab_expect_consistent(test);
}

#define IRQ_HELD	16

struct irq_ctx {
	struct hrtimer timer;
	void *held[IRQ_HELD];
	unsigned int next;
	unsigned long fired;
	unsigned long corrupt;
	unsigned long failed;
	bool stop;
};

static void fill(void *p, unsigned long tag)
{
	unsigned long *w = p;
	unsigned int i;

	for (i = 0; i < TEST_SIZE / sizeof(long); i++)
		w[i] = tag ^ i;
}

static bool intact(void *p, unsigned long tag)
{
	unsigned long *w = p;
	unsigned int i;

	for (i = 0; i < TEST_SIZE / sizeof(long); i++)
		if (w[i] != (tag ^ i))
			return false;
	return true;
}

static enum hrtimer_restart irq_alloc_free(struct hrtimer *t)
{
	struct irq_ctx *ctx = container_of(t, struct irq_ctx, timer);
	void **slot = &ctx->held[ctx->next++ % IRQ_HELD];

	ctx->fired++;
	if (*slot) {
		if (!intact(*slot, (unsigned long)*slot))
			ctx->corrupt++;
		goslab_free(*slot);
	}
	*slot = goslab_alloc(TEST_SIZE, GFP_ATOMIC);
	if (*slot)
		fill(*slot, (unsigned long)*slot);
	else
		ctx->failed++;
	if (READ_ONCE(ctx->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(20 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

/*
 * An hrtimer allocates and frees the test class in hardirq context on
 * this CPU while the test does the same in process context: no object is
 * handed out twice, none is corrupted, the counters add up.
 */
static void mcache_hardirq_test(struct kunit *test)
{
	const unsigned int batch = 100;
	struct irq_ctx *ctx;
	void **obj;
	u64 deadline;
	unsigned long rounds = 0, corrupt = 0, failed = 0;
	unsigned int i;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	obj = goslab_test_objs(test, batch);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	migrate_disable();
	hrtimer_init(&ctx->timer, CLOCK_MONOTONIC, GOSLAB_TEST_IRQ_TIMER_MODE);
	ctx->timer.function = irq_alloc_free;
	hrtimer_start(&ctx->timer, ns_to_ktime(20 * NSEC_PER_USEC),
		      GOSLAB_TEST_IRQ_TIMER_MODE);
	deadline = ktime_get_ns() + 3 * NSEC_PER_SEC;
	while (ktime_get_ns() < deadline &&
	       (READ_ONCE(ctx->fired) < 2000 || rounds < 200)) {
		for (i = 0; i < batch; i++) {
			obj[i] = goslab_alloc(TEST_SIZE, GFP_KERNEL);
			if (!obj[i]) {
				failed++;
				continue;
			}
			fill(obj[i], (unsigned long)obj[i] + 1);
		}
		for (i = 0; i < batch; i++) {
			if (!obj[i])
				continue;
			if (!intact(obj[i], (unsigned long)obj[i] + 1))
				corrupt++;
			goslab_free(obj[i]);
			obj[i] = NULL;
		}
		rounds++;
		cond_resched();
	}
	WRITE_ONCE(ctx->stop, true);
	hrtimer_cancel(&ctx->timer);
	migrate_enable();
	for (i = 0; i < IRQ_HELD; i++) {
		if (ctx->held[i] &&
		    !intact(ctx->held[i], (unsigned long)ctx->held[i]))
			corrupt++;
		goslab_free(ctx->held[i]);
	}
	kunit_info(test, "%lu process rounds, %lu hardirq alloc+free\n",
		   rounds, ctx->fired);
	KUNIT_EXPECT_GT(test, ctx->fired, 100);
	KUNIT_EXPECT_EQ(test, corrupt + ctx->corrupt, 0);
	KUNIT_EXPECT_EQ(test, ctx->failed + failed, 0);
	goslab_expect_consistent(test);
}

static struct kunit_case mcache_cases[] = {
	KUNIT_CASE(mcache_refill_test),
	KUNIT_CASE(mcache_flush_test),
	KUNIT_CASE(mcache_cpu_offline_test),
	KUNIT_CASE_SLOW(mcache_hardirq_test),
	{}
};

static struct kunit_suite mcache_suite = {
	.name = "goslab_mcache",
	.init = goslab_test_pause_bg,
	.exit = goslab_test_resume_bg,
	.test_cases = mcache_cases,
};

kunit_test_suite(mcache_suite);

MODULE_DESCRIPTION("KUnit tests for goslab's per-CPU cache");
