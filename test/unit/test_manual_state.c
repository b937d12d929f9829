/* test_manual_state.c: the manual state file: a round trip keeps every
 * field, the write is atomic (no temp file left, mode 0644), a missing
 * file is empty, and every kind of corruption is an error, never "nothing
 * disabled". */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manual_state.h"

static char dir[64];
static char path[128];

static void setup(void)
{
        strcpy(dir, "/tmp/ahd-state-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/state.json", dir);
}

static void teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
}

START_TEST(round_trip)
{
        struct manual_state st = {0}, back;
        char err[256];
        ck_assert_int_eq(manual_state_set(&st, "dns", "maintenance \"ticket\" 42",
                                          1700000000000000ULL, 0, false),
                         0);
        ck_assert_int_eq(
            manual_state_set(&st, "web", "drain for deploy", 5, 1800000000000000ULL, false), 0);
        ck_assert_int_eq(manual_state_set(&st, "mail", "withdraw-all: fire", 7, 0, true), 0);
        st.withdraw_all = true;
        st.withdraw_all_reason = strdup("withdraw-all: fire");
        st.withdraw_all_since_usec = 7;
        ck_assert_int_eq(manual_state_save(path, &st), 0);

        struct stat sb;
        ck_assert_int_eq(stat(path, &sb), 0);
        ck_assert_uint_eq(sb.st_mode & 0777, 0644);
        /* no temp file left beside it */
        DIR *d = opendir(dir);
        struct dirent *de;
        int files = 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
                        files += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
        closedir(d);
        ck_assert_int_eq(files, 1);

        ck_assert_int_eq(manual_state_load(path, &back, err, sizeof(err)), 0);
        ck_assert(back.withdraw_all);
        ck_assert_str_eq(back.withdraw_all_reason, "withdraw-all: fire");
        ck_assert_uint_eq(back.withdraw_all_since_usec, 7);
        ck_assert_uint_eq(back.n, 3);
        struct manual_entry *e = manual_state_find(&back, "dns");
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->reason, "maintenance \"ticket\" 42");
        ck_assert_uint_eq(e->since_usec, 1700000000000000ULL);
        ck_assert_uint_eq(e->drain_until_usec, 0);
        ck_assert(!e->by_withdraw_all);
        e = manual_state_find(&back, "web");
        ck_assert_uint_eq(e->drain_until_usec, 1800000000000000ULL);
        ck_assert(manual_state_find(&back, "mail")->by_withdraw_all);
        ck_assert(manual_state_remove(&back, "dns"));
        ck_assert(!manual_state_remove(&back, "dns"));
        ck_assert_ptr_null(manual_state_find(&back, "dns"));
        ck_assert_uint_eq(back.n, 2);
        manual_state_free(&st);
        manual_state_free(&back);
}
END_TEST

START_TEST(missing_file_is_empty)
{
        struct manual_state st;
        char err[256];
        ck_assert_int_eq(manual_state_load(path, &st, err, sizeof(err)), 0);
        ck_assert_uint_eq(st.n, 0);
        ck_assert(!st.withdraw_all);
}
END_TEST

static const struct {
        const char *text;
        const char *fragment;
} corrupt[] = {
    {"", "invalid JSON"},
    {"{\"version\": 1, \"services\": {\"dns\": {\"reason\": \"x\", \"since_usec\": 1}}",
     "invalid JSON"},
    {"\0\0\0\0", "invalid JSON"},
    {"[]", "must hold a JSON object"},
    {"{\"services\": {}}", "\"version\" must be 1"},
    {"{\"version\": 2, \"services\": {}}", "\"version\" must be 1"},
    {"{\"version\": 1}", "\"services\" must be an object"},
    {"{\"version\": 1, \"services\": {}, \"extra\": 1}", "unknown key \"extra\""},
    {"{\"version\": 1, \"services\": {\"dns\": {\"since_usec\": 1}}}",
     "\"reason\" must be a string"},
    {"{\"version\": 1, \"services\": {\"dns\": {\"reason\": \"x\"}}}", "missing \"since_usec\""},
    {"{\"version\": 1, \"services\": {\"dns\": {\"reason\": \"x\", \"since_usec\": -1}}}",
     "non-negative"},
    {"{\"version\": 1, \"services\": {\"dns\": true}}", "must be an object"},
    {"{\"version\": 1, \"services\": {\"dns\": {\"reason\": \"x\", \"since_usec\": 1}, "
     "\"dns\": {\"reason\": \"y\", \"since_usec\": 1}}}",
     "invalid JSON"},
    {"{\"version\": 1, \"withdraw_all\": {\"since_usec\": 1}, \"services\": {}}",
     "\"reason\" must be a string"},
};

START_TEST(corrupt_is_an_error)
{
        struct manual_state st;
        char err[256] = "";
        FILE *f = fopen(path, "w");
        size_t len = _i == 2 ? 4 : strlen(corrupt[_i].text);
        fwrite(corrupt[_i].text, 1, len, f);
        fclose(f);
        ck_assert_int_eq(manual_state_load(path, &st, err, sizeof(err)), -EBADMSG);
        ck_assert_msg(strstr(err, corrupt[_i].fragment), "case %d: \"%s\" lacks \"%s\"", _i, err,
                      corrupt[_i].fragment);
        ck_assert_uint_eq(st.n, 0);
}
END_TEST

START_TEST(save_fails_cleanly)
{
        struct manual_state st = {0};
        char bad[200];
        snprintf(bad, sizeof(bad), "%s/no-such-dir/state.json", dir);
        ck_assert_int_eq(manual_state_save(bad, &st), -ENOENT);
}
END_TEST

/* 40,000 entries (a load took seconds when each insert scanned them
 * all): every one is found after the round trip, and removing half keeps
 * the index right for the rest. Not timed: correctness at that size. */
START_TEST(many_entries)
{
        enum { N = 40000 };
        struct manual_state st = {0}, back;
        char name[32], err[256];
        for (int i = 0; i < N; i++) {
                snprintf(name, sizeof(name), "svc-%d", i);
                ck_assert_int_eq(manual_state_set(&st, name, name, (uint64_t)i + 1, 0, false), 0);
        }
        /* setting again replaces, never duplicates */
        ck_assert_int_eq(manual_state_set(&st, "svc-7", "again", 1, 0, false), 0);
        ck_assert_uint_eq(st.n, N);
        ck_assert_int_eq(manual_state_save(path, &st), 0);
        manual_state_free(&st);

        ck_assert_int_eq(manual_state_load(path, &back, err, sizeof(err)), 0);
        ck_assert_uint_eq(back.n, N);
        for (int i = 0; i < N; i++) {
                snprintf(name, sizeof(name), "svc-%d", i);
                struct manual_entry *e = manual_state_find(&back, name);
                ck_assert_ptr_nonnull(e);
                ck_assert_str_eq(e->service, name);
                ck_assert_str_eq(e->reason, i == 7 ? "again" : name);
        }
        for (int i = 0; i < N; i += 2) {
                snprintf(name, sizeof(name), "svc-%d", i);
                ck_assert(manual_state_remove(&back, name));
        }
        ck_assert_uint_eq(back.n, N / 2);
        for (int i = 0; i < N; i++) {
                snprintf(name, sizeof(name), "svc-%d", i);
                struct manual_entry *e = manual_state_find(&back, name);
                if (i % 2) {
                        ck_assert_ptr_nonnull(e);
                        ck_assert_uint_eq(e->since_usec, i == 7 ? 1 : (uint64_t)i + 1);
                } else {
                        ck_assert_ptr_null(e);
                }
        }
        ck_assert_ptr_null(manual_state_find(&back, "svc-40000"));
        manual_state_free(&back);
}
END_TEST

/* A FIFO in the file's place is refused at once (no open() waiting for a
 * writer) and is not "nothing disabled". */
START_TEST(fifo_is_refused)
{
        struct manual_state st;
        char err[256] = "";
        ck_assert_int_eq(mkfifo(path, 0644), 0);
        ck_assert_int_eq(manual_state_load(path, &st, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, "not a regular file (a FIFO)");
        ck_assert_uint_eq(st.n, 0);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("state_file");
        TCase *tc = tcase_create("file");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, round_trip);
        tcase_add_test(tc, missing_file_is_empty);
        tcase_add_loop_test(tc, corrupt_is_an_error, 0, sizeof(corrupt) / sizeof(corrupt[0]));
        tcase_add_test(tc, save_fails_cleanly);
        tcase_add_test(tc, many_entries);
        tcase_add_test(tc, fifo_is_refused);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
