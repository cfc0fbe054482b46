/* ONNX module internals shared by onnx.c, onnx_tensor.c and the unit test. */
#ifndef WWI_ONNX_H
#define WWI_ONNX_H
#include "codec/pb.h"
#include "core/scan.h"
#include "formats/onnx/optally.h"

/* Field numbers (onnx/onnx.proto). */
enum {
    ONNX_MODEL_IR_VERSION = 1,
    ONNX_MODEL_PRODUCER_NAME = 2,
    ONNX_MODEL_PRODUCER_VERSION = 3,
    ONNX_MODEL_DOMAIN = 4,
    ONNX_MODEL_MODEL_VERSION = 5,
    ONNX_MODEL_DOC_STRING = 6,
    ONNX_MODEL_GRAPH = 7,
    ONNX_MODEL_OPSET_IMPORT = 8,
    ONNX_MODEL_METADATA_PROPS = 14,
    ONNX_MODEL_TRAINING_INFO = 20,
    ONNX_MODEL_FUNCTIONS = 25,
    ONNX_MODEL_CONFIGURATION = 26,

    ONNX_TRAINING_INITIALIZATION = 1,
    ONNX_TRAINING_ALGORITHM = 2,

    ONNX_GRAPH_NODE = 1,
    ONNX_GRAPH_NAME = 2,
    ONNX_GRAPH_INITIALIZER = 5,
    ONNX_GRAPH_SPARSE_INITIALIZER = 15,

    ONNX_NODE_NAME = 3,
    ONNX_NODE_OP_TYPE = 4,
    ONNX_NODE_ATTRIBUTE = 5,
    ONNX_NODE_DOMAIN = 7,

    ONNX_ATTR_T = 5,
    ONNX_ATTR_G = 6,
    ONNX_ATTR_TENSORS = 10,
    ONNX_ATTR_GRAPHS = 11,
    ONNX_ATTR_SPARSE_TENSOR = 22,
    ONNX_ATTR_SPARSE_TENSORS = 23,

    ONNX_SPARSE_VALUES = 1,
    ONNX_SPARSE_INDICES = 2,

    ONNX_FUNC_NAME = 1,
    ONNX_FUNC_NODE = 7,
    ONNX_FUNC_DOMAIN = 10,
    ONNX_FUNC_ATTRIBUTE_PROTO = 11,

    ONNX_TENSOR_DIMS = 1,
    ONNX_TENSOR_DATA_TYPE = 2,
    ONNX_TENSOR_NAME = 8,
    ONNX_TENSOR_RAW_DATA = 9,
    ONNX_TENSOR_EXTERNAL_DATA = 13,
    ONNX_TENSOR_DATA_LOCATION = 14,

    ONNX_ENTRY_KEY = 1,
    ONNX_ENTRY_VALUE = 2,

    ONNX_DATA_LOCATION_EXTERNAL = 1,
};

#define ONNX_MAX_NEST 256 /* hard recursion ceiling (~2 KB stack per level) */
#define ONNX_MAX_IR_VERSION 16 /* 12 is current (2025); leave room for a few releases */

typedef struct onnx_fn {
    const uint8_t *domain, *name;
    size_t dlen, nlen;
} onnx_fn;

typedef struct onnx_ctx {
    wwi_scan *s;
    uint32_t max_depth; /* limits.max_json_depth: message nesting */
    onnx_fn *fns;       /* local functions (ModelProto.functions) */
    size_t nfns;
    wwi_optally ops;
    uint64_t tensors, external;
} onnx_ctx;

/* Why a TensorProto external_data location is dangerous, or NULL if it is a
 * plain relative path inside the model directory. */
const char *wwi_onnx_location_risk(const uint8_t *p, size_t n);
/* Bytes of raw data that `elems` elements of ONNX data type `dtype` take;
 * false for unknown types, STRING and overflow. */
bool wwi_onnx_raw_size(uint64_t dtype, uint64_t elems, uint64_t *bytes);
/* Check one TensorProto: sizes, external data. `where` names its place. */
WW_NODISCARD ww_status wwi_onnx_tensor(onnx_ctx *x, wwi_cur *c, const char *where);
/* Shared error helper: records the cursor's failure at its position. */
ww_status wwi_onnx_fail(onnx_ctx *x, const wwi_cur *c, const char *what);
#endif
