// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_tiny: objects under 16 bytes packed into shared blocks.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "goslab_test.h"

static unsigned int scale = 100;
module_param(scale, uint, 0444);
MODULE_PARM_DESC(scale, "percent of the full size of the big scenarios");

static unsigned int go_align(unsigned int size)
{
	if (!(size & 7))
		return 8;
	if (!(size & 3))
		return 4;
	return size & 1 ? 1 : 2;
}

static unsigned long tiny_blocks_live(void)
{
	struct goslab_class_stats st;

	goslab_read_class_stats(&goslab_tiny_class, &st);
	return st.live;
}

/* Every size 1-15: Go's alignment, exact size, packed, no overlap. */
static void tiny_packing_test(struct kunit *test)
{
	const unsigned int n = 40;
	void **obj = goslab_test_objs(test, n);
	unsigned int size, i;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	for (size = 1; size < 16; size++) {
		unsigned int align = go_align(size), packed = 0;

		migrate_disable();
		goslab_tiny_flush();
		for (i = 0; i < n; i++)
			obj[i] = goslab_alloc_tiny(size, GFP_ATOMIC);
		migrate_enable();
		for (i = 0; i < n; i++) {
			KUNIT_ASSERT_NOT_NULL(test, obj[i]);
			KUNIT_EXPECT_EQ_MSG(test, (unsigned long)obj[i] % align,
					    0, "size %u", size);
			KUNIT_EXPECT_EQ(test, goslab_usable_size(obj[i]), size);
			/* Objects never straddle a 16-byte block. */
			KUNIT_EXPECT_EQ(test, ((unsigned long)obj[i] & 15) + size
					<= 16, true);
			if (i && obj[i] == obj[i - 1] + ALIGN(size, align))
				packed++;
			memset(obj[i], i, size);
		}
		/* On one CPU, the next object follows in the same block. */
		if (size <= 8)
			KUNIT_EXPECT_GT_MSG(test, packed, 0, "size %u", size);
		for (i = 0; i < n; i++) {
			KUNIT_EXPECT_NULL(test, memchr_inv(obj[i], i, size));
			goslab_free(obj[i]);
			obj[i] = NULL;
		}
	}
	KUNIT_EXPECT_PTR_EQ(test, goslab_alloc_tiny(0, GFP_KERNEL), ZERO_SIZE_PTR);
	/* 16 and more are goslab_alloc(). */
	obj[0] = goslab_alloc_tiny(16, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, obj[0]);
	KUNIT_EXPECT_EQ(test, goslab_usable_size(obj[0]), 16);
	goslab_free(obj[0]);
	obj[0] = NULL;
	goslab_expect_consistent(test);
}

/* A block goes back exactly when its last object is freed. */
static void tiny_block_reclaim_test(struct kunit *test)
{
	void **o = goslab_test_objs(test, 4);
	unsigned long before;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, o);
	goslab_tiny_flush();
	before = tiny_blocks_live();
	migrate_disable();
	for (i = 0; i < 4; i++)
		o[i] = goslab_alloc_tiny(4, GFP_ATOMIC);
	migrate_enable();
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_NOT_NULL(test, o[i]);
	/* Four 4-byte objects fill one block, which the CPU then lets go. */
	KUNIT_EXPECT_PTR_EQ(test, o[3], o[0] + 12);
	KUNIT_EXPECT_EQ(test, tiny_blocks_live(), before + 1);
	goslab_free(o[1]);
	o[1] = NULL;
	goslab_free(o[3]);
	o[3] = NULL;
	goslab_free(o[0]);
	o[0] = NULL;
	KUNIT_EXPECT_EQ(test, tiny_blocks_live(), before + 1);
	goslab_free(o[2]);
	o[2] = NULL;
	KUNIT_EXPECT_EQ(test, tiny_blocks_live(), before);
	goslab_expect_consistent(test);
}

/* Double frees and pointers into a tiny object are reported, ignored. */
static void tiny_misuse_test(struct kunit *test)
{
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	unsigned long interior = goslab_error_count(GOSLAB_ERR_INTERIOR);
	u8 *a, *b;

	migrate_disable();
	goslab_tiny_flush();
	a = goslab_alloc_tiny(6, GFP_ATOMIC);
	b = goslab_alloc_tiny(6, GFP_ATOMIC);
	migrate_enable();
	/* KUnit frees them if an assertion fails (a's double free is ours). */
	a = goslab_test_hold(test, a);
	b = goslab_test_hold(test, b);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	memset(b, 0x77, 6);
	/* Inside a live object: interior, not a double free. */
	goslab_free(a + 1);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_INTERIOR),
			interior + 1);
	goslab_test_free(test, a);
	goslab_free(a);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 1);
	/* Its neighbour is untouched and still allocated. */
	KUNIT_EXPECT_NULL(test, memchr_inv(b, 0x77, 6));
	KUNIT_EXPECT_EQ(test, goslab_usable_size(b), 6);
	goslab_test_free(test, b);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 1);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_INTERIOR),
			interior + 1);
	goslab_expect_consistent(test);
}

/* 10^5 random tiny objects, patterns checked: no overlap, all back. */
static void tiny_random_test(struct kunit *test)
{
	unsigned long n = max(1UL, 100000UL * scale / 100), i, bad = 0;
	struct rnd_state seed = goslab_test_rnd(99);
	u8 *size;
	void **obj;

	obj = vzalloc(n * sizeof(*obj));
	size = vzalloc(n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_ASSERT_NOT_NULL(test, size);
	for (i = 0; i < n; i++) {
		unsigned long k;

		size[i] = 1 + prandom_u32_state(&seed) % 15;
		obj[i] = goslab_alloc_tiny(size[i], GFP_KERNEL);
		if (!obj[i]) {
			KUNIT_FAIL(test, "allocation %lu failed", i);
			break;
		}
		memset(obj[i], (u8)i, size[i]);
		/* Free a random earlier one now and then. */
		if (i && prandom_u32_state(&seed) % 3 == 0) {
			k = prandom_u32_state(&seed) % i;
			if (obj[k]) {
				bad += !!memchr_inv(obj[k], (u8)k, size[k]);
				goslab_free(obj[k]);
				obj[k] = NULL;
			}
		}
	}
	goslab_expect_consistent(test);
	for (i = 0; i < n; i++) {
		if (!obj[i])
			continue;
		bad += !!memchr_inv(obj[i], (u8)i, size[i]);
		goslab_free(obj[i]);
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "tiny objects overwritten");
	vfree(obj);
	vfree(size);
	goslab_shrink();
	KUNIT_EXPECT_EQ(test, tiny_blocks_live(), 0);
	goslab_expect_consistent(test);
}

struct tiny_irq {
	struct hrtimer timer;
	void *held[16];
	unsigned int next;
	unsigned long fired, corrupt, failed;
	bool stop;
};

static enum hrtimer_restart tiny_irq_fn(struct hrtimer *t)
{
	struct tiny_irq *ctx = container_of(t, struct tiny_irq, timer);
	void **slot = &ctx->held[ctx->next++ % ARRAY_SIZE(ctx->held)];

	ctx->fired++;
	if (*slot) {
		ctx->corrupt += !!memchr_inv(*slot, 0xee, 3);
		goslab_free(*slot);
	}
	*slot = goslab_alloc_tiny(3, GFP_ATOMIC);
	if (*slot)
		memset(*slot, 0xee, 3);
	else
		ctx->failed++;
	if (READ_ONCE(ctx->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(25 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

/* Hardirq and process context pack into the same CPU's block. */
static void tiny_hardirq_test(struct kunit *test)
{
	struct tiny_irq *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned long corrupt = 0, rounds = 0;
	u64 deadline;
	unsigned int i;
	void *obj[32];

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	migrate_disable();
	hrtimer_init(&ctx->timer, CLOCK_MONOTONIC, GOSLAB_TEST_IRQ_TIMER_MODE);
	ctx->timer.function = tiny_irq_fn;
	hrtimer_start(&ctx->timer, ns_to_ktime(25 * NSEC_PER_USEC),
		      GOSLAB_TEST_IRQ_TIMER_MODE);
	deadline = ktime_get_ns() + 2 * NSEC_PER_SEC;
	while (ktime_get_ns() < deadline &&
	       (READ_ONCE(ctx->fired) < 1000 || rounds < 100)) {
		for (i = 0; i < ARRAY_SIZE(obj); i++) {
			obj[i] = goslab_alloc_tiny(5, GFP_KERNEL);
			if (obj[i])
				memset(obj[i], 0x55, 5);
		}
		for (i = 0; i < ARRAY_SIZE(obj); i++) {
			if (!obj[i])
				continue;
			corrupt += !!memchr_inv(obj[i], 0x55, 5);
			goslab_free(obj[i]);
		}
		rounds++;
		cond_resched();
	}
	WRITE_ONCE(ctx->stop, true);
	hrtimer_cancel(&ctx->timer);
	migrate_enable();
	for (i = 0; i < ARRAY_SIZE(ctx->held); i++)
		goslab_free(ctx->held[i]);
	kunit_info(test, "%lu rounds, %lu hardirq tiny alloc+free\n", rounds,
		   ctx->fired);
	KUNIT_EXPECT_GT(test, ctx->fired, 50);
	KUNIT_EXPECT_EQ(test, corrupt + ctx->corrupt, 0);
	KUNIT_EXPECT_EQ(test, ctx->failed, 0);
	goslab_expect_consistent(test);
}

static struct kunit_case tiny_cases[] = {
	KUNIT_CASE(tiny_packing_test),
	KUNIT_CASE(tiny_block_reclaim_test),
	KUNIT_CASE(tiny_misuse_test),
	KUNIT_CASE_SLOW(tiny_random_test),
	KUNIT_CASE_SLOW(tiny_hardirq_test),
	{}
};

static struct kunit_suite tiny_suite = {
	.name = "goslab_tiny",
	.init = goslab_test_pause_bg,
	.exit = goslab_test_resume_bg,
	.test_cases = tiny_cases,
};

kunit_test_suite(tiny_suite);

MODULE_DESCRIPTION("KUnit tests for goslab's tiny allocator");
