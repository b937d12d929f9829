/* test_metrics_render.c: the Prometheus text from a scripted snapshot:
 * exact series and values, one HELP/TYPE per metric before its series,
 * every series labelled with the PoP, label values escaped; the cursor's
 * chunks add up to the one-shot text and stay bounded. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake_engine.h"
#include "metrics_render.h"
#include "prom_text.h"

/* A speaker as metrics_render sees it: counters and, maybe, its own family. */
struct backend {
        struct speaker_counters n;
};

static void fake_counters(const struct backend *b, struct speaker_counters *out)
{
        *out = b->n;
}

static void fake_family(const struct backend *b, FILE *f, const char *pop)
{
        prom_counter(f, "fake_things_total", "Things the fake speaker did.", pop, NULL,
                     b->n.commands * 10);
}

static const struct backend_ops plain_ops = {.name = "exabgp", .counters = fake_counters};
static const struct backend_ops family_ops = {
    .name = "bird", .counters = fake_counters, .metrics = fake_family};

static char *text;

static void render(const struct service_status *s, size_t n, const struct metrics_backend *be)
{
        size_t len;
        free(text);
        text = metrics_render("ams1", s, n, be, &len);
        ck_assert_uint_eq(len, strlen(text));
}

/* line must appear as a whole line */
static void has(const char *line)
{
        size_t n = strlen(line);
        for (const char *p = text; (p = strstr(p, line)); p++) {
                if ((p == text || p[-1] == '\n') && p[n] == '\n')
                        return;
        }
        ck_abort_msg("missing line: %s\n--- text:\n%s", line, text);
}

static void lacks(const char *fragment)
{
        ck_assert_msg(!strstr(text, fragment), "unexpected: %s", fragment);
}

START_TEST(service_series)
{
        fake_engine_reset();
        render(fake_services, 2, NULL);
        has("# TYPE anycast_healthd_service_state gauge");
        has("anycast_healthd_service_state{pop=\"ams1\",service=\"dns\",state=\"up\"} 1");
        has("anycast_healthd_service_state{pop=\"ams1\",service=\"dns\",state=\"down\"} 0");
        has("anycast_healthd_service_state{pop=\"ams1\",service=\"dns\",state=\"unknown\"} 0");
        has("anycast_healthd_service_state{pop=\"ams1\",service=\"dns\",state=\"degraded\"} 0");
        has("anycast_healthd_service_state{pop=\"ams1\",service=\"dns\",state=\"disabled\"} 0");
        has("anycast_healthd_service_state{pop=\"ams1\",service=\"dns\",state=\"draining\"} 0");
        has("anycast_healthd_service_state{pop=\"ams1\",service=\"web\",state=\"down\"} 1");
        has("anycast_healthd_service_state{pop=\"ams1\",service=\"web\",state=\"up\"} 0");
        has("# TYPE anycast_healthd_service_transitions_total counter");
        has("anycast_healthd_service_transitions_total{pop=\"ams1\",service=\"dns\"} 3");
        has("anycast_healthd_service_transitions_total{pop=\"ams1\",service=\"web\"} 12");
        has("anycast_healthd_service_last_change_timestamp_seconds{pop=\"ams1\",service=\"dns\"} "
            "1699999808");
        has("anycast_healthd_service_last_change_timestamp_seconds{pop=\"ams1\",service=\"web\"} "
            "1699992500");
        has("anycast_healthd_service_dampening_penalty{pop=\"ams1\",service=\"dns\"} 0");
        has("anycast_healthd_service_dampening_penalty{pop=\"ams1\",service=\"web\"} 1500.5");
        has("anycast_healthd_service_dampening_suppressed{pop=\"ams1\",service=\"web\"} 1");
        has("anycast_healthd_service_disabled{pop=\"ams1\",service=\"dns\"} 0");
        has("anycast_healthd_prefix_announced{pop=\"ams1\",service=\"dns\",prefix=\"203.0.113.53/"
            "32\"} 1");
        has("anycast_healthd_prefix_announced{pop=\"ams1\",service=\"web\",prefix=\"203.0.113.80/"
            "32\"} 0");
        has("anycast_healthd_prefix_confirmed{pop=\"ams1\",service=\"dns\",prefix=\"2001:db8:53::"
            "53/128\"} 0");
        has("anycast_healthd_prefix_confirmed{pop=\"ams1\",service=\"dns\",prefix=\"203.0.113.53/"
            "32\"} 1");
        lacks("backend_commands_total");
}
END_TEST

START_TEST(check_series)
{
        fake_engine_reset();
        render(fake_services, 2, NULL);
        has("# TYPE anycast_healthd_check_results_total counter");
        has("anycast_healthd_check_results_total{pop=\"ams1\",service=\"dns\",check=\"0\",plugin="
            "\"tcp\",code=\"ok\"} 120");
        has("anycast_healthd_check_results_total{pop=\"ams1\",service=\"dns\",check=\"0\",plugin="
            "\"tcp\",code=\"warning\"} 2");
        has("anycast_healthd_check_results_total{pop=\"ams1\",service=\"dns\",check=\"0\",plugin="
            "\"tcp\",code=\"critical\"} 3");
        has("anycast_healthd_check_results_total{pop=\"ams1\",service=\"dns\",check=\"0\",plugin="
            "\"tcp\",code=\"unknown\"} 1");
        has("anycast_healthd_check_results_total{pop=\"ams1\",service=\"web\",check=\"0\",plugin="
            "\"exec\",code=\"critical\"} 7");
        has("anycast_healthd_check_timeouts_total{pop=\"ams1\",service=\"dns\",check=\"0\",plugin="
            "\"tcp\"} 1");
        has("# TYPE anycast_healthd_check_duration_seconds histogram");
        /* 0.8ms, 3ms, 40ms, 2s */
        static const char *const dns_buckets[][2] = {
            {"0.001", "1"}, {"0.005", "2"}, {"0.01", "2"}, {"0.025", "2"}, {"0.05", "3"},
            {"0.1", "3"},   {"0.25", "3"},  {"0.5", "3"},  {"1", "3"},     {"2.5", "4"},
            {"5", "4"},     {"10", "4"},    {"+Inf", "4"},
        };
        for (size_t i = 0; i < sizeof(dns_buckets) / sizeof(dns_buckets[0]); i++) {
                char line[256];
                snprintf(line, sizeof(line),
                         "anycast_healthd_check_duration_seconds_bucket{pop=\"ams1\",service="
                         "\"dns\",check=\"0\",plugin=\"tcp\",le=\"%s\"} %s",
                         dns_buckets[i][0], dns_buckets[i][1]);
                has(line);
        }
        has("anycast_healthd_check_duration_seconds_sum{pop=\"ams1\",service=\"dns\",check=\"0\","
            "plugin=\"tcp\"} 2.043800");
        has("anycast_healthd_check_duration_seconds_count{pop=\"ams1\",service=\"dns\",check=\"0\","
            "plugin=\"tcp\"} 4");
        /* 2.5s is inside le="2.5" */
        has("anycast_healthd_check_duration_seconds_bucket{pop=\"ams1\",service=\"web\",check="
            "\"0\",plugin=\"exec\",le=\"1\"} 0");
        has("anycast_healthd_check_duration_seconds_bucket{pop=\"ams1\",service=\"web\",check="
            "\"0\",plugin=\"exec\",le=\"2.5\"} 1");
        has("anycast_healthd_check_duration_seconds_sum{pop=\"ams1\",service=\"web\",check=\"0\","
            "plugin=\"exec\"} 2.500000");
}
END_TEST

START_TEST(exabgp_counters)
{
        struct backend b = {.n = {.commands = 7, .acks = 6, .errors = 1}};
        struct metrics_backend be = {.ops = &plain_ops, .be = &b};
        fake_engine_reset();
        render(fake_services, 2, &be);
        has("# TYPE anycast_healthd_backend_commands_total counter");
        has("anycast_healthd_backend_commands_total{pop=\"ams1\",backend=\"exabgp\"} 7");
        has("anycast_healthd_backend_acks_total{pop=\"ams1\",backend=\"exabgp\"} 6");
        has("anycast_healthd_backend_errors_total{pop=\"ams1\",backend=\"exabgp\"} 1");
        lacks("fake_things_total");
        lacks("route_change_delay_seconds");
}
END_TEST

/* The speaker's own families follow the common part (the BIRD backend's
 * are tested in test_bird_backend.c). */
START_TEST(bird_counters)
{
        struct backend b = {.n = {.commands = 4, .acks = 4, .errors = 3}};
        struct duration_hist delay = {0};
        duration_hist_add(&delay, 3000);
        struct metrics_backend be = {.ops = &family_ops, .be = &b, .route_delay = &delay};
        render(NULL, 0, &be);
        has("# TYPE anycast_healthd_route_change_delay_seconds histogram");
        has("anycast_healthd_route_change_delay_seconds_bucket{pop=\"ams1\",le=\"0.001\"} 0");
        has("anycast_healthd_route_change_delay_seconds_bucket{pop=\"ams1\",le=\"0.005\"} 1");
        has("anycast_healthd_route_change_delay_seconds_count{pop=\"ams1\"} 1");
        has("anycast_healthd_backend_commands_total{pop=\"ams1\",backend=\"bird\"} 4");
        has("anycast_healthd_backend_acks_total{pop=\"ams1\",backend=\"bird\"} 4");
        has("anycast_healthd_backend_errors_total{pop=\"ams1\",backend=\"bird\"} 3");
        has("# TYPE anycast_healthd_fake_things_total counter");
        has("anycast_healthd_fake_things_total{pop=\"ams1\"} 40");
        /* no services: the metric families are still declared, with no series */
        has("# TYPE anycast_healthd_service_state gauge");
        lacks("anycast_healthd_service_state{");
}
END_TEST

/* Every series has pop first; every family has one TYPE before its series. */
START_TEST(exposition_is_well_formed)
{
        struct backend b = {0};
        struct metrics_backend be = {.ops = &family_ops, .be = &b};
        fake_engine_reset();
        render(fake_services, 2, &be);
        char *copy = strdup(text), *save = NULL, *typed = NULL;
        size_t series = 0;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "# HELP ", 7) == 0)
                        continue;
                if (strncmp(line, "# TYPE ", 7) == 0) {
                        char name[128];
                        ck_assert_int_eq(sscanf(line + 7, "%127s", name), 1);
                        char *needle;
                        ck_assert_int_ge(asprintf(&needle, "# TYPE %s ", name), 0);
                        ck_assert_ptr_eq(strstr(text, needle), strstr(text, line));
                        free(needle);
                        free(typed);
                        typed = strdup(name);
                        continue;
                }
                series++;
                ck_assert_msg(typed && strncmp(line, typed, strlen(typed)) == 0,
                              "series %s outside its family %s", line, typed);
                ck_assert_msg(strncmp(line, "anycast_healthd_", 16) == 0, "%s", line);
                ck_assert_msg(strstr(line, "{pop=\"ams1\""), "no pop label: %s", line);
        }
        ck_assert_uint_gt(series, 60);
        free(typed);
        free(copy);
}
END_TEST

START_TEST(label_values_are_escaped)
{
        struct service_status s = {.name = "a\"b\\c\nd"};
        render(&s, 1, NULL);
        has("anycast_healthd_service_transitions_total{pop=\"ams1\",service=\"a\\\"b\\\\c\\nd\"} "
            "0");
}
END_TEST

#define MANY 400

static struct service_status many[MANY];
static size_t gets;

static int many_get(void *userdata, size_t i, struct service_status *out)
{
        gets++;
        if (userdata && i % 7 == 3)
                return -ENOENT; /* as if removed by a reload */
        *out = many[i];
        return 0;
}

static void fill_many(void)
{
        fake_engine_reset();
        for (size_t i = 0; i < MANY; i++)
                many[i] = fake_services[i % 2];
}

/* Reads the whole text through a cursor, max bytes per read; checks that
 * no refill holds more than chunk plus one unit. */
static char *read_all(const struct metrics_source *src, size_t chunk, size_t max, size_t *len)
{
        struct metrics_cursor c;
        char *out = NULL, *piece = malloc(max);
        size_t n = 0, cap = 0, most = 0, held = 0;
        ssize_t r;
        ck_assert_ptr_nonnull(piece);
        metrics_cursor_init(&c, chunk);
        while ((r = metrics_cursor_read(&c, src, piece, max)) > 0) {
                /* asserted after the loop: check's asserts cost a syscall each */
                most = (size_t)r > most ? (size_t)r : most;
                held = c.len > held ? c.len : held;
                if (n + (size_t)r + 1 > cap) {
                        cap = (n + (size_t)r + 1) * 2;
                        out = realloc(out, cap);
                        ck_assert_ptr_nonnull(out);
                }
                memcpy(out + n, piece, (size_t)r);
                n += (size_t)r;
        }
        ck_assert_int_eq(r, 0);
        ck_assert_uint_le(most, max);
        ck_assert_uint_le(held, chunk + 4096);
        ck_assert_ptr_null(c.buf);
        /* the end is sticky */
        ck_assert_int_eq(metrics_cursor_read(&c, src, piece, max), 0);
        free(piece);
        out[n] = '\0';
        *len = n;
        return out;
}

START_TEST(chunks_equal_the_whole_text)
{
        struct backend b = {.n = {.commands = 4, .acks = 3}};
        struct duration_hist delay = {0};
        duration_hist_add(&delay, 10000);
        struct metrics_backend be = {.ops = &family_ops, .be = &b, .route_delay = &delay};
        static const size_t chunks[] = {1, 100, 4096, 65536};
        static const size_t maxes[] = {1, 7, 1000, 1 << 20};
        fill_many();
        struct metrics_source src = {.pop = "ams1", .n = MANY, .get = many_get, .be = &be};
        size_t whole_len;
        char *whole = metrics_render("ams1", many, MANY, &be, &whole_len);
        ck_assert_uint_gt(whole_len, 100000);
        for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
                for (size_t j = 0; j < sizeof(maxes) / sizeof(maxes[0]); j++) {
                        size_t len;
                        char *got = read_all(&src, chunks[i], maxes[j], &len);
                        ck_assert_uint_eq(len, whole_len);
                        ck_assert_msg(memcmp(got, whole, len) == 0, "chunk %zu, max %zu differ",
                                      chunks[i], maxes[j]);
                        free(got);
                }
        }
        free(whole);
}
END_TEST

/* A small service set read in tiny pieces: the exact text, twice over. */
START_TEST(small_text_in_tiny_reads)
{
        struct backend b = {.n = {.commands = 7, .acks = 6, .errors = 1}};
        struct metrics_backend be = {.ops = &family_ops, .be = &b};
        fake_engine_reset();
        render(fake_services, 2, &be);
        fill_many();
        struct metrics_source src = {.pop = "ams1", .n = 2, .get = many_get, .be = &be};
        size_t len;
        char *got = read_all(&src, 64, 3, &len);
        ck_assert_str_eq(got, text);
        free(got);
}
END_TEST

/* The state file gauge: 1 while a change is applied but not saved. */
START_TEST(state_file_unsaved_gauge)
{
        fill_many();
        for (int err = 0; err >= -28; err -= 28) {
                struct metrics_source src = {
                    .pop = "ams1", .n = 2, .get = many_get, .state_file_error = &err};
                size_t len;
                free(text);
                text = read_all(&src, 4096, 1 << 20, &len);
                has("# TYPE anycast_healthd_state_file_unsaved gauge");
                has(err ? "anycast_healthd_state_file_unsaved{pop=\"ams1\"} 1"
                        : "anycast_healthd_state_file_unsaved{pop=\"ams1\"} 0");
        }
        /* the one-shot text (no engine behind it) has none */
        render(NULL, 0, NULL);
        lacks("state_file_unsaved");
}
END_TEST

/* Fleet mode: the held gauge per service, the PoPs announcing only while
 * the view is ready, and the member's own counters only with a fleet. */
START_TEST(fleet_series)
{
        fake_engine_reset();
        struct service_status s[2] = {fake_services[0], fake_services[1]};
        s[0].state = SVC_HELD;
        s[0].fleet_announcing = 1;
        s[1].fleet_announcing = -1;
        render(s, 2, NULL);
        has("anycast_healthd_service_held{pop=\"ams1\",service=\"dns\"} 1");
        has("anycast_healthd_service_held{pop=\"ams1\",service=\"web\"} 0");
        has("anycast_healthd_service_state{pop=\"ams1\",service=\"dns\",state=\"held\"} 1");
        has("anycast_healthd_fleet_pops_announcing{pop=\"ams1\",service=\"dns\"} 1");
        lacks("fleet_pops_announcing{pop=\"ams1\",service=\"web\"}");
        lacks("fleet_ready");

        struct engine_fleet_status fl = {.ready = false,
                                         .unreachable_total = 3,
                                         .granted = 7,
                                         .refused = 2,
                                         .last_ask_usec = 4250};
        struct metrics_source src = {.pop = "ams1", .n = 0, .get = many_get, .fleet = &fl};
        size_t len;
        free(text);
        text = read_all(&src, 4096, 1 << 20, &len);
        has("# TYPE anycast_healthd_fleet_ready gauge");
        has("anycast_healthd_fleet_ready{pop=\"ams1\"} 0");
        has("anycast_healthd_fleet_unreachable_total{pop=\"ams1\"} 3");
        has("anycast_healthd_fleet_floor_answers_total{pop=\"ams1\",answer=\"granted\"} 7");
        has("anycast_healthd_fleet_floor_answers_total{pop=\"ams1\",answer=\"refused\"} 2");
        has("anycast_healthd_fleet_floor_last_answer_seconds{pop=\"ams1\"} 0.004250");
}
END_TEST

/* Services the source no longer has are skipped, not rendered stale. */
START_TEST(missing_services_are_skipped)
{
        fill_many();
        for (size_t i = 0; i < 10; i++) {
                many[i].name = strdup("svc-xx");
                ((char *)many[i].name)[4] = (char)('0' + i);
        }
        int gone = 1;
        struct metrics_source src = {.pop = "ams1", .n = 10, .get = many_get, .userdata = &gone};
        size_t len;
        free(text);
        text = read_all(&src, 256, 100, &len);
        has("anycast_healthd_service_disabled{pop=\"ams1\",service=\"svc-2x\"} 0");
        lacks("service=\"svc-3x\"");
        has("anycast_healthd_service_disabled{pop=\"ams1\",service=\"svc-4x\"} 0");
        for (size_t i = 0; i < 10; i++)
                free((char *)many[i].name);
}
END_TEST

/* The cursor asks for each service as it goes, not for all up front: a
 * first read of one chunk fetches a handful, not all 400. */
START_TEST(cursor_fetches_lazily)
{
        fill_many();
        struct metrics_source src = {.pop = "ams1", .n = MANY, .get = many_get};
        struct metrics_cursor c;
        char piece[512];
        metrics_cursor_init(&c, 4096);
        gets = 0;
        ck_assert_int_gt(metrics_cursor_read(&c, &src, piece, sizeof(piece)), 0);
        ck_assert_uint_gt(gets, 0);
        ck_assert_uint_lt(gets, 100);
        metrics_cursor_clear(&c);
        ck_assert_ptr_null(c.buf);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("metrics_render");
        TCase *tc = tcase_create("metrics_render");
        tcase_add_test(tc, service_series);
        tcase_add_test(tc, check_series);
        tcase_add_test(tc, exabgp_counters);
        tcase_add_test(tc, bird_counters);
        tcase_add_test(tc, exposition_is_well_formed);
        tcase_add_test(tc, label_values_are_escaped);
        tcase_add_test(tc, chunks_equal_the_whole_text);
        tcase_add_test(tc, small_text_in_tiny_reads);
        tcase_add_test(tc, missing_services_are_skipped);
        tcase_add_test(tc, state_file_unsaved_gauge);
        tcase_add_test(tc, cursor_fetches_lazily);
        tcase_add_test(tc, fleet_series);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        free(text);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
