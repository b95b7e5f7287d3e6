/*
 * RFC 5256 THREAD: ORDEREDSUBJECT (section 3, "ORDEREDSUBJECT") and
 * REFERENCES (section 3, steps 1-7, after Jamie Zawinski's algorithm).
 * Nodes live in one array sized up front (messages, one per distinct
 * reference, one per possible subject-merge dummy), so pointers between
 * them stay valid. Every traversal is iterative (breadth-first order
 * array, explicit stack for output): a mailbox crafted with a reference
 * chain of a million messages cannot overflow the stack.
 */
#include "mail/mail_thread.h"
#include "mail/mail_casemap.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

struct tnode {
	const struct mail_thread_msg *msg;	/* NULL: a dummy */
	size_t seq;				/* index in msgs: breaks date ties */
	struct tnode *parent, *child, *next;
	size_t root_pos;			/* step 5: index among the roots */
};

/* Open addressing from a string key (borrowed) to a node. */
struct htab {
	const char **keys;
	struct tnode **vals;
	size_t cap;		/* a power of two, at least twice the entries */
};

struct tree {
	struct tnode root;
	struct tnode *nodes;	/* owned */
	size_t n, cap;
	struct htab ids;
	char **strings;		/* owned: reference ids and folded subjects */
	size_t n_strings, cap_strings;
};

static void htab_init(struct htab *h, size_t entries)
{
	h->cap = 16;
	while (h->cap < entries * 2)
		h->cap *= 2;
	h->keys = xcalloc(h->cap, sizeof(*h->keys));
	h->vals = xcalloc(h->cap, sizeof(*h->vals));
}

static void htab_deinit(struct htab *h)
{
	free(h->keys);
	free(h->vals);
	memset(h, 0, sizeof(*h));
}

/* The slot of key: holding it, or empty (keys[i] NULL) to insert it. */
static size_t htab_slot(const struct htab *h, const char *key)
{
	uint64_t hash = 1469598103934665603ULL;
	const unsigned char *p;
	size_t i;

	for (p = (const unsigned char *)key; *p != '\0'; p++)
		hash = (hash ^ *p) * 1099511628211ULL;
	for (i = (size_t)hash & (h->cap - 1); h->keys[i] != NULL; i = (i + 1) & (h->cap - 1)) {
		if (strcmp(h->keys[i], key) == 0)
			break;
	}
	return i;
}

static char *tree_keep(struct tree *t, char *s)
{
	if (t->n_strings == t->cap_strings) {
		t->cap_strings = t->cap_strings ? t->cap_strings * 2 : 64;
		t->strings = xrealloc(t->strings, t->cap_strings * sizeof(*t->strings));
	}
	t->strings[t->n_strings++] = s;
	return s;
}

static struct tnode *tree_node(struct tree *t, const struct mail_thread_msg *msg, size_t seq)
{
	struct tnode *n;

	if (t->n == t->cap)
		fatal("mail_thread: node array too small");	/* sized by tree_init */
	n = &t->nodes[t->n++];
	memset(n, 0, sizeof(*n));
	n->msg = msg;
	n->seq = seq;
	return n;
}

static size_t count_refs(const char *refs)
{
	size_t n = 0;
	const char *p;

	for (p = refs; p != NULL && *p != '\0'; p++)
		n += *p != ' ' && (p == refs || p[-1] == ' ');
	return n;
}

static void tree_init(struct tree *t, const struct mail_thread_msg *msgs, size_t n)
{
	size_t refs = 0, i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++)
		refs += count_refs(msgs[i].refs);
	/* messages, a dummy per reference, a step 5 dummy per root */
	t->cap = 2 * (n + refs) + 1;
	t->nodes = xcalloc(t->cap, sizeof(*t->nodes));
	htab_init(&t->ids, n + refs);
}

static void tree_deinit(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n_strings; i++)
		free(t->strings[i]);
	free(t->strings);
	free(t->nodes);
	htab_deinit(&t->ids);
}

/* ---- links ---- */

static void add_child(struct tnode *p, struct tnode *c)
{
	c->parent = p;
	c->next = p->child;
	p->child = c;
}

static void unlink_node(struct tnode *c)
{
	struct tnode **pp;

	if (c->parent == NULL)
		return;
	for (pp = &c->parent->child; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->parent = NULL;
	c->next = NULL;
}

/* True if a is b or below it. A walk up from a costs its depth, so the
 * usual case (b is a leaf: a new message) is answered at once. */
static bool is_descendant(const struct tnode *a, const struct tnode *b)
{
	if (b->child == NULL)
		return a == b;
	for (; a != NULL; a = a->parent) {
		if (a == b)
			return true;
	}
	return false;
}

/* ---- ordering (RFC 5256 2.2: sent date, then sequence number) ---- */

/* A dummy sorts as its first child (its children are sorted first). */
static const struct tnode *sort_key(const struct tnode *n)
{
	while (n->msg == NULL && n->child != NULL)
		n = n->child;
	return n;
}

static int node_cmp(const void *a, const void *b)
{
	const struct tnode *x = sort_key(*(struct tnode *const *)a);
	const struct tnode *y = sort_key(*(struct tnode *const *)b);
	int64_t dx = x->msg ? x->msg->date : 0, dy = y->msg ? y->msg->date : 0;

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void sort_children(struct tnode *p, struct tnode **scratch)
{
	struct tnode *c;
	size_t k = 0, i;

	for (c = p->child; c != NULL; c = c->next)
		scratch[k++] = c;
	if (k < 2)
		return;
	qsort(scratch, k, sizeof(*scratch), node_cmp);
	p->child = scratch[0];
	for (i = 0; i < k; i++)
		scratch[i]->next = i + 1 < k ? scratch[i + 1] : NULL;
}

/* The nodes under root in breadth-first order (root first); returns the count. */
static size_t bfs_order(struct tree *t, struct tnode **order)
{
	size_t head = 0, k = 0;
	struct tnode *c;

	order[k++] = &t->root;
	while (head < k) {
		for (c = order[head++]->child; c != NULL; c = c->next)
			order[k++] = c;
	}
	return k;
}

/* Step 6: every set of siblings by date, deepest first, so that a dummy's
 * key (its first child) is final before its own siblings are sorted. */
static void sort_all(struct tree *t)
{
	struct tnode **order = xcalloc(t->n + 1, sizeof(*order));
	struct tnode **scratch = xcalloc(t->n + 1, sizeof(*scratch));
	size_t k = bfs_order(t, order);

	while (k-- > 0)
		sort_children(order[k], scratch);
	free(order);
	free(scratch);
}

/* ---- output (RFC 5256 4: thread-list) ---- */

/* "(3 6 (4 23)(44 7 96))": a node with one child continues its list, a
 * node with several opens one list per child; dummies print no number. */
static int write_threads(struct tree *t, struct buf *out)
{
	struct tnode **stack = xcalloc(t->n + 2, sizeof(*stack));
	size_t depth = 1;
	int ret = 0;

	stack[0] = t->root.child;
	while (depth > 0 && ret == 0) {
		struct tnode *n = stack[depth - 1];
		bool printed = false;

		if (n == NULL) {
			if (--depth > 0)
				ret = buf_append_char(out, ')');
			continue;
		}
		stack[depth - 1] = n->next;
		ret = buf_append_char(out, '(');
		for (;;) {
			if (n->msg != NULL) {
				ret |= buf_printf(out, printed ? " %u" : "%u", n->msg->id);
				printed = true;
			}
			if (n->child == NULL || n->child->next != NULL)
				break;
			n = n->child;
		}
		if (n->child == NULL) {
			ret |= buf_append_char(out, ')');
			continue;
		}
		if (printed)
			ret |= buf_append_char(out, ' ');
		stack[depth++] = n->child;
	}
	free(stack);
	return ret < 0 ? -1 : 0;
}

/* ---- ORDEREDSUBJECT ---- */

struct subj_entry {
	struct tnode *node;
	const char *folded;	/* borrowed from the tree's strings */
};

static int subj_cmp(const void *a, const void *b)
{
	const struct subj_entry *x = a, *y = b;
	int c = strcmp(x->folded, y->folded);

	if (c != 0)
		return c;
	return node_cmp(&x->node, &y->node);
}

static const char *fold_subject(struct tree *t, const char *subject)
{
	struct buf b;

	buf_init(&b, 0);
	(void)mail_casefold(subject ? subject : "", subject ? strlen(subject) : 0, &b);
	return tree_keep(t, buf_steal(&b, NULL));
}

int mail_thread_orderedsubject(const struct mail_thread_msg *msgs, size_t n, struct buf *out)
{
	struct subj_entry *e = xcalloc(n ? n : 1, sizeof(*e));
	struct tnode *top = NULL;
	struct tree t;
	size_t i;
	int ret;

	tree_init(&t, msgs, n);
	for (i = 0; i < n; i++) {
		e[i].node = tree_node(&t, &msgs[i], i);
		e[i].folded = fold_subject(&t, msgs[i].base_subject);
	}
	/* by subject, then date: each run of one subject is a thread whose
	 * first message is the parent of all the others */
	qsort(e, n, sizeof(*e), subj_cmp);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(e[i].folded, e[i - 1].folded) != 0) {
			top = e[i].node;
			add_child(&t.root, top);
		} else {
			add_child(top, e[i].node);
		}
	}
	sort_all(&t);
	ret = write_threads(&t, out);
	free(e);
	tree_deinit(&t);
	return ret;
}

/* ---- REFERENCES ---- */

/* The node of a message id, made a dummy if it is new. */
static struct tnode *id_node(struct tree *t, const char *id)
{
	size_t slot = htab_slot(&t->ids, id);

	if (t->ids.keys[slot] == NULL) {
		t->ids.keys[slot] = id;
		t->ids.vals[slot] = tree_node(t, NULL, 0);
	}
	return t->ids.vals[slot];
}

/* Step 1: a message without a Message-ID, or with one an earlier message
 * already used, gets a node of its own that no reference can reach. */
static struct tnode *msg_node(struct tree *t, const struct mail_thread_msg *m, size_t seq)
{
	struct tnode *n;

	if (m->message_id == NULL || m->message_id[0] == '\0')
		return tree_node(t, m, seq);
	n = id_node(t, m->message_id);
	if (n->msg != NULL)
		return tree_node(t, m, seq);
	n->msg = m;
	n->seq = seq;
	return n;
}

/* Steps 1.A and 1.B for one message. */
static void link_refs(struct tree *t, const struct mail_thread_msg *m, size_t seq)
{
	struct tnode *node = msg_node(t, m, seq), *prev = NULL, *rn;
	const char *p = m->refs ? m->refs : "", *end;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		rn = id_node(t, tree_keep(t, xstrndup(p, (size_t)(end - p))));
		/* 1.A: keep an existing parent (References may be truncated);
		 * never make a loop */
		if (prev != NULL && rn->parent == NULL && !is_descendant(prev, rn))
			add_child(prev, rn);
		prev = rn;
		p = end;
	}
	/* 1.B: the last reference is the parent, replacing any other */
	unlink_node(node);
	if (prev != NULL && !is_descendant(prev, node))
		add_child(prev, node);
}

/* Step 3 for the children of p: dummies without children go; a dummy's
 * children take its place, except that at the root only a lone child is
 * promoted. Spliced children are examined again (they may be dummies). */
static void prune_level(struct tnode *p, bool root)
{
	struct tnode *list = p->child, *c, *kids, *last, **tail = &p->child;

	p->child = NULL;
	while (list != NULL) {
		c = list;
		list = c->next;
		c->next = NULL;
		if (c->msg == NULL && root && c->child != NULL) {
			prune_level(c, false);	/* one level: no deep recursion */
			if (c->child != NULL && c->child->next != NULL) {
				*tail = c;
				tail = &c->next;
				continue;
			}
		}
		if (c->msg == NULL) {
			if ((kids = c->child) == NULL)
				continue;
			c->child = NULL;
			last = kids;
			while (last->next != NULL)
				last = last->next;
			last->next = list;
			list = kids;
			continue;
		}
		c->parent = p;
		*tail = c;
		tail = &c->next;
	}
}

/* Steps 2-3: parentless nodes under the root, then pruning top-down. */
static void gather_and_prune(struct tree *t)
{
	struct tnode **order = xcalloc(t->n + 1, sizeof(*order));
	size_t head = 0, k = 0, i;
	struct tnode *c;

	for (i = 0; i < t->n; i++) {
		if (t->nodes[i].parent == NULL)
			add_child(&t->root, &t->nodes[i]);
	}
	order[k++] = &t->root;
	while (head < k) {
		struct tnode *p = order[head++];

		prune_level(p, p == &t->root);
		for (c = p->child; c != NULL; c = c->next)
			order[k++] = c;
	}
	free(order);
}

/* Step 5.B.i: the base subject of a root, or of a dummy's first child. */
static const char *thread_subject(struct tree *t, struct tnode *n)
{
	const struct tnode *m = n->msg != NULL ? n : n->child;

	if (m == NULL || m->msg == NULL || m->msg->base_subject == NULL ||
	    m->msg->base_subject[0] == '\0')
		return NULL;
	return fold_subject(t, m->msg->base_subject);
}

/* Step 5.B: one root per subject, preferring dummies, then non-replies. */
static void subject_table(struct tree *t, struct tnode **roots, size_t k, const char **subj,
			  struct htab *h)
{
	size_t i, slot;

	for (i = 0; i < k; i++) {
		struct tnode *cur = roots[i], *old;

		if (subj[i] == NULL)
			continue;
		slot = htab_slot(h, subj[i]);
		if (h->keys[slot] == NULL) {
			h->keys[slot] = subj[i];
			h->vals[slot] = cur;
			continue;
		}
		old = h->vals[slot];
		if (old->msg != NULL &&
		    (cur->msg == NULL || (old->msg->is_reply && !cur->msg->is_reply)))
			h->vals[slot] = cur;
	}
}

/* Step 5.C.v: merges root cur into the table's root for its subject. */
static void subject_merge(struct tree *t, struct tnode **roots, struct tnode *cur,
			  struct tnode **slot_val)
{
	struct tnode *old = *slot_val, *kid, *next, *d;

	roots[cur->root_pos] = NULL;
	if (old->msg == NULL && cur->msg == NULL) {
		for (kid = cur->child; kid != NULL; kid = next) {
			next = kid->next;
			add_child(old, kid);
		}
		cur->child = NULL;
	} else if (old->msg == NULL ||
		   (cur->msg != NULL && cur->msg->is_reply && !old->msg->is_reply)) {
		add_child(old, cur);
	} else {
		d = tree_node(t, NULL, 0);
		d->root_pos = old->root_pos;
		roots[d->root_pos] = d;
		add_child(d, old);
		add_child(d, cur);
		*slot_val = d;
	}
}

/* Steps 4-5: sort the roots, then merge the threads sharing a subject. */
static void merge_subjects(struct tree *t)
{
	struct tnode **roots, **scratch = xcalloc(t->n + 1, sizeof(*scratch)), *c;
	const char **subj;
	struct htab h;
	size_t k = 0, i;

	for (c = t->root.child; c != NULL; c = c->next) {
		if (c->msg == NULL)
			sort_children(c, scratch);
		k++;
	}
	sort_children(&t->root, scratch);
	roots = xcalloc(k + 1, sizeof(*roots));
	subj = xcalloc(k + 1, sizeof(*subj));
	for (c = t->root.child, i = 0; c != NULL; c = c->next, i++) {
		roots[i] = c;
		c->root_pos = i;
		subj[i] = thread_subject(t, c);
	}
	htab_init(&h, k);
	subject_table(t, roots, k, subj, &h);
	for (i = 0; i < k; i++) {
		size_t slot;

		if (roots[i] == NULL || subj[i] == NULL)
			continue;
		slot = htab_slot(&h, subj[i]);
		if (h.vals[slot] != roots[i])
			subject_merge(t, roots, roots[i], &h.vals[slot]);
	}
	t->root.child = NULL;
	while (k-- > 0) {
		if (roots[k] != NULL)
			add_child(&t->root, roots[k]);
	}
	htab_deinit(&h);
	free(roots);
	free(subj);
	free(scratch);
}

int mail_thread_refs(const struct mail_thread_msg *msgs, size_t n, struct buf *out)
{
	struct tree t;
	size_t i;
	int ret;

	tree_init(&t, msgs, n);
	for (i = 0; i < n; i++)
		link_refs(&t, &msgs[i], i);
	gather_and_prune(&t);
	merge_subjects(&t);
	sort_all(&t);
	ret = write_threads(&t, out);
	tree_deinit(&t);
	return ret;
}
