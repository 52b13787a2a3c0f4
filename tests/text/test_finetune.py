"""examples/finetune_text_classifier.py: a tiny BertForSequenceClassification trained with zoo.Trainer on a small
separable labelled set (with a tokenizer built in the run) reaches high validation accuracy, deterministically
under a seed, and the saved folder serves the text-classification pipeline."""
import importlib.util
import pathlib

import pytest

import zoo

pytest.importorskip("tokenizers")

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "finetune_text_classifier.py"


def _example():
    spec = importlib.util.spec_from_file_location("finetune_text_classifier", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dataset_is_balanced_and_validation_is_unseen():
    example = _example()
    train, val = example.make_dataset(0)
    assert {label for _, label in train} == {0, 1} and sum(label for _, label in val) == len(val) // 2
    assert not {s for s, _ in train} & {s for s, _ in val}


def test_finetune_reaches_high_accuracy(tmp_path, capsys):
    example = _example()
    result = example.main(["--epochs", "3", "--seed", "0", "--out", str(tmp_path / "run")])
    assert result["accuracy"] >= 0.9, result
    assert result["val_loss"] < 0.3, result
    out = capsys.readouterr().out
    assert "accuracy" in out and "POSITIVE" in out
    # the saved folder is a Hugging Face model folder: zoo.from_pretrained and the pipeline read it
    model = zoo.from_pretrained(tmp_path / "run")
    assert type(model).__name__ == "BertForSequenceClassification" and model.config.id2label[1] == "POSITIVE"
    classify = zoo.pipeline("text-classification", model=str(tmp_path / "run"))
    assert classify("the acting was wonderful")[0]["label"] == "POSITIVE"
    assert classify("the acting was dreadful")[0]["label"] == "NEGATIVE"


def test_finetune_is_deterministic_under_a_seed(tmp_path):
    example = _example()
    a = example.main(["--epochs", "1", "--seed", "3", "--out", str(tmp_path / "a")])
    b = example.main(["--epochs", "1", "--seed", "3", "--out", str(tmp_path / "b")])
    assert a["val_loss"] == b["val_loss"] and a["accuracy"] == b["accuracy"]
