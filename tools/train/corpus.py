"""Fetch Jane Austen's six novels from Debian's r-cran-janeaustenr package and write plain text.

The package stores the novels as an R lazy-load database (data/Rdata.rdx + data/Rdata.rdb):
the .rdx index is a gzip'd serialized R list of (offset, length) pairs, and each .rdb record is a
4-byte big-endian uncompressed length followed by a zlib stream holding one serialized R object
(here a character vector, one element per line of the Project Gutenberg text). `rdata` parses the
serialized objects.

Usage: python corpus.py WORKDIR   -> WORKDIR/corpus/{train,val}.txt and WORKDIR/corpus/source.json
"""
import glob
import gzip
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import warnings
import zlib

import rdata

PACKAGE = "r-cran-janeaustenr"
DATA_SUBDIR = "usr/lib/R/site-library/janeaustenr/data"
EOT = "<|endoftext|>"
VAL_FRACTION = 0.05  # the last 5% of each novel's paragraphs is held out for validation
# Fixed order, so the token stream does not depend on how the index happens to be ordered.
NOVELS = ["sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey", "persuasion"]


def fetch_package(workdir):
    """Return the directory holding Rdata.rdx/.rdb: an installed copy, else `apt-get download` + `dpkg -x`."""
    installed = os.path.join("/", DATA_SUBDIR)
    if os.path.exists(os.path.join(installed, "Rdata.rdx")):
        return installed, "installed"
    pkgdir = os.path.join(workdir, "deb")
    os.makedirs(pkgdir, exist_ok=True)
    debs = glob.glob(os.path.join(pkgdir, PACKAGE + "_*.deb"))
    if not debs:
        subprocess.run(["apt-get", "download", PACKAGE], cwd=pkgdir, check=True)
        debs = glob.glob(os.path.join(pkgdir, PACKAGE + "_*.deb"))
    deb = sorted(debs)[-1]
    root = os.path.join(pkgdir, "root")
    subprocess.run(["dpkg", "-x", deb, root], check=True)
    return os.path.join(root, DATA_SUBDIR), os.path.basename(deb)


def unserialize(raw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rdata warns that a bare serialization stream "is assumed RDS"
        return rdata.conversion.convert(rdata.parser.parse_data(raw))


def read_novels(datadir):
    index = unserialize(gzip.decompress(open(os.path.join(datadir, "Rdata.rdx"), "rb").read()))
    db = open(os.path.join(datadir, "Rdata.rdb"), "rb").read()
    novels = {}
    for name, (offset, length) in index["variables"].items():
        rec = db[int(offset):int(offset) + int(length)]
        size = struct.unpack(">I", rec[:4])[0]
        raw = zlib.decompress(rec[4:])
        assert len(raw) == size, name
        novels[str(name)] = [("" if x is None else str(x)) for x in unserialize(raw)]
    return novels


def paragraphs(lines):
    """Join the hard-wrapped lines of each paragraph with single spaces; paragraphs are split by blank lines.
    Runs of spaces (the texts put two after a full stop) become one."""
    out, cur = [], []
    for line in lines:
        line = line.strip()
        if line:
            cur.append(line)
        elif cur:
            out.append(re.sub(" +", " ", " ".join(cur)))
            cur = []
    if cur:
        out.append(re.sub(" +", " ", " ".join(cur)))
    return out


def main():
    workdir = sys.argv[1]
    outdir = os.path.join(workdir, "corpus")
    os.makedirs(outdir, exist_ok=True)
    datadir, origin = fetch_package(workdir)
    novels = read_novels(datadir)
    assert sorted(novels) == sorted(NOVELS), sorted(novels)
    train_docs, val_docs = [], []
    for name in NOVELS:
        paras = paragraphs(novels[name])
        cut = int(len(paras) * (1 - VAL_FRACTION))
        train_docs.append("\n".join(paras[:cut]))
        val_docs.append("\n".join(paras[cut:]))
    # Novels are separated by the end-of-text token, as GPT-2 separates documents.
    train = EOT.join(train_docs)
    val = EOT.join(val_docs)
    open(os.path.join(outdir, "train.txt"), "w", encoding="utf-8").write(train)
    open(os.path.join(outdir, "val.txt"), "w", encoding="utf-8").write(val)
    info = {
        "package": PACKAGE,
        "origin": origin,
        "novels": NOVELS,
        "train_chars": len(train),
        "val_chars": len(val),
        "train_sha256": hashlib.sha256(train.encode()).hexdigest(),
        "val_sha256": hashlib.sha256(val.encode()).hexdigest(),
    }
    json.dump(info, open(os.path.join(outdir, "source.json"), "w"), indent=1)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
