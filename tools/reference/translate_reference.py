#!/usr/bin/env python3
"""Reference values of Stepwise's built-in translation model (a small BART, English -> Spanish) for the tests.

Writes Tests/StepwiseKitTests/Fixtures/translate/reference.json.gz (gzip'd JSON) from the committed folder
Sources/StepwiseKit/Resources/translate/, computed by transformers in float32 with eager attention:

  model_sha256   SHA-256 of the model.safetensors the values come from
  greedy         for 8 held-out sources: {"source", "source_ids" (<s> ... </s>), "output_ids" (what
                 generate(do_sample=False, num_beams=1, max_new_tokens=40) returns: the decoder start 2, the
                 Spanish tokens, the final 2), "text" (tokenizer.decode(output_ids, skip_special_tokens=True);
                 it starts with a space: every word carries one)}
  trace          one held-out pair of 6-8 words with an adjective after its noun in Spanish, teacher-forced:
                   source, target (the reference Spanish), align (for each Spanish word the indices of the
                   English words it translates), source_ids (<s> ... </s>), decoder_ids ([2] + target tokens,
                   no </s>), target_ids (the labels: target tokens + 2),
                   encoder_hidden_states  list of [S, D]: the embeddings after layernorm_embedding, then the
                                          output of each encoder layer (the last one is the encoder output)
                   encoder_attentions     per encoder layer [H, S, S]
                   decoder_hidden_states  list of [T, D], likewise (the last one goes into lm_head)
                   decoder_attentions     per decoder layer [H, T, T] (causal self-attention)
                   cross_attentions       per decoder layer [H, T, S]
                   logits                 [T, V] (lm_head + final_logits_bias)
  tokenizer      for 16 strings: {"text", "ids" (with <s> ... </s>), "ids_no_special" (add_special_tokens=False)}
Floats are rounded to 8 significant digits; arrays are nested lists in the shapes above.
The held-out sentences are regenerated with tools/train/translate/pairs.py (the same seed as the model's
training data), so they are sentences the model never saw.
Usage: ~/stepwise-ref/venv/bin/python tools/reference/translate_reference.py [--model DIR] [--out FILE]
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import sys

import torch
from transformers import AutoTokenizer, BartForConditionalGeneration

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools", "train", "translate"))
import pairs  # noqa: E402

MODEL = os.path.join(ROOT, "Sources", "StepwiseKit", "Resources", "translate")
OUT = os.path.join(ROOT, "Tests", "StepwiseKitTests", "Fixtures", "translate", "reference.json.gz")
TOKENIZER_STRINGS = [
    "the red car", "the red houses", "  the   red  car  ", "The Red Car", "the red car.", "I eat bread",
    "¿dónde está el coche rojo?", "el niño pequeño", "ñandú", "café con leche", "xylophone quibble",
    "naïve 😀", "don't stop", "12 apples", "tabs\tand\nnew lines", "",
]


def r(t):
    """Nested lists of floats rounded to 8 significant digits."""
    if t.dim() == 0:
        return float(f"{t.item():.8g}")
    return [r(x) for x in t] if t.dim() > 1 else [float(f"{v:.8g}") for v in t.tolist()]


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=MODEL)
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, info = BartForConditionalGeneration.from_pretrained(a.model, dtype=torch.float32,
                                                               attn_implementation="eager",
                                                               output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    model.eval()
    tok = AutoTokenizer.from_pretrained(a.model)
    cfg = model.config
    _, held, _ = pairs.make_pairs(0, 1000, 1234)

    greedy = []
    for pr in held[:8]:
        ids = tok(pr["en"]).input_ids
        out = model.generate(torch.tensor([ids]), do_sample=False, num_beams=1, max_new_tokens=40)[0].tolist()
        # the same greedy decode by hand, full forward passes without a cache
        dec = [cfg.decoder_start_token_id]
        while len(dec) < 41:
            nxt = int(model(input_ids=torch.tensor([ids]), decoder_input_ids=torch.tensor([dec])).logits[0, -1].argmax())
            dec.append(nxt)
            if nxt == cfg.eos_token_id:
                break
        assert dec == out, (dec, out)
        greedy.append({"source": pr["en"], "source_ids": ids, "output_ids": out,
                       "text": tok.decode(out, skip_special_tokens=True), "reference": pr["es"]})

    pr = next(p for p in held if pairs.adjective_reordering(p) and 6 <= len(p["en"].split()) <= 8)
    src = tok(pr["en"]).input_ids
    tgt = tok(pr["es"], add_special_tokens=False).input_ids
    dec = [cfg.decoder_start_token_id] + tgt
    rec = {}
    hooks = [model.model.encoder.layernorm_embedding.register_forward_hook(lambda m, i, o: rec.__setitem__("enc", o[0])),
             model.model.decoder.layernorm_embedding.register_forward_hook(lambda m, i, o: rec.__setitem__("dec", o[0]))]
    res = model(input_ids=torch.tensor([src]), decoder_input_ids=torch.tensor([dec]), output_attentions=True,
                output_hidden_states=True)
    for h in hooks:
        h.remove()
    enc_h = [h[0] for h in res.encoder_hidden_states]
    dec_h = [h[0] for h in res.decoder_hidden_states]
    assert len(enc_h) == cfg.encoder_layers + 1 and len(dec_h) == cfg.decoder_layers + 1
    assert torch.equal(enc_h[0], rec["enc"]) and torch.equal(dec_h[0], rec["dec"])  # after layernorm_embedding
    assert torch.equal(enc_h[-1], res.encoder_last_hidden_state[0])
    assert torch.allclose(model.lm_head(dec_h[-1]) + model.final_logits_bias[0], res.logits[0])
    trace = {
        "source": pr["en"], "target": pr["es"], "align": pr["align"],
        "source_ids": src, "decoder_ids": dec, "target_ids": tgt + [cfg.eos_token_id],
        "encoder_hidden_states": [r(h) for h in enc_h],
        "encoder_attentions": [r(x[0]) for x in res.encoder_attentions],
        "decoder_hidden_states": [r(h) for h in dec_h],
        "decoder_attentions": [r(x[0]) for x in res.decoder_attentions],
        "cross_attentions": [r(x[0]) for x in res.cross_attentions],
        "logits": r(res.logits[0]),
    }
    tokenizer = [{"text": t, "ids": tok(t).input_ids, "ids_no_special": tok(t, add_special_tokens=False).input_ids}
                 for t in TOKENIZER_STRINGS + [p["en"] for p in held[8:11]] + [p["es"] for p in held[8:10]]]
    sha = hashlib.sha256(open(os.path.join(a.model, "model.safetensors"), "rb").read()).hexdigest()
    doc = {"model_sha256": sha, "greedy": greedy, "trace": trace, "tokenizer": tokenizer}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:  # mtime 0: the same input gives the same bytes
        gz.write(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    open(a.out, "wb").write(buf.getvalue())
    print(f"{a.out}: {len(greedy)} greedy translations, trace of {pr['en']!r} -> {pr['es']!r} "
          f"(S={len(src)}, T={len(dec)}), {len(tokenizer)} tokenizer strings; {len(buf.getvalue())} bytes")
    for g in greedy:
        print(f"  {g['source']!r} -> {g['text']!r}" + ("" if g["text"].strip() == g["reference"] else f"  (reference {g['reference']!r})"))


if __name__ == "__main__":
    main()
