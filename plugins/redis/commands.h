/* Private to the redis plugin: command names as label values. */
#ifndef PMX_PLUGINS_REDIS_COMMANDS_H
#define PMX_PLUGINS_REDIS_COMMANDS_H

/* The label for a command's first word (any case, any bytes, may be NULL): the upper-case Redis
 * command name (static storage) if it is one, else "other". */
const char *pmx__redis_command_label(const char *word);

#endif
