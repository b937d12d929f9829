/* check_result.c: see check_result.h. */
#include <stdbool.h>

#include "anycast-healthd-check.h"
#include "check_result.h"

static const struct {
        const char *name, *label;
} names[] = {
    [AHC_OK] = {"ok", "OK"},
    [AHC_WARNING] = {"warning", "WARNING"},
    [AHC_CRITICAL] = {"critical", "CRITICAL"},
    [AHC_UNKNOWN] = {"unknown", "UNKNOWN"},
};

static bool known(int r)
{
        return r >= AHC_OK && r <= AHC_UNKNOWN;
}

const char *check_result_name(int result)
{
        return known(result) ? names[result].name : "none";
}

const char *check_result_label(int result)
{
        return known(result) ? names[result].label : "INVALID";
}
