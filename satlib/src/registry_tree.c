/* SPDX-License-Identifier: Apache-2.0 */
/* Intrusive AVL tree used by the registry to keep objects ordered by id and
 * by index, with O(log n) lookups and an in-order iterator. Locking is the
 * caller's job. */
#include "registry_internal.h"

#include <assert.h>

static int height(const sat__avl_node *n)
{
    return n ? n->height : 0;
}

static void update(sat__avl_node *n)
{
    int l = height(n->left);
    int r = height(n->right);

    n->height = (l > r ? l : r) + 1;
}

static sat__avl_node *rotate_right(sat__avl_node *n)
{
    sat__avl_node *l = n->left;

    if (!l)
        return n;
    n->left = l->right;
    l->right = n;
    update(n);
    update(l);
    return l;
}

static sat__avl_node *rotate_left(sat__avl_node *n)
{
    sat__avl_node *r = n->right;

    if (!r)
        return n;
    n->right = r->left;
    r->left = n;
    update(n);
    update(r);
    return r;
}

static sat__avl_node *rebalance(sat__avl_node *n)
{
    int balance;

    update(n);
    balance = height(n->left) - height(n->right);
    if (balance > 1) {
        if (height(n->left->left) < height(n->left->right))
            n->left = rotate_left(n->left);
        return rotate_right(n);
    }
    if (balance < -1) {
        if (height(n->right->right) < height(n->right->left))
            n->right = rotate_right(n->right);
        return rotate_left(n);
    }
    return n;
}

static sat__avl_node *insert_at(sat__avl_node *root, sat__avl_node *node, sat__avl_cmp_fn cmp)
{
    int c;

    if (!root)
        return node;
    c = cmp(node, root);
    assert(c != 0);
    if (c < 0)
        root->left = insert_at(root->left, node, cmp);
    else
        root->right = insert_at(root->right, node, cmp);
    return rebalance(root);
}

void sat__avl_insert(sat__avl *tree, sat__avl_node *node)
{
    node->left = node->right = NULL;
    node->height = 1;
    tree->root = insert_at(tree->root, node, tree->cmp);
}

/* Detaches the smallest node of a subtree into *min and returns the rest. */
static sat__avl_node *take_min(sat__avl_node *root, sat__avl_node **min)
{
    if (!root->left) {
        *min = root;
        return root->right;
    }
    root->left = take_min(root->left, min);
    return rebalance(root);
}

static sat__avl_node *remove_at(sat__avl_node *root, sat__avl_node *node, sat__avl_cmp_fn cmp)
{
    sat__avl_node *succ = NULL;
    int c;

    if (!root)
        return NULL;
    c = cmp(node, root);
    if (c < 0) {
        root->left = remove_at(root->left, node, cmp);
        return rebalance(root);
    }
    if (c > 0) {
        root->right = remove_at(root->right, node, cmp);
        return rebalance(root);
    }
    if (!root->right)
        return root->left;
    root->right = take_min(root->right, &succ);
    succ->left = root->left;
    succ->right = root->right;
    return rebalance(succ);
}

void sat__avl_remove(sat__avl *tree, sat__avl_node *node)
{
    tree->root = remove_at(tree->root, node, tree->cmp);
}

sat__avl_node *sat__avl_find(const sat__avl *tree, const void *key, sat__avl_key_fn keycmp)
{
    sat__avl_node *n = tree->root;

    while (n) {
        int c = keycmp(key, n);

        if (c == 0)
            return n;
        n = c < 0 ? n->left : n->right;
    }
    return NULL;
}

static void push_left_spine(sat__avl_iter *it, sat__avl_node *n)
{
    while (n) {
        assert(it->depth < (int)(sizeof(it->stack) / sizeof(it->stack[0])));
        it->stack[it->depth++] = n;
        n = n->left;
    }
}

sat__avl_node *sat__avl_upper(const sat__avl *tree, const void *key, sat__avl_key_fn keycmp,
                              sat__avl_iter *it)
{
    sat__avl_node *n = tree->root;

    it->depth = 0;
    if (!key) {
        push_left_spine(it, n);
        return sat__avl_next(it);
    }
    /* Every node where the search turns left is greater than key and is
     * visited after its left subtree, so it goes on the stack. */
    while (n) {
        if (keycmp(key, n) < 0) {
            it->stack[it->depth++] = n;
            n = n->left;
        } else {
            n = n->right;
        }
    }
    return sat__avl_next(it);
}

sat__avl_node *sat__avl_next(sat__avl_iter *it)
{
    sat__avl_node *n;

    if (it->depth == 0)
        return NULL;
    n = it->stack[--it->depth];
    push_left_spine(it, n->right);
    return n;
}
