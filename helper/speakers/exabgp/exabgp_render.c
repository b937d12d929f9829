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
#include <arpa/inet.h>
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

static bool is_address(const char *s)
{
        unsigned char buf[16];
        return token_ok(s) && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

/* What comes before "announce"/"withdraw", into f: every peer (peers
 * NULL), or peers[0..n) only. API 4 (4.2's reactor/api/command/limit.py,
 * extract_neighbors: the comma is a word of its own):
 *   neighbor 192.0.2.1 , neighbor 192.0.2.5 announce route ...
 * API 6 (dispatch/common.py, _parse_bracket_selector: words too):
 *   peer [ 192.0.2.1 , 192.0.2.5 ] announce route ...
 * -EINVAL for an unknown api, n 0 with peers, or a peer not an address. */
static int put_head(FILE *f, enum exabgp_api api, char *const *peers, size_t n)
{
        if (api != EXABGP_API_4 && api != EXABGP_API_6)
                return -EINVAL;
        if (!peers)
                return fputs(api == EXABGP_API_6 ? "peer * " : "", f) < 0 ? -ENOMEM : 0;
        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!is_address(peers[i]))
                        return -EINVAL;
        if (api == EXABGP_API_6)
                fputs("peer [", f);
        for (size_t i = 0; i < n; i++) {
                if (api == EXABGP_API_6)
                        fprintf(f, "%s %s", i ? " ," : "", peers[i]);
                else
                        fprintf(f, "%sneighbor %s", i ? " , " : "", peers[i]);
        }
        fputs(api == EXABGP_API_6 ? " ] " : " ", f);
        return 0;
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
        *out = NULL;
        if (u->action == ROUTE_ANNOUNCE && u->audience == AUDIENCE_CANARIES) {
                /* never widened to everyone for want of a list */
                if (!u->canary || u->canary->n_neighbors == 0)
                        return -EINVAL;
                return exabgp_render_to(u, u->canary->neighbors, u->canary->n_neighbors, asn, api,
                                        out);
        }
        return exabgp_render_to(u, NULL, 0, asn, api, out);
}

int exabgp_render_to(const struct route_update *u, char *const *peers, size_t n_peers, uint32_t asn,
                     enum exabgp_api api, char **out)
{
        char pfx[PREFIX_STRLEN];
        int r;

        *out = NULL;
        if (!u->prefix || (api != EXABGP_API_4 && api != EXABGP_API_6))
                return -EINVAL;
        r = prefix_format_checked(u->prefix, pfx);
        if (r < 0)
                return r;
        if (u->action != ROUTE_WITHDRAW && (u->action != ROUTE_ANNOUNCE || !u->attrs))
                return -EINVAL;
        const struct attrs *a = u->attrs;
        if (u->action == ROUTE_ANNOUNCE) {
                r = check_attrs(a, asn);
                if (r < 0)
                        return r;
        }

        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        r = put_head(f, api, peers, n_peers);
        if (r < 0) {
                fclose(f);
                free(buf);
                return r;
        }
        if (u->action == ROUTE_WITHDRAW) {
                fprintf(f, "withdraw route %s", pfx);
                goto done;
        }
        fprintf(f, "announce route %s next-hop %s", pfx, a->next_hop ? a->next_hop : "self");
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
done:;
        bool failed = ferror(f);
        if (fclose(f) != 0 || failed) {
                free(buf);
                return -ENOMEM;
        }
        *out = buf;
        return 0;
}
