/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goslab - Go's runtime memory allocator as a kernel object allocator.
 *
 * goslab_alloc() and goslab_free() are kmalloc()-style: any size up to
 * 4 MiB, objects at least 8-byte aligned, power-of-two sizes naturally
 * aligned up to 8 KiB. Objects up to 32 KiB come from Go's 67 size
 * classes through a per-CPU cache; larger ones get pages of their own.
 *
 * Contexts: allocation works wherever the gfp flags allow (GFP_ATOMIC in
 * hardirq and softirq context) and sleeps only when they allow it; free
 * works in any context but NMI. Misuse (a pointer goslab did not return,
 * a pointer into the middle of an object, a double free) is reported with
 * a rate-limited pr_err naming the caller, counted, and not acted on.
 */
#ifndef _LINUX_GOSLAB_H
#define _LINUX_GOSLAB_H

#include <linux/gfp_types.h>
#include <linux/types.h>

void *goslab_alloc(size_t size, gfp_t gfp);
void goslab_free(const void *p);
size_t goslab_usable_size(const void *p);
void *goslab_realloc(const void *p, size_t new_size, gfp_t gfp);
int goslab_shrink(void);

#endif /* _LINUX_GOSLAB_H */
