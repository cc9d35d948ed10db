// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_mheap: spans from the page heap, the arena index, growth,
 * giving pages back and injected page-allocation failures.
 */
#include <linux/cpu.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "goslab_test.h"

static void heap_stats(struct goslab_heap_stats *st)
{
	mheap_read_stats(st);
}

/* Large spans of many sizes: aligned, indexed page by page, given back. */
static void mheap_span_sizes_test(struct kunit *test)
{
	static const unsigned int sizes[] = { 1, 2, 3, 5, 8, 10, 17, 64, 100,
					      255, 256, 511, 512 };
	unsigned int i, p;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct mspan *s = mheap_alloc_span(NULL, sizes[i], GFP_KERNEL);
		unsigned long end;

		KUNIT_ASSERT_NOT_NULL_MSG(test, s, "%u pages", sizes[i]);
		end = s->base + sizes[i] * GOSLAB_PAGE_SIZE;
		KUNIT_EXPECT_EQ(test, s->base % GOSLAB_PAGE_SIZE, 0);
		KUNIT_EXPECT_EQ(test, s->npages, sizes[i]);
		for (p = 0; p < sizes[i]; p++)
			KUNIT_EXPECT_PTR_EQ(test, mheap_span_of((void *)(s->base +
					    p * GOSLAB_PAGE_SIZE + 8)), s);
		KUNIT_EXPECT_PTR_EQ(test, mheap_span_of((void *)(end - 1)), s);
		KUNIT_EXPECT_PTR_NE(test, mheap_span_of((void *)end), s);
		/* The memory is really there and ours. */
		memset((void *)s->base, 0x5a, sizes[i] * GOSLAB_PAGE_SIZE);
		KUNIT_EXPECT_TRUE(test, mheap_is_valid());
		/* The span is not a large object of goslab_alloc(). */
		s->state = MSPAN_DEAD;
		mheap_free_span(s);
		KUNIT_EXPECT_TRUE(test, mheap_is_valid());
	}
}

/* Memory goslab does not hold is recognised without touching it. */
static void mheap_foreign_test(struct kunit *test)
{
	void *k = kmalloc(64, GFP_KERNEL);
	void *v = vmalloc(PAGE_SIZE);
	unsigned long page = __get_free_page(GFP_KERNEL);
	int on_stack;

	KUNIT_ASSERT_NOT_NULL(test, k);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_ASSERT_NE(test, page, 0);
	KUNIT_EXPECT_NULL(test, mheap_span_of(k));
	KUNIT_EXPECT_NULL(test, mheap_span_of(v));
	KUNIT_EXPECT_NULL(test, mheap_span_of((void *)page));
	KUNIT_EXPECT_NULL(test, mheap_span_of(&on_stack));
	KUNIT_EXPECT_NULL(test, mheap_span_of(NULL));
	KUNIT_EXPECT_NULL(test, mheap_span_of((void *)-1L));
	KUNIT_EXPECT_NULL(test, mheap_span_of(mheap_foreign_test));
	free_page(page);
	vfree(v);
	kfree(k);
}

/*
 * Many spans: the heap grows in chunks, every page accounted; after they
 * are freed and free chunks released, every kernel page went back.
 */
static void mheap_grow_and_release_test(struct kunit *test)
{
	const unsigned int n = 300;
	struct goslab_heap_stats before, mid, after;
	struct mspan **spans;
	unsigned int i;

	spans = goslab_test_spans(test, n);
	KUNIT_ASSERT_NOT_NULL(test, spans);
	goslab_shrink();
	heap_stats(&before);
	for (i = 0; i < n; i++) {
		spans[i] = mheap_alloc_span(NULL, 1 + i % 7, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, spans[i]);
		spans[i]->state = MSPAN_DEAD;
	}
	heap_stats(&mid);
	KUNIT_EXPECT_GT(test, mid.kpages_taken, before.kpages_taken);
	KUNIT_EXPECT_GE(test, mid.pages_total - mid.pages_free,
			before.pages_total - before.pages_free);
	KUNIT_EXPECT_TRUE(test, mheap_is_valid());
	for (i = 0; i < n; i += 2) {
		mheap_free_span(spans[i]);
		spans[i] = NULL;
	}
	KUNIT_EXPECT_TRUE(test, mheap_is_valid());
	for (i = 1; i < n; i += 2) {
		mheap_free_span(spans[i]);
		spans[i] = NULL;
	}
	mheap_scavenge();
	heap_stats(&after);
	KUNIT_EXPECT_TRUE(test, mheap_is_valid());
	KUNIT_EXPECT_EQ(test, after.kpages_taken - after.kpages_returned,
			before.kpages_taken - before.kpages_returned);
	KUNIT_EXPECT_EQ(test, after.pages_total, before.pages_total);
	goslab_expect_consistent(test);
}

/*
 * Free pages inside chunks that still hold spans go back page by page,
 * are never carved again, and everything goes back in the end.
 */
static void mheap_scavenge_test(struct kunit *test)
{
	const unsigned int n = 64;
	struct goslab_heap_stats before, mid, after;
	struct mspan **spans;
	unsigned long kpages;
	unsigned int i;

	spans = goslab_test_spans(test, 2 * n);
	KUNIT_ASSERT_NOT_NULL(test, spans);
	goslab_shrink();
	heap_stats(&before);
	for (i = 0; i < n; i++) {
		spans[i] = mheap_alloc_span(NULL, 1, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, spans[i]);
	}
	for (i = 0; i < n; i += 2) {
		mheap_free_span(spans[i]);
		spans[i] = NULL;
	}
	heap_stats(&mid);
	kpages = mheap_scavenge();
	heap_stats(&after);
	/* At least the freed pages went back, two kernel pages each. */
	KUNIT_EXPECT_GE(test, kpages, n / 2 * GOSLAB_KPAGES_PER_PAGE);
	KUNIT_EXPECT_EQ(test, after.kpages_returned - mid.kpages_returned,
			kpages);
	KUNIT_EXPECT_EQ(test, after.pages_free, 0);
	KUNIT_EXPECT_TRUE(test, mheap_is_valid());
	/* New spans come from fresh pages, never from released ones. */
	for (i = 0; i < n; i++) {
		spans[n + i] = mheap_alloc_span(NULL, 1, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, spans[n + i]);
		memset((void *)spans[n + i]->base, 0x11, GOSLAB_PAGE_SIZE);
	}
	KUNIT_EXPECT_TRUE(test, mheap_is_valid());
	for (i = 1; i < n; i += 2) {
		mheap_free_span(spans[i]);
		spans[i] = NULL;
	}
	for (i = n; i < 2 * n; i++) {
		mheap_free_span(spans[i]);
		spans[i] = NULL;
	}
	mheap_scavenge();
	heap_stats(&after);
	KUNIT_EXPECT_EQ(test, after.kpages_taken - after.kpages_returned,
			before.kpages_taken - before.kpages_returned);
	KUNIT_EXPECT_TRUE(test, mheap_is_valid());
	goslab_expect_consistent(test);
}

/*
 * One-page spans come from this CPU's page cache: no heap page moves
 * while it lasts, and a shrink gives its pages back.
 */
static void mheap_page_cache_test(struct kunit *test)
{
	unsigned int spc = goslab_span_class(goslab_size_to_class(128), false);
	struct goslab_class *cls = &goslab_classes[spc];
	const unsigned int n = 8;
	struct mspan **s = goslab_test_spans(test, n);
	struct goslab_heap_stats a, b;
	unsigned int i, k;

	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, cls->npages, 1);
	goslab_shrink();
	KUNIT_EXPECT_EQ(test, mheap_pcache_pages(), 0);
	migrate_disable();
	/* The first takes the heap lock and fills the page cache... */
	s[0] = mheap_alloc_span(cls, 1, GFP_ATOMIC);
	mheap_read_stats(&a);
	/* ...from which the next ones come, the heap untouched. */
	k = min_t(unsigned long, a.pages_pcache, n - 1);
	for (i = 1; i <= k; i++)
		s[i] = mheap_alloc_span(cls, 1, GFP_ATOMIC);
	mheap_read_stats(&b);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, s[0]);
	KUNIT_EXPECT_GT(test, k, 0);
	for (i = 1; i <= k; i++) {
		KUNIT_ASSERT_NOT_NULL(test, s[i]);
		KUNIT_EXPECT_PTR_EQ(test, mheap_span_of((void *)s[i]->base),
				    s[i]);
		/* The same 64-page window, so the same chunk. */
		KUNIT_EXPECT_PTR_EQ(test, s[i]->chunk, s[0]->chunk);
	}
	KUNIT_EXPECT_EQ(test, b.pages_pcache, a.pages_pcache - k);
	KUNIT_EXPECT_EQ(test, b.pages_free, a.pages_free);
	KUNIT_EXPECT_EQ(test, b.pages_small, a.pages_small);
	KUNIT_EXPECT_TRUE(test, mheap_is_valid());
	for (i = 0; i <= k; i++) {
		mheap_free_span(s[i]);
		s[i] = NULL;
	}
	KUNIT_EXPECT_TRUE(test, mheap_is_valid());
	goslab_shrink();
	KUNIT_EXPECT_EQ(test, mheap_pcache_pages(), 0);
	KUNIT_EXPECT_TRUE(test, mheap_is_valid());
}

/*
 * A goslab page that a span in use gave back whole (both kernel pages)
 * is the page allocator's again, and may be part of another chunk of
 * goslab's by the time the span is freed: freeing the span must leave
 * that page's arena index entry alone. The other chunk's span is played
 * here by a sentinel written into the entry.
 */
static void mheap_free_span_keeps_reused_entry_test(struct kunit *test)
{
	struct mspan *s, sentinel = { .state = MSPAN_DEAD }, **entry;
	const unsigned int n = 8;
	void **obj = goslab_test_objs(test, n);
	unsigned long page1;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	goslab_shrink();
	/* 3072-byte objects: spans of three goslab pages, 8 objects. */
	migrate_disable();
	for (i = 0; i < n; i++)
		obj[i] = goslab_alloc(3000, GFP_KERNEL);
	migrate_enable();
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
	s = mheap_span_of(obj[0]);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, s->npages, 3);
	KUNIT_ASSERT_EQ(test, s->nelems, n);
	page1 = s->base + GOSLAB_PAGE_SIZE;
	/* Free every object touching the second goslab page. */
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_PTR_EQ(test, mheap_span_of(obj[i]), s);
		if ((unsigned long)obj[i] + 3072 > page1 &&
		    (unsigned long)obj[i] < page1 + GOSLAB_PAGE_SIZE) {
			goslab_free(obj[i]);
			obj[i] = NULL;
		}
	}
	goslab_test_bg_pause(test);
	goslab_shrink();
	KUNIT_ASSERT_EQ(test, s->released_kpages & 0xc, 0xc);

	entry = mheap_arena_entry((void *)page1);
	KUNIT_ASSERT_NOT_NULL(test, entry);
	WRITE_ONCE(*entry, &sentinel);
	goslab_test_free_objs(obj, n);
	goslab_shrink();
	KUNIT_EXPECT_PTR_EQ_MSG(test, READ_ONCE(*entry), &sentinel,
				"freeing a span erased the entry of a page it had given back");
	WRITE_ONCE(*entry, NULL);
	goslab_test_bg_resume(test);
	goslab_expect_consistent(test);
}

/* An injected failure gives NULL and leaves the heap as it was. */
static void mheap_fault_injection_test(struct kunit *test)
{
	struct goslab_heap_stats before, after;
	long injected = atomic_long_read(&goslab_injected_failures);
	struct mspan *s;

	goslab_shrink();
	heap_stats(&before);
	WRITE_ONCE(goslab_fail_page_alloc_nth, 1);
	s = mheap_alloc_span(NULL, 4, GFP_KERNEL);
	WRITE_ONCE(goslab_fail_page_alloc_nth, 0);
	KUNIT_EXPECT_NULL(test, s);
	KUNIT_EXPECT_GT(test, atomic_long_read(&goslab_injected_failures),
			injected);
	heap_stats(&after);
	KUNIT_EXPECT_EQ(test, after.kpages_taken, before.kpages_taken);
	KUNIT_EXPECT_EQ(test, after.pages_total, before.pages_total);
	KUNIT_EXPECT_TRUE(test, mheap_is_valid());

	/* And the next allocation works. */
	s = mheap_alloc_span(NULL, 4, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	s->state = MSPAN_DEAD;
	mheap_free_span(s);
	goslab_expect_consistent(test);
}

/*
 * GFP_ATOMIC growth works in an atomic caller's context, IRQs off (no
 * sleeping in the heap; on PREEMPT_RT, migration off).
 */
static void mheap_atomic_test(struct kunit *test)
{
	unsigned long flags;
	struct mspan *s;

	goslab_shrink();
	goslab_test_atomic_begin(&flags);
	s = mheap_alloc_span(NULL, 2, GFP_ATOMIC);
	goslab_test_atomic_end(&flags);
	KUNIT_ASSERT_NOT_NULL(test, s);
	goslab_test_atomic_begin(&flags);
	s->state = MSPAN_DEAD;
	mheap_free_span(s);
	goslab_test_atomic_end(&flags);
	goslab_expect_consistent(test);
}

struct on_cpu_ctx {
	atomic_t ran;
	atomic_t off_target;
	unsigned int target;	/* UINT_MAX: any CPU */
};

static void on_cpu_note(void *arg)
{
	struct on_cpu_ctx *c = arg;

	atomic_inc(&c->ran);
	if (c->target != UINT_MAX && smp_processor_id() != c->target)
		atomic_inc(&c->off_target);
}

static bool on_cpu_is_target(unsigned int cpu, void *arg)
{
	const struct on_cpu_ctx *c = arg;

	return cpu == c->target;
}

/*
 * goslab_on_each_cpu() runs its function once on every online CPU, on
 * that CPU; with a has_work test, only on the CPUs it names (a CPU with
 * nothing to flush is not waited for).
 */
static void mheap_on_each_cpu_test(struct kunit *test)
{
	struct on_cpu_ctx c = { .target = UINT_MAX };
	unsigned int cpu;

	cpus_read_lock();
	atomic_set(&c.ran, 0);
	goslab_on_each_cpu(on_cpu_note, NULL, &c);
	KUNIT_EXPECT_EQ(test, atomic_read(&c.ran), num_online_cpus());
	for_each_online_cpu(cpu) {
		c.target = cpu;
		atomic_set(&c.ran, 0);
		goslab_on_each_cpu(on_cpu_note, on_cpu_is_target, &c);
		KUNIT_EXPECT_EQ_MSG(test, atomic_read(&c.ran), 1,
				    "CPU %u alone has work", cpu);
	}
	c.target = nr_cpu_ids;
	atomic_set(&c.ran, 0);
	goslab_on_each_cpu(on_cpu_note, on_cpu_is_target, &c);
	KUNIT_EXPECT_EQ(test, atomic_read(&c.ran), 0);
	cpus_read_unlock();
	KUNIT_EXPECT_EQ(test, atomic_read(&c.off_target), 0);
}

/* Kernel pages in the kernel's slab counter, as /proc/meminfo reads it. */
static long slab_kpages(void)
{
	return global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B);
}

static long kpages_held(void)
{
	struct goslab_heap_stats st;

	heap_stats(&st);
	return st.kpages_taken - st.kpages_returned;
}

/*
 * Every kernel page goslab holds is slab memory to the kernel: the count
 * goslab adds equals the pages held exactly, through growth, a span's
 * pages given back while it is in use, and a shrink; /proc/meminfo's
 * SUnreclaim follows, up to what the CPUs' vmstat deltas hold back.
 */
static void mheap_slab_accounting_test(struct kunit *test)
{
	const unsigned int nlarge = 64, nsmall = 4096;
	long slack = 2L * num_possible_cpus() * 125 + 256;
	long held0, slab0, held1, slab1;
	void **large, **small;
	unsigned int i;

	large = goslab_test_objs(test, nlarge);
	small = goslab_test_objs(test, nsmall);
	KUNIT_ASSERT_NOT_NULL(test, large);
	KUNIT_ASSERT_NOT_NULL(test, small);
	goslab_test_bg_pause(test);
	goslab_shrink();
	held0 = kpages_held();
	slab0 = slab_kpages();
	KUNIT_EXPECT_EQ(test, (long)mheap_accounted_kpages(), held0);
	for (i = 0; i < nlarge; i++) {
		large[i] = goslab_alloc(SZ_256K, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, large[i]);
	}
	for (i = 0; i < nsmall; i++) {
		small[i] = goslab_alloc(1024, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, small[i]);
	}
	held1 = kpages_held();
	slab1 = slab_kpages();
	kunit_info(test, "held %ld -> %ld kernel pages, slab counter %ld -> %ld\n",
		   held0, held1, slab0, slab1);
	KUNIT_EXPECT_EQ(test, (long)mheap_accounted_kpages(), held1);
	KUNIT_EXPECT_GE(test, held1 - held0,
			(long)(nlarge * SZ_256K + nsmall * 1024) / PAGE_SIZE);
	KUNIT_EXPECT_LE(test, abs((slab1 - slab0) - (held1 - held0)), slack);
	/* All but the first object of each span: its other page goes back. */
	for (i = 0; i < nsmall; i++)
		if (i % 8)
			goslab_free(small[i]);
	goslab_shrink();
	KUNIT_EXPECT_EQ(test, (long)mheap_accounted_kpages(), kpages_held());
	for (i = 0; i < nlarge; i++)
		goslab_free(large[i]);
	for (i = 0; i < nsmall; i += 8)
		goslab_free(small[i]);
	goslab_shrink();
	kunit_info(test, "after the frees and a shrink: held %ld, slab counter %ld\n",
		   kpages_held(), slab_kpages());
	KUNIT_EXPECT_EQ(test, (long)mheap_accounted_kpages(), kpages_held());
	KUNIT_EXPECT_LE(test, abs((slab_kpages() - slab0) -
				  (kpages_held() - held0)), slack);
	goslab_test_bg_resume(test);
	goslab_expect_consistent(test);
}

static struct kunit_case mheap_cases[] = {
	KUNIT_CASE(mheap_span_sizes_test),
	KUNIT_CASE(mheap_free_span_keeps_reused_entry_test),
	KUNIT_CASE(mheap_foreign_test),
	KUNIT_CASE(mheap_grow_and_release_test),
	KUNIT_CASE(mheap_scavenge_test),
	KUNIT_CASE(mheap_page_cache_test),
	KUNIT_CASE(mheap_fault_injection_test),
	KUNIT_CASE(mheap_atomic_test),
	KUNIT_CASE(mheap_on_each_cpu_test),
	KUNIT_CASE(mheap_slab_accounting_test),
	{}
};

static struct kunit_suite mheap_suite = {
	.name = "goslab_mheap",
	.init = goslab_test_pause_bg,
	.exit = goslab_test_resume_bg,
	.test_cases = mheap_cases,
};

kunit_test_suite(mheap_suite);

MODULE_DESCRIPTION("KUnit tests for goslab's page heap");
