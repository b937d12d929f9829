/* misnamed.c (test only): its descriptor names another plugin. */
#include "anycast-healthd-check.h"

static int create(const struct ahc_host *h, struct ahc_opts *o, void **i)
{
        return -1;
}
static int probe(void *i, struct ahc_probe *p)
{
        return -1;
}
static void destroy(void *i)
{
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "other",
    .create = create,
    .probe = probe,
    .destroy = destroy,
};
