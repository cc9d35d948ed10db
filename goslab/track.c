// SPDX-License-Identifier: GPL-2.0
/*
 * track.c - who holds the memory: the allocation and free of every object
 * of a tracked class, with its stack in the kernel's stack depot (SLUB's
 * SLAB_STORE_USER), and the files that read them back in SLUB's formats.
 *
 * A class is tracked when the module parameter track_owners is set (every
 * class, now and later) or its caches/<name>/store_user file says so.
 * Tracking takes a reference on each fast path's key (sanitize.h), so the
 * allocations and frees of every class go out of line while any class is
 * tracked, and cost nothing more when none is. The records of a span live
 * in an array hung on the span, made at the first tracked allocation from
 * it and freed with its descriptor; objects allocated before tracking was
 * turned on, and those of a span whose array could not be had (counted),
 * have none. Tiny objects (a 16-byte block is shared) and large objects
 * (above 32 KiB) are not tracked.
 *
 * Records are written by the allocating CPU once the object is its own,
 * and by the freeing CPU before the free is published (goslab_pre_free(),
 * under the free protocol of internal.h), so a record never describes
 * anything but the object's latest owner. Readers (the files, a misuse
 * report) read them racily, as SLUB's do.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sort.h>
#include <linux/stackdepot.h>
#include <linux/stacktrace.h>
#include <linux/vmalloc.h>
#include "internal.h"

#define TRACK_STACK_DEPTH	16

/**
 * struct goslab_track - one allocation or free of an object
 * @addr: the caller of goslab's API (0: not known)
 * @handle: its stack in the stack depot (0: not saved)
 * @when: jiffies then
 * @pid: the task
 * @cpu: the CPU
 */
struct goslab_track {
	unsigned long addr;
	depot_stack_handle_t handle;
	u32 when;
	pid_t pid;
	u16 cpu;
};

/*
 * A span's records: an object's last allocation and last free, and the
 * class's tracking generation when the latest of them was written. A
 * record of an older generation was left by a time of tracking since
 * turned off: the object may have changed owners since, unrecorded, so
 * readers ignore it.
 */
struct goslab_track_obj {
	struct goslab_track alloc;
	struct goslab_track free;
	u32 gen;
	bool live;
};

static bool track_owners;
static DEFINE_MUTEX(track_mutex);
static atomic_long_t track_dropped = ATOMIC_LONG_INIT(0);
/* The caller of a free in progress on this CPU (sanitize.h). */
DEFINE_PER_CPU(unsigned long, goslab_track_free_ip);

static bool track_supported(void)
{
	if (IS_ENABLED(CONFIG_STACKDEPOT))
		return true;
	pr_warn("owner tracking needs CONFIG_STACKDEPOT, which this kernel lacks\n");
	return false;
}

/**
 * goslab_class_set_track() - turn owner tracking of a class on or off
 * @cls: the class (not the tiny one)
 * @on: whether to track
 *
 * Context: process context; sleeps.
 * Return: 0, -EOPNOTSUPP without a stack depot, -EINVAL for the tiny
 * class, or the stack depot's error.
 */
int goslab_class_set_track(struct goslab_class *cls, bool on)
{
	int ret = 0;

	if (cls->tiny)
		return -EINVAL;
	if (on && !track_supported())
		return -EOPNOTSUPP;
	mutex_lock(&track_mutex);
	if (on && !cls->track) {
		ret = stack_depot_init();
		if (!ret) {
			static_branch_inc(&goslab_alloc_hooks);
			static_branch_inc(&goslab_free_hooks);
			/* Records of earlier times of tracking are void. */
			WRITE_ONCE(cls->track_gen, cls->track_gen + 1);
			WRITE_ONCE(cls->track, true);
		}
	} else if (!on && cls->track) {
		WRITE_ONCE(cls->track, false);
		static_branch_dec(&goslab_alloc_hooks);
		static_branch_dec(&goslab_free_hooks);
	}
	mutex_unlock(&track_mutex);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_class_set_track);

/**
 * goslab_track_new_class() - a class was created: tracked if all are
 * @cls: the class
 *
 * Context: process context; goslab_class_mutex held.
 */
void goslab_track_new_class(struct goslab_class *cls)
{
	if (READ_ONCE(track_owners) && !cls->tiny)
		goslab_class_set_track(cls, true);
}

/**
 * goslab_track_class_gone() - a class goes: its references on the keys
 * @cls: the class
 *
 * Context: process context.
 */
void goslab_track_class_gone(struct goslab_class *cls)
{
	goslab_class_set_track(cls, false);
}

static int track_owners_set(const char *val, const struct kernel_param *kp)
{
	struct goslab_class *cls;
	bool on;
	int ret;

	ret = kstrtobool(val, &on);
	if (ret) {
		pr_warn("track_owners: '%s' is not a boolean\n", val);
		return ret;
	}
	if (on && !track_supported())
		return -EOPNOTSUPP;
	WRITE_ONCE(track_owners, on);
	/* At load the classes do not exist yet: each is set as it comes. */
	mutex_lock(&goslab_class_mutex);
	for_each_goslab_class(cls) {
		if (cls->tiny)
			continue;
		ret = goslab_class_set_track(cls, on);
		if (ret)
			break;
	}
	mutex_unlock(&goslab_class_mutex);
	return ret;
}

static const struct kernel_param_ops track_owners_ops = {
	.set = track_owners_set,
	.get = param_get_bool,
};
module_param_cb(track_owners, &track_owners_ops, &track_owners, 0644);
MODULE_PARM_DESC(track_owners,
		 "record the allocation and free stack of every object (all classes)");

static void track_set(struct goslab_track *t, unsigned long addr,
		      bool can_alloc)
{
	unsigned long entries[TRACK_STACK_DEPTH];
	unsigned int n;

	n = stack_trace_save(entries, ARRAY_SIZE(entries), 2);
	t->handle = goslab_stack_depot_save(entries, n, GFP_NOWAIT,
					    can_alloc);
	t->addr = addr;
	t->when = (u32)jiffies;
	t->pid = current->pid;
	t->cpu = raw_smp_processor_id();
}

/* The object's records, or NULL; the span must stay (cpu lock or RCU). */
static struct goslab_track_obj *track_obj_of(const void *p,
					     struct mspan **sp)
{
	struct mspan *s = __mheap_span_of(p);
	struct goslab_track_obj *t;
	unsigned long off;

	if (!s || !s->cls || s->tiny)
		return NULL;
	t = READ_ONCE(s->track);
	if (!t)
		return NULL;
	/* A pointer into the span's tail, past its last slot, has none. */
	off = ((unsigned long)p - s->base) / s->elemsize;
	if (off >= s->nelems)
		return NULL;
	if (sp)
		*sp = s;
	return &t[off];
}

/* Is @t's latest record of @cls's current time of tracking? */
static bool track_current(const struct goslab_track_obj *t,
			  const struct goslab_class *cls)
{
	return READ_ONCE(t->gen) == READ_ONCE(cls->track_gen);
}

/**
 * goslab_track_alloc() - record the allocation of @p
 * @p: the object, now the caller's
 * @gfp: the caller's flags (for the records' array)
 * @ip: the caller of goslab's API, or 0
 *
 * Context: the caller's, no goslab lock held.
 */
void goslab_track_alloc(void *p, gfp_t gfp, unsigned long ip)
{
	struct goslab_track_obj *t, *arr;
	struct mspan *s;

	/* @p is the caller's: its span stays; RCU covers the index read. */
	rcu_read_lock();
	s = __mheap_span_of(p);
	rcu_read_unlock();
	if (!s || !s->cls)
		return;
	if (!READ_ONCE(s->track)) {
		size_t bytes = array_size(s->nelems, sizeof(*arr));

		if (gfpflags_allow_blocking(gfp))
			arr = kvzalloc(bytes, (gfp & (GFP_KERNEL | __GFP_NORETRY |
						     __GFP_RETRY_MAYFAIL)) |
					      __GFP_NOWARN);
		else
			arr = kzalloc(bytes, GFP_NOWAIT | __GFP_NOWARN);
		if (!arr) {
			atomic_long_inc(&track_dropped);
			return;
		}
		if (cmpxchg(&s->track, NULL, arr))
			kvfree(arr);
		else
			/* Reached only through the span, which kmemleak skips. */
			kmemleak_ignore(arr);
	}
	t = &s->track[((unsigned long)p - s->base) / s->elemsize];
	track_set(&t->alloc, ip, true);
	WRITE_ONCE(t->live, true);
	WRITE_ONCE(t->gen, READ_ONCE(s->cls->track_gen));
}

/**
 * goslab_track_free() - record the free of @p, about to be published
 * @p: the object
 *
 * Context: the free protocol's (the cpu lock, or the span's free_lock,
 * a raw spinlock: the stack depot takes no memory here, where the page
 * allocator's locks may not nest; the allocations' saves refill it).
 */
void goslab_track_free(void *p)
{
	struct goslab_track_obj *t;
	struct mspan *s;

	rcu_read_lock();
	t = track_obj_of(p, &s);
	if (t) {
		track_set(&t->free, this_cpu_read(goslab_track_free_ip),
			  false);
		WRITE_ONCE(t->live, false);
		WRITE_ONCE(t->gen, READ_ONCE(s->cls->track_gen));
	}
	rcu_read_unlock();
}

/**
 * goslab_track_release() - a span's descriptor goes: its records too
 * @s: the span, after its grace period
 */
void goslab_track_release(struct mspan *s)
{
	kvfree(s->track);
}

static int track_describe_one(char *buf, size_t size, const char *what,
			      const struct goslab_track *t)
{
	int n;

	if (!t->when && !t->handle)
		return 0;
	n = scnprintf(buf, size, "%s by task %d on cpu %u %u jiffies ago, from ",
		      what, t->pid, t->cpu, (u32)jiffies - t->when);
	if (t->addr)
		n += scnprintf(buf + n, size - n, "%pS:\n", (void *)t->addr);
	else
		n += scnprintf(buf + n, size - n, "<not-available>:\n");
	/* stack_depot_snprint() says what it would have written: clamp. */
	if (t->handle)
		n += min_t(int, stack_depot_snprint(t->handle, buf + n,
						    size - n, 4),
			   size - n - 1);
	else
		n += scnprintf(buf + n, size - n, "    (no stack saved)\n");
	return n;
}

/**
 * goslab_track_describe() - the owners of the object at @p, as text
 * @p: a pointer to or into the object
 * @buf: where to write
 * @size: its size
 *
 * Its allocation, and its last free if it is free now, each with its
 * stack; nothing when it is not tracked.
 *
 * Context: no goslab lock held.
 * Return: the length written.
 */
int goslab_track_describe(const void *p, char *buf, size_t size)
{
	struct goslab_track_obj *t, copy;
	struct mspan *s;
	bool now = false;
	int n;

	rcu_read_lock();
	t = track_obj_of(p, &s);
	if (t) {
		copy = *t;
		now = track_current(t, s->cls);
	}
	rcu_read_unlock();
	if (!t || !now || size < 2)
		return 0;
	buf[0] = '\0';
	n = track_describe_one(buf, size, "allocated", &copy.alloc);
	if (!copy.live && n < size - 1)
		n += track_describe_one(buf + n, size - n, "freed", &copy.free);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_track_describe);

/**
 * goslab_track_report() - after a misuse report, the object's owners
 * @p: the pointer reported
 *
 * Context: no goslab lock held; may allocate (GFP_ATOMIC) or say nothing.
 */
void goslab_track_report(const void *p)
{
	char *buf, *line, *next;

	rcu_read_lock();
	if (!track_obj_of(p, NULL)) {
		rcu_read_unlock();
		return;
	}
	rcu_read_unlock();
	buf = kmalloc(PAGE_SIZE, GFP_ATOMIC | __GFP_NOWARN);
	if (!buf)
		return;
	goslab_track_describe(p, buf, PAGE_SIZE);
	for (line = buf; *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		pr_err("%s\n", line);
	}
	kfree(buf);
}

/* One record as the files collect it. */
struct track_loc {
	unsigned long addr;
	depot_stack_handle_t handle;
	u32 age;
	pid_t pid;
	u16 cpu;
	unsigned int bytes;
};

struct track_collect {
	struct goslab_class *only;	/* NULL: every tracked class */
	bool free;
	struct track_loc *locs;
	unsigned long n, max;
	bool truncated;
	u32 now;
};

/* mheap_walk_spans()'s callback: heap lock held, IRQs off, no locks. */
static void track_collect_span(struct mspan *s, void *arg)
{
	struct track_collect *c = arg;
	struct goslab_track_obj *t = READ_ONCE(s->track);
	unsigned int i;

	if (!t || !s->cls || (c->only && s->cls != c->only) ||
	    !READ_ONCE(s->cls->track))
		return;
	for (i = 0; i < s->nelems; i++) {
		const struct goslab_track *r;

		if (!track_current(&t[i], s->cls) ||
		    (c->free ? t[i].live : !t[i].live))
			continue;
		r = c->free ? &t[i].free : &t[i].alloc;
		if (!r->when && !r->handle)
			continue;
		if (c->n == c->max) {
			c->truncated = true;
			return;
		}
		c->locs[c->n++] = (struct track_loc) {
			.addr = r->addr, .handle = r->handle,
			.age = c->now - r->when, .pid = r->pid,
			.cpu = r->cpu, .bytes = s->elemsize,
		};
	}
}

static int track_loc_cmp(const void *a, const void *b)
{
	const struct track_loc *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->handle != y->handle)
		return x->handle < y->handle ? -1 : 1;
	return 0;
}

/* Collect the records of @only (or every tracked class), sorted. */
static int track_collect(struct track_collect *c)
{
	struct goslab_class_stats st;
	struct goslab_class *cls;
	unsigned long objs = 0;

	rcu_read_lock();
	for_each_goslab_class(cls) {
		if ((c->only && cls != c->only) || !READ_ONCE(cls->track))
			continue;
		goslab_read_class_stats(cls, &st);
		objs += st.spans * cls->nelems;
	}
	rcu_read_unlock();
	c->max = objs + 1024;
	c->locs = vmalloc(array_size(c->max, sizeof(*c->locs)));
	if (!c->locs)
		return -ENOMEM;
	c->now = (u32)jiffies;
	mheap_walk_spans(track_collect_span, c);
	sort(c->locs, c->n, sizeof(*c->locs), track_loc_cmp, NULL);
	return 0;
}

/**
 * goslab_track_show_traces() - SLUB's alloc_traces or free_traces
 * @m: the file
 * @cls: the class
 * @free: free_traces (objects free now, by their last free) rather
 *	than alloc_traces (objects live now, by their allocation)
 *
 * A line per call site and stack, in the order of the call sites'
 * addresses (SLUB sorts by count): the count, the caller,
 * age=min/avg/max jiffies, pid=min-max, cpus=, then the stack.
 *
 * Return: 0 or -ENOMEM.
 */
int goslab_track_show_traces(struct seq_file *m, struct goslab_class *cls,
			     bool free)
{
	struct track_collect c = { .only = cls, .free = free };
	unsigned long i, j;
	int ret;

	if (!READ_ONCE(cls->track)) {
		seq_puts(m, "No data (owner tracking is off: store_user)\n");
		return 0;
	}
	ret = track_collect(&c);
	if (ret)
		return ret;
	if (!c.n)
		seq_puts(m, "No data\n");
	for (i = 0; i < c.n; i = j) {
		u64 sum = 0;
		u32 amin = U32_MAX, amax = 0;
		pid_t pmin = INT_MAX, pmax = 0;
		struct cpumask cpus;
		unsigned long *entries;
		unsigned int nr, k;

		cpumask_clear(&cpus);
		for (j = i; j < c.n && !track_loc_cmp(&c.locs[i], &c.locs[j]);
		     j++) {
			sum += c.locs[j].age;
			amin = min(amin, c.locs[j].age);
			amax = max(amax, c.locs[j].age);
			pmin = min(pmin, c.locs[j].pid);
			pmax = max(pmax, c.locs[j].pid);
			if (c.locs[j].cpu < nr_cpu_ids)
				cpumask_set_cpu(c.locs[j].cpu, &cpus);
		}
		seq_printf(m, "%7lu ", j - i);
		if (c.locs[i].addr)
			seq_printf(m, "%pS", (void *)c.locs[i].addr);
		else
			seq_puts(m, "<not-available>");
		if (amin != amax)
			seq_printf(m, " age=%u/%llu/%u", amin,
				   div_u64(sum, j - i), amax);
		else
			seq_printf(m, " age=%u", amin);
		if (pmin != pmax)
			seq_printf(m, " pid=%d-%d", pmin, pmax);
		else
			seq_printf(m, " pid=%d", pmin);
		if (num_online_cpus() > 1)
			seq_printf(m, " cpus=%*pbl", cpumask_pr_args(&cpus));
		seq_putc(m, '\n');
		if (c.locs[i].handle) {
			nr = stack_depot_fetch(c.locs[i].handle, &entries);
			for (k = 0; k < nr; k++)
				seq_printf(m, "        %pS\n", (void *)entries[k]);
			seq_putc(m, '\n');
		}
	}
	if (c.truncated)
		seq_puts(m, "(more objects than counted when reading began: truncated)\n");
	vfree(c.locs);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_track_show_traces);

struct track_site {
	unsigned long addr;
	unsigned long bytes;
	unsigned long objects;
};

static int track_site_cmp(const void *a, const void *b)
{
	const struct track_site *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/**
 * goslab_track_show_callers() - the callers file: call sites by bytes held
 * @m: the file
 *
 * Like /proc/allocinfo: for each call site of goslab's API, the bytes its
 * live objects hold (their class's size) and how many, the most first,
 * over every tracked class.
 *
 * Return: 0 or -ENOMEM.
 */
int goslab_track_show_callers(struct seq_file *m)
{
	struct track_collect c = { };
	struct track_site *sites;
	unsigned long i, n = 0;
	int ret;

	seq_puts(m, "goslab callers - version: 1.0\n");
	seq_puts(m, "#        <bytes> <objects> <call site>\n");
	ret = track_collect(&c);
	if (ret)
		return ret;
	sites = vmalloc(array_size(c.n + 1, sizeof(*sites)));
	if (!sites) {
		vfree(c.locs);
		return -ENOMEM;
	}
	for (i = 0; i < c.n; i++) {
		if (!n || sites[n - 1].addr != c.locs[i].addr)
			sites[n++] = (struct track_site) {
				.addr = c.locs[i].addr };
		sites[n - 1].bytes += c.locs[i].bytes;
		sites[n - 1].objects++;
	}
	sort(sites, n, sizeof(*sites), track_site_cmp, NULL);
	for (i = 0; i < n; i++) {
		seq_printf(m, "%16lu %9lu ", sites[i].bytes, sites[i].objects);
		if (sites[i].addr)
			seq_printf(m, "%pS\n", (void *)sites[i].addr);
		else
			seq_puts(m, "<not-available>\n");
	}
	if (c.truncated)
		seq_puts(m, "(truncated)\n");
	vfree(sites);
	vfree(c.locs);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goslab_track_show_callers);

/**
 * goslab_track_dropped() - objects left untracked: no records' array
 *
 * Return: the count since load.
 */
unsigned long goslab_track_dropped(void)
{
	return atomic_long_read(&track_dropped);
}
