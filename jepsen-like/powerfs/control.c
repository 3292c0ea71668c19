/*
 * powerfs control socket. Commands: cut | torn on [seed] | torn off | enospc on|off |
 * eio-fsync on|off | eio-read <substring>|off | stats. Each answers one line.
 */
#define _GNU_SOURCE
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cut.h"
#include "model.h"

static int listen_fd = -1;
static char *sock_path;
static pthread_t thread;
static int started;

int control_bind(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) {
    plog("control socket path too long: %s", path);
    return -1;
  }
  strcpy(a.sun_path, path);
  unlink(path);
  listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(listen_fd, 16) != 0) {
    plog("control socket %s: %s", path, strerror(errno));
    return -1;
  }
  sock_path = xstrdup(path);
  return 0;
}

static int on_off(const char *arg, int *out) {
  if (!strcmp(arg, "on")) *out = 1;
  else if (!strcmp(arg, "off")) *out = 0;
  else return -1;
  return 0;
}

/** Runs one command under the lock; writes the answer line (without newline) into out. */
static void run_command(char *line, char *out, size_t size) {
  char *arg = strchr(line, ' ');
  if (arg) *arg++ = 0;
  else arg = "";
  pthread_mutex_lock(&g.lock);
  int v;
  if (!strcmp(line, "cut")) {
    struct cut_result r;
    int rc = cut_power(&r);
    if (rc) snprintf(out, size, "err cut: %s", strerror(-rc));
    else
      snprintf(out, size, "ok {\"filesReverted\":%llu,\"bytesDiscarded\":%llu,\"entriesReverted\":%llu}",
               (unsigned long long)r.files_reverted, (unsigned long long)r.bytes_discarded, (unsigned long long)r.entries_reverted);
    plog("cut: %s", out);
  } else if (!strcmp(line, "torn")) {
    char *seed = strchr(arg, ' ');
    if (seed) *seed++ = 0;
    if (on_off(arg, &v) != 0) snprintf(out, size, "err usage: torn on [seed] | torn off");
    else {
      g.torn = v;
      if (seed) g.rng = strtoull(seed, NULL, 10) * 2 + 1; /* xorshift needs a nonzero state */
      snprintf(out, size, "ok");
    }
  } else if (!strcmp(line, "enospc")) {
    if (on_off(arg, &v) == 0) g.enospc = v, snprintf(out, size, "ok");
    else snprintf(out, size, "err usage: enospc on|off");
  } else if (!strcmp(line, "eio-fsync")) {
    if (on_off(arg, &v) == 0) g.eio_fsync = v, snprintf(out, size, "ok");
    else snprintf(out, size, "err usage: eio-fsync on|off");
  } else if (!strcmp(line, "eio-read")) {
    free(g.eio_read);
    g.eio_read = NULL;
    if (!*arg) snprintf(out, size, "err usage: eio-read <substring>|off");
    else {
      if (strcmp(arg, "off") != 0) g.eio_read = xstrdup(arg);
      snprintf(out, size, "ok");
    }
  } else if (!strcmp(line, "stats")) {
    uint64_t dirty = 0;
    for (size_t id = 1; id < g.nodes_cap; id++)
      if (g.nodes[id]) dirty += dirty_bytes(g.nodes[id]);
    snprintf(out, size, "ok {\"writes\":%llu,\"fsyncs\":%llu,\"dirtyBytes\":%llu,\"cuts\":%llu}", (unsigned long long)g.writes,
             (unsigned long long)g.fsyncs, (unsigned long long)dirty, (unsigned long long)g.cuts);
  } else {
    snprintf(out, size, "err unknown command: %s", line);
  }
  if (strcmp(line, "stats") != 0 && strcmp(line, "cut") != 0) plog("control: %s %s -> %s", line, arg, out);
  pthread_mutex_unlock(&g.lock);
}

static void serve(int fd) {
  char buf[4096];
  size_t have = 0;
  for (;;) {
    ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
    if (r <= 0) return;
    have += (size_t)r;
    buf[have] = 0;
    char *nl;
    while ((nl = strchr(buf, '\n'))) {
      *nl = 0;
      if (nl > buf && nl[-1] == '\r') nl[-1] = 0;
      char out[512];
      run_command(buf, out, sizeof out - 1);
      strcat(out, "\n");
      if (write(fd, out, strlen(out)) < 0) return;
      size_t used = (size_t)(nl + 1 - buf);
      memmove(buf, nl + 1, have - used + 1);
      have -= used;
    }
    if (have == sizeof buf - 1) return; /* a line too long: drop the connection */
  }
}

static void *accept_loop(void *arg) {
  (void)arg;
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return NULL; /* closed by control_stop */
    }
    serve(fd);
    close(fd);
  }
}

void control_start(void) {
  if (started || listen_fd < 0) return;
  if (pthread_create(&thread, NULL, accept_loop, NULL) != 0) {
    plog("control thread: %s", strerror(errno));
    return;
  }
  pthread_detach(thread);
  started = 1;
}

void control_stop(void) {
  if (listen_fd >= 0) shutdown(listen_fd, SHUT_RDWR);
}

void control_unlink(void) {
  if (sock_path) unlink(sock_path);
}
