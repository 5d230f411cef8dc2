#!/usr/bin/env python3
"""Rewrites the generated option tables of docs/config.md from the rules table.

Usage: regen_config_doc.py <build dir>   (runs <build>/tests/unit/config/test_config_doc --print)
test_config_doc fails when the doc and the rules differ; this script is how to bring them back."""
import pathlib
import re
import subprocess
import sys

build = pathlib.Path(sys.argv[1])
doc = pathlib.Path(__file__).resolve().parents[3] / "docs" / "config.md"
tool = build / "tests" / "unit" / "config" / "test_config_doc"
text = doc.read_text()


def table(match):
    section = match.group(1)
    out = subprocess.run([str(tool), "--print", section], check=True, capture_output=True, text=True).stdout
    return "<!-- rules:%s -->\n%s<!-- /rules -->" % (section, out)


doc.write_text(re.sub(r"<!-- rules:(\S+) -->\n.*?<!-- /rules -->", table, text, flags=re.S))
