/* check_result.h: the names of a check's result codes (AHC_OK ..
 * AHC_UNKNOWN of the plugin ABI), from one table: lower case where they
 * are values (status, metrics labels), upper case where people read them
 * (logs, --probe). */
#pragma once

/* "ok", "warning", "critical", "unknown"; "none" for anything else (no
 * result yet). */
const char *check_result_name(int result);
/* "OK", "WARNING", "CRITICAL", "UNKNOWN"; "INVALID" for anything else. */
const char *check_result_label(int result);
