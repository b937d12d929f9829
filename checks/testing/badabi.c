/* badabi.c (test only): claims ABI version 7; the loader must refuse it. */
#include "anycast-healthd-check.h"

static int never(void)
{
        return -1;
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = 7,
    .size = sizeof(struct ahc_plugin),
    .name = "badabi",
    .create = (void *)never,
    .probe = (void *)never,
    .destroy = (void *)never,
};
