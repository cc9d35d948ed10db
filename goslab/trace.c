// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c - the definitions of goslab's tracepoints (trace.h): one
 * object holds them, and the layers that fire them call down to it.
 */
#define CREATE_TRACE_POINTS
#include "trace.h"
