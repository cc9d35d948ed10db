// SPDX-License-Identifier: GPL-2.0
/*
 * A module whose load fires a WARN_ON on purpose. make check loads it to
 * prove that a kernel WARNING fails the run even when every test passes.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int harness_warn_value = 1;
module_param(harness_warn_value, int, 0444);

static int __init harness_warn_init(void)
{
	WARN_ON(harness_warn_value);
	return 0;
}

static void __exit harness_warn_exit(void)
{
}

module_init(harness_warn_init);
module_exit(harness_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("goslab harness self-test: a deliberate WARN_ON");
