// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_kmemleak_demo: kmemleak must see goslab's objects. At load, a
 * kmalloc() buffer is referenced only from inside a live goslab object
 * (which this module's data points to), and a goslab object is leaked:
 * nothing points to it (the module keeps its address scrambled). After
 * two scans, kmemleak must report the goslab object and not the buffer.
 * make check reads both addresses from the log and checks.
 *
 * The buffer and the holder are zeroed: both are scanned, and stale bytes
 * in them (a freed span descriptor's base, a torture test's table of
 * object addresses) could equal the leaked object's address and hide it.
 * For the same reason the leaked object is the second of three, seldom
 * the first of its span (a span's base is the value goslab's own code
 * handles most), its address never passes through printk whole (stacks
 * are scanned too: insmod's, which a later task may inherit from the
 * stack cache, keeps what the deepest calls left), and the stack the
 * allocation used is scrubbed.
 */
#include <linux/goslab.h>
#include <linux/module.h>
#include <linux/slab.h>

#define DEMO_SCRAMBLE	0x5a5a5a5a5a5a5a5aUL

#define DEMO_OBJECTS	3

static void **holder;
static unsigned long leaked_scrambled;

/* Allocates the object to leak, the second of three, and frees the rest. */
static noinline int demo_leak(void)
{
	void *obj[DEMO_OBJECTS];
	int i;

	for (i = 0; i < DEMO_OBJECTS; i++)
		obj[i] = goslab_alloc(200, GFP_KERNEL | __GFP_ZERO);
	if (obj[0] && obj[1] && obj[2])
		leaked_scrambled = (unsigned long)obj[1] ^ DEMO_SCRAMBLE;
	for (i = 0; i < DEMO_OBJECTS; i++) {
		if (i != 1 || !leaked_scrambled)
			goslab_free(obj[i]);
		obj[i] = NULL;
	}
	barrier_data(obj);
	return leaked_scrambled ? 0 : -ENOMEM;
}

/* Overwrites what demo_leak() and the allocator left on this stack. */
static noinline void demo_scrub_stack(void)
{
	unsigned long junk[128];

	memset(junk, 0, sizeof(junk));
	barrier_data(junk);
}

static int __init goslab_kmemleak_demo_init(void)
{
	void *buffer = kzalloc(128, GFP_KERNEL);

	holder = goslab_alloc(64, GFP_KERNEL | __GFP_ZERO);
	if (!buffer || !holder || demo_leak()) {
		kfree(buffer);
		goslab_free(holder);
		return -ENOMEM;
	}
	demo_scrub_stack();
	holder[0] = buffer;
	/*
	 * Addresses as kmemleak prints them; the leaked one in two halves,
	 * unscrambled apart, so that no stack printk uses holds it whole.
	 */
	pr_info("goslab_kmemleak_demo: leaked goslab object %08lx %08lx, kmalloc buffer %lx held by a goslab object\n",
		(leaked_scrambled >> 32) ^ (DEMO_SCRAMBLE >> 32),
		(leaked_scrambled ^ DEMO_SCRAMBLE) & 0xffffffffUL,
		(unsigned long)buffer);
	return 0;
}

static void __exit goslab_kmemleak_demo_exit(void)
{
	goslab_free((void *)(leaked_scrambled ^ DEMO_SCRAMBLE));
	kfree(holder[0]);
	goslab_free(holder);
}

module_init(goslab_kmemleak_demo_init);
module_exit(goslab_kmemleak_demo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("goslab: a leak kmemleak must find, and a reference it must see");
