/* plugin_fixture.c: see plugin_fixture.h. Plugins are copied (the loader
 * refuses links that leave plugin_dir) from $AHD_BUILD_DIR/checks and
 * checks/testing. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jsonpos.h"
#include "plugin_fixture.h"

char fx_plugdir[256];
sd_event *fx_loop;
struct plugin_host *fx_host;
struct diag fx_diag;

static void copy_file(const char *from, const char *to)
{
        int in = open(from, O_RDONLY | O_CLOEXEC);
        ck_assert_msg(in >= 0, "open %s: %s", from, strerror(errno));
        int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        ck_assert_int_ge(out, 0);
        /* whatever the umask: the loader refuses group-writable plugins */
        ck_assert_int_eq(fchmod(out, 0755), 0);
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof(buf))) > 0)
                ck_assert_int_eq(write(out, buf, n), n);
        close(in);
        close(out);
}

static void copy_plugins(const char *sub)
{
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/%s", getenv("AHD_BUILD_DIR"), sub);
        DIR *d = opendir(dir);
        ck_assert_msg(d, "no %s", dir);
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 4 || strcmp(de->d_name + l - 3, ".so") != 0)
                        continue;
                char from[1024], to[1024];
                snprintf(from, sizeof(from), "%s/%s", dir, de->d_name);
                snprintf(to, sizeof(to), "%s/%s", fx_plugdir, de->d_name);
                copy_file(from, to);
        }
        closedir(d);
}

void fx_setup(void)
{
        ck_assert_ptr_nonnull(getenv("AHD_BUILD_DIR"));
        snprintf(fx_plugdir, sizeof(fx_plugdir), "/tmp/ahd-plugins-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(fx_plugdir));
        copy_plugins("checks");
        copy_plugins("checks/testing");
        ck_assert_int_ge(sd_event_new(&fx_loop), 0);
        ck_assert_int_eq(plugin_host_new(fx_loop, fx_plugdir, &fx_host), 0);
        fx_diag = (struct diag){0};
}

void fx_teardown(void)
{
        plugin_host_free(fx_host);
        sd_event_unref(fx_loop);
        diag_free(&fx_diag);
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", fx_plugdir);
        ck_assert_int_eq(system(cmd), 0);
}

struct fx_svc *fx_svc_new(const char *text)
{
        struct fx_svc *s = calloc(1, sizeof(*s));
        json_error_t err;
        s->text = strdup(text);
        s->root = json_loads(text, 0, &err);
        ck_assert_msg(s->root, "bad test json: %s", err.text);
        s->cfg.name = "svc";
        s->cfg.file = "svc.json";
        s->cfg.pos = jsonpos_index(text, strlen(text));
        json_t *checks = json_object_get(s->root, "checks");
        s->cfg.n_checks = json_array_size(checks);
        s->cfg.checks = calloc(s->cfg.n_checks, sizeof(*s->cfg.checks));
        for (size_t i = 0; i < s->cfg.n_checks; i++) {
                json_t *c = json_array_get(checks, i);
                struct check_cfg *cc = &s->cfg.checks[i];
                cc->plugin = strdup(json_string_value(json_object_get(c, "plugin")));
                json_t *o = json_object_get(c, "options");
                cc->options = o ? json_incref(o) : json_object();
                ck_assert_int_gt(asprintf(&cc->options_path, "checks[%zu].options", i), 0);
                char path[64];
                snprintf(path, sizeof(path), "checks[%zu]", i);
                ck_assert_int_eq(jsonpos_lookup(s->cfg.pos, path, &cc->line, &cc->column), 0);
        }
        return s;
}

struct fx_svc *fx_svc1(const char *plugin, const char *options)
{
        char text[2048];
        snprintf(text, sizeof(text),
                 "{\n  \"name\": \"svc\",\n  \"checks\": [\n    {\n      \"plugin\": \"%s\",\n"
                 "      \"options\": %s\n    }\n  ]\n}\n",
                 plugin, options);
        return fx_svc_new(text);
}

void fx_svc_free(struct fx_svc *s)
{
        for (size_t i = 0; i < s->cfg.n_checks; i++) {
                free(s->cfg.checks[i].plugin);
                json_decref(s->cfg.checks[i].options);
                free(s->cfg.checks[i].options_path);
        }
        free(s->cfg.checks);
        jsonpos_free(s->cfg.pos);
        json_decref(s->root);
        free(s->text);
        free(s);
}

struct check_runner *fx_runner(struct fx_svc *s)
{
        struct check_runner *r = NULL;
        int ret = check_runner_new(fx_host, &s->cfg, 0, &fx_diag, &r);
        if (ret < 0)
                diag_print(&fx_diag, stderr);
        ck_assert_int_eq(ret, 0);
        return r;
}

uint64_t fx_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void fx_on_result(void *userdata, int result, const char *msg, uint64_t dur)
{
        struct fx_res *r = userdata;
        r->n++;
        r->code = result;
        snprintf(r->msg, sizeof(r->msg), "%s", msg);
        r->dur = dur;
        r->at = fx_now();
}

void fx_on_report(void *userdata, int result, const char *msg)
{
        fx_on_result(userdata, result, msg, 0);
}

void fx_run_until(const int *n, int want, uint64_t max_usec)
{
        uint64_t end = fx_now() + max_usec;
        while (*n < want && fx_now() < end)
                ck_assert_int_ge(sd_event_run(fx_loop, 50000), 0);
        ck_assert_int_ge(*n, want);
}

void fx_run_for(uint64_t usec)
{
        uint64_t end = fx_now() + usec;
        while (fx_now() < end)
                ck_assert_int_ge(sd_event_run(fx_loop, 20000), 0);
}

struct fx_res fx_probe(struct check_runner *r, uint64_t timeout)
{
        struct fx_res res = {0};
        ck_assert_int_eq(check_runner_start(r, timeout, fx_on_result, &res), 0);
        ck_assert_int_eq(res.n, 0);
        fx_run_until(&res.n, 1, 30000000);
        fx_run_for(20000);
        ck_assert_int_eq(res.n, 1);
        return res;
}

int fx_refused(const char *plugin, const char *options)
{
        struct fx_svc *s = fx_svc1(plugin, options);
        struct check_runner *r = NULL;
        int ret = check_runner_new(fx_host, &s->cfg, 0, &fx_diag, &r);
        ck_assert_ptr_null(r);
        fx_svc_free(s);
        return ret;
}

const struct diag_msg *fx_expect_diag(const char *needle)
{
        const struct diag_msg *m = diag_find(&fx_diag, needle);
        if (!m)
                diag_print(&fx_diag, stderr);
        ck_assert_msg(m, "no diag containing '%s'", needle);
        return m;
}

struct fx_res fx_probe1(const char *plugin, const char *options, uint64_t timeout)
{
        struct fx_svc *s = fx_svc1(plugin, options);
        struct check_runner *r = fx_runner(s);
        struct fx_res res = fx_probe(r, timeout);
        check_runner_free(r);
        fx_svc_free(s);
        return res;
}
