/* Keras model-config analysis, shared by the HDF5 module (model_config
 * attribute) and the json module (.keras config.json inside a zip). */
#ifndef WWI_KERAS_H
#define WWI_KERAS_H
#include "core/scan.h"

/* True if the parsed JSON document looks like a Keras model/layer config
 * (class_name + config, or a Keras v3 metadata.json). */
bool wwi_keras_json_is_config(const void *json_root /* json_t* */);
/* Analyse a Keras config document: Lambda layers (decode their marshalled
 * code), module/class_name/registered_name outside Keras namespaces, function
 * references by name. Findings go to the current layer. */
WW_NODISCARD ww_status wwi_keras_config_scan(wwi_scan *s, const void *json_root /* json_t* */,
                                             const char *where);
#endif
