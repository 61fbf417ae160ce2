#!/usr/bin/env python3
"""Make the tiny random BART and Marian fixtures and their transformers reference outputs.

Writes Tests/StepwiseKitTests/Fixtures/bart/<name>/ with
  config.json, model.safetensors  (BartForConditionalGeneration / MarianMTModel random init, F16 weights promoted
                                   to float32 for the reference, so both sides read the same values)
  tokenizer.json                  a byte-level BPE with `<s> $A </s>` added around a text, trained with `tokenizers`
  reference.json                  source text and ids, decoder ids (decoder start + the target's tokens),
                                  encoder_hidden_states (embedding output, then each layer's) [S, D],
                                  encoder_attentions [H, S, S], decoder_hidden_states [T, D],
                                  decoder_attentions [H, T, T], cross_attentions [H, T, S], logits [T, V], and
                                  greedy: generate(do_sample=False, num_beams=1, max_new_tokens=12)'s ids
Shapes: bart-odd (3 heads of 8, encoder 2 layers / decoder 3, tied head, GELU), bart-untied (4 heads of 6,
encoder 1 / decoder 2, untied head and separate encoder/decoder embeddings, scaled embeddings, ReLU) and
marian (Marian's variant: sinusoidal positions, scaled embeddings, no embedding layer norm, SiLU).
Layer norms and final_logits_bias are random, so a missing one shows.
Usage: ~/stepwise-ref/venv/bin/python tools/reference/make_bart_fixtures.py
"""
import json
import os
import tempfile

import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (AutoModelForSeq2SeqLM, BartConfig, MarianConfig, PreTrainedTokenizerFast)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'Tests', 'StepwiseKitTests', 'Fixtures', 'bart')
CORPUS = ["the cat sat on the mat", "a dog ran in the park", "the red car is fast", "she reads a long book",
          "el gato se sienta", "un perro corre en el parque", "el coche rojo es rápido", "ella lee un libro largo"] * 20
SOURCE = "the red car ran to the park and the cat sat on a long book"
TARGET = "el coche rojo corre en el parque"
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return tok


def configs(vocab):
    common = dict(vocab_size=vocab, d_model=24, max_position_embeddings=40, bos_token_id=0, pad_token_id=1,
                  eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=None, forced_eos_token_id=None,
                  dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, init_std=0.25)
    return [
        ('bart-odd', BartConfig(**common, encoder_layers=2, decoder_layers=3, encoder_attention_heads=3,
                                decoder_attention_heads=3, encoder_ffn_dim=40, decoder_ffn_dim=36,
                                activation_function='gelu'), 11),
        ('bart-untied', BartConfig(**common, encoder_layers=1, decoder_layers=2, encoder_attention_heads=4,
                                   decoder_attention_heads=4, encoder_ffn_dim=32, decoder_ffn_dim=44,
                                   activation_function='relu', scale_embedding=True, tie_word_embeddings=False), 12),
        ('marian', MarianConfig(**common, decoder_vocab_size=vocab, encoder_layers=2, decoder_layers=2,
                                encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=40,
                                decoder_ffn_dim=40, activation_function='swish', scale_embedding=True), 13),
    ]


def make(name, cfg, seed, tok_path):
    torch.manual_seed(seed)
    model = AutoModelForSeq2SeqLM.from_config(cfg, attn_implementation='eager').eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if 'layer_norm' in n or 'layernorm' in n:
                p.copy_((1.0 if n.endswith('weight') else 0.0) + 0.3 * torch.randn_like(p))
        model.final_logits_bias.copy_(0.5 * torch.randn_like(model.final_logits_bias))
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        cfg_text = open(os.path.join(tmp, 'config.json')).read()
        state = load_file(os.path.join(tmp, 'model.safetensors'))
    save_file({k: v.to(torch.float16).contiguous() for k, v in state.items()}, os.path.join(out, 'model.safetensors'),
              metadata={'format': 'pt'})
    open(os.path.join(out, 'config.json'), 'w').write(cfg_text)
    open(os.path.join(out, 'tokenizer.json'), 'w').write(open(tok_path).read())
    model = AutoModelForSeq2SeqLM.from_pretrained(out, dtype=torch.float32, attn_implementation='eager').eval()
    hf_tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(out, 'tokenizer.json'), bos_token='<s>',
                                     eos_token='</s>', pad_token='<pad>', unk_token='<unk>')
    src = hf_tok(SOURCE).input_ids
    tgt = [cfg.decoder_start_token_id] + hf_tok(TARGET, add_special_tokens=False).input_ids
    with torch.no_grad():
        res = model(input_ids=torch.tensor([src]), decoder_input_ids=torch.tensor([tgt]), output_attentions=True,
                    output_hidden_states=True)
        greedy = model.generate(torch.tensor([src]), do_sample=False, num_beams=1, max_new_tokens=12, min_length=0,
                                no_repeat_ngram_size=0, repetition_penalty=1.0, forced_bos_token_id=None,
                                forced_eos_token_id=None)[0].tolist()
    r = lambda t: [float(f'{v:.8g}') for v in t.reshape(-1).tolist()]
    doc = {'source': SOURCE, 'source_ids': src, 'target': TARGET, 'decoder_ids': tgt,
           'encoder_hidden_states': [r(h[0]) for h in res.encoder_hidden_states],
           'encoder_attentions': [r(a[0]) for a in res.encoder_attentions],
           'decoder_hidden_states': [r(h[0]) for h in res.decoder_hidden_states],
           'decoder_attentions': [r(a[0]) for a in res.decoder_attentions],
           'cross_attentions': [r(a[0]) for a in res.cross_attentions],
           'logits': r(res.logits[0]), 'greedy': greedy}
    json.dump(doc, open(os.path.join(out, 'reference.json'), 'w'))
    print(name, len(src), 'source tokens', len(tgt), 'decoder tokens, greedy', greedy,
          os.path.getsize(os.path.join(out, 'model.safetensors')), 'bytes of weights')


def main():
    tok = tokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'tokenizer.json')
        tok.save(path)
        for name, cfg, seed in configs(tok.get_vocab_size()):
            make(name, cfg, seed, path)


if __name__ == '__main__':
    main()
