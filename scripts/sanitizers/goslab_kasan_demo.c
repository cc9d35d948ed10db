// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_kasan_demo: every access KASAN must report on goslab's objects,
 * and the valid ones it must not. make check loads it in the debug
 * kernel booted with kasan_multi_shot and expects exactly these reports,
 * in this order (scripts/goslab-vm --expect-kasan):
 *
 *   1. slab-out-of-bounds: a byte past a goslab_alloc(100) object's size
 *   2. slab-use-after-free: a byte of a freed object
 *   3. slab-out-of-bounds: a slot of a span never handed out
 *   4. slab-use-after-free: a pinned slot, on the half of its goslab
 *      page still held after a shrink gave the other half back
 *   5. slab-out-of-bounds: past a large object's size
 *   6. slab-out-of-bounds: past a typed-cache object's size
 *
 * Before them, valid accesses (the whole requested size, the whole usable
 * size after goslab_usable_size(), goslab_realloc() within and beyond
 * it) must draw no report.
 */
#include <linux/goslab.h>
#include <linux/module.h>
#include <linux/slab.h>
#include "internal.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

static void demo_read(const void *p)
{
	pr_info("goslab_kasan_demo: reading %p\n", p);
	(void)READ_ONCE(*(const u8 *)p);
}

static void demo_write(void *p, size_t n)
{
	memset(p, 0x5a, n);
}

/* Valid accesses: none of these may be reported. */
static int demo_valid(void)
{
	size_t whole = goslab_size_roundup(100);
	void *p = goslab_alloc(whole, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	demo_write(p, 100);
	/* The whole size class, asked for as FORTIFY_SOURCE wants. */
	demo_write(p, whole);
	p = goslab_realloc(p, 60, GFP_KERNEL);
	demo_write(p, 60);
	p = goslab_realloc(p, 5000, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	demo_write(p, 5000);
	goslab_free(p);
	p = goslab_alloc(goslab_size_roundup(100000), GFP_KERNEL | __GFP_ZERO);
	if (!p)
		return -ENOMEM;
	demo_write(p, 100000);
	demo_write(p, goslab_size_roundup(100000));
	goslab_free(p);
	p = goslab_alloc_tiny(7, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	demo_write(p, 7);
	goslab_free(p);
	return 0;
}

static int __init goslab_kasan_demo_init(void)
{
	struct goslab_cache *c;
	void *p, *first, *obj[8];
	unsigned int i;
	struct mspan *s;
	int ret;

	ret = demo_valid();
	if (ret)
		return ret;
	pr_info("goslab_kasan_demo: valid accesses done\n");

	/* 1. Past the size asked for. */
	p = goslab_alloc(100, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	demo_read(p + 100);
	goslab_free(p);

	/* 2. Freed. */
	p = goslab_alloc(64, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	goslab_free(p);
	demo_read(p);

	/* 3. Never handed out: the next slot of a fresh cache's span. */
	c = goslab_cache_create("kasan_demo", 64, NULL, 0);
	if (!c)
		return -ENOMEM;
	first = goslab_cache_alloc(c, GFP_KERNEL);
	if (!first) {
		goslab_cache_destroy(c);
		return -ENOMEM;
	}
	demo_read(first + 64);

	/*
	 * 4. Pinned: 3072-byte objects, eight to a span of three goslab
	 * pages. Free slots 2-5 and shrink: kernel pages 2 and 3 go back,
	 * slot 2 (bytes 6144-9215) is pinned, its first 2 KiB still held.
	 */
	goslab_shrink();
	migrate_disable();
	for (i = 0; i < ARRAY_SIZE(obj); i++)
		obj[i] = goslab_alloc(3000, GFP_KERNEL);
	migrate_enable();
	for (i = 0; i < ARRAY_SIZE(obj); i++)
		if (!obj[i])
			return -ENOMEM;
	s = mheap_span_of(obj[0]);
	for (i = 2; i < 6; i++)
		goslab_free(obj[i]);
	goslab_shrink();
	if (!s || !(s->released_kpages & BIT(2))) {
		pr_err("goslab_kasan_demo: the span gave no page back\n");
		return -EINVAL;
	}
	demo_read((void *)(s->base + 2 * 3072));

	/* 5. Past a large object's size, inside its span. */
	p = goslab_alloc(40000, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	demo_read(p + 40000);
	goslab_free(p);

	/* 6. Past a typed-cache object's size (24 of its 64 bytes). */
	goslab_cache_free(c, first);
	goslab_cache_destroy(c);
	c = goslab_cache_create("kasan_demo_24", 24, NULL,
				GOSLAB_HWCACHE_ALIGN);
	if (!c)
		return -ENOMEM;
	p = goslab_cache_alloc(c, GFP_KERNEL);
	if (p)
		demo_read(p + 24);
	goslab_cache_free(c, p);
	goslab_cache_destroy(c);

	for (i = 0; i < ARRAY_SIZE(obj); i++)
		if (i < 2 || i >= 6)
			goslab_free(obj[i]);
	pr_info("goslab_kasan_demo: done\n");
	return 0;
}

static void __exit goslab_kasan_demo_exit(void)
{
}

module_init(goslab_kasan_demo_init);
module_exit(goslab_kasan_demo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("goslab: accesses KASAN must report, and ones it must not");
