/* SavedModel module internals (shared with the unit test). */
#ifndef WWI_SAVEDMODEL_H
#define WWI_SAVEDMODEL_H
#include "codec/pb.h"
#include "core/scan.h"
#include "formats/onnx/optally.h"

/* Field numbers: tensorflow/core/protobuf/{saved_model,meta_graph,saver}.proto,
 * tensorflow/core/framework/{graph,node_def,function,op_def,attr_value}.proto,
 * keras/protobuf/saved_metadata.proto, tensorflow/core/protobuf/fingerprint.proto. */
enum {
    TF_SM_SCHEMA_VERSION = 1,
    TF_SM_META_GRAPHS = 2,

    TF_MG_META_INFO_DEF = 1,
    TF_MG_GRAPH_DEF = 2,
    TF_MG_SAVER_DEF = 3,
    TF_MG_COLLECTION_DEF = 4,
    TF_MG_SIGNATURE_DEF = 5,
    TF_MG_ASSET_FILE_DEF = 6,
    TF_MG_OBJECT_GRAPH_DEF = 7,

    TF_SAVER_SAVE_TENSOR_NAME = 2,
    TF_SAVER_RESTORE_OP_NAME = 3,

    TF_ASSET_FILENAME = 2,

    TF_GRAPH_NODE = 1,
    TF_GRAPH_LIBRARY = 2,
    TF_GRAPH_VERSION = 3,
    TF_GRAPH_VERSIONS = 4,
    TF_GRAPH_DEBUG_INFO = 5,

    TF_NODE_NAME = 1,
    TF_NODE_OP = 2,
    TF_NODE_INPUT = 3,
    TF_NODE_DEVICE = 4,
    TF_NODE_ATTR = 5,
    TF_NODE_EXP_TYPE = 6,
    TF_NODE_EXP_DEBUG_INFO = 8,

    TF_MAP_KEY = 1,
    TF_MAP_VALUE = 2,

    TF_ATTR_LIST = 1,
    TF_ATTR_S = 2,
    TF_ATTR_FUNC = 10,
    TF_LIST_FUNC = 9,
    TF_NAMEATTRLIST_NAME = 1,
    TF_NAMEATTRLIST_ATTR = 2,

    TF_LIB_FUNCTION = 1,
    TF_FUNC_SIGNATURE = 1,
    TF_FUNC_NODE_DEF = 3,
    TF_OPDEF_NAME = 1,

    KERAS_META_NODES = 1,
    KERAS_OBJ_NODE_ID = 2,
    KERAS_OBJ_NODE_PATH = 3,
    KERAS_OBJ_IDENTIFIER = 4,
    KERAS_OBJ_METADATA = 5,
    KERAS_OBJ_VERSION = 6,

    TF_FP_VERSION = 6, /* fields 1..5 are uint64 hashes */
};

typedef enum tf_kind {
    TF_KIND_NONE = 0,
    TF_KIND_SAVEDMODEL, /* saved_model.pb */
    TF_KIND_GRAPHDEF,   /* frozen GraphDef (.pb) loaded with import_graph_def */
    TF_KIND_KERAS_META, /* keras_metadata.pb */
    TF_KIND_FINGERPRINT /* fingerprint.pb */
} tf_kind;

/* Which TensorFlow protobuf the head bytes begin, and how sure (0..100). */
tf_kind wwi_tf_classify(const uint8_t *head, size_t n, int *confidence);

typedef struct tf_ctx {
    wwi_scan *s;
    uint32_t max_depth;
    wwi_optally ops;
    /* saver_def of the current MetaGraphDef: node names (no ":0") */
    const uint8_t *save_node, *restore_node, *saver_scope;
    size_t save_len, restore_len, scope_len;
} tf_ctx;

/* Severity of op `op` and why; saver: the node sits in the model's saver. */
ww_severity wwi_tf_op_class(const uint8_t *op, size_t n, bool saver, const char **reason);
WW_NODISCARD ww_status wwi_tf_keras_meta(wwi_scan *s, wwi_cur *c, uint32_t max_depth);
ww_status wwi_tf_fail(wwi_scan *s, const wwi_cur *c, const char *what);
#endif
