/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - goslab's tracepoints: the events perf, trace-cmd and bpftrace
 * see as goslab:*.
 *
 * goslab_alloc, goslab_free, goslab_cache_alloc and goslab_cache_free
 * carry the fields of kmem:kmalloc, kmem:kfree, kmem:kmem_cache_alloc and
 * kmem:kmem_cache_free, so that a script written for SLUB's events reads
 * goslab's by changing the event's name. node is always NUMA_NO_NODE
 * (-1): goslab takes no node to allocate on. The other events are the
 * allocator's own work: a refill, the heap growing, a sweep, a scavenge,
 * a shrinker scan, a run of the background work, the OOM notifier.
 *
 * Disabled, an event costs a jump label's no-op on the hot path; kernels
 * without CONFIG_TRACEPOINTS compile them out. The events are defined in
 * trace.c (layer 0): their code calls nothing of goslab's.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM goslab

#if !defined(_GOSLAB_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GOSLAB_TRACE_H

#include <linux/numa.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <trace/events/mmflags.h>
#include "compat.h"

/* sanitize.c: an event's first probe turns the fast paths' key on. */
int goslab_trace_alloc_reg(void);
void goslab_trace_alloc_unreg(void);
int goslab_trace_free_reg(void);
void goslab_trace_free_unreg(void);

DECLARE_EVENT_CLASS(goslab_alloc_class,

	TP_PROTO(unsigned long call_site, const void *ptr, size_t bytes_req,
		 size_t bytes_alloc, gfp_t gfp_flags),

	TP_ARGS(call_site, ptr, bytes_req, bytes_alloc, gfp_flags),

	TP_STRUCT__entry(
		__field(unsigned long,	call_site)
		__field(const void *,	ptr)
		__field(size_t,		bytes_req)
		__field(size_t,		bytes_alloc)
		__field(unsigned long,	gfp_flags)
		__field(int,		node)
	),

	TP_fast_assign(
		__entry->call_site	= call_site;
		__entry->ptr		= ptr;
		__entry->bytes_req	= bytes_req;
		__entry->bytes_alloc	= bytes_alloc;
		__entry->gfp_flags	= (__force unsigned long)gfp_flags;
		__entry->node		= NUMA_NO_NODE;
	),

	TP_printk("call_site=%pS ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d",
		  (void *)__entry->call_site, __entry->ptr,
		  __entry->bytes_req, __entry->bytes_alloc,
		  show_gfp_flags(__entry->gfp_flags), __entry->node)
);

/* goslab_alloc(), goslab_alloc_tiny() and goslab_realloc(): kmem:kmalloc. */
DEFINE_EVENT_FN(goslab_alloc_class, goslab_alloc,

	TP_PROTO(unsigned long call_site, const void *ptr, size_t bytes_req,
		 size_t bytes_alloc, gfp_t gfp_flags),

	TP_ARGS(call_site, ptr, bytes_req, bytes_alloc, gfp_flags),

	goslab_trace_alloc_reg, goslab_trace_alloc_unreg
);

/* goslab_cache_alloc(): kmem:kmem_cache_alloc, with the cache's name. */
TRACE_EVENT_FN(goslab_cache_alloc,

	TP_PROTO(unsigned long call_site, const void *ptr, const char *name,
		 size_t bytes_req, size_t bytes_alloc, gfp_t gfp_flags),

	TP_ARGS(call_site, ptr, name, bytes_req, bytes_alloc, gfp_flags),

	TP_STRUCT__entry(
		__field(unsigned long,	call_site)
		__field(const void *,	ptr)
		__string(name,		name)
		__field(size_t,		bytes_req)
		__field(size_t,		bytes_alloc)
		__field(unsigned long,	gfp_flags)
		__field(int,		node)
	),

	TP_fast_assign(
		__entry->call_site	= call_site;
		__entry->ptr		= ptr;
		goslab_assign_str(name, name);
		__entry->bytes_req	= bytes_req;
		__entry->bytes_alloc	= bytes_alloc;
		__entry->gfp_flags	= (__force unsigned long)gfp_flags;
		__entry->node		= NUMA_NO_NODE;
	),

	TP_printk("call_site=%pS ptr=%p name=%s bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d",
		  (void *)__entry->call_site, __entry->ptr, __get_str(name),
		  __entry->bytes_req, __entry->bytes_alloc,
		  show_gfp_flags(__entry->gfp_flags), __entry->node),

	goslab_trace_alloc_reg, goslab_trace_alloc_unreg
);

/* goslab_free(): kmem:kfree. */
TRACE_EVENT_FN(goslab_free,

	TP_PROTO(unsigned long call_site, const void *ptr),

	TP_ARGS(call_site, ptr),

	TP_STRUCT__entry(
		__field(unsigned long,	call_site)
		__field(const void *,	ptr)
	),

	TP_fast_assign(
		__entry->call_site	= call_site;
		__entry->ptr		= ptr;
	),

	TP_printk("call_site=%pS ptr=%p",
		  (void *)__entry->call_site, __entry->ptr),

	goslab_trace_free_reg, goslab_trace_free_unreg
);

/* goslab_cache_free(): kmem:kmem_cache_free. */
TRACE_EVENT_FN(goslab_cache_free,

	TP_PROTO(unsigned long call_site, const void *ptr, const char *name),

	TP_ARGS(call_site, ptr, name),

	TP_STRUCT__entry(
		__field(unsigned long,	call_site)
		__field(const void *,	ptr)
		__string(name,		name)
	),

	TP_fast_assign(
		__entry->call_site	= call_site;
		__entry->ptr		= ptr;
		goslab_assign_str(name, name);
	),

	TP_printk("call_site=%pS ptr=%p name=%s",
		  (void *)__entry->call_site, __entry->ptr, __get_str(name)),

	goslab_trace_free_reg, goslab_trace_free_unreg
);

/* A CPU's span of a class ran out and was replaced. */
TRACE_EVENT(goslab_refill,

	TP_PROTO(const char *name, unsigned long span, unsigned int nfree,
		 unsigned int nelems),

	TP_ARGS(name, span, nfree, nelems),

	TP_STRUCT__entry(
		__string(name,		name)
		__field(unsigned long,	span)
		__field(unsigned int,	nfree)
		__field(unsigned int,	nelems)
	),

	TP_fast_assign(
		goslab_assign_str(name, name);
		__entry->span		= span;
		__entry->nfree		= nfree;
		__entry->nelems		= nelems;
	),

	TP_printk("class=%s span=%p free=%u/%u", __get_str(name),
		  (void *)__entry->span, __entry->nfree, __entry->nelems)
);

/* The heap took a chunk from the page allocator. */
TRACE_EVENT(goslab_heap_grow,

	TP_PROTO(unsigned long base, unsigned int order, int node, gfp_t gfp),

	TP_ARGS(base, order, node, gfp),

	TP_STRUCT__entry(
		__field(unsigned long,	base)
		__field(unsigned int,	order)
		__field(int,		node)
		__field(unsigned long,	gfp_flags)
	),

	TP_fast_assign(
		__entry->base		= base;
		__entry->order		= order;
		__entry->node		= node;
		__entry->gfp_flags	= (__force unsigned long)gfp;
	),

	TP_printk("base=%p kpages=%lu node=%d gfp_flags=%s",
		  (void *)__entry->base, 1UL << __entry->order, __entry->node,
		  show_gfp_flags(__entry->gfp_flags))
);

/* A span swept: the frees it collected, and whether it is now empty. */
TRACE_EVENT(goslab_sweep,

	TP_PROTO(const char *name, unsigned long span, unsigned int npages,
		 unsigned int freed, unsigned int live),

	TP_ARGS(name, span, npages, freed, live),

	TP_STRUCT__entry(
		__string(name,		name)
		__field(unsigned long,	span)
		__field(unsigned int,	npages)
		__field(unsigned int,	freed)
		__field(unsigned int,	live)
	),

	TP_fast_assign(
		goslab_assign_str(name, name);
		__entry->span		= span;
		__entry->npages		= npages;
		__entry->freed		= freed;
		__entry->live		= live;
	),

	TP_printk("class=%s span=%p pages=%u freed=%u live=%u",
		  __get_str(name), (void *)__entry->span, __entry->npages,
		  __entry->freed, __entry->live)
);

/* Free heap pages given back to the page allocator. */
TRACE_EVENT(goslab_scavenge,

	TP_PROTO(unsigned long caller, unsigned long max_pages,
		 unsigned long kpages),

	TP_ARGS(caller, max_pages, kpages),

	TP_STRUCT__entry(
		__field(unsigned long,	caller)
		__field(unsigned long,	max_pages)
		__field(unsigned long,	kpages)
	),

	TP_fast_assign(
		__entry->caller		= caller;
		__entry->max_pages	= max_pages;
		__entry->kpages		= kpages;
	),

	TP_printk("caller=%pS max_pages=%lu kpages_returned=%lu",
		  (void *)__entry->caller, __entry->max_pages, __entry->kpages)
);

/* The shrinker's scan: what reclaim asked for, what it got. */
TRACE_EVENT(goslab_shrinker_scan,

	TP_PROTO(unsigned long nr_to_scan, unsigned long spans_swept,
		 unsigned long kpages),

	TP_ARGS(nr_to_scan, spans_swept, kpages),

	TP_STRUCT__entry(
		__field(unsigned long,	nr_to_scan)
		__field(unsigned long,	spans_swept)
		__field(unsigned long,	kpages)
	),

	TP_fast_assign(
		__entry->nr_to_scan	= nr_to_scan;
		__entry->spans_swept	= spans_swept;
		__entry->kpages		= kpages;
	),

	TP_printk("nr_to_scan=%lu spans_swept=%lu kpages_returned=%lu",
		  __entry->nr_to_scan, __entry->spans_swept, __entry->kpages)
);

/* A run of the background work (sweeper and scavenger). */
TRACE_EVENT(goslab_bg_work,

	TP_PROTO(unsigned long pages_swept, unsigned long kpages,
		 bool requeued),

	TP_ARGS(pages_swept, kpages, requeued),

	TP_STRUCT__entry(
		__field(unsigned long,	pages_swept)
		__field(unsigned long,	kpages)
		__field(bool,		requeued)
	),

	TP_fast_assign(
		__entry->pages_swept	= pages_swept;
		__entry->kpages		= kpages;
		__entry->requeued	= requeued;
	),

	TP_printk("pages_swept=%lu kpages_returned=%lu requeued=%d",
		  __entry->pages_swept, __entry->kpages, __entry->requeued)
);

/* The OOM notifier's last-chance shrink. */
TRACE_EVENT(goslab_oom,

	TP_PROTO(unsigned long pages_swept, unsigned long kpages,
		 unsigned long held),

	TP_ARGS(pages_swept, kpages, held),

	TP_STRUCT__entry(
		__field(unsigned long,	pages_swept)
		__field(unsigned long,	kpages)
		__field(unsigned long,	held)
	),

	TP_fast_assign(
		__entry->pages_swept	= pages_swept;
		__entry->kpages		= kpages;
		__entry->held		= held;
	),

	TP_printk("pages_swept=%lu kpages_returned=%lu bytes_held=%lu",
		  __entry->pages_swept, __entry->kpages, __entry->held)
);

#endif /* _GOSLAB_TRACE_H */

/* Outside the guard: define_trace.h reads this file again. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
