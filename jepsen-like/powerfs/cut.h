/* powerfs: the initial scan and the power cut. */
#ifndef POWERFS_CUT_H
#define POWERFS_CUT_H
#include "model.h"

struct cut_result {
  uint64_t files_reverted, bytes_discarded, entries_reverted;
};

/** Builds the live and durable namespaces from the backing dir: everything in it is durable. */
void scan_backing(void);
/** Power loss: the backing dir becomes the durable image; the live namespace the durable one. */
int cut_power(struct cut_result *res);
int remove_tree(const char *path);
#endif
