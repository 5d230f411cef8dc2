/* The standalone metrics server (server.h): a libmicrohttpd daemon with a pool of `pool_size`
 * threads answering scrapes through pmx_mhd_handle() (handler.c), 404 for every other path.
 *
 * We open the listening socket ourselves and hand it to libmicrohttpd (MHD_OPTION_LISTEN_SOCKET)
 * instead of letting it bind, for three reasons: bind errors reach the caller with errno and the
 * address ("cannot bind 0.0.0.0 port 4021: Address already in use") rather than a bare failure;
 * the dual-stack choice is explicit (IPv6 socket with IPV6_V6ONLY off, falling back to IPv4 when
 * the host has no IPv6); and the actual port of an ephemeral bind comes from getsockname().
 *
 * Ownership of that socket: on success libmicrohttpd uses it; pmx_server_stop() takes it back with
 * MHD_quiesce_daemon() (needs MHD_USE_ITC) before stopping the daemon and closes it itself. If
 * MHD_start_daemon() fails we do not know whether libmicrohttpd closed it, so a duplicate taken
 * beforehand tells us whether the descriptor still refers to our socket.
 *
 * TLS: certificate and key files are read into memory (bounded size) and checked with GnuTLS first
 * so that a bad file is reported by name; the PEM buffers live as long as the daemon. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "promex/mhd.h"
#include "promex/server.h"
#include "server/server_internal.h"
#include "config/config_rules.h"

#define DEFAULT_POOL 5u
#define DEFAULT_TIMEOUT_S 10u
#define DEFAULT_MAX_CONN 64u
#define DEFAULT_HEADER_TIMEOUT_S 5u
/* Requests one kept-alive connection may carry; the last answer says Connection: close. High
 * enough that reconnecting costs nothing measurable (one handshake per 100 scrapes), low enough
 * that a connection's slot changes hands now and then. */
#define MAX_REQUESTS_PER_CONN 100u
#define MAX_POOL 256u
/* A scrape request is a request line and a few headers; 16 KiB per connection leaves room for
 * long Authorization headers while bounding what max_connections clients can pin. It is the pool
 * from which libmicrohttpd takes the read buffer (so it bounds the request line and header block:
 * beyond it libmicrohttpd answers 414 or 431 itself) and one record per header; query arguments
 * take none because on_uri() hides the query (see there). */
#define CONN_MEMORY_LIMIT ((size_t)16 * 1024)
#define MAX_PEM_BYTES (1024 * 1024)
#define LISTEN_BACKLOG 128

struct pmx_server {
  struct MHD_Daemon *daemon;
  uint16_t port;
  pmx_mhd_handler_t handler; /* points into the owned strings below */
  char *path, *token, *user, *password;
  char *cert_pem, *key_pem;
  pmx__guard_t *guard; /* header deadline and requests per connection */
};

static void server_free(pmx_server_t *s) {
  if (s == NULL) return;
  pmx__free(s->path);
  pmx__free(s->user);
  if (s->token) explicit_bzero(s->token, strlen(s->token));
  pmx__free(s->token);
  if (s->password) explicit_bzero(s->password, strlen(s->password));
  pmx__free(s->password);
  pmx__guard_stop(s->guard);
  pmx__free(s->cert_pem);
  if (s->key_pem) explicit_bzero(s->key_pem, strlen(s->key_pem));
  pmx__free(s->key_pem);
  pmx__free(s);
}

/* ---- Configuration checks ---- */

/* The configuration rules live in one table (config/config_rules.h) shared with the INI loader
 * and pmx_config_validate(), so what starts here is exactly what they accept. The constants this
 * file sizes its work with must agree with that table. */
_Static_assert(DEFAULT_POOL == PMX__CONFIG_DEFAULT_POOL_SIZE, "pool_size default differs from the rules");
_Static_assert(DEFAULT_TIMEOUT_S == PMX__CONFIG_DEFAULT_TIMEOUT_S, "timeout_s default differs from the rules");
_Static_assert(DEFAULT_MAX_CONN == PMX__CONFIG_DEFAULT_MAX_CONNECTIONS, "max_connections default differs");
_Static_assert(MAX_POOL == PMX__CONFIG_POOL_MAX, "pool_size limit differs from the rules");
_Static_assert(MAX_PEM_BYTES == PMX__CONFIG_PEM_MAX, "PEM size limit differs from the rules");
_Static_assert(PMX__AUTH_MAX == PMX__CONFIG_SECRET_MAX, "credential limit differs from the rules");
_Static_assert(DEFAULT_HEADER_TIMEOUT_S == PMX__CONFIG_DEFAULT_HEADER_TIMEOUT_S, "header_timeout_s default differs");

static int check_config(const pmx_server_config_t *cfg, unsigned pool, unsigned maxc,
                        pmx_error_t *err) {
  (void)pool, (void)maxc; /* the rules apply the same defaults (asserted above) */
  const char *key = NULL;
  char msg[400];
  int rc = pmx__config_check_server(cfg, &key, msg, sizeof msg);
  char option[64]; /* err.source names the option, as the docs promise */
  snprintf(option, sizeof option, "metrics_server.%s", key);
  if (rc != PMX_OK) return pmx__fail(err, rc, option, "%s: %s", option, msg);
  return PMX_OK;
}

/* ---- TLS material ---- */

static int read_pem(const char *file, const char *what, char **out, pmx_error_t *err) {
  FILE *f = fopen(file, "rb");
  if (f == NULL)
    return pmx__fail(err, PMX_ECONFIG, file, "metrics_server.%s \"%s\" cannot be read: %s", what,
                     file, strerror(errno));
  char *buf = pmx__malloc(MAX_PEM_BYTES + 1);
  if (buf == NULL) {
    fclose(f);
    return pmx__fail(err, PMX_ENOMEM, file, "out of memory reading %s", file);
  }
  size_t n = fread(buf, 1, MAX_PEM_BYTES + 1, f);
  int rerr = ferror(f);
  fclose(f);
  if (rerr || n == 0 || n > MAX_PEM_BYTES) {
    pmx__free(buf);
    return pmx__fail(err, PMX_ECONFIG, file, "metrics_server.%s \"%s\" %s", what, file,
                     rerr ? "cannot be read" : n == 0 ? "is empty" : "is larger than 1 MiB");
  }
  buf[n] = '\0';
  *out = buf;
  return PMX_OK;
}

static int check_tls(const pmx_server_config_t *cfg, const char *cert, const char *key,
                     pmx_error_t *err) {
  gnutls_certificate_credentials_t cred;
  if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS)
    return pmx__fail(err, PMX_ENOMEM, cfg->cert_file, "out of memory checking the certificate");
  gnutls_datum_t c = {(unsigned char *)(uintptr_t)cert, (unsigned)strlen(cert)};
  gnutls_datum_t k = {(unsigned char *)(uintptr_t)key, (unsigned)strlen(key)};
  int grc = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
  gnutls_certificate_free_credentials(cred);
  if (grc < 0)
    return pmx__fail(err, PMX_ECONFIG, cfg->cert_file,
                     "metrics_server: certificate \"%s\" and key \"%s\" are not a usable PEM pair: %s",
                     cfg->cert_file, cfg->key_file, gnutls_strerror(grc));
  return PMX_OK;
}

/* ---- Listening socket ---- */

static int open_socket(int family, const struct sockaddr *sa, socklen_t salen, bool v6only,
                       int *fd_out) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return errno;
  int one = 1;
  /* SO_REUSEADDR lets a restarted program bind while old connections sit in TIME_WAIT; on Linux
   * it does not allow two listeners on one port, so "port in use" is still reported. */
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) {
    int v = v6only ? 1 : 0;
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
  }
  if (bind(fd, sa, salen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
    int e = errno;
    close(fd);
    return e;
  }
  *fd_out = fd;
  return 0;
}

static int open_listener(const char *bind_address, uint16_t port, int *fd_out, uint16_t *port_out,
                         pmx_error_t *err) {
  struct sockaddr_in6 a6;
  struct sockaddr_in a4;
  memset(&a6, 0, sizeof a6);
  memset(&a4, 0, sizeof a4);
  a6.sin6_family = AF_INET6;
  a6.sin6_port = htons(port);
  a4.sin_family = AF_INET;
  a4.sin_port = htons(port);
  int e;
  const char *shown;
  if (bind_address == NULL) {
    a6.sin6_addr = in6addr_any;
    shown = "[::]";
    e = open_socket(AF_INET6, (struct sockaddr *)&a6, sizeof a6, false, fd_out);
    /* No IPv6 on this host (disabled in the kernel or no address): serve IPv4 only. */
    if (e == EAFNOSUPPORT || e == EPROTONOSUPPORT || e == EADDRNOTAVAIL) {
      a4.sin_addr.s_addr = htonl(INADDR_ANY);
      shown = "0.0.0.0";
      e = open_socket(AF_INET, (struct sockaddr *)&a4, sizeof a4, false, fd_out);
    }
  } else {
    /* Accept "[::1]" as well as "::1": URLs and many configs bracket IPv6 literals. */
    char lit[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(bind_address);
    if (n >= 2 && bind_address[0] == '[' && bind_address[n - 1] == ']' && n - 2 < sizeof lit) {
      memcpy(lit, bind_address + 1, n - 2);
      lit[n - 2] = '\0';
    } else {
      pmx__strlcpy(lit, bind_address, sizeof lit);
      if (n >= sizeof lit) lit[0] = '\0'; /* too long to be a literal */
    }
    /* The configuration rules accept "localhost" (people write it): it is IPv4 loopback. */
    if (strcasecmp(lit, "localhost") == 0) pmx__strlcpy(lit, "127.0.0.1", sizeof lit);
    shown = bind_address;
    if (inet_pton(AF_INET6, lit, &a6.sin6_addr) == 1) {
      e = open_socket(AF_INET6, (struct sockaddr *)&a6, sizeof a6, true, fd_out);
    } else if (inet_pton(AF_INET, lit, &a4.sin_addr) == 1) {
      e = open_socket(AF_INET, (struct sockaddr *)&a4, sizeof a4, false, fd_out);
    } else {
      return pmx__fail(err, PMX_ECONFIG, "metrics_server.bind_address",
                       "metrics_server.bind_address \"%s\" is not an IPv4 or IPv6 address literal",
                       bind_address);
    }
  }
  if (e != 0)
    return pmx__fail(err, PMX_ESYS, shown, "metrics server cannot listen on %s port %u: %s", shown,
                     (unsigned)port, strerror(e));
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(*fd_out, (struct sockaddr *)&ss, &sl) != 0) {
    e = errno;
    close(*fd_out);
    return pmx__fail(err, PMX_ESYS, shown, "metrics server: getsockname failed: %s", strerror(e));
  }
  *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  return PMX_OK;
}

/* ---- Requests ----
 *
 * A request passes three callbacks in order:
 * 1. on_uri (MHD_OPTION_URI_LOG_CALLBACK) sees the raw request-target before libmicrohttpd
 *    decodes it or splits the query. We classify the target there (pmx__target_check: the decoded
 *    path must equal ours exactly; %00 and bad escapes are refused) and hide the query; the verdict
 *    travels to on_request in *req_cls, which libmicrohttpd initialises from our return value.
 * 2. on_request (the access handler) runs twice for a request without a body: the first call only
 *    marks the header complete (the header deadline stops) and returns; the response is queued on
 *    the second call. libmicrohttpd 0.9.75 closes any connection whose response was queued on the
 *    first call (it cannot know whether a body follows), so answering at once would rule out
 *    keep-alive. A request that announces a body is answered on the first call instead: we never
 *    read bodies, and the connection then closes, which is what a client sending one deserves.
 * 3. on_completed (MHD_OPTION_NOTIFY_COMPLETED) restarts the header deadline for the next request
 *    on a kept-alive connection. */

/* *req_cls is one of these addresses: which call of on_request comes next, and the verdict. */
static const char REQ_TAGS[2][3];

static void *req_tag(int second_call, pmx__target_t verdict) {
  return (void *)(uintptr_t)&REQ_TAGS[second_call][verdict];
}

static pmx__target_t req_verdict(const void *tag, bool *second_call) {
  for (int call = 0; call < 2; call++)
    for (int v = 0; v < 3; v++)
      if (tag == &REQ_TAGS[call][v]) {
        *second_call = call == 1;
        return (pmx__target_t)v;
      }
  *second_call = true; /* never set (no request line reached on_uri): treat as malformed */
  return PMX__TARGET_BAD;
}

static pmx__conn_t *conn_of(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  pmx_server_t *s = cls;
  if (uri == NULL) return req_tag(0, PMX__TARGET_BAD);
  pmx__target_t v = pmx__target_check(uri, s->path);
  /* A raw NUL byte in the target ends this C string early; on_request() finds out by comparing
   * the length with where the HTTP version starts (see there). */
  pmx__guard_set_target_len(conn_of(c), strlen(uri));
  /* libmicrohttpd 0.9.75 stores every query argument as a record in the connection's memory pool
   * and, when the pool runs out (about 250 arguments in 16 KiB), queues a 431 and then carries on
   * parsing in a state it cannot leave: the client gets no answer at all. No pool size fixes that
   * ("?&&&&..." costs a record per byte), and we never read query arguments, so we end the query
   * right after its '?' before libmicrohttpd parses it: it finds no arguments. The buffer is
   * libmicrohttpd's own writable copy of the request line (it writes NULs into it itself); only
   * the bytes after the '?' change, and the target was classified above. */
  char *q = strchr(uri, '?');
  if (q != NULL) q[1] = '\0';
  return req_tag(0, v);
}

/* True if the raw request-target held a NUL byte. libmicrohttpd parses the request line in place:
 * `url` is the target's first byte (decoded in place since, so its length changed) and `version`
 * follows the target's terminating NUL (the space it replaced). The target as on_uri() saw it
 * reached exactly to that NUL unless a NUL byte inside it cut it short. Should a libmicrohttpd
 * release lay the line out differently (version not after the target), we cannot tell and let it
 * pass; test_targets_over_http checks both outcomes against the installed library. */
static bool target_has_nul(struct MHD_Connection *c, const char *url, const char *version) {
  size_t len = pmx__guard_target_len(conn_of(c));
  if (len == SIZE_MAX || url == NULL || version == NULL) return false; /* untracked: cannot tell */
  uintptr_t u = (uintptr_t)url, v = (uintptr_t)version;
  if (v <= u + len) return false; /* another layout */
  return v != u + len + 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls) {
  /* `url` is decoded by libmicrohttpd and cut at a %00: on_uri judged the raw target. */
  (void)upload_data;
  pmx_server_t *s = cls;
  bool second_call, last;
  pmx__target_t verdict = req_verdict(*req_cls, &second_call);
  /* false: the header deadline closed this connection while the header was being completed. */
  if (!pmx__guard_begin(s->guard, conn_of(c), &last)) return MHD_NO;
  bool body = pmx__mhd_has_body(c);
  if (!second_call && !body) {
    *req_cls = req_tag(1, verdict);
    return MHD_YES;
  }
  if (*upload_data_size != 0) { /* unreachable: bodies are answered on the first call */
    *upload_data_size = 0;
    return MHD_YES;
  }
  bool close = last || body;
  if (verdict != PMX__TARGET_BAD && target_has_nul(c, url, version)) verdict = PMX__TARGET_BAD;
  if (verdict == PMX__TARGET_BAD)
    return pmx__mhd_simple(c, MHD_HTTP_BAD_REQUEST, "malformed request target\n", NULL, NULL, close);
  if (verdict == PMX__TARGET_OTHER)
    return pmx__mhd_simple(c, MHD_HTTP_NOT_FOUND, "not found\n", NULL, NULL, close);
  return pmx__mhd_answer(c, method, &s->handler, close);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)toe;
  pmx_server_t *s = cls;
  pmx__guard_end(s->guard, conn_of(c));
  *req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  pmx_server_t *s = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    *socket_context = ci ? pmx__guard_open(s->guard, ci->connect_fd) : NULL;
  } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    pmx__guard_close(s->guard, *socket_context);
    *socket_context = NULL;
  }
}

/* ---- Lifecycle ---- */

int pmx_server_start(const pmx_server_config_t *cfg, pmx_scrape_fn scrape, void *ctx,
                     pmx_server_t **out, pmx_error_t *err) {
  if (out != NULL) *out = NULL;
  if (cfg == NULL || scrape == NULL || out == NULL)
    return pmx__fail(err, PMX_EINVAL, "metrics_server",
                     "pmx_server_start: cfg, scrape and out are required");
  unsigned pool = cfg->pool_size ? cfg->pool_size : DEFAULT_POOL;
  unsigned maxc = cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONN;
  unsigned timeout = cfg->timeout_s ? cfg->timeout_s : DEFAULT_TIMEOUT_S;
  unsigned header_timeout = cfg->header_timeout_s ? cfg->header_timeout_s : DEFAULT_HEADER_TIMEOUT_S;
  int rc = check_config(cfg, pool, maxc, err);
  if (rc != PMX_OK) return rc;

  pmx_server_t *s = pmx__calloc(1, sizeof *s);
  if (s == NULL) return pmx__fail(err, PMX_ENOMEM, "metrics_server", "out of memory");
  s->path = pmx__strdup(cfg->path ? cfg->path : "/metrics");
  s->token = pmx__strdup(cfg->auth_token);
  s->user = pmx__strdup(cfg->auth_user);
  s->password = pmx__strdup(cfg->auth_password);
  if (s->path == NULL || (cfg->auth_token && !s->token) || (cfg->auth_user && !s->user) ||
      (cfg->auth_password && !s->password)) {
    server_free(s);
    return pmx__fail(err, PMX_ENOMEM, "metrics_server", "out of memory");
  }
  s->handler = (pmx_mhd_handler_t){.path = s->path,
                                   .auth_strategy = cfg->auth_strategy,
                                   .auth_token = s->token,
                                   .auth_user = s->user,
                                   .auth_password = s->password,
                                   .scrape = scrape,
                                   .ctx = ctx};

  bool tls = cfg->protocol == PMX_PROTO_HTTPS;
  if (tls) {
    rc = read_pem(cfg->cert_file, "cert_file", &s->cert_pem, err);
    if (rc == PMX_OK) rc = read_pem(cfg->key_file, "key_file", &s->key_pem, err);
    if (rc == PMX_OK) rc = check_tls(cfg, s->cert_pem, s->key_pem, err);
    if (rc != PMX_OK) {
      server_free(s);
      return rc;
    }
  }

  int e = pmx__guard_start(header_timeout, MAX_REQUESTS_PER_CONN, tls, &s->guard);
  if (e != 0) {
    server_free(s);
    return pmx__fail(err, e == ENOMEM ? PMX_ENOMEM : PMX_ESYS, "metrics_server",
                     "metrics server: cannot start the header-deadline thread: %s", strerror(e));
  }

  int fd = -1;
  rc = open_listener(cfg->bind_address, cfg->port, &fd, &s->port, err);
  if (rc != PMX_OK) {
    server_free(s);
    return rc;
  }
  int guard = fcntl(fd, F_DUPFD_CLOEXEC, 0);

  /* MHD_OPTION_CONNECTION_TIMEOUT is libmicrohttpd's idle timeout (reset by every byte): it
   * closes connections that went quiet, kept-alive ones included. The header deadline, which no
   * trickle extends, is ours (conn_guard.c).
   * MHD_OPTION_CONNECTION_LIMIT: at the limit libmicrohttpd stops accepting, so new connections
   * wait in the listen backlog (in order) until the header deadline frees a slot.
   * Half the connections per client address: one scraper (or one misbehaving client) cannot take
   * every slot, while Prometheus plus a few manual curls from one host still fit. */
  unsigned per_ip = (maxc + 1) / 2;
  if (per_ip < 4) per_ip = maxc < 4 ? maxc : 4;
  struct MHD_OptionItem opts[12];
  size_t n = 0;
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)timeout, NULL};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)maxc, NULL};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)per_ip, NULL};
  opts[n++] =
      (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)CONN_MEMORY_LIMIT, NULL};
  if (pool > 1)
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)pool, NULL};
  if (tls) {
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert_pem};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->key_pem};
  }
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

  /* No MHD_USE_ERROR_LOG: the library never writes to the host's stderr. */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC;
  if (tls) flags |= MHD_USE_TLS;
  s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
                               MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                               MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
  if (s->daemon == NULL) {
    struct stat a, b;
    if (guard >= 0 && fstat(fd, &a) == 0 && fstat(guard, &b) == 0 && a.st_ino == b.st_ino &&
        a.st_dev == b.st_dev)
      close(fd);
    if (guard >= 0) close(guard);
    uint16_t port = s->port;
    server_free(s);
    if (tls)
      return pmx__fail(err, PMX_ECONFIG, cfg->cert_file,
                       "libmicrohttpd refused to start TLS on port %u with certificate \"%s\" and key \"%s\"",
                       (unsigned)port, cfg->cert_file, cfg->key_file);
    return pmx__fail(err, PMX_ESYS, "metrics_server",
                     "libmicrohttpd could not start the metrics server on port %u (threads: %u)",
                     (unsigned)port, pool);
  }
  if (guard >= 0) close(guard);
  *out = s;
  return PMX_OK;
}

uint16_t pmx_server_port(const pmx_server_t *srv) { return srv ? srv->port : 0; }

void pmx_server_stop(pmx_server_t *srv) {
  if (srv == NULL) return;
  /* Take the listening socket back first so that libmicrohttpd does not close it and we do so
   * exactly once, after every thread that could use it has been joined. */
  MHD_socket lfd = MHD_quiesce_daemon(srv->daemon);
  MHD_stop_daemon(srv->daemon);
  if (lfd != MHD_INVALID_SOCKET) close(lfd);
  server_free(srv);
}
