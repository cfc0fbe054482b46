"""Keras models end to end through the CLI (threats.md T-KERAS-H5-LAMBDA, T-KERAS-V3-LAMBDA,
T-KERAS-V3-CONFIG-INJECTION, and the benign files of section 7).

Fixtures are written here with h5py and zipfile only, laid out as Keras writes them
(root attributes model_config / training_config / keras_version / backend; .keras zips with
config.json, metadata.json, model.weights.h5). Lambda bytecode is made the way Keras'
func_dump does it: base64 of marshal.dumps(fn.__code__). The lambdas are compiled into
function objects and never called; no fixture is ever loaded.
"""
import codecs
import json
import marshal
import zipfile

import pytest

h5py = pytest.importorskip("h5py")
np = pytest.importorskip("numpy")

SEV = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]


def rank(s):
    return 0 if s is None else SEV.index(s) + 1


def func_dump(src):
    """Keras' func_dump of a lambda given as source: (code, defaults, closure)."""
    fn = eval(compile(src, "<lambda>", "eval"))  # builds the function object only
    return codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii"), None, None


INPUT = {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "in"}}


def dense(name="d", units=3):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units, "activation": "relu",
        "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None}}


def lambda2(src, name="lam"):
    """A Keras 2 Lambda layer config (function_type lambda)."""
    return {"class_name": "Lambda", "config": {
        "name": name, "trainable": True, "dtype": "float32", "function": list(func_dump(src)),
        "function_type": "lambda", "module": "__main__", "output_shape": None,
        "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}}


def lambda3(src, name="lam"):
    """A Keras 3 Lambda layer (serialize_keras_object layout)."""
    code, defaults, closure = func_dump(src)
    return {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
            "config": {"name": name, "trainable": True, "dtype": "float32",
                       "function": {"class_name": "__lambda__", "config": {
                           "code": code, "defaults": defaults, "closure": closure}},
                       "arguments": {}},
            "build_config": {"input_shape": [None, 4]}}


def sequential(layers):
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


TRAINING = {"loss": "mse", "metrics": ["accuracy"], "weighted_metrics": None,
            "loss_weights": None, "sample_weight_mode": None,
            "optimizer_config": {"class_name": "Adam", "config": {
                "name": "Adam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                "epsilon": 1e-07, "amsgrad": False}}}


def write_h5(path, model_config, keras_version="2.13.1", training=TRAINING, as_bytes=True,
             weights=True):
    """Write an HDF5 file the way tf.keras' save_model(..., save_format='h5') lays it out."""
    with h5py.File(path, "w") as f:
        mc = json.dumps(model_config)
        f.attrs["model_config"] = mc.encode("utf-8") if as_bytes else mc
        if training is not None:
            f.attrs["training_config"] = json.dumps(training).encode("utf-8")
        f.attrs["keras_version"] = keras_version
        f.attrs["backend"] = "tensorflow"
        if weights:
            g = f.create_group("model_weights")
            g.attrs["layer_names"] = np.array([b"d"])
            g.attrs["backend"] = b"tensorflow"
            d = g.create_group("d").create_group("d")
            d.create_dataset("kernel:0", data=np.ones((4, 3), dtype="float32"))
            d.create_dataset("bias:0", data=np.zeros((3,), dtype="float32"))
    return path


def write_keras_zip(path, config, keras_version="3.3.0"):
    """A Keras 3 .keras archive: config.json, metadata.json, model.weights.h5."""
    weights = path.with_suffix(".weights.tmp.h5")
    with h5py.File(weights, "w") as f:
        g = f.create_group("layers").create_group("dense").create_group("vars")
        g.create_dataset("0", data=np.ones((4, 2), dtype="float32"))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": keras_version,
                                                "date_saved": "2024-05-01@12:00:00"}))
        z.writestr("config.json", json.dumps(config))
        z.write(weights, "model.weights.h5")
    weights.unlink()
    return path


def check(ww_scan, path, verdict, severity=None, min_severity=None, fmt=None, message=None,
          code_capable=None, errors=None):
    rc, entry, run = ww_scan(path)
    desc = json.dumps({k: entry.get(k) for k in ("format", "verdict", "max_severity", "findings",
                                                 "errors")}, indent=1)[:4000]
    assert entry["verdict"] == verdict, desc
    assert rc == {"clean": 0, "unsafe": 1, "error": 2}[verdict], desc
    if severity is not None or verdict == "clean":
        assert entry["max_severity"] == severity, desc
    if min_severity:
        assert rank(entry["max_severity"]) >= rank(min_severity), desc
    if fmt:
        assert entry["format"] == fmt, desc
    if code_capable is not None:
        assert entry["code_capable"] is code_capable, desc
    if message:
        assert any(message in (f.get("message") or "") for f in entry["findings"]), desc
    if errors:
        assert entry["errors"], desc
    return entry


# ------------------------------------------------------------------ Keras H5 (legacy format)

def test_benign_sequential(tmp_path, ww_scan):
    p = write_h5(tmp_path / "benign.h5", sequential([INPUT, dense()]))
    check(ww_scan, p, "clean", fmt="keras_h5", code_capable=True)


def test_benign_variable_length_attribute(tmp_path, ww_scan):
    p = write_h5(tmp_path / "benign_vlen.h5", sequential([INPUT, dense()]), as_bytes=False)
    check(ww_scan, p, "clean", fmt="keras_h5")


def test_benign_functional_nested(tmp_path, ww_scan):
    inner = {"class_name": "Functional", "config": {
        "name": "inner", "layers": [dict(INPUT, inbound_nodes=[]),
                                    dict(dense("d1"), inbound_nodes=[[["in", 0, 0, {}]]])],
        "input_layers": [["in", 0, 0]], "output_layers": [["d1", 0, 0]]}}
    outer = {"class_name": "Functional", "config": {
        "name": "outer", "layers": [
            dict(INPUT, inbound_nodes=[]),
            {"class_name": "TimeDistributed", "config": {"name": "td", "layer": dense("d2")}},
            {"class_name": "Bidirectional", "config": {"name": "bi", "layer": {
                "class_name": "LSTM", "config": {"name": "lstm", "units": 4}}}},
            dict(inner, name="inner")],
        "input_layers": [["in", 0, 0]], "output_layers": [["inner", 0, 0]]}}
    p = write_h5(tmp_path / "functional.h5", outer)
    check(ww_scan, p, "clean", fmt="keras_h5")


def test_weights_only_file_is_plain_hdf5(tmp_path, ww_scan):
    p = tmp_path / "weights.h5"
    with h5py.File(p, "w") as f:  # model.save_weights() layout: no model_config
        f.attrs["layer_names"] = np.array([b"d"])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.13.1"
        f.create_group("d").create_dataset("d/kernel:0", data=np.ones((2, 2)))
    check(ww_scan, p, "clean", fmt="hdf5", code_capable=False)


def test_plain_hdf5_dataset(tmp_path, ww_scan):
    p = tmp_path / "data.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("x", data=np.arange(1000, dtype="int64"), compression="gzip")
        f.attrs["note"] = "not a model"
    check(ww_scan, p, "clean", fmt="hdf5", code_capable=False)


def test_userblock_hdf5(tmp_path, ww_scan):
    p = tmp_path / "ub.h5"
    with h5py.File(p, "w", userblock_size=512) as f:
        f.attrs["model_config"] = json.dumps(sequential([lambda2("lambda x: eval('1') + x")]))
    check(ww_scan, p, "unsafe", severity="CRITICAL", fmt="keras_h5")


def test_lambda_os_system(tmp_path, ww_scan):
    p = write_h5(tmp_path / "lambda_os.h5", sequential(
        [INPUT, lambda2("lambda x: __import__('os').system('true') or x")]))
    check(ww_scan, p, "unsafe", severity="CRITICAL", message="system")


def test_lambda_benign_is_still_high(tmp_path, ww_scan):
    # threats.md T-KERAS-H5-LAMBDA: every Lambda is reported HIGH (bytecode runs on load).
    p = write_h5(tmp_path / "lambda_x2.h5", sequential([INPUT, lambda2("lambda x: x * 2")]))
    check(ww_scan, p, "unsafe", severity="HIGH", message="Lambda")


def test_patched_keras_version_is_not_trusted(tmp_path, ww_scan):
    cfg = sequential([INPUT, lambda2("lambda x: __import__('subprocess').run(['id']) or x")])
    p = write_h5(tmp_path / "patched.h5", cfg, keras_version="9.9.9-patched-safe")
    check(ww_scan, p, "unsafe", severity="CRITICAL")


def test_lambda_inside_wrappers(tmp_path, ww_scan):
    cfg = sequential([INPUT, {"class_name": "TimeDistributed", "config": {
        "name": "td", "layer": {"class_name": "Bidirectional", "config": {
            "name": "bi", "layer": lambda2("lambda x: open('/tmp/x', 'w') and x", "hidden")}}}}])
    p = write_h5(tmp_path / "wrapped.h5", cfg)
    check(ww_scan, p, "unsafe", severity="CRITICAL", message="hidden")


def test_module_injection_in_h5(tmp_path, ww_scan):
    cfg = sequential([INPUT, {"module": "os", "class_name": "system",
                              "config": {"command": "true"}, "registered_name": "system"}])
    p = write_h5(tmp_path / "inject.h5", cfg)
    check(ww_scan, p, "unsafe", severity="CRITICAL", message="os.system")


def test_training_config_function_reference(tmp_path, ww_scan):
    training = dict(TRAINING, loss={"module": "builtins", "class_name": "function",
                                    "config": "eval", "registered_name": "eval"})
    p = write_h5(tmp_path / "train.h5", sequential([INPUT, dense()]), training=training)
    check(ww_scan, p, "unsafe", severity="CRITICAL", message="builtins.eval")


def test_tfsmlayer(tmp_path, ww_scan):
    cfg = sequential([{"module": "keras.layers", "class_name": "TFSMLayer", "registered_name": None,
                       "config": {"name": "tfsm", "filepath": "attacker_savedmodel",
                                  "call_endpoint": "serve"}}])
    p = write_h5(tmp_path / "tfsm.h5", cfg)
    check(ww_scan, p, "unsafe", min_severity="HIGH", message="TFSMLayer")


def test_model_config_not_json(tmp_path, ww_scan):
    p = tmp_path / "notjson.h5"
    with h5py.File(p, "w") as f:
        f.attrs["model_config"] = b"{'class_name': 'Sequential'"
    check(ww_scan, p, "error", errors=True)


def test_model_config_wrong_type(tmp_path, ww_scan):
    p = tmp_path / "int.h5"
    with h5py.File(p, "w") as f:
        f.attrs["model_config"] = np.int64(7)
    check(ww_scan, p, "error", errors=True)


def test_truncated_h5(tmp_path, ww_scan):
    full = write_h5(tmp_path / "full.h5", sequential([INPUT, dense()]))
    data = full.read_bytes()
    for cut in (100, 800, len(data) // 2, len(data) - 16):
        p = tmp_path / f"trunc{cut}.h5"
        p.write_bytes(data[:cut])
        rc, entry, _ = ww_scan(p)
        assert entry["verdict"] != "clean" and rc != 0, (cut, entry)


# ------------------------------------------------------------------ Keras 3 .keras zips
# config.json goes through the json module, model.weights.h5 through hdf5, both inside zip.

def v3_model(layers):
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "sequential", "trainable": True,
                       "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                 "config": {"name": "float32"}, "registered_name": None},
                       "layers": [{"module": "keras.layers", "class_name": "InputLayer",
                                   "registered_name": None,
                                   "config": {"batch_shape": [None, 4], "dtype": "float32",
                                              "sparse": False, "name": "input_layer"}}] + layers},
            "build_config": {"input_shape": [None, 4]},
            "compile_config": {"optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                                             "config": {"name": "adam", "learning_rate": 0.001},
                                             "registered_name": None},
                               "loss": "mse", "metrics": None}}


V3_DENSE = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
            "config": {"name": "dense", "units": 2, "activation": "linear", "use_bias": True,
                       "kernel_initializer": {"module": "keras.initializers",
                                              "class_name": "GlorotUniform",
                                              "config": {"seed": None}, "registered_name": None}},
            "build_config": {"input_shape": [None, 4]}}


def test_keras_v3_benign(tmp_path, ww_scan):
    p = write_keras_zip(tmp_path / "benign.keras", v3_model([V3_DENSE]))
    check(ww_scan, p, "clean")


def test_keras_v3_lambda(tmp_path, ww_scan):
    p = write_keras_zip(tmp_path / "lambda.keras", v3_model(
        [lambda3("lambda x: __import__('os').system('true') or x")]))
    check(ww_scan, p, "unsafe", severity="CRITICAL", message="system")


def test_keras_v3_module_injection(tmp_path, ww_scan):
    cfg = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"module": "os", "class_name": "system", "config": {"command": "true"},
         "registered_name": "system"}]}}
    p = write_keras_zip(tmp_path / "inject.keras", cfg)
    check(ww_scan, p, "unsafe", severity="CRITICAL", message="os.system")


def test_keras_v3_safe_mode_bypass(tmp_path, ww_scan):
    # JFrog: a function object that calls keras.config.enable_unsafe_deserialization first.
    gadget = {"module": "keras.config", "class_name": "function",
              "config": "enable_unsafe_deserialization", "registered_name": None}
    cfg = v3_model([dict(V3_DENSE, config=dict(V3_DENSE["config"], activation=gadget))])
    p = write_keras_zip(tmp_path / "bypass.keras", cfg)
    check(ww_scan, p, "unsafe", severity="CRITICAL", message="enable_unsafe_deserialization")
