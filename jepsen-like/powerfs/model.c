/* powerfs model: nodes, live and durable namespaces, dirty ranges, the directory journal. */
#define _GNU_SOURCE
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct globals g = {.lock = PTHREAD_MUTEX_INITIALIZER};

void plog(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "powerfs: %s\n", line);
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) {
    plog("out of memory");
    abort();
  }
  return p;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) {
    plog("out of memory");
    abort();
  }
  return p;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return p;
  size_t c = *cap ? *cap * 2 : 8;
  while (c < need) c *= 2;
  void *q = realloc(p, c * elem);
  if (!q) {
    plog("out of memory");
    abort();
  }
  *cap = c;
  return q;
}

struct node *node_get(uint64_t id) {
  if (id == 0 || id >= g.nodes_cap) return NULL;
  return g.nodes[id];
}

struct node *node_new(int is_dir) {
  uint64_t id = g.next_id++;
  size_t old_cap = g.nodes_cap;
  g.nodes = grow(g.nodes, &g.nodes_cap, id + 1, sizeof *g.nodes);
  for (size_t i = old_cap; i < g.nodes_cap; i++) g.nodes[i] = NULL;
  struct node *n = xcalloc(1, sizeof *n);
  n->id = id;
  n->is_dir = is_dir;
  n->dstate = DS_STORED;
  n->min_trunc = -1;
  g.nodes[id] = n;
  return n;
}

void data_path(char *buf, size_t size, uint64_t id) {
  snprintf(buf, size, "%s/%llu", g.data_dir, (unsigned long long)id);
}

/** Frees a node that nothing can reach any more: not live, not durable, not open, not journaled. */
void node_maybe_free(struct node *n) {
  if (!n || n->id == ROOT_ID) return;
  if (n->in_live || n->in_durable || n->open_count > 0 || n->jrefs > 0) return;
  if (n->has_data) {
    char p[4096];
    data_path(p, sizeof p, n->id);
    if (unlink(p) != 0 && errno != ENOENT) plog("unlink %s: %s", p, strerror(errno));
  }
  g.nodes[n->id] = NULL;
  free(n->l_name);
  free(n->d_name);
  free(n->l_kids);
  free(n->d_kids);
  free(n->dirty);
  free(n);
}

struct node *live_child(struct node *dir, const char *name) {
  if (!dir || !dir->is_dir) return NULL;
  for (size_t i = 0; i < dir->l_count; i++) {
    struct node *c = node_get(dir->l_kids[i]);
    if (c && strcmp(c->l_name, name) == 0) return c;
  }
  return NULL;
}

static struct node *durable_child(struct node *dir, const char *name) {
  for (size_t i = 0; i < dir->d_count; i++) {
    struct node *c = node_get(dir->d_kids[i]);
    if (c && strcmp(c->d_name, name) == 0) return c;
  }
  return NULL;
}

struct node *lookup(const char *path) {
  struct node *n = node_get(ROOT_ID);
  if (!path) return NULL;
  char comp[256];
  const char *p = path;
  while (n) {
    while (*p == '/') p++;
    if (!*p) return n;
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len >= sizeof comp) return NULL;
    memcpy(comp, p, len);
    comp[len] = 0;
    n = live_child(n, comp);
    p += len;
  }
  return NULL;
}

struct node *lookup_parent(const char *path, const char **name) {
  if (!path) return NULL;
  const char *slash = strrchr(path, '/');
  if (!slash || !slash[1]) return NULL;
  *name = slash + 1;
  char dir[4096];
  size_t len = (size_t)(slash - path);
  if (len >= sizeof dir) return NULL;
  memcpy(dir, path, len);
  dir[len] = 0;
  struct node *d = lookup(len ? dir : "/");
  return d && d->is_dir ? d : NULL;
}

static void kids_remove(uint64_t *kids, size_t *count, uint64_t id) {
  for (size_t i = 0; i < *count; i++)
    if (kids[i] == id) {
      kids[i] = kids[--*count];
      return;
    }
}

void live_remove(struct node *n) {
  if (!n->in_live) return;
  struct node *p = node_get(n->l_parent);
  if (p) kids_remove(p->l_kids, &p->l_count, n->id);
  n->in_live = 0;
  n->l_parent = 0;
  free(n->l_name);
  n->l_name = NULL;
}

void live_place(struct node *n, struct node *dir, const char *name) {
  live_remove(n);
  dir->l_kids = grow(dir->l_kids, &dir->l_cap, dir->l_count + 1, sizeof *dir->l_kids);
  dir->l_kids[dir->l_count++] = n->id;
  n->l_parent = dir->id;
  n->l_name = xstrdup(name);
  n->in_live = 1;
}

void durable_remove(struct node *n) {
  if (!n->in_durable) return;
  struct node *p = node_get(n->d_parent);
  if (p) kids_remove(p->d_kids, &p->d_count, n->id);
  n->in_durable = 0;
  n->d_parent = 0;
  free(n->d_name);
  n->d_name = NULL;
}

void durable_place(struct node *n, struct node *dir, const char *name) {
  durable_remove(n);
  struct node *old = durable_child(dir, name);
  if (old) {
    durable_remove(old);
    node_maybe_free(old);
  }
  dir->d_kids = grow(dir->d_kids, &dir->d_cap, dir->d_count + 1, sizeof *dir->d_kids);
  dir->d_kids[dir->d_count++] = n->id;
  n->d_parent = dir->id;
  n->d_name = xstrdup(name);
  n->in_durable = 1;
}

static int build_path(struct node *n, char *buf, size_t size, int durable) {
  if (n->id == ROOT_ID) {
    snprintf(buf, size, "/");
    return 0;
  }
  const char *names[256];
  int depth = 0;
  struct node *c = n;
  while (c && c->id != ROOT_ID) {
    if (depth == 256 || !(durable ? c->in_durable : c->in_live)) return -ENOENT;
    names[depth++] = durable ? c->d_name : c->l_name;
    c = node_get(durable ? c->d_parent : c->l_parent);
  }
  if (!c) return -ENOENT;
  size_t off = 0;
  for (int i = depth - 1; i >= 0; i--) {
    int w = snprintf(buf + off, size - off, "/%s", names[i]);
    if (w < 0 || (size_t)w >= size - off) return -ENAMETOOLONG;
    off += (size_t)w;
  }
  return 0;
}

int live_path(struct node *n, char *buf, size_t size) { return build_path(n, buf, size, 0); }
int durable_path(struct node *n, char *buf, size_t size) { return build_path(n, buf, size, 1); }

void join(char *buf, size_t size, const char *base, const char *rel) {
  snprintf(buf, size, "%s%s", base, !rel || strcmp(rel, "/") == 0 ? "" : rel);
}

void dirty_add(struct node *n, off_t start, off_t end) {
  if (end <= start) return;
  n->dirty = grow(n->dirty, &n->dirty_cap, n->dirty_count + 1, sizeof *n->dirty);
  /* insert keeping order, then merge overlapping or touching neighbours */
  size_t i = 0;
  while (i < n->dirty_count && n->dirty[i].start < start) i++;
  memmove(n->dirty + i + 1, n->dirty + i, (n->dirty_count - i) * sizeof *n->dirty);
  n->dirty[i] = (struct range){start, end};
  n->dirty_count++;
  size_t w = 0;
  for (size_t r = 1; r < n->dirty_count; r++) {
    if (n->dirty[r].start <= n->dirty[w].end) {
      if (n->dirty[r].end > n->dirty[w].end) n->dirty[w].end = n->dirty[r].end;
    } else {
      n->dirty[++w] = n->dirty[r];
    }
  }
  n->dirty_count = w + 1;
}

void dirty_clip(struct node *n, off_t size) {
  size_t w = 0;
  for (size_t r = 0; r < n->dirty_count; r++) {
    if (n->dirty[r].start >= size) continue;
    n->dirty[w] = n->dirty[r];
    if (n->dirty[w].end > size) n->dirty[w].end = size;
    w++;
  }
  n->dirty_count = w;
}

uint64_t dirty_bytes(const struct node *n) {
  uint64_t b = 0;
  for (size_t i = 0; i < n->dirty_count; i++) b += (uint64_t)(n->dirty[i].end - n->dirty[i].start);
  return b;
}

void dirty_clear(struct node *n) {
  n->dirty_count = 0;
  n->min_trunc = -1;
  n->last_len = 0;
}

void journal_add(enum op_kind kind, struct node *child, struct node *dir, const char *name, uint64_t touch_a, uint64_t touch_b) {
  g.journal = grow(g.journal, &g.journal_cap, g.journal_count + 1, sizeof *g.journal);
  g.journal[g.journal_count++] = (struct op){
      .kind = kind, .child = child->id, .dir = dir ? dir->id : 0, .name = name ? xstrdup(name) : NULL, .touch_a = touch_a, .touch_b = touch_b};
  child->jrefs++;
}

static void op_release(struct op *o) {
  struct node *c = node_get(o->child);
  free(o->name);
  o->name = NULL;
  if (c) {
    c->jrefs--;
    node_maybe_free(c);
  }
}

static void op_apply(struct op *o) {
  struct node *c = node_get(o->child);
  struct node *d = node_get(o->dir);
  if (c && o->kind == OP_PLACE && d) durable_place(c, d, o->name);
  if (c && o->kind == OP_REMOVE) durable_remove(c);
  o->touch_a = o->touch_b = 0; /* applied */
}

size_t journal_commit(uint64_t dir) {
  /* Applies, in order, the pending ops whose parent (source or destination) is dir. An op that
   * moves a node needs the node's earlier pending ops (its creation in a directory it has since
   * been renamed out of): those are applied first, as a journaling filesystem commits a rename
   * together with what it depends on. */
  size_t applied = 0;
  for (size_t i = 0; i < g.journal_count; i++) {
    struct op *o = &g.journal[i];
    if (o->touch_a != dir && o->touch_b != dir) continue;
    for (size_t j = 0; j < i; j++) {
      struct op *e = &g.journal[j];
      if (e->child == o->child && (e->touch_a || e->touch_b)) {
        op_apply(e);
        applied++;
      }
    }
    op_apply(o);
    applied++;
  }
  size_t w = 0;
  for (size_t r = 0; r < g.journal_count; r++) {
    if (g.journal[r].touch_a == 0 && g.journal[r].touch_b == 0) op_release(&g.journal[r]);
    else g.journal[w++] = g.journal[r];
  }
  g.journal_count = w;
  return applied;
}

void journal_clear(void) {
  for (size_t i = 0; i < g.journal_count; i++) op_release(&g.journal[i]);
  g.journal_count = 0;
}

int copy_file(int src_fd, const char *dst, mode_t mode) {
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0) return -errno;
  char buf[1 << 16];
  off_t off = 0;
  int rc = 0;
  for (;;) {
    ssize_t r = pread(src_fd, buf, sizeof buf, off);
    if (r < 0) {
      if (errno == EINTR) continue;
      rc = -errno;
      break;
    }
    if (r == 0) break;
    ssize_t done = 0;
    while (done < r) {
      ssize_t w = pwrite(out, buf + done, (size_t)(r - done), off + done);
      if (w < 0) {
        if (errno == EINTR) continue;
        rc = -errno;
        break;
      }
      done += w;
    }
    if (rc) break;
    off += r;
  }
  close(out);
  return rc;
}

int make_stored(struct node *n, int fd, const char *backing_path) {
  if (n->is_dir || n->dstate != DS_IMPLICIT) return 0;
  int own = -1;
  if (fd < 0) {
    own = fd = open(backing_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
  }
  struct stat st;
  char p[4096];
  data_path(p, sizeof p, n->id);
  int rc = fstat(fd, &st) == 0 ? copy_file(fd, p, st.st_mode & 07777) : -errno;
  if (own >= 0) close(own);
  if (rc == 0) {
    n->dstate = DS_STORED;
    n->has_data = 1;
  } else {
    plog("copy of node %llu to %s failed: %s", (unsigned long long)n->id, p, strerror(-rc));
  }
  return rc;
}

int persist_file(struct node *n, int fd) {
  if (n->dstate == DS_IMPLICIT) return 0; /* nothing changed since the durable copy */
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  char p[4096];
  data_path(p, sizeof p, n->id);
  int out = open(p, O_RDWR | O_CREAT | O_CLOEXEC, st.st_mode & 07777);
  if (out < 0) return -errno;
  n->has_data = 1;
  int rc = 0;
  if (n->min_trunc >= 0 && ftruncate(out, n->min_trunc) != 0) rc = -errno;
  char buf[1 << 16];
  for (size_t i = 0; rc == 0 && i < n->dirty_count; i++) {
    off_t end = n->dirty[i].end < st.st_size ? n->dirty[i].end : st.st_size;
    for (off_t off = n->dirty[i].start; rc == 0 && off < end;) {
      size_t want = (size_t)(end - off) < sizeof buf ? (size_t)(end - off) : sizeof buf;
      ssize_t r = pread(fd, buf, want, off);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        rc = r < 0 ? -errno : 0;
        break;
      }
      ssize_t w = pwrite(out, buf, (size_t)r, off);
      if (w < 0 && errno == EINTR) continue;
      if (w != r) {
        rc = w < 0 ? -errno : -EIO;
        break;
      }
      off += r;
    }
  }
  if (rc == 0 && ftruncate(out, st.st_size) != 0) rc = -errno;
  close(out);
  if (rc == 0) {
    dirty_clear(n);
    n->unsynced = 0;
  }
  return rc;
}
