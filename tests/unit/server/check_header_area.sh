#!/usr/bin/env bash
# Layering check: every function a public header declares (PMX_EXTERN name(...)) is defined in
# the static library of the area named for it, so a program that links only that area (and the
# areas below it) resolves the whole header. Reads the header and the archive's symbol table, so
# it cannot drift from the code.
#   check_header_area.sh <header.h> <libpmx_area.a>
set -euo pipefail
header=$1
lib=$2
declared=$(tr '\n' ' ' < "$header" | grep -o 'PMX_EXTERN[^;(]*(' | sed -E 's/.*[ *]([a-z_][a-z0-9_]*)\($/\1/' | sort -u)
if [ -z "$declared" ]; then
  echo "no PMX_EXTERN functions found in $header"; exit 1
fi
defined=$(nm --defined-only "$lib" 2>/dev/null | awk '$2 == "T" {print $3}' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$defined"))
if [ -n "$missing" ]; then
  echo "$header declares functions that $(basename "$lib") does not define:"; echo "$missing"; exit 1
fi
echo "$(basename "$header"): $(echo "$declared" | wc -l) functions, all in $(basename "$lib")"
