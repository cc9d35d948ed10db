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
 */
#include <linux/goslab.h>
#include <linux/module.h>
#include <linux/slab.h>

#define DEMO_SCRAMBLE	0x5a5a5a5a5a5a5a5aUL

static void **holder;
static unsigned long leaked_scrambled;

static int __init goslab_kmemleak_demo_init(void)
{
	void *buffer = kzalloc(128, GFP_KERNEL);
	void *leaked = goslab_alloc(200, GFP_KERNEL);

	holder = goslab_alloc(64, GFP_KERNEL | __GFP_ZERO);
	if (!buffer || !leaked || !holder) {
		kfree(buffer);
		goslab_free(leaked);
		goslab_free(holder);
		return -ENOMEM;
	}
	memset(leaked, 0, 200);
	holder[0] = buffer;
	leaked_scrambled = (unsigned long)leaked ^ DEMO_SCRAMBLE;
	/* Raw addresses, to be found in kmemleak's report (its format). */
	pr_info("goslab_kmemleak_demo: leaked goslab object %lx, kmalloc buffer %lx held by a goslab object\n",
		(unsigned long)leaked, (unsigned long)buffer);
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
