// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_example - a module that uses goslab the way a driver would:
 * only <linux/goslab.h>, a typed cache for its own structure, bulk
 * allocation, and kmalloc-style buffers. make check builds it outside
 * goslab's tree and loads it; it prints "goslab_example: ok" when every
 * step worked.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/goslab.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/string.h>

struct example_request {
	struct list_head node;
	u64 id;
	char payload[40];
};

static struct goslab_cache *request_cache;

static int __init goslab_example_init(void)
{
	struct example_request *req, *tmp, *bulk[32];
	unsigned int i, bad = 0;
	LIST_HEAD(pending);
	char *buf;

	request_cache = GOSLAB_CACHE(example_request, GOSLAB_HWCACHE_ALIGN);
	if (!request_cache)
		return -ENOMEM;
	for (i = 0; i < 1000; i++) {
		req = goslab_cache_alloc(request_cache, GFP_KERNEL);
		if (!req)
			goto fail;
		req->id = i;
		snprintf(req->payload, sizeof(req->payload), "request %u", i);
		list_add_tail(&req->node, &pending);
	}
	i = 0;
	list_for_each_entry_safe(req, tmp, &pending, node) {
		bad += req->id != i++;
		list_del(&req->node);
		goslab_cache_free(request_cache, req);
	}
	if (goslab_cache_alloc_bulk(request_cache, GFP_KERNEL,
				    ARRAY_SIZE(bulk), (void **)bulk) !=
	    ARRAY_SIZE(bulk))
		goto fail;
	goslab_cache_free_bulk(request_cache, ARRAY_SIZE(bulk),
			       (void **)bulk);

	buf = goslab_alloc(100, GFP_KERNEL | __GFP_ZERO);
	if (!buf)
		goto fail;
	strscpy(buf, "hello", 100);
	buf = goslab_realloc(buf, 5000, GFP_KERNEL);
	if (!buf)
		goto fail;
	bad += strcmp(buf, "hello") != 0;
	bad += goslab_usable_size(buf) < 5000;
	goslab_free(buf);

	goslab_cache_destroy(request_cache);
	request_cache = NULL;
	pr_info("%s: 1000 requests, 32 in bulk, a realloc'd buffer\n",
		bad ? "FAILED" : "ok");
	return 0;
fail:
	list_for_each_entry_safe(req, tmp, &pending, node)
		goslab_cache_free(request_cache, req);
	goslab_cache_destroy(request_cache);
	pr_err("FAILED: out of memory\n");
	return -ENOMEM;
}

static void __exit goslab_example_exit(void)
{
}

module_init(goslab_example_init);
module_exit(goslab_example_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("An example module using goslab's public interface");
