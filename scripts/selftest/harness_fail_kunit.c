// SPDX-License-Identifier: GPL-2.0
/*
 * A KUnit suite with one passing and one deliberately failing case. make
 * check loads it to prove that a failing case is reported as a failure.
 */
#include <kunit/test.h>
#include <linux/module.h>

static void harness_passing_case(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1 + 1, 2);
}

static void harness_failing_case(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, 1 + 1, 3, "this case fails on purpose");
}

static struct kunit_case harness_cases[] = {
	KUNIT_CASE(harness_passing_case),
	KUNIT_CASE(harness_failing_case),
	{}
};

static struct kunit_suite harness_suite = {
	.name = "goslab_harness_selftest",
	.test_cases = harness_cases,
};

kunit_test_suite(harness_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("goslab harness self-test: a failing KUnit case");
