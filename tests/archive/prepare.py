#!/usr/bin/env python3
"""prepare.py CASES.json OUTDIR [NAME...]: lay out every case (default: all).

For each case, OUTDIR/NAME/ gets repo/ (repo.json, packages/evil.json and
archives/evil-1.0.0.tar.gz or .zip, with its sha256), and one file per
expectation for run-cases: exit, stderr (one line each), env (K=V lines),
mount (bytes, when the root goes on a small tmpfs).
"""
import hashlib
import io
import json
import os
import sys
import tarfile
import zipfile

TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
         "hardlink": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}


def name_of(e):
    # a path of 12 kB, made here to keep the case file small
    return e["name"].replace("LONG12K", "/".join(["a" * 200] * 60))


def data_of(e):
    if "data" in e:
        return e["data"].encode()
    return e.get("fill", "\0").encode() * e.get("size", 0)


def write_tar(entries, out):
    with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            info = tarfile.TarInfo(name_of(e))
            info.type = TYPES[e.get("type", "file")]
            info.mode = e.get("mode", 0o755 if info.type == tarfile.DIRTYPE else 0o644)
            info.linkname = e.get("link", "")
            if info.type == tarfile.CHRTYPE:
                info.devmajor, info.devminor = 1, 3
            data = data_of(e) if info.type == tarfile.REGTYPE else b""
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def write_zip(entries, out):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for e in entries:
            z.writestr(zipfile.ZipInfo(name_of(e)), data_of(e))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def prepare(case, d):
    ext = "zip" if case.get("format") == "zip" else "tar.gz"
    repo = os.path.join(d, "repo")
    os.makedirs(os.path.join(repo, "packages"))
    os.makedirs(os.path.join(repo, "archives"))
    os.makedirs(os.path.join(d, "root"))
    write(os.path.join(repo, "repo.json"), '{"format": 1, "name": "hostile"}\n')
    archive = os.path.join(repo, "archives", "evil-1.0.0." + ext)
    (write_zip if ext == "zip" else write_tar)(case["entries"], archive)
    sha = hashlib.sha256(open(archive, "rb").read()).hexdigest()
    v = {"source": {"url": "archives/evil-1.0.0." + ext, "sha256": sha},
         "build": [case.get("build", ["true"])], "install": []}
    write(os.path.join(repo, "packages", "evil.json"),
          json.dumps({"name": "evil", "versions": {"1.0.0": v}}))
    write(os.path.join(d, "exit"), "%d\n" % case["exit"])
    write(os.path.join(d, "stderr"), "".join(line + "\n" for line in case["stderr"]))
    write(os.path.join(d, "env"), "".join("%s=%s\n" % kv for kv in case.get("env", {}).items()))
    if "mount" in case:
        write(os.path.join(d, "mount"), "%d\n" % case["mount"])


def main():
    cases = json.load(open(sys.argv[1]))
    names = sys.argv[3:] or [k for k in cases if not k.startswith("_")]
    for name in names:
        prepare(cases[name], os.path.join(sys.argv[2], name))
        print(name)


if __name__ == "__main__":
    main()
