/* SPDX-License-Identifier: GPL-2.0 */
/*
 * include/kunit/visibility.h came with 6.2; goslab/Kbuild force-includes
 * this in kernels without it (6.1), with the same meaning.
 */
#ifndef _GOSLAB_COMPAT_KUNIT_VISIBILITY_H
#define _GOSLAB_COMPAT_KUNIT_VISIBILITY_H

#include <linux/export.h>

#if IS_ENABLED(CONFIG_KUNIT)
#define VISIBLE_IF_KUNIT
#define EXPORT_SYMBOL_IF_KUNIT(symbol) \
	EXPORT_SYMBOL_NS(symbol, EXPORTED_FOR_KUNIT_TESTING)
#else
#define VISIBLE_IF_KUNIT static
#define EXPORT_SYMBOL_IF_KUNIT(symbol)
#endif

#endif
