/* speakers.h: the table of speakers. A speaker is one folder under
 * helper/speakers/ plus one row in speakers.c; the daemon finds it by the
 * configuration's "backend" (or its --NAME option) and drives it through
 * its backend_ops only. */
#pragma once
#include <stddef.h>

#include "backend.h"

/* The row for kind; NULL for BACKEND_NONE or an unknown kind. */
const struct backend_ops *speaker_by_kind(enum backend_kind kind);
/* The kind a row stands for (BACKEND_NONE when the config knows none). */
enum backend_kind speaker_kind(const struct backend_ops *ops);
/* Row i, NULL past the last (for --help and the command-line options). */
const struct backend_ops *speaker_at(size_t i);

/* The whole `--withdraw-all` action: loads the daemon file at config_path
 * (services are not read, so a broken service file cannot stop it), picks
 * the speaker (force over the config) and lets it withdraw. Under systemd's
 * ExecStopPost= ($SERVICE_RESULT set) it does nothing after a clean stop
 * ("success"): the daemon already did what on_exit says. Returns the exit
 * status. */
int speaker_withdraw_all_main(const char *config_path, enum backend_kind force);
