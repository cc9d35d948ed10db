// SPDX-License-Identifier: GPL-2.0
/*
 * sanitize.c - what goslab tells the kernel's sanitizers about its
 * objects.
 *
 * goslab's pages are plain page-allocator pages, so without help KASAN
 * would see every byte of them as valid and kmemleak would scan none of
 * them. Here, in KASAN's generic mode, a span is poisoned when it is
 * carved, an object is unpoisoned for the bytes its caller asked for
 * when it is handed out (the rest of its size class stays a red zone,
 * until goslab_usable_size() makes the whole usable size valid, as
 * ksize() does), and poisoned again when it is freed; free heap pages
 * are poisoned as free pages. The shadow values are KASAN's own, so its
 * reports say "slab-out-of-bounds" for a never-handed-out slot or bytes
 * past the requested size and "slab-use-after-free" for a freed object.
 * Tiny objects share 16-byte blocks and are checked per block. The tag
 * modes (SW_TAGS, HW_TAGS) would need tagged pointers: goslab does not
 * describe its objects there.
 *
 * kmemleak learns each object when it is handed out and forgets it when
 * it is freed (internal.h, goslab_post_alloc() and goslab_pre_free()).
 */
#include <linux/kasan.h>
#include <linux/kmemleak.h>
#include "internal.h"

#ifdef CONFIG_KASAN_GENERIC
/* Exported (GPL) by mm/kasan/shadow.c; its prototype is in mm/kasan/. */
void kasan_poison(const void *addr, size_t size, u8 value, bool init);

#define GOSLAB_KASAN_GRANULE	8UL

/**
 * goslab_kasan_poison() - mark @size bytes at @p inaccessible
 * @p: the start, 8-byte aligned
 * @size: a multiple of 8
 * @value: a GOSLAB_KASAN_* shadow value, which names the report
 */
void goslab_kasan_poison(const void *p, size_t size, u8 value)
{
	kasan_poison(p, size, value, false);
}

/**
 * goslab_kasan_unpoison() - mark @size bytes at @p accessible
 * @p: the start, 8-byte aligned
 * @size: any size; a last partial granule is accessible in part
 */
void goslab_kasan_unpoison(const void *p, size_t size)
{
	size_t whole = round_down(size, GOSLAB_KASAN_GRANULE);

	kasan_poison(p, whole, 0, false);
	if (size != whole)
		kasan_poison(p + whole, GOSLAB_KASAN_GRANULE,
			     size - whole, false);
}

/**
 * goslab_kasan_alloc() - an object handed out for @size of its @elemsize
 * @p: the object
 * @size: the bytes the caller asked for
 * @elemsize: the object's size class
 * @init: zero the whole object first (init_on_alloc, __GFP_ZERO)
 */
void goslab_kasan_alloc(void *p, size_t size, unsigned int elemsize,
			bool init)
{
	size_t end = round_up(size, GOSLAB_KASAN_GRANULE);

	kasan_poison(p, elemsize, 0, false);
	if (init)
		memset(p, 0, elemsize);
	goslab_kasan_unpoison(p, size);
	if (end < elemsize)
		kasan_poison(p + end, elemsize - end, GOSLAB_KASAN_UNALLOCATED,
			     false);
}

/**
 * goslab_kasan_free() - an object is freed
 * @p: the object
 * @elemsize: its size class
 * @init: zero it first (init_on_free)
 */
void goslab_kasan_free(void *p, unsigned int elemsize, bool init)
{
	if (init) {
		kasan_poison(p, elemsize, 0, false);
		memset(p, 0, elemsize);
	}
	kasan_poison(p, elemsize, GOSLAB_KASAN_FREED, false);
}

/**
 * goslab_valid_bytes() - the bytes of an object its owner may use
 * @p: the object
 * @usable: its usable size
 *
 * Return: the accessible prefix of @p by KASAN's shadow: the requested
 * size, or the usable size after goslab_usable_size().
 */
size_t goslab_valid_bytes(const void *p, size_t usable)
{
	const s8 *shadow = kasan_mem_to_shadow(p);
	size_t n = 0;

	while (n < usable) {
		s8 v = *shadow++;

		if (v == 0) {
			n += GOSLAB_KASAN_GRANULE;
			continue;
		}
		if (v > 0 && v < GOSLAB_KASAN_GRANULE)
			n += v;
		break;
	}
	return min(n, usable);
}
#endif /* CONFIG_KASAN_GENERIC */

/**
 * goslab_forget_live_objects() - tell kmemleak a span's objects are gone
 * @s: a span given back with objects never freed (a leak its users made)
 *
 * Its pages return to the page allocator, so kmemleak must not keep
 * objects there.
 */
void goslab_forget_live_objects(struct mspan *s)
{
	unsigned int i, off;

	if (!IS_ENABLED(CONFIG_DEBUG_KMEMLEAK))
		return;
	for (i = 0; i < s->nelems; i++) {
		unsigned long obj = s->base + (unsigned long)i * s->elemsize;

		if (!mspan_is_allocated(s, i) || mspan_slot_pinned(s, i) ||
		    test_bit(i, s->free_bits) ||
		    test_bit(i, s->local_free_bits))
			continue;
		if (!s->tiny) {
			kmemleak_free((void *)obj);
			continue;
		}
		for (off = 0; off < GOSLAB_TINY_SIZE; off++)
			if (atomic_read(&s->tiny[i]) & BIT(off))
				kmemleak_free((void *)(obj + off));
	}
}

DEFINE_STATIC_KEY_FALSE(goslab_alloc_hooks);
DEFINE_STATIC_KEY_FALSE(goslab_free_hooks);

/**
 * goslab_hooks_init() - the fast paths' keys, at load
 *
 * init_on_alloc and init_on_free are set at boot and never change: a
 * reference each, for as long as goslab is loaded.
 */
void goslab_hooks_init(void)
{
	if (want_init_on_alloc(0))
		static_branch_inc(&goslab_alloc_hooks);
	if (want_init_on_free())
		static_branch_inc(&goslab_free_hooks);
}

/* The tracepoints' registration callbacks: tracepoints_mutex held. */
int goslab_trace_alloc_reg(void)
{
	static_branch_inc(&goslab_alloc_hooks);
	return 0;
}

void goslab_trace_alloc_unreg(void)
{
	static_branch_dec(&goslab_alloc_hooks);
}

int goslab_trace_free_reg(void)
{
	static_branch_inc(&goslab_free_hooks);
	return 0;
}

void goslab_trace_free_unreg(void)
{
	static_branch_dec(&goslab_free_hooks);
}
