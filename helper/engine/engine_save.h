/* engine_save.h: persisting the engine's manual state (engine_save.c). */
#pragma once

struct engine;

/* Prepares the retry's timer item (engine_new). */
void engine_save_init(struct engine *en);

/* Persists en->manual. 0, or ENGINE_UNSAVED: the write failed (logged
 * once, and once more when a retry succeeds) and is retried on the loop. */
int engine_save_manual(struct engine *en);
