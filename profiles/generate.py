#!/usr/bin/env python3
"""Generate kamei's embedded PS3.15 tables (TOML) from the shared DICOM standard CSVs.

Usage:
    python3 profiles/generate.py [DIR]

DIR holds the CSVs described in its SOURCES.md (default: ../shared/dicom-standard relative to
the repository root). Writes, next to this script:

    ps3.15/e1-1.toml          Table E.1-1, one [[row]] per table row
    ps3.15/safe-private.toml  Table E.3.10-1, one [[attribute]] per row
    ps3.15/cid-7050.toml      CID 7050, one [[code]] per row

The output depends only on the input bytes (no clock, no environment), so re-running produces
identical files. Any unexpected header, action code, tag form or flag stops the script with an
error and writes nothing. Python 3 standard library only.
"""

import csv
import hashlib
import io
import os
import re
import sys

EDITION = "2026d"

E1_HEADER = [
    "tag",
    "name",
    "retired",
    "basic",
    "retain_safe_private",
    "retain_uids",
    "retain_device_identity",
    "retain_institution_identity",
    "retain_patient_characteristics",
    "retain_long_full_dates",
    "retain_long_modified_dates",
    "clean_descriptors",
    "clean_structured_content",
    "clean_graphics",
]
# Option columns in table order; the TOML key is the kamei option name (DeidOption::name()).
OPTION_COLUMNS = E1_HEADER[4:]

SAFE_HEADER = ["private_creator", "group", "element", "tag", "vr", "vm", "name"]
CID_HEADER = ["code_value", "coding_scheme_designator", "code_meaning"]

# Table E.1-1a: every action code the table may use.
BASIC_CODES = {"D", "Z", "X", "K", "C", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"}
# An option column only ever says keep or clean; anything else would need a new resolution rule.
OPTION_CODES = {"K", "C"}

PRIVATE_ROW_TAG = "(gggg,eeee) where gggg is odd"
# Exact tag, or a repeating group (ggxx,eeee) / (ggxx,xxxx) as PS3.15 writes them.
TAG_RE = re.compile(r"^\(([0-9A-F]{4}|[0-9A-F]{2}xx),([0-9A-F]{4}|xxxx)\)$")
HEX4_RE = re.compile(r"^[0-9A-F]{4}$")
ELEMENT_RE = re.compile(r"^xx[0-9A-F]{2}$")
VRS = {
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF",
    "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN",
    "UR", "US", "UT", "UV",
}
VM_RE = re.compile(r"^[0-9]+(-([0-9]+|n))?$")


class GenerateError(Exception):
    """A problem in the input: the generator refuses to write anything."""


def fail(where, message):
    raise GenerateError(f"{where}: {message}")


def toml_str(value):
    """A TOML basic string, escaped."""
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u%04X" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def read_csv(path):
    """(header, rows, sha256) of a UTF-8 CSV file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise GenerateError(f"{path}: cannot read: {e.strerror}") from None
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        fail(path, "not UTF-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = list(reader)
    if not rows:
        fail(path, "empty file")
    header, body = rows[0], rows[1:]
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            fail(f"{path}:{i}", f"{len(row)} fields, header has {len(header)}")
    return header, body, digest


def check_header(path, header, expected):
    if header != expected:
        fail(path, f"unexpected header {header!r}, expected {expected!r}")


def header_comment(title, source, digest):
    return [
        f"# DICOM {title}, edition {EDITION}. Content (c) NEMA.",
        f"# Source: {source} (sha256 {digest})",
        "#   from kamei's shared dicom-standard directory; see its SOURCES.md for provenance.",
        "# Generator: profiles/generate.py",
        "# Do not edit: regenerate with `python3 profiles/generate.py [DIR]`.",
        "",
    ]


def generate_e1_1(directory):
    name = "ps3.15-table-e1-1.csv"
    path = os.path.join(directory, name)
    header, rows, digest = read_csv(path)
    check_header(path, header, E1_HEADER)
    out = header_comment(
        "PS3.15 Table E.1-1, Application Level Confidentiality Profile Attributes", name, digest
    )
    out += [
        f'edition = "{EDITION}"',
        'table = "E.1-1"',
        f"source = {toml_str(name)}",
        f'source_sha256 = "{digest}"',
        "",
        "# One [[row]] per table row, in the table's order. `tag` is the tag as published",
        "# ((ggxx,eeee) = even groups gg00-gg1E); the private row has tag = \"private\" and keeps",
        "# the published text in `published`. `basic` is the Basic Profile action; option keys",
        "# (kamei option names) appear only where the table gives that option an action.",
    ]
    seen = set()
    private_rows = 0
    for line, row in enumerate(rows, start=2):
        where = f"{path}:{line}"
        cells = dict(zip(header, row))
        tag = cells["tag"]
        if tag == PRIVATE_ROW_TAG:
            private_rows += 1
            tag_lines = ['tag = "private"', f"published = {toml_str(tag)}"]
        elif TAG_RE.match(tag):
            tag_lines = [f"tag = {toml_str(tag)}"]
        else:
            fail(where, f"malformed tag {tag!r}")
        if tag in seen:
            fail(where, f"duplicate tag {tag}")
        seen.add(tag)
        if not cells["name"].strip():
            fail(where, "empty name")
        if cells["retired"] not in ("Y", "N"):
            fail(where, f"retired flag {cells['retired']!r} is not Y or N")
        if cells["basic"] not in BASIC_CODES:
            fail(where, f"unknown basic action code {cells['basic']!r}")
        out.append("")
        out.append("[[row]]")
        out += tag_lines
        out.append(f"name = {toml_str(cells['name'])}")
        out.append(f"retired = {'true' if cells['retired'] == 'Y' else 'false'}")
        out.append(f"basic = {toml_str(cells['basic'])}")
        for column in OPTION_COLUMNS:
            code = cells[column]
            if code == "":
                continue
            if code not in OPTION_CODES:
                fail(where, f"unknown action code {code!r} in column {column}")
            out.append(f"{column.replace('_', '-')} = {toml_str(code)}")
    if private_rows != 1:
        fail(path, f"expected exactly one private row, found {private_rows}")
    return out


def generate_safe_private(directory):
    name = "ps3.15-table-e3.10-1-safe-private.csv"
    path = os.path.join(directory, name)
    header, rows, digest = read_csv(path)
    check_header(path, header, SAFE_HEADER)
    out = header_comment("PS3.15 Table E.3.10-1, Safe Private Attributes", name, digest)
    out += [
        f'edition = "{EDITION}"',
        'table = "E.3.10-1"',
        f"source = {toml_str(name)}",
        f'source_sha256 = "{digest}"',
        "",
        "# One [[attribute]] per table row, in the table's order. An attribute is identified by",
        "# its private creator, its (odd) group and its element offset `xxEE` within the",
        "# creator's block (PS3.5 7.8.1). `vr` and `name` are empty where the table leaves them empty;",
        "# `vr` may list alternatives as published (\"OW/OB\").",
    ]
    seen = set()
    for line, row in enumerate(rows, start=2):
        where = f"{path}:{line}"
        c = dict(zip(header, row))
        creator, group, element = c["private_creator"], c["group"], c["element"]
        if not creator or creator != creator.strip():
            fail(where, f"private creator {creator!r} is empty or has outer spaces")
        if not HEX4_RE.match(group) or int(group, 16) % 2 == 0:
            fail(where, f"malformed or even private group {group!r}")
        if not ELEMENT_RE.match(element):
            fail(where, f"malformed element offset {element!r}")
        if c["tag"].lower() != f"({group},{element})".lower():
            fail(where, f"tag {c['tag']!r} disagrees with group {group} element {element}")
        if c["vr"] and any(vr not in VRS for vr in c["vr"].split("/")):
            fail(where, f"unknown VR {c['vr']!r}")
        if not VM_RE.match(c["vm"]):
            fail(where, f"malformed VM {c['vm']!r}")
        key = (creator, group, element)
        if key in seen:
            fail(where, f"duplicate attribute {key}")
        seen.add(key)
        out += [
            "",
            "[[attribute]]",
            f"creator = {toml_str(creator)}",
            f"group = {toml_str(group)}",
            f"element = {toml_str(element)}",
            f"vr = {toml_str(c['vr'])}",
            f"vm = {toml_str(c['vm'])}",
            f"name = {toml_str(c['name'])}",
        ]
    return out


def generate_cid_7050(directory):
    name = "cid-7050.csv"
    path = os.path.join(directory, name)
    header, rows, digest = read_csv(path)
    check_header(path, header, CID_HEADER)
    out = header_comment("PS3.16 CID 7050, De-identification Method", name, digest)
    out += [
        f'edition = "{EDITION}"',
        'table = "CID 7050"',
        f"source = {toml_str(name)}",
        f'source_sha256 = "{digest}"',
    ]
    seen = set()
    for line, row in enumerate(rows, start=2):
        where = f"{path}:{line}"
        c = dict(zip(header, row))
        if not re.match(r"^[0-9]{6}$", c["code_value"]):
            fail(where, f"malformed code value {c['code_value']!r}")
        if c["coding_scheme_designator"] != "DCM":
            fail(where, f"unexpected coding scheme {c['coding_scheme_designator']!r}")
        if not c["code_meaning"].strip() or c["code_value"] in seen:
            fail(where, "empty meaning or duplicate code value")
        seen.add(c["code_value"])
        out += [
            "",
            "[[code]]",
            f"value = {toml_str(c['code_value'])}",
            f"scheme = {toml_str(c['coding_scheme_designator'])}",
            f"meaning = {toml_str(c['code_meaning'])}",
        ]
    return out


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    repo_root = os.path.dirname(here)
    if len(argv) > 2:
        print("usage: generate.py [DIR]", file=sys.stderr)
        return 2
    directory = argv[1] if len(argv) == 2 else os.path.join(repo_root, "..", "shared", "dicom-standard")
    try:
        outputs = {
            "e1-1.toml": generate_e1_1(directory),
            "safe-private.toml": generate_safe_private(directory),
            "cid-7050.toml": generate_cid_7050(directory),
        }
    except GenerateError as e:
        print(f"generate.py: {e}", file=sys.stderr)
        return 1
    out_dir = os.path.join(here, "ps3.15")
    os.makedirs(out_dir, exist_ok=True)
    for file_name, lines in outputs.items():
        target = os.path.join(out_dir, file_name)
        tmp = target + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, target)
        print(f"wrote {os.path.relpath(target, repo_root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
