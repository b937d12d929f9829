/* test_jsonpos.c: path -> line/column over JSON texts jansson accepts. */
#include <check.h>
#include <jansson.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"

static void at(const struct jsonpos *p, const char *path, int line, int column)
{
        int l = -1, c = -1;
        ck_assert_msg(jsonpos_lookup(p, path, &l, &c) == 0, "path \"%s\" not found", path);
        ck_assert_msg(l == line && c == column, "path \"%s\" at %d:%d, expected %d:%d", path, l, c,
                      line, column);
}

static void absent(const struct jsonpos *p, const char *path)
{
        int l = 77, c = 77;
        ck_assert_int_eq(jsonpos_lookup(p, path, &l, &c), -ENOENT);
        ck_assert_int_eq(l, 77);
}

static struct jsonpos *idx(const char *text)
{
        struct jsonpos *p = jsonpos_index(text, strlen(text));
        ck_assert_ptr_nonnull(p);
        return p;
}

START_TEST(test_nested)
{
        const char *t = "{\n"
                        "  \"name\": \"dns\",\n"
                        "  \"prefixes\": [\"203.0.113.53/32\",\n"
                        "               \"2001:db8::53/128\"],\n"
                        "  \"checks\": [\n"
                        "    { \"plugin\": \"tcp\", \"options\": { \"port\": 53,\n"
                        "\t\"host\": \"x\" } },\n"
                        "    {}, [1, [2, {\"deep\": null}]]\n"
                        "  ],\n"
                        "  \"empty\": {}, \"list\": []\n"
                        "}\n";
        struct jsonpos *p = idx(t);

        at(p, "", 1, 1);
        at(p, "name", 2, 3);
        at(p, "prefixes", 3, 3);
        at(p, "prefixes[0]", 3, 16);
        at(p, "prefixes[1]", 4, 16);
        at(p, "checks", 5, 3);
        at(p, "checks[0]", 6, 5);
        at(p, "checks[0].plugin", 6, 7);
        at(p, "checks[0].options", 6, 24);
        at(p, "checks[0].options.port", 6, 37);
        at(p, "checks[0].options.host", 7, 2); /* a tab is one column, as in jansson */
        at(p, "checks[1]", 8, 5);
        at(p, "checks[2]", 8, 9);
        at(p, "checks[2][0]", 8, 10);
        at(p, "checks[2][1]", 8, 13);
        at(p, "checks[2][1][1]", 8, 17);
        at(p, "checks[2][1][1].deep", 8, 18);
        at(p, "empty", 10, 3);
        at(p, "list", 10, 16);
        absent(p, "prefixes[2]");
        absent(p, "checks[0].options.source");
        absent(p, "nam");
        absent(p, "name.x");
        absent(p, "list[0]");
        jsonpos_free(p);
}
END_TEST

START_TEST(test_strings_and_escapes)
{
        /* keys are looked up decoded, as jansson hands them out; columns
         * count characters, so "é" and "€" take one column each */
        const char *t = "{\"a\\\"b\": 1, \"\\u00e9t\\u00e9\": \"}{,[\",\n"
                        "\"é€\": {\"x\\\\y\": [\"]\", \"\\\"\"]}, \"\\ud83d\\ude00\": true,\n"
                        " \"k\": -1.5e3, \"z\": \"\\n\"}";
        struct jsonpos *p = idx(t);

        at(p, "a\"b", 1, 2);
        at(p, "été", 1, 13);
        at(p, "é€", 2, 1);
        at(p, "é€.x\\y", 2, 8);
        at(p, "é€.x\\y[0]", 2, 17);
        at(p, "é€.x\\y[1]", 2, 22);
        at(p, "\xf0\x9f\x98\x80", 2, 30);
        at(p, "k", 3, 2);
        at(p, "z", 3, 15);
        jsonpos_free(p);
}
END_TEST

START_TEST(test_root_array_and_crlf)
{
        const char *t = "  [\r\n {\"a\": 1},\r\n 2 ]";
        struct jsonpos *p = idx(t);

        at(p, "", 1, 3);
        at(p, "[0]", 2, 2);
        at(p, "[0].a", 2, 3);
        at(p, "[1]", 3, 2);
        jsonpos_free(p);
}
END_TEST

START_TEST(test_nul_after_number)
{
        /* jansson reads a NUL byte after a number as nothing ("1\0," is
         * "1,"), so a config file may hold one; what follows must still be
         * found, or its errors would lose their position. */
        static const char t[] = "{\"a\": [1\0, 2], \"b\": 3}";
        json_error_t err;
        json_t *root = json_loadb(t, sizeof(t) - 1, 0, &err);
        ck_assert_ptr_nonnull(root);
        json_decref(root);
        struct jsonpos *p = jsonpos_index(t, sizeof(t) - 1);
        ck_assert_ptr_nonnull(p);
        at(p, "a[0]", 1, 8);
        at(p, "a[1]", 1, 12);
        at(p, "b", 1, 16);
        jsonpos_free(p);
}
END_TEST

START_TEST(test_free_null)
{
        int l, c;
        jsonpos_free(NULL);
        ck_assert_int_eq(jsonpos_lookup(NULL, "", &l, &c), -ENOENT);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("jsonpos");
        TCase *tc = tcase_create("jsonpos");
        tcase_add_test(tc, test_nested);
        tcase_add_test(tc, test_strings_and_escapes);
        tcase_add_test(tc, test_root_array_and_crlf);
        tcase_add_test(tc, test_free_null);
        tcase_add_test(tc, test_nul_after_number);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
