/* The SQL classifier of the db plugin (pmx_db_classify, include/promex/plugins/db.h): the
 * command and main table of a statement, for the `command` and `source` labels.
 *
 * It is a tokenizer, not a parser: it skips whitespace, comments, string literals and quoted
 * identifiers, and looks at a few keywords. That is enough for the shapes programs send, costs
 * one pass over at most SCAN_MAX bytes, and cannot be led astray by a keyword inside a string or
 * comment. Anything it does not understand gives the fallback values: a wrong "unavailable" is
 * harmless, a wrong table name is not, so every doubtful case falls back. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "promex/plugins/db.h"

#define SCAN_MAX 65536u
#define WORD_MAX 64 /* identifiers longer than this are never a source */

typedef enum tok_kind {
  T_END = 0, /* end of input or of the first statement (;) */
  T_WORD,    /* unquoted identifier or keyword */
  T_QUOTED,  /* "x", `x`, [x] */
  T_STRING,  /* '...', E'...', $tag$...$tag$ */
  T_NUMBER,
  T_LPAREN,
  T_RPAREN,
  T_DOT,
  T_COMMA,
  T_OTHER
} tok_kind_t;

typedef struct lexer {
  const char *s;
  size_t len, pos;
} lexer_t;

typedef struct token {
  tok_kind_t kind;
  const char *text; /* word or quoted identifier contents (without quotes) */
  size_t len;
  bool clean; /* quoted: no doubled quote inside (contents usable verbatim) */
} token_t;

static bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static bool is_word_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
static bool is_word_char(unsigned char c) {
  return is_word_start(c) || (c >= '0' && c <= '9') || c == '$';
}
static unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Skips whitespace and comments. */
static void skip_blank(lexer_t *lx) {
  for (;;) {
    while (lx->pos < lx->len && is_space((unsigned char)lx->s[lx->pos])) lx->pos++;
    if (lx->pos + 1 < lx->len && lx->s[lx->pos] == '-' && lx->s[lx->pos + 1] == '-') {
      while (lx->pos < lx->len && lx->s[lx->pos] != '\n') lx->pos++;
    } else if (lx->pos + 1 < lx->len && lx->s[lx->pos] == '/' && lx->s[lx->pos + 1] == '*') {
      /* PostgreSQL nests block comments; SQLite and MySQL do not. Nesting is honoured: a "/ *"
       * inside a comment in the other dialects is rare, and at worst the rest reads as comment. */
      size_t depth = 0;
      while (lx->pos < lx->len) {
        if (lx->pos + 1 < lx->len && lx->s[lx->pos] == '/' && lx->s[lx->pos + 1] == '*') {
          depth++;
          lx->pos += 2;
        } else if (lx->pos + 1 < lx->len && lx->s[lx->pos] == '*' && lx->s[lx->pos + 1] == '/') {
          lx->pos += 2;
          if (--depth == 0) break;
        } else {
          lx->pos++;
        }
      }
    } else {
      return;
    }
  }
}

/* Skips a quoted run starting at the opening quote; a doubled closing quote is an escaped one.
 * With `backslash`, a backslash escapes the next byte (E'' strings, MySQL strings). Sets *clean
 * to false when an escape was seen. */
static void skip_quoted(lexer_t *lx, char close, bool backslash, bool *clean) {
  lx->pos++;
  while (lx->pos < lx->len) {
    char c = lx->s[lx->pos];
    if (backslash && c == '\\') {
      lx->pos += 2;
      *clean = false;
      continue;
    }
    lx->pos++;
    if (c == close) {
      if (lx->pos < lx->len && lx->s[lx->pos] == close) {
        lx->pos++;
        *clean = false;
        continue;
      }
      return;
    }
  }
  if (lx->pos > lx->len) lx->pos = lx->len;
}

/* $tag$ ... $tag$ (PostgreSQL). Called at '$'; returns false when this is not a dollar quote. */
static bool skip_dollar(lexer_t *lx) {
  size_t p = lx->pos + 1;
  if (p < lx->len && lx->s[p] >= '0' && lx->s[p] <= '9') return false; /* $1: a parameter */
  while (p < lx->len && lx->s[p] != '$' && is_word_char((unsigned char)lx->s[p])) p++;
  if (p >= lx->len || lx->s[p] != '$') return false;
  const char *tag = lx->s + lx->pos;
  size_t tag_len = p - lx->pos + 1;
  for (size_t q = p + 1; q + tag_len <= lx->len; q++) {
    if (lx->s[q] == '$' && memcmp(lx->s + q, tag, tag_len) == 0) {
      lx->pos = q + tag_len;
      return true;
    }
  }
  lx->pos = lx->len; /* unterminated: the rest is the string */
  return true;
}

static token_t next(lexer_t *lx) {
  token_t t = {T_END, NULL, 0, true};
  skip_blank(lx);
  if (lx->pos >= lx->len) return t;
  const char *s = lx->s;
  unsigned char c = (unsigned char)s[lx->pos];
  size_t start = lx->pos;
  if (c == ';') return t; /* the first statement ends here: stay at END */
  if ((c == 'E' || c == 'e') && lx->pos + 1 < lx->len && s[lx->pos + 1] == '\'') {
    lx->pos++;
    skip_quoted(lx, '\'', true, &t.clean);
    t.kind = T_STRING;
  } else if (is_word_start(c)) {
    while (lx->pos < lx->len && is_word_char((unsigned char)s[lx->pos])) lx->pos++;
    t.kind = T_WORD;
    t.text = s + start;
    t.len = lx->pos - start;
  } else if (c == '\'') {
    skip_quoted(lx, '\'', false, &t.clean);
    t.kind = T_STRING;
  } else if (c == '"' || c == '`' || c == '[') {
    skip_quoted(lx, c == '[' ? ']' : (char)c, false, &t.clean);
    t.kind = T_QUOTED;
    t.text = s + start + 1;
    /* contents end before the closing quote, if there was one */
    size_t end = lx->pos;
    if (end > start + 1 && s[end - 1] == (c == '[' ? ']' : (char)c)) end--;
    t.len = end > start + 1 ? end - start - 1 : 0;
  } else if (c == '$' && skip_dollar(lx)) {
    t.kind = T_STRING;
  } else if (c >= '0' && c <= '9') {
    while (lx->pos < lx->len && (is_word_char((unsigned char)s[lx->pos]) || s[lx->pos] == '.'))
      lx->pos++;
    t.kind = T_NUMBER;
  } else {
    lx->pos++;
    t.kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : c == '.' ? T_DOT
             : c == ',' ? T_COMMA : T_OTHER;
  }
  return t;
}

static bool is_kw(const token_t *t, const char *kw) {
  if (t->kind != T_WORD) return false;
  size_t n = strlen(kw);
  if (t->len != n) return false;
  for (size_t i = 0; i < n; i++)
    if (lower((unsigned char)t->text[i]) != (unsigned char)kw[i]) return false;
  return true;
}

/* Commands reported as-is (lower case), and aliases. */
static const char *const k_commands[] = {
    "select", "insert", "update", "delete", "begin", "commit", "rollback", "savepoint",
    "release", "create", "drop", "alter", "truncate", "replace", "merge", "copy", "pragma",
    "explain", "vacuum", "analyze", "set", "show", "prepare", "execute", "deallocate", "lock",
    "grant", "revoke", "call", "do", "values", "attach", "detach", "reindex", "listen",
    "notify", "unlisten", "discard", "reset", "refresh", "cluster", "comment", "use", "describe",
    "load", "checkpoint", "fetch", "declare", "close", "move", "upsert", "table", "handler"};

static const char *command_of(const token_t *t) {
  if (t->kind != T_WORD) return NULL;
  for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
    if (is_kw(t, k_commands[i])) return k_commands[i];
  if (is_kw(t, "start")) return "begin"; /* START TRANSACTION */
  if (is_kw(t, "end")) return "commit";  /* END [TRANSACTION] (PostgreSQL, SQLite) */
  if (is_kw(t, "abort")) return "rollback";
  if (is_kw(t, "with")) return "with";   /* resolved to the main statement by the caller */
  return NULL;
}

bool pmx_db_command_from_tag(const char *tag, char *out, size_t cap) {
  if (tag == NULL || out == NULL || cap < 2) return false;
  size_t n = 0;
  while (tag[n] != '\0' && tag[n] != ' ') n++;
  token_t t = {T_WORD, tag, n, true};
  const char *c = n > 0 ? command_of(&t) : NULL;
  if (c == NULL || strcmp(c, "with") == 0 || strlen(c) + 1 > cap) return false;
  memcpy(out, c, strlen(c) + 1);
  return true;
}

/* Skips a balanced parenthesised run; called after the opening '('. Returns false at END. */
static bool skip_parens(lexer_t *lx) {
  size_t depth = 1;
  for (;;) {
    token_t t = next(lx);
    if (t.kind == T_END) return false;
    if (t.kind == T_LPAREN) depth++;
    if (t.kind == T_RPAREN && --depth == 0) return true;
  }
}

/* Copies an identifier token into out when it is 1..63 printable ASCII bytes without quotes or
 * backslashes (so a label never carries anything but a plain name). */
static bool take_name(const token_t *t, char *out) {
  if ((t->kind != T_WORD && t->kind != T_QUOTED) || !t->clean || t->len == 0 ||
      t->len >= PMX_DB_SOURCE_MAX || t->len >= WORD_MAX)
    return false;
  for (size_t i = 0; i < t->len; i++) {
    unsigned char c = (unsigned char)t->text[i];
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '`') return false;
  }
  memcpy(out, t->text, t->len);
  out[t->len] = '\0';
  return true;
}

/* Reads [schema.]name at the lexer; the last part goes to out. A '(' right away (subquery) or
 * anything not a name fails. */
static bool read_table(lexer_t *lx, char *out) {
  token_t t = next(lx);
  if (t.kind != T_WORD && t.kind != T_QUOTED) return false;
  /* up to two qualifiers: catalog.schema.table */
  for (int parts = 0; parts < 3; parts++) {
    size_t save = lx->pos;
    token_t dot = next(lx);
    if (dot.kind != T_DOT) {
      lx->pos = save;
      return take_name(&t, out);
    }
    t = next(lx);
    if (t.kind != T_WORD && t.kind != T_QUOTED) return false;
  }
  return false;
}

/* Skips optional words in order ("if", "not", "exists"). */
static void skip_words(lexer_t *lx, const char *const *words, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t save = lx->pos;
    token_t t = next(lx);
    if (!is_kw(&t, words[i])) lx->pos = save;
  }
}

/* SELECT: the first table after the FROM at parenthesis depth 0. */
static bool select_source(lexer_t *lx, char *out) {
  size_t depth = 0;
  for (;;) {
    token_t t = next(lx);
    if (t.kind == T_END) return false;
    if (t.kind == T_LPAREN) depth++;
    else if (t.kind == T_RPAREN && depth > 0) depth--;
    else if (depth == 0 && is_kw(&t, "from")) {
      size_t save = lx->pos;
      token_t o = next(lx);
      if (!is_kw(&o, "only")) lx->pos = save;
      return read_table(lx, out);
    }
  }
}

/* After WITH: skips `[RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (...) [, ...]` and
 * returns the token that starts the main statement (T_END if malformed). */
static token_t skip_ctes(lexer_t *lx) {
  token_t t = next(lx);
  if (is_kw(&t, "recursive")) t = next(lx);
  for (;;) {
    if (t.kind != T_WORD && t.kind != T_QUOTED) return (token_t){T_END, NULL, 0, true};
    t = next(lx);
    if (t.kind == T_LPAREN) {
      if (!skip_parens(lx)) return (token_t){T_END, NULL, 0, true};
      t = next(lx);
    }
    if (!is_kw(&t, "as")) return (token_t){T_END, NULL, 0, true};
    t = next(lx);
    if (is_kw(&t, "not")) t = next(lx);
    if (is_kw(&t, "materialized")) t = next(lx);
    if (t.kind != T_LPAREN || !skip_parens(lx)) return (token_t){T_END, NULL, 0, true};
    t = next(lx);
    if (t.kind != T_COMMA) return t;
    t = next(lx);
  }
}

static void set(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

void pmx_db_classify(const char *sql, size_t len, pmx_db_class_t *out) {
  if (out == NULL) return;
  set(out->command, sizeof out->command, PMX_DB_COMMAND_UNAVAILABLE);
  set(out->source, sizeof out->source, PMX_DB_SOURCE_UNAVAILABLE);
  if (sql == NULL) return;
  lexer_t lx = {sql, len > SCAN_MAX ? SCAN_MAX : len, 0};
  token_t t = next(&lx);
  /* A leading '(' ((SELECT ...) UNION ...): classify what is inside. */
  for (int i = 0; i < 8 && t.kind == T_LPAREN; i++) t = next(&lx);
  const char *cmd = command_of(&t);
  if (cmd != NULL && strcmp(cmd, "with") == 0) {
    t = skip_ctes(&lx);
    cmd = command_of(&t);
    if (cmd != NULL && strcmp(cmd, "with") == 0) cmd = NULL;
  }
  if (cmd == NULL) return;
  set(out->command, sizeof out->command, cmd);

  char name[PMX_DB_SOURCE_MAX];
  bool found = false;
  if (strcmp(cmd, "select") == 0) {
    found = select_source(&lx, name);
  } else if (strcmp(cmd, "insert") == 0 || strcmp(cmd, "replace") == 0 ||
             strcmp(cmd, "upsert") == 0) {
    /* INSERT [OR x] [LOW_PRIORITY|DELAYED|HIGH_PRIORITY] [IGNORE] [INTO] table */
    for (int i = 0; i < 6; i++) {
      size_t save = lx.pos;
      token_t w = next(&lx);
      if (is_kw(&w, "into")) break;
      if (is_kw(&w, "or") || is_kw(&w, "replace") || is_kw(&w, "ignore") ||
          is_kw(&w, "abort") || is_kw(&w, "fail") || is_kw(&w, "rollback") ||
          is_kw(&w, "low_priority") || is_kw(&w, "delayed") || is_kw(&w, "high_priority"))
        continue;
      lx.pos = save; /* MySQL allows INSERT table without INTO */
      break;
    }
    found = read_table(&lx, name);
  } else if (strcmp(cmd, "update") == 0) {
    static const char *const k_upd[] = {"low_priority", "or", "ignore"};
    skip_words(&lx, k_upd, 3);
    /* SQLite's OR <conflict>: the word after OR */
    size_t save = lx.pos;
    token_t w = next(&lx);
    if (!(is_kw(&w, "rollback") || is_kw(&w, "abort") || is_kw(&w, "replace") ||
          is_kw(&w, "fail") || is_kw(&w, "only")))
      lx.pos = save;
    found = read_table(&lx, name);
  } else if (strcmp(cmd, "delete") == 0) {
    for (int i = 0; i < 4; i++) {
      token_t w = next(&lx);
      if (is_kw(&w, "from")) {
        size_t save = lx.pos;
        token_t o = next(&lx);
        if (!is_kw(&o, "only")) lx.pos = save;
        found = read_table(&lx, name);
        break;
      }
      if (!(is_kw(&w, "low_priority") || is_kw(&w, "quick") || is_kw(&w, "ignore"))) break;
    }
  } else if (strcmp(cmd, "create") == 0 || strcmp(cmd, "drop") == 0 ||
             strcmp(cmd, "alter") == 0) {
    static const char *const k_mods[] = {"or", "replace", "global", "local", "temporary",
                                         "temp", "unlogged"};
    skip_words(&lx, k_mods, 7);
    token_t w = next(&lx);
    if (is_kw(&w, "table")) {
      static const char *const k_if[] = {"if", "not", "exists"};
      skip_words(&lx, k_if, 3);
      size_t save = lx.pos;
      token_t o = next(&lx);
      if (!is_kw(&o, "only")) lx.pos = save;
      found = read_table(&lx, name);
    }
  } else if (strcmp(cmd, "truncate") == 0) {
    static const char *const k_tr[] = {"table", "only"};
    skip_words(&lx, k_tr, 2);
    found = read_table(&lx, name);
  } else if (strcmp(cmd, "copy") == 0) {
    found = read_table(&lx, name);
  }
  if (found) set(out->source, sizeof out->source, name);
}
