// SPDX-License-Identifier: GPL-2.0
/*
 * control.c - /sys/kernel/debug/goslab/control: drive goslab from a shell.
 *
 * Each write(2) is one command (a trailing newline is optional); reading
 * shows the last command's result and the help. Objects the commands
 * allocate are held in a handle table this driver owns, filled with a
 * pattern that is checked before they are freed; unloading goslab frees
 * whatever is still held and destroys the caches made here.
 *
 *   create <name> <size> [align] [typesafe]
 *                                  a typed cache (typesafe:
 *                                  GOSLAB_TYPESAFE_BY_RCU)
 *   destroy <name>                 a cache made here (frees its objects)
 *   alloc <cache> <n>              n objects from a cache made here
 *   kmalloc <size> <n>             n goslab_alloc(size) objects
 *   tiny <size> <n>                n goslab_alloc_tiny(size), size < 16
 *   free <n>|all                   the last n objects held, or all
 *   free_rcu <n>|all               the same with goslab_free_rcu()
 *   rcu_barrier                    goslab_rcu_barrier()
 *   shrink                         goslab_shrink()
 *   churn <ops> <live> <seed>      random sizes and lifetimes, checked
 *   validate                       every validator and the slow recount
 *
 * Limits: a command is at most CONTROL_MAX_CMD bytes (-E2BIG); at most
 * CONTROL_MAX_HELD objects are held (-E2BIG), CONTROL_MAX_CACHES caches.
 * Anything else malformed (unknown verb or cache, bad or out-of-range
 * numbers, control characters, NULs) is -EINVAL and changes nothing; an
 * allocation that fails midway frees what it took and is -ENOMEM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/mutex.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include "internal.h"

#define CONTROL_MAX_CMD		256
#define CONTROL_MAX_HELD	65536
#define CONTROL_MAX_CACHES	16
#define CONTROL_MAX_OPS		10000000
#define CONTROL_MAX_ARGS	5

struct held {
	void *p;
	struct goslab_cache *c;	/* NULL: goslab_alloc() */
	u32 size;
	u8 tag;
};

struct ctl_cache {
	struct goslab_cache *c;
	char name[32];
	unsigned int size;
};

static struct {
	struct mutex lock;	/* everything here */
	struct held *held;
	unsigned long nheld;
	struct ctl_cache caches[CONTROL_MAX_CACHES];
	char result[256];
	struct rnd_state rand;
} ctl = { .lock = __MUTEX_INITIALIZER(ctl.lock) };

static const char control_help[] =
	"commands (one per write):\n"
	"  create <name> <size> [align] [typesafe]\n"
	"  destroy <name>\n"
	"  alloc <cache> <n>\n"
	"  kmalloc <size> <n>\n"
	"  tiny <size> <n>\n"
	"  free <n>|all\n"
	"  free_rcu <n>|all\n"
	"  rcu_barrier\n"
	"  shrink\n"
	"  churn <ops> <live> <seed>\n"
	"  validate\n";

static u32 ctl_rand(void)
{
	return prandom_u32_state(&ctl.rand);
}

static struct ctl_cache *find_cache(const char *name)
{
	unsigned int i;

	for (i = 0; i < CONTROL_MAX_CACHES; i++)
		if (ctl.caches[i].c && !strcmp(ctl.caches[i].name, name))
			return &ctl.caches[i];
	return NULL;
}

static int parse_uint(const char *s, unsigned int min, unsigned int max,
		      unsigned int *v)
{
	if (kstrtouint(s, 10, v) || *v < min || *v > max)
		return -EINVAL;
	return 0;
}

/*
 * Free the held object at @i, after a grace period if @rcu; returns
 * whether its pattern was intact.
 */
static bool free_held(unsigned long i, bool rcu)
{
	struct held *h = &ctl.held[i];
	bool ok = !memchr_inv(h->p, h->tag, h->size);

	if (rcu)
		goslab_free_rcu(h->p);
	else if (h->c)
		goslab_cache_free(h->c, h->p);
	else
		goslab_free(h->p);
	h->p = NULL;
	return ok;
}

static unsigned long free_last(unsigned long n, unsigned long *corrupt,
			       bool rcu)
{
	unsigned long done = 0;

	while (n-- && ctl.nheld) {
		if (!free_held(--ctl.nheld, rcu))
			(*corrupt)++;
		done++;
	}
	return done;
}

static int ensure_table(void)
{
	if (ctl.held)
		return 0;
	ctl.held = vzalloc(CONTROL_MAX_HELD * sizeof(*ctl.held));
	return ctl.held ? 0 : -ENOMEM;
}

/* n objects from @c, else goslab_alloc(), or goslab_alloc_tiny() if @tiny */
static int hold_new(struct goslab_cache *c, unsigned int size,
		    unsigned int n, bool tiny)
{
	unsigned long start = ctl.nheld, corrupt = 0, i;
	int ret = ensure_table();

	if (ret)
		return ret;
	if (n > CONTROL_MAX_HELD - ctl.nheld)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		struct held *h = &ctl.held[ctl.nheld];

		if (c)
			h->p = goslab_cache_alloc(c, GFP_KERNEL);
		else if (tiny)
			h->p = goslab_alloc_tiny(size, GFP_KERNEL);
		else
			h->p = goslab_alloc(size, GFP_KERNEL);
		if (!h->p) {
			free_last(ctl.nheld - start, &corrupt, false);
			return -ENOMEM;
		}
		h->c = c;
		h->size = size;
		h->tag = (u8)ctl_rand();
		memset(h->p, h->tag, size);
		ctl.nheld++;
	}
	return 0;
}

static int cmd_create(char **argv, int argc)
{
	struct goslab_cache_args args = {};
	unsigned int size, align = 0, flags = 0, i;
	struct ctl_cache *slot = NULL;

	if (argc > 3 && !strcmp(argv[argc - 1], "typesafe")) {
		flags = GOSLAB_TYPESAFE_BY_RCU;
		argc--;
	}
	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(slot->name) ||
	    parse_uint(argv[2], 1, GOSLAB_MAX_SMALL_SIZE, &size) ||
	    (argc == 4 && parse_uint(argv[3], 1, GOSLAB_PAGE_SIZE, &align)))
		return -EINVAL;
	if (find_cache(argv[1]))
		return -EINVAL;
	for (i = 0; i < CONTROL_MAX_CACHES && !slot; i++)
		if (!ctl.caches[i].c)
			slot = &ctl.caches[i];
	if (!slot)
		return -E2BIG;
	args.align = align;
	slot->c = goslab_cache_create(argv[1], size, &args, flags);
	if (!slot->c)
		return -EINVAL;
	strscpy(slot->name, argv[1], sizeof(slot->name));
	slot->size = size;
	snprintf(ctl.result, sizeof(ctl.result), "created %s: %u bytes%s",
		 argv[1], size, flags ? ", type-safe by RCU" : "");
	return 0;
}

/* Drop a cache made here, freeing the objects held from it first. */
static void destroy_cache(struct ctl_cache *cc)
{
	unsigned long i, j = 0;

	for (i = 0; i < ctl.nheld; i++) {
		if (ctl.held[i].c == cc->c)
			free_held(i, false);
		else
			ctl.held[j++] = ctl.held[i];
	}
	ctl.nheld = j;
	goslab_cache_destroy(cc->c);
	cc->c = NULL;
}

static int cmd_destroy(char **argv, int argc)
{
	struct ctl_cache *cc = argc == 2 ? find_cache(argv[1]) : NULL;

	if (!cc)
		return -EINVAL;
	destroy_cache(cc);
	snprintf(ctl.result, sizeof(ctl.result), "destroyed %s", argv[1]);
	return 0;
}

static int cmd_alloc(char **argv, int argc)
{
	struct ctl_cache *cc = argc == 3 ? find_cache(argv[1]) : NULL;
	unsigned int n;
	int ret;

	if (!cc || parse_uint(argv[2], 1, UINT_MAX, &n))
		return -EINVAL;
	ret = hold_new(cc->c, cc->size, n, false);
	if (!ret)
		snprintf(ctl.result, sizeof(ctl.result),
			 "allocated %u from %s; %lu held", n, argv[1],
			 ctl.nheld);
	return ret;
}

/* kmalloc <size> <n> (goslab_alloc()), or tiny <size> <n> if @tiny */
static int cmd_kmalloc(char **argv, int argc, bool tiny)
{
	unsigned int max = tiny ? GOSLAB_TINY_SIZE - 1 : GOSLAB_MAX_LARGE_SIZE;
	unsigned int size, n;
	int ret;

	if (argc != 3 || parse_uint(argv[1], 1, max, &size) ||
	    parse_uint(argv[2], 1, UINT_MAX, &n))
		return -EINVAL;
	ret = hold_new(NULL, size, n, tiny);
	if (!ret)
		snprintf(ctl.result, sizeof(ctl.result),
			 "allocated %u%s of %u bytes; %lu held", n,
			 tiny ? " tiny" : "", size, ctl.nheld);
	return ret;
}

static int cmd_free(char **argv, int argc, bool rcu)
{
	unsigned long corrupt = 0, done;
	unsigned int n;

	if (argc != 2)
		return -EINVAL;
	if (!strcmp(argv[1], "all"))
		n = UINT_MAX;
	else if (parse_uint(argv[1], 1, UINT_MAX, &n))
		return -EINVAL;
	done = ctl.held ? free_last(n, &corrupt, rcu) : 0;
	snprintf(ctl.result, sizeof(ctl.result),
		 "freed %lu%s (%lu corrupted); %lu held", done,
		 rcu ? " after a grace period" : "", corrupt, ctl.nheld);
	return 0;
}

static int cmd_churn(char **argv, int argc)
{
	unsigned int ops, live, seed, i;
	unsigned long corrupt = 0, start;
	int ret;

	if (argc != 4 || parse_uint(argv[1], 1, CONTROL_MAX_OPS, &ops) ||
	    parse_uint(argv[2], 1, CONTROL_MAX_HELD, &live) ||
	    parse_uint(argv[3], 0, UINT_MAX, &seed))
		return -EINVAL;
	ret = ensure_table();
	if (ret)
		return ret;
	if (live > CONTROL_MAX_HELD - ctl.nheld)
		return -E2BIG;
	prandom_seed_state(&ctl.rand, seed);
	start = ctl.nheld;
	for (i = 0; i < ops; i++) {
		unsigned long k;

		/* Grow towards the live target, then replace at random. */
		if (ctl.nheld - start < live && (ctl_rand() & 1)) {
			ret = hold_new(NULL, 1 + ctl_rand() % 4096, 1, false);
			if (ret)
				break;
			continue;
		}
		if (ctl.nheld == start)
			continue;
		k = start + ctl_rand() % (ctl.nheld - start);
		if (!free_held(k, false))
			corrupt++;
		ctl.held[k] = ctl.held[--ctl.nheld];
		if (i % 4096 == 0)
			cond_resched();
	}
	free_last(ctl.nheld - start, &corrupt, false);
	if (ret)
		return ret;
	snprintf(ctl.result, sizeof(ctl.result),
		 "churn: %u ops, up to %u live, seed %u: %lu corrupted",
		 ops, live, seed, corrupt);
	return corrupt ? -EIO : 0;
}

static int run_command(char *cmd)
{
	char *argv[CONTROL_MAX_ARGS + 1], *tok;
	int argc = 0;

	while ((tok = strsep(&cmd, " \t")) != NULL) {
		if (!*tok)
			continue;
		if (argc == CONTROL_MAX_ARGS)
			return -EINVAL;
		argv[argc++] = tok;
	}
	if (!argc)
		return -EINVAL;
	if (!strcmp(argv[0], "create"))
		return cmd_create(argv, argc);
	if (!strcmp(argv[0], "destroy"))
		return cmd_destroy(argv, argc);
	if (!strcmp(argv[0], "alloc"))
		return cmd_alloc(argv, argc);
	if (!strcmp(argv[0], "kmalloc"))
		return cmd_kmalloc(argv, argc, false);
	if (!strcmp(argv[0], "tiny"))
		return cmd_kmalloc(argv, argc, true);
	if (!strcmp(argv[0], "free"))
		return cmd_free(argv, argc, false);
	if (!strcmp(argv[0], "free_rcu"))
		return cmd_free(argv, argc, true);
	if (!strcmp(argv[0], "churn"))
		return cmd_churn(argv, argc);
	if (argc != 1)
		return -EINVAL;
	if (!strcmp(argv[0], "shrink")) {
		snprintf(ctl.result, sizeof(ctl.result),
			 "shrink: %d kernel pages given back", goslab_shrink());
		return 0;
	}
	if (!strcmp(argv[0], "rcu_barrier")) {
		goslab_rcu_barrier();
		snprintf(ctl.result, sizeof(ctl.result),
			 "rcu_barrier: %ld bytes still pending",
			 atomic_long_read(&goslab_rcu_pending_bytes));
		return 0;
	}
	if (!strcmp(argv[0], "validate")) {
		int bad = goslab_validate();

		snprintf(ctl.result, sizeof(ctl.result),
			 bad ? "validate: %d problems (see the kernel log)" :
			 "validate: ok", bad);
		return bad ? -EIO : 0;
	}
	return -EINVAL;
}

static ssize_t control_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	char buf[CONTROL_MAX_CMD + 1];
	size_t len = count, i;
	int ret;

	if (count > CONTROL_MAX_CMD)
		return -E2BIG;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	for (i = 0; i < len; i++)
		if (!isprint(buf[i]) && buf[i] != '\t')
			return -EINVAL;
	mutex_lock(&ctl.lock);
	ret = run_command(buf);
	if (ret && ret != -EIO)
		snprintf(ctl.result, sizeof(ctl.result),
			 "refused (%d): nothing changed", ret);
	mutex_unlock(&ctl.lock);
	return ret ?: count;
}

static ssize_t control_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	ssize_t ret;
	int len;

	if (!buf)
		return -ENOMEM;
	mutex_lock(&ctl.lock);
	len = scnprintf(buf, PAGE_SIZE, "last: %s\nheld: %lu objects\n%s",
			ctl.result[0] ? ctl.result : "(none)", ctl.nheld,
			control_help);
	mutex_unlock(&ctl.lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, buf, len);
	kfree(buf);
	return ret;
}

static const struct file_operations control_fops = {
	.owner = THIS_MODULE,
	.read = control_read,
	.write = control_write,
	.llseek = default_llseek,
};

/**
 * goslab_control_init() - create the control file
 * @dir: /sys/kernel/debug/goslab
 */
void goslab_control_init(struct dentry *dir)
{
	prandom_seed_state(&ctl.rand, 1);
	debugfs_create_file("control", 0600, dir, NULL, &control_fops);
}

/**
 * goslab_control_exit() - free everything the control file holds
 *
 * Called at unload, after the file is gone.
 */
void goslab_control_exit(void)
{
	unsigned long corrupt = 0;
	unsigned int i;

	mutex_lock(&ctl.lock);
	if (ctl.held)
		free_last(ctl.nheld, &corrupt, false);
	for (i = 0; i < CONTROL_MAX_CACHES; i++)
		if (ctl.caches[i].c)
			destroy_cache(&ctl.caches[i]);
	vfree(ctl.held);
	ctl.held = NULL;
	mutex_unlock(&ctl.lock);
}
