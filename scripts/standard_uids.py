#!/usr/bin/env python3
"""Regenerate the list of registered UIDs in src/standard_uids.rs (PS3.6 Annex A).

The list is the union of the UID registry of the dicom-dictionary-std crate that Cargo.lock
pins (its src/uids.rs, from cargo's registry cache) and of pydicom's UID dictionary (install
pydicom first), sorted bytewise for the binary search. Run from the repository root after
either is updated:

    python3 scripts/standard_uids.py
"""
import glob
import os
import re
import sys

from pydicom._uid_dict import UID_dictionary

ROOT = "1.2.840.10008."
TARGET = "src/standard_uids.rs"


def crate_uids():
    lock = open("Cargo.lock", encoding="utf-8").read()
    version = re.search(r'name = "dicom-dictionary-std"\nversion = "([^"]+)"', lock).group(1)
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    paths = glob.glob(f"{home}/registry/src/*/dicom-dictionary-std-{version}/src/uids.rs")
    if not paths:
        sys.exit(f"dicom-dictionary-std {version} is not in cargo's registry: run `cargo fetch` first")
    source = open(paths[0], encoding="utf-8").read()
    return set(re.findall(r'pub const \w+: &str = "([0-9.]+)"', source))


def main():
    uids = sorted((crate_uids() | {u for u in UID_dictionary if u.startswith(ROOT)}), key=str.encode)
    text = open(TARGET, encoding="utf-8").read()
    start = text.index("pub const REGISTERED: &[&str] = &[\n") + len("pub const REGISTERED: &[&str] = &[\n")
    end = text.index("];\n", start)
    body = "".join(f'    "{u}",\n' for u in uids)
    open(TARGET, "w", encoding="utf-8").write(text[:start] + body + text[end:])
    print(f"{TARGET}: {len(uids)} registered UIDs")


if __name__ == "__main__":
    main()
