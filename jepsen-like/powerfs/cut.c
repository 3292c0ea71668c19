/* powerfs: the initial scan of the backing dir and the power cut. Both run under g.lock. */
#define _GNU_SOURCE
#include "cut.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/** Removes path and everything below it; 0 or -errno. */
int remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -errno;
  if (!S_ISDIR(st.st_mode)) return unlink(path) == 0 ? 0 : -errno;
  DIR *d = opendir(path);
  if (!d) return -errno;
  struct dirent *e;
  int rc = 0;
  char child[4096];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(child, sizeof child, "%s/%s", path, e->d_name);
    int r = remove_tree(child);
    if (r && !rc) rc = r;
  }
  closedir(d);
  if (rmdir(path) != 0 && !rc) rc = -errno;
  return rc;
}

static void scan_dir(struct node *dir, const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    plog("scan %s: %s", path, strerror(errno));
    return;
  }
  struct dirent *e;
  char child[4096];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(child, sizeof child, "%s/%s", path, e->d_name);
    if (dir->id == ROOT_ID && !strcmp(e->d_name, STAGE_NAME)) {
      remove_tree(child);
      continue;
    }
    struct stat st;
    if (lstat(child, &st) != 0) continue;
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
      plog("ignoring %s: only regular files and directories are modelled (it will vanish at the next cut)", child);
      continue;
    }
    struct node *n = node_new(S_ISDIR(st.st_mode));
    n->dstate = DS_IMPLICIT;
    live_place(n, dir, e->d_name);
    durable_place(n, dir, e->d_name);
    if (n->is_dir) scan_dir(n, child);
  }
  closedir(d);
}

void scan_backing(void) {
  struct node *root = node_new(1);
  root->in_live = root->in_durable = 1;
  scan_dir(root, g.backing);
}

static uint64_t rng_next(void) {
  /* xorshift64*: deterministic for a given seed */
  g.rng ^= g.rng >> 12;
  g.rng ^= g.rng << 25;
  g.rng ^= g.rng >> 27;
  return g.rng * 2685821657736338717ULL;
}

/** Keeps a seeded prefix of the node's last unsynced write, cut at a 512-byte boundary of the file; returns the bytes kept. */
static uint64_t tear(struct node *n, const char *staged) {
  char live[4096], lp[4096];
  if (!n->in_live || live_path(n, lp, sizeof lp) != 0) return 0;
  join(live, sizeof live, g.backing, lp);
  off_t start = n->last_off, end = n->last_off + (off_t)n->last_len;
  /* candidates: start, every multiple of 512 strictly inside, end */
  off_t first = (start / 512 + 1) * 512;
  uint64_t inner = first < end ? (uint64_t)((end - 1 - first) / 512 + 1) : 0;
  uint64_t pick = rng_next() % (inner + 2);
  off_t cut = pick == 0 ? start : pick == inner + 1 ? end : first + (off_t)(pick - 1) * 512;
  if (cut == start) return 0;
  int in = open(live, O_RDONLY | O_CLOEXEC);
  if (in < 0) return 0;
  int out = open(staged, O_WRONLY | O_CLOEXEC);
  uint64_t kept = 0;
  char buf[1 << 16];
  for (off_t off = start; out >= 0 && off < cut;) {
    size_t want = (size_t)(cut - off) < sizeof buf ? (size_t)(cut - off) : sizeof buf;
    ssize_t r = pread(in, buf, want, off);
    if (r <= 0) break;
    if (pwrite(out, buf, (size_t)r, off) != r) break;
    off += r;
    kept += (uint64_t)r;
  }
  if (out >= 0) close(out);
  close(in);
  plog("torn write kept %llu of %zu bytes at offset %lld of node %llu", (unsigned long long)kept, n->last_len,
       (long long)start, (unsigned long long)n->id);
  return kept;
}

struct walk {
  struct cut_result *res;
  const char *stage;
};

static int cmp_names(const void *a, const void *b) {
  struct node *x = node_get(*(const uint64_t *)a), *y = node_get(*(const uint64_t *)b);
  return strcmp(x ? x->d_name : "", y ? y->d_name : "");
}

/** Puts the durable content of every node below dir into the stage, in name order (deterministic torn writes). */
static void stage_dir(struct walk *w, struct node *dir, const char *dpath) {
  uint64_t *kids = xcalloc(dir->d_count, sizeof *kids);
  size_t count = dir->d_count;
  memcpy(kids, dir->d_kids, count * sizeof *kids);
  qsort(kids, count, sizeof *kids, cmp_names);
  char staged[4096], src[4096], rel[4096];
  for (size_t i = 0; i < count; i++) {
    struct node *n = node_get(kids[i]);
    if (!n) continue;
    snprintf(staged, sizeof staged, "%s/%s", dpath, n->d_name);
    if (n->is_dir) {
      if (mkdir(staged, 0755) != 0) plog("cut: mkdir %s: %s", staged, strerror(errno));
      stage_dir(w, n, staged);
      continue;
    }
    int moved = 0;
    if (n->dstate == DS_IMPLICIT) {
      if (n->in_live && live_path(n, rel, sizeof rel) == 0) {
        join(src, sizeof src, g.backing, rel);
        moved = rename(src, staged) == 0;
        if (!moved) plog("cut: rename %s: %s", src, strerror(errno));
      } else {
        plog("cut: node %llu has no backing file (invariant broken); it becomes empty", (unsigned long long)n->id);
      }
    } else if (n->has_data) {
      data_path(src, sizeof src, n->id);
      if (rename(src, staged) == 0) {
        moved = 1;
      } else {
        int fd = open(src, O_RDONLY | O_CLOEXEC);
        moved = fd >= 0 && copy_file(fd, staged, 0644) == 0;
        if (fd >= 0) close(fd);
        unlink(src);
      }
      n->has_data = 0;
    }
    if (!moved) {
      int fd = open(staged, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) close(fd);
    }
    if (n->unsynced || n->lost_bytes) w->res->files_reverted++;
    w->res->bytes_discarded += dirty_bytes(n) + n->lost_bytes;
    if (g.torn && n->last_len > 0) {
      uint64_t kept = tear(n, staged);
      w->res->bytes_discarded -= kept < w->res->bytes_discarded ? kept : w->res->bytes_discarded;
    }
  }
  free(kids);
}

/** Marks the durable nodes reachable from dir. */
static void mark_reachable(struct node *dir, unsigned char *seen) {
  seen[dir->id] = 1;
  for (size_t i = 0; i < dir->d_count; i++) {
    struct node *c = node_get(dir->d_kids[i]);
    if (c && !seen[c->id] && c->d_parent == dir->id) {
      if (c->is_dir) mark_reachable(c, seen);
      else seen[c->id] = 1;
    }
  }
}

int cut_power(struct cut_result *res) {
  memset(res, 0, sizeof *res);
  /* durable entries in directories that are not durable themselves are lost */
  unsigned char *seen = xcalloc(g.nodes_cap, 1);
  mark_reachable(node_get(ROOT_ID), seen);
  for (size_t id = 1; id < g.nodes_cap; id++)
    if (g.nodes[id] && g.nodes[id]->in_durable && !seen[id]) durable_remove(g.nodes[id]);
  free(seen);
  char stage[4096], from[4096], to[4096];
  snprintf(stage, sizeof stage, "%s/%s", g.backing, STAGE_NAME);
  remove_tree(stage);
  if (mkdir(stage, 0755) != 0) return -errno;
  /* files that exist only in the live namespace are lost */
  for (size_t id = 1; id < g.nodes_cap; id++) {
    struct node *n = g.nodes[id];
    if (n && !n->is_dir && n->in_live && !n->in_durable) {
      res->files_reverted++;
      res->bytes_discarded += dirty_bytes(n);
    }
  }
  res->entries_reverted = g.journal_count;
  struct walk w = {.res = res, .stage = stage};
  stage_dir(&w, node_get(ROOT_ID), stage);
  /* replace the backing tree by the stage */
  DIR *d = opendir(g.backing);
  if (!d) return -errno;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, STAGE_NAME)) continue;
    snprintf(from, sizeof from, "%s/%s", g.backing, e->d_name);
    int r = remove_tree(from);
    if (r) plog("cut: remove %s: %s", from, strerror(-r));
  }
  closedir(d);
  d = opendir(stage);
  if (!d) return -errno;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(from, sizeof from, "%s/%s", stage, e->d_name);
    snprintf(to, sizeof to, "%s/%s", g.backing, e->d_name);
    if (rename(from, to) != 0) plog("cut: rename %s: %s", from, strerror(errno));
  }
  closedir(d);
  rmdir(stage);
  /* the live namespace becomes the durable one; nodes only live are gone */
  journal_clear();
  for (size_t id = 1; id < g.nodes_cap; id++) {
    struct node *n = g.nodes[id];
    if (!n) continue;
    free(n->l_name);
    n->l_name = n->in_durable && n->d_name ? xstrdup(n->d_name) : NULL;
    n->l_parent = n->d_parent;
    n->in_live = n->in_durable;
    n->l_count = 0;
    if (n->is_dir) {
      n->l_kids = realloc(n->l_kids, (n->d_count ? n->d_count : 1) * sizeof *n->l_kids);
      if (!n->l_kids) abort();
      n->l_cap = n->d_count ? n->d_count : 1;
      memcpy(n->l_kids, n->d_kids, n->d_count * sizeof *n->l_kids);
      n->l_count = n->d_count;
    }
    dirty_clear(n);
    n->unsynced = 0;
    n->lost_bytes = 0;
    if (n->in_durable) n->dstate = DS_IMPLICIT;
  }
  for (size_t id = 1; id < g.nodes_cap; id++) node_maybe_free(g.nodes[id]);
  g.cuts++;
  g.epoch++;
  return 0;
}
