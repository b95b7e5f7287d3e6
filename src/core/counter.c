/*
 * Chained hash map of string -> unsigned. The table doubles when it gets
 * full; keys are hashed with FNV-1a, which is enough here because the
 * number of live keys is bounded by the connection limit.
 */
#include "core/counter.h"
#include "core/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct counter_entry {
	char *key;		/* owned */
	unsigned count;
	struct counter_entry *next;
};

struct counter_map {
	struct counter_entry **slots;	/* owned */
	size_t n_slots;
	unsigned n_keys;
};

static size_t hash_key(const char *key, size_t n_slots)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ULL;
	}
	return (size_t)(h % n_slots);
}

struct counter_map *counter_map_new(void)
{
	struct counter_map *map = xcalloc(1, sizeof(*map));

	map->n_slots = 64;
	map->slots = xcalloc(map->n_slots, sizeof(*map->slots));
	return map;
}

void counter_map_free(struct counter_map **mapp)
{
	struct counter_map *map = *mapp;
	struct counter_entry *e, *next;
	size_t i;

	if (map == NULL)
		return;
	for (i = 0; i < map->n_slots; i++) {
		for (e = map->slots[i]; e != NULL; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	free(map->slots);
	free(map);
	*mapp = NULL;
}

static void counter_grow(struct counter_map *map)
{
	size_t n = map->n_slots * 2, i;
	struct counter_entry **slots = xcalloc(n, sizeof(*slots));
	struct counter_entry *e, *next;

	for (i = 0; i < map->n_slots; i++) {
		for (e = map->slots[i]; e != NULL; e = next) {
			size_t h = hash_key(e->key, n);

			next = e->next;
			e->next = slots[h];
			slots[h] = e;
		}
	}
	free(map->slots);
	map->slots = slots;
	map->n_slots = n;
}

unsigned counter_add(struct counter_map *map, const char *key, int delta)
{
	struct counter_entry **pp, *e;
	size_t h = hash_key(key, map->n_slots);

	for (pp = &map->slots[h]; (e = *pp) != NULL; pp = &e->next) {
		if (strcmp(e->key, key) != 0)
			continue;
		if (delta < 0 && e->count <= (unsigned)-delta) {
			*pp = e->next;
			free(e->key);
			free(e);
			map->n_keys--;
			return 0;
		}
		e->count += (unsigned)delta;
		return e->count;
	}
	if (delta <= 0)
		return 0;
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->count = (unsigned)delta;
	e->next = map->slots[h];
	map->slots[h] = e;
	if (++map->n_keys > map->n_slots)
		counter_grow(map);
	return (unsigned)delta;
}

unsigned counter_get(struct counter_map *map, const char *key)
{
	struct counter_entry *e;

	for (e = map->slots[hash_key(key, map->n_slots)]; e != NULL; e = e->next) {
		if (strcmp(e->key, key) == 0)
			return e->count;
	}
	return 0;
}

unsigned counter_size(struct counter_map *map)
{
	return map->n_keys;
}
