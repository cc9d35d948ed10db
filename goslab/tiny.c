// SPDX-License-Identifier: GPL-2.0
/*
 * tiny.c - the tiny allocator: objects under 16 bytes packed into one
 * 16-byte block per CPU (Go's mcache.tiny, tinyoffset, tinyAllocs).
 *
 * Go packs pointer-free objects under 16 bytes into the current block and
 * lets the GC free the block when nothing in it is reachable. goslab has
 * explicit frees, so each block has a word, kept outside the block in its
 * span (mspan.tiny), that says where its objects start (bits 0-15) and
 * where they end (bits 16-31): an object's size is exact, a free clears
 * its two bits, and the block goes back to its span when the word reaches
 * zero. While a CPU still packs into a block, bit 31 holds the block
 * (no object ends at byte 15 then: an object that would is the block's
 * last, and the CPU lets go of the block as it places it, so bit 31 then
 * marks that object's end). Letting go clears the hold; whoever takes the
 * word to zero frees the block. The CPU's block state is used under
 * goslab_cpu_lock, so hardirq and process context on one CPU share it
 * safely (softirq and tasks, on PREEMPT_RT).
 *
 * Alignment is Go's: 8 for sizes that are multiples of 8, 4 for multiples
 * of 4, 2 for multiples of 2, else 1. Tiny objects share a cache line and
 * their block's lifetime with their neighbours: for small, short-lived,
 * pointer-free data where memory matters more than alignment.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include "internal.h"

#define TINY_HOLD	0x80000000U

struct goslab_class goslab_tiny_class;
EXPORT_SYMBOL_IF_KUNIT(goslab_tiny_class);

/**
 * struct tiny_cache - a CPU's current tiny block
 * @block: the block, or NULL
 * @span: its span
 * @word: its word in the span
 * @offset: the first free byte
 * @nalloc: tiny allocations on this CPU
 * @nfree: tiny frees made on this CPU
 * @live_bytes: bytes asked for, live (this CPU's share; may go negative)
 * @live_class_bytes: what the same requests would take from size classes
 */
struct tiny_cache {
	void *block;
	struct mspan *span;
	atomic_t *word;
	unsigned int offset;
	unsigned long nalloc;
	unsigned long nfree;
	long live_bytes;
	long live_class_bytes;
};

static DEFINE_PER_CPU(struct tiny_cache, goslab_tiny);

static unsigned int tiny_align(size_t size)
{
	if (!(size & 7))
		return 8;
	if (!(size & 3))
		return 4;
	if (!(size & 1))
		return 2;
	return 1;
}

static unsigned int tiny_obj_bits(unsigned int off, size_t size)
{
	return BIT(off) | BIT(16 + off + size - 1);
}

/*
 * Let go of the CPU's block; free it if its objects are all gone. Under
 * the cpu lock. Under the span's free_lock, as every change of a block's word but
 * the owner's additions: see tiny_free_object().
 */
static void tiny_release(struct tiny_cache *tc)
{
	struct mspan *s = tc->span;
	void *block = tc->block;
	atomic_t *word = tc->word;
	u32 left;

	WRITE_ONCE(tc->block, NULL);
	if (!block)
		return;
	raw_spin_lock(&s->free_lock);
	/* u32: the hold bit is the sign bit of the atomic's int. */
	left = (u32)atomic_fetch_andnot(TINY_HOLD, word) & ~TINY_HOLD;
	if (!left && mspan_rcu_marked(s, word - s->tiny)) {
		/* The RCU work frees it: see tiny_free_object(). */
		atomic_long_add(GOSLAB_TINY_SIZE, &goslab_rcu_pending_bytes);
		left = TINY_HOLD;
	} else if (!left && want_init_on_free()) {
		/* goslab_free_rcu()'s objects were not cleared one by one. */
		memset(block, 0, GOSLAB_TINY_SIZE);
	}
	raw_spin_unlock(&s->free_lock);
	if (!left)
		goslab_free_slot(s, word - s->tiny);
}

/*
 * Zeroing, kmemleak and the event, out of goslab_alloc_tiny()'s fast
 * path; @block may be NULL (the event only).
 */
static noinline void *tiny_post_alloc(void *block, size_t size, gfp_t gfp,
				      unsigned long ip)
{
	if (block) {
		if (want_init_on_alloc(gfp))
			memset(block, 0, size);
		kmemleak_alloc(block, size, 1, gfp);
	}
	trace_goslab_alloc(ip, block, size, size, gfp);
	return block;
}

/**
 * goslab_alloc_tiny() - allocate a tiny object, packed with others
 * @size: bytes wanted; 16 and more are goslab_alloc(size, gfp)
 * @gfp: GFP flags
 *
 * Context: any context @gfp allows (on PREEMPT_RT: not hardirq, nor with
 * IRQs or preemption off).
 * Return: the object (aligned to 8, 4, 2 or 1 by its size, as Go does),
 * ZERO_SIZE_PTR for a @size of 0 (as goslab_alloc()), or NULL.
 */
void *goslab_alloc_tiny(size_t size, gfp_t gfp)
{
	struct tiny_cache *tc;
	unsigned int off;
	unsigned long flags;
	struct mspan *s;
	void *block;

	if (goslab_gfp_refused(gfp, _RET_IP_, __func__))
		return tiny_post_alloc(NULL, size, gfp, _RET_IP_);
	if (!size)
		return ZERO_SIZE_PTR;
	if (size >= GOSLAB_TINY_SIZE)
		return goslab_alloc_caller(size, gfp, _RET_IP_);
	local_lock_irqsave(&goslab_cpu_lock, flags);
	tc = this_cpu_ptr(&goslab_tiny);
	while (1) {
		if (tc->block) {
			off = ALIGN(tc->offset, tiny_align(size));
			if (off + size <= GOSLAB_TINY_SIZE)
				break;
			tiny_release(tc);
		}
		block = mspan_next_free_fast(this_cpu_ptr(goslab_tiny_class.slot)->span);
		if (!block)
			block = mcache_next_free(&goslab_tiny_class, gfp, flags);
		if (unlikely(!block)) {
			local_unlock_irqrestore(&goslab_cpu_lock, flags);
			return tiny_post_alloc(NULL, size, gfp, _RET_IP_);
		}
		tc = this_cpu_ptr(&goslab_tiny);
		s = __mheap_span_of(block);
		if (unlikely(tc->block)) {
			/* Refilled while we slept: give ours back, use that. */
			goslab_free_slot(s, ((unsigned long)block - s->base) /
					 GOSLAB_TINY_SIZE);
			continue;
		}
		/* Tiny objects are checked by KASAN per block. */
		goslab_kasan_unpoison(block, GOSLAB_TINY_SIZE);
		WRITE_ONCE(tc->block, block);
		tc->span = s;
		tc->word = &s->tiny[((unsigned long)block - s->base) / GOSLAB_TINY_SIZE];
		tc->offset = 0;
		atomic_set(tc->word, TINY_HOLD);
	}
	atomic_or(tiny_obj_bits(off, size), tc->word);
	tc->offset = off + size;
	tc->nalloc++;
	tc->live_bytes += size;
	tc->live_class_bytes += goslab_class_to_size[goslab_size_to_class(size)];
	block = tc->block + off;
	/* Placing an object that ends the block lets go of it. */
	if (tc->offset == GOSLAB_TINY_SIZE)
		WRITE_ONCE(tc->block, NULL);
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
	/* The key is on under init_on_alloc and while the event is. */
	if (unlikely(!goslab_alloc_hooks_off(gfp)))
		return tiny_post_alloc(block, size, gfp, _RET_IP_);
	return block;
}
EXPORT_SYMBOL_GPL(goslab_alloc_tiny);

/* The size of the object starting at @off in @w, or 0 if none does. */
static unsigned int tiny_obj_size(u32 w, unsigned int off)
{
	u32 ends = (w >> 16) & ~(BIT(off) - 1);

	if (!(w & BIT(off)) || !ends)
		return 0;
	return __ffs(ends) - off + 1;
}

/*
 * No object starts at @off of a block with word @w: is @off inside one
 * (an interior pointer) or in no object at all (freed, or never handed
 * out)?
 */
static int tiny_misuse(u32 w, unsigned int off)
{
	u32 starts = w & (BIT(off) - 1) & 0xffff;
	unsigned int start;

	if (!starts)
		return GOSLAB_ERR_DOUBLE_FREE;
	start = __fls(starts);
	return start + tiny_obj_size(w, start) > off ? GOSLAB_ERR_INTERIOR :
						       GOSLAB_ERR_DOUBLE_FREE;
}

/*
 * The size of the tiny object at @p, or 0 with *@err set. Under the cpu
 * lock or rcu_read_lock().
 */
static size_t tiny_object_size(struct mspan *s, const void *p, int *err)
{
	unsigned long rel = (unsigned long)p - s->base;
	unsigned int size;
	u32 w;

	if (rel / GOSLAB_TINY_SIZE >= s->nelems) {
		*err = GOSLAB_ERR_INTERIOR;
		return 0;
	}
	w = atomic_read(&s->tiny[rel / GOSLAB_TINY_SIZE]);
	size = tiny_obj_size(w, rel % GOSLAB_TINY_SIZE);
	if (!size)
		*err = tiny_misuse(w, rel % GOSLAB_TINY_SIZE);
	return size;
}

/* A tiny object of @size bytes was freed: this CPU's figures. */
static void tiny_count_free(unsigned int size)
{
	struct tiny_cache *tc = this_cpu_ptr(&goslab_tiny);

	tc->nfree++;
	tc->live_bytes -= size;
	tc->live_class_bytes -= goslab_class_to_size[goslab_size_to_class(size)];
}

/*
 * Clear the bits of the object at @off from its block's @word, under the
 * span's free_lock (the CPU placing objects in the block adds bits
 * without it). Returns the object's size and the word's new value in
 * *@new; or 0, with the word as read in *@new, when no object starts at
 * @off.
 */
static unsigned int tiny_take_object(atomic_t *word, unsigned int off,
				     int *new)
{
	int old = atomic_read(word);
	unsigned int size;

	do {
		size = tiny_obj_size(old, off);
		if (!size) {
			*new = old;
			return 0;
		}
		*new = old & ~tiny_obj_bits(off, size);
	} while (!atomic_try_cmpxchg(word, &old, *new));
	return size;
}

/*
 * Free the tiny object at @p of span @s.
 *
 * Under the span's free_lock, so that the object is cleared (and
 * forgotten by kmemleak) by the one free that took its bits, before any
 * other free can take the block's word to zero and free the block: the
 * block is reused only after a sweep, which takes that lock too.
 *
 * Under the cpu lock (the descriptor and its words stay readable). Returns 0,
 * -GOSLAB_ERR_INTERIOR for a pointer into an object (or past the span's
 * blocks), else -GOSLAB_ERR_DOUBLE_FREE.
 */
static int tiny_free_object(struct mspan *s, const void *p)
{
	unsigned long rel = (unsigned long)p - s->base;
	unsigned int off = rel % GOSLAB_TINY_SIZE, size;
	bool keep = false;
	int new;

	goslab_assert_cpu_locked();
	if (rel / GOSLAB_TINY_SIZE >= s->nelems)
		return -GOSLAB_ERR_INTERIOR;
	raw_spin_lock(&s->free_lock);
	size = tiny_take_object(&s->tiny[rel / GOSLAB_TINY_SIZE], off, &new);
	if (!size) {
		raw_spin_unlock(&s->free_lock);
		return -tiny_misuse(new, off);
	}
	kmemleak_free(p);
	if (!new && mspan_rcu_marked(s, rel / GOSLAB_TINY_SIZE)) {
		/*
		 * goslab_free_rcu() frees in the block wait for a grace
		 * period: the RCU work frees (and clears) the block.
		 */
		atomic_long_add(GOSLAB_TINY_SIZE, &goslab_rcu_pending_bytes);
		keep = true;
	} else if (want_init_on_free()) {
		/*
		 * The whole block when its last object goes: objects freed
		 * with goslab_free_rcu() were not cleared.
		 */
		if (new)
			memset((void *)p, 0, size);
		else
			memset((void *)(s->base + rel - off), 0,
			       GOSLAB_TINY_SIZE);
	}
	raw_spin_unlock(&s->free_lock);
	tiny_count_free(size);
	if (!new && !keep)
		return goslab_free_slot(s, rel / GOSLAB_TINY_SIZE);
	return 0;
}

/*
 * goslab_free_rcu() of the tiny object at @p of span @s: its bits go now,
 * so that any later free of it is a double free, and its block is marked
 * (mspan_rcu_mark()): the block is freed, and cleared, only by the RCU
 * work, once the grace period has passed and the block's last object is
 * gone. Nothing is written into the object. What is due in the span is
 * folded first. Under the cpu lock. Returns as tiny_free_object(), and
 * *@f and *@arm for goslab_rcu_mark_done().
 */
static int tiny_free_rcu(struct mspan *s, const void *p, struct rcu_fold *f,
			 bool *arm)
{
	unsigned long rel = (unsigned long)p - s->base;
	unsigned int off = rel % GOSLAB_TINY_SIZE, size;
	int new;

	goslab_assert_cpu_locked();
	if (rel / GOSLAB_TINY_SIZE >= s->nelems)
		return -GOSLAB_ERR_INTERIOR;
	raw_spin_lock(&s->free_lock);
	/*
	 * Before the object's bits go: its block still holds it, so the
	 * fold cannot free the block it is about to be marked in.
	 */
	*f = mspan_rcu_fold_before_mark(s);
	size = tiny_take_object(&s->tiny[rel / GOSLAB_TINY_SIZE], off, &new);
	if (!size) {
		raw_spin_unlock(&s->free_lock);
		return -tiny_misuse(new, off);
	}
	/* Tiny objects are known to kmemleak one by one, by their start. */
	kmemleak_free(p);
	*arm = mspan_rcu_mark(s, rel / GOSLAB_TINY_SIZE,
			      new ? 0 : GOSLAB_TINY_SIZE);
	raw_spin_unlock(&s->free_lock);
	tiny_count_free(size);
	return 0;
}

/*
 * mspan_is_valid() for a tiny span, quiescent: every live block has a
 * word and every other none, and no object overlaps another.
 */
static bool tiny_span_is_valid(const struct mspan *s)
{
	unsigned int i;
	bool ok = true;

	for (i = 0; i < s->nelems; i++) {
		u32 w = atomic_read(&s->tiny[i]);
		bool live = mspan_slot_live(s, i);
		unsigned int off, end = 0;

		/* A block waiting for goslab_free_rcu()'s grace period. */
		if (live && !w && mspan_rcu_marked(s, i))
			continue;
		if (live != !!w) {
			goslab_inv_err("tiny block %u of span %p: word %#x for a %s block\n",
				       i, (void *)s->base, w, live ? "live" : "free");
			ok = false;
			continue;
		}
		for (off = 0; off < GOSLAB_TINY_SIZE; off++) {
			unsigned int size = tiny_obj_size(w, off);

			if (!(w & BIT(off)))
				continue;
			if (!size || off < end) {
				goslab_inv_err("tiny block %u of span %p: objects overlap (word %#x)\n",
					       i, (void *)s->base, w);
				ok = false;
				break;
			}
			end = off + size;
		}
	}
	return ok;
}

/**
 * goslab_tiny_stats() - the tiny allocator's figures
 * @nalloc: tiny allocations since load
 * @nfree: tiny frees since load
 * @live_bytes: bytes asked for by live tiny objects
 * @class_bytes: what those requests would take from size classes
 */
void goslab_tiny_stats(unsigned long *nalloc, unsigned long *nfree,
		       long *live_bytes, long *class_bytes)
{
	int cpu;

	*nalloc = *nfree = 0;
	*live_bytes = *class_bytes = 0;
	for_each_possible_cpu(cpu) {
		struct tiny_cache *tc = per_cpu_ptr(&goslab_tiny, cpu);

		*nalloc += tc->nalloc;
		*nfree += tc->nfree;
		*live_bytes += tc->live_bytes;
		*class_bytes += tc->live_class_bytes;
	}
}

/* goslab_on_each_cpu(): this CPU lets go of its block. */
static void tiny_release_cpu(void *unused)
{
	tiny_release(this_cpu_ptr(&goslab_tiny));
}

static bool tiny_has_block(unsigned int cpu, void *unused)
{
	return goslab_tiny_held_cpu(cpu);
}

/**
 * goslab_tiny_flush() - every CPU lets go of its tiny block
 *
 * Context: process context; may sleep.
 */
VISIBLE_IF_KUNIT void goslab_tiny_flush(void)
{
	int cpu;

	cpus_read_lock();
	goslab_on_each_cpu(tiny_release_cpu, tiny_has_block, NULL);
	for_each_possible_cpu(cpu)
		if (!cpu_online(cpu))
			goslab_tiny_flush_dead_cpu(cpu);
	cpus_read_unlock();
}
EXPORT_SYMBOL_IF_KUNIT(goslab_tiny_flush);

/**
 * goslab_tiny_flush_dead_cpu() - let go of the tiny block of an offline CPU
 * @cpu: the CPU; it runs nothing any more
 *
 * Under this CPU's lock, which the layers below assert.
 */
void goslab_tiny_flush_dead_cpu(unsigned int cpu)
{
	unsigned long flags;

	local_lock_irqsave(&goslab_cpu_lock, flags);
	tiny_release(per_cpu_ptr(&goslab_tiny, cpu));
	local_unlock_irqrestore(&goslab_cpu_lock, flags);
}

/**
 * goslab_tiny_held_cpu() - whether a CPU holds a tiny block
 * @cpu: the CPU
 *
 * Return: true while it does; a racy read for an online CPU.
 */
bool goslab_tiny_held_cpu(unsigned int cpu)
{
	return READ_ONCE(per_cpu_ptr(&goslab_tiny, cpu)->block);
}

static void tiny_flush_class(struct goslab_class *cls)
{
	goslab_tiny_flush();
}

static const struct goslab_class_ops tiny_class_ops = {
	.free_object = tiny_free_object,
	.free_rcu = tiny_free_rcu,
	.object_size = tiny_object_size,
	.span_is_valid = tiny_span_is_valid,
	.flush = tiny_flush_class,
};

/**
 * goslab_tiny_init() - create the tiny allocator's class of 16-byte blocks
 *
 * Context: module load; on failure the caller unwinds with
 * goslab_classes_exit(), which also tears this class down.
 * Return: 0 or -ENOMEM.
 */
int goslab_tiny_init(void)
{
	const struct goslab_class_spec spec = {
		.name = "goslab-tiny",
		.api = __func__,
		.elemsize = GOSLAB_TINY_SIZE,
		.npages = 1,
		.tiny = true,
		.ops = &tiny_class_ops,
	};

	return goslab_class_create(&goslab_tiny_class, &spec);
}
