#!/usr/bin/env python3
"""Reference fixtures for Stepwise's WordPiece tokenizer and BERT encoder (all-MiniLM-L6-v2).

Run with the reference venv (see /work/shared/reference/README.md):
  ~/stepwise-ref/venv/bin/python tools/reference/make_bert_fixtures.py [--models DIR] [--no-dumps]

Writes under Tests/StepwiseKitTests/Fixtures/bert/:
  wordpiece_cases.json  >= 200 strings with the ids Hugging Face `tokenizers` gives on the MiniLM
                        tokenizer.json (padding and truncation switched OFF: the file pins both to 128),
                        with and without [CLS]/[SEP], the pieces, and the decoded text (WordPiece decoder,
                        special tokens kept).
  similarity.json       cosine similarity of three sentence pairs, sentence-transformers style:
                        mean of the last hidden state over tokens, L2-normalised, dot product.
  minilm-*.json         activation dumps of two more prompts by dump.py (--extra --layers 0,5).
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, 'Tests', 'StepwiseKitTests', 'Fixtures', 'bert')
DUMP = os.environ.get('STEPWISE_DUMP', '/work/shared/reference/dump.py')

HANDWRITTEN = [
    # plain English, case, contractions
    'The cat sat on the mat.', 'Hello world', 'HELLO WORLD', 'hElLo WoRlD', "I'm here, aren't you? We'll see.",
    "don't", "Don't stop believin'", 'playing', 'unaffable', 'Unbelievably', 'transformers are fun',
    'The quick brown fox jumps over the lazy dog.', 'A', 'a', '', ' ', '   ', 'a b  c   d',
    # punctuation and ASCII symbols (BERT splits every one of them)
    'Hello, world!', 'e-mail', 'state-of-the-art', 'a.b.c', '...', '?!?!', '(parenthesis)', '[brackets]',
    '{braces}', '<angle>', 'a+b=c', '50% off', '$100', '#hashtag', '@mention', 'x^2', 'a|b', '~tilde~',
    '`backtick`', 'back\\slash', 'under_score', 'semi;colon:', '"quoted"', "'single'", 'a/b/c', 'x*y&z',
    'C++ and C#', 'http://example.com/path?q=1&r=2', 'user@example.com', '1,000,000.50', '3.14159',
    # Unicode punctuation and symbols
    '“curly quotes”', '‘single curly’', 'em—dash', 'en–dash', 'ellipsis…', '¿Qué?', '¡Hola!', '«guillemets»',
    '§ 3', '† dagger', '€100', '£5', '¥', '©2024', '®', '™', '°C', '±5', '×÷', '→ arrow', '∑∫∂',
    '・', '、。', '「括弧」', '《書名》',
    # numbers
    '0', '7', '42', '2024', '123456789', '3rd', '1st place', '10x', '0.001', '-5', '+7', '1e10', '٣٤٥', '١٢',
    # accents (NFD + drop Mn), precomposed and decomposed
    'café', 'cafe\u0301', 'naïve', 'Zürich', 'résumé', 'Ångström', 'façade', 'jalapeño', 'Crème Brûlée',
    'São Paulo', 'Dvořák', 'Łódź', 'Ærøskøbing', 'straße', 'İstanbul', 'ǅ', 'ﬁne', 'Ⅻ', 'Ａｂｃ', '①②',
    'àéîõü ÀÉÎÕÜ', 'Ελληνικά', 'ΣΊΣΥΦΟΣ', 'Русский текст', 'Ёлка', 'עברית', 'العربية', 'हिन्दी', 'ไทย',
    '한국어', 'Tiếng Việt', 'Ṩ', 'q\u0307\u0323', 'e\u0308\u0301',
    # CJK (each ideograph is its own word)
    '中文', '我爱自然语言处理', '日本語のテキスト', 'カタカナ', 'ひらがな', '漢字と kana', '中a文b', '𠀀𠀁', '豈', '丽',
    '北京大学 Peking University',
    # emoji and other symbols
    '😀', 'I ❤ NY', '👍🏽', '👨‍👩‍👧', '🇫🇷', 'emoji😀inside', '☃', '★☆', '♠♥♦♣', '⚽ football',
    # control characters and whitespace variants
    'tab\there', 'new\nline', 'carriage\rreturn', 'crlf\r\nend', 'nul\x00char', 'bell\x07', 'esc\x1b[0m',
    'del\x7f', '\x01\x02\x03', 'zero\u200bwidth', 'soft\u00adhyphen', 'nbsp\u00a0space', 'thin\u2009space',
    'ideographic\u3000space', 'line\u2028sep', 'para\u2029sep', 'nel\u0085x', 'vt\x0bff\x0c', 'fs\x1cgs\x1d',
    'bom\ufeffx', 'replacement\ufffdchar', 'private\ue000use', 'rtl\u200fmark', 'joiner\u200djoin',
    '  leading', 'trailing  ', '\t\n mixed \r\n ', 'a\u2003b\u2002c',
    # special-token strings in the text
    '[CLS]', '[SEP]', '[UNK]', '[MASK]', '[PAD]', 'hello [MASK] world', '[cls]', '[CLS][SEP]', 'x[SEP]y',
    '[ CLS ]', '[MASK].', '##ing', '##',
    # long words
    'supercalifragilisticexpialidocious', 'antidisestablishmentarianism', 'pneumonoultramicroscopicsilicovolcanoconiosis',
    'a' * 99, 'a' * 100, 'a' * 101, 'ab' * 60, 'x' * 150 + ' ok', 'é' * 100, 'é' * 101,
    'Donaudampfschifffahrtsgesellschaftskapitän', 'hippopotomonstrosesquippedaliophobia',
    # mixed
    'GPT-2 vs. BERT: which is better?', 'COVID-19 pandemic', 'iPhone 15 Pro Max', 'McDonald\'s',
    'O\'Reilly', 'l\'homme', 'e.g. i.e. etc.', 'Mr. Smith Jr.', 'U.S.A.', 'NaN', 'snake_case_name',
    'camelCaseName', 'PascalCaseName', 'SCREAMING_CASE', 'kebab-case-name', 'v1.2.3-beta+build',
    '<html><body>hi</body></html>', '{"key": "value"}', 'SELECT * FROM t;', 'def f(x): return x**2',
    'The year 1999 was great.', 'Ça va? Très bien!', 'Größenwahn', 'ΑΒΓ αβγ', 'Москва 2024',
]


def generated():
    """More strings from combinations, to reach a varied set."""
    out = []
    words = ['play', 'playing', 'played', 'player', 'replay', 'unplayable', 'tokenization', 'embedding',
             'attention', 'transformer', 'encoder', 'pretrained', 'neural', 'networks']
    for i, w in enumerate(words):
        out.append(w)
        out.append(w.upper())
        out.append(w.capitalize() + '!')
        out.append(f'{w}-{words[(i + 3) % len(words)]}')
    for n in [0, 1, 12, 123, 1234, 12345, 99999, 100000, 31415926]:
        out.append(f'{n} items')
        out.append(f'#{n}')
    for a, b in [('über', 'alles'), ('niño', 'año'), ('crème', 'fraîche'), ('élan', 'vital'), ('smörgåsbord', 'ok')]:
        out.append(f'{a} {b}')
        out.append(f'{a.upper()}{b}')
    for s in ['!', '?', '.', ',', ';', ':', '(', ')', '-', '\'', '"', '/', '\\', '&', '*']:
        out.append(f'word{s}word')
    return out


def wordpiece_cases(models):
    from tokenizers import Tokenizer
    path = os.path.join(models, 'minilm', 'tokenizer.json')
    tk = Tokenizer.from_file(path)
    tk.no_padding()      # the file pads every input to 128
    tk.no_truncation()   # and truncates to 128
    texts = []
    for t in HANDWRITTEN + generated():
        if t not in texts:
            texts.append(t)
    cases = []
    for t in texts:
        with_special = tk.encode(t)
        plain = tk.encode(t, add_special_tokens=False)
        cases.append({
            'text': t,
            'ids': with_special.ids,
            'ids_plain': plain.ids,
            'pieces': plain.tokens,
            'decoded': tk.decode(plain.ids, skip_special_tokens=False),
        })
    assert len(cases) >= 200, len(cases)
    return {
        'source': 'tokenizers.Tokenizer.from_file(minilm/tokenizer.json), no_padding(), no_truncation(); '
                  'ids = encode(text).ids ([CLS] ... [SEP]); ids_plain / pieces = encode(text, add_special_tokens=False); '
                  'decoded = decode(ids_plain, skip_special_tokens=False)',
        'cases': cases,
    }


PAIRS = [
    ('A man is playing a guitar.', 'Someone is playing an instrument.'),
    ('The cat sat on the mat.', 'Stock markets fell sharply today.'),
    ('How do I bake bread?', 'What is a good recipe for baking bread?'),
]


def similarity(models):
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel
    path = os.path.join(models, 'minilm')
    tk = Tokenizer.from_file(os.path.join(path, 'tokenizer.json'))
    tk.no_padding()
    tk.no_truncation()
    model = BertModel.from_pretrained(path, attn_implementation='eager', dtype=torch.float32).eval()

    def embed(text):
        ids = torch.tensor([tk.encode(text).ids])
        with torch.no_grad():
            h = model(input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids)).last_hidden_state[0]
        m = h.mean(0)   # sentence-transformers' Pooling(mean) with every token attended
        return m / m.norm()  # then Normalize()

    out = []
    for a, b in PAIRS:
        ea, eb = embed(a), embed(b)
        out.append({'a': a, 'b': b, 'cosine': float((ea * eb).sum())})
    return {'source': 'transformers BertModel (float32, eager) on minilm/; mean over tokens of last_hidden_state, '
                      'L2-normalised, dot product (sentence-transformers all-MiniLM-L6-v2: Pooling mean + Normalize)',
            'pairs': out}


DUMPS = [
    ('minilm-playing.json', 'Playing chess is fun!'),
    ('minilm-zurich.json', "Zürich's café ☃"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', default=os.path.expanduser('~/stepwise-ref/models'))
    ap.add_argument('--no-dumps', action='store_true')
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'wordpiece_cases.json'), 'w', encoding='utf-8') as fh:
        json.dump(wordpiece_cases(args.models), fh, ensure_ascii=False, indent=0)
    with open(os.path.join(OUT, 'similarity.json'), 'w', encoding='utf-8') as fh:
        json.dump(similarity(args.models), fh, ensure_ascii=False, indent=1)
    if not args.no_dumps:
        for name, prompt in DUMPS:
            subprocess.run([sys.executable, DUMP, '--model', 'minilm', '--model-path', os.path.join(args.models, 'minilm'),
                            '--prompt', prompt, '--extra', '--layers', '0,5', '--out', os.path.join(OUT, name)], check=True)


if __name__ == '__main__':
    main()
