"""Check the words of the generated pairs against Debian's spelling dictionaries and FreeDict.

Usage: python lexicon_check.py WORKDIR   (reads WORKDIR/pairs/{train,heldout}.jsonl, writes WORKDIR/lexicon_check.json)

- Spelling: every distinct word of the Spanish sentences goes through Hunspell with the es_ES dictionary
  (Debian package hunspell-es), every English word through en_US (hunspell-en-us). Hunspell knows the
  inflected forms (plurals, feminines, conjugations), so this checks every form the grammar writes.
- Translations: each English lemma of the lexicon (nouns, adjectives, verbs) is looked up in the
  English-Spanish FreeDict dictionary (dict-freedict-eng-spa); the check counts the lemmas whose Spanish
  lemma is among FreeDict's translations and lists the others with what FreeDict gives. FreeDict is small
  (about 5900 headwords) and lists synonyms, so a miss is not necessarily an error; the list is for reading.

The packages are fetched with `apt-get download` and unpacked with `dpkg -x` (no root needed); an
installed `hunspell` and installed dictionaries are used if present.
"""
import collections
import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

import pairs

PACKAGES = ["hunspell", "libhunspell-1.7-0", "hunspell-es", "hunspell-en-us", "dict-freedict-eng-spa"]


def unpack(workdir):
    root = os.path.join(workdir, "deb", "root")
    debdir = os.path.join(workdir, "deb")
    os.makedirs(debdir, exist_ok=True)
    versions = {}
    for pkg in PACKAGES:
        debs = glob.glob(os.path.join(debdir, pkg + "_*.deb"))
        if not debs:
            subprocess.run(["apt-get", "download", pkg], cwd=debdir, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            debs = glob.glob(os.path.join(debdir, pkg + "_*.deb"))
        deb = sorted(debs)[-1]
        subprocess.run(["dpkg", "-x", deb, root], check=True)
        versions[pkg] = os.path.basename(deb)
    return root, versions


def hunspell_rejects(root, dictionary, words):
    exe = shutil.which("hunspell") or os.path.join(root, "usr/bin/hunspell")
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(root, "usr/lib/x86_64-linux-gnu"))
    dic = os.path.join(root, "usr/share/hunspell", dictionary)
    if not os.path.exists(dic + ".dic"):
        dic = os.path.join("/usr/share/hunspell", dictionary)
    res = subprocess.run([exe, "-d", dic, "-l"], input="\n".join(sorted(words)) + "\n", capture_output=True,
                         text=True, env=env, check=True)
    # a sanity check that the dictionary is really loaded: a misspelling must be rejected
    probe = subprocess.run([exe, "-d", dic, "-l"], input="qzxqzx\n", capture_output=True, text=True, env=env)
    assert probe.stdout.strip() == "qzxqzx", probe
    return sorted(set(res.stdout.split()))


def freedict(root):
    path = os.path.join(root, "usr/share/dictd/freedict-eng-spa.dict.dz")
    text = gzip.open(path).read().decode("utf-8")
    d, cur = collections.defaultdict(set), None
    for line in text.split("\n"):
        m = re.match(r"^(\S[^/]*?) /[^/]*/\s*$", line)  # headword /pronunciation/
        if m:
            cur = m.group(1).strip().lower()
        elif not line.strip():
            cur = None
        elif cur:
            for part in re.split(r"[,;]", re.sub(r"^\s*\d+\.\s*", "", line)):
                d[cur].add(part.strip().lower())
    return d


def main():
    work = sys.argv[1]
    rows = [json.loads(line) for name in ("train", "heldout")
            for line in open(os.path.join(work, "pairs", name + ".jsonl"), encoding="utf-8")]
    es_words = {w for r in rows for w in r["es"].split()}
    en_words = {w for r in rows for w in r["en"].split()}
    root, versions = unpack(work)
    bad_es = hunspell_rejects(root, "es_ES", es_words)
    bad_en = hunspell_rejects(root, "en_US", en_words)
    d = freedict(root)
    lemmas = ([(n.en, n.es) for n in pairs.NOUN_LIST] + [(a.en, a.forms[0]) for a in pairs.ADJ_LIST]
              + [(" ".join(v.en), v.es) for v in pairs.VERB_LIST])
    listed = [(en, es) for en, es in lemmas if es in d.get(en, ())]
    others = [{"en": en, "es": es, "freedict": sorted(d[en]) if en in d else None}
              for en, es in lemmas if es not in d.get(en, ())]
    out = {"packages": versions,
           "spanish_words": len(es_words), "spanish_rejected": bad_es,
           "english_words": len(en_words), "english_rejected": bad_en,
           "lemma_pairs": len(lemmas), "lemma_pairs_in_freedict": len(listed),
           "lemma_pairs_without_headword": sum(o["freedict"] is None for o in others),
           "not_in_freedict": others}
    json.dump(out, open(os.path.join(work, "lexicon_check.json"), "w"), indent=1, ensure_ascii=False)
    print(f"hunspell: {len(es_words) - len(bad_es)}/{len(es_words)} Spanish words and "
          f"{len(en_words) - len(bad_en)}/{len(en_words)} English words accepted; FreeDict lists "
          f"{len(listed)}/{len(lemmas)} lemma translations ({out['lemma_pairs_without_headword']} English "
          f"lemmas have no FreeDict entry)")
    if bad_es or bad_en:
        print("rejected:", bad_es, bad_en)


if __name__ == "__main__":
    main()
