"""Measure a trained translation folder and write its model card (FOLDER/README.md).

Usage: python report.py FOLDER --work WORKDIR
Loads FOLDER with transformers exactly as a user would (BartForConditionalGeneration, AutoTokenizer), checks
that no weight is missing or unexpected and that transformers' tokenizer gives the trained tokenizer's ids,
translates every held-out pair greedily (exact match, corpus BLEU-4), scores the cross-attention against the
known word alignments (alignment.py), and fills the card from those numbers and WORKDIR/{metrics.json,
pairs/pairs.json, lexicon_check.json}. The numbers also go to WORKDIR/results.json.
"""
import argparse
import json
import math
import os
from collections import Counter
from urllib.parse import unquote

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoTokenizer, BartForConditionalGeneration

import alignment
import pairs
import train

MAP_EXAMPLES = ["the red car", "the red houses"]
# inputs the grammar does not write: capitals and punctuation, two clauses, an adjective or a verb with a noun
# the grammar never pairs it with
OUTSIDE = ["The red car.", "the red car is in the garden and the dog sleeps", "the purple elephant",
           "the dog reads a book", "the green soup is hot"]


def corpus_bleu(hyps, refs, n=4):
    """Corpus BLEU-4 (Papineni et al. 2002) on whitespace words: clipped n-gram precisions summed over the
    corpus, their geometric mean, times the brevity penalty exp(1 - r/c) when the output is shorter than the
    references (one reference per sentence, no smoothing). Returns a percentage."""
    match, total, c, r = [0] * n, [0] * n, 0, 0
    for h, ref in zip(hyps, refs):
        h, ref = h.split(), ref.split()
        c, r = c + len(h), r + len(ref)
        for k in range(1, n + 1):
            hg = Counter(tuple(h[i:i + k]) for i in range(len(h) - k + 1))
            rg = Counter(tuple(ref[i:i + k]) for i in range(len(ref) - k + 1))
            match[k - 1] += sum(min(v, rg[g]) for g, v in hg.items())
            total[k - 1] += max(0, len(h) - k + 1)
    if min(match) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(match, total)) / n
    bp = 1.0 if c > r else math.exp(1 - r / c)
    return 100 * bp * math.exp(log_p)


def folder_size(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def token_strings(raw, ids):
    """Readable tokens: the special tokens by name, the others as text with the leading space shown as Ġ."""
    out = []
    for i in ids:
        s = raw.id_to_token(i) if i < 4 else raw.decode([i])
        out.append("Ġ" + s[1:] if s.startswith(" ") else s)
    return out


def text_map(raw, ex, attn):
    """Lines "target token <- source token weight" for one [T, S] map (source without <s>/</s>)."""
    src = token_strings(raw, ex.src)
    tgt = token_strings(raw, ex.tgt)
    lw = max(len(t) for t in tgt)
    lines = []
    for t, name in enumerate(tgt):
        s = int(attn[t, :len(ex.src)].argmax())
        lines.append(f"{name:>{lw}} <- {src[s]:<10} {attn[t, s]:.2f}")
    return lines


def matrix_lines(raw, ex, attn):
    src = token_strings(raw, ex.src)
    tgt = token_strings(raw, ex.tgt)
    w = max(6, max(len(s) for s in src) + 1)
    lw = max(len(t) for t in tgt)
    lines = [" " * (lw + 1) + "".join(f"{s:>{w}}" for s in src)]
    for t, name in enumerate(tgt):
        lines.append(f"{name:>{lw}} " + "".join(f"{attn[t, s]:>{w}.2f}" for s in range(len(src))))
    return lines


@torch.no_grad()
def self_attention_profile(model, examples):
    """Mean attention of each self-attention head on: the token itself, the previous token, the next token,
    the first position and the last (encoder: <s> and </s>; decoder: start token and the latest position)."""
    b = train.collate(examples)
    out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                decoder_input_ids=b["decoder_input_ids"], output_attentions=True)
    prof = {}
    for kind, atts, lens in (("encoder", out.encoder_attentions, [len(e.src) for e in examples]),
                             ("decoder", out.decoder_attentions, [len(e.tgt) for e in examples])):
        for l, a in enumerate(atts):
            for h in range(a.shape[1]):
                acc = np.zeros(5)
                cnt = 0
                for k, n in enumerate(lens):
                    m = a[k, h, :n, :n].numpy()
                    # queries away from the ends, so that "previous" is never the first position and
                    # "next" never the last
                    for q in range(2, n - 2 if kind == "encoder" else n):
                        acc += [m[q, q], m[q, q - 1], m[q, q + 1] if kind == "encoder" else 0.0, m[q, 0],
                                m[q, n - 1] if kind == "encoder" else 0.0]
                        cnt += 1
                prof[f"{kind} {l}.{h}"] = (acc / cnt).tolist()
    return prof


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--work", required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    m = json.load(open(os.path.join(a.work, "metrics.json")))
    stats = json.load(open(os.path.join(a.work, "pairs", "pairs.json")))
    lex_path = os.path.join(a.work, "lexicon_check.json")
    lex = json.load(open(lex_path)) if os.path.exists(lex_path) else None
    args = m["args"]

    model, info = BartForConditionalGeneration.from_pretrained(a.folder, attn_implementation="eager",
                                                               output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    model.eval()
    hf_tok = AutoTokenizer.from_pretrained(a.folder)
    raw = Tokenizer.from_file(os.path.join(a.folder, "tokenizer.json"))
    held_pairs = train.read_jsonl(os.path.join(a.work, "pairs", "heldout.jsonl"))
    train_pairs = train.read_jsonl(os.path.join(a.work, "pairs", "train.jsonl"))
    for pr in held_pairs:  # transformers' loader = the trained tokenizer
        assert hf_tok(pr["en"])["input_ids"] == raw.encode(pr["en"]).ids
        assert hf_tok(pr["es"], add_special_tokens=False)["input_ids"] == raw.encode(pr["es"], add_special_tokens=False).ids
    held = train.encode_pairs(raw, held_pairs)

    # held-out translation quality
    hyps_ids = train.greedy(model, held)
    hyps = [raw.decode(h).strip() for h in hyps_ids]
    refs = [pr["es"] for pr in held_pairs]
    exact = sum(h == r for h, r in zip(hyps, refs)) / len(refs)
    exact_ids = sum(h == e.tgt[:-1] for h, e in zip(hyps_ids, held)) / len(held)
    bleu = corpus_bleu(hyps, refs)
    errors = [(pr["en"], r, h) for pr, r, h in zip(held_pairs, refs, hyps) if h != r]

    # cross-attention against the word alignments
    maps = alignment.cross_attentions(model, held)
    sc = alignment.scores(model, held, maps)
    best = max(sc["heads"], key=sc["heads"].get)
    bl, bh = (int(x) for x in best.split("."))
    train_en = {pr["en"] for pr in train_pairs}
    examples = []
    for s in MAP_EXAMPLES:
        hit = [pr for pr in train_pairs + held_pairs if pr["en"] == s]
        pr = hit[0] if hit else None
        if pr is None:
            continue
        ex = train.Example(raw, pr)
        mp = alignment.cross_attentions(model, [ex])[0]
        examples.append((pr, s in train_en, ex, mp))
    # one held-out sentence with a reordering (a noun followed by its adjective)
    reorder = next(pr for pr in held_pairs if pairs.adjective_reordering(pr) and 6 <= len(pr["en"].split()) <= 8)
    rex = train.Example(raw, reorder)
    rmap = alignment.cross_attentions(model, [rex])[0]

    prof = self_attention_profile(model, held[:200])

    outside = []
    for s in OUTSIDE:
        ids = torch.tensor([raw.encode(s).ids])
        out = model.generate(input_ids=ids, do_sample=False, num_beams=1, max_length=41)
        outside.append((s, raw.decode(out[0].tolist()).strip(), s in train_en))

    # tokenizer statistics over the word forms of the pairs
    words = Counter(w for pr in train_pairs + held_pairs for s in (pr["en"], pr["es"]) for w in s.split())
    one = {w for w in words if len(raw.encode(w, add_special_tokens=False).ids) == 1}
    one_occ = sum(c for w, c in words.items() if w in one) / sum(words.values())
    n_merges = sum(1 for line in open(os.path.join(a.folder, "merges.txt"), encoding="utf-8")
                   if line.strip() and not line.startswith("#version"))
    size = folder_size(a.folder)
    weights = os.path.getsize(os.path.join(a.folder, "model.safetensors"))

    results = {"exact": exact, "exact_ids": exact_ids, "bleu": bleu, "errors": errors, "alignment": sc,
               "best_head": best, "folder_bytes": size, "weights_bytes": weights, "outside": outside,
               "self_attention": prof, "one_token_word_types": len(one), "word_types": len(words),
               "one_token_occurrences": one_occ}
    json.dump(results, open(os.path.join(a.work, "results.json"), "w"), indent=1, ensure_ascii=False)

    c = model.config
    L = []
    w = L.append
    w("# Stepwise built-in translation model: a tiny BART, English -> Spanish")
    w("")
    w("A deliberately small BART (`BartForConditionalGeneration`, the same architecture, weight names and "
      "conventions as Facebook's BART checkpoints, so Hugging Face `transformers` loads it unchanged) for "
      "stepping through an encoder-decoder by hand: a bidirectional encoder, a causal decoder and the "
      "cross-attention between them. It translates the simple English of a small generated grammar into "
      "Spanish, moving adjectives after their nouns and making articles and adjectives agree; outside that "
      "grammar it is not a translator.")
    w("")
    how = (f"With guided alignment on head(s) {args['align_heads']}" if args["align_heads"]
           else "Without any alignment supervision")
    w(f"On {len(held)} held-out sentences (never seen in training, on either side) greedy decoding gives "
      f"**{exact:.1%} exact matches** and **corpus BLEU {bleu:.1f}**. {how}, cross-attention head "
      f"**{best}** (decoder layer {bl}, head {bh}) puts its strongest attention on the source word a target "
      f"word translates for **{sc['heads'][best]:.1%}** of the target words; the attention averaged over all "
      f"{c.decoder_layers * c.decoder_attention_heads} cross-attention heads does so for {sc['all']:.1%}.")
    w("")
    w("## Conventions")
    w("")
    w("| | |")
    w("| --- | --- |")
    w("| special tokens | `<s>` = 0 (bos), `<pad>` = 1, `</s>` = 2 (eos), `<unk>` = 3 (never produced: byte-level BPE covers every byte) |")
    w("| encoder input | `<s> SOURCE </s>`: what the tokenizer's `RobertaProcessing` post-processor adds |")
    w("| decoder input | `decoder_start_token_id` = 2 (`</s>`), then the target tokens; no `<s>` |")
    w("| labels (training) | `TARGET </s>`: the decoder input shifted left by one |")
    w("| generation | greedy (`do_sample=False, num_beams=1`) from `[2]` until `</s>`; `forced_bos_token_id` and `forced_eos_token_id` are unset |")
    w(f"| positions | learned, `max_position_embeddings` = {c.max_position_embeddings}, looked up at position + 2 "
      f"(BART's offset: the tables have {c.max_position_embeddings + 2} rows, rows 0 and 1 unused), "
      "for the encoder and the decoder separately |")
    w("| embeddings | one table `model.shared.weight` for the encoder input, the decoder input and the output "
      "projection (`lm_head` tied to it; `scale_embedding` false, so no sqrt(d_model) factor); "
      "`final_logits_bias` is stored and is all zeros |")
    w("| text | lower case (but the pronoun *I*), words separated by one space, no punctuation. Every word, the first included, "
      "is encoded with its leading space (`Ġ`), so decoded text starts with a space |")
    w("")
    w("## Files")
    w("")
    w("| file | what |")
    w("| --- | --- |")
    w("| `config.json` | `BartConfig` |")
    w("| `model.safetensors` | weights, float32 |")
    w("| `tokenizer.json` | the byte-level BPE tokenizer (Hugging Face `tokenizers` format) |")
    w("| `vocab.json`, `merges.txt` | the same BPE vocabulary and merges in the two-file format |")
    w("| `tokenizer_config.json` | `BartTokenizer` with its special tokens and `add_prefix_space: true` |")
    w("| `generation_config.json` | decoder start 2, eos 2, pad 1, greedy |")
    w("")
    w(f"Total size: {size / 1e6:.2f} MB (weights {weights / 1e6:.2f} MB). Loading with "
      "`BartForConditionalGeneration.from_pretrained` reports no missing, unexpected or mismatched weights "
      "(checked by this report), and `AutoTokenizer` gives the same ids as `tokenizer.json` on every "
      "held-out sentence.")
    w("")
    w("## Data")
    w("")
    w(f"Sentence pairs from a hand-written grammar and lexicon (`tools/train/translate/pairs.py`; nothing is "
      f"downloaded): {stats['nouns']} nouns ({stats['nouns_m']} masculine, {stats['nouns_f']} feminine: people, "
      f"animals, food and drink, things, vehicles, places), {stats['adjectives']} adjectives (colours, size, "
      f"age, qualities, states), {stats['verbs']} English verbs ({stats['spanish_verbs']} Spanish; "
      f"{stats['irregular_verbs']} irregular or stem-changing in the present: tener, ir, querer, dormir, "
      f"jugar, conocer, ...), {stats['determiners']} determiners, the numbers two to ten, {stats['pronouns']} "
      f"subject pronouns and a few prepositions: {stats['english_lemmas']} English lemmas, "
      f"{stats['english_word_forms']} English and {stats['spanish_word_forms']} Spanish word forms in the pairs.")
    w("")
    w("What the Spanish side has to get right:")
    w("")
    w("- adjective after the noun: *the red car* -> *el coche rojo*;")
    w("- gender and number agreement of articles, determiners and adjectives: *the red houses* -> "
      "*las casas rojas*, *our old cars* -> *nuestros coches viejos*, *the cold water* -> *el agua fría* "
      "(feminine, but *el* in the singular);")
    w("- present-tense conjugation for the subject: *we eat bread* -> *nosotros comemos pan*, irregular and "
      "stem-changing verbs (*I have* -> *yo tengo*, *she sleeps* -> *ella duerme*);")
    w("- the personal *a* before a person object (*she sees the man* -> *ella ve al hombre*) and the "
      "contractions *a + el* -> *al*, *de + el* -> *del* (*comes from the park* -> *viene del parque*);")
    w("- *to be* as *ser* or *estar* chosen by the adjective or by a place (*the soup is cold* -> *la sopa está "
      "fría*, *the cat is under the table* -> *el gato está debajo de la mesa*), *y* written *e* before an "
      "i- sound (*alto e inteligente*);")
    w("- negation: *does not eat* -> *no come*, *is not* -> *no es* (the negation moves before the verb).")
    w("")
    w(f"Each pair carries its word alignment: for every Spanish word the English word(s) it translates "
      f"(none for the personal *a*; both words for *al* <- *to the*; *busca* <- *looks for*; *come* <- "
      f"*does ... eat*). {stats['train_pairs']:,} training pairs and {stats['heldout_pairs']:,} held-out pairs, "
      f"seed {stats['seed']}. The held-out pairs are drawn first, and a training pair whose English or "
      f"Spanish sentence equals a held-out one is rejected ({stats['rejected_same_spanish']} were), so no "
      "held-out sentence appears in training on either side.")
    w("")
    if lex:
        deb = lambda f: "{} {}".format(*unquote(f).split("_")[:2])  # hunspell-es_1%3a7.5.0-1_all.deb -> name version
        synonyms = [o for o in lex["not_in_freedict"] if o["freedict"]]
        lex["packages"] = {k: deb(v) for k, v in lex["packages"].items()}
        w(f"Checks of the words (`lexicon_check.py`, Debian packages): Hunspell accepts "
          f"{lex['spanish_words'] - len(lex['spanish_rejected'])} of the {lex['spanish_words']} Spanish word "
          f"forms with the es_ES dictionary (`{lex['packages']['hunspell-es']}`) and "
          f"{lex['english_words'] - len(lex['english_rejected'])} of the {lex['english_words']} English ones "
          f"with en_US (`{lex['packages']['hunspell-en-us']}`). The English-Spanish FreeDict dictionary "
          f"(`{lex['packages']['dict-freedict-eng-spa']}`, about 5900 headwords) lists "
          f"{lex['lemma_pairs_in_freedict']} of the {lex['lemma_pairs']} lemma translations; of the rest, "
          f"{lex['lemma_pairs_without_headword']} English lemmas have no entry and the others get other "
          "words there, such as " + "; ".join(f"*{o['en']}*: *{', '.join(o['freedict'][:3])}* (the lexicon: "
                                              f"*{o['es']}*)" for o in synonyms[:3]) + ".")
        w("")
    w("## Tokenizer")
    w("")
    w(f"Byte-level BPE trained with Hugging Face `tokenizers` on the training sentences of both languages "
      f"(one shared vocabulary): {c.vocab_size} tokens = 4 special tokens + 256 byte tokens + {n_merges} merges, "
      f"minimum pair frequency 2. ByteLevel pre-tokenizer with `add_prefix_space=true`, `RobertaProcessing` "
      f"post-processor (`<s> $A </s>`), ByteLevel decoder. {len(one)} of the {len(words)} word forms of the "
      f"pairs are a single token ({one_occ:.1%} of the word occurrences); the others are two or three pieces. "
      f"The longest training sequence is {m['longest_sequence']} tokens.")
    w("")
    w("## Architecture")
    w("")
    w("| | |")
    w("| --- | --- |")
    w("| model | BART (`BartForConditionalGeneration`), post-LayerNorm, LayerNorm after the embeddings (`layernorm_embedding`) |")
    w(f"| encoder / decoder layers | {c.encoder_layers} / {c.decoder_layers} |")
    w(f"| heads | {c.encoder_attention_heads} (head size {c.d_model // c.encoder_attention_heads}) in the encoder "
      "self-attention, the decoder self-attention and the cross-attention |")
    w(f"| d_model / FFN | {c.d_model} / {c.encoder_ffn_dim} |")
    w(f"| vocabulary | {c.vocab_size} |")
    w(f"| activation | `{c.activation_function}` (exact erf GELU) |")
    w("| LayerNorm eps | 1e-5 |")
    w(f"| dropout | {c.dropout:g} |")
    w(f"| parameters | {m['n_params']:,} |")
    w("")
    w("## Training")
    w("")
    w(f"- {args['steps']} AdamW steps (betas 0.9/0.98, weight decay {args['weight_decay']} on the matrices, none "
      f"on embeddings, biases and LayerNorm), {args['batch']} sentence pairs per step = "
      f"{args['steps'] * args['batch'] / m['train_pairs']:.2f} passes over the training pairs, gradient "
      f"clipping at 1.0, cross-entropy on the labels (padding ignored).")
    w(f"- Learning rate: linear warmup over {args['warmup']} steps to {args['lr']:g}, then cosine decay to "
      f"{args['lr'] * args['min_lr_frac']:g}.")
    if args["align_heads"]:
        w(f"- **Guided alignment**: an auxiliary loss (weight {args['align_weight']}) on cross-attention head(s) "
          f"{args['align_heads']} (Garg et al. 2019): the cross-entropy between the head's attention and the "
          "known word alignment.")
    else:
        w("- No alignment supervision: the cross-attention is trained only through the translation loss; the "
          "word alignments are used for measuring it, nothing else.")
    w(f"- Seed {args['seed']} for the initialisation and the order of the pairs; {m['threads']} torch thread(s) "
      f"(torch {m['torch']}). The run is fixed by its step count, not by the clock, so rerunning it gives the "
      "same model with the same software and thread count.")
    w(f"- Training time: **{m['train_seconds'] / 60:.1f} minutes** for the {args['steps']} steps "
      f"({m['train_seconds'] / args['steps']:.3f} s/step) with {m['threads']} thread on 2 CPU cores shared with "
      f"other jobs; the whole train.py run (tokenizer, training, periodic evaluations) took "
      f"{m['total_seconds'] / 60:.1f} minutes.")
    w("")
    w(f"During training (evaluations on the first {args['eval_pairs']} held-out pairs; minutes of training time):")
    w("")
    w("| step | minutes | train loss (smoothed) | held-out exact | best cross-attention head | all heads averaged |")
    w("| --- | --- | --- | --- | --- | --- |")
    for r in m["curve"]:
        loss = r["train_loss_ema"]
        w(f"| {r['step']} | {r['minutes']:.1f} | {f'{loss:.2g}' if loss >= 1e-4 else '< 0.0001'} | {r['heldout_exact']:.3f} | "
          f"{r['best_head'][0]} {r['best_head'][1]:.3f} | {r['all_heads_mean_map']:.3f} |")
    w("")
    w("## Results")
    w("")
    w(f"Held-out translation, greedy decoding (`generate(do_sample=False, num_beams=1)`), {len(held)} pairs:")
    w("")
    w(f"- exact match (the whole sentence): **{exact:.1%}** ({sum(h == r for h, r in zip(hyps, refs))} of "
      f"{len(refs)}); as token ids: {exact_ids:.1%};")
    w(f"- corpus BLEU-4: **{bleu:.2f}**, computed by `report.py`'s own `corpus_bleu` (whitespace words, clipped "
      "1- to 4-gram precisions over the corpus, geometric mean, brevity penalty, one reference, no smoothing; "
      "on test outputs it equals sacrebleu 2.6.0's `corpus_bleu(..., tokenize='none', smooth_method='none')` "
      "to 6 decimals).")
    w("")
    if errors:
        w("The held-out sentences it gets wrong:")
        w("")
        w("| English | reference | output |")
        w("| --- | --- | --- |")
        for en, r, h in errors[:20]:
            w(f"| {en} | {r} | {h} |")
        w("")
    w("A few held-out translations:")
    w("")
    w("```text")
    for pr, h in list(zip(held_pairs, hyps))[:8]:
        w(f"{pr['en']}  ->  {h}")
    w("```")
    w("")
    w("### Cross-attention and the word alignments")
    w("")
    w(f"For each of the {sc['words']:,} aligned Spanish words of the held-out pairs (teacher-forced: the "
      "decoder reads the reference), take the cross-attention at the decoder position that writes the word "
      "(whose input is the token before it), over the source positions without `<s>` and `</s>`, sum it over "
      "each source word's tokens and pick the strongest source word (a word of several tokens: the mean over "
      "its tokens' positions). The share below is how often that word is one the Spanish word translates "
      "(`tools/train/translate/alignment.py`). Spanish words without a source word (the personal *a*) and "
      "`</s>` are not counted.")
    w("")
    w("| cross-attention | share on the aligned source word |")
    w("| --- | --- |")
    for k, v in sc["heads"].items():
        w(f"| head {k}{' (best)' if k == best else ''} | {v:.3f} |")
    for k, v in sc["layers"].items():
        w(f"| layer {k}, its {c.decoder_attention_heads} heads' attention averaged | {v:.3f} |")
    w(f"| all {c.decoder_layers * c.decoder_attention_heads} heads and layers averaged | {sc['all']:.3f} |")
    w(f"| mean of the {c.decoder_layers * c.decoder_attention_heads} per-head shares | {sc['mean_of_heads']:.3f} |")
    w("")
    if not args["align_heads"]:
        w("No head was supervised; every share above comes from translation training alone.")
        w("")
    for pr, seen, ex, mp in examples:
        w(f"*{pr['en']}* -> *{pr['es']}* ({'a training sentence' if seen else 'held out'}): where head {best} "
          "looks from each decoder position (the token it writes <- the source token with the most attention, "
          "`<s>` and `</s>` included):")
        w("")
        w("```text")
        L.extend(text_map(raw, ex, mp[bl, bh]))
        w("```")
        w("")
    w(f"A held-out sentence with a reordering, *{reorder['en']}* -> *{reorder['es']}*: head {best}, rows = the "
      "token each decoder position writes, columns = source tokens:")
    w("")
    w("```text")
    L.extend(matrix_lines(raw, rex, rmap[bl, bh]))
    w("```")
    w("")
    w("### Self-attention")
    w("")
    w("Mean attention of each self-attention head on 200 held-out pairs (teacher-forced; query positions from "
      "the third on, in the encoder up to the third from last) on: the "
      "same token, the previous one, the next one (encoder only: the decoder is causal and cannot see it), the "
      "first position (`<s>` in the encoder, the decoder start `</s>` in the decoder) and the last (`</s>`, "
      "encoder only).")
    w("")
    w("| head | self | previous | next | first | last |")
    w("| --- | --- | --- | --- | --- | --- |")
    for k, v in prof.items():
        dec = k.startswith("decoder")
        w(f"| {k} | {v[0]:.2f} | {v[1]:.2f} | {'-' if dec else f'{v[2]:.2f}'} | {v[3]:.2f} | "
          f"{'-' if dec else f'{v[4]:.2f}'} |")
    w("")
    w("### Outside the grammar")
    w("")
    w("Inputs the grammar never writes (capitals, punctuation, two clauses) or combinations it does not make; "
      "shown for what the model does, not measured:")
    w("")
    w("```text")
    for s, out, seen in outside:
        w(f"{s}  ->  {out}")
    w("```")
    w("")
    w("## Retraining and checking")
    w("")
    w("From the repository root, with Python 3.11, `apt-get` and access to Debian's archive and PyPI:")
    w("")
    w("```sh")
    w("bash tools/train/translate/train.sh Sources/StepwiseKit/Resources/translate")
    w("```")
    w("")
    w("It uses the venv of `tools/train` (`tools/train/.work/venv`, made from `tools/train/requirements.txt` if "
      "missing), writes the pairs, checks their words, trains, and rewrites this folder including this card. "
      "Options of `tools/train/translate/train.py` can follow the folder (`--steps N`, `--threads N`, "
      "`--align-heads 1.0` for guided alignment).")
    w("")
    open(os.path.join(a.folder, "README.md"), "w", encoding="utf-8").write("\n".join(L) + "\n")
    print(f"exact {exact:.4f}; BLEU {bleu:.2f}; best head {best} {sc['heads'][best]:.3f}; all heads {sc['all']:.3f}; "
          f"layers {sc['layers']}; folder {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
