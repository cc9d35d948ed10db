// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_bench - goslab against SLUB, in the same boot, on the same table
 * of operations.
 *
 * Writing "full" or "quick" to /sys/kernel/debug/goslab_bench/run runs
 * every one-CPU workload for goslab (goslab_alloc), SLUB's kmem_cache (a
 * cache per size, SLAB_NO_MERGE) and kmalloc, interleaved (goslab, SLUB,
 * SLUB, goslab, ...) after an untimed warm-up; "xcpu" or "xcpu-quick"
 * runs the cross-CPU workloads (see bench_xcpu()); "fastpath" only the
 * fast path (for a boot with init_on_alloc=1). Raw measurements are
 * left in /sys/kernel/debug/goslab_bench/results, one per line:
 *
 *   raw test=<name> size=<bytes> n=<ops> alloc=<goslab|slub|kmalloc>
 *       rep=<i> ticks=<total> ops=<count>     (time: TSC ticks per op;
 *                                              instructions under icount)
 *   raw test=<name> size=<bytes> n=<live> alloc=<...> rep=0 pages=<n>
 *
 * scripts/goslab-bench turns them into ratios, tables and plots. Nothing
 * here asserts a time. Every object is checked (non-NULL, 8-byte aligned)
 * and a final "check:" line counts the invalid ones and runs goslab's
 * validators.
 *
 * Pages: goslab's are the kernel pages its heap holds plus its span
 * descriptors; SLUB's are the system's unreclaimable slab pages, read
 * exactly (global counter plus every CPU's pending delta) before and
 * after, in a boot where nothing else allocates.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <linux/goslab.h>
#include "internal.h"

MODULE_IMPORT_NS(GOSLAB_BENCH);

/* A_GCACHE is goslab too: a typed cache, compared with a kmem_cache. */
enum bench_alloc { A_GOSLAB, A_SLUB, A_KMALLOC, A_GCACHE, NR_ALLOCS };
static const char * const alloc_name[NR_ALLOCS] = {
	"goslab", "slub", "kmalloc", "goslab",
};

static struct bench {
	char *buf;
	size_t len, cap;
	bool quick;
	unsigned int reps;
	unsigned long invalid;
	unsigned long objects;
	struct kmem_cache *cache;
	struct goslab_cache *gcache;
	size_t cache_size;
	void **obj;
	u32 *perm;
	unsigned long nobj;
	struct rnd_state rnd;
} b;

static DEFINE_MUTEX(bench_lock);

static __printf(1, 2) void out(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	b.len += vscnprintf(b.buf + b.len, b.cap - b.len, fmt, args);
	va_end(args);
}

static inline u64 bench_now(void)
{
	u32 lo, hi;

	asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (u64)hi << 32 | lo;
}

/* prandom from a fixed seed: every run draws the same sequence. */
static u32 bench_rand(void)
{
	return prandom_u32_state(&b.rnd);
}

static unsigned long scaled(unsigned long n)
{
	return b.quick ? max(4UL, n / 1000) : n;
}

static int use_cache(size_t size)
{
	if (b.cache && b.cache_size == size)
		return 0;
	kmem_cache_destroy(b.cache);
	goslab_cache_destroy(b.gcache);
	b.cache = kmem_cache_create("goslab-bench-slub", size, 0,
				    SLAB_NO_MERGE, NULL);
	b.gcache = goslab_cache_create("goslab-bench", size, NULL, 0);
	b.cache_size = size;
	return b.cache && b.gcache ? 0 : -ENOMEM;
}

static __always_inline void check(void *p)
{
	if (unlikely(!p || ((unsigned long)p & 7)))
		b.invalid++;
}

/* Tiny objects are aligned by their size only. */
static __always_inline void check_tiny(void *p)
{
	if (unlikely(!p))
		b.invalid++;
	else
		b.objects++;
}

static __always_inline void *do_alloc(enum bench_alloc a, size_t size)
{
	void *p;

	switch (a) {
	case A_GOSLAB:
		p = goslab_alloc(size, GFP_KERNEL);
		break;
	case A_SLUB:
		p = kmem_cache_alloc(b.cache, GFP_KERNEL);
		break;
	case A_GCACHE:
		p = goslab_cache_alloc(b.gcache, GFP_KERNEL);
		break;
	default:
		p = kmalloc(size, GFP_KERNEL);
		break;
	}
	check(p);
	return p;
}

static __always_inline void do_free(enum bench_alloc a, void *p)
{
	switch (a) {
	case A_GOSLAB:
		goslab_free(p);
		break;
	case A_SLUB:
		kmem_cache_free(b.cache, p);
		break;
	case A_GCACHE:
		goslab_cache_free(b.gcache, p);
		break;
	default:
		kfree(p);
		break;
	}
}

/*
 * Each loop is inlined into one function per allocator, where the switch
 * in do_alloc()/do_free() folds away: every allocator is called directly,
 * across the same kind of boundary (an exported function), with no
 * indirect call in the way.
 */
static __always_inline u64 __pair_loop(enum bench_alloc a, size_t size,
				       unsigned long n)
{
	unsigned long i;
	u64 t0 = bench_now();

	for (i = 0; i < n; i++)
		do_free(a, do_alloc(a, size));
	return bench_now() - t0;
}

/*
 * The pair's halves: batches of HALF_BATCH allocations, then their frees,
 * each half timed apart; the cost of reading the clock (calibrated by
 * half_overhead()) is taken out of both. Returns the allocations' ticks,
 * the frees' in *@tfree.
 */
#define HALF_BATCH	8

static __always_inline u64 __halves_loop(enum bench_alloc a, size_t size,
					 unsigned long n, u64 *tfree)
{
	void *obj[HALF_BATCH];
	u64 ta = 0, tf = 0, t0, t1, t2;
	unsigned long i;
	unsigned int j;

	for (i = 0; i < n; i += HALF_BATCH) {
		t0 = bench_now();
		for (j = 0; j < HALF_BATCH; j++)
			obj[j] = do_alloc(a, size);
		t1 = bench_now();
		for (j = 0; j < HALF_BATCH; j++)
			do_free(a, obj[j]);
		t2 = bench_now();
		ta += t1 - t0;
		tf += t2 - t1;
	}
	*tfree = tf;
	return ta;
}

static __always_inline u64 __alloc_loop(enum bench_alloc a, size_t size,
					unsigned long n)
{
	unsigned long i;
	u64 t0 = bench_now();

	for (i = 0; i < n; i++)
		b.obj[i] = do_alloc(a, size);
	return bench_now() - t0;
}

static __always_inline u64 __free_loop(enum bench_alloc a, unsigned long n,
				       bool permuted)
{
	unsigned long i;
	u64 t0 = bench_now();

	if (permuted)
		for (i = 0; i < n; i++)
			do_free(a, b.obj[b.perm[i]]);
	else
		for (i = 0; i < n; i++)
			do_free(a, b.obj[i]);
	return bench_now() - t0;
}

/* n replacements of random live objects, from b.perm[start] on. */
static __always_inline u64 __replace_loop(enum bench_alloc a, size_t size,
					  unsigned long live,
					  unsigned long start, unsigned long n)
{
	unsigned long i;
	u64 t0 = bench_now();

	for (i = 0; i < n; i++) {
		u32 k = b.perm[(start + i) % b.nobj] % live;

		do_free(a, b.obj[k]);
		b.obj[k] = do_alloc(a, size);
	}
	return bench_now() - t0;
}

static noinline u64 pair_loop(enum bench_alloc a, size_t size, unsigned long n)
{
	if (a == A_GOSLAB)
		return __pair_loop(A_GOSLAB, size, n);
	if (a == A_SLUB)
		return __pair_loop(A_SLUB, size, n);
	if (a == A_GCACHE)
		return __pair_loop(A_GCACHE, size, n);
	return __pair_loop(A_KMALLOC, size, n);
}

static noinline u64 halves_loop(enum bench_alloc a, size_t size,
				unsigned long n, u64 *tfree)
{
	if (a == A_GOSLAB)
		return __halves_loop(A_GOSLAB, size, n, tfree);
	return __halves_loop(A_SLUB, size, n, tfree);
}

/* The ticks of one empty timed interval, for each batch of n / HALF_BATCH. */
static noinline u64 half_overhead(unsigned long n)
{
	u64 t = 0, t0;
	unsigned long i;

	for (i = 0; i < n; i += HALF_BATCH) {
		t0 = bench_now();
		t += bench_now() - t0;
	}
	return t;
}

static noinline u64 alloc_loop(enum bench_alloc a, size_t size,
			       unsigned long n)
{
	if (a == A_GOSLAB)
		return __alloc_loop(A_GOSLAB, size, n);
	if (a == A_SLUB)
		return __alloc_loop(A_SLUB, size, n);
	return __alloc_loop(A_KMALLOC, size, n);
}

static noinline u64 free_loop(enum bench_alloc a, unsigned long n,
			      bool permuted)
{
	if (a == A_GOSLAB)
		return __free_loop(A_GOSLAB, n, permuted);
	if (a == A_SLUB)
		return __free_loop(A_SLUB, n, permuted);
	return __free_loop(A_KMALLOC, n, permuted);
}

static noinline u64 replace_loop(enum bench_alloc a, size_t size,
				 unsigned long live, unsigned long start,
				 unsigned long n)
{
	if (a == A_GOSLAB)
		return __replace_loop(A_GOSLAB, size, live, start, n);
	if (a == A_SLUB)
		return __replace_loop(A_SLUB, size, live, start, n);
	return __replace_loop(A_KMALLOC, size, live, start, n);
}

/* Interleave: rep 0 goslab first, rep 1 the other first, and so on. */
static enum bench_alloc order_of2(enum bench_alloc mine,
				  enum bench_alloc other, unsigned int rep,
				  unsigned int k)
{
	bool goslab_first = !(rep & 1);

	return (k == 0) == goslab_first ? mine : other;
}

static enum bench_alloc order_of(enum bench_alloc other, unsigned int rep,
				 unsigned int k)
{
	return order_of2(A_GOSLAB, other, rep, k);
}

static void raw_time(const char *test, size_t size, unsigned long n,
		     enum bench_alloc a, unsigned int rep, u64 ticks,
		     unsigned long ops)
{
	out("raw test=%s size=%zu n=%lu alloc=%s rep=%u ticks=%llu ops=%lu\n",
	    test, size, n, alloc_name[a], rep, ticks, ops);
	b.objects += ops;
}

static void raw_pages(const char *test, size_t size, unsigned long n,
		      enum bench_alloc a, long pages)
{
	out("raw test=%s size=%zu n=%lu alloc=%s rep=0 pages=%ld\n",
	    test, size, n, alloc_name[a], pages);
}

static void shuffle(unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		b.perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		unsigned long j = bench_rand() % (i + 1);

		swap(b.perm[i], b.perm[j]);
	}
}

/* The kernel pages goslab holds: heap pages plus span descriptors. */
static long goslab_pages(void)
{
	struct goslab_heap_stats st;

	mheap_read_stats(&st);
	return st.kpages_taken - st.kpages_returned +
	       DIV_ROUND_UP(st.meta_bytes, PAGE_SIZE);
}

/* Unreclaimable slab pages in the system, with every CPU's delta. */
static long slab_pages(void)
{
	long pages = global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B);
	int nid, cpu;

	for_each_online_node(nid)
		for_each_online_cpu(cpu)
			pages += per_cpu_ptr(NODE_DATA(nid)->per_cpu_nodestats,
					     cpu)->vm_node_stat_diff[NR_SLAB_UNRECLAIMABLE_B];
	return pages;
}

static long pages_of(enum bench_alloc a)
{
	return a == A_GOSLAB ? goslab_pages() : slab_pages();
}

/* Give back what an allocator can: goslab's heap or the SLUB cache's slabs. */
static void shrink_of(enum bench_alloc a)
{
	if (a == A_GOSLAB)
		goslab_shrink();
	else
		kmem_cache_shrink(b.cache);
}

/* fastpath: alloc + free of one object in a loop. */
static int bench_fastpath(void)
{
	static const size_t sizes[] = { 8, 16, 64, 256, 1024, 4096 };
	unsigned long n = scaled(200000);
	enum bench_alloc other;
	unsigned int i, rep, k;
	int ret;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ret = use_cache(sizes[i]);
		if (ret)
			return ret;
		for (other = A_SLUB; other <= A_GCACHE; other++) {
			/* fastpath-cache: a typed cache against a kmem_cache. */
			enum bench_alloc mine = other == A_GCACHE ? A_GCACHE :
						A_GOSLAB;
			enum bench_alloc theirs = other == A_GCACHE ? A_SLUB :
						  other;
			const char *test = other == A_SLUB ? "fastpath" :
					   other == A_KMALLOC ?
					   "fastpath-kmalloc" : "fastpath-cache";

			pair_loop(mine, sizes[i], n / 10);
			pair_loop(theirs, sizes[i], n / 10);
			for (rep = 0; rep < b.reps; rep++) {
				for (k = 0; k < 2; k++) {
					enum bench_alloc a =
						order_of2(mine, theirs, rep, k);

					raw_time(test, sizes[i], n, a, rep,
						 pair_loop(a, sizes[i], n), n);
				}
			}
		}
		/* The halves of the pair, goslab_alloc() against SLUB. */
		for (rep = 0; rep < b.reps; rep++) {
			for (k = 0; k < 2; k++) {
				enum bench_alloc a = order_of(A_SLUB, rep, k);
				u64 over = half_overhead(n), ta, tf;

				ta = halves_loop(a, sizes[i], n, &tf);
				raw_time("fastpath-alloc", sizes[i], n, a, rep,
					 ta > over ? ta - over : 0, n);
				raw_time("fastpath-free", sizes[i], n, a, rep,
					 tf > over ? tf - over : 0, n);
				/* Counted once, with the allocations. */
				b.objects -= n;
			}
		}
		cond_resched();
	}
	return 0;
}

/* N then N: N allocations timed, then N frees timed. */
static int bench_n_then_n(void)
{
	static const size_t sizes[] = { 64, 256, 1024 };
	unsigned long n = scaled(10000);
	unsigned int i, rep, k;
	int ret;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ret = use_cache(sizes[i]);
		if (ret)
			return ret;
		for (k = 0; k < 2; k++) {
			enum bench_alloc a = k ? A_SLUB : A_GOSLAB;

			alloc_loop(a, sizes[i], n);
			free_loop(a, n, false);
		}
		for (rep = 0; rep < b.reps; rep++) {
			for (k = 0; k < 2; k++) {
				enum bench_alloc a = order_of(A_SLUB, rep, k);
				u64 ta = alloc_loop(a, sizes[i], n);
				u64 tf = free_loop(a, n, false);

				raw_time("n-then-n-alloc", sizes[i], n, a, rep,
					 ta, n);
				raw_time("n-then-n-free", sizes[i], n, a, rep,
					 tf, n);
			}
		}
		cond_resched();
	}
	return 0;
}

/* Scattered free: free in random order across many spans. */
static int bench_scattered(void)
{
	const size_t size = 256;
	unsigned long n = scaled(50000);
	unsigned int rep, k;
	int ret;

	ret = use_cache(size);
	if (ret)
		return ret;
	for (rep = 0; rep < b.reps; rep++) {
		for (k = 0; k < 2; k++) {
			enum bench_alloc a = order_of(A_SLUB, rep, k);

			alloc_loop(a, size, n);
			shuffle(n);
			raw_time("scattered-free", size, n, a, rep,
				 free_loop(a, n, true), n);
			/* And allocating into the holes it left. */
			raw_time("scattered-realloc", size, n, a, rep,
				 alloc_loop(a, size, n), n);
			free_loop(a, n, false);
		}
		cond_resched();
	}
	return 0;
}

/* One bulk allocation of @n and one bulk free, @rounds times. */
static noinline u64 bulk_loop(bool goslab, unsigned long n,
			      unsigned long rounds)
{
	unsigned long r, i;
	u64 t0 = bench_now();

	for (r = 0; r < rounds; r++) {
		if (goslab) {
			if (goslab_cache_alloc_bulk(b.gcache, GFP_KERNEL, n,
						    b.obj) != n)
				b.invalid++;
			goslab_cache_free_bulk(b.gcache, n, b.obj);
		} else {
			if (kmem_cache_alloc_bulk(b.cache, GFP_KERNEL, n,
						  b.obj) != n)
				b.invalid++;
			kmem_cache_free_bulk(b.cache, n, b.obj);
		}
	}
	t0 = bench_now() - t0;
	for (i = 0; i < n; i++)
		check(b.obj[i]);
	return t0;
}

/* Bulk: alloc N then free N, per object, against kmem_cache_*_bulk. */
static int bench_bulk(void)
{
	static const unsigned int ns[] = { 1, 2, 4, 8, 16, 30, 32, 64, 128,
					   250 };
	unsigned int i, rep, k;
	int ret;

	ret = use_cache(256);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(ns); i++) {
		unsigned long rounds = scaled(400000) / ns[i] + 1;

		bulk_loop(true, ns[i], rounds / 10 + 1);
		bulk_loop(false, ns[i], rounds / 10 + 1);
		for (rep = 0; rep < b.reps; rep++)
			for (k = 0; k < 2; k++) {
				bool goslab = order_of(A_SLUB, rep, k) ==
					      A_GOSLAB;

				raw_time("bulk", 256, ns[i],
					 goslab ? A_GCACHE : A_SLUB, rep,
					 bulk_loop(goslab, ns[i], rounds),
					 rounds * ns[i]);
			}
		cond_resched();
	}
	return 0;
}

/*
 * Tiny: live tiny objects of random sizes (1-15 B, or 1-4 B) against
 * kmalloc of the same sizes: bytes held per object after both shrink
 * (goslab: blocks, their tracking words, descriptors, heap; kmalloc: slab
 * pages, exactly) and the cost of an allocation.
 */
static int bench_tiny(void)
{
	static const unsigned int maxes[] = { 15, 4 };
	unsigned long n = scaled(200000), i;
	unsigned int m, k;

	for (m = 0; m < ARRAY_SIZE(maxes); m++) {
		const char *test = maxes[m] == 15 ? "tiny-1-15" : "tiny-1-4";

		for (k = 0; k < 2; k++) {
			bool goslab = !k;
			long base;
			u64 t0;

			if (goslab)
				goslab_shrink();
			base = goslab ? goslab_pages() : slab_pages();
			/* The sizes are drawn before the clock starts. */
			prandom_seed_state(&b.rnd, 5);
			for (i = 0; i < n; i++)
				b.perm[i] = 1 + bench_rand() % maxes[m];
			t0 = bench_now();
			for (i = 0; i < n; i++) {
				b.obj[i] = goslab ?
					goslab_alloc_tiny(b.perm[i], GFP_KERNEL) :
					kmalloc(b.perm[i], GFP_KERNEL);
				check_tiny(b.obj[i]);
			}
			t0 = bench_now() - t0;
			raw_time(test, maxes[m], n, goslab ? A_GOSLAB : A_KMALLOC,
				 0, t0, n);
			/*
			 * Both sides shrunk with the objects live: free heap
			 * pages for goslab, empty slabs of kmalloc-8/16 for
			 * SLUB; what is left is what the objects need.
			 */
			if (goslab) {
				goslab_shrink();
			} else {
				kmem_cache_shrink(kmalloc_caches[KMALLOC_NORMAL]
						  [kmalloc_index(8)]);
				kmem_cache_shrink(kmalloc_caches[KMALLOC_NORMAL]
						  [kmalloc_index(16)]);
			}
			/* Bytes per object, times 100, as pages * 4096. */
			raw_pages(test, maxes[m], n, goslab ? A_GOSLAB : A_KMALLOC,
				  ((goslab ? goslab_pages() : slab_pages()) -
				   base) * PAGE_SIZE * 100 / n);
			for (i = 0; i < n; i++) {
				if (goslab)
					goslab_free(b.obj[i]);
				else
					kfree(b.obj[i]);
			}
			cond_resched();
		}
	}
	return 0;
}

/*
 * Frees after a grace period: goslab_free_rcu() of a 256-byte object
 * against kfree_rcu() of a kmalloc'd one of the same size whose rcu_head
 * is inside it. The call alone (the objects allocated before the clock
 * starts), and the most pages each allocator holds (goslab: heap pages
 * and descriptors; SLUB: slab pages, not kfree_rcu()'s pages of
 * pointers) during a flood of 10^6 allocations, each freed under RCU at
 * once.
 */
struct bench_rcu_obj {
	struct rcu_head rcu;
	u8 data[256 - sizeof(struct rcu_head)];
};

static void bench_rcu_barrier(bool goslab)
{
	if (goslab) {
		goslab_rcu_barrier();
		return;
	}
	kvfree_rcu_barrier();
}

static int bench_rcu(void)
{
	unsigned long n = scaled(100000), flood = scaled(1000000), i;
	unsigned int k;

	for (k = 0; k < 2; k++) {
		enum bench_alloc a = k ? A_KMALLOC : A_GOSLAB;
		long base, peak = 0;
		u64 t;

		bench_rcu_barrier(!k);
		if (!k)
			goslab_shrink();
		for (i = 0; i < n; i++) {
			b.obj[i] = k ? kmalloc(sizeof(struct bench_rcu_obj),
					       GFP_KERNEL) :
				       goslab_alloc(sizeof(struct bench_rcu_obj),
						    GFP_KERNEL);
			check(b.obj[i]);
			if (!b.obj[i])
				return -ENOMEM;
		}
		t = bench_now();
		for (i = 0; i < n; i++) {
			if (k)
				kfree_rcu((struct bench_rcu_obj *)b.obj[i], rcu);
			else
				goslab_free_rcu(b.obj[i]);
		}
		t = bench_now() - t;
		raw_time("rcu-free", 256, n, a, 0, t, n);
		bench_rcu_barrier(!k);
		base = k ? slab_pages() : goslab_pages();
		for (i = 0; i < flood; i++) {
			void *p = k ? kmalloc(sizeof(struct bench_rcu_obj),
					      GFP_KERNEL) :
				      goslab_alloc(sizeof(struct bench_rcu_obj),
						   GFP_KERNEL);

			check(p);
			if (!p)
				return -ENOMEM;
			if (k)
				kfree_rcu((struct bench_rcu_obj *)p, rcu);
			else
				goslab_free_rcu(p);
			if (!(i % 1024)) {
				peak = max(peak, (k ? slab_pages() :
						  goslab_pages()) - base);
				cond_resched();
			}
		}
		raw_pages("rcu-peak", 256, flood, a, peak);
		bench_rcu_barrier(!k);
	}
	out("rcu: goslab_rcu_head_bytes=0 slub_rcu_head_bytes=%zu\n",
	    sizeof(struct rcu_head));
	return 0;
}

/* Large objects: goslab's own spans against kmalloc's page allocator. */
static int bench_large(void)
{
	static const size_t sizes[] = { 65536, 131072, 262144, 524288,
					1048576 };
	unsigned long n = scaled(5000);
	unsigned int i, rep, k;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		/*
		 * From a settled heap: no sweep debt left by the workloads
		 * before (a large allocation pays sweep credit), whenever the
		 * background work last ran.
		 */
		goslab_shrink();
		pair_loop(A_GOSLAB, sizes[i], n / 10);
		pair_loop(A_KMALLOC, sizes[i], n / 10);
		for (rep = 0; rep < b.reps; rep++)
			for (k = 0; k < 2; k++) {
				enum bench_alloc a = order_of(A_KMALLOC, rep, k);

				raw_time("large", sizes[i], n, a, rep,
					 pair_loop(a, sizes[i], n), n);
			}
		cond_resched();
	}
	return 0;
}

/*
 * Memory: pages held at peak; after freeing a random 90%; the pages taken
 * by allocating the freed count again (do the holes get reused?); and,
 * after freeing the same 90% again, the pages held after a shrink.
 */
static int bench_memory(void)
{
	const size_t size = 256;
	unsigned long n = scaled(100000), nfree = n - n / 10, i;
	unsigned int k;
	int ret;

	ret = use_cache(size);
	if (ret)
		return ret;
	for (k = 0; k < 2; k++) {
		enum bench_alloc a = k ? A_SLUB : A_GOSLAB;
		long base, before;

		shrink_of(a);
		base = pages_of(a);
		alloc_loop(a, size, n);
		raw_pages("mem-peak", size, n, a, pages_of(a) - base);
		prandom_seed_state(&b.rnd, 7);
		shuffle(n);
		for (i = 0; i < nfree; i++)
			do_free(a, b.obj[b.perm[i]]);
		before = pages_of(a);
		raw_pages("mem-after-free", size, n, a, before - base);
		for (i = 0; i < nfree; i++)
			b.obj[b.perm[i]] = do_alloc(a, size);
		raw_pages("mem-realloc-new", size, n, a,
			  max(0L, pages_of(a) - before));
		for (i = 0; i < nfree; i++)
			do_free(a, b.obj[b.perm[i]]);
		shrink_of(a);
		raw_pages("mem-after-shrink", size, n, a, pages_of(a) - base);
		for (i = nfree; i < n; i++)
			do_free(a, b.obj[b.perm[i]]);
		cond_resched();
	}
	return 0;
}

/* Cost per operation (free one, allocate one) as the live set grows. */
static int bench_live_set(void)
{
	const size_t size = 64;
	unsigned long max_live = b.quick ? 10000 : 1000000;
	unsigned long n = scaled(200000), live;
	unsigned int rep, k;
	int ret;

	ret = use_cache(size);
	if (ret)
		return ret;
	prandom_seed_state(&b.rnd, 99);
	shuffle(b.nobj);
	for (live = 1000; live <= max_live; live *= 10) {
		for (rep = 0; rep < b.reps; rep++) {
			for (k = 0; k < 2; k++) {
				enum bench_alloc a = order_of(A_SLUB, rep, k);
				long base;

				shrink_of(a);
				base = pages_of(a);
				alloc_loop(a, size, live);
				if (!rep)
					raw_pages("live-pages", size, live, a,
						  pages_of(a) - base);
				raw_time("live-set", size, live, a, rep,
					 replace_loop(a, size, live, 0, n), n);
				/* What the churn cost in memory (goslab may grow). */
				if (!rep)
					raw_pages("live-pages-churned", size,
						  live, a, pages_of(a) - base);
				free_loop(a, live, false);
				cond_resched();
			}
		}
	}
	return 0;
}

/*
 * Cross-CPU workloads: two worker threads bound to two CPUs (the same one
 * when there is only one), run in lockstep phases: one works while the
 * other waits asleep, so a phase's time is its own CPU's alone (under
 * icount: the instructions of that phase, with the idle CPU halted) and
 * the handoff between phases is not timed. Objects allocated in one
 * phase are freed in the next, on the other CPU.
 */
struct xworker {
	struct task_struct *task;
	struct completion go;
	struct completion done;
	u64 (*job)(struct xworker *w);
	u64 ticks;
	bool stop;
	enum bench_alloc a;
	size_t size;
	unsigned long n;	/* objects or operations in the phase */
	unsigned long live;	/* larson: slots */
	unsigned long start;	/* larson: where in b.perm the phase starts */
};

static struct xworker xw[2];

static int xworker_fn(void *arg)
{
	struct xworker *w = arg;

	for (;;) {
		wait_for_completion(&w->go);
		if (READ_ONCE(w->stop))
			break;
		w->ticks = w->job(w);
		complete(&w->done);
	}
	complete(&w->done);
	return 0;
}

/* Run @job on worker @i and wait for it; its ticks. */
static u64 xrun(unsigned int i, u64 (*job)(struct xworker *w))
{
	xw[i].job = job;
	complete(&xw[i].go);
	wait_for_completion(&xw[i].done);
	return xw[i].ticks;
}

static u64 xjob_alloc(struct xworker *w)
{
	return alloc_loop(w->a, w->size, w->n);
}

static u64 xjob_free(struct xworker *w)
{
	return free_loop(w->a, w->n, false);
}

static u64 xjob_larson(struct xworker *w)
{
	return replace_loop(w->a, w->size, w->live, w->start, w->n);
}

static int xworkers_start(void)
{
	unsigned int cpu0 = cpumask_first(cpu_online_mask);
	unsigned int cpu1 = cpumask_next(cpu0, cpu_online_mask);
	unsigned int i;

	if (cpu1 >= nr_cpu_ids)
		cpu1 = cpu0;
	for (i = 0; i < 2; i++) {
		memset(&xw[i], 0, sizeof(xw[i]));
		init_completion(&xw[i].go);
		init_completion(&xw[i].done);
		xw[i].task = kthread_create(xworker_fn, &xw[i], "gsbench/%u",
					    i ? cpu1 : cpu0);
		if (IS_ERR(xw[i].task)) {
			if (i) {
				WRITE_ONCE(xw[0].stop, true);
				complete(&xw[0].go);
				wait_for_completion(&xw[0].done);
			}
			return PTR_ERR(xw[i].task);
		}
		kthread_bind(xw[i].task, i ? cpu1 : cpu0);
		wake_up_process(xw[i].task);
	}
	out("xcpu: cpus=%u,%u\n", cpu0, cpu1);
	return 0;
}

static void xworkers_stop(void)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		WRITE_ONCE(xw[i].stop, true);
		complete(&xw[i].go);
		wait_for_completion(&xw[i].done);
	}
}

static void xset(enum bench_alloc a, size_t size, unsigned long n)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		xw[i].a = a;
		xw[i].size = size;
		xw[i].n = n;
	}
}

/*
 * Remote free: CPU 0 allocates n objects, CPU 1 frees them all, CPU 0
 * allocates n again (into the remotely freed slots, or new pages), and
 * CPU 1 frees them again. Pages: held at the first peak, and the most
 * held at the second (remote frees must not make memory pile up).
 */
static void bench_xcpu_remote(enum bench_alloc a, size_t size,
			      unsigned long n, unsigned int rep)
{
	long base, peak1, peak2;
	u64 t_alloc, t_free, t_realloc, t_free2;

	shrink_of(a);
	base = pages_of(a);
	xset(a, size, n);
	t_alloc = xrun(0, xjob_alloc);
	peak1 = pages_of(a) - base;
	t_free = xrun(1, xjob_free);
	t_realloc = xrun(0, xjob_alloc);
	peak2 = pages_of(a) - base;
	t_free2 = xrun(1, xjob_free);
	raw_time("xcpu-remote-alloc", size, n, a, rep, t_alloc, n);
	raw_time("xcpu-remote-free", size, n, a, rep, t_free + t_free2, 2 * n);
	raw_time("xcpu-remote-realloc", size, n, a, rep, t_realloc, n);
	if (!rep) {
		raw_pages("xcpu-remote-peak", size, n, a, peak1);
		raw_pages("xcpu-remote-repeak", size, n, a, peak2);
	}
}

/*
 * Producer/consumer through a ring of XCPU_RING objects: CPU 0 fills it,
 * CPU 1 empties it, for rounds * XCPU_RING objects. Time per object
 * (its allocation plus its remote free); pages: the most held after a
 * fill.
 */
#define XCPU_RING	1024

static void bench_xcpu_prodcons(enum bench_alloc a, size_t size,
				unsigned long rounds, unsigned int rep)
{
	long base, peak = 0;
	u64 ticks = 0;
	unsigned long r;

	shrink_of(a);
	base = pages_of(a);
	xset(a, size, XCPU_RING);
	for (r = 0; r < rounds; r++) {
		ticks += xrun(0, xjob_alloc);
		peak = max(peak, pages_of(a) - base);
		ticks += xrun(1, xjob_free);
	}
	raw_time("xcpu-prodcons", size, rounds * XCPU_RING, a, rep, ticks,
		 rounds * XCPU_RING);
	if (!rep)
		raw_pages("xcpu-prodcons-peak", size, rounds * XCPU_RING, a,
			  peak);
}

/*
 * Larson: live slots replaced at random, CPU 0 and CPU 1 taking turns of
 * @turn replacements: most frees are of an object the other CPU
 * allocated. Pages: the most held at the end of a turn.
 */
static void bench_xcpu_larson(enum bench_alloc a, size_t size,
			      unsigned long live, unsigned long turns,
			      unsigned long turn, unsigned int rep)
{
	long base, peak = 0;
	u64 ticks = 0;
	unsigned long t;
	unsigned int i;

	shrink_of(a);
	base = pages_of(a);
	alloc_loop(a, size, live);
	xset(a, size, turn);
	for (i = 0; i < 2; i++)
		xw[i].live = live;
	for (t = 0; t < turns; t++) {
		xw[t & 1].start = t * turn;
		ticks += xrun(t & 1, xjob_larson);
		peak = max(peak, pages_of(a) - base);
	}
	free_loop(a, live, false);
	raw_time("xcpu-larson", size, live, a, rep, ticks, turns * turn);
	if (!rep)
		raw_pages("xcpu-larson-peak", size, live, a, peak);
}

static int bench_xcpu(void)
{
	const size_t size = 256;
	unsigned long n = scaled(20000);
	unsigned int rep, k;
	int ret;

	ret = use_cache(size);
	if (ret)
		return ret;
	ret = xworkers_start();
	if (ret)
		return ret;
	prandom_seed_state(&b.rnd, 5);
	shuffle(b.nobj);
	/* Untimed warm-up of both allocators and both CPUs. */
	for (k = 0; k < 2; k++) {
		xset(k ? A_SLUB : A_GOSLAB, size, n);
		xrun(0, xjob_alloc);
		xrun(1, xjob_free);
	}
	for (rep = 0; rep < b.reps; rep++) {
		for (k = 0; k < 2; k++) {
			enum bench_alloc a = order_of(A_SLUB, rep, k);

			bench_xcpu_remote(a, size, n, rep);
			bench_xcpu_prodcons(a, size, b.quick ? 2 : 100, rep);
			bench_xcpu_larson(a, size, b.quick ? 64 : 4096,
					  b.quick ? 4 : 100,
					  b.quick ? 16 : 1000, rep);
			cond_resched();
		}
	}
	xworkers_stop();
	return 0;
}

static int bench_run(bool quick, bool xcpu, bool fastpath_only)
{
	int ret;

	b.quick = quick;
	b.reps = quick ? 1 : 5;
	b.len = 0;
	b.invalid = 0;
	b.objects = 0;
	prandom_seed_state(&b.rnd, 1);
	b.nobj = 1000000;
	b.obj = vzalloc(b.nobj * sizeof(*b.obj));
	b.perm = vmalloc(b.nobj * sizeof(*b.perm));
	if (!b.obj || !b.perm) {
		ret = -ENOMEM;
		goto out;
	}
	if (xcpu) {
		ret = bench_xcpu();
		goto check;
	}
	ret = bench_fastpath();
	if (fastpath_only)
		goto check;
	if (!ret)
		ret = bench_bulk();
	if (!ret)
		ret = bench_tiny();
	if (!ret)
		ret = bench_n_then_n();
	if (!ret)
		ret = bench_scattered();
	if (!ret)
		ret = bench_large();
	if (!ret)
		ret = bench_memory();
	if (!ret)
		ret = bench_live_set();
	if (!ret)
		ret = bench_rcu();
check:
	out("check: objects=%lu invalid=%lu goslab_validate=%d\n", b.objects,
	    b.invalid, goslab_validate());
	/* What SLUB can check on free in this kernel (goslab always checks). */
	out("slub: slub_debug_built=%d freelist_hardened=%d kfence=%d memcg=%d\n",
	    IS_ENABLED(CONFIG_SLUB_DEBUG),
	    IS_ENABLED(CONFIG_SLAB_FREELIST_HARDENED),
	    IS_ENABLED(CONFIG_KFENCE), IS_ENABLED(CONFIG_MEMCG));
out:
	kmem_cache_destroy(b.cache);
	goslab_cache_destroy(b.gcache);
	b.cache = NULL;
	b.gcache = NULL;
	vfree(b.obj);
	vfree(b.perm);
	b.obj = NULL;
	b.perm = NULL;
	return ret;
}

static ssize_t run_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	char cmd[16] = {};
	int ret;

	if (count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	strim(cmd);
	if (strcmp(cmd, "full") && strcmp(cmd, "quick") &&
	    strcmp(cmd, "xcpu") && strcmp(cmd, "xcpu-quick") &&
	    strcmp(cmd, "fastpath")) {
		pr_warn("run: write 'full', 'quick', 'xcpu', 'xcpu-quick' or 'fastpath', not '%s'\n",
			cmd);
		return -EINVAL;
	}
	mutex_lock(&bench_lock);
	ret = bench_run(!strcmp(cmd, "quick") || !strcmp(cmd, "xcpu-quick"),
			!strncmp(cmd, "xcpu", 4), !strcmp(cmd, "fastpath"));
	mutex_unlock(&bench_lock);
	return ret ?: count;
}

static ssize_t results_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&bench_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, b.buf, b.len);
	mutex_unlock(&bench_lock);
	return ret;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.write = run_write,
};

static const struct file_operations results_fops = {
	.owner = THIS_MODULE,
	.read = results_read,
};

static struct dentry *bench_dir;

static int __init goslab_bench_init(void)
{
	b.cap = 4 << 20;
	b.buf = vmalloc(b.cap);
	if (!b.buf)
		return -ENOMEM;
	bench_dir = debugfs_create_dir("goslab_bench", NULL);
	debugfs_create_file("run", 0200, bench_dir, NULL, &run_fops);
	debugfs_create_file("results", 0400, bench_dir, NULL, &results_fops);
	return 0;
}

static void __exit goslab_bench_exit(void)
{
	debugfs_remove_recursive(bench_dir);
	vfree(b.buf);
}

module_init(goslab_bench_init);
module_exit(goslab_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("goslab against SLUB: the benchmark module");
