#!/usr/bin/env python3
"""Reference cases for Stepwise's Unigram tokenizer and the post-processors of encoder-decoder models.

Trains small tokenizers with Hugging Face `tokenizers` (and, for real precompiled charsmaps, with
`sentencepiece`), and writes into Tests/StepwiseKitTests/Fixtures/tokenizers/unigram/:

  <config>/tokenizer.json   one folder per configuration (so the Swift tests can load it as a folder)
  cases.json                {"tokenizers_version", "configs": {name: {"cases": [...], "explain": [...]}}}

Each case: {"text", "ids" (add_special_tokens=False), "ids_special" (add_special_tokens=True),
"decoded" (decode(ids, skip_special_tokens=False)), "decoded_special" (the same for ids_special), and for
a configuration with a normalizer "normalized" (the normalizer alone on the whole text)}.

Each "explain" entry, for some words of the texts: {"text" (the input), "pretoken" (the pre-token after
normalization and pre-tokenization, as `tokenizers` makes it), "pieces" (the pieces of the ids the library
gives for it),
"score" (the sum of those pieces' vocabulary scores), "second" (the score of the second-best segmentation
of the pre-token, found here by enumerating the lattice independently), "second_pieces" (one segmentation
with that score, or null when the pre-token has only one)}. Unknown characters count as one node each, with
the library's penalty (the lowest vocabulary score minus 10).

Configurations:
  metaspace_always    Metaspace(prepend always, split), no normalizer, Metaspace decoder, <unk>
  first_nosplit       Strip + Lowercase normalizer, Metaspace(prepend first, split false),
                      TemplateProcessing "<s> $A </s>" (BART-like template), and a plain added token
                      'world' with normalized=True (matched after lowercasing)
  byte_fallback       Unigram with byte_fallback and <0x00>..<0xFF> pieces, Prepend("▁") + Replace(" ", "▁")
                      normalizer, no pre-tokenizer, decoder Replace/ByteFallback/Fuse/Strip (Llama-like)
  t5_like             T5's layout: <pad>=0 </s>=1 <unk>=2, <extra_id_0..9> last (extra_id_0 highest, in the
                      vocabulary with score 0 as T5's converter puts them), normalizer Precompiled (the real
                      nmt_nfkc charsmap of a sentencepiece model trained here) + Replace(" {2,}" -> " "),
                      pre-tokenizer WhitespaceSplit + Metaspace(always), TemplateProcessing "$A </s>"
                      (the older Metaspace form of the same file, add_prefix_space + str_rep without
                      prepend_scheme and split, is checked here to give the same ids; the Swift tests
                      rewrite the file the same way)
  viterbi             a hand-made T5-style vocabulary where the best segmentation is not greedy longest-match
  spm_unigram         `SentencePieceUnigramTokenizer` (Nmt + NFKC + Replace normalizer, Metaspace)
  custom_charsmap     Precompiled from a sentencepiece model with a small custom rule table (multi-character
                      sources included), Metaspace(prepend first, split false)
  bart_bpe            byte-level BPE: ByteLevel(add_prefix_space=True) pre-tokenizer, RobertaProcessing
                      (<s> $A </s>), ByteLevel decoder, <mask> with lstrip

Needs `tokenizers` and `sentencepiece` (pip install sentencepiece; the charsmaps are read from the
model proto by hand, so protobuf is not needed).

Usage: ~/stepwise-ref/venv/bin/python tools/reference/make_unigram_cases.py [--retrain]
  Without --retrain the committed tokenizer.json files are kept and only cases.json is made again (a
  configuration whose folder is missing is trained). Training is not reproducible bit for bit (the trainer's
  hash maps order equally frequent characters differently from run to run), so --retrain changes ids.
"""
import io
import json
import math
import os
import shutil
import sys
import tempfile

# One thread: the trainers' parallel sums otherwise make the scores differ slightly from run to run.
os.environ['RAYON_NUM_THREADS'] = '1'
os.environ['TOKENIZERS_PARALLELISM'] = 'false'

import sentencepiece as spm
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from tokenizers.implementations import SentencePieceUnigramTokenizer

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../Tests/StepwiseKitTests/Fixtures/tokenizers/unigram')

CORPUS = """The quick brown fox jumps over the lazy dog.
Attention is all you need: the transformer has an encoder and a decoder.
The encoder reads the source sentence; the decoder writes the translation one token at a time.
Translate English to German: The house is wonderful. Das Haus ist wunderbar.
Summarize: Stepwise shows every step of a forward pass, from the tokens to the logits.
unbelievable, unbelievably, believe, believer, relieve, relief, beliefs
tokenization tokenizer tokenizers token tokens tokenize tokenized
Once upon a time there was a little girl named Lily. She loved to play outside.
In 2024, 12345 people paid $3.50 each; 99% of them were happy.
naïve café résumé Ångström Straße über schön Éléphant déjà vu
Le chat est sur la table. Les enfants jouent dans le jardin.
El niño come una manzana. ¿Dónde está la biblioteca?
東京 日本語 中文 한국어 Русский текст Ελληνικά
def forward(self, x): return self.proj(x) + 1
for i in range(10): print(i * i)
hello hello hello world world wide web
supercalifragilisticexpialidocious antidisestablishmentarianism
The cat sat on the mat. The dog sat on the log. The bird sat on the wire.
question: what is the capital of France? answer: Paris
premise: a man is playing a guitar. hypothesis: a person plays music.
""".strip().split('\n')

# Hard strings, each tokenized by every configuration.
TEXTS = [
    '', ' ', '  ', '\t', '\n', ' \n ', 'a', 'Hello', 'Hello world', ' Hello world', 'Hello world ',
    'hello   world', '  leading and trailing  ', 'line one\nline two\r\nline three', 'tab\tseparated',
    'unbelievable', 'unbelievably believable', 'tokenization', 'The transformer has an encoder.',
    'naïve café', 'e\u0301 combining', 'Ångström A\u030angstrom', 'Straße STRASSE', 'ﬁ ligature ﬀ',
    'Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３', 'Ａ\u0301 fullwidth with accent', '①②③ ² ½', 'ｶﾞｷﾞ halfwidth',
    '東京 日本語', '한국어 텍스트', 'Русский', '😀 emoji 👍🏽', '☃ snowman ⚡', 'zero\u200bwidth', 'nbsp\u00a0here',
    'soft\u00adhyphen', 'ctrl\x01\x7fchars', '▁ already ▁ metaspace', '<0x41> literal byte piece',
    '</s>', 'Hello</s>', '<pad> padded', '<unk>', 'x <extra_id_0> y <extra_id_1>', '<extra_id_0>',
    '<s> start', 'Hello <mask> world', '<mask>x', ' <mask>', 'abcd', 'abcd abc ab', 'zzzzqqqq',
    'The year 2024 and 3.14159', 'supercalifragilisticexpialidocious', 'a' * 60,
    'question: what is the capital of France?', '\u00adsoft hyphen first', '\u3000ideographic space first',
    '\x01control first',
]


# MARK: - sentencepiece models (for real precompiled charsmaps)

def varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7f) << s
        s += 7
        if c < 0x80:
            return r, i


def proto_fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        f, t = key >> 3, key & 7
        if t == 0:
            v, i = varint(b, i)
        elif t == 1:
            v, i = b[i:i + 8], i + 8
        elif t == 5:
            v, i = b[i:i + 4], i + 4
        elif t == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError('wire type %d' % t)
        yield f, t, v


def charsmap(**options):
    """The precompiled_charsmap (ModelProto.normalizer_spec field 2) of a sentencepiece model trained here."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS * 20), model_writer=model, vocab_size=120,
                                   model_type='unigram', minloglevel=2, hard_vocab_limit=False, **options)
    for f, _, v in proto_fields(model.getvalue()):
        if f == 3:
            for f2, _, v2 in proto_fields(v):
                if f2 == 2:
                    return bytes(v2)
    raise ValueError('no precompiled_charsmap')


# MARK: - configurations

def rounded(tok, specials):
    """The tokenizer with its scores rounded to 6 decimals and the pieces after the first `specials` sorted
    by score, then text: the trainer's sums differ in the last bits from run to run (and so does the order
    of equal scores), and the fixtures should not."""
    d = json.loads(tok.to_str())
    vocab = d['model']['vocab']
    rest = sorted(([p, round(s, 6)] for p, s in vocab[specials:]), key=lambda v: (-v[1], v[0]))
    d['model']['vocab'] = vocab[:specials] + rest
    return Tokenizer.from_str(json.dumps(d))


def train_unigram(tok, vocab_size, special, unk='<unk>'):
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=special, unk_token=unk,
                                      show_progress=False, max_piece_length=12)
    tok.train_from_iterator(CORPUS * 3, trainer)
    return rounded(tok, len(special))


def metaspace_always():
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme='always', split=True)
    tok.decoder = decoders.Metaspace(prepend_scheme='always')
    return train_unigram(tok, 300, ['<unk>'])


def first_nosplit():
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.Strip(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme='first', split=False)
    tok.decoder = decoders.Metaspace(prepend_scheme='first')
    tok = train_unigram(tok, 300, ['<unk>', '<s>', '</s>'])
    # A plain added token matched after normalization (so 'World' matches it once lowercased).
    tok.add_tokens([AddedToken('world', normalized=True, special=False)])
    tok.post_processor = processors.TemplateProcessing(
        single='<s> $A </s>', pair='<s> $A </s> $B </s>',
        special_tokens=[('<s>', tok.token_to_id('<s>')), ('</s>', tok.token_to_id('</s>'))])
    return tok


def byte_fallback():
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.Prepend('▁'), normalizers.Replace(' ', '▁')])
    tok.pre_tokenizer = None
    tok = train_unigram(tok, 250, ['<unk>', '<s>', '</s>'])
    vocab = json.loads(tok.to_str())['model']['vocab']
    vocab = vocab[:3] + [['<0x%02X>' % b, 0.0] for b in range(256)] + vocab[3:]
    out = Tokenizer(models.Unigram([tuple(v) for v in vocab], 0, True))
    out.normalizer = tok.normalizer
    out.decoder = decoders.Sequence([decoders.Replace('▁', ' '), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(' ', 1, 0)])
    out.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ['<unk>', '<s>', '</s>']])
    return out


def t5_like():
    norm = normalizers.Sequence([normalizers.Precompiled(charsmap(normalization_rule_name='nmt_nfkc')),
                                 normalizers.Replace(Regex(' {2,}'), ' ')])
    tok = Tokenizer(models.Unigram())
    tok.normalizer = norm
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(prepend_scheme='always')])
    tok = train_unigram(tok, 400, ['<pad>', '</s>', '<unk>'])
    vocab = json.loads(tok.to_str())['model']['vocab']
    vocab += [['<extra_id_%d>' % i, 0.0] for i in range(9, -1, -1)]
    out = Tokenizer(models.Unigram([tuple(v) for v in vocab], 2, False))
    out.normalizer = norm
    out.pre_tokenizer = tok.pre_tokenizer
    out.decoder = decoders.Metaspace(prepend_scheme='always')
    out.add_special_tokens([AddedToken(v[0], special=True, normalized=False) for v in vocab[:3]])
    out.add_special_tokens([AddedToken('<extra_id_%d>' % i, special=True, normalized=False) for i in range(10)])
    out.post_processor = processors.TemplateProcessing(single='$A </s>', pair='$A </s> $B </s>',
                                                       special_tokens=[('</s>', 1)])
    return out


def legacy(tok):
    """The same tokenizer.json in the older Metaspace form (before prepend_scheme and split existed)."""
    d = json.loads(tok.to_str())
    for p in d['pre_tokenizer']['pretokenizers']:
        if p['type'] == 'Metaspace':
            p.pop('prepend_scheme'), p.pop('split')
            p['add_prefix_space'] = True
            p['str_rep'] = '▁'
    d['decoder'] = {'type': 'Metaspace', 'replacement': '▁', 'add_prefix_space': True, 'str_rep': '▁'}
    return Tokenizer.from_str(json.dumps(d))


def viterbi():
    vocab = [('<pad>', 0.0), ('</s>', 0.0), ('<unk>', 0.0), ('▁', -3.0), ('a', -4.0), ('b', -4.0), ('c', -4.0),
             ('d', -4.0), ('▁a', -3.5), ('▁ab', -2.0), ('▁abc', -1.0), ('cd', -2.0), ('bcd', -3.0), ('abc', -2.5),
             ('ab', -2.2)]
    tok = Tokenizer(models.Unigram(vocab, 2, False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(prepend_scheme='always')])
    tok.decoder = decoders.Metaspace(prepend_scheme='always')
    tok.add_special_tokens([AddedToken(v, special=True, normalized=False) for v, _ in vocab[:3]])
    tok.post_processor = processors.TemplateProcessing(single='$A </s>', special_tokens=[('</s>', 1)])
    return tok


def spm_unigram():
    tok = SentencePieceUnigramTokenizer()
    tok.train_from_iterator(CORPUS * 3, vocab_size=300, special_tokens=['<unk>'], unk_token='<unk>',
                            show_progress=False)
    return rounded(Tokenizer.from_str(tok.to_str()), 1)


CUSTOM_RULES = [  # source code points -> target code points (hex)
    ('FF21', '41'), ('FF22', '42'), ('FF23', '43'),  # fullwidth A B C
    ('FB01', '66 69'), ('FB00', '66 66'),            # ligatures
    ('41 30A', 'C5'),                                # A + combining ring -> Å (a two-character source)
    ('61 62', '58'),                                 # "ab" -> "X": a source of two graphemes
    ('2460', '31'), ('2461', '32'),                  # circled digits
    ('3000', '20'), ('A0', '20'),                    # ideographic and no-break space -> space
    ('AD', ''),                                      # soft hyphen removed
    ('2603', '73 6E 6F 77'),                         # snowman -> "snow"
]


def custom_charsmap():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'rules.tsv')
        with open(path, 'w') as f:
            for src, dst in CUSTOM_RULES:
                f.write('%s\t%s\n' % (src, dst))
        cm = charsmap(normalization_rule_tsv=path)
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Precompiled(cm)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme='first', split=False)
    tok.decoder = decoders.Metaspace(prepend_scheme='first')
    return train_unigram(tok, 250, ['<unk>'])


def bart_bpe():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    special = ['<s>', '<pad>', '</s>', '<unk>']
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=special, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS * 3, trainer)
    tok.add_special_tokens([AddedToken('<mask>', special=True, lstrip=True, normalized=False)])
    tok.post_processor = processors.RobertaProcessing(('</s>', 2), ('<s>', 0))
    return tok


CONFIGS = [
    ('metaspace_always', metaspace_always), ('first_nosplit', first_nosplit), ('byte_fallback', byte_fallback),
    ('t5_like', t5_like), ('viterbi', viterbi), ('spm_unigram', spm_unigram), ('custom_charsmap', custom_charsmap),
    ('bart_bpe', bart_bpe),
]


# MARK: - the reference for explain: scores, and the second-best segmentation by enumeration

def lattice_top2(word, vocab):
    """The two best segmentations of `word` (by the sum of scores) over the library's lattice: every
    vocabulary piece starting at a character boundary, and an unknown node for a character that is not
    itself a piece. Returns [(score, pieces)] best first, with distinct node sequences."""
    scores = {}
    for p, s in vocab:
        if p and p not in scores:
            scores[p] = s
    # tokenizers keeps the last id of a repeated piece; the fixtures have none.
    unk = min(s for _, s in vocab) - 10.0
    n = len(word)
    best = [[] for _ in range(n + 1)]  # best[i]: up to two (score, pieces) ending at i
    best[0] = [(0.0, [])]
    for i in range(n):
        if not best[i]:
            continue
        edges = [(j, word[i:j], scores[word[i:j]]) for j in range(i + 1, n + 1) if word[i:j] in scores]
        if word[i] not in scores:
            edges.append((i + 1, '<unk:%s>' % word[i], unk))
        for j, piece, s in edges:
            for total, pieces in best[i]:
                best[j].append((total + s, pieces + [piece]))
            best[j].sort(key=lambda t: -t[0])
            best[j] = best[j][:2]
    return best[n]


def explain_cases(tok, texts):
    d = json.loads(tok.to_str())
    if d['model']['type'] != 'Unigram':
        return []
    vocab = [(p, s) for p, s in d['model']['vocab']]
    score_of = {}
    for p, s in vocab:
        score_of.setdefault(p, s)
    unk_score = min(s for _, s in vocab) - 10.0
    out = []
    seen = set()
    added = [a['content'] for a in d['added_tokens']]
    pre = json.dumps(d['pre_tokenizer'])
    first = '"prepend_scheme": "first"' in pre
    for text in texts:
        # Words are found here by normalizing and pre-tokenizing the whole text: only right without added
        # tokens, and (for prepend_scheme first, which looks at where the text started) when the normalizer
        # left the start of the text as it was.
        norm = tok.normalizer.normalize_str(text) if tok.normalizer else text
        if any(t in text or t in norm for t in added):
            continue
        if first and norm[:1] != text[:1]:
            continue
        pre = tok.pre_tokenizer.pre_tokenize_str(norm) if tok.pre_tokenizer else [(norm, (0, len(norm)))]
        for word, _ in pre:
            if not word or len(word) > 16 or word in seen or len(out) >= 30:
                continue
            seen.add(word)
            # The library's pieces for this pre-token alone, unknowns unfused (each character is a node).
            enc = tok.model.tokenize(word)
            pieces = [tok.id_to_token(t.id) for t in enc]
            top = lattice_top2(word, vocab)
            lib_score = 0.0
            for t, p in zip(enc, pieces):
                if t.id != d['model']['unk_id'] and not (d['model'].get('byte_fallback') and p.startswith('<0x')):
                    lib_score += score_of[p]
                else:  # a fused run of unknown characters, or byte pieces standing for them
                    lib_score = None
                    break
            entry = {'text': text, 'pretoken': word, 'pieces': pieces, 'best': top[0][0],
                     'second': top[1][0] if len(top) > 1 else None,
                     'second_pieces': top[1][1] if len(top) > 1 else None}
            if lib_score is not None:
                assert math.isclose(lib_score, top[0][0], abs_tol=1e-9), (word, pieces, lib_score, top)
            out.append(entry)
    return out


def main():
    retrain = '--retrain' in sys.argv
    if retrain and os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT, exist_ok=True)
    result = {'tokenizers_version': __import__('tokenizers').__version__, 'configs': {}}
    built = {}
    for name, make in CONFIGS:
        path = os.path.join(OUT, name, 'tokenizer.json')
        if os.path.exists(path):
            built[name] = Tokenizer.from_file(path)
        else:
            built[name] = make()
            os.makedirs(os.path.join(OUT, name), exist_ok=True)
            built[name].save(path, pretty=False)
    for name, tok in built.items():
        again = Tokenizer.from_file(os.path.join(OUT, name, 'tokenizer.json'))
        cases = []
        for text in TEXTS:
            e = again.encode(text, add_special_tokens=False)
            es = again.encode(text, add_special_tokens=True)
            case = {'text': text, 'ids': e.ids, 'ids_special': es.ids,
                    'decoded': again.decode(e.ids, skip_special_tokens=False),
                    'decoded_special': again.decode(es.ids, skip_special_tokens=False)}
            if again.normalizer is not None:
                case['normalized'] = again.normalizer.normalize_str(text)
            cases.append(case)
        result['configs'][name] = {'cases': cases, 'explain': explain_cases(again, TEXTS)}
    # The viterbi configuration must really differ from greedy longest match somewhere.
    v = result['configs']['viterbi']['cases']
    assert any(c['text'] == 'abcd' and c['ids'] == [9, 11] for c in v), [c['ids'] for c in v if c['text'] == 'abcd']
    # The older Metaspace form of the same file gives the same ids (the Swift tests rewrite it the same way).
    old = legacy(built['t5_like'])
    for c in result['configs']['t5_like']['cases']:
        assert old.encode(c['text'], add_special_tokens=False).ids == c['ids'], c['text']
    # One case or explain entry per line: small, and diffs stay readable.
    lines = ['{"tokenizers_version": %s, "configs": {' % json.dumps(result['tokenizers_version'])]
    for k, (name, conf) in enumerate(result['configs'].items()):
        lines.append('%s: {"cases": [' % json.dumps(name))
        lines.append(',\n'.join(json.dumps(c, ensure_ascii=False) for c in conf['cases']))
        lines.append('], "explain": [')
        lines.append(',\n'.join(json.dumps(c, ensure_ascii=False) for c in conf['explain']))
        lines.append(']}' + (',' if k + 1 < len(result['configs']) else ''))
    lines.append('}}')
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    json.load(open(os.path.join(OUT, 'cases.json')))
    total = sum(len(c['cases']) for c in result['configs'].values())
    print('wrote %d configurations, %d cases, %d explain entries' % (
        len(result['configs']), total, sum(len(c['explain']) for c in result['configs'].values())))


if __name__ == '__main__':
    main()
