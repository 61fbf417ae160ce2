#!/usr/bin/env python3
"""Reference cases for Stepwise's byte-level BPE tokenizer.

Writes two files into Tests/StepwiseKitTests/Fixtures/tokenizers/:

cases.json   {"cases": [{"text", "gpt2", "smollm2", "pretokens": {"gpt2", "llama3", "qwen2", "smollm"}}]}
  - "gpt2":    ids from Hugging Face `tokenizers` built on the original GPT-2 files (encoder.json + vocab.bpe):
               BPE(vocab, merges) + ByteLevel(add_prefix_space=False) pre-tokenizer, with `<|endoftext|>`
               registered as a special token (matched whole in the text, as transformers' GPT2TokenizerFast does).
  - "gpt2_llama3", "gpt2_qwen2": GPT-2's vocabulary and merges in a tokenizer.json whose pre-tokenizer is
               Sequence[Split(Llama 3 / Qwen2 regex, Isolated), ByteLevel(use_regex=False)]; the llama3 one also sets
               model.ignore_merges, the qwen2 one an NFC normalizer (as those models' files do). The Swift tests
               write the same tokenizer.json from the GPT-2 files (see variant_json below).
  - "smollm2": ids from SmolLM2's tokenizer.json (vocab + merges as exported from the GGUF) with the
               pre-tokenizer llama.cpp uses for `tokenizer.ggml.pre = smollm`: Digits(individual_digits=True)
               then ByteLevel. (The exported tokenizer.json only has ByteLevel: transformers' GGUF import drops
               the digit split.) Its 17 added tokens are special and matched whole.
  - "pretokens": the pre-token strings (before the byte-to-unicode map) from the Python `regex` module
               for each pre-tokenizer regex; "smollm" splits every \\p{N} first, then applies GPT-2's regex to each
               piece. Each is also checked here against `tokenizers`' own pre-tokenizers.

smollm2-vocab.json  {"tokens": [...by id], "merges": ["a b", ...], "special": {content: id}}:
  SmolLM2's vocabulary in a compact form, so CI (which lacks the HF folder) can build the same tokenizer
  the GGUF holds.

Usage: make_tokenizer_cases.py [GPT2_DIR] [SMOLLM2_TOKENIZER_JSON]
  defaults: $STEPWISE_REF/models/gpt2-tokenizer and $STEPWISE_REF/models/smollm2-f32-hf/tokenizer.json
"""
import json
import os
import random
import sys

import regex
from tokenizers import Regex, Tokenizer, pre_tokenizers
from tokenizers.models import BPE

REF = os.path.expanduser(os.environ.get('STEPWISE_REF', '~/stepwise-ref'))
GPT2_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REF, 'models/gpt2-tokenizer')
SMOL_JSON = sys.argv[2] if len(sys.argv) > 2 else os.path.join(REF, 'models/smollm2-f32-hf/tokenizer.json')
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../Tests/StepwiseKitTests/Fixtures/tokenizers')

GPT2_RE = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_RE = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN2_RE = LLAMA3_RE.replace(r'\p{N}{1,3}', r'\p{N}')


def texts():
    fixed = [
        '', ' ', '  ', '   ', '\n', '\n\n', '\r\n', '\t', ' \t ', 'a', 'A', '0', '9', '  99', ' 99', '99  ',
        'Hello world', 'Hello, world!', 'hello   world', 'trailing space ', 'trailing spaces   ',
        '   leading', '\tindented\n\tcode', 'line1\nline2\r\nline3\rline4', 'a\n\n\nb', 'x \n y', ' \n ',
        "I'm here", "I'M HERE", "you're", "YOU'RE", "we've", "WE'VE", "she'll", "SHE'LL", "he'd", "HE'D",
        "it's", "IT'S", "don't", "DON'T", "'s", "'S", "''s", "rock 'n' roll", "O'Neil's", "x'ſ", "'sup",
        "l'été", "'ll'", "can't've", "y'all'd've", "’s curly ’S", "'  s",
        '1', '12', '123', '1234', '12345', '123456', '1234567890', '3.14159', '1,000,000', '-42', '+7',
        '2024-01-01', 'v1.2.3', '0x1F', '1e-5', 'x=1e-5; y2k 3rd  99%', '$3.50', '100%', 'a1b2c3', 'abc123def',
        '١٢٣ Arabic-Indic', '½ ¾ ² ³', 'Ⅻ roman', '𝟙𝟚𝟛', '  123  456  ', '9999999999999999999',
        'naïve café', 'résumé', 'Ångström', 'Straße', 'ñandú', 'Ελληνικά', 'Русский текст', 'עברית',
        'العربية', 'हिन्दी', 'ไทย', '東京', '日本語のテキスト', '中文字符测试', '한국어 텍스트',
        'e\u0301 combining', 'ﬁ ligature', 'Ǆ titlecase ǅ', 'ß SS ẞ',
        '😀', '😀😀', 'emoji 😀 in text', '👍🏽', '👨‍👩‍👧', '🇫🇷 flag', '❤️', 'a😀b', ' 😀', '🤖🚀✨',
        '...', '!!!', '?!', '---', '***', '()', '[]{}', '<>', '@#$%^&*', '"quoted"', '«guillemets»',
        '— em dash – en dash', '…', '¡Hola!', '¿Qué?', 'a.b.c', 'end.', 'mid. sentence', ' .', ' ..',
        'def f(x):\n    return x + 1\n', 'for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}',
        'print("hello")', '#include <stdio.h>', 'x := y // comment', '/* block */', 'if a==b and c!=d:',
        'SELECT * FROM t WHERE id = 3;', '{"key": "value", "n": 12}', '<div class="x">hi</div>',
        'https://example.com/path?q=1&r=2', 'user@example.com', 'C:\\Windows\\System32', '~/bin/run.sh --flag',
        '    four spaces', '        eight spaces', 'a    b', 'a \t b', 'tab\tseparated\nnew line',
        '\u00a0nbsp\u00a0', 'ideographic\u3000space', 'thin\u2009space', 'line\u2028sep', 'nel\x85x',
        'ctrl\x01\x02\x1f', 'del\x7f', 'zero\u200bwidth', 'bom\ufeff', 'soft\u00adhyphen',
        '<|endoftext|>', 'a<|endoftext|>b', 'Hello<|endoftext|> world', '<|endoftext|><|endoftext|>',
        ' <|endoftext|> ', '<|endoftext|', '<|im_start|>user\nHi<|im_end|>\n', '<|im_start|>',
        'text <|im_end|>', '<repo_name>x', '<|endoftext|>\n\n99',
        'The capital of France is', 'Once upon a time there was a little girl named Lily.',
        "I'm here, aren't you? We'll see.", 'In 2024, 12345 people paid $3.50 each!',
        '   leading spaces and trailing   ', 'Attention is all you need.',
        'The transformer architecture is split into an encoder and a decoder.',
        'supercalifragilisticexpialidocious', 'pneumonoultramicroscopicsilicovolcanoconiosis',
        'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'ababababababababab', '!!!!!!!!!!!!!!!!!!!!!!!',
        'The quick brown fox jumps over the lazy dog.', 'THE QUICK BROWN FOX', 'CamelCaseIdentifier',
        'snake_case_identifier', 'kebab-case-identifier', 'MiXeD cAsE', 'A.I.', 'U.S.A.', 'e.g. i.e.',
        '\n\n\n\n', '  \n  \n', ' \r\n ', '\r\n\r\n', 'a\r\n', '\t\t\t', ' \t\n', 'x\n \n y',
        'word\n', '\nword', 'word \n', 'word  \nnext', 'end\n\n', '   \n99',
    ]
    rng = random.Random(20240601)
    frags = ['the', ' the', 'The', ' cat', "'s", "'T", ' ', '  ', '\n', '\t', '\r\n', '1', '23', '456', '7890',
             ' 12', '  99', '.', ',', '!?', '...', '"', '(', ')', 'é', 'ñ', 'ü', '東', '京', '😀', '🚀', ' 😀',
             'naïve', ' café', 'Δ', 'Ж', 'x', 'y_z', '+', '-', '=', '<|endoftext|>', '<|im_end|>', 'ß', '½',
             '\u00a0', '\u3000', 'don', "'t", ' we', "'ll", 'O', 'K', ' OK', '#', '$', '%', '&&', '||']
    rand = []
    while len(rand) < 200:
        n = rng.randint(1, 12)
        s = ''.join(rng.choice(frags) for _ in range(n))
        if s not in rand and s not in fixed:
            rand.append(s)
    # random code points from assorted blocks, to exercise the character classes
    blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x4ff), (0x600, 0x6ff), (0x900, 0x97f), (0x2000, 0x206f),
              (0x2150, 0x218f), (0x3000, 0x30ff), (0x4e00, 0x4eff), (0xac00, 0xacff), (0x1f300, 0x1f64f),
              (0x1d400, 0x1d7ff)]
    while len(rand) < 260:
        lo, hi = rng.choice(blocks)
        s = ''.join(chr(rng.randint(lo, hi)) if rng.random() < 0.7 else rng.choice([' ', '  ', '1', 'a', '\n'])
                    for _ in range(rng.randint(1, 10)))
        if s not in rand and s not in fixed:
            rand.append(s)
    return fixed + rand


def regex_pretokens(pattern, text):
    return [m.group(0) for m in regex.finditer(pattern, text)]


def smollm_pretokens(text):
    out = []
    for piece in regex.split(r'(\p{N})', text):
        if piece:
            out.extend(regex_pretokens(GPT2_RE, piece))
    return out


def variant_json(j, kind):
    """GPT-2's tokenizer.json with the Llama 3 or Qwen2 pre-tokenizer (and ignore_merges / NFC)."""
    j['pre_tokenizer'] = {'type': 'Sequence', 'pretokenizers': [
        {'type': 'Split', 'pattern': {'Regex': LLAMA3_RE if kind == 'llama3' else QWEN2_RE},
         'behavior': 'Isolated', 'invert': False},
        {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False}]}
    if kind == 'llama3':
        j['model']['ignore_merges'] = True
    else:
        j['normalizer'] = {'type': 'NFC'}
    return j


def main():
    vocab = json.load(open(os.path.join(GPT2_DIR, 'encoder.json'), encoding='utf-8'))
    lines = open(os.path.join(GPT2_DIR, 'vocab.bpe'), encoding='utf-8').read().split('\n')[1:]
    merges = [tuple(l.split(' ')) for l in lines if l]
    gpt2 = Tokenizer(BPE(vocab, merges))
    gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    gpt2.add_special_tokens(['<|endoftext|>'])

    smol = Tokenizer.from_file(SMOL_JSON)
    smol.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                  pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])

    variants = {k: Tokenizer.from_str(json.dumps(variant_json(json.loads(gpt2.to_str()), k))) for k in ('llama3', 'qwen2')}

    hf_pre = {
        'gpt2': pre_tokenizers.ByteLevel(add_prefix_space=False),
        'llama3': pre_tokenizers.Split(Regex(LLAMA3_RE), behavior='isolated'),
        'qwen2': pre_tokenizers.Split(Regex(QWEN2_RE), behavior='isolated'),
    }
    from tokenizers.decoders import ByteLevel as ByteLevelDecoder
    bl_dec = ByteLevelDecoder()

    cases = []
    for t in texts():
        pre = {'gpt2': regex_pretokens(GPT2_RE, t), 'llama3': regex_pretokens(LLAMA3_RE, t),
               'qwen2': regex_pretokens(QWEN2_RE, t), 'smollm': smollm_pretokens(t)}
        for k in ('gpt2', 'llama3', 'qwen2'):
            hf = [p for p, _ in hf_pre[k].pre_tokenize_str(t)]
            if k == 'gpt2':
                hf = [bl_dec.decode([p]) for p in hf]
            assert ''.join(pre[k]) == t, (k, t)
            if hf != pre[k]:
                print('note: tokenizers and regex disagree', k, repr(t), hf, pre[k])
        cases.append({'text': t,
                      'gpt2': gpt2.encode(t, add_special_tokens=False).ids,
                      'gpt2_llama3': variants['llama3'].encode(t, add_special_tokens=False).ids,
                      'gpt2_qwen2': variants['qwen2'].encode(t, add_special_tokens=False).ids,
                      'smollm2': smol.encode(t, add_special_tokens=False).ids,
                      'pretokens': pre})

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'cases.json'), 'w', encoding='utf-8') as f:
        json.dump({'cases': cases}, f, ensure_ascii=True, indent=0)

    j = json.loads(smol.to_str())
    m = j['model']
    tokens = [None] * len(m['vocab'])
    for s, i in m['vocab'].items():
        tokens[i] = s
    assert all(x is not None for x in tokens)
    sm = [' '.join(p) if isinstance(p, list) else p for p in m['merges']]
    special = {a['content']: a['id'] for a in j['added_tokens'] if a['special']}
    with open(os.path.join(OUT, 'smollm2-vocab.json'), 'w', encoding='utf-8') as f:
        json.dump({'tokens': tokens, 'merges': sm, 'special': special}, f, ensure_ascii=False, separators=(',', ':'))
    print('wrote', len(cases), 'cases and', len(tokens), 'SmolLM2 tokens,', len(sm), 'merges to', os.path.normpath(OUT))


if __name__ == '__main__':
    main()
