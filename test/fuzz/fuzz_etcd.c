/* fuzz_etcd.c: every etcd reply parser on any bytes (a member, or whatever
 * answers at its address, controls them), and what a range or watch
 * parses into applied to a fleet view, as fleet.c does. Nothing may crash
 * or leak, a refusal says nothing else, and the view never counts more
 * PoPs announcing a service than it holds entries for it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_codec.h"
#include "fleet_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void apply(struct fleet_view *v, const struct etcd_kv *kv, bool deleted)
{
        char service[FLEET_NAME_MAX];
        int r = fleet_view_apply(v, kv->key, deleted ? NULL : kv->value, kv->mod_revision, service);
        if (r != 1)
                return;
        size_t n = 0;
        fleet_view_service(v, service, &n);
        if (fleet_view_announcing(v, service, NULL) > n)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *body = (const char *)data;
        char *err = NULL;
        int64_t id, ttl;
        struct etcd_header h;
        struct etcd_kv *kvs = NULL;
        size_t n = 0;
        bool ok;

        if (etcd_parse_lease_grant(body, size, &id, &ttl, &err) == 0 && id <= 0)
                abort();
        free(err);
        err = NULL;
        etcd_parse_keepalive(body, size, &ttl, &err);
        free(err);
        err = NULL;
        etcd_parse_put(body, size, &h, &err);
        free(err);
        err = NULL;

        struct fleet_view *v = fleet_view_new("/anycast-healthd/");
        if (!v)
                return 0;
        if (etcd_parse_range(body, size, &h, &kvs, &n, &err) == 0) {
                for (size_t i = 0; i < n; i++)
                        apply(v, &kvs[i], false);
                etcd_kvs_free(kvs, n);
        } else if (kvs || n) {
                abort();
        }
        free(err);
        err = NULL;
        kvs = NULL;
        n = 0;
        if (etcd_parse_txn(body, size, &h, &ok, &kvs, &n, &err) == 0)
                etcd_kvs_free(kvs, n);
        free(err);
        err = NULL;
        struct etcd_watch_msg m;
        if (etcd_parse_watch_msg(body, size, &m, &err) == 0) {
                for (size_t i = 0; i < m.n_events; i++)
                        apply(v, &m.events[i].kv, m.events[i].type == ETCD_EV_DELETE);
                etcd_watch_msg_free(&m);
        }
        free(err);
        fleet_view_free(v);
        return 0;
}
