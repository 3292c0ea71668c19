/*
 * powerfs: a FUSE 3 filesystem that passes reads and writes through to a backing directory (the
 * page cache view) while keeping apart what a power cut would leave (the durable image): file
 * data counts only once fsynced, directory entries only once their parent directory is fsynced.
 * A control socket drives power cuts and faults (see control.c). Logs go to stderr.
 *
 *   powerfs [--trace] [--die-with-parent] --backing DIR --durable DIR --control SOCKET MOUNTPOINT [fuse options]
 */
#define FUSE_USE_VERSION 35
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "control.h"
#include "cut.h"
#include "model.h"

/** An open file: the backing fd and the node it belongs to (paths change, nodes do not). */
struct handle {
  int fd;
  uint64_t id;
  uint64_t epoch;
  int append;
};

static int trace;
#define TRACE(...) \
  do { \
    if (trace) plog(__VA_ARGS__); \
  } while (0)

#define LOCK() pthread_mutex_lock(&g.lock)
#define UNLOCK() pthread_mutex_unlock(&g.lock)

static void bpath(char *buf, size_t size, const char *path) { join(buf, size, g.backing, path); }

static struct handle *H(struct fuse_file_info *fi) { return fi ? (struct handle *)(uintptr_t)fi->fh : NULL; }

/** The node behind a handle, or NULL when the handle predates the last cut. */
static struct node *handle_node(struct handle *h) { return h->epoch == g.epoch ? node_get(h->id) : NULL; }

static void *pf_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  /* no kernel caching of names or attributes: a cut changes the backing tree underneath */
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->hard_remove = 1;
  cfg->nullpath_ok = 1;
  cfg->use_ino = 0;
  control_start();
  plog("mounted (backing %s, durable %s)", g.backing, g.durable);
  return NULL;
}

static int pf_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  struct handle *h = H(fi);
  if (h) return fstat(h->fd, st) == 0 ? 0 : -errno;
  char p[4096];
  bpath(p, sizeof p, path);
  return lstat(p, st) == 0 ? 0 : -errno;
}

static int pf_access(const char *path, int mask) {
  char p[4096];
  bpath(p, sizeof p, path);
  return access(p, mask) == 0 ? 0 : -errno;
}

static int pf_opendir(const char *path, struct fuse_file_info *fi) {
  LOCK();
  struct node *n = lookup(path);
  fi->fh = n ? n->id : 0;
  UNLOCK();
  return n ? 0 : -ENOENT;
}

static int pf_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags) {
  (void)off, (void)flags, (void)path;
  /* with nullpath_ok, path is NULL here: the directory is the node opendir found */
  char rel[4096], p[4096];
  LOCK();
  struct node *n = node_get(fi->fh);
  int rc = n ? live_path(n, rel, sizeof rel) : -ENOENT;
  UNLOCK();
  if (rc) return rc;
  bpath(p, sizeof p, rel);
  DIR *d = opendir(p);
  if (!d) return -errno;
  int root = strcmp(rel, "/") == 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (root && !strcmp(e->d_name, STAGE_NAME)) continue;
    struct stat st = {.st_ino = e->d_ino, .st_mode = (mode_t)DTTOIF(e->d_type)};
    if (fill(buf, e->d_name, &st, 0, 0)) break;
  }
  closedir(d);
  return 0;
}

static int pf_releasedir(const char *path, struct fuse_file_info *fi) {
  (void)path, (void)fi;
  return 0;
}

static int pf_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path, (void)datasync;
  LOCK();
  g.fsyncs++;
  int rc = 0;
  if (g.enospc) rc = -ENOSPC;
  else if (g.eio_fsync) rc = -EIO; /* the pending entries stay pending */
  else if (fi->fh) journal_commit(fi->fh);
  TRACE("fsyncdir node %llu -> %d (%zu pending)", (unsigned long long)fi->fh, rc, g.journal_count);
  UNLOCK();
  return rc;
}

static int pf_mkdir(const char *path, mode_t mode) {
  LOCK();
  const char *name;
  struct node *dir = lookup_parent(path, &name);
  int rc = 0;
  char p[4096];
  bpath(p, sizeof p, path);
  if (g.enospc) rc = -ENOSPC;
  else if (!dir) rc = -ENOENT;
  else if (mkdir(p, mode) != 0) rc = -errno;
  else {
    struct node *n = node_new(1);
    live_place(n, dir, name);
    journal_add(OP_PLACE, n, dir, name, dir->id, dir->id);
  }
  UNLOCK();
  return rc;
}

/** Keeps the durable content of a node leaving the live namespace whose content lived only in its backing file. */
static int preserve_leaving(struct node *n, const char *p, int use_link) {
  if (n->is_dir || n->dstate != DS_IMPLICIT) return 0;
  char d[4096];
  data_path(d, sizeof d, n->id);
  if (n->open_count == 0 && (use_link ? link(p, d) : rename(p, d)) == 0) {
    n->dstate = DS_STORED;
    n->has_data = 1;
    return use_link ? 0 : 1; /* 1: the rename already removed it */
  }
  return make_stored(n, -1, p);
}

/* After unlink or rmdir removed `n` from the backing dir: journal the removal (durable only once
 * its directory is fsynced) and drop it from the live tree. */
static void forget_removed(struct node *n) {
  struct node *dir = node_get(n->l_parent);
  journal_add(OP_REMOVE, n, NULL, NULL, dir->id, dir->id);
  live_remove(n);
  node_maybe_free(n);
}

static int pf_unlink(const char *path) {
  LOCK();
  TRACE("unlink %s", path);
  struct node *n = lookup(path);
  char p[4096];
  bpath(p, sizeof p, path);
  int rc = 0;
  if (!n) rc = -ENOENT;
  else if (n->is_dir) rc = -EISDIR;
  else {
    rc = preserve_leaving(n, p, 0);
    if (rc == 0 && unlink(p) != 0) rc = -errno;
    if (rc >= 0) {
      rc = 0;
      forget_removed(n);
    }
  }
  UNLOCK();
  return rc;
}

static int pf_rmdir(const char *path) {
  LOCK();
  struct node *n = lookup(path);
  char p[4096];
  bpath(p, sizeof p, path);
  int rc = 0;
  if (!n) rc = -ENOENT;
  else if (!n->is_dir) rc = -ENOTDIR;
  else if (n->id == ROOT_ID) rc = -EBUSY;
  else if (rmdir(p) != 0) rc = -errno;
  else forget_removed(n);
  UNLOCK();
  return rc;
}

static int pf_rename(const char *from, const char *to, unsigned int flags) {
  if (flags & RENAME_EXCHANGE) return -EINVAL;
  LOCK();
  TRACE("rename %s %s", from, to);
  const char *name;
  struct node *n = lookup(from);
  struct node *dir = lookup_parent(to, &name);
  struct node *old = dir ? live_child(dir, name) : NULL;
  char pf[4096], pt[4096];
  bpath(pf, sizeof pf, from);
  bpath(pt, sizeof pt, to);
  int rc = 0;
  if (!n || !dir) rc = -ENOENT;
  else if (old == n) rc = 0;
  else {
    int linked = 0;
    if (old && !(flags & RENAME_NOREPLACE) && !old->is_dir && old->dstate == DS_IMPLICIT) {
      rc = preserve_leaving(old, pt, 1);
      linked = rc == 0 && old->open_count == 0;
    }
    if (rc == 0 && renameat2(AT_FDCWD, pf, AT_FDCWD, pt, flags) != 0) {
      rc = -errno;
      if (linked) { /* the durable copy shares the backing inode: undo */
        char d[4096];
        data_path(d, sizeof d, old->id);
        unlink(d);
        old->dstate = DS_IMPLICIT;
        old->has_data = 0;
      }
    }
    if (rc == 0) {
      struct node *src_dir = node_get(n->l_parent);
      if (old) live_remove(old);
      live_place(n, dir, name);
      journal_add(OP_PLACE, n, dir, name, src_dir ? src_dir->id : dir->id, dir->id);
      node_maybe_free(old);
    }
  }
  UNLOCK();
  return rc;
}

static int pf_link(const char *from, const char *to) {
  (void)from, (void)to;
  return -ENOTSUP; /* one name per inode keeps the durable model simple; LevelDB needs none */
}

static int pf_symlink(const char *target, const char *path) {
  (void)target, (void)path;
  return -ENOTSUP;
}

static int pf_mknod(const char *path, mode_t mode, dev_t dev) {
  (void)path, (void)mode, (void)dev;
  return -ENOTSUP;
}

static int pf_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  struct handle *h = H(fi);
  if (h) return fchmod(h->fd, mode) == 0 ? 0 : -errno;
  char p[4096];
  bpath(p, sizeof p, path);
  return chmod(p, mode) == 0 ? 0 : -errno;
}

static int pf_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  struct handle *h = H(fi);
  if (h) return fchown(h->fd, uid, gid) == 0 ? 0 : -errno;
  char p[4096];
  bpath(p, sizeof p, path);
  return lchown(p, uid, gid) == 0 ? 0 : -errno;
}

static int pf_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
  struct handle *h = H(fi);
  if (h) return futimens(h->fd, tv) == 0 ? 0 : -errno;
  char p[4096];
  bpath(p, sizeof p, path);
  return utimensat(AT_FDCWD, p, tv, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

/** Records a size change to `size` (truncate, O_TRUNC) after the backing file changed. */
static void note_resize(struct node *n, off_t old_size, off_t size) {
  if (size < old_size) {
    dirty_clip(n, size);
    if (n->min_trunc < 0 || size < n->min_trunc) n->min_trunc = size;
  }
  n->last_len = 0;
  n->unsynced = 1;
}

static int pf_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  LOCK();
  TRACE("truncate %s %lld", path ? path : "(fd)", (long long)size);
  struct handle *h = H(fi);
  struct node *n = h ? handle_node(h) : lookup(path);
  char p[4096];
  bpath(p, sizeof p, path ? path : "/");
  int fd = h ? h->fd : open(p, O_WRONLY | O_CLOEXEC);
  int rc = 0;
  struct stat st;
  if (fd < 0) rc = -errno;
  else if (fstat(fd, &st) != 0) rc = -errno;
  else if (g.enospc && size > st.st_size) rc = -ENOSPC;
  else if (n && (rc = make_stored(n, fd, p)) != 0) {
  } else if (ftruncate(fd, size) != 0) rc = -errno;
  else if (n) note_resize(n, st.st_size, size);
  if (!h && fd >= 0) close(fd);
  UNLOCK();
  return rc;
}

/** Opens a backing file; write-only opens become read-write, as fsync and copies read it back. */
static int open_backing(const char *p, int flags, mode_t mode) {
  if ((flags & O_ACCMODE) == O_WRONLY) {
    int fd = open(p, (flags & ~O_ACCMODE) | O_RDWR | O_CLOEXEC, mode);
    if (fd >= 0 || errno != EACCES) return fd;
  }
  return open(p, flags | O_CLOEXEC, mode);
}

static int open_common(const char *path, struct fuse_file_info *fi, struct node *n, int fd) {
  struct handle *h = xcalloc(1, sizeof *h);
  h->fd = fd;
  h->id = n->id;
  h->epoch = g.epoch;
  h->append = (fi->flags & O_APPEND) != 0;
  n->open_count++;
  fi->fh = (uint64_t)(uintptr_t)h;
  (void)path;
  return 0;
}

static int pf_open(const char *path, struct fuse_file_info *fi) {
  LOCK();
  TRACE("open %s flags %o", path, fi->flags);
  struct node *n = lookup(path);
  char p[4096];
  bpath(p, sizeof p, path);
  int rc = 0;
  if (!n) rc = -ENOENT;
  else {
    struct stat st = {.st_size = 0};
    int trunc = (fi->flags & O_TRUNC) != 0;
    if (trunc && !n->is_dir && lstat(p, &st) == 0) rc = make_stored(n, -1, p);
    int fd = rc ? -1 : open_backing(p, fi->flags & ~O_NOFOLLOW, 0);
    if (!rc && fd < 0) rc = -errno;
    if (!rc) {
      if (trunc) note_resize(n, st.st_size, 0);
      rc = open_common(path, fi, n, fd);
    }
  }
  UNLOCK();
  return rc;
}

static int pf_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  LOCK();
  const char *name;
  struct node *dir = lookup_parent(path, &name);
  struct node *n = dir ? live_child(dir, name) : NULL;
  char p[4096];
  bpath(p, sizeof p, path);
  int rc = 0;
  if (!dir) rc = -ENOENT;
  else if (n) { /* created meanwhile: an ordinary open */
    UNLOCK();
    if (fi->flags & O_EXCL) return -EEXIST;
    return pf_open(path, fi);
  } else if (g.enospc) rc = -ENOSPC;
  else {
    int fd = open_backing(p, fi->flags | O_CREAT, mode);
    if (fd < 0) rc = -errno;
    else {
      n = node_new(0);
      TRACE("create %s node %llu", path, (unsigned long long)n->id);
      n->unsynced = 1;
      live_place(n, dir, name);
      journal_add(OP_PLACE, n, dir, name, dir->id, dir->id);
      rc = open_common(path, fi, n, fd);
    }
  }
  UNLOCK();
  return rc;
}

static int read_eio(struct node *n) {
  if (!g.eio_read || !n) return 0;
  char lp[4096];
  if (live_path(n, lp, sizeof lp) != 0) return 0;
  return strstr(lp + 1, g.eio_read) != NULL;
}

static int pf_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = H(fi);
  LOCK();
  int eio = read_eio(handle_node(h));
  UNLOCK();
  if (eio) return -EIO;
  ssize_t r = pread(h->fd, buf, size, off);
  return r < 0 ? -errno : (int)r;
}

static int pf_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = H(fi);
  LOCK();
  struct node *n = handle_node(h);
  int rc = 0;
  struct stat st;
  if (g.enospc) rc = -ENOSPC;
  else if (n && (rc = make_stored(n, h->fd, NULL)) != 0) {
  } else if (h->append && fstat(h->fd, &st) != 0) rc = -errno;
  else {
    if (h->append) off = st.st_size; /* pwrite on an O_APPEND fd appends */
    ssize_t w = pwrite(h->fd, buf, size, off);
    if (w < 0) rc = -errno;
    else {
      rc = (int)w;
      g.writes++;
      if (n && w > 0) {
        dirty_add(n, off, off + w);
        /* the kernel splits one write(2) at page boundaries and appends come one by one: a write
         * continuing the last one extends it, so a torn write keeps a prefix of the whole run */
        if (n->last_len > 0 && n->last_off + (off_t)n->last_len == off) {
          n->last_len += (size_t)w;
        } else {
          n->last_off = off;
          n->last_len = (size_t)w;
        }
        n->unsynced = 1;
      }
    }
  }
  UNLOCK();
  return rc;
}

static int pf_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path, (void)datasync;
  struct handle *h = H(fi);
  LOCK();
  struct node *n = handle_node(h);
  g.fsyncs++;
  int rc = 0;
  if (g.enospc) rc = -ENOSPC;
  else if (g.eio_fsync) {
    rc = -EIO;
    if (n) { /* as Linux after a writeback error: the pages are clean again, the data never reaches the disk */
      n->lost_bytes += dirty_bytes(n);
      dirty_clear(n);
    }
  } else if (n) {
    rc = persist_file(n, h->fd);
    TRACE("fsync node %llu -> %d", (unsigned long long)n->id, rc);
    if (rc) plog("fsync of node %llu failed: %s", (unsigned long long)n->id, strerror(-rc));
  }
  UNLOCK();
  return rc;
}

static int pf_flush(const char *path, struct fuse_file_info *fi) {
  (void)path, (void)fi;
  return 0;
}

static int pf_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = H(fi);
  LOCK();
  struct node *n = node_get(h->id);
  if (n && n->open_count > 0) {
    n->open_count--;
    node_maybe_free(n);
  }
  UNLOCK();
  close(h->fd);
  free(h);
  return 0;
}

static int pf_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = H(fi);
  if (!h) return -EBADF;
  LOCK();
  struct node *n = handle_node(h);
  struct stat st;
  int rc = 0;
  if (g.enospc) rc = -ENOSPC;
  else if (fstat(h->fd, &st) != 0) rc = -errno;
  else if (n && (rc = make_stored(n, h->fd, NULL)) != 0) {
  } else if (fallocate(h->fd, mode, off, len) != 0) rc = -errno;
  else if (n) {
    struct stat after;
    if (fstat(h->fd, &after) == 0) {
      dirty_add(n, off, off + len < after.st_size ? off + len : after.st_size);
      if (after.st_size != st.st_size) note_resize(n, st.st_size, after.st_size);
      n->unsynced = 1;
    }
  }
  UNLOCK();
  return rc;
}

static int pf_statfs(const char *path, struct statvfs *st) {
  (void)path;
  return statvfs(g.backing, st) == 0 ? 0 : -errno;
}

static void pf_destroy(void *data) {
  (void)data;
  control_stop();
  plog("unmounted");
}

static const struct fuse_operations ops = {
    .init = pf_init,
    .destroy = pf_destroy,
    .getattr = pf_getattr,
    .access = pf_access,
    .opendir = pf_opendir,
    .readdir = pf_readdir,
    .releasedir = pf_releasedir,
    .fsyncdir = pf_fsyncdir,
    .mkdir = pf_mkdir,
    .rmdir = pf_rmdir,
    .unlink = pf_unlink,
    .rename = pf_rename,
    .link = pf_link,
    .symlink = pf_symlink,
    .mknod = pf_mknod,
    .chmod = pf_chmod,
    .chown = pf_chown,
    .utimens = pf_utimens,
    .truncate = pf_truncate,
    .open = pf_open,
    .create = pf_create,
    .read = pf_read,
    .write = pf_write,
    .fsync = pf_fsync,
    .flush = pf_flush,
    .release = pf_release,
    .fallocate = pf_fallocate,
    .statfs = pf_statfs,
};

static char *absolute(const char *p) {
  char *r = realpath(p, NULL);
  if (!r) {
    fprintf(stderr, "powerfs: %s: %s\n", p, strerror(errno));
    exit(2);
  }
  return r;
}

int main(int argc, char **argv) {
  const char *backing = NULL, *durable = NULL, *control = NULL;
  char **rest = xcalloc((size_t)argc + 4, sizeof *rest);
  int nrest = 0;
  rest[nrest++] = argv[0];
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--backing") && i + 1 < argc) backing = argv[++i];
    else if (!strcmp(argv[i], "--durable") && i + 1 < argc) durable = argv[++i];
    else if (!strcmp(argv[i], "--control") && i + 1 < argc) control = argv[++i];
    else if (!strcmp(argv[i], "--trace")) trace = 1;
    else if (!strcmp(argv[i], "--die-with-parent")) prctl(PR_SET_PDEATHSIG, SIGTERM); /* libfuse unmounts on SIGTERM */
    else rest[nrest++] = argv[i];
  }
  if (!backing || !durable || !control || nrest < 2) {
    fprintf(stderr, "usage: powerfs --backing DIR --durable DIR --control SOCKET MOUNTPOINT [fuse options]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  mkdir(backing, 0755);
  if (rest[1][0] != '-') mkdir(rest[1], 0755);
  mkdir(durable, 0755);
  g.backing = absolute(backing);
  g.durable = absolute(durable);
  size_t len = strlen(g.durable) + 8;
  g.data_dir = xcalloc(len, 1);
  snprintf(g.data_dir, len, "%s/data", g.durable);
  remove_tree(g.data_dir); /* a fresh start: the backing dir's contents are durable */
  if (mkdir(g.data_dir, 0755) != 0) {
    fprintf(stderr, "powerfs: mkdir %s: %s\n", g.data_dir, strerror(errno));
    return 2;
  }
  g.next_id = ROOT_ID;
  g.rng = 1;
  scan_backing();
  if (control_bind(control) != 0) return 2;
  rest[nrest++] = "-f";
  rest[nrest++] = "-o";
  rest[nrest++] = "fsname=powerfs,subtype=powerfs,auto_unmount,max_threads=16";
  int rc = fuse_main(nrest, rest, &ops, NULL);
  control_unlink();
  return rc;
}
