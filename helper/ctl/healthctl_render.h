/* healthctl_render.h: anycast-healthctl's text for people, as pure
 * functions of the daemon's JSON reply (control_proto.h) and "now". */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* "3m12s ago", "5s ago", "2h3m ago", "4d2h ago"; "-" for since 0. */
void format_ago(char *buf, size_t size, int64_t now, int64_t since);
/* "850us", "1.2ms", "1.50s". */
void format_duration_usec(char *buf, size_t size, uint64_t usec);

/* The status reply ({"pop","now","services":[...]}) as tables: one line per
 * service (state, since, reason), then per service its checks and its
 * prefixes. Returns malloc'd text, or NULL when the reply is not a status. */
char *healthctl_render_status(const json_t *reply);

/* The fleet reply ({"pop","now","fleet":{..},"services":[..]}): a line for
 * the fleet (prefix, endpoint, ready or why not), then per service its
 * floor and how many PoPs announce it, and one line per PoP (announced,
 * held by the floor or not, state, since, reason). Returns malloc'd text,
 * or NULL when the reply is not a fleet view. */
char *healthctl_render_fleet(const json_t *reply);
