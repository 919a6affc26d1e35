"""TensorFlow's TensorProto <-> numpy, without TensorFlow.

Covers the dtypes models exchange in practice (floats, ints, bools, strings). Values arrive
either packed in `tensor_content` (little-endian, row-major) or in the typed `*_val` field;
a single value with a larger shape is TensorFlow's broadcast shorthand.
"""

from __future__ import annotations

import numpy as np

from .errors import INTERNAL_ERROR, BadRequest, SeldonMicroserviceException
from .proto import tf_tensor_pb2 as tf

# DataType -> (numpy dtype, TensorProto field holding the values)
_BY_DTYPE: dict[int, tuple[np.dtype, str]] = {
    tf.DT_FLOAT: (np.dtype("<f4"), "float_val"),
    tf.DT_DOUBLE: (np.dtype("<f8"), "double_val"),
    tf.DT_HALF: (np.dtype("<f2"), "half_val"),
    tf.DT_INT8: (np.dtype("i1"), "int_val"),
    tf.DT_INT16: (np.dtype("<i2"), "int_val"),
    tf.DT_INT32: (np.dtype("<i4"), "int_val"),
    tf.DT_INT64: (np.dtype("<i8"), "int64_val"),
    tf.DT_UINT8: (np.dtype("u1"), "int_val"),
    tf.DT_UINT16: (np.dtype("<u2"), "int_val"),
    tf.DT_UINT32: (np.dtype("<u4"), "uint32_val"),
    tf.DT_UINT64: (np.dtype("<u8"), "uint64_val"),
    tf.DT_BOOL: (np.dtype("?"), "bool_val"),
}
_BY_NUMPY = {np_dtype.str.lstrip("<|"): dtype for dtype, (np_dtype, _) in _BY_DTYPE.items()}


def to_numpy(tensor: tf.TensorProto) -> np.ndarray:
    shape = [dim.size for dim in tensor.tensor_shape.dim]
    if any(size < 0 for size in shape):
        raise BadRequest(f"tftensor shape {shape} has an unknown dimension")
    if tensor.dtype == tf.DT_STRING:
        values = np.array(list(tensor.string_val), dtype=object)
    elif tensor.dtype in _BY_DTYPE:
        np_dtype, field = _BY_DTYPE[tensor.dtype]
        if tensor.tensor_content:
            values = np.frombuffer(tensor.tensor_content, dtype=np_dtype)
        elif field == "half_val":
            values = np.array(tensor.half_val, dtype=np.uint16).view(np.float16)
        else:
            values = np.array(getattr(tensor, field), dtype=np_dtype)
    else:
        name = tf.DataType.Name(tensor.dtype) if tensor.dtype in tf.DataType.values() else tensor.dtype
        raise BadRequest(f"tftensor dtype {name} is not supported")
    size = int(np.prod(shape))
    if values.size == 1 and size > 1:
        values = np.full(size, values[0], dtype=values.dtype)
    if values.size != size:
        raise BadRequest(f"tftensor holds {values.size} values but its shape {shape} needs {size}")
    return values.reshape(shape)


def from_numpy(array: np.ndarray) -> tf.TensorProto:
    array = np.asarray(array)
    tensor = tf.TensorProto()
    tensor.tensor_shape.dim.extend(tf.TensorShapeProto.Dim(size=size) for size in array.shape)
    if array.dtype.kind in "OUS":
        tensor.dtype = tf.DT_STRING
        tensor.string_val.extend(v if isinstance(v, bytes) else str(v).encode() for v in array.ravel())
        return tensor
    dtype = _BY_NUMPY.get(array.dtype.str.lstrip("<|"))
    if dtype is None:  # only responses are encoded: the model returned it
        raise SeldonMicroserviceException(
            f"the model returned numpy dtype {array.dtype}, which a tftensor cannot carry",
            status_code=500,
            reason=INTERNAL_ERROR,
        )
    np_dtype, _ = _BY_DTYPE[dtype]
    tensor.dtype = dtype
    tensor.tensor_content = np.ascontiguousarray(array, dtype=np_dtype).tobytes()
    return tensor
