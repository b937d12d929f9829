/* test_config.c: config_load against the corpus in config-corpus/: each bad
 * case must report its exact message at its exact line:column; the good
 * case must load with the values and defaults README.md promises. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bird_config.h"
#include "frr_config.h"
#include "exabgp_config.h"
#include "speakers.h"
#include "ahd-build-config.h"
#include "config.h"
#include "config_internal.h"
#include "duration.h"
#include "jsonpos.h"

static char *corpus_path(const char *rel)
{
        const char *src = getenv("AHD_SOURCE_DIR");
        char *p;

        ck_assert_msg(src, "AHD_SOURCE_DIR not set");
        ck_assert_int_ge(asprintf(&p, "%s/test/unit/config-corpus/%s", src, rel), 0);
        return p;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Asserts a message in d containing fragment, in a file ending in file, at line:column. */
static void expect(const struct diag *d, const char *file, int line, int column,
                   const char *fragment)
{
        for (size_t i = 0; i < d->n; i++) {
                const struct diag_msg *m = &d->msgs[i];
                if (strstr(m->text, fragment) && ends_with(m->file, file)) {
                        ck_assert_msg(m->line == line && m->column == column,
                                      "\"%s\" at %d:%d, expected %d:%d", m->text, m->line,
                                      m->column, line, column);
                        return;
                }
        }
        diag_print(d, stderr);
        ck_abort_msg("no message \"%s\" for %s", fragment, file);
}

static const struct bad_case {
        const char *dir;
        const char *file; /* "" for the daemon file, else services.d/NAME */
        int line, column;
        const char *fragment;
} bad_cases[] = {
    {"daemon-unknown-key", "", 3, 3, "unknown key \"servces_dir\" in daemon file"},
    {"bird-unknown-key", "", 5, 5, "unknown key \"sockte\" in \"bird\""},
    {"bird-coalesce-too-long", "", 4, 5, "\"coalesce\" (10s) must be at most 5s"},
    {"frr-unknown-key", "", 5, 5, "unknown key \"vtysh\" in \"frr\""},
    {"frr-coalesce-too-long", "", 4, 5, "\"coalesce\" (6s) must be at most 5s"},
    {"frr-asn-zero", "", 3, 12, "\"asn\" must be at least 1, not 0"},
    {"frr-on-exit-bad", "", 5, 5, "\"on_exit\" must be \"withdraw\" or \"keep\", not \"linger\""},
    {"exabgp-watchdog-too-short", "", 4, 5,
     "\"watchdog\" (500ms) must be \"0\" (off) or between 1s and 1h"},
    {"reconcile-interval-too-short", "", 4, 5,
     "\"interval\" (500ms) must be \"0\" (off) or between 1s and 1h"},
    {"reconcile-stuck-after-zero", "", 5, 5, "\"stuck_after\" (0s) must be between 1s and 1h"},
    {"reconcile-unknown-key", "", 4, 5, "unknown key \"intervall\" in \"reconcile\""},
    /* 5.0 speaks API 4: no third number for it */
    {"exabgp-api-5", "", 4, 18, "\"api\" (5) must be 4 (ExaBGP 4.x and 5.0) or 6 (ExaBGP 6)"},
    {"exabgp-api-string", "", 3, 15, "\"api\" must be an integer, not a string"},
    {"control-unknown-key", "", 4, 5, "unknown key \"sokcet\" in \"control\""},
    {"control-group-bad-type", "", 3, 16, "\"group\" must be a string, not an integer"},
    {"metrics-bad-listen", "", 4, 5,
     "\"listen\" \"127.0.0.1:99999\": port must be a number from 0 to 65535"},
    {"metrics-listen-hostname", "", 3, 16,
     "\"listen\" \"localhost:9273\": not an IPv4 address (IPv6 goes in brackets; no host names)"},
    {"metrics-unknown-key", "", 3, 16, "unknown key \"port\" in \"metrics\""},
    {"service-unknown-key", "dns.json", 3, 3, "unknown key \"disabled_file\" in service"},
    {"check-unknown-key", "dns.json", 4, 24, "unknown key \"intervall\" in check"},
    {"announce-unknown-key", "dns.json", 4, 37, "unknown key \"local_pref\" in \"announce\""},
    {"duplicate-key", "dns.json", 6, 12,
     "key given twice in one object (duplicate object key near '\"rise\"')"},
    {"wrong-type-rise", "dns.json", 4, 24, "\"rise\" must be an integer, not a string"},
    {"wrong-type-daemon", "", 3, 15, "\"ack\" must be a boolean (true or false), not a string"},
    {"wrong-type-prefixes", "dns.json", 2, 3, "\"prefixes\" must be an array, not a string"},
    {"duration-no-unit", "dns.json", 4, 24, "\"interval\": bad duration \"2\""},
    {"duration-garbage", "dns.json", 4, 24, "\"timeout\": bad duration \"fast\""},
    {"duration-number", "dns.json", 4, 24,
     "\"interval\" must be a string with a unit like \"2s\", not an integer"},
    {"interval-zero", "dns.json", 4, 24, "\"interval\" must be greater than 0"},
    {"prefix-host-bits", "dns.json", 4, 16, "prefix \"203.0.113.1/24\": host bits set"},
    {"prefix-v4-len33", "dns.json", 4, 16, "prefix \"203.0.113.0/33\": prefix length out of range"},
    {"prefix-v6-len129", "dns.json", 4, 16,
     "prefix \"2001:db8::/129\": prefix length out of range"},
    {"prefix-not-address", "dns.json", 4, 16,
     "prefix \"dns.example/32\": not an IPv4 or IPv6 address"},
    {"prefix-no-length", "dns.json", 4, 16, "prefix \"203.0.113.7\": missing prefix length"},
    {"prefix-outside", "dns.json", 4, 16, "prefix 198.51.100.1/32 is outside allowed_prefixes"},
    {"prefix-outside-v6", "dns.json", 4, 16, "prefix 2001:db9::1/128 is outside allowed_prefixes"},
    {"prefix-twice-in-service", "dns.json", 4, 16, "prefix 203.0.113.53/32 is listed twice"},
    {"prefix-two-services", "b-web.json", 3, 35,
     "prefix 203.0.113.53/32 is already used by service \"dns\" ("},
    {"name-two-services", "b.json", 4, 5, "service name \"dns\" is already used by "},
    {"rise-zero", "dns.json", 4, 24, "\"rise\" must be at least 1, not 0"},
    {"fall-zero", "dns.json", 4, 35, "\"fall\" must be at least 1, not 0"},
    {"timeout-above-interval", "dns.json", 4, 42,
     "\"timeout\" (2s) must be below \"interval\" (1s)"},
    {"timeout-equal-interval", "dns.json", 4, 46,
     "\"timeout\" (1.5s) must be below \"interval\" (1500ms)"},
    {"timeout-default-interval", "dns.json", 4, 24,
     "\"timeout\" (1s) must be below \"interval\" (500ms)"},
    {"community-bad", "dns.json", 6, 21, "\"communities\": bad community \"65536:1\""},
    {"community-garbage", "dns.json", 5, 21, "\"communities\": bad community \"no-export\""},
    {"large-community-bad", "dns.json", 5, 27,
     "\"large_communities\": bad large community \"65001:0:4294967296\""},
    {"med-negative", "dns.json", 5, 5, "\"med\" must be at least 0, not -1"},
    {"prepend-too-many", "dns.json", 5, 5, "\"prepend\" must be at most 10, not 11"},
    {"next-hop-bad", "dns.json", 5, 5,
     "\"next_hop\" must be \"self\" or an IP address, not \"router1\""},
    {"prepend-without-asn", "dns.json", 6, 5, "\"prepend\" (2) needs \"asn\""},
    {"combine-too-many", "dns.json", 4, 3,
     "\"combine\" (3) must be at most the number of checks (2)"},
    {"combine-bad-word", "dns.json", 4, 3,
     "\"combine\" must be \"all\", \"any\" or a number, not \"most\""},
    {"json-syntax", "dns.json", 4, 1, "invalid JSON: string or '}' expected near '}'"},
    {"json-syntax-daemon", "", 3, 7, "invalid JSON: '}' expected near '\"pop\"'"},
    /* jansson counts characters, not bytes: "é" is one column */
    {"service-syntax-unicode", "dns.json", 2, 58, "invalid JSON: '}' expected near '\"checks\"'"},
    {"missing-services-dir", "", 3, 3, "/missing-services-dir/no-such-dir\": No such file"},
    {"missing-default-services-dir", "", 1, 1,
     "/missing-default-services-dir/services.d\": No such file"},
    {"allowed-missing", "", 1, 1, "missing required key \"allowed_prefixes\""},
    {"allowed-empty", "", 2, 3, "\"allowed_prefixes\" must not be empty"},
    {"plugin-path", "dns.json", 4, 7,
     "\"plugin\" \"../../tmp/evil\" must be a name of letters, digits, \"_\" and \"-\""},
    {"plugin-missing", "dns.json", 4, 5, "missing required key \"plugin\" in check"},
    {"options-not-object", "dns.json", 4, 24, "\"options\" must be an object, not an array"},
    {"checks-empty", "dns.json", 3, 3, "\"checks\" must not be empty"},
    {"checks-missing", "dns.json", 1, 1, "missing required key \"checks\""},
    {"prefixes-empty", "dns.json", 2, 3, "\"prefixes\" must not be empty"},
    {"on-disabled-bad", "dns.json", 4, 3,
     "\"on_disabled\" must be \"withdraw\" or \"keep\", not \"drain\""},
    {"asn-out-of-range", "", 3, 3, "\"asn\" must be at most 4294967295, not 4294967296"},
    {"backend-bad", "", 3, 3, "\"backend\" must be \"exabgp\", \"bird\" or \"frr\", not \"gobgp\""},
    {"root-not-object", "dns.json", 1, 1, "the file must hold a JSON object, not an array"},
    {"degraded-unknown-key", "dns.json", 4, 29, "unknown key \"local_pref\" in \"degraded\""},
    {"capacity-not-bool", "dns.json", 4, 35,
     "\"capacity\" must be a boolean (true or false), not a string"},
    {"capacity-only", "dns.json", 3, 34, "every check is a capacity check"},
    {"drain-time-zero", "dns.json", 4, 14, "\"time\" (0s) must be above 0 and at most 1h"},
    {"dampening-reuse-above-suppress", "dns.json", 4, 3,
     "\"reuse\" (1500) must be below \"suppress\" (1000)"},
    {"hooks-relative-command", "dns.json", 4, 28,
     "\"on_change\" command \"notify.sh\" must be an absolute path"},
    {"state-file-empty", "", 4, 3, "\"state_file\" must not be empty"},
    {"canary-bad-neighbor", "dns.json", 4, 42, "\"upstream-a\" is not an IPv4 or IPv6 address"},
    {"canary-no-neighbors", "dns.json", 4, 3,
     "\"canary\" needs \"neighbors\": the addresses of the BGP neighbours that hear an announce "
     "first"},
    {"canary-time-short", "dns.json", 5, 15, "\"time\" (500ms) must be between 1s and 24h"},
    {"canary-dup", "dns.json", 4, 44, "neighbour 2001:db8::1 is listed twice"},
};

START_TEST(test_bad_case)
{
        const struct bad_case *bc = &bad_cases[_i];
        char rel[256], file[256];
        struct diag d = {0};
        struct config *c = (struct config *)0x1;

        snprintf(rel, sizeof(rel), "%s/anycast-healthd.json", bc->dir);
        if (bc->file[0])
                snprintf(file, sizeof(file), "/%s/services.d/%s", bc->dir, bc->file);
        else
                snprintf(file, sizeof(file), "/%s/anycast-healthd.json", bc->dir);
        char *path = corpus_path(rel);
        ck_assert_int_eq(config_load(path, &c, &d), -EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_uint_ge(d.n, 1);
        expect(&d, file, bc->line, bc->column, bc->fragment);
        free(path);
        diag_free(&d);
}
END_TEST

START_TEST(test_every_corpus_dir_has_a_case)
{
        /* a corpus directory nobody asserts on would be dead weight */
        char *root = corpus_path("");
        char *cmd;
        ck_assert_int_ge(asprintf(&cmd, "ls '%s'", root), 0);
        FILE *ls = popen(cmd, "r");
        char line[256];
        size_t n = 0;
        while (fgets(line, sizeof(line), ls)) {
                line[strcspn(line, "\n")] = '\0';
                bool found = strcmp(line, "good") == 0 || strcmp(line, "many-problems") == 0;
                for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
                        found = found || strcmp(bad_cases[i].dir, line) == 0;
                ck_assert_msg(found, "corpus dir %s has no expectation", line);
                n++;
        }
        ck_assert_int_eq(pclose(ls), 0);
        ck_assert_uint_eq(n, sizeof(bad_cases) / sizeof(bad_cases[0]) + 2);
        free(cmd);
        free(root);
}
END_TEST

START_TEST(test_many_problems_all_reported)
{
        struct diag d = {0};
        struct config *c = NULL;
        char *path = corpus_path("many-problems/anycast-healthd.json");

        ck_assert_int_eq(config_load(path, &c, &d), -EINVAL);
        ck_assert_ptr_null(c);
        expect(&d, "/anycast-healthd.json", 3, 3, "unknown key \"colour\" in daemon file");
        expect(&d, "/anycast-healthd.json", 4, 13,
               "\"on_exit\" must be \"withdraw\" or \"keep\", not \"linger\"");
        expect(&d, "/a.json", 3, 16, "prefix \"203.0.113.1/24\": host bits set");
        expect(&d, "/a.json", 3, 34, "prefix 198.51.100.0/24 is outside allowed_prefixes");
        expect(&d, "/a.json", 4, 34, "\"rise\" must be at least 1, not 0");
        expect(&d, "/a.json", 4, 45, "\"fall\" must be at least 1, not 0");
        expect(&d, "/a.json", 4, 74, "\"timeout\" (1s) must be below \"interval\" (1s)");
        expect(&d, "/b.json", 2, 3, "service name \"a\" is already used by ");
        expect(&d, "/b.json", 4, 34, "unknown key \"colour\" in check");
        expect(&d, "/b.json", 5, 33, "bad community \"1:2:3\"");
        expect(&d, "/b.json", 5, 43, "\"prepend\" (1) needs \"asn\"");
        ck_assert_uint_eq(d.n, 11);
        free(path);
        diag_free(&d);
}
END_TEST

static void assert_prefix(const struct prefix *p, const char *text)
{
        char buf[PREFIX_STRLEN];
        prefix_format(p, buf);
        ck_assert_str_eq(buf, text);
}

START_TEST(test_good_config)
{
        struct diag d = {0};
        struct config *c = NULL;
        char *path = corpus_path("good/conf/anycast-healthd.json");
        char *dir = corpus_path("good/conf");
        char *expect_path;

        ck_assert_int_eq(config_load(path, &c, &d), 0);
        ck_assert_uint_eq(d.n, 0);
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(c->file, path);
        ck_assert_str_eq(c->pop, "ams1");
        ck_assert_str_eq(c->backend, "bird");
        ck_assert_uint_eq(c->asn, 4200000001u);
        ck_assert_int_ge(asprintf(&expect_path, "%s/svc", dir), 0);
        ck_assert_str_eq(c->services_dir, expect_path);
        free(expect_path);
        /* "../plugins" relative to conf/, cleaned: no ".." left in it */
        char *parent = strdup(dir);
        *strrchr(parent, '/') = '\0';
        ck_assert_int_ge(asprintf(&expect_path, "%s/plugins", parent), 0);
        free(parent);
        ck_assert_str_eq(c->plugin_dir, expect_path);
        free(expect_path);
        ck_assert_uint_eq(c->n_allowed, 2);
        assert_prefix(&c->allowed[0], "203.0.113.0/24");
        assert_prefix(&c->allowed[1], "2001:db8::/32");
        ck_assert(!exabgp_settings(c)->ack);
        ck_assert_int_eq(exabgp_settings(c)->api, EXABGP_API_6);
        ck_assert_int_eq(exabgp_settings(c)->on_exit, ON_KEEP);
        ck_assert_uint_eq(exabgp_settings(c)->watchdog_usec, 0); /* "0": off */
        ck_assert_uint_eq(c->reconcile.interval_usec, 0);        /* "0": off */
        ck_assert_uint_eq(c->reconcile.stuck_after_usec, 60000000);
        ck_assert_str_eq(bird_settings(c)->socket, "/run/bird/test.ctl");
        ck_assert_int_ge(asprintf(&expect_path, "%s/bird/r4.conf", dir), 0);
        ck_assert_str_eq(bird_settings(c)->include_v4, expect_path);
        free(expect_path);
        ck_assert_str_eq(bird_settings(c)->include_v6, "/var/tmp/r6.conf");
        ck_assert_int_eq(bird_settings(c)->on_exit, ON_KEEP);
        ck_assert_int_ge(asprintf(&expect_path, "%s/frr-run", dir), 0);
        ck_assert_str_eq(frr_settings(c)->socket_dir, expect_path);
        free(expect_path);
        ck_assert_uint_eq(frr_settings(c)->asn, 65010);
        ck_assert_uint_eq(frr_bgp_asn(c), 65010);
        ck_assert_int_eq(frr_settings(c)->on_exit, ON_KEEP);
        ck_assert_uint_eq(frr_settings(c)->coalesce_usec, 50000);
        ck_assert_int_ge(asprintf(&expect_path, "%s/state/manual.json", dir), 0);
        ck_assert_str_eq(c->state_file, expect_path);
        free(expect_path);
        ck_assert_str_eq(c->hooks.on_change[0], "/usr/local/bin/notify");
        ck_assert_str_eq(c->hooks.on_change[1], "--pop");
        ck_assert_ptr_null(c->hooks.on_change[2]);
        ck_assert_uint_eq(c->hooks.timeout_usec, 3000000);
        ck_assert_int_ge(asprintf(&expect_path, "%s/run/control.sock", dir), 0);
        ck_assert_str_eq(c->control.socket, expect_path);
        free(expect_path);
        ck_assert_str_eq(c->control.group, "adm");
        ck_assert(c->control.configured);
        ck_assert_str_eq(c->metrics.listen, "[::1]:9100");
        ck_assert(c->metrics.configured);

        /* sorted by file name; README.txt and .hidden.json are not services */
        ck_assert_uint_eq(c->n_services, 2);
        const struct service_cfg *a = &c->services[0], *s = &c->services[1];
        ck_assert_str_eq(a->name, "another");
        ck_assert(ends_with(a->file, "/good/conf/svc/another.json"));
        ck_assert_uint_eq(a->n_prefixes, 2);
        assert_prefix(&a->prefixes[0], "203.0.113.0/25");
        assert_prefix(&a->prefixes[1], "2001:db8::/48");
        ck_assert_int_eq(a->combine, COMBINE_ANY);
        ck_assert_ptr_null(a->disable_file);
        ck_assert_int_eq(a->on_disabled, ON_WITHDRAW);
        ck_assert_str_eq(a->announce.next_hop, "self");
        ck_assert_int_eq(a->announce.med, -1);
        ck_assert_uint_eq(a->announce.n_communities, 0);
        ck_assert_uint_eq(a->announce.prepend, 0);
        /* defaults: degraded = announce + 3 prepends (asn is set); no drain
         * on shutdown, 30 s; dampening off; hooks from the daemon */
        ck_assert_uint_eq(a->degraded.prepend, 3);
        ck_assert_int_eq(a->degraded.med, -1);
        ck_assert_uint_eq(a->draining.prepend, 3);
        ck_assert_uint_eq(a->draining.n_communities, 1);
        ck_assert_str_eq(a->draining.communities[0], "65535:0");
        ck_assert_uint_eq(a->drain.time_usec, 30000000);
        ck_assert(!a->drain.on_shutdown);
        ck_assert(!a->dampening.enabled);
        ck_assert_ptr_null(a->hooks.on_change);
        ck_assert(!a->checks[0].capacity);
        ck_assert_uint_eq(a->n_checks, 1);
        ck_assert_str_eq(a->checks[0].plugin, "exec");
        ck_assert_uint_eq(a->checks[0].interval_usec, 2000000);
        ck_assert_uint_eq(a->checks[0].timeout_usec, 1000000);
        ck_assert_uint_eq(a->checks[0].rise, 3);
        ck_assert_uint_eq(a->checks[0].fall, 2);
        ck_assert_str_eq(
            json_string_value(json_array_get(json_object_get(a->checks[0].options, "command"), 0)),
            "/bin/true");

        ck_assert_str_eq(s->name, "dns");
        ck_assert_uint_eq(s->n_prefixes, 2);
        assert_prefix(&s->prefixes[0], "203.0.113.53/32");
        assert_prefix(&s->prefixes[1], "2001:db8:53::53/128");
        ck_assert_int_eq(s->combine, COMBINE_AT_LEAST);
        ck_assert_uint_eq(s->combine_n, 2);
        ck_assert_int_ge(asprintf(&expect_path, "%s/svc/disabled/dns", dir), 0);
        ck_assert_str_eq(s->disable_file, expect_path);
        free(expect_path);
        ck_assert_int_eq(s->on_disabled, ON_KEEP);
        ck_assert_str_eq(s->announce.next_hop, "2001:db8::1");
        ck_assert_int_eq(s->announce.med, 4294967295);
        ck_assert_uint_eq(s->announce.n_communities, 2);
        ck_assert_str_eq(s->announce.communities[0], "65001:53");
        ck_assert_str_eq(s->announce.communities[1], "0:0");
        ck_assert_uint_eq(s->announce.n_large_communities, 1);
        ck_assert_str_eq(s->announce.large_communities[0], "4200000001:0:53");
        ck_assert_uint_eq(s->announce.prepend, 10);
        /* degraded: the block's keys over announce's */
        ck_assert_int_eq(s->degraded.med, 4000);
        ck_assert_uint_eq(s->degraded.prepend, 10);
        ck_assert_str_eq(s->degraded.next_hop, "2001:db8::1");
        ck_assert_uint_eq(s->degraded.n_communities, 1);
        ck_assert_str_eq(s->degraded.communities[0], "65001:9");
        ck_assert_uint_eq(s->degraded.n_large_communities, 1);
        ck_assert_uint_eq(s->draining.n_communities, 2);
        ck_assert_str_eq(s->draining.communities[1], "65535:0");
        ck_assert_uint_eq(s->drain.time_usec, 45000000);
        ck_assert(s->drain.on_shutdown);
        ck_assert(s->dampening.enabled);
        ck_assert_uint_eq(s->dampening.penalty, 500);
        ck_assert_uint_eq(s->dampening.half_life_usec, 300000000);
        ck_assert_uint_eq(s->dampening.suppress, 2000);
        ck_assert_uint_eq(s->dampening.reuse, 750);
        ck_assert_uint_eq(s->dampening.max_penalty, 12000);
        ck_assert_str_eq(s->hooks.on_change[0], "/bin/logger");
        ck_assert_uint_eq(s->hooks.timeout_usec, 10000000);
        ck_assert(!s->checks[0].capacity);
        ck_assert(s->checks[2].capacity);

        ck_assert_uint_eq(s->n_checks, 3);
        const struct check_cfg *k = s->checks;
        ck_assert_str_eq(k[0].plugin, "tcp");
        ck_assert_uint_eq(k[0].interval_usec, 1000000);
        ck_assert_uint_eq(k[0].timeout_usec, 300000);
        ck_assert_uint_eq(k[0].rise, 5);
        ck_assert_uint_eq(k[0].fall, 4);
        ck_assert_int_eq(json_integer_value(json_object_get(k[0].options, "port")), 53);
        ck_assert_str_eq(k[0].options_path, "checks[0].options");
        ck_assert_int_eq(k[0].line, 5);
        ck_assert_int_eq(k[0].column, 5);
        ck_assert_str_eq(k[1].plugin, "exec");
        ck_assert_uint_eq(k[1].interval_usec, 90000000);
        ck_assert_uint_eq(k[1].timeout_usec, 2000000);
        ck_assert_str_eq(k[1].options_path, "checks[1].options");
        ck_assert_int_eq(k[1].line, 7);
        ck_assert_str_eq(k[2].plugin, "tcp_v6-2");
        ck_assert_uint_eq(k[2].interval_usec, 2000000);
        ck_assert_uint_eq(k[2].rise, 3);
        ck_assert(json_is_object(k[2].options));
        ck_assert_uint_eq(json_object_size(k[2].options), 0);
        ck_assert_str_eq(k[2].options_path, "checks[2].options");
        ck_assert_int_eq(k[2].line, 9);
        ck_assert_int_eq(k[2].column, 5);

        /* the kept index lets the plugin host point at an option */
        int line, column;
        ck_assert_int_eq(jsonpos_lookup(s->pos, "checks[0].options.port", &line, &column), 0);
        ck_assert_int_eq(line, 6);
        ck_assert_int_eq(column, 44);
        /* canonical text: sorted keys, so key order in the file does not count */
        ck_assert_ptr_nonnull(strstr(s->raw, "\"name\":\"dns\""));
        ck_assert(strstr(s->raw, "\"checks\"") < strstr(s->raw, "\"name\""));
        ck_assert_ptr_null(strstr(s->raw, "\": "));

        config_free(c);
        free(path);
        free(dir);
        diag_free(&d);
}
END_TEST

static char tmpdir[] = "/tmp/ahd-test-config-XXXXXX";

static void write_file(const char *rel, const char *text)
{
        char *p;
        ck_assert_int_ge(asprintf(&p, "%s/%s", tmpdir, rel), 0);
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
        free(p);
}

static void make_tmp(void)
{
        char sub[sizeof(tmpdir) + 16];
        strcpy(tmpdir, "/tmp/ahd-test-config-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        snprintf(sub, sizeof(sub), "%s/services.d", tmpdir);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
}

static void remove_tmp(void)
{
        char *cmd;
        ck_assert_int_ge(asprintf(&cmd, "rm -rf '%s'", tmpdir), 0);
        ck_assert_int_eq(system(cmd), 0);
        free(cmd);
}

START_TEST(test_defaults)
{
        struct diag d = {0};
        struct config *c = NULL;
        char host[256] = "", *expect_path;

        make_tmp();
        write_file("ahd.json", "{ \"allowed_prefixes\": [\"2001:db8::/32\"] }");
        write_file(
            "services.d/web.json",
            "{ \"prefixes\": [\"2001:db8:80::/48\"], \"checks\": [{ \"plugin\": \"tcp\" }] }");
        /* a relative daemon path must still give absolute paths */
        ck_assert_int_eq(chdir(tmpdir), 0);
        ck_assert_int_eq(config_load("ahd.json", &c, &d), 0);
        ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
        ck_assert_str_eq(c->pop, host);
        ck_assert_ptr_null(c->backend);
        ck_assert_uint_eq(c->asn, 0);
        ck_assert_int_ge(asprintf(&expect_path, "%s/ahd.json", tmpdir), 0);
        ck_assert_str_eq(c->file, expect_path);
        free(expect_path);
        ck_assert_int_ge(asprintf(&expect_path, "%s/services.d", tmpdir), 0);
        ck_assert_str_eq(c->services_dir, expect_path);
        free(expect_path);
        ck_assert_str_eq(c->plugin_dir, AHD_PLUGIN_DIR);
        ck_assert(exabgp_settings(c)->ack);
        ck_assert_int_eq(exabgp_settings(c)->api, EXABGP_API_4);
        ck_assert_int_eq(exabgp_settings(c)->on_exit, ON_WITHDRAW);
        ck_assert_uint_eq(exabgp_settings(c)->watchdog_usec, 10000000);
        ck_assert_uint_eq(c->reconcile.interval_usec, 30000000);
        ck_assert_uint_eq(c->reconcile.stuck_after_usec, 10000000);
        ck_assert_str_eq(bird_settings(c)->socket, "/run/bird/bird.ctl");
        ck_assert_str_eq(bird_settings(c)->include_v4,
                         "/var/lib/anycast-healthd/bird/routes4.conf");
        ck_assert_str_eq(bird_settings(c)->include_v6,
                         "/var/lib/anycast-healthd/bird/routes6.conf");
        ck_assert_int_eq(bird_settings(c)->on_exit, ON_WITHDRAW);
        ck_assert_str_eq(frr_settings(c)->socket_dir, "/run/frr");
        ck_assert_uint_eq(frr_settings(c)->asn, 0);
        ck_assert_int_eq(frr_settings(c)->on_exit, ON_WITHDRAW);
        ck_assert_uint_eq(frr_settings(c)->coalesce_usec, 0);
        ck_assert_str_eq(c->state_file, "/var/lib/anycast-healthd/state.json");
        ck_assert_ptr_null(c->hooks.on_change);
        ck_assert_str_eq(c->control.socket, "/run/anycast-healthd/control.sock");
        ck_assert_ptr_null(c->control.group);
        ck_assert(!c->control.configured);
        ck_assert_str_eq(c->metrics.listen, "127.0.0.1:9273");
        ck_assert(!c->metrics.configured);
        ck_assert_uint_eq(c->n_services, 1);
        const struct service_cfg *s = &c->services[0];
        ck_assert_str_eq(s->name, "web");
        ck_assert_int_eq(s->combine, COMBINE_ALL);
        ck_assert_int_eq(s->on_disabled, ON_WITHDRAW);
        ck_assert_ptr_null(s->disable_file);
        ck_assert_str_eq(s->announce.next_hop, "self");
        ck_assert_int_eq(s->announce.med, -1);
        /* no asn: nothing to prepend, degraded looks like announce */
        ck_assert_uint_eq(s->degraded.prepend, 0);
        ck_assert(!s->dampening.enabled);
        ck_assert_uint_eq(s->checks[0].interval_usec, 2000000);
        ck_assert_uint_eq(s->checks[0].timeout_usec, 1000000);
        ck_assert_uint_eq(s->checks[0].rise, 3);
        ck_assert_uint_eq(s->checks[0].fall, 2);
        ck_assert_int_eq(s->checks[0].line, 1);
        ck_assert_int_eq(s->checks[0].column, 48);
        config_free(c);
        diag_free(&d);
        ck_assert_int_eq(chdir("/"), 0);
        remove_tmp();
}
END_TEST

START_TEST(test_empty_services_dir_and_backends)
{
        struct diag d = {0};
        struct config *c = NULL;

        make_tmp();
        write_file("ahd.json",
                   "{ \"allowed_prefixes\": [\"192.0.2.0/24\"], \"backend\": \"exabgp\","
                   " \"asn\": 1 }");
        char *path;
        ck_assert_int_ge(asprintf(&path, "%s/ahd.json", tmpdir), 0);
        ck_assert_int_eq(config_load(path, &c, &d), 0);
        ck_assert_str_eq(c->backend, "exabgp");
        ck_assert_uint_eq(c->asn, 1);
        ck_assert_uint_eq(c->n_services, 0);
        config_free(c);
        free(path);
        diag_free(&d);
        remove_tmp();
}
END_TEST

START_TEST(test_missing_daemon_file)
{
        struct diag d = {0};
        struct config *c = NULL;

        ck_assert_int_eq(config_load("/nonexistent/ahd.json", &c, &d), -EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_str_eq(d.msgs[0].file, "/nonexistent/ahd.json");
        ck_assert_str_eq(d.msgs[0].text, "cannot read: No such file or directory");
        diag_free(&d);
}
END_TEST

/* A FIFO among the service files is that file's error, found without
 * blocking in open() (the test's timeout would end a hang). */
START_TEST(test_fifo_service_file)
{
        struct diag d = {0};
        struct config *c = NULL;
        char *path, *fifo;

        make_tmp();
        write_file("ahd.json", "{ \"allowed_prefixes\": [\"192.0.2.0/24\"] }");
        write_file("services.d/x.json", "{ \"prefixes\": [\"192.0.2.1/32\"],"
                                        " \"checks\": [{ \"plugin\": \"tcp\" }] }");
        ck_assert_int_ge(asprintf(&fifo, "%s/services.d/y.json", tmpdir), 0);
        ck_assert_int_eq(mkfifo(fifo, 0644), 0);
        ck_assert_int_ge(asprintf(&path, "%s/ahd.json", tmpdir), 0);
        ck_assert_int_eq(config_load(path, &c, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_str_eq(d.msgs[0].file, fifo);
        ck_assert_str_eq(d.msgs[0].text, "not a regular file (a FIFO)");
        free(fifo);
        free(path);
        diag_free(&d);
        remove_tmp();
}
END_TEST

/* A name taken from the file name is held to the rules of "name". */
START_TEST(test_file_name_is_validated)
{
        struct diag d = {0};
        struct config *c = NULL;
        char *path;

        make_tmp();
        write_file("ahd.json", "{ \"allowed_prefixes\": [\"192.0.2.0/24\"] }");
        write_file("services.d/we\x1b[2Jb.json", "{ \"prefixes\": [\"192.0.2.1/32\"],"
                                                 " \"checks\": [{ \"plugin\": \"tcp\" }] }");
        ck_assert_int_ge(asprintf(&path, "%s/ahd.json", tmpdir), 0);
        ck_assert_int_eq(config_load(path, &c, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_str_eq(d.msgs[0].text,
                         "the service name \"we\\x1b[2Jb\" (from the file name, no \"name\" "
                         "key) must not contain spaces or control characters");
        free(path);
        diag_free(&d);
        remove_tmp();
}
END_TEST

START_TEST(test_hook_not_executable)
{
        struct diag d = {0};
        struct config *c = NULL;
        char *path;

        make_tmp();
        write_file("ahd.json", "{ \"allowed_prefixes\": [\"192.0.2.0/24\"],"
                               " \"hooks\": { \"on_change\": [\"/tmp\"] } }");
        ck_assert_int_ge(asprintf(&path, "%s/ahd.json", tmpdir), 0);
        ck_assert_int_eq(config_load(path, &c, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_str_eq(d.msgs[0].text, "\"on_change\" command \"/tmp\" is not an executable "
                                         "regular file (a directory)");
        free(path);
        diag_free(&d);
        remove_tmp();
}
END_TEST

START_TEST(test_prepend_with_asn_ok)
{
        struct diag d = {0};
        struct config *c = NULL;
        char *path;

        make_tmp();
        write_file("ahd.json", "{ \"allowed_prefixes\": [\"192.0.2.0/24\"], \"asn\": 65001 }");
        write_file("services.d/x.json",
                   "{ \"name\": \"x\", \"prefixes\": [\"192.0.2.1/32\"],"
                   " \"checks\": [{ \"plugin\": \"tcp\" }], \"announce\": { \"prepend\": 3 } }");
        ck_assert_int_ge(asprintf(&path, "%s/ahd.json", tmpdir), 0);
        ck_assert_int_eq(config_load(path, &c, &d), 0);
        ck_assert_uint_eq(c->services[0].announce.prepend, 3);
        config_free(c);
        free(path);
        diag_free(&d);
        remove_tmp();
}
END_TEST

START_TEST(test_bad_asn_does_not_blame_prepend)
{
        struct diag d = {0};
        struct config *c = NULL;
        char *path;

        make_tmp();
        write_file("ahd.json", "{ \"allowed_prefixes\": [\"192.0.2.0/24\"], \"asn\": 0 }");
        write_file("services.d/x.json",
                   "{ \"prefixes\": [\"192.0.2.1/32\"],"
                   " \"checks\": [{ \"plugin\": \"tcp\" }], \"announce\": { \"prepend\": 3 } }");
        ck_assert_int_ge(asprintf(&path, "%s/ahd.json", tmpdir), 0);
        ck_assert_int_eq(config_load(path, &c, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 1);
        expect(&d, "/ahd.json", 1, 41, "\"asn\" must be at least 1, not 0");
        free(path);
        diag_free(&d);
        remove_tmp();
}
END_TEST

START_TEST(test_parse_duration)
{
        static const struct {
                const char *s;
                int r;
                uint64_t usec;
        } cases[] = {
            {"500ms", 0, 500000},
            {"2s", 0, 2000000},
            {"1.5s", 0, 1500000},
            {"1m", 0, 60000000},
            {"1h", 0, 3600000000},
            {"250us", 0, 250},
            {"0s", 0, 0},
            {"0.5ms", 0, 500},
            {"1.25h", 0, 4500000000},
            {"0.001s", 0, 1000},
            {"1.0000001s", 0, 1000000}, /* below a microsecond is dropped */
            {"1.123456789123s", 0, 1123456},
            {"007s", 0, 7000000},
            {"5124095h", 0, 18446742000000000ull},
            {"5124095576h", 0, 18446744073600000000ull},
            {"5124095577h", -ERANGE, 0},
            {"5124095576.1h", -ERANGE, 0},
            {"18446744073709551615us", 0, UINT64_MAX},
            {"18446744073709551616us", -ERANGE, 0},
            {"99999999999999999999999s", -ERANGE, 0},
            {"", -EINVAL, 0},
            {"2", -EINVAL, 0},
            {"s", -EINVAL, 0},
            {"-1s", -EINVAL, 0},
            {"+1s", -EINVAL, 0},
            {"1.s", -EINVAL, 0},
            {".5s", -EINVAL, 0},
            {"1 s", -EINVAL, 0},
            {" 1s", -EINVAL, 0},
            {"1s ", -EINVAL, 0},
            {"1sec", -EINVAL, 0},
            {"1e3s", -EINVAL, 0},
            {"1.5.5s", -EINVAL, 0},
            {"1S", -EINVAL, 0},
            {"1d", -EINVAL, 0},
            {"fast", -EINVAL, 0},
            {"1ms2", -EINVAL, 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t u = 12345;
                int r = parse_duration(cases[i].s, &u);
                ck_assert_msg(r == cases[i].r, "\"%s\": %d, expected %d", cases[i].s, r,
                              cases[i].r);
                if (r == 0)
                        ck_assert_msg(u == cases[i].usec, "\"%s\": %llu", cases[i].s,
                                      (unsigned long long)u);
                else
                        ck_assert_uint_eq(u, 12345); /* untouched on error */
        }
        ck_assert_int_eq(parse_duration(NULL, &(uint64_t){0}), -EINVAL);
}
END_TEST

/* Paths in the configuration are joined to the naming file's directory
 * and cleaned lexically, so logs show where a file really is. */
START_TEST(test_paths_are_cleaned)
{
        static const char *const cases[][3] = {
            {"/a/b/services.d", "../../disabled/web", "/a/disabled/web"},
            {"/a", "./x", "/a/x"},
            {"/", "x", "/x"},
            {"/a/b", ".", "/a/b"},
            {"/a/b", "..", "/a"},
            {"/a", "../../..", "/"},
            {"/a//b/", "c/./d//e/", "/a/b/c/d/e"},
            {"/x", "/abs/./p/../q", "/abs/q"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *r = cfg_abspath(cases[i][0], cases[i][1]);
                ck_assert_msg(strcmp(r, cases[i][2]) == 0, "%s + %s -> %s, expected %s",
                              cases[i][0], cases[i][1], r, cases[i][2]);
                free(r);
        }
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("config");

        tcase_add_loop_test(tc, test_bad_case, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
        tcase_add_test(tc, test_every_corpus_dir_has_a_case);
        tcase_add_test(tc, test_many_problems_all_reported);
        tcase_add_test(tc, test_good_config);
        tcase_add_test(tc, test_paths_are_cleaned);
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_empty_services_dir_and_backends);
        tcase_add_test(tc, test_missing_daemon_file);
        tcase_add_test(tc, test_fifo_service_file);
        tcase_add_test(tc, test_file_name_is_validated);
        tcase_add_test(tc, test_hook_not_executable);
        tcase_add_test(tc, test_prepend_with_asn_ok);
        tcase_add_test(tc, test_bad_asn_does_not_blame_prepend);
        tcase_add_test(tc, test_parse_duration);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        speakers_register(); /* the "exabgp", "bird" and "frr" blocks */
        SRunner *sr = srunner_create(suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
