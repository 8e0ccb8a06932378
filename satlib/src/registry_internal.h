/* SPDX-License-Identifier: Apache-2.0 */
/* Internal pieces shared by the registry files: the AVL tree that orders
 * objects by id and by index, and the event ring entry points. */
#ifndef SAT_REGISTRY_INTERNAL_H
#define SAT_REGISTRY_INTERNAL_H

#include "satellite/registry.h"

#include <stddef.h>

/* Intrusive AVL tree node; embed it in the element. */
typedef struct sat__avl_node {
    struct sat__avl_node *left, *right;
    int height;
} sat__avl_node;

/* Orders two nodes (negative, 0, positive). Keys are unique in a tree. */
typedef int (*sat__avl_cmp_fn)(const sat__avl_node *a, const sat__avl_node *b);
/* Orders a search key against a node. */
typedef int (*sat__avl_key_fn)(const void *key, const sat__avl_node *node);

typedef struct sat__avl {
    sat__avl_node *root;
    sat__avl_cmp_fn cmp;
} sat__avl;

/* In-order iterator: a stack of the ancestors still to visit. An AVL tree
 * of 2^32 nodes is under 48 levels high, so 64 slots always suffice. */
typedef struct sat__avl_iter {
    sat__avl_node *stack[64];
    int depth;
} sat__avl_iter;

void sat__avl_insert(sat__avl *tree, sat__avl_node *node);
void sat__avl_remove(sat__avl *tree, sat__avl_node *node);
sat__avl_node *sat__avl_find(const sat__avl *tree, const void *key, sat__avl_key_fn keycmp);
/* Positions the iterator before the first node strictly greater than key
 * (key NULL: before the first node) and returns that node, or NULL. */
sat__avl_node *sat__avl_upper(const sat__avl *tree, const void *key, sat__avl_key_fn keycmp,
                              sat__avl_iter *it);
/* Returns the node after the one last returned by the iterator, or NULL. */
sat__avl_node *sat__avl_next(sat__avl_iter *it);

/* Finds a live object by type name and id and marks it busy, so its ctx
 * stays valid until sat__registry_release. Returns NULL when not found. */
sat_registry_object *sat__registry_acquire(sat_registry *reg, const char *type, const char *id);
void sat__registry_release(sat_registry_object *obj);
void *sat__object_ctx(const sat_registry_object *obj);
const sat_type_def *sat__object_def(const sat_registry_object *obj);

/* Event ring and listeners, implemented in registry_events.c. */
typedef struct sat__events sat__events;

sat__events *sat__events_new(size_t capacity);
void sat__events_free(sat__events *ev);
/* Records one event and calls the listeners after the ring lock is
 * released. Strings are copied into the ring. */
void sat__events_emit(sat__events *ev, sat_event_kind kind, const char *type, const char *id,
                      const char *detail, int result);
sat__events *sat__registry_events(sat_registry *reg);

#endif
