/* floor.h: the fleet's floor as a pure decision: may this PoP withdraw a
 * service its checks took down, given how many other PoPs announce it?
 * The engine asks before a health-driven withdraw of a service with
 * "floor"; etcd's transaction (fleet/) makes a FLOOR_ASK final. */
#pragma once
#include <stdbool.h>

#include "config.h"

struct floor_in {
        unsigned min_pops;    /* 0: the service has no floor */
        bool health_withdraw; /* the plan withdraws because of health or dampening */
        bool announced;       /* this PoP announces the service now */
        bool fleet_ok;        /* the fleet view is complete and current */
        enum fleet_unreachable on_unreachable;
        unsigned others_announcing; /* other PoPs announcing it, as the view shows */
};

enum floor_verdict {
        FLOOR_PASS, /* not the floor's business (or etcd away, "local"): withdraw */
        FLOOR_ASK,  /* enough others announce: withdraw once etcd's transaction agrees */
        FLOOR_HOLD, /* withdrawing would breach the floor: keep announcing, degraded */
};

enum floor_verdict floor_decide(const struct floor_in *in);
const char *floor_verdict_name(enum floor_verdict v);
