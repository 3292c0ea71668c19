/*
 * powerfs model: what the mounted view shows (the "live" namespace, mirrored by the backing
 * directory) and what a power cut leaves (the "durable" namespace and durable file contents).
 *
 * Nodes are inodes with ids that never repeat (hard links are refused, so a node has at most one
 * live name and one durable name). Directory operations are appended to a journal; an fsync of a
 * directory makes durable exactly the pending operations whose parent is that directory (a rename
 * counts for both of its directories and is applied whole). A durable entry in a directory that
 * is itself not durable in its parent is unreachable: a cut loses it.
 *
 * Every function here runs under g.lock.
 */
#ifndef POWERFS_MODEL_H
#define POWERFS_MODEL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

/** How a file's durable content is stored. */
enum dstate {
  /** Durable content equals the backing file (untouched since mount or the last cut). */
  DS_IMPLICIT,
  /** Durable content is data/<id> in the durable dir (an empty file when has_data is 0). */
  DS_STORED,
};

struct range {
  off_t start, end; /* [start, end) */
};

struct node {
  uint64_t id;
  int is_dir;
  /* Live namespace (the mounted view). Invariant: in_live implies l_parent != 0 or id is root. */
  int in_live;
  uint64_t l_parent;
  char *l_name;
  /* Durable namespace (what a cut leaves). */
  int in_durable;
  uint64_t d_parent;
  char *d_name;
  /* Directories: children ids, live and durable. */
  uint64_t *l_kids, *d_kids;
  size_t l_count, l_cap, d_count, d_cap;
  /* Files. */
  enum dstate dstate;
  int has_data;
  struct range *dirty; /* sorted, disjoint, merged */
  size_t dirty_count, dirty_cap;
  /** Smallest size the file was truncated to since its last fsync (-1: none). */
  off_t min_trunc;
  /** Size or content changed since the last successful fsync (data not durable). */
  int unsynced;
  /** Bytes dropped by an fsync that answered EIO (counted at the next cut). */
  uint64_t lost_bytes;
  /** The last run of contiguous writes not yet fsynced (for torn writes); valid when last_len > 0. */
  off_t last_off;
  size_t last_len;
  /** Open handles and pending journal operations that name this node. */
  int open_count;
  int jrefs;
};

enum op_kind { OP_PLACE, OP_REMOVE };

/** A journaled directory operation: PLACE puts child at (dir, name), displacing what is there and removing it from its former place; REMOVE takes child out of its parent. */
struct op {
  enum op_kind kind;
  uint64_t child;
  uint64_t dir; /* PLACE: destination dir */
  char *name;   /* PLACE only */
  uint64_t touch_a, touch_b; /* the directories whose fsync commits this op */
};

struct globals {
  pthread_mutex_t lock;
  char *backing;
  char *durable;
  char *data_dir; /* <durable>/data */
  struct node **nodes;
  size_t nodes_cap;
  uint64_t next_id;
  struct op *journal;
  size_t journal_count, journal_cap;
  /* fault switches */
  int torn;
  uint64_t rng;
  int enospc;
  int eio_fsync;
  char *eio_read;
  /* stats */
  uint64_t writes, fsyncs, cuts;
  /** Incremented by each cut: handles opened before it are stale. */
  uint64_t epoch;
};

extern struct globals g;

#define ROOT_ID 1
#define STAGE_NAME ".powerfs-stage"

void plog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

struct node *node_get(uint64_t id);
struct node *node_new(int is_dir);
void node_maybe_free(struct node *n);

/** Looks a live path ("/a/b") up; NULL when absent. */
struct node *lookup(const char *path);
/** Splits path into its parent directory node and last component (pointer into path). */
struct node *lookup_parent(const char *path, const char **name);
struct node *live_child(struct node *dir, const char *name);
void live_place(struct node *n, struct node *dir, const char *name);
void live_remove(struct node *n);
/** Path relative to the root, with a leading "/" ("/" for the root); 0 on success. */
int live_path(struct node *n, char *buf, size_t size);
int durable_path(struct node *n, char *buf, size_t size);
void durable_place(struct node *n, struct node *dir, const char *name);
void durable_remove(struct node *n);
/** Joins base and rel into buf (rel starts with "/"). */
void join(char *buf, size_t size, const char *base, const char *rel);
void data_path(char *buf, size_t size, uint64_t id);

void dirty_add(struct node *n, off_t start, off_t end);
void dirty_clip(struct node *n, off_t size);
uint64_t dirty_bytes(const struct node *n);
void dirty_clear(struct node *n);

void journal_add(enum op_kind kind, struct node *child, struct node *dir, const char *name, uint64_t touch_a, uint64_t touch_b);
/** Makes durable the pending ops whose parent is dir; returns how many were applied. */
size_t journal_commit(uint64_t dir);
void journal_clear(void);

/** Copies the whole file src to dst (created/truncated); 0 or -errno. */
int copy_file(int src_fd, const char *dst, mode_t mode);
/** Makes the node's durable content independent of the backing file before it changes; fd is the backing file or -1 to open path. */
int make_stored(struct node *n, int fd, const char *backing_path);
/** Copies the node's dirty ranges and size from fd into its durable data; 0 or -errno. */
int persist_file(struct node *n, int fd);

#endif
