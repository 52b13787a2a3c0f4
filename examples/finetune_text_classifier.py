"""Fine-tune a BERT-family text classifier with zoo.Trainer, then serve it with zoo.pipeline.

By default everything is built here and runs offline in seconds on a CPU: a small labelled set of review-like
sentences (positive vs negative adjectives in varied templates; the validation sentences use subject / template
combinations never seen in training), a WordPiece tokenizer for the training sentences built with the ``tokenizers``
library (vocabulary: the training sentences' words and characters), and a tiny BertForSequenceClassification trained
from scratch.

``--model DIR_OR_REPO`` fine-tunes a pretrained BERT / DistilBERT checkpoint instead (its tokenizer is used, the
classifier head is newly initialized), e.g. ``--model distilbert/distilbert-base-uncased --epochs 2 --lr 5e-5``.

The fine-tuned model and tokenizer are saved with save_pretrained in ``--out`` (Hugging Face layout: transformers
loads it too), and the text-classification pipeline is run on two sentences.
"""
import argparse
import itertools
import os
import random
import time

import numpy as np

import zoo

POSITIVE = ["good", "great", "wonderful", "excellent", "lovely", "fantastic", "enjoyable", "superb", "pleasant",
            "brilliant"]
NEGATIVE = ["bad", "awful", "terrible", "boring", "poor", "horrible", "dull", "dreadful", "unpleasant", "mediocre"]
SUBJECTS = ["the movie", "this film", "the plot", "the acting", "the music", "the ending", "the food", "the service",
            "the hotel", "the book", "the show", "the game"]
TEMPLATES = ["{s} was {a}", "{s} is really {a}", "i think {s} was {a}", "honestly, {s} felt {a}",
             "overall {s} seemed quite {a}", "{s} was so {a}!", "we all agreed that {s} was {a}",
             "in my opinion {s} is {a}"]
LABELS = {0: "NEGATIVE", 1: "POSITIVE"}


def make_dataset(seed=0):
    """(train, val) lists of (sentence, label); validation uses (subject, template) pairs unseen in training."""
    rng = random.Random(seed)
    pairs = list(itertools.product(range(len(SUBJECTS)), range(len(TEMPLATES))))
    rng.shuffle(pairs)
    n_val = len(pairs) // 4
    splits = {"val": pairs[:n_val], "train": pairs[n_val:]}
    out = {}
    for name, chosen in splits.items():
        rows = []
        for s, t in chosen:
            for label, words in ((1, POSITIVE), (0, NEGATIVE)):
                for a in rng.sample(words, 3):
                    rows.append((TEMPLATES[t].format(s=SUBJECTS[s], a=a), label))
        rng.shuffle(rows)
        out[name] = rows
    return out["train"], out["val"]


def build_tokenizer(sentences, folder):
    """A lowercasing BERT WordPiece tokenizer for ``sentences``, saved in ``folder`` (tokenizer.json + config).

    Its vocabulary is built deterministically: the special tokens, every character seen (alone and as a ``##``
    continuation, so an unseen word still splits into known pieces) and every word seen, sorted. (The tokenizers
    library's WordPiece trainer breaks ties between equally frequent merges differently from run to run, which
    would make the token ids, and so the trained model, vary under a fixed seed.)"""
    import tokenizers as tk
    normalizer = tk.normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = tk.pre_tokenizers.BertPreTokenizer()
    words = set()
    for sentence in sentences:
        words.update(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(sentence)))
    chars = sorted({c for w in words for c in w})
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {t: i for i, t in enumerate(specials + chars + ["##" + c for c in chars]
                                        + sorted(w for w in words if len(w) > 1))}
    backend = tk.Tokenizer(tk.models.WordPiece(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizer
    backend.pre_tokenizer = pre_tokenizer
    backend.post_processor = tk.processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    backend.decoder = tk.decoders.WordPiece()
    tokenizer = zoo.text.Tokenizer(backend, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=64,
                                   tokenizer_class="BertTokenizer")
    tokenizer.save_pretrained(folder)
    return tokenizer


class EncodedDataset(zoo.utils.data.Dataset):
    """Sentences tokenized once, padded to a common length; items are dicts the model takes as keywords."""

    def __init__(self, tokenizer, rows, max_length):
        enc = tokenizer([s for s, _ in rows], padding="max_length", truncation=True, max_length=max_length,
                        return_tensors="np")
        self.arrays = {k: v for k, v in enc.items()}
        self.arrays["labels"] = np.array([label for _, label in rows], dtype=np.int64)

    def __len__(self):
        return len(self.arrays["labels"])

    def __getitem__(self, i):
        return {k: zoo.tensor(v[i]) for k, v in self.arrays.items()}


def accuracy(model, loader):
    model.eval()
    correct = total = 0
    with zoo.no_grad():
        for batch in loader:
            labels = batch.pop("labels")
            pred = model(**batch).logits.argmax(-1)
            correct += int((pred == labels).sum())
            total += len(labels)
    return correct / total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a BERT-family checkpoint to fine-tune (default: a tiny BERT "
                                                      "trained from scratch)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="finetuned_text_classifier")
    args = parser.parse_args(argv)

    zoo.manual_seed(args.seed)
    np.random.seed(args.seed)
    train_rows, val_rows = make_dataset(args.seed)
    os.makedirs(args.out, exist_ok=True)
    from zoo.text.models import BertConfig, BertForSequenceClassification
    if args.model is None:
        tokenizer = build_tokenizer([s for s, _ in train_rows], args.out)
        config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=64, hidden_dropout_prob=0.0,
                            attention_probs_dropout_prob=0.0, id2label=LABELS)
        model = BertForSequenceClassification(config)
    else:
        tokenizer = zoo.text.Tokenizer.from_pretrained(args.model)
        tokenizer.save_pretrained(args.out)
        model_type = zoo.weights.pretrained.PretrainedConfig.from_pretrained(args.model).model_type
        heads = {"bert": "BertForSequenceClassification", "distilbert": "DistilBertForSequenceClassification"}
        if model_type not in heads:
            raise SystemExit(f"--model: a BERT or DistilBERT checkpoint is needed, got model type {model_type!r}")
        # strict=False: the checkpoint has no classifier head; it starts from Transformers' initialization
        model = zoo.from_pretrained(args.model, architecture=heads[model_type], strict=False, id2label=LABELS)
    max_length = max(len(tokenizer(s)["input_ids"]) for s, _ in train_rows + val_rows)
    loader = zoo.utils.data.DataLoader
    train = loader(EncodedDataset(tokenizer, train_rows, max_length), batch_size=args.batch_size, shuffle=True)
    val = loader(EncodedDataset(tokenizer, val_rows, max_length), batch_size=64)

    start = time.perf_counter()
    trainer = zoo.Trainer(model, optimizer={"name": "AdamW", "lr": args.lr, "weight_decay": 0.01},
                          max_epochs=args.epochs, device=args.device, seed=args.seed, enable_progress_bar=False,
                          enable_checkpointing=False, default_root_dir=args.out)
    trainer.fit(train, val)
    seconds = time.perf_counter() - start
    acc = accuracy(model, val)
    val_loss = float(trainer.callback_metrics.get("val_loss", float("nan")))
    print(f"train {len(train_rows)} sentences, validate {len(val_rows)}; {args.epochs} epochs in {seconds:.1f} s")
    print(f"validation loss {val_loss:.4f}  accuracy {acc:.3f}")

    model.save_pretrained(args.out)
    classify = zoo.pipeline("text-classification", model=args.out)
    for text in ("the soundtrack was wonderful", "honestly, the hotel felt dreadful"):
        print(f"{text!r}: {classify(text)[0]}")
    return {"accuracy": acc, "val_loss": val_loss, "seconds": seconds, "out": args.out}


if __name__ == "__main__":
    main()
