// SPDX-License-Identifier: GPL-2.0
/*
 * goslab_report: what a caller who misuses goslab reads in the log.
 *
 * Each kind of misuse through each API: the report must name the API the
 * caller called, the caller (never a goslab function) and what was
 * wrong, and be counted as that kind. The console is captured through
 * its tracepoint, as mm/kfence/kfence_test.c does; the rate limit is
 * reset before each report so that no case depends on what came before.
 */
#include <linux/seq_file.h>
#include <linux/tracepoint.h>
#include "goslab_test.h"

#define REPORT_LINE_MAX	256

static struct {
	/* The probe against report_arm(); raw: printk may run atomic. */
	raw_spinlock_t lock;
	bool seen;
	bool owners;	/* a "freed by task" line after it (owner tracking) */
	char line[REPORT_LINE_MAX];
} observed = {
	.lock = __RAW_SPIN_LOCK_UNLOCKED(observed.lock),
};

/* The first goslab report line printed since the last report_expect(). */
static void probe_console(void *ignore, const char *buf, size_t len)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&observed.lock, flags);
	if (!observed.seen && strnstr(buf, "goslab: ", len) &&
	    strnstr(buf, ") from ", len)) {
		strscpy(observed.line, buf, min(len + 1, sizeof(observed.line)));
		observed.seen = true;
	} else if (observed.seen && strnstr(buf, "goslab: freed by task ", len)) {
		observed.owners = true;
	}
	raw_spin_unlock_irqrestore(&observed.lock, flags);
}

static void report_arm(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&observed.lock, flags);
	observed.seen = false;
	observed.owners = false;
	observed.line[0] = '\0';
	raw_spin_unlock_irqrestore(&observed.lock, flags);
	goslab_report_ratelimit_reset();
}

static bool report_seen(void)
{
	return READ_ONCE(observed.seen);
}

/*
 * The report armed before must read "@api(...) from @caller+...: ...@text"
 * and have counted one misuse of kind @err.
 */
static void report_expect(struct kunit *test, const char *api,
			  const char *caller, enum goslab_error err,
			  unsigned long errors_before, const char *text)
{
	char head[64], from[80];

	snprintf(head, sizeof(head), "goslab: %s(", api);
	snprintf(from, sizeof(from), ") from %s+", caller);
	KUNIT_ASSERT_TRUE_MSG(test, report_seen(),
			      "no report for %s", api);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(observed.line, head),
				  "report: %s", observed.line);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(observed.line, from),
				  "report: %s", observed.line);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(observed.line, text),
				  "report: %s", observed.line);
	KUNIT_EXPECT_EQ(test, goslab_error_count(err), errors_before + 1);
}

#define TEXT_FOREIGN	"not memory goslab holds"
#define TEXT_INTERIOR	"points inside an object"
#define TEXT_DOUBLE	"double free"
#define TEXT_WRONG	"belongs to another cache"

static void report_free_double_test(struct kunit *test)
{
	unsigned long before = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	void *p = goslab_alloc(64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	goslab_free(p);
	report_arm();
	goslab_free(p);
	report_expect(test, "goslab_free", __func__, GOSLAB_ERR_DOUBLE_FREE,
		      before, TEXT_DOUBLE);
	goslab_expect_consistent(test);
}

static void report_free_foreign_test(struct kunit *test)
{
	unsigned long before = goslab_error_count(GOSLAB_ERR_FOREIGN);
	void *p = kmalloc(64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	report_arm();
	goslab_free(p);
	report_expect(test, "goslab_free", __func__, GOSLAB_ERR_FOREIGN,
		      before, TEXT_FOREIGN);
	kfree(p);
}

static void report_free_interior_test(struct kunit *test)
{
	unsigned long before = goslab_error_count(GOSLAB_ERR_INTERIOR);
	char *p = goslab_test_alloc(test, 64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	report_arm();
	goslab_free(p + 8);
	report_expect(test, "goslab_free", __func__, GOSLAB_ERR_INTERIOR,
		      before, TEXT_INTERIOR);
	goslab_test_free(test, p);
	goslab_expect_consistent(test);
}

/* A pointer into a tiny object is interior, not a double free. */
static void report_tiny_interior_test(struct kunit *test)
{
	unsigned long before = goslab_error_count(GOSLAB_ERR_INTERIOR);
	unsigned long dbl = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	char *p = goslab_test_hold(test, goslab_alloc_tiny(8, GFP_KERNEL));

	KUNIT_ASSERT_NOT_NULL(test, p);
	report_arm();
	goslab_free(p + 4);
	report_expect(test, "goslab_free", __func__, GOSLAB_ERR_INTERIOR,
		      before, TEXT_INTERIOR);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE), dbl);
	KUNIT_EXPECT_EQ(test, goslab_usable_size(p), 8);
	before = goslab_error_count(GOSLAB_ERR_INTERIOR);
	report_arm();
	KUNIT_EXPECT_EQ(test, goslab_usable_size(p + 7), 0);
	report_expect(test, "goslab_usable_size", __func__,
		      GOSLAB_ERR_INTERIOR, before, TEXT_INTERIOR);
	goslab_test_free(test, p);
	goslab_expect_consistent(test);
}

static void report_tiny_double_test(struct kunit *test)
{
	unsigned long before = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	char *keep = goslab_test_hold(test, goslab_alloc_tiny(4, GFP_KERNEL));
	char *p = goslab_test_hold(test, goslab_alloc_tiny(4, GFP_KERNEL));

	KUNIT_ASSERT_NOT_NULL(test, keep);
	KUNIT_ASSERT_NOT_NULL(test, p);
	goslab_test_free(test, p);
	report_arm();
	/* The double free: p is no longer KUnit's to free. */
	goslab_free(p);
	report_expect(test, "goslab_free", __func__, GOSLAB_ERR_DOUBLE_FREE,
		      before, TEXT_DOUBLE);
	goslab_test_free(test, keep);
	goslab_expect_consistent(test);
}

static void report_cache_wrong_test(struct kunit *test)
{
	unsigned long before = goslab_error_count(GOSLAB_ERR_WRONG_CACHE);
	struct goslab_cache *c = goslab_test_cache_create(test, "report-wrong",
							  64, NULL, 0);
	void *p = goslab_test_alloc(test, 64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, p);
	report_arm();
	goslab_cache_free(c, p);
	report_expect(test, "goslab_cache_free", __func__,
		      GOSLAB_ERR_WRONG_CACHE, before, TEXT_WRONG);
	goslab_test_free(test, p);
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

static void report_cache_bulk_double_test(struct kunit *test)
{
	unsigned long before = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	struct goslab_cache *c = goslab_test_cache_create(test, "report-bulk",
							  32, NULL, 0);
	void *p[4];

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_EQ(test, goslab_cache_alloc_bulk(c, GFP_KERNEL, 4, p), 4);
	goslab_cache_free(c, p[2]);
	report_arm();
	goslab_cache_free_bulk(c, 4, p);
	report_expect(test, "goslab_cache_free_bulk", __func__,
		      GOSLAB_ERR_DOUBLE_FREE, before, TEXT_DOUBLE);
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

/* goslab_realloc(p, 0) frees: a bad @p is reported as goslab_realloc's. */
static void report_realloc_test(struct kunit *test)
{
	unsigned long before = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	void *p = goslab_alloc(100, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	goslab_free(p);
	report_arm();
	KUNIT_EXPECT_PTR_EQ(test, goslab_realloc(p, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	report_expect(test, "goslab_realloc", __func__,
		      GOSLAB_ERR_DOUBLE_FREE, before, TEXT_DOUBLE);
	before = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	report_arm();
	KUNIT_EXPECT_NULL(test, goslab_realloc(p, 500, GFP_KERNEL));
	report_expect(test, "goslab_realloc", __func__,
		      GOSLAB_ERR_DOUBLE_FREE, before, TEXT_DOUBLE);
	goslab_expect_consistent(test);
}

static void report_usable_size_test(struct kunit *test)
{
	unsigned long before = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE) +
			       goslab_error_count(GOSLAB_ERR_FOREIGN);
	void *p = goslab_alloc(40000, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_GE(test, goslab_usable_size(p), 40000);
	goslab_free(p);
	report_arm();
	KUNIT_EXPECT_EQ(test, goslab_usable_size(p), 0);
	/* A large object's pages may be gone: foreign, or a double free. */
	KUNIT_ASSERT_TRUE(test, report_seen());
	KUNIT_EXPECT_NOT_NULL_MSG(test,
				  strstr(observed.line, "goslab_usable_size("),
				  "report: %s", observed.line);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(observed.line, __func__),
				  "report: %s", observed.line);
	KUNIT_EXPECT_EQ(test, goslab_error_count(GOSLAB_ERR_DOUBLE_FREE) +
			goslab_error_count(GOSLAB_ERR_FOREIGN), before + 1);
	goslab_expect_consistent(test);
}

/*
 * The console tracepoint found by name, as kfence_test does: 6.1 does not
 * export it to modules.
 */
static void console_probe_register(struct tracepoint *tp, void *registered)
{
	if (!strcmp(tp->name, "console") &&
	    !tracepoint_probe_register(tp, probe_console, NULL))
		*(bool *)registered = true;
}

static void console_probe_unregister(struct tracepoint *tp, void *unused)
{
	if (!strcmp(tp->name, "console"))
		tracepoint_probe_unregister(tp, probe_console, NULL);
}

static int report_suite_init(struct kunit_suite *suite)
{
	bool registered = false;

	for_each_kernel_tracepoint(console_probe_register, &registered);
	return registered ? 0 : -ENOENT;
}

static void report_suite_exit(struct kunit_suite *suite)
{
	for_each_kernel_tracepoint(console_probe_unregister, NULL);
	tracepoint_synchronize_unregister();
}

/* Call sites of their own: no tail call, so that they are the callers. */
static noinline void *owner_alloc_site(struct goslab_cache *c)
{
	void *p = goslab_cache_alloc(c, GFP_KERNEL);

	OPTIMIZER_HIDE_VAR(p);
	return p;
}

static noinline void owner_free_site(struct goslab_cache *c, void *p)
{
	goslab_cache_free(c, p);
	barrier();
}

/* A file of track.c's into a buffer, as seq_read() would. */
static char *owner_file(struct kunit *test, struct goslab_class *cls,
			int which)
{
	struct seq_file *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->size = 64 * 1024;
	m->buf = kunit_kzalloc(test, m->size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m->buf);
	if (which == 2)
		KUNIT_EXPECT_EQ(test, goslab_track_show_callers(m), 0);
	else
		KUNIT_EXPECT_EQ(test, goslab_track_show_traces(m, cls, which), 0);
	KUNIT_EXPECT_LT(test, m->count, m->size);
	m->buf[min(m->count, m->size - 1)] = '\0';
	return m->buf;
}

/*
 * The objects alloc_traces or free_traces gives @site: the sum of its
 * lines' counts (one line per distinct stack, as SLUB's).
 */
static unsigned long owner_count(const char *text, const char *site)
{
	unsigned long sum = 0, n;
	const char *line;

	for (line = text; *line; line = strchrnul(line, '\n'), line += !!*line) {
		const char *num = line + strspn(line, " "), *end = num;

		for (n = 0; isdigit(*end); end++)
			n = n * 10 + *end - '0';
		if (end != num && !strncmp(end, site, strlen(site)))
			sum += n;
	}
	return sum;
}

/*
 * Owner tracking (store_user): alloc_traces and free_traces name the
 * test's own call sites with their counts, callers the bytes they hold,
 * and a double free's report is followed by the object's allocation and
 * free, with their stacks where the kernel saves them.
 */
static void report_owner_tracking_test(struct kunit *test)
{
	unsigned long before = goslab_error_count(GOSLAB_ERR_DOUBLE_FREE);
	struct goslab_cache *c = goslab_test_cache_create(test, "report-owners",
							  200, NULL, 0);
	struct goslab_class *cls;
	char *text, want[64];
	struct mspan *s;
	void *p[8];
	int i;

	KUNIT_ASSERT_NOT_NULL(test, c);
	cls = goslab_cache_class(c);
	KUNIT_ASSERT_EQ(test, goslab_class_set_track(cls, true), 0);
	for (i = 0; i < 8; i++) {
		p[i] = owner_alloc_site(c);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
	}
	for (i = 0; i < 3; i++)
		owner_free_site(c, p[i]);

	text = owner_file(test, cls, 0);
	kunit_info(test, "alloc_traces:\n%s", text);
	KUNIT_EXPECT_EQ_MSG(test, owner_count(text, " owner_alloc_site+"), 5,
			    "alloc_traces: %s", text);
	text = owner_file(test, cls, 1);
	KUNIT_EXPECT_EQ_MSG(test, owner_count(text, " owner_free_site+"), 3,
			    "free_traces: %s", text);
	text = owner_file(test, cls, 2);
	snprintf(want, sizeof(want), "%16u %9u owner_alloc_site+",
		 5 * cls->elemsize, 5);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(text, want), "callers: %s", text);

	report_arm();
	owner_free_site(c, p[0]);
	report_expect(test, "goslab_cache_free", "owner_free_site",
		      GOSLAB_ERR_DOUBLE_FREE, before, TEXT_DOUBLE);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(observed.owners));
	text = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, text);
	goslab_track_describe(p[0], text, PAGE_SIZE);
	kunit_info(test, "the double free's owners:\n%s", text);
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, "allocated by task"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, "from owner_alloc_site+"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, "freed by task"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, "from owner_free_site+"));
	/* A pointer past the span's last slot: no record, no report. */
	s = mheap_span_of(p[3]);
	KUNIT_ASSERT_NOT_NULL(test, s);
	if (s->nelems * s->elemsize < s->npages * GOSLAB_PAGE_SIZE)
		KUNIT_EXPECT_EQ(test, goslab_track_describe((void *)(s->base +
				s->nelems * s->elemsize), text, PAGE_SIZE), 0);

	/*
	 * Tracking off, the objects change hands unrecorded, on again: the
	 * records left from before describe nothing now.
	 */
	KUNIT_EXPECT_EQ(test, goslab_class_set_track(cls, false), 0);
	for (i = 3; i < 8; i++)
		owner_free_site(c, p[i]);
	for (i = 3; i < 8; i++) {
		p[i] = goslab_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
	}
	KUNIT_EXPECT_EQ(test, goslab_class_set_track(cls, true), 0);
	KUNIT_EXPECT_EQ(test, goslab_track_describe(p[3], text, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, goslab_track_describe(p[0], text, PAGE_SIZE), 0);
	text = owner_file(test, cls, 0);
	KUNIT_EXPECT_EQ_MSG(test, owner_count(text, " owner_alloc_site+"), 0,
			    "alloc_traces after off and on: %s", text);
	text = owner_file(test, cls, 1);
	KUNIT_EXPECT_EQ_MSG(test, owner_count(text, " owner_free_site+"), 0,
			    "free_traces after off and on: %s", text);
	for (i = 3; i < 8; i++)
		goslab_cache_free(c, p[i]);
	KUNIT_EXPECT_EQ(test, goslab_class_set_track(cls, false), 0);
	goslab_test_cache_destroy(test, c);
	goslab_expect_consistent(test);
}

static struct kunit_case report_cases[] = {
	KUNIT_CASE(report_free_double_test),
	KUNIT_CASE(report_free_foreign_test),
	KUNIT_CASE(report_free_interior_test),
	KUNIT_CASE(report_tiny_interior_test),
	KUNIT_CASE(report_tiny_double_test),
	KUNIT_CASE(report_cache_wrong_test),
	KUNIT_CASE(report_cache_bulk_double_test),
	KUNIT_CASE(report_realloc_test),
	KUNIT_CASE(report_usable_size_test),
	KUNIT_CASE(report_owner_tracking_test),
	{}
};

static struct kunit_suite report_suite = {
	.name = "goslab_report",
	.suite_init = report_suite_init,
	.suite_exit = report_suite_exit,
	.test_cases = report_cases,
};

kunit_test_suite(report_suite);

MODULE_DESCRIPTION("KUnit tests for the text of goslab's misuse reports");
