/* exabgp_render.c: turns a desired route into an ExaBGP API command, in
 * the 4.x syntax (also ExaBGP 5.0's) or ExaBGP 6's. The two differ only in
 * the head of the line: 6 names the peers first ("peer * announce ...",
 * "peer * withdraw ..."); the route and its attributes are the same words,
 * as ExaBGP 6 hands what follows "route" in either syntax to the same
 * parser (reactor/api/dispatch/v4.py and v6.py both end in
 * command/announce.py's announce_route/withdraw_route). So everything
 * below holds for both.
 *
 * AS path: ExaBGP adds our AS itself only when a route has no as-path at
 * all (Attributes.pack(): the default AS_PATH is [local_as] on eBGP, empty
 * on iBGP). An as-path given in the command is sent exactly as given. So
 * without prepending we send no as-path and the upstream sees our AS once;
 * with prepend N we send our asn N+1 times, and the upstream again sees it
 * N+1 times in total. cfg->asn must therefore be the local-as of ExaBGP's
 * sessions.
 *
 * The next-hop is always written ("self" by default): ExaBGP 4.2 and 5.0
 * drop an IPv4 announce without one, yet still answer "done" (6 answers
 * "error"). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exabgp_render.h"
#include "prefix.h"

/* The tokens we pass through come from validated config, but a space, a
 * bracket or a newline in one would change or inject commands: refuse
 * anything but the characters numbers, addresses and names are made of. */
static bool token_ok(const char *s)
{
        if (!s || !*s)
                return false;
        for (; *s; s++) {
                char c = *s;
                bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                          (c >= 'A' && c <= 'Z') || c == ':' || c == '.' || c == '-' || c == '_';
                if (!ok)
                        return false;
        }
        return true;
}

static void put_list(FILE *f, const char *keyword, char **items, size_t n)
{
        if (n == 0)
                return;
        fprintf(f, " %s [", keyword);
        for (size_t i = 0; i < n; i++)
                fprintf(f, " %s", items[i]);
        fputs(" ]", f);
}

static int check_attrs(const struct attrs *a, uint32_t asn)
{
        if (a->next_hop && !token_ok(a->next_hop))
                return -EINVAL;
        for (size_t i = 0; i < a->n_communities; i++)
                if (!token_ok(a->communities[i]))
                        return -EINVAL;
        for (size_t i = 0; i < a->n_large_communities; i++)
                if (!token_ok(a->large_communities[i]))
                        return -EINVAL;
        if (a->prepend > 0 && asn == 0)
                return -EINVAL;
        return 0;
}

/* What comes before "announce"/"withdraw"; NULL for an unknown api. */
static const char *head(enum exabgp_api api)
{
        switch (api) {
        case EXABGP_API_4:
                return "";
        case EXABGP_API_6:
                return "peer * ";
        }
        return NULL;
}

const char *exabgp_session_start(enum exabgp_api api, bool ack)
{
        /* ExaBGP 6 reads its acks per process (the process block's "ack",
         * else exabgp.api.ack) and lets the process change them: saying
         * so makes exabgp.ack the one setting that counts. "silence"
         * rather than "disable", which answers itself with "done". */
        if (api == EXABGP_API_6)
                return ack ? "session ack enable" : "session ack silence";
        return NULL;
}

int exabgp_render(const struct route_update *u, uint32_t asn, enum exabgp_api api, char **out)
{
        char pfx[PREFIX_STRLEN];
        int r;

        *out = NULL;
        const char *h = head(api);
        if (!u->prefix || !h)
                return -EINVAL;
        r = prefix_format_checked(u->prefix, pfx);
        if (r < 0)
                return r;

        if (u->action == ROUTE_WITHDRAW) {
                if (asprintf(out, "%swithdraw route %s", h, pfx) < 0) {
                        *out = NULL;
                        return -ENOMEM;
                }
                return 0;
        }
        if (u->action != ROUTE_ANNOUNCE || !u->attrs)
                return -EINVAL;

        const struct attrs *a = u->attrs;
        r = check_attrs(a, asn);
        if (r < 0)
                return r;

        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%sannounce route %s next-hop %s", h, pfx, a->next_hop ? a->next_hop : "self");
        if (a->med >= 0)
                fprintf(f, " med %lld", (long long)a->med);
        if (a->prepend > 0) {
                fputs(" as-path [", f);
                for (unsigned i = 0; i <= a->prepend; i++)
                        fprintf(f, " %lu", (unsigned long)asn);
                fputs(" ]", f);
        }
        put_list(f, "community", a->communities, a->n_communities);
        put_list(f, "large-community", a->large_communities, a->n_large_communities);
        bool failed = ferror(f);
        if (fclose(f) != 0 || failed) {
                free(buf);
                return -ENOMEM;
        }
        *out = buf;
        return 0;
}
