// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_cache: typed caches as a kernel caller uses them.
 */
#include <linux/cache.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include "goslab_test.h"

struct cache_param {
	unsigned int size;
	unsigned int align;	/* 0: GOSLAB_HWCACHE_ALIGN */
};

static const unsigned int param_sizes[] = {
	1, 7, 8, 24, 100, 200, 256, 1000, 4096, 5000, 32768,
};

static const unsigned int param_aligns[] = { 8, 64, 128, 0 };

static struct cache_param cache_params[ARRAY_SIZE(param_sizes) *
				       ARRAY_SIZE(param_aligns)];

static void cache_param_desc(const struct cache_param *p, char *desc)
{
	if (p->align)
		snprintf(desc, KUNIT_PARAM_DESC_SIZE, "size %u align %u",
			 p->size, p->align);
	else
		snprintf(desc, KUNIT_PARAM_DESC_SIZE, "size %u hwcache",
			 p->size);
}

static const void *cache_gen_params(const void *prev, char *desc)
{
	const struct cache_param *p = prev;
	unsigned int i;

	if (!p) {
		for (i = 0; i < ARRAY_SIZE(cache_params); i++) {
			cache_params[i].size =
				param_sizes[i / ARRAY_SIZE(param_aligns)];
			cache_params[i].align =
				param_aligns[i % ARRAY_SIZE(param_aligns)];
		}
		p = cache_params;
	} else if (++p == cache_params + ARRAY_SIZE(cache_params)) {
		return NULL;
	}
	cache_param_desc(p, desc);
	return p;
}

static struct goslab_cache *make_cache(struct kunit *test,
				       const struct cache_param *p,
				       void (*ctor)(void *))
{
	struct goslab_cache_args args = { .align = p->align, .ctor = ctor };
	char name[48];
	struct goslab_cache *c;

	snprintf(name, sizeof(name), "kunit-%u-%u-%p", p->size, p->align,
		 test);
	c = goslab_test_cache_create(test, name, p->size, &args,
				     p->align ? 0 : GOSLAB_HWCACHE_ALIGN);
	KUNIT_ASSERT_NOT_NULL(test, c);
	return c;
}

static unsigned int want_align(const struct cache_param *p)
{
	return max_t(unsigned int, p->align ?: cache_line_size(), 8);
}

/* Alignment holds and patterns survive, across several spans. */
static void cache_alignment_pattern_test(struct kunit *test)
{
	const struct cache_param *p = test->param_value;
	struct goslab_cache *c = make_cache(test, p, NULL);
	struct goslab_class *cls = goslab_cache_class(c);
	unsigned int n = min(3 * cls->nelems + 1, 2000U), i, bad = 0;
	void **obj = goslab_test_objs(test, n);

	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_EXPECT_LE(test, cls->npages * GOSLAB_PAGE_SIZE % cls->elemsize,
			cls->npages * GOSLAB_PAGE_SIZE / 8 + cls->elemsize);
	for (i = 0; i < n; i++) {
		obj[i] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
		KUNIT_EXPECT_EQ(test, (unsigned long)obj[i] % want_align(p), 0);
		memset(obj[i], (u8)i, p->size);
	}
	for (i = 0; i < n; i++)
		bad += !!memchr_inv(obj[i], (u8)i, p->size);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "objects overwritten");
	goslab_expect_consistent(test);
	for (i = 0; i < n; i++) {
		goslab_cache_free(c, obj[i]);
		obj[i] = NULL;
	}
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

/*
 * The reproducer of a double allocation: in a span whose free index is
 * past its first 64 slots, a shrink that gives back one of its kernel
 * pages must leave the allocation window at the free index. 24-byte
 * objects, 341 per span: fill one, free all but the first 10, allocate
 * 140 (the span is swept in place, free index 150), shrink (slots 170
 * on are on a page given back), allocate 42 more.
 */
static void cache_shrink_window(struct kunit *test, bool whole_shrink)
{
	struct cache_param p = { .size = 24, .align = 8 };
	struct goslab_cache *c = make_cache(test, &p, NULL);
	unsigned int nelems = goslab_cache_class(c)->nelems, i, n = 0;
	unsigned int bad = 0;
	void **obj;

	KUNIT_ASSERT_EQ(test, nelems, 341);
	obj = goslab_test_objs(test, nelems + 140 + 42);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	/* One CPU's mcache throughout, as in a shell driving the control file. */
	migrate_disable();
	for (i = 0; i < nelems; i++) {
		obj[n] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[n]);
		n++;
	}
	while (n > 10) {
		goslab_cache_free(c, obj[--n]);
		obj[n] = NULL;
	}
	for (i = 0; i < 140; i++) {
		obj[n] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[n]);
		n++;
	}
	if (whole_shrink)
		goslab_shrink();
	else
		goslab_cache_shrink(c);
	goslab_expect_consistent(test);
	for (i = 0; i < 42; i++) {
		obj[n] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[n]);
		n++;
	}
	migrate_enable();
	/* Checked before any write: a write could land in a page given back. */
	KUNIT_ASSERT_EQ_MSG(test, goslab_test_overlaps(test, obj, n, p.size), 0,
			    "objects handed out twice or on a page given back");
	for (i = 0; i < n; i++)
		memset(obj[i], (u8)i, p.size);
	for (i = 0; i < n; i++)
		bad += !!memchr_inv(obj[i], (u8)i, p.size);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "objects overwritten");
	goslab_expect_consistent(test);
	for (i = 0; i < n; i++) {
		goslab_cache_free(c, obj[i]);
		obj[i] = NULL;
	}
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

static void cache_shrink_window_test(struct kunit *test)
{
	cache_shrink_window(test, false);
}

static void cache_goslab_shrink_window_test(struct kunit *test)
{
	cache_shrink_window(test, true);
}

static atomic_t ctor_calls;

static void count_ctor(void *obj)
{
	atomic_inc(&ctor_calls);
	*(u8 *)obj = 0xc7;
}

/* The ctor runs once per object when a span is carved, never again. */
static void cache_ctor_test(struct kunit *test)
{
	const struct cache_param *p = test->param_value;
	struct goslab_cache *c;
	struct goslab_class *cls;
	unsigned int n, i, bad = 0, calls;
	void **obj;

	atomic_set(&ctor_calls, 0);
	c = make_cache(test, p, count_ctor);
	cls = goslab_cache_class(c);
	n = min(2 * cls->nelems, 1000U);
	obj = goslab_test_objs(test, n);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	/*
	 * On one CPU: the reallocation below must find the freed objects
	 * in this CPU's spans (on another CPU it would carve new ones).
	 */
	migrate_disable();
	for (i = 0; i < n; i++) {
		obj[i] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
		bad += *(u8 *)obj[i] != 0xc7;
	}
	calls = atomic_read(&ctor_calls);
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, calls % cls->nelems, 0);
	KUNIT_EXPECT_GE(test, calls, n);
	/* Constructed state survives free and allocation. */
	for (i = 0; i < n; i++) {
		goslab_cache_free(c, obj[i]);
		obj[i] = NULL;
	}
	for (i = 0; i < n; i++) {
		obj[i] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
		bad += *(u8 *)obj[i] != 0xc7;
	}
	migrate_enable();
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctor_calls), calls);
	/* __GFP_ZERO would wipe the constructed state: refused. */
	KUNIT_EXPECT_NULL(test, goslab_cache_alloc(c, GFP_KERNEL | __GFP_ZERO));
	KUNIT_EXPECT_NULL(test, goslab_cache_zalloc(c, GFP_KERNEL));
	for (i = 0; i < n; i++) {
		goslab_cache_free(c, obj[i]);
		obj[i] = NULL;
	}
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

static int cmp_ptr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Bulk for every n from 1 to 250, across span boundaries. */
static void cache_bulk_test(struct kunit *test)
{
	static const unsigned int sizes[] = { 8, 256, 1000, 4096 };
	void **obj = goslab_test_objs(test, 250);
	void **sorted = kunit_kcalloc(test, 250, sizeof(*obj), GFP_KERNEL);
	unsigned int s, n, i, dup = 0, bad = 0;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_ASSERT_NOT_NULL(test, sorted);
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct cache_param p = { .size = sizes[s], .align = 8 };
		struct goslab_cache *c = make_cache(test, &p, NULL);

		for (n = 1; n <= 250; n++) {
			int got = goslab_cache_alloc_bulk(c, GFP_KERNEL, n,
							  obj);

			KUNIT_ASSERT_EQ(test, got, n);
			for (i = 0; i < n; i++) {
				bad += !obj[i] || (unsigned long)obj[i] % 8;
				memset(obj[i], 0x5a, p.size);
			}
			memcpy(sorted, obj, n * sizeof(*obj));
			sort(sorted, n, sizeof(*sorted), cmp_ptr, NULL);
			for (i = 1; i < n; i++)
				dup += sorted[i] == sorted[i - 1];
			goslab_cache_free_bulk(c, n, obj);
			memset(obj, 0, n * sizeof(*obj));
		}
		KUNIT_EXPECT_EQ(test, bad, 0);
		KUNIT_EXPECT_EQ(test, dup, 0);
		goslab_expect_consistent(test);
		goslab_test_cache_destroy(test, c);
	}
	goslab_expect_consistent(test);
}

/*
 * Misuse inside a bulk free, among good objects of the CPU's span (the
 * free's run over that span meets each bad entry): a NULL is skipped; a
 * repeated object, an interior pointer, a slot never allocated and an
 * object of another cache are each reported once and change nothing;
 * every good object is freed exactly once (a second free of each is a
 * double free).
 */
static void cache_bulk_free_misuse_test(struct kunit *test)
{
	struct cache_param pa = { .size = 64, .align = 8 };
	struct cache_param pb = { .size = 64, .align = 16 };
	struct goslab_cache *a = make_cache(test, &pa, NULL);
	struct goslab_cache *b = make_cache(test, &pb, NULL);
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	unsigned long in = goslab_error_count(GOSLAB_ERR_INTERIOR);
	unsigned long wrong = goslab_error_count(GOSLAB_ERR_WRONG_CACHE);
	void *g[12], *p[24], *w, *never = NULL;
	unsigned int i, k = 0, bad_dbl = 2;

	KUNIT_ASSERT_EQ(test, goslab_cache_alloc_bulk(a, GFP_KERNEL, 12, g),
			12);
	w = goslab_cache_alloc(b, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	/* A fresh span hands out its slots in order: the next is free. */
	for (i = 1; i < 12 && g[i] == g[i - 1] + 64; i++)
		;
	if (i == 12) {
		never = g[11] + 64;
		bad_dbl++;
	}
	p[k++] = g[0];
	p[k++] = g[1];
	p[k++] = NULL;
	p[k++] = g[1];
	p[k++] = g[2] + 1;
	p[k++] = g[3];
	p[k++] = w;
	p[k++] = g[4];
	if (never)
		p[k++] = never;
	p[k++] = g[5];
	p[k++] = g[5];
	p[k++] = g[2];
	for (i = 6; i < 12; i++)
		p[k++] = g[i];
	goslab_cache_free_bulk(a, k, p);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + bad_dbl);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_INTERIOR), in + 1);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_WRONG_CACHE),
			wrong + 1);
	goslab_expect_consistent(test);
	dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	for (i = 0; i < 12; i++)
		goslab_cache_free(a, g[i]);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 12);
	goslab_cache_free(b, w);
	goslab_test_cache_destroy(test, a);
	goslab_test_cache_destroy(test, b);
	goslab_expect_consistent(test);
}

/*
 * The same in a span this CPU no longer caches (the bulk free's remote
 * run, under the span's free_lock): 160 objects of 64 B fill one span and
 * start the next. An object repeated right after its free is a double
 * free, an interior pointer is reported; every good object is freed once.
 */
static void cache_bulk_free_remote_misuse_test(struct kunit *test)
{
	struct cache_param pa = { .size = 64, .align = 8 };
	struct goslab_cache *a = make_cache(test, &pa, NULL);
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	unsigned long in = goslab_error_count(GOSLAB_ERR_INTERIOR);
	void **g = kunit_kcalloc(test, 160, sizeof(*g), GFP_KERNEL);
	void **p = kunit_kcalloc(test, 170, sizeof(*p), GFP_KERNEL);
	unsigned int i, k = 0;

	KUNIT_ASSERT_NOT_NULL(test, g);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, goslab_cache_alloc_bulk(a, GFP_KERNEL, 160, g),
			160);
	for (i = 0; i < 160; i++) {
		if (i == 2)
			p[k++] = g[1];
		if (i == 3) {
			p[k++] = g[2] + 1;
			p[k++] = NULL;
		}
		if (i == 129)
			p[k++] = g[128];
		p[k++] = g[i];
	}
	goslab_cache_free_bulk(a, k, p);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 2);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_INTERIOR), in + 1);
	goslab_expect_consistent(test);
	dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	for (i = 0; i < 160; i++)
		goslab_cache_free(a, g[i]);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 160);
	goslab_test_cache_destroy(test, a);
	goslab_expect_consistent(test);
}

/*
 * A bulk free's run in a span this CPU does not cache skips the lookup of
 * the objects after the first, unless the span gave kernel pages back: a
 * goslab page it gave back whole is the page allocator's again, and an
 * address there is no object of the span. Here such an address follows a
 * live object of the span in a bulk free: the object is freed and the
 * address reported as a foreign pointer, not taken for a double free of
 * the span's slot.
 */
static void cache_bulk_free_given_back_page_test(struct kunit *test)
{
	struct cache_param pa = { .size = 3000, .align = 8 };
	struct goslab_cache *a = make_cache(test, &pa, NULL);
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	unsigned long foreign = goslab_error_count(GOSLAB_ERR_FOREIGN) +
				goslab_error_count(GOSLAB_ERR_WRONG_CACHE);
	unsigned long page1, q = 0;
	void *obj[16] = { NULL }, *p[2];
	unsigned int i, n;
	struct mspan *s;

	KUNIT_ASSERT_EQ(test, goslab_cache_alloc_bulk(a, GFP_KERNEL, 1, obj),
			1);
	s = mheap_span_of(obj[0]);
	KUNIT_ASSERT_NOT_NULL(test, s);
	if (s->npages < 2 || s->nelems > ARRAY_SIZE(obj) ||
	    s->base != (unsigned long)obj[0])
		kunit_skip(test, "span geometry: %u pages, %u objects",
			   s->npages, s->nelems);
	n = s->nelems;
	KUNIT_ASSERT_EQ(test, goslab_cache_alloc_bulk(a, GFP_KERNEL, n - 1,
						      obj + 1), n - 1);
	/* Free every object touching the span's second goslab page. */
	page1 = s->base + GOSLAB_PAGE_SIZE;
	for (i = 1; i < n; i++) {
		unsigned long o = (unsigned long)obj[i];

		KUNIT_ASSERT_PTR_EQ(test, mheap_span_of(obj[i]), s);
		if (o + pa.size > page1 && o < page1 + GOSLAB_PAGE_SIZE) {
			if (!q && o >= page1)
				q = o;
			goslab_cache_free(a, obj[i]);
			obj[i] = NULL;
		}
	}
	goslab_test_bg_pause(test);
	goslab_cache_shrink(a);
	if (!q || (s->released_kpages & 0xc) != 0xc ||
	    mheap_span_of((void *)q)) {
		goslab_test_bg_resume(test);
		goslab_test_free_objs(obj, n);
		kunit_skip(test, "the span's second goslab page was not given back whole");
	}
	p[0] = obj[0];
	p[1] = (void *)q;
	goslab_cache_free_bulk(a, 2, p);
	obj[0] = NULL;
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE), dbl);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_FOREIGN) +
			goslab_error_count(GOSLAB_ERR_WRONG_CACHE),
			foreign + 1);
	/* The object before it was freed: a second free is a double free. */
	goslab_cache_free(a, p[0]);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE),
			dbl + 1);
	goslab_test_bg_resume(test);
	goslab_test_free_objs(obj, n);
	goslab_test_cache_destroy(test, a);
	goslab_expect_consistent(test);
}

/*
 * A bulk allocation that runs out of memory half way gives back what it
 * took: 0 returned, nothing live, nothing reported, counters balanced.
 * One object is left in a span of 8 (its kernel page keeps 3 free slots
 * through the shrink); every page allocation fails once the heap has no
 * free page, so the bulk gets those 3 and fails to grow for the rest.
 */
static void cache_bulk_fail_test(struct kunit *test)
{
	struct cache_param p = { .size = 1024, .align = 8 };
	struct goslab_cache *c = make_cache(test, &p, NULL);
	struct goslab_class *cls = goslab_cache_class(c);
	unsigned long errors = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE) +
			       goslab_error_count(GOSLAB_ERR_FOREIGN) +
			       goslab_error_count(GOSLAB_ERR_INTERIOR);
	void **obj = goslab_test_objs(test, 8);
	struct goslab_class_stats st;
	unsigned long nfree;
	void *first;
	int got;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_ASSERT_EQ(test, cls->nelems, 8);
	goslab_test_bg_pause(test);
	migrate_disable();
	first = goslab_cache_alloc(c, GFP_KERNEL);
	obj[0] = first;
	goslab_shrink();
	goslab_read_class_stats(cls, &st);
	nfree = st.nfree;
	WRITE_ONCE(goslab_fail_page_alloc_nth, 1);
	got = goslab_cache_alloc_bulk(c, GFP_KERNEL | __GFP_NOWARN, 5, obj + 1);
	WRITE_ONCE(goslab_fail_page_alloc_nth, 0);
	migrate_enable();
	goslab_test_bg_resume(test);
	KUNIT_ASSERT_NOT_NULL(test, first);
	KUNIT_EXPECT_EQ(test, got, 0);
	goslab_read_class_stats(cls, &st);
	KUNIT_EXPECT_EQ(test, st.live, 1);
	/* It did take objects before failing, and gave them back. */
	KUNIT_EXPECT_GT(test, st.nfree, nfree);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE) +
			goslab_error_count(GOSLAB_ERR_FOREIGN) +
			goslab_error_count(GOSLAB_ERR_INTERIOR), errors);
	goslab_expect_consistent(test);
	if (got)
		goslab_test_free_objs(obj + 1, got);
	goslab_cache_free(c, first);
	obj[0] = NULL;
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

/* Freeing into the wrong cache is reported and changes nothing. */
static void cache_wrong_cache_test(struct kunit *test)
{
	struct cache_param pa = { .size = 64, .align = 8 };
	struct cache_param pb = { .size = 100, .align = 8 };
	struct goslab_cache *a = make_cache(test, &pa, NULL);
	struct goslab_cache *b = make_cache(test, &pb, NULL);
	unsigned long wrong = goslab_error_count(GOSLAB_ERR_WRONG_CACHE);
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	void *x = goslab_cache_alloc(a, GFP_KERNEL);
	void *k = goslab_alloc(64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, x);
	KUNIT_ASSERT_NOT_NULL(test, k);
	goslab_cache_free(b, x);
	goslab_cache_free(a, k);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_WRONG_CACHE),
			wrong + 2);
	goslab_cache_free_bulk(b, 1, &x);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_WRONG_CACHE),
			wrong + 3);
	/* Still allocated: the right free works, no double free. */
	goslab_cache_free(a, x);
	goslab_free(k);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE), dbl);
	goslab_test_cache_destroy(test, a);
	goslab_test_cache_destroy(test, b);
	goslab_expect_consistent(test);
}

/* Destroying with live objects reports them and keeps their memory. */
static void cache_destroy_live_test(struct kunit *test)
{
	struct cache_param p = { .size = 200, .align = 8 };
	struct goslab_cache *c = make_cache(test, &p, NULL);
	void **obj = goslab_test_objs(test, 5);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	for (i = 0; i < 5; i++) {
		obj[i] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
		memset(obj[i], 0x33, p.size);
	}
	goslab_cache_destroy(c);
	/* Dead: no allocation, but the objects are intact and freeable. */
	KUNIT_EXPECT_NULL(test, goslab_cache_alloc(c, GFP_KERNEL));
	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_NULL(test, memchr_inv(obj[i], 0x33, p.size));
	goslab_expect_consistent(test);
	for (i = 0; i < 5; i++) {
		goslab_cache_free(c, obj[i]);
		obj[i] = NULL;
	}
	/* Again, now that its objects are gone: the cache goes. */
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

/* Bad arguments give NULL. */
static void cache_bad_args_test(struct kunit *test)
{
	struct goslab_cache_args bad_align = { .align = 24 };
	struct goslab_cache_args big_align = { .align = 16384 };
	struct goslab_cache *c;

	KUNIT_EXPECT_NULL(test, goslab_cache_create(NULL, 64, NULL, 0));
	KUNIT_EXPECT_NULL(test, goslab_cache_create("kunit-bad", 0, NULL, 0));
	KUNIT_EXPECT_NULL(test, goslab_cache_create("kunit-bad", 32769, NULL,
						    0));
	KUNIT_EXPECT_NULL(test, goslab_cache_create("kunit-bad", 64,
						    &bad_align, 0));
	KUNIT_EXPECT_NULL(test, goslab_cache_create("kunit-bad", 64,
						    &big_align, 0));
	KUNIT_EXPECT_NULL(test, goslab_cache_create("kunit-bad", 64, NULL,
						    0x100));
	c = goslab_test_cache_create(test, "kunit-dup", 64, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_NULL(test, goslab_cache_create("kunit-dup", 32, NULL, 0));
	/* The size classes' names are taken too. */
	KUNIT_EXPECT_NULL(test, goslab_cache_create("goslab-256", 32, NULL, 0));
	goslab_test_cache_destroy(test, c);
	goslab_cache_destroy(NULL);
	goslab_expect_consistent(test);
}

struct example_obj {
	u64 a;
	u32 b;
} __aligned(32);

/* GOSLAB_CACHE() names the cache after the type and keeps its alignment. */
static void cache_macro_test(struct kunit *test)
{
	struct goslab_cache *c = GOSLAB_CACHE(example_obj, GOSLAB_RECLAIMABLE);
	struct example_obj *o;

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test,
						  goslab_test_cache_destroy_action,
						  c), 0);
	KUNIT_EXPECT_STREQ(test, goslab_cache_class(c)->name, "example_obj");
	KUNIT_EXPECT_TRUE(test, goslab_cache_class(c)->page_gfp &
			  __GFP_RECLAIMABLE);
	o = goslab_cache_alloc(c, GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_EQ(test, (unsigned long)o % 32, 0);
	KUNIT_EXPECT_EQ(test, o->a, 0);
	memset(o, 0xa5, sizeof(*o));
	goslab_cache_free(c, o);
	/* kmem_cache_zalloc(): zeroed, whatever the memory held before. */
	o = goslab_cache_zalloc(c, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_NULL(test, memchr_inv(o, 0, sizeof(*o)));
	goslab_cache_free(c, o);
	goslab_cache_free(c, ZERO_SIZE_PTR);
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

struct irq_ctx {
	struct hrtimer timer;
	struct goslab_cache *c;
	void *held[8];
	unsigned int next;
	unsigned long fired, failed;
	bool stop;
};

static enum hrtimer_restart irq_cache_alloc(struct hrtimer *t)
{
	struct irq_ctx *ctx = container_of(t, struct irq_ctx, timer);
	void **slot = &ctx->held[ctx->next++ % ARRAY_SIZE(ctx->held)];

	ctx->fired++;
	goslab_cache_free(ctx->c, *slot);
	*slot = goslab_cache_alloc(ctx->c, GFP_ATOMIC);
	ctx->failed += !*slot;
	if (READ_ONCE(ctx->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(30 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

/*
 * Allocation and free from a timer callback (hardirq or softirq context,
 * GFP_ATOMIC) while process context does the same.
 */
static void cache_timer_context(struct kunit *test, enum hrtimer_mode mode)
{
	struct cache_param p = { .size = 96, .align = 8 };
	struct irq_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	u64 deadline;
	unsigned int i;
	void *obj[32];

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->c = make_cache(test, &p, NULL);
	hrtimer_init(&ctx->timer, CLOCK_MONOTONIC, mode);
	ctx->timer.function = irq_cache_alloc;
	hrtimer_start(&ctx->timer, ns_to_ktime(30 * NSEC_PER_USEC), mode);
	deadline = ktime_get_ns() + 2 * NSEC_PER_SEC;
	while (ktime_get_ns() < deadline && READ_ONCE(ctx->fired) < 1000) {
		for (i = 0; i < ARRAY_SIZE(obj); i++)
			obj[i] = goslab_cache_alloc(ctx->c, GFP_KERNEL);
		for (i = 0; i < ARRAY_SIZE(obj); i++)
			goslab_cache_free(ctx->c, obj[i]);
		cond_resched();
	}
	WRITE_ONCE(ctx->stop, true);
	hrtimer_cancel(&ctx->timer);
	for (i = 0; i < ARRAY_SIZE(ctx->held); i++)
		goslab_cache_free(ctx->c, ctx->held[i]);
	kunit_info(test, "%lu allocations in timer context\n", ctx->fired);
	KUNIT_EXPECT_GT(test, ctx->fired, 50);
	KUNIT_EXPECT_EQ(test, ctx->failed, 0);
	goslab_test_cache_destroy(test, ctx->c);
	goslab_expect_consistent(test);
}

static void cache_hardirq_test(struct kunit *test)
{
	goslab_test_need_hardirq(test);
	cache_timer_context(test, HRTIMER_MODE_REL_HARD);
}

static void cache_softirq_test(struct kunit *test)
{
	cache_timer_context(test, HRTIMER_MODE_REL_SOFT);
}

static struct kunit_case cache_cases[] = {
	KUNIT_CASE_PARAM(cache_alignment_pattern_test, cache_gen_params),
	KUNIT_CASE_PARAM(cache_ctor_test, cache_gen_params),
	KUNIT_CASE(cache_shrink_window_test),
	KUNIT_CASE(cache_goslab_shrink_window_test),
	KUNIT_CASE(cache_bulk_test),
	KUNIT_CASE(cache_bulk_fail_test),
	KUNIT_CASE(cache_bulk_free_misuse_test),
	KUNIT_CASE(cache_bulk_free_remote_misuse_test),
	KUNIT_CASE(cache_bulk_free_given_back_page_test),
	KUNIT_CASE(cache_wrong_cache_test),
	KUNIT_CASE(cache_destroy_live_test),
	KUNIT_CASE(cache_bad_args_test),
	KUNIT_CASE(cache_macro_test),
	KUNIT_CASE(cache_hardirq_test),
	KUNIT_CASE(cache_softirq_test),
	{}
};

static struct kunit_suite cache_suite = {
	.name = "goslab_cache",
	.test_cases = cache_cases,
};

kunit_test_suite(cache_suite);

MODULE_DESCRIPTION("KUnit tests for goslab's typed caches");
