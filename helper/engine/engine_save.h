/* engine_save.h: persisting the engine's manual state (engine_save.c). */
#pragma once

struct engine;

/* Persists en->manual. 0, or ENGINE_UNSAVED: the write failed (logged
 * once, and once more when a retry succeeds) and is retried on the loop. */
int engine_save_manual(struct engine *en);
