"""zoo.pipeline and the Pipeline base: task registry, default models, option routing, batching that gives the
same results as one input at a time, streams, devices and the errors users see."""
import numpy as np
import pytest

import zoo
import zoo.nn as nn
from zoo.pipelines import Pipeline, UnknownTaskError, get_task, list_tasks, pipeline, register_task, unregister_task
from zoo.weights import Hub, WeightsEntry, register, unregister

LABELS = ["cat", "dog", "bird"]


class TinyClassifier(nn.Module):
    """Linear + BatchNorm (eval mode uses running stats, so a batch gives the same numbers as single inputs)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)

    def forward(self, x):
        return self.bn(self.fc(x))


MODELS = {}


class ToyClassification(Pipeline):
    """Inputs: tuples of 4 numbers (a list is a list of inputs, as in Hugging Face pipelines). Options: top_k (postprocess), scale (preprocess), temperature (forward)."""

    def load_model(self, name, revision=None):
        if name not in MODELS:
            raise FileNotFoundError(f"no toy model {name!r}")
        return MODELS[name]

    def _sanitize_parameters(self, top_k=None, scale=None, temperature=None):
        pre = {} if scale is None else {"scale": scale}
        fwd = {} if temperature is None else {"temperature": temperature}
        post = {} if top_k is None else {"top_k": top_k}
        return pre, fwd, post

    def preprocess(self, values, scale=1.0):
        x = np.asarray(values, dtype=np.float32)
        if x.shape != (4,):
            raise ValueError(f"expected 4 numbers, got shape {x.shape}")
        return {"x": zoo.tensor(x[None] * scale), "n": len(values)}

    def _forward(self, inputs, temperature=1.0):
        return {"logits": self.model(inputs["x"]) / temperature, "n": inputs["n"]}

    def postprocess(self, outputs, top_k=2):
        probs = zoo.softmax(outputs["logits"][0], dim=-1).numpy()
        order = np.argsort(-probs)[:top_k]
        return [{"label": LABELS[i], "score": float(probs[i])} for i in order]


class Ragged(ToyClassification):
    def preprocess(self, values, scale=1.0):
        return {"x": zoo.tensor(np.asarray(values, np.float32)[None]), "n": len(values)}


@pytest.fixture
def toy_task():
    model = TinyClassifier()
    with zoo.no_grad():
        model.bn.running_mean.copy_(zoo.tensor([0.1, -0.2, 0.3]))
        model.bn.running_var.copy_(zoo.tensor([0.5, 2.0, 1.5]))
    MODELS["toy-model"] = model
    register_task("toy-classification", ToyClassification, default_model="toy-model", aliases=["toy-clf"])
    register_task("toy-ragged", Ragged, default_model="toy-model")
    yield model
    unregister_task("toy-classification")
    unregister_task("toy-ragged")
    MODELS.clear()


def inputs(n, seed=0):
    return [tuple(map(float, row)) for row in np.random.default_rng(seed).normal(size=(n, 4))]


def test_default_model_and_output_format(toy_task):
    pipe = zoo.pipeline("toy-classification")
    assert pipe.model is toy_task and pipe.task == "toy-classification"
    assert not toy_task.training  # pipelines put the model in eval mode
    out = pipe((1.0, 2.0, 3.0, 4.0))
    assert [set(d) for d in out] == [{"label", "score"}] * 2
    assert out[0]["score"] >= out[1]["score"]
    assert all(isinstance(d["score"], float) and d["label"] in LABELS for d in out)


def test_alias_and_model_object(toy_task):
    pipe = pipeline("toy-clf", model=toy_task)
    assert pipe.task == "toy-classification" and pipe.model is toy_task


@pytest.mark.parametrize("batch_size", [2, 3, 7])
def test_batched_equals_one_by_one(toy_task, batch_size):
    xs = inputs(7)
    single = [zoo.pipeline("toy-classification")(x) for x in xs]
    batched = zoo.pipeline("toy-classification", batch_size=batch_size)(xs)
    assert len(batched) == len(xs)
    for a, b in zip(single, batched):
        assert [d["label"] for d in a] == [d["label"] for d in b]
        np.testing.assert_allclose([d["score"] for d in a], [d["score"] for d in b], rtol=1e-6, atol=1e-7)
    per_call = zoo.pipeline("toy-classification")(xs, batch_size=batch_size)  # batch_size per call, too
    assert [[d["label"] for d in r] for r in per_call] == [[d["label"] for d in r] for r in batched]


def test_options_route_to_their_step_and_calls_override_defaults(toy_task):
    x = inputs(1)[0]
    pipe = zoo.pipeline("toy-classification", top_k=3, temperature=2.0)
    assert len(pipe(x)) == 3
    assert len(pipe(x, top_k=1)) == 1 and len(pipe(x)) == 3  # a call's option lasts for that call only
    hot = pipe(x)[0]["score"]
    cold = zoo.pipeline("toy-classification", top_k=3)(x)[0]["score"]
    assert hot < cold  # temperature 2 flattens the distribution
    scaled = pipe(x, scale=0.0)  # all-zero input: the scores are the bias terms through batch norm
    assert len({round(d["score"], 6) for d in scaled}) == 3


def test_unknown_option_is_named(toy_task):
    with pytest.raises(TypeError, match=r"unknown option\(s\) topk.*accepts: top_k, scale, temperature"):
        zoo.pipeline("toy-classification", topk=3)
    with pytest.raises(TypeError, match="unknown option"):
        zoo.pipeline("toy-classification")(inputs(1)[0], beam_width=2)


def test_streams_give_an_iterator(toy_task):
    xs = inputs(5)
    stream = zoo.pipeline("toy-classification", batch_size=2)(iter(xs))
    assert not isinstance(stream, list)
    assert [r[0]["label"] for r in stream] == [r[0]["label"] for r in zoo.pipeline("toy-classification")(xs)]


def test_ragged_inputs_need_batch_size_one(toy_task):
    pipe = zoo.pipeline("toy-ragged", batch_size=2)
    with pytest.raises(ValueError, match=r"cannot batch inputs of shapes \[\(1, 3\), \(1, 4\)\]"):
        pipe([(1.0, 2.0, 3.0), (1.0, 2.0, 3.0, 4.0)])


def test_unknown_task_lists_tasks_and_suggests(toy_task):
    with pytest.raises(UnknownTaskError, match=r"unknown task 'toy-clasification'. Did you mean 'toy-classification'"):
        zoo.pipeline("toy-clasification")
    assert "toy-classification" in list_tasks()
    assert get_task("toy-clf").default_model == "toy-model"


def test_task_from_registered_weights(toy_task):
    entry = register(WeightsEntry(name="toy-model", architecture="tests:TinyClassifier", task="toy-classification",
                                  files={"model.safetensors": None}, sources=[Hub("zoo-test/toy")]))
    try:
        assert zoo.pipeline(model="toy-model").task == entry.task
    finally:
        unregister("toy-model")
    with pytest.raises(ValueError, match="needs a task"):
        zoo.pipeline()


def test_bad_arguments(toy_task):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        zoo.pipeline("toy-classification", batch_size=0)
    with pytest.raises(FileNotFoundError, match="no toy model 'nope'"):
        zoo.pipeline("toy-classification", model="nope")
    with pytest.raises(ValueError, match="revision applies to a model name"):
        zoo.pipeline("toy-classification", model=toy_task, revision="main")
    with pytest.raises(TypeError, match="takes the inputs as one argument"):
        zoo.pipeline("toy-classification")(inputs(1)[0], inputs(1)[0])
    with pytest.raises(ValueError, match="expected 4 numbers"):
        zoo.pipeline("toy-classification")((1.0,))


def test_registration_rules(toy_task):
    with pytest.raises(ValueError, match="already registered"):
        register_task("toy-classification", Ragged)
    with pytest.raises(ValueError, match="'toy-clf' already names task 'toy-classification'"):
        register_task("toy-other", Ragged, aliases=["toy-clf"])
    with pytest.raises(ValueError, match="module.path:ClassName"):
        register_task("toy-other", "no_colon_here")
    with pytest.raises(TypeError, match="or a Pipeline subclass, got <class 'dict'>"):
        register_task("toy-other", dict)
    register_task("toy-lazy", "tests_zoo_missing_module:Pipe")
    try:
        with pytest.raises(ModuleNotFoundError):
            zoo.pipeline("toy-lazy", model=toy_task)  # imported only when a pipeline is made
    finally:
        unregister_task("toy-lazy")


@pytest.mark.parametrize("device", ["cpu", -1])
def test_cpu_device_names(toy_task, device):
    pipe = zoo.pipeline("toy-classification", device=device)
    assert str(pipe.device) == "cpu"
    assert len(pipe(inputs(1)[0])) == 2


@pytest.mark.gpu
def test_cuda_device_gives_cpu_results(toy_task):
    if not zoo.cuda.is_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    x = inputs(3)
    on_cpu = zoo.pipeline("toy-classification", device="cpu")(x)
    on_gpu = zoo.pipeline("toy-classification", device="cuda", batch_size=3)(x)
    assert str(toy_task.fc.weight.device).startswith("cuda")
    for a, b in zip(on_cpu, on_gpu):
        np.testing.assert_allclose([d["score"] for d in a], [d["score"] for d in b], rtol=1e-5, atol=1e-6)
