#!/usr/bin/env python3
"""check_config_keys.py: every key the config loader accepts is in README.md.

The loader rejects unknown keys: in helper/config/*.c and in each
speaker's block parser (helper/speakers/**/*.c) each object's
NULL-terminated array goes to cfg_only_keys(f, obj, path, what, ARRAY) or
cfg_only_keys_or(..., ARRAY, also), in checks/*.c each plugin's goes to
host->opt_only(opts, ARRAY). This reads those arrays out of the C
sources and fails when a key is not written in README.md as `key` or
"key". Run from anywhere; exit 0 when every key is documented, 1 when one
is missing or no key list could be read.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = (
    sorted((ROOT / "helper" / "config").glob("*.c"))
    + sorted((ROOT / "helper" / "speakers").glob("**/*.c"))
    + sorted((ROOT / "checks").glob("*.c"))
)

# The array handed to the function that rejects unknown keys.
USE = re.compile(
    r"\b(?:cfg_only_keys\s*\([^;{]*?,|opt_only\s*\(\s*\w+\s*,)\s*(\w+)\s*\)"
    r"|\bcfg_only_keys_or\s*\([^;{]*?,\s*(\w+)\s*,\s*\w+\s*\)"
)
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def arrays(text, name):
    """The string literals of every `NAME[] = { ... }` in text."""
    found = []
    for m in re.finditer(r"\b" + re.escape(name) + r"\s*\[\s*\]\s*=\s*\{(.*?)\}\s*;", text, re.S):
        found.append(STRING.findall(m.group(1)))
    return found


def main():
    readme = (ROOT / "README.md").read_text()
    tables = []  # (file, array name, keys)
    problems = []
    for src in SOURCES:
        text = strip_comments(src.read_text())
        names = sorted({a or b for a, b in USE.findall(text)})
        rel = src.relative_to(ROOT)
        for name in names:
            found = arrays(text, name)
            if not found:
                problems.append(f"{rel}: key array {name} is used but not found")
            for keys in found:
                tables.append((rel, name, keys))
    if not tables:
        problems.append("no key arrays found: has the loader changed?")

    missing = []
    n_keys = 0
    for rel, name, keys in tables:
        for key in keys:
            n_keys += 1
            if f"`{key}`" not in readme and f'"{key}"' not in readme:
                missing.append(f"{rel}: {name}: key \"{key}\" is not in README.md")
    for line in problems + missing:
        print(f"check_config_keys: {line}")
    if problems or missing:
        return 1
    print(
        f"check_config_keys: {n_keys} keys in {len(tables)} key lists "
        f"({len({t[0] for t in tables})} files), all in README.md"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
