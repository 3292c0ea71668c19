/* powerfs control socket: one text command per line, one answer line ("ok [json]" or "err <message>"). */
#ifndef POWERFS_CONTROL_H
#define POWERFS_CONTROL_H
int control_bind(const char *path);
void control_start(void);
void control_stop(void);
void control_unlink(void);
#endif
