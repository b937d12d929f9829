/* frr_rib.c: bgpd's listing of our routes (frr_rib.h). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

#include "frr_rib.h"

void frr_rib_query(int family, uint32_t asn, char *buf, size_t size)
{
        snprintf(buf, size, "show bgp %s unicast regexp ^(%" PRIu32 "_)*$ json",
                 family == AF_INET ? "ipv4" : "ipv6", asn);
}

int frr_rib_collect(const char *text, size_t len, struct reconcile_set *out)
{
        json_error_t err;
        json_t *root = json_loadb(text, len, 0, &err);
        if (!root)
                return -EBADMSG;
        json_t *routes = json_object_get(root, "routes");
        int r = json_is_object(routes) ? 0 : -EBADMSG;
        const char *key;
        json_t *paths;
        json_object_foreach(routes, key, paths)
        {
                struct prefix p;
                const char *why;
                if (r < 0 || prefix_parse(key, &p, &why) < 0 || !json_is_array(paths))
                        continue;
                size_t i;
                json_t *path;
                bool valid = false;
                json_array_foreach(paths, i, path) valid |=
                    json_is_true(json_object_get(path, "valid"));
                if (valid && reconcile_set_add(out, &p) < 0)
                        r = -ENOMEM;
        }
        json_decref(root);
        return r;
}
