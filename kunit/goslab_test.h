/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by goslab's KUnit suites. The suites reach the layers
 * through the GOSLAB_INTERNAL namespace and end every scenario with
 * goslab_expect_consistent(): every validator and the slow recount.
 */
#ifndef _GOSLAB_TEST_H
#define _GOSLAB_TEST_H

#include <kunit/test.h>
#include <linux/module.h>
#include "internal.h"

MODULE_IMPORT_NS(GOSLAB_INTERNAL);
MODULE_LICENSE("GPL");

static inline void goslab_expect_consistent(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, goslab_validate(), 0,
			    "goslab's validators or slow recount disagree (see the kernel log)");
}

/*
 * Suite init/exit that keep the background sweeper and scavenger from
 * changing goslab under a test that counts pages or looks at span states.
 */
static inline int goslab_test_pause_bg(struct kunit *test)
{
	goslab_bg_pause();
	return 0;
}

static inline void goslab_test_resume_bg(struct kunit *test)
{
	goslab_bg_resume();
}

/* A cheap deterministic generator, so failures reproduce. */
static inline u32 goslab_test_rand(u32 *state)
{
	*state = *state * 1664525 + 1013904223;
	return *state >> 8;
}

#endif /* _GOSLAB_TEST_H */
