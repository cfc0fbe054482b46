"""ONNX and TensorFlow SavedModel end to end: fixtures are written at test
time (onnx.helper for ONNX, hand-built protobuf wire bytes for SavedModel,
since TensorFlow is not installed) and scanned with the CLI. Nothing here
loads a fixture."""
import json
import os
import subprocess
import sys

import pytest

WW = os.environ.get("WEIGHTWALL")
SHARED = os.environ.get("WW_SHARED", "/work/shared")

pytestmark = pytest.mark.skipif(not WW or not os.path.exists(WW), reason="WEIGHTWALL not built")


def scan(path):
    p = subprocess.run([WW, "scan", str(path), "--format", "json"], capture_output=True, text=True)
    doc = json.loads(p.stdout)
    return p.returncode, doc["files"][0]


def sev_names(f, sev):
    return [g["name"] for g in f["findings"] if g["severity"] == sev]


# ---- ONNX -----------------------------------------------------------------

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


def write_model(path, nodes, inits=(), opsets=(("", 13),), functions=None):
    g = helper.make_graph(list(nodes), "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
                          initializer=list(inits))
    kw = {"functions": functions} if functions else {}
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
                          producer_name="weightwall-test", **kw)
    data = m.SerializeToString()
    path.write_bytes(data)
    return data


def ext_tensor(location):
    t = helper.make_tensor("w", TensorProto.FLOAT, [1], [1.0])
    t.data_location = TensorProto.EXTERNAL
    del t.float_data[:]
    e = t.external_data.add()
    e.key = "location"
    e.value = location
    return t


def test_onnx_benign(tmp_path):
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 3], b"\0" * 24, raw=True)
    write_model(tmp_path / "m.onnx", [helper.make_node("Add", ["x", "w"], ["a"]),
                                      helper.make_node("Relu", ["a"], ["y"])], [w])
    rc, f = scan(tmp_path / "m.onnx")
    assert (rc, f["format"], f["verdict"]) == (0, "onnx", "clean"), f


def test_onnx_benign_without_onnx_extension(tmp_path):
    write_model(tmp_path / "model.bin", [helper.make_node("Relu", ["x"], ["y"])])
    rc, f = scan(tmp_path / "model.bin")
    assert (rc, f["format"]) == (0, "onnx"), f


def test_onnx_custom_domain(tmp_path):
    write_model(tmp_path / "m.onnx", [helper.make_node("EvilOp", ["x"], ["y"], domain="com.evil")],
                opsets=(("", 13), ("com.evil", 1)))
    rc, f = scan(tmp_path / "m.onnx")
    assert rc == 1 and "com.evil::EvilOp" in sev_names(f, "MEDIUM"), f


def test_onnx_contrib_domain_is_low(tmp_path):
    write_model(tmp_path / "m.onnx",
                [helper.make_node("FusedMatMul", ["x", "x"], ["y"], domain="com.microsoft")],
                opsets=(("", 13), ("com.microsoft", 1)))
    rc, f = scan(tmp_path / "m.onnx")
    assert rc == 0 and f["max_severity"] in ("LOW", None, "NONE"), f


@pytest.mark.parametrize("loc", ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini",
                                 "file:///etc/passwd", "sub/../../x", "a\\..\\..\\b"])
def test_onnx_external_data_escape(tmp_path, loc):
    write_model(tmp_path / "m.onnx", [helper.make_node("Add", ["x", "w"], ["y"])], [ext_tensor(loc)])
    rc, f = scan(tmp_path / "m.onnx")
    assert rc == 1 and f["max_severity"] == "HIGH", f
    assert any(g["kind"] == "external_data" and g["severity"] == "HIGH" for g in f["findings"])


def test_onnx_external_data_relative_ok(tmp_path):
    write_model(tmp_path / "m.onnx", [helper.make_node("Add", ["x", "w"], ["y"])],
                [ext_tensor("weights/m.onnx.data")])
    rc, f = scan(tmp_path / "m.onnx")
    assert rc == 0 and f["verdict"] == "clean", f


def test_onnx_if_subgraph_custom_op(tmp_path):
    out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]
    then = helper.make_graph([helper.make_node("EvilOp", ["x"], ["y"], domain="com.evil")],
                             "then", [], out)
    els = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "else", [], out)
    write_model(tmp_path / "m.onnx",
                [helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=els)],
                opsets=(("", 13), ("com.evil", 1)))
    rc, f = scan(tmp_path / "m.onnx")
    assert rc == 1 and "com.evil::EvilOp" in sev_names(f, "MEDIUM"), f


def test_onnx_loop_body_external_data(tmp_path):
    out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]
    body = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "body", [], out,
                             initializer=[ext_tensor("../secret")])
    write_model(tmp_path / "m.onnx", [helper.make_node("Loop", ["n", "c"], ["y"], body=body)])
    rc, f = scan(tmp_path / "m.onnx")
    assert rc == 1 and f["max_severity"] == "HIGH", f


def test_onnx_local_function(tmp_path):
    fn = helper.make_function("local.fns", "MyFn", ["x"], ["y"],
                              [helper.make_node("Relu", ["x"], ["y"])], [helper.make_opsetid("", 13)])
    write_model(tmp_path / "ok.onnx", [helper.make_node("MyFn", ["x"], ["y"], domain="local.fns")],
                opsets=(("", 13), ("local.fns", 1)), functions=[fn])
    rc, f = scan(tmp_path / "ok.onnx")
    assert rc == 0, f
    bad = helper.make_function("local.fns", "MyFn", ["x"], ["y"],
                               [helper.make_node("Evil", ["x"], ["y"], domain="com.evil")],
                               [helper.make_opsetid("", 13)])
    write_model(tmp_path / "bad.onnx", [helper.make_node("MyFn", ["x"], ["y"], domain="local.fns")],
                opsets=(("", 13), ("local.fns", 1)), functions=[bad])
    rc, f = scan(tmp_path / "bad.onnx")
    assert rc == 1 and "com.evil::Evil" in sev_names(f, "MEDIUM"), f


def test_onnx_malformed(tmp_path):
    data = write_model(tmp_path / "m.onnx", [helper.make_node("Relu", ["x"], ["y"])],
                       [helper.make_tensor("w", TensorProto.FLOAT, [4], b"\0" * 16, raw=True)])
    (tmp_path / "trunc.onnx").write_bytes(data[:-5])
    rc, f = scan(tmp_path / "trunc.onnx")
    assert rc == 2 and f["verdict"] == "error", f
    t = helper.make_tensor("w", TensorProto.FLOAT, [2, 3], b"\0" * 24, raw=True)
    t.raw_data = b"\0" * 20
    write_model(tmp_path / "size.onnx", [helper.make_node("Relu", ["x"], ["y"])], [t])
    rc, f = scan(tmp_path / "size.onnx")
    assert rc == 2, f
    t = helper.make_tensor("w", TensorProto.FLOAT, [2, 3], b"\0" * 24, raw=True)
    t.dims[0] = -2
    write_model(tmp_path / "neg.onnx", [helper.make_node("Relu", ["x"], ["y"])], [t])
    rc, f = scan(tmp_path / "neg.onnx")
    assert rc == 2, f


def test_onnx_deep_subgraphs(tmp_path):
    out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]
    leaf = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "leaf", [], out)
    g = leaf
    for i in range(200):
        g = helper.make_graph([helper.make_node("If", ["c"], ["y"], then_branch=g, else_branch=leaf)],
                              "g%d" % i, [], out)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    (tmp_path / "deep.onnx").write_bytes(m.SerializeToString())
    rc, f = scan(tmp_path / "deep.onnx")
    assert rc != 0 and f["verdict"] != "clean", f


# ---- SavedModel (hand-built wire bytes) ------------------------------------

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def fld(num, payload):
    if isinstance(payload, int):
        return varint(num << 3) + varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def attr_func(key, fname):
    # NodeDef.attr map entry: key -> AttrValue{func: NameAttrList{name}}
    return fld(5, fld(1, key) + fld(2, fld(10, fld(1, fname))))


def node(name, op, *extra):
    return fld(1, name) + fld(2, op) + b"".join(extra)


def function(name, nodes):
    return fld(1, fld(1, name)) + b"".join(fld(3, n) for n in nodes)


def saved_model(nodes, functions=(), saver=None, schema=True):
    graph = b"".join(fld(1, n) for n in nodes)
    if functions:
        graph += fld(2, b"".join(fld(1, f) for f in functions))
    graph += fld(4, fld(1, 1087))  # versions.producer
    meta = fld(1, fld(4, "serve")) + fld(2, graph)
    if saver:
        meta += fld(3, saver)
    return (fld(1, 1) if schema else b"") + fld(2, meta)


TF2_SAVER = fld(1, "saver_filename:0") + fld(2, "StatefulPartitionedCall_1:0") + \
    fld(3, "StatefulPartitionedCall_2")


def tf2_model(extra_nodes=(), extra_functions=()):
    """The shape of a TF2 SavedModel: variables, a serving function and the
    saver's save/restore functions called from the graph."""
    save_fn = function("__inference__traced_save_95", [
        node("StaticRegexFullMatch", "StaticRegexFullMatch"),
        node("ShardedFilename", "ShardedFilename"),
        node("SaveV2", "SaveV2"),
        node("MergeV2Checkpoints", "MergeV2Checkpoints"),
        node("Identity", "Identity")])
    restore_fn = function("__inference__traced_restore_120", [
        node("RestoreV2", "RestoreV2"), node("AssignVariableOp", "AssignVariableOp")])
    serve_fn = function("__inference_signature_wrapper_60", [
        node("MatMul/ReadVariableOp", "ReadVariableOp"), node("MatMul", "MatMul"),
        node("BiasAdd", "BiasAdd"), node("Relu", "Relu")])
    nodes = [node("serving_default_x", "Placeholder"),
             node("dense/kernel", "VarHandleOp"),
             node("StatefulPartitionedCall", "StatefulPartitionedCall",
                  attr_func("f", "__inference_signature_wrapper_60")),
             node("saver_filename", "Placeholder"),
             node("StatefulPartitionedCall_1", "StatefulPartitionedCall",
                  attr_func("f", "__inference__traced_save_95")),
             node("StatefulPartitionedCall_2", "StatefulPartitionedCall",
                  attr_func("f", "__inference__traced_restore_120"))] + list(extra_nodes)
    return saved_model(nodes, [save_fn, restore_fn, serve_fn] + list(extra_functions), TF2_SAVER)


def test_savedmodel_benign_tf2_shape(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(tf2_model())
    rc, f = scan(tmp_path / "saved_model.pb")
    assert (rc, f["format"], f["verdict"]) == (0, "savedmodel", "clean"), f


def test_savedmodel_benign_tf1(tmp_path):
    nodes = [node("x", "Placeholder"), node("w", "VariableV2"), node("MatMul", "MatMul"),
             node("add", "Add"), node("save/Const", "Const"), node("save/SaveV2", "SaveV2"),
             node("save/RestoreV2", "RestoreV2"), node("save/restore_all", "NoOp")]
    saver = fld(1, "save/Const:0") + fld(2, "save/control_dependency:0") + \
        fld(3, "save/restore_all")
    (tmp_path / "saved_model.pb").write_bytes(saved_model(nodes, saver=saver))
    rc, f = scan(tmp_path / "saved_model.pb")
    assert rc == 0 and f["verdict"] == "clean", f


def test_savedmodel_pyfunc(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(saved_model([node("c", "Const"), node("bad", "PyFunc")]))
    rc, f = scan(tmp_path / "saved_model.pb")
    assert rc == 1 and f["max_severity"] == "CRITICAL" and "PyFunc" in sev_names(f, "CRITICAL"), f


@pytest.mark.parametrize("op", ["ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst"])
def test_savedmodel_file_ops(tmp_path, op):
    (tmp_path / "saved_model.pb").write_bytes(tf2_model([node("evil", op)]))
    rc, f = scan(tmp_path / "saved_model.pb")
    assert rc == 1 and op in sev_names(f, "HIGH"), f


def test_savedmodel_op_in_library_function(tmp_path):
    evil = function("__inference_serve_7", [node("rf", "ReadFile"), node("wf", "WriteFile")])
    (tmp_path / "saved_model.pb").write_bytes(tf2_model(extra_functions=[evil]))
    rc, f = scan(tmp_path / "saved_model.pb")
    assert rc == 1 and {"ReadFile", "WriteFile"} <= set(sev_names(f, "HIGH")), f
    assert any("__inference_serve_7" in g["message"] for g in f["findings"])


def test_savedmodel_save_outside_saver(tmp_path):
    evil = function("__inference_serve_7", [node("s", "SaveV2")])
    (tmp_path / "saved_model.pb").write_bytes(tf2_model(extra_functions=[evil]))
    rc, f = scan(tmp_path / "saved_model.pb")
    assert rc == 1 and "SaveV2" in sev_names(f, "HIGH"), f


def test_savedmodel_saver_function_called_elsewhere(tmp_path):
    extra = node("sneaky", "StatefulPartitionedCall", attr_func("f", "__inference__traced_save_95"))
    (tmp_path / "saved_model.pb").write_bytes(tf2_model([extra]))
    rc, f = scan(tmp_path / "saved_model.pb")
    assert rc == 1 and f["max_severity"] == "HIGH", f


def test_savedmodel_frozen_graphdef(tmp_path):
    graph = fld(1, node("x", "Placeholder")) + fld(1, node("p", "PyFunc")) + fld(4, fld(1, 27))
    (tmp_path / "frozen.pb").write_bytes(graph)
    rc, f = scan(tmp_path / "frozen.pb")
    assert rc == 1 and f["format"] == "savedmodel" and f["max_severity"] == "CRITICAL", f


def test_savedmodel_truncated(tmp_path):
    data = tf2_model()
    for cut in (5, len(data) // 2, len(data) - 3):
        (tmp_path / "saved_model.pb").write_bytes(data[:cut])
        rc, f = scan(tmp_path / "saved_model.pb")
        assert rc == 2 and f["verdict"] == "error", (cut, f)


def test_savedmodel_overlong_varint(tmp_path):
    data = b"\x08" + b"\xff" * 10 + b"\x01" + fld(2, fld(2, fld(1, node("a", "Add"))))
    (tmp_path / "saved_model.pb").write_bytes(data)
    rc, f = scan(tmp_path / "saved_model.pb")
    assert rc == 2, f


def test_fingerprint_pb(tmp_path):
    data = fld(1, 123456789012345) + fld(2, 987654321) + fld(3, 5555) + fld(4, 7777) + \
        fld(5, 9999) + fld(6, fld(1, 1))
    (tmp_path / "fingerprint.pb").write_bytes(data)
    rc, f = scan(tmp_path / "fingerprint.pb")
    assert rc == 0 and f["format"] == "savedmodel", f


def test_unknown_protobuf_pb_is_error(tmp_path):
    (tmp_path / "other.pb").write_bytes(fld(3, "hello") + fld(7, 5))
    rc, f = scan(tmp_path / "other.pb")
    assert rc == 2 and f["verdict"] == "error", f


# ---- peer samples ----------------------------------------------------------

def peer_samples():
    man = os.path.join(SHARED, "peer-samples", "manifest.json")
    if not os.path.exists(man):
        return []
    with open(man) as fh:
        items = json.load(fh)
    return [(i["path"], i["label"]) for i in items
            if i["path"].endswith(".onnx") or i["path"].endswith("saved_model.pb")]


@pytest.mark.parametrize("path,label", peer_samples())
def test_peer_samples(path, label):
    rc, f = scan(os.path.join(SHARED, "peer-samples", path))
    assert rc == (1 if label == "malicious" else 0), f


def keras_object(node_id, path, ident, meta):
    return fld(1, (fld(2, node_id) if node_id else b"") + fld(3, path) + fld(4, ident) +
               fld(5, json.dumps(meta)) + fld(6, fld(1, 1) + fld(2, 1)))


DENSE = {"class_name": "Dense", "name": "dense", "trainable": True,
         "config": {"name": "dense", "units": 4, "activation": "relu", "use_bias": True}}
SEQ = {"class_name": "Sequential", "name": "sequential", "trainable": True,
       "config": {"name": "sequential", "layers": [
           {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3], "name": "in"}},
           {"class_name": "Dense", "config": DENSE["config"]}]}}


def test_keras_metadata_benign(tmp_path):
    data = keras_object(0, "root", "_tf_keras_sequential", SEQ) + \
        keras_object(1, "root.layer_with_weights-0", "_tf_keras_layer", DENSE)
    (tmp_path / "keras_metadata.pb").write_bytes(data)
    rc, f = scan(tmp_path / "keras_metadata.pb")
    assert rc == 0 and f["format"] == "savedmodel", f


def test_keras_metadata_lambda(tmp_path):
    lam = {"class_name": "Lambda", "name": "lambda",
           "config": {"name": "lambda", "function": ["4wEAAAAA", None, None],
                      "function_type": "lambda", "module": "__main__"}}
    data = keras_object(0, "root", "_tf_keras_sequential", SEQ) + \
        keras_object(1, "root.layer-0", "_tf_keras_layer", lam)
    (tmp_path / "keras_metadata.pb").write_bytes(data)
    rc, f = scan(tmp_path / "keras_metadata.pb")
    assert rc != 0 and f["verdict"] != "clean", f
