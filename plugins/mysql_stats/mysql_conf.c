/* The connection string of mysql_stats; see mysql_conf.h. */
#include "mysql_conf.h"

#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t cap, const char *msg, const char *key, size_t klen) {
  if (err != NULL && cap > 0) snprintf(err, cap, "%s%s%.*s%s", msg, key ? " \"" : "",
                                       (int)klen, key ? key : "", key ? "\"" : "");
  return -1;
}

static int copy(char *dst, size_t cap, const char *v, size_t n, char *err, size_t errcap,
                const char *key, size_t klen) {
  if (n >= cap) return fail(err, errcap, "value too long for", key, klen);
  memcpy(dst, v, n);
  dst[n] = '\0';
  return 0;
}

int pmx__my_conf_parse(const char *conn, pmx__my_target_t *t, char *err, size_t errcap) {
  memset(t, 0, sizeof *t);
  if (conn == NULL) return fail(err, errcap, "no connection string", NULL, 0);
  const char *p = conn;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0') break;
    const char *e = p;
    while (*e != '\0' && *e != ' ' && *e != '\t') e++;
    const char *eq = memchr(p, '=', (size_t)(e - p));
    if (eq == NULL || eq == p) return fail(err, errcap, "expected key=value, got", p, (size_t)(e - p));
    size_t kl = (size_t)(eq - p), vl = (size_t)(e - eq - 1);
    const char *v = eq + 1;
    int rc;
#define KEY(name) (kl == sizeof(name) - 1 && memcmp(p, name, kl) == 0)
    if (KEY("host")) rc = copy(t->host, sizeof t->host, v, vl, err, errcap, p, kl);
    else if (KEY("user")) rc = copy(t->user, sizeof t->user, v, vl, err, errcap, p, kl);
    else if (KEY("password")) rc = copy(t->password, sizeof t->password, v, vl, err, errcap, p, kl);
    else if (KEY("database")) rc = copy(t->database, sizeof t->database, v, vl, err, errcap, p, kl);
    else if (KEY("socket")) rc = copy(t->socket, sizeof t->socket, v, vl, err, errcap, p, kl);
    else if (KEY("port")) {
      unsigned port = 0;
      rc = 0;
      if (vl == 0 || vl > 5) rc = -1;
      for (size_t i = 0; rc == 0 && i < vl; i++) {
        if (v[i] < '0' || v[i] > '9') rc = -1;
        else port = port * 10 + (unsigned)(v[i] - '0');
      }
      if (rc != 0 || port == 0 || port > 65535) return fail(err, errcap, "port must be 1..65535", NULL, 0);
      t->port = port;
    } else {
      return fail(err, errcap, "unknown key", p, kl);
    }
#undef KEY
    if (rc != 0) return -1;
    p = e;
  }
  return 0;
}
