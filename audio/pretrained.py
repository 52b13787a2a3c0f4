"""zoo.audio's registrations (the provider module ``zoo.weights`` imports on the first registry lookup).

* Hugging Face architectures: ``Wav2Vec2Model`` / ``Wav2Vec2ForCTC`` (model type ``wav2vec2``) and the project's
  ``KWSCNN`` (model type ``kws_cnn``) for ``zoo.from_pretrained``;
* weights: ``kws_cnn_fsdd``, the spoken-digit classifier this project trains with examples/train_spoken_digits.py
  and ships in the project store (weights/store/kws_cnn_fsdd/), the default of ``audio-classification``;
* pipeline tasks: ``audio-classification``, ``automatic-speech-recognition`` (default
  facebook/wav2vec2-base-960h, from the hub) and ``audio-feature-extraction`` (default facebook/wav2vec2-base).

Nothing heavy is imported here: models and pipelines are named by import strings.
"""
from ..pipelines.registry import register_task
from ..weights.pretrained import register_model
from ..weights.registry import Record, WeightsEntry, register
from ..weights.sources import Store

__all__ = ["DIGIT_LABELS"]

DIGIT_LABELS = tuple(str(d) for d in range(10))

register_model("wav2vec2", "Wav2Vec2Model", "zoo.audio.models.wav2vec2:Wav2Vec2Model")
register_model("wav2vec2", "Wav2Vec2ForCTC", "zoo.audio.models.wav2vec2:Wav2Vec2ForCTC")
register_model("kws_cnn", "KWSCNN", "zoo.audio.models.kws_cnn:KWSCNN")

_FSDD = ("@misc{jackson2018fsdd,\n  title={Free Spoken Digit Dataset},\n  author={Jackson, Zohar and others},\n"
         "  howpublished={\\url{https://github.com/Jakobovski/free-spoken-digit-dataset}},\n  year={2018}\n}")

# ---- the shipped spoken-digit model (figures: weights/store/kws_cnn_fsdd/record.json) ---------------------------
KWS_CNN_FSDD = register(WeightsEntry(
    name="kws_cnn_fsdd", architecture="KWSCNN", task="audio-classification",
    files={"config.json": ("b96e3ecc4f65ff82f8022b1f9887d8f6fc31eec5bd7371c75a439f48a843dda6", 618),
           "model.safetensors": ("18c5791e51497864aecb4766f2cc46f692936f7b7ab8a3beff3eecbf77d53a23", 249568)},
    sources=[Store()],
    labels=DIGIT_LABELS,
    metrics={"fsdd-test/accuracy": 0.9967},
    license="CC-BY-SA-4.0 (trained on FSDD, CC BY-SA 4.0)", citation=_FSDD,
    recipe="examples/train_spoken_digits.py",
    record=Record(data='FSDD (github.com/Jakobovski/free-spoken-digit-dataset) recordings, 8 kHz: train = index >= 5 (2700 clips), test = index 0-4 (300 clips)',
                  command='python examples/train_spoken_digits.py --data ../shared/data/fsdd --epochs 24 --seed 0 --out weights/store/kws_cnn_fsdd',
                  seed=0, metric={"accuracy": 0.9967}),
))

register_task("audio-classification", "zoo.audio.pipelines:AudioClassificationPipeline",
              default_model="kws_cnn_fsdd")
register_task("automatic-speech-recognition", "zoo.audio.pipelines:AutomaticSpeechRecognitionPipeline",
              default_model="facebook/wav2vec2-base-960h", aliases=["asr"])
register_task("audio-feature-extraction", "zoo.audio.pipelines:AudioFeatureExtractionPipeline",
              default_model="facebook/wav2vec2-base")
