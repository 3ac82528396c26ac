/* platform.h for the unit tests: the one type of the platform contract tcp uses. */
#ifndef PLATFORM_H
#define PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t plat_time_t; /* nanoseconds */

#endif
