/* hooks.h: commands run on service transitions, without a shell and
 * without blocking the loop: fork + exec in their own process group,
 * stdin and stdout on /dev/null (a speaker may own our stdout),
 * stderr to our log, reaped through sd-event, killed (the whole group) at
 * their timeout. The caller must have SIGCHLD blocked (the plugin host
 * does), as sd-event's child sources require. */
#pragma once
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct hook_runner;

int hook_runner_new(sd_event *e, struct hook_runner **out);
/* Kills every hook still running (SIGKILL to its group) and frees. */
void hook_runner_free(struct hook_runner *h);
/* Starts argv[0] (an absolute path) with argv and env ("KEY=value",
 * NULL-terminated) added to our environment. Returns the child's pid, or a
 * negative errno (-EAGAIN when too many hooks are running already). */
pid_t hook_run(struct hook_runner *h, char *const argv[], char *const env[], uint64_t timeout_usec,
               const char *label);
