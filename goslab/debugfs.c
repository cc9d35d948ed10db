// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs.c - what a person sees of goslab under /sys/kernel/debug/goslab.
 *
 *   slabinfo     SLUB's /proc/slabinfo format, a row per span class
 *   sizeclasses  the class table with live figures
 *   memory       the memory states, their sum, the released counter
 *   sweep        who swept how many pages, who gave how many back
 *   validate     reading it runs every validator and the slow recount
 *   tiny         the tiny allocator: objects, blocks, bytes saved
 *   rcu          goslab_free_rcu(): calls, frees folded, bytes pending
 *   irqsoff      how long goslab kept IRQs off, while measuring is on
 *   caches/<name>/  one value per file, as /sys/kernel/slab/<cache>/,
 *                and per-CPU event counters in SLUB_STATS' form; with
 *                owner tracking (store_user), alloc_traces, free_traces
 *   callers      call sites by bytes held, with owner tracking
 *   control      a command language to drive goslab (control.c)
 *
 * Every file is root only, and none shows a kernel address.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include "internal.h"

static struct dentry *goslab_debugfs_root;
static struct dentry *goslab_debugfs_caches;

static int slabinfo_show(struct seq_file *m, void *unused)
{
	struct goslab_class *cls;

	seq_puts(m, "slabinfo - version: 2.1\n");
	seq_puts(m, "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
	rcu_read_lock();
	for_each_goslab_class(cls) {
		struct goslab_class_stats st;

		goslab_read_class_stats(cls, &st);
		seq_printf(m, "%-17s %6lu %6lu %6u %4u %4lu : tunables %4u %4u %4u : slabdata %6lu %6lu %6u\n",
			   cls->name, st.live, st.spans * cls->nelems,
			   cls->elemsize, cls->nelems,
			   cls->npages * GOSLAB_KPAGES_PER_PAGE, 0, 0, 0,
			   st.spans, st.spans, 0);
	}
	rcu_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(slabinfo);

static int sizeclasses_show(struct seq_file *m, void *unused)
{
	struct goslab_class *cls;

	seq_puts(m, "# class          bytes/obj  kpages/span  objs/span  tail    spans  objects  kpages  util%  waste_bytes\n");
	rcu_read_lock();
	for_each_goslab_class(cls) {
		struct goslab_class_stats st;
		unsigned long span = cls->npages * GOSLAB_PAGE_SIZE;
		unsigned long held, used;

		goslab_read_class_stats(cls, &st);
		held = st.spans * span;
		used = st.live * cls->elemsize;
		seq_printf(m, "%-16s %9u %12lu %10u %5lu %8lu %8lu %7lu %5lu%% %12lu\n",
			   cls->name, cls->elemsize,
			   cls->npages * GOSLAB_KPAGES_PER_PAGE, cls->nelems,
			   span - (unsigned long)cls->nelems * cls->elemsize,
			   st.spans, st.live, st.pages * GOSLAB_KPAGES_PER_PAGE,
			   held ? used * 100 / held : 0, held - used);
	}
	rcu_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sizeclasses);

static int memory_show(struct seq_file *m, void *unused)
{
	struct goslab_memstats fast;
	unsigned int i;

	goslab_read_memstats(&fast);
	for (i = 0; i < GOSLAB_NR_MEM_STATES; i++)
		seq_printf(m, "%-14s %12lu\n", goslab_mem_state_names[i],
			   fast.bytes[i]);
	seq_printf(m, "%-14s %12lu\n", "held", fast.held);
	seq_printf(m, "%-14s %12lu\n", "released", fast.released);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(memory);

static int rcu_show(struct seq_file *m, void *unused)
{
	struct goslab_rcu_stats st;

	goslab_rcu_read_stats(&st);
	seq_printf(m, "%-14s %12lu\n", "calls", st.calls);
	seq_printf(m, "%-14s %12lu\n", "folded", st.folded);
	seq_printf(m, "%-14s %12ld\n", "pending_bytes", st.pending_bytes);
	seq_printf(m, "%-14s %12lu\n", "work_runs", st.work_runs);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(rcu);

/* The module parameters a person may set, with their ranges. */
static int tunables_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	for (i = 0; i < GOSLAB_NR_TUNABLES; i++) {
		const struct goslab_tunable *t = &goslab_tunables[i];

		seq_printf(m, "%-14s %8u  %u..%u  %s\n", t->name,
			   READ_ONCE(*t->value), t->min, t->max, t->unit);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(tunables);

static int sweep_show(struct seq_file *m, void *unused)
{
	struct goslab_sweep_stats st;

	goslab_read_sweep_stats(&st);
	seq_printf(m, "%-26s %12lu\n", "unswept_pages", st.unswept_pages);
	seq_printf(m, "%-26s %12lu\n", "credit_pages_swept",
		   st.credit_pages_swept);
	seq_printf(m, "%-26s %12lu\n", "bg_pages_swept", st.bg_pages_swept);
	seq_printf(m, "%-26s %12lu\n", "bg_kpages_released",
		   st.bg_kpages_released);
	seq_printf(m, "%-26s %12lu\n", "shrinker_kpages_released",
		   st.shrinker_kpages_released);
	seq_printf(m, "%-26s %12lu\n", "reclaimable_kpages",
		   st.reclaimable_kpages);
	seq_printf(m, "%-26s %12lu\n", "oom_calls", st.oom_calls);
	seq_printf(m, "%-26s %12lu\n", "oom_kpages_released",
		   st.oom_kpages_released);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sweep);

/*
 * One line per possible CPU: what it holds for itself (spans in its
 * mcache slots, kernel pages in its pageCache, a tiny block). An offline
 * CPU must show nothing: the hotplug callback gave it all back.
 */
static int cpus_show(struct seq_file *m, void *unused)
{
	int cpu;

	cpus_read_lock();
	for_each_possible_cpu(cpu)
		seq_printf(m, "cpu%-4d %-7s spans %4u pcache_kpages %5lu tiny %u\n",
			   cpu, cpu_online(cpu) ? "online" : "offline",
			   mcache_cached_spans_cpu(cpu),
			   (unsigned long)mheap_pcache_pages_cpu(cpu) *
			   GOSLAB_KPAGES_PER_PAGE,
			   goslab_tiny_held_cpu(cpu));
	cpus_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cpus);

static int tiny_show(struct seq_file *m, void *unused)
{
	struct goslab_class *cls = &goslab_tiny_class;
	unsigned long nalloc, nfree, held;
	struct goslab_class_stats st;
	long live_bytes, class_bytes;

	goslab_tiny_stats(&nalloc, &nfree, &live_bytes, &class_bytes);
	goslab_read_class_stats(cls, &st);
	/* Blocks and the words that track them, per span. */
	held = st.live * cls->elemsize + st.spans * cls->nelems * sizeof(u32);
	seq_printf(m, "allocations    %lu\n", nalloc);
	seq_printf(m, "frees          %lu\n", nfree);
	seq_printf(m, "live_objects   %lu\n", nalloc - nfree);
	seq_printf(m, "blocks_in_use  %lu\n", st.live);
	seq_printf(m, "live_bytes     %ld\n", live_bytes);
	seq_printf(m, "held_bytes     %lu\n", held);
	seq_printf(m, "class_bytes    %ld\n", class_bytes);
	seq_printf(m, "bytes_saved    %ld\n", class_bytes - (long)held);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(tiny);

/*
 * irqsoff: how long goslab kept IRQs off, per kind of section, while
 * measuring was on. Writing 1 starts (anew), 0 stops.
 */
static int irqsoff_show(struct seq_file *m, void *unused)
{
	goslab_irqsoff_show(m);
	return 0;
}

static ssize_t irqsoff_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	bool on;
	int err;

	err = kstrtobool_from_user(ubuf, count, &on);
	if (err)
		return err;
	goslab_irqsoff_set(on);
	return count;
}
DEFINE_SHOW_STORE_ATTRIBUTE(irqsoff);

static int validate_show(struct seq_file *m, void *unused)
{
	int bad = goslab_validate_into(m);

	if (!bad)
		seq_puts(m, "ok\n");
	else
		seq_printf(m, "%d problems\n", bad);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(validate);

/*
 * caches/<name>/: a file per value, as /sys/kernel/slab/<cache>/, under
 * SLUB's name wherever the meaning is SLUB's (a span is a slab), so that
 * tools/mm/slabinfo reads them; goslab's own values keep their names.
 */
enum class_attr {
	ATTR_OBJECT_SIZE, ATTR_SLAB_SIZE, ATTR_OBJS_PER_SLAB, ATTR_ORDER,
	ATTR_SPAN_PAGES, ATTR_ALIGN, ATTR_ALIASES, ATTR_HWCACHE_ALIGN,
	ATTR_RECLAIM_ACCOUNT, ATTR_CACHE_DMA, ATTR_OBJECTS,
	ATTR_OBJECTS_PARTIAL, ATTR_TOTAL_OBJECTS, ATTR_SLABS, ATTR_PARTIAL,
	ATTR_CPU_SLABS, ATTR_UNSWEPT, ATTR_ERRORS, ATTR_ALLOC, ATTR_FREE,
	ATTR_ALLOC_FAST, ATTR_ALLOC_SLOW, ATTR_FREE_FAST, ATTR_FREE_SLOW,
	ATTR_REFILL, ATTR_SWEEP_LOCAL, ATTR_SWEEP, ATTR_ALLOC_SLAB,
	ATTR_GROW_CHURN, ATTR_FREE_SLAB, ATTR_DESTROY_BY_RCU, ATTR_STORE_USER,
	ATTR_ALLOC_TRACES, ATTR_FREE_TRACES, NR_CLASS_ATTRS,
};

/* Each file's name and mode: event counters can be cleared (0600). */
static const struct {
	const char *name;
	umode_t mode;
} class_attrs[NR_CLASS_ATTRS] = {
	[ATTR_OBJECT_SIZE] = { "object_size", 0400 },
	[ATTR_SLAB_SIZE] = { "slab_size", 0400 },
	[ATTR_OBJS_PER_SLAB] = { "objs_per_slab", 0400 },
	[ATTR_ORDER] = { "order", 0400 },
	[ATTR_SPAN_PAGES] = { "span_pages", 0400 },
	[ATTR_ALIGN] = { "align", 0400 },
	[ATTR_ALIASES] = { "aliases", 0400 },
	[ATTR_HWCACHE_ALIGN] = { "hwcache_align", 0400 },
	[ATTR_RECLAIM_ACCOUNT] = { "reclaim_account", 0400 },
	[ATTR_CACHE_DMA] = { "cache_dma", 0400 },
	[ATTR_OBJECTS] = { "objects", 0400 },
	[ATTR_OBJECTS_PARTIAL] = { "objects_partial", 0400 },
	[ATTR_TOTAL_OBJECTS] = { "total_objects", 0400 },
	[ATTR_SLABS] = { "slabs", 0400 },
	[ATTR_PARTIAL] = { "partial", 0400 },
	[ATTR_CPU_SLABS] = { "cpu_slabs", 0400 },
	[ATTR_UNSWEPT] = { "unswept", 0400 },
	[ATTR_ERRORS] = { "errors", 0400 },
	[ATTR_ALLOC] = { "alloc", 0400 },
	[ATTR_FREE] = { "free", 0400 },
	[ATTR_ALLOC_FAST] = { "alloc_fastpath", 0600 },
	[ATTR_ALLOC_SLOW] = { "alloc_slowpath", 0600 },
	[ATTR_FREE_FAST] = { "free_fastpath", 0600 },
	[ATTR_FREE_SLOW] = { "free_slowpath", 0600 },
	[ATTR_REFILL] = { "alloc_refill", 0600 },
	[ATTR_SWEEP_LOCAL] = { "sweep_in_mcache", 0600 },
	[ATTR_SWEEP] = { "sweep", 0600 },
	[ATTR_ALLOC_SLAB] = { "alloc_slab", 0600 },
	[ATTR_GROW_CHURN] = { "grow_churn", 0600 },
	[ATTR_FREE_SLAB] = { "free_slab", 0600 },
	[ATTR_DESTROY_BY_RCU] = { "destroy_by_rcu", 0400 },
	[ATTR_STORE_USER] = { "store_user", 0600 },
	[ATTR_ALLOC_TRACES] = { "alloc_traces", 0400 },
	[ATTR_FREE_TRACES] = { "free_traces", 0400 },
};

struct class_attr_file {
	struct goslab_class *cls;
	enum class_attr attr;
};

/* A class's caches/<name>/: the directory and its files' private data. */
struct class_dir {
	struct dentry *dir;
	struct class_attr_file files[NR_CLASS_ATTRS];
};

static unsigned long list_len(struct goslab_class *cls, struct list_head *h)
{
	unsigned long flags, n = 0;
	struct list_head *pos;

	mcentral_lock_irqsave(&cls->central, flags);
	list_for_each(pos, h)
		n++;
	mcentral_unlock_irqrestore(&cls->central, flags);
	return n;
}

/*
 * SLUB's partial slabs: the class's spans that no CPU caches and that
 * have a free slot, swept or not (an unswept span has received a free).
 * With @objects, the objects live in them instead.
 */
static unsigned long partial_spans(struct goslab_class *cls, bool objects)
{
	struct list_head *lists[] = { &cls->central.partial,
				      &cls->central.partial_unswept,
				      &cls->central.full_unswept };
	unsigned long flags, n = 0;
	struct mspan *s;
	unsigned int i;

	mcentral_lock_irqsave(&cls->central, flags);
	for (i = 0; i < ARRAY_SIZE(lists); i++)
		list_for_each_entry(s, lists[i], list)
			n += objects ? mspan_live(s) : 1;
	mcentral_unlock_irqrestore(&cls->central, flags);
	return n;
}

/* SLUB's cpu_slabs: spans the CPUs cache, as <sum> C<cpu>=<n>. */
static void show_cpu_slabs(struct seq_file *m, struct goslab_class *cls)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(cls->slot, cpu)->span) !=
		       &goslab_emptymspan;
	seq_printf(m, "%lu", sum);
	for_each_possible_cpu(cpu)
		if (READ_ONCE(per_cpu_ptr(cls->slot, cpu)->span) !=
		    &goslab_emptymspan)
			seq_printf(m, " C%d=1", cpu);
	seq_putc(m, '\n');
}

/*
 * Allocations on a CPU: counted when a span leaves its slot, plus its own.
 * The span is that CPU's to give back and release at any time: read it
 * under RCU (descriptors are freed after a grace period).
 */
static unsigned long cpu_allocs(struct goslab_class *cls, int cpu)
{
	struct mcache_slot *slot = per_cpu_ptr(cls->slot, cpu);
	unsigned long v = slot->nmalloc;
	struct mspan *s;

	rcu_read_lock();
	s = READ_ONCE(slot->span);
	/* Racy: a sweep lowers the count before the slot's base. */
	if (s != &goslab_emptymspan)
		v += goslab_span_allocs_since(s, READ_ONCE(slot->alloc_base));
	rcu_read_unlock();
	return v;
}

static unsigned long cpu_event(struct goslab_class *cls, int cpu,
			       enum class_attr attr)
{
	struct mcache_slot *slot = per_cpu_ptr(cls->slot, cpu);

	switch (attr) {
	case ATTR_ALLOC:
		return cpu_allocs(cls, cpu);
	case ATTR_FREE:
		return slot->nfree;
	case ATTR_ALLOC_FAST:
		return cpu_allocs(cls, cpu) - slot->nalloc_slow -
		       slot->alloc_fast_base;
	case ATTR_ALLOC_SLOW:
		return slot->nalloc_slow;
	case ATTR_FREE_FAST:
		return slot->nfree - slot->nfree_remote - slot->free_fast_base;
	case ATTR_FREE_SLOW:
		return slot->nfree_remote;
	case ATTR_REFILL:
		return slot->nrefill;
	default:
		return slot->nsweep;
	}
}

/* SLUB_STATS' form: the sum, then C<cpu>=<n> for CPUs with events. */
static void show_events(struct seq_file *m, struct goslab_class *cls,
			enum class_attr attr)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += cpu_event(cls, cpu, attr);
	seq_printf(m, "%lu", sum);
	for_each_possible_cpu(cpu) {
		unsigned long v = cpu_event(cls, cpu, attr);

		if (v)
			seq_printf(m, " C%d=%lu", cpu, v);
	}
	seq_putc(m, '\n');
}

static int class_attr_show(struct seq_file *m, void *unused)
{
	struct class_attr_file *f = m->private;
	struct goslab_class *cls = f->cls;
	struct goslab_cache *cache = goslab_cache_of_class(cls);
	struct goslab_class_stats st;

	goslab_read_class_stats(cls, &st);
	switch (f->attr) {
	case ATTR_OBJECT_SIZE:
		seq_printf(m, "%u\n", cache ? cache->object_size : cls->elemsize);
		break;
	case ATTR_SLAB_SIZE:
		seq_printf(m, "%u\n", cls->elemsize);
		break;
	case ATTR_OBJS_PER_SLAB:
		seq_printf(m, "%u\n", cls->nelems);
		break;
	case ATTR_ORDER:
		/* Spans of 3, 5, 6, 7 ... pages: the order that holds one. */
		seq_printf(m, "%d\n", order_base_2(cls->npages *
						   GOSLAB_KPAGES_PER_PAGE));
		break;
	case ATTR_SPAN_PAGES:
		seq_printf(m, "%lu\n", cls->npages * GOSLAB_KPAGES_PER_PAGE);
		break;
	case ATTR_ALIGN:
		/* Spans start on pages: an object's address is its offset's. */
		seq_printf(m, "%lu\n", cls->tiny ? 1UL : BIT(__ffs(cls->elemsize)));
		break;
	case ATTR_ALIASES:
	case ATTR_CACHE_DMA:
		seq_puts(m, "0\n");
		break;
	case ATTR_HWCACHE_ALIGN:
		seq_printf(m, "%d\n",
			   !!(cache && (cache->flags & GOSLAB_HWCACHE_ALIGN)));
		break;
	case ATTR_RECLAIM_ACCOUNT:
		seq_printf(m, "%d\n", !!(cls->page_gfp & __GFP_RECLAIMABLE));
		break;
	case ATTR_OBJECTS_PARTIAL:
		seq_printf(m, "%lu\n", partial_spans(cls, true));
		break;
	case ATTR_CPU_SLABS:
		show_cpu_slabs(m, cls);
		break;
	case ATTR_DESTROY_BY_RCU:
		seq_printf(m, "%d\n", cls->typesafe_rcu);
		break;
	case ATTR_STORE_USER:
		seq_printf(m, "%d\n", READ_ONCE(cls->track));
		break;
	case ATTR_ALLOC_TRACES:
	case ATTR_FREE_TRACES:
		return goslab_track_show_traces(m, cls,
						f->attr == ATTR_FREE_TRACES);
	case ATTR_OBJECTS:
		seq_printf(m, "%lu\n", st.live);
		break;
	case ATTR_TOTAL_OBJECTS:
		seq_printf(m, "%lu\n", st.spans * cls->nelems);
		break;
	case ATTR_SLABS:
		seq_printf(m, "%lu\n", st.spans);
		break;
	case ATTR_PARTIAL:
		seq_printf(m, "%lu\n", partial_spans(cls, false));
		break;
	case ATTR_UNSWEPT:
		seq_printf(m, "%lu\n",
			   list_len(cls, &cls->central.partial_unswept) +
			   list_len(cls, &cls->central.full_unswept));
		break;
	case ATTR_ERRORS:
		seq_printf(m, "%lu\n", goslab_error_count(GOSLAB_ERR_FOREIGN) +
			   goslab_error_count(GOSLAB_ERR_INTERIOR) +
			   goslab_error_count(GOSLAB_ERR_DOUBLE_FREE) +
			   goslab_error_count(GOSLAB_ERR_WRONG_CACHE));
		break;
	case ATTR_ALLOC:
	case ATTR_FREE:
	case ATTR_ALLOC_FAST:
	case ATTR_ALLOC_SLOW:
	case ATTR_FREE_FAST:
	case ATTR_FREE_SLOW:
	case ATTR_REFILL:
	case ATTR_SWEEP_LOCAL:
		show_events(m, cls, f->attr);
		break;
	case ATTR_SWEEP:
		seq_printf(m, "%lu\n", READ_ONCE(cls->central.nsweep));
		break;
	case ATTR_ALLOC_SLAB:
		seq_printf(m, "%lu\n", READ_ONCE(cls->central.ngrow));
		break;
	case ATTR_GROW_CHURN:
		seq_printf(m, "%lu\n", READ_ONCE(cls->central.nchurn_grow));
		break;
	case ATTR_FREE_SLAB:
		seq_printf(m, "%lu\n", READ_ONCE(cls->central.nrelease));
		break;
	default:
		break;
	}
	return 0;
}

/* Clear @f's per-CPU event counter on @cpu: its own, or an offline one. */
static void class_attr_clear(struct class_attr_file *f, int cpu)
{
	struct mcache_slot *slot = per_cpu_ptr(f->cls->slot, cpu);
	unsigned long now = cpu_event(f->cls, cpu, f->attr);

	/*
	 * The fast-path counts are derived from the allocation and free
	 * counts, which the live count needs: clearing one moves its base.
	 */
	switch (f->attr) {
	case ATTR_ALLOC_FAST:
		slot->alloc_fast_base += now;
		break;
	case ATTR_FREE_FAST:
		slot->free_fast_base += now;
		break;
	case ATTR_ALLOC_SLOW:
		/* The fast count must not jump by it. */
		slot->alloc_fast_base += now;
		WRITE_ONCE(slot->nalloc_slow, 0);
		break;
	case ATTR_FREE_SLOW:
		slot->free_fast_base += now;
		WRITE_ONCE(slot->nfree_remote, 0);
		break;
	case ATTR_REFILL:
		WRITE_ONCE(slot->nrefill, 0);
		break;
	default:
		WRITE_ONCE(slot->nsweep, 0);
		break;
	}
}

/* goslab_on_each_cpu(): this CPU clears its counter, under its cpu lock. */
static void class_attr_clear_cpu(void *arg)
{
	class_attr_clear(arg, smp_processor_id());
}

/*
 * Writing 0 to an event counter clears it, as with SLUB_STATS. Counts
 * other than these (objects, spans) describe state and cannot be
 * cleared; allocations are not cleared either, since the live count is
 * derived from them.
 */
static ssize_t class_attr_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct class_attr_file *f =
		((struct seq_file *)file->private_data)->private;
	struct goslab_class *cls = f->cls;
	unsigned long flags, v;
	int err, cpu;

	if (f->attr == ATTR_STORE_USER) {
		bool on;

		err = kstrtobool_from_user(ubuf, count, &on);
		if (!err)
			err = goslab_class_set_track(cls, on);
		return err ?: count;
	}
	err = kstrtoul_from_user(ubuf, count, 0, &v);
	if (err)
		return err;
	if (v)
		return -EINVAL;
	switch (f->attr) {
	case ATTR_ALLOC_FAST:
	case ATTR_FREE_FAST:
	case ATTR_ALLOC_SLOW:
	case ATTR_FREE_SLOW:
	case ATTR_REFILL:
	case ATTR_SWEEP_LOCAL:
		/*
		 * Each CPU clears its own slot under its cpu lock, as it
		 * counts: a clear from elsewhere could land between the
		 * owner's load and store of a counter and be undone, or
		 * leave the derived fast count wrapped.
		 */
		cpus_read_lock();
		goslab_on_each_cpu(class_attr_clear_cpu, NULL, f);
		for_each_possible_cpu(cpu)
			if (!cpu_online(cpu))
				class_attr_clear(f, cpu);
		cpus_read_unlock();
		break;
	case ATTR_SWEEP:
	case ATTR_ALLOC_SLAB:
	case ATTR_GROW_CHURN:
	case ATTR_FREE_SLAB:
		mcentral_lock_irqsave(&cls->central, flags);
		if (f->attr == ATTR_SWEEP)
			cls->central.nsweep = 0;
		else if (f->attr == ATTR_ALLOC_SLAB)
			cls->central.ngrow = 0;
		else if (f->attr == ATTR_GROW_CHURN)
			cls->central.nchurn_grow = 0;
		else
			cls->central.nrelease = 0;
		mcentral_unlock_irqrestore(&cls->central, flags);
		break;
	default:
		return -EPERM;
	}
	return count;
}

DEFINE_SHOW_STORE_ATTRIBUTE(class_attr);

/* A class was created: caches/<name>/. Under goslab_class_mutex. */
static void debugfs_add_class(struct goslab_class *cls)
{
	struct class_dir *d;
	unsigned int i;

	if (!goslab_debugfs_caches)
		return;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return;
	d->dir = debugfs_create_dir(cls->name, goslab_debugfs_caches);
	for (i = 0; i < NR_CLASS_ATTRS; i++) {
		d->files[i].cls = cls;
		d->files[i].attr = i;
		debugfs_create_file(class_attrs[i].name, class_attrs[i].mode,
				    d->dir, &d->files[i], &class_attr_fops);
	}
	cls->debugfs = d;
}

/* A class goes. Under goslab_class_mutex. */
static void debugfs_remove_class(struct goslab_class *cls)
{
	struct class_dir *d = cls->debugfs;

	if (!d)
		return;
	debugfs_remove_recursive(d->dir);
	kfree(d);
	cls->debugfs = NULL;
}

static int callers_show(struct seq_file *m, void *unused)
{
	return goslab_track_show_callers(m);
}
DEFINE_SHOW_ATTRIBUTE(callers);

static const struct goslab_class_observer debugfs_class_observer = {
	.add = debugfs_add_class,
	.remove = debugfs_remove_class,
};

static const struct {
	const char *name;
	umode_t mode;
	const struct file_operations *fops;
} debugfs_files[] = {
	{ "slabinfo", 0400, &slabinfo_fops },
	{ "sizeclasses", 0400, &sizeclasses_fops },
	{ "memory", 0400, &memory_fops },
	{ "sweep", 0400, &sweep_fops },
	{ "validate", 0400, &validate_fops },
	{ "tiny", 0400, &tiny_fops },
	{ "rcu", 0400, &rcu_fops },
	{ "tunables", 0400, &tunables_fops },
	{ "cpus", 0400, &cpus_fops },
	{ "irqsoff", 0600, &irqsoff_fops },
	{ "callers", 0400, &callers_fops },
};

/**
 * goslab_debugfs_init() - create /sys/kernel/debug/goslab and its files
 */
void goslab_debugfs_init(void)
{
	unsigned int i;

	goslab_debugfs_root = debugfs_create_dir("goslab", NULL);
	for (i = 0; i < ARRAY_SIZE(debugfs_files); i++)
		debugfs_create_file(debugfs_files[i].name, debugfs_files[i].mode,
				    goslab_debugfs_root, NULL,
				    debugfs_files[i].fops);
	goslab_debugfs_caches = debugfs_create_dir("caches",
						   goslab_debugfs_root);
	goslab_class_observe(&debugfs_class_observer);
	goslab_control_init(goslab_debugfs_root);
}

/**
 * goslab_debugfs_exit() - remove everything under /sys/kernel/debug/goslab
 */
void goslab_debugfs_exit(void)
{
	goslab_control_exit();
	goslab_class_observe(NULL);
	debugfs_remove_recursive(goslab_debugfs_root);
	goslab_debugfs_root = NULL;
	goslab_debugfs_caches = NULL;
}
