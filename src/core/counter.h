/*
 * A map from short string keys (client IP addresses) to counts, used for
 * per-IP connection limits. Entries whose count drops to zero are removed,
 * so the map holds only what is live.
 */
#ifndef TERN_CORE_COUNTER_H
#define TERN_CORE_COUNTER_H

struct counter_map;

struct counter_map *counter_map_new(void);
void counter_map_free(struct counter_map **map);
/* Adds delta (+1 or -1) to key's count and returns the new count. */
unsigned counter_add(struct counter_map *map, const char *key, int delta);
unsigned counter_get(struct counter_map *map, const char *key);
/* Number of keys with a non-zero count. */
unsigned counter_size(struct counter_map *map);

#endif
