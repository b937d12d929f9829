/* duration.c: the duration syntax of config keys and plugin options
 * ("500ms", "1.5s"; duration.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "duration.h"

/* Exact arithmetic: the integer part times the unit, plus up to nine
 * fraction digits scaled (below a microsecond is dropped). */
int parse_duration(const char *s, uint64_t *usec)
{
        static const struct {
                const char *name;
                uint64_t usec;
        } units[] = {
            {"us", 1}, {"ms", 1000}, {"s", 1000000}, {"m", 60000000}, {"h", 3600000000},
        };
        uint64_t whole = 0, frac = 0, scale = 1, unit = 0, total;
        const char *c = s;
        bool overflow = false;

        if (!s || *c < '0' || *c > '9')
                return -EINVAL;
        for (; *c >= '0' && *c <= '9'; c++) {
                uint64_t digit = (uint64_t)(*c - '0');
                if (whole > (UINT64_MAX - digit) / 10)
                        overflow = true;
                else
                        whole = whole * 10 + digit;
        }
        if (*c == '.') {
                c++;
                if (*c < '0' || *c > '9')
                        return -EINVAL;
                for (int n = 0; *c >= '0' && *c <= '9'; c++, n++)
                        if (n < 9) {
                                frac = frac * 10 + (uint64_t)(*c - '0');
                                scale *= 10;
                        }
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (strcmp(c, units[i].name) == 0)
                        unit = units[i].usec;
        if (!unit)
                return -EINVAL;
        if (overflow || whole > UINT64_MAX / unit)
                return -ERANGE;
        total = whole * unit;
        /* frac < 1e9 and unit <= 3.6e9: the product fits in 64 bits */
        if (total > UINT64_MAX - frac * unit / scale)
                return -ERANGE;
        *usec = total + frac * unit / scale;
        return 0;
}
