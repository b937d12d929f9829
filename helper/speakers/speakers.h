/* speakers.h: the table of speakers. A speaker is one folder under
 * helper/speakers/ plus one row in speakers.c; the daemon finds it by the
 * configuration's "backend" (or its --NAME option) and drives it through
 * its backend_ops only. */
#pragma once
#include <stddef.h>

#include "backend.h"

/* Tells the configuration loader about every speaker's block; before any
 * configuration is loaded (main, and tests that load daemon files). */
void speakers_register(void);
/* The row called name; NULL for NULL or an unknown name. */
const struct backend_ops *speaker_by_name(const char *name);
/* Row i, NULL past the last (for --help and the command-line options). */
const struct backend_ops *speaker_at(size_t i);

/* The whole `--withdraw-all` action: loads the daemon file at config_path
 * (services are not read, so a broken service file cannot stop it), picks
 * the speaker (force, a speaker's name, over the config) and lets it
 * withdraw. Under systemd's
 * ExecStopPost= ($SERVICE_RESULT set) it does nothing after a clean stop
 * ("success"): the daemon already did what on_exit says. Returns the exit
 * status. */
int speaker_withdraw_all_main(const char *config_path, const char *force);
