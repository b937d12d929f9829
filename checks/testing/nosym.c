/* nosym.c (test only): a shared object without the plugin descriptor. */
#include "anycast-healthd-check.h"

AHC_EXPORT int not_a_plugin(void);
int not_a_plugin(void)
{
        return AHC_ABI_VERSION;
}
