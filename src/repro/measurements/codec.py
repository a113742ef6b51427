"""A measurement as plain data: a tree of ``repro`` dataclasses, containers, numbers, strings, NumPy arrays, torch
tensors and pandas data frames, turned into a JSON tree plus named arrays, and back.

No pickle: decoding can only build the dataclasses of the ``repro`` package (named in the tree) and plain values,
so a foreign or tampered file cannot run code. What the codec keeps, exactly:

- ``None``, ``bool``, ``int``, ``str``; ``float`` including NaN and ±inf; NumPy scalars with their dtype;
- ``list``, ``tuple``, ``dict`` (any keys the codec keeps, in order);
- ``np.ndarray`` of a non-object dtype (dtype and shape); ``torch.Tensor`` (dtype and shape; read back on the CPU,
  without ``requires_grad``); ``torch.device``; ``pathlib.Path``;
- ``pd.DataFrame`` / ``pd.Series`` with a flat index and flat column labels: numeric, boolean and datetime columns as
  arrays, other columns as lists of the values above;
- dataclass instances of ``repro`` modules, field by field (``__post_init__`` is not run again on reading).

Anything else is a :class:`TypeError` naming where in the tree it sits, at writing time.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import sys
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd
import torch

__all__ = ["encode", "decode", "CodecError"]

_IMPORTABLE = ("repro.experiments.", "repro.stiffness.", "repro.training.", "repro.data.")  # where stored classes live
_ARRAY_KINDS = "biufcmM"  # NumPy dtype kinds stored as arrays (bool, ints, floats, complex, timedelta, datetime)


class CodecError(ValueError):
    """A stored tree that the codec cannot turn back into values (a foreign or damaged measurement)."""


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, value: np.ndarray, where: str) -> str:
        if value.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"cannot store an array of dtype {value.dtype} at {where}")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = np.array(value, order="C")  # a copy that keeps a 0-d array 0-d
        return name

    def column(self, values: pd.Series | pd.Index, where: str) -> object:
        if isinstance(values, pd.MultiIndex):
            raise TypeError(f"cannot store a MultiIndex at {where}")
        dtype = values.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in _ARRAY_KINDS:
            return {"$array": self.array(values.to_numpy(), where)}
        return {"$values": self.encode(list(values), where), "dtype": str(dtype)}

    def frame(self, value: pd.DataFrame, where: str) -> dict:
        if isinstance(value.columns, pd.MultiIndex):
            raise TypeError(f"cannot store a data frame with MultiIndex columns at {where}")
        return {
            "$frame": {
                "columns": self.index(value.columns, f"{where}.columns"),
                "data": [self.column(value.iloc[:, k], f"{where}[{c!r}]") for k, c in enumerate(value.columns)],
                "index": self.index(value.index, f"{where}.index"),
            }
        }

    def index(self, index: pd.Index, where: str) -> dict:
        if isinstance(index, pd.RangeIndex):
            tree: dict = {"$range": [index.start, index.stop, index.step]}
        else:
            tree = self.column(index, where)
        return tree | {"name": self.encode(index.name, f"{where}.name")}

    def encode(self, value: Any, where: str = "measurement") -> object:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, np.integer):
            return value
        if isinstance(value, float) and not isinstance(value, np.floating):
            return value if math.isfinite(value) else {"$float": repr(value)}
        if isinstance(value, np.generic):
            if value.dtype.kind not in _ARRAY_KINDS:
                raise TypeError(f"cannot store a NumPy scalar of dtype {value.dtype} at {where}")
            return {"$scalar": value.dtype.str, "value": self.encode(value.item(), where)}
        if isinstance(value, np.ndarray):
            return {"$array": self.array(value, where)}
        if isinstance(value, torch.Tensor):
            t = value.detach().cpu()
            stored = t.float() if t.dtype == torch.bfloat16 else t
            return {"$tensor": self.array(stored.numpy(), where), "dtype": str(t.dtype).removeprefix("torch.")}
        if isinstance(value, torch.device):
            return {"$device": str(value)}
        if isinstance(value, PurePath):
            return {"$path": str(value)}
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{k}]") for k, v in enumerate(value)]
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v, f"{where}[{k}]") for k, v in enumerate(value)]}
        if isinstance(value, dict):
            return {
                "$dict": [[self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")] for k, v in value.items()]
            }
        if isinstance(value, pd.DataFrame):
            return self.frame(value, where)
        if isinstance(value, pd.Series):
            return {"$series": self.frame(value.to_frame(name=value.name), where)["$frame"]}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self.dataclass(value, where)
        raise TypeError(f"cannot store a value of type {type(value).__qualname__} at {where}")

    def dataclass(self, value: object, where: str) -> dict:
        cls = type(value)
        if not cls.__module__.startswith("repro."):
            raise TypeError(f"only dataclasses of the repro package are stored; {cls.__qualname__} at {where} is not")
        fields = {f.name: self.encode(getattr(value, f.name), f"{where}.{f.name}") for f in dataclasses.fields(value)}
        return {"$dataclass": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}


def encode(value: Any) -> tuple[object, dict[str, np.ndarray]]:
    """``(tree, arrays)``: a JSON-serialisable tree for ``value`` whose arrays are named entries of ``arrays``."""
    encoder = _Encoder()
    tree = encoder.encode(value)
    return tree, encoder.arrays


def _dataclass_type(name: str) -> type:
    module, _, qualname = name.partition(":")
    if not module.startswith("repro.") or not qualname or module.rpartition(".")[2] == "__main__":
        raise CodecError(f"refusing to build {name!r}: only dataclasses of the repro package are read")
    if module not in sys.modules and not module.startswith(_IMPORTABLE):
        raise CodecError(f"refusing to import {module!r} to read a measurement: it is not a measuring module")
    try:
        obj: object = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise CodecError(f"the stored dataclass {name!r} no longer exists ({err})") from err
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
        raise CodecError(f"{name!r} is not a dataclass")
    return obj


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def array(self, name: object) -> np.ndarray:
        if not isinstance(name, str) or name not in self.arrays:
            raise CodecError(f"the tree names an array {name!r} that the file does not hold")
        return self.arrays[name]

    def column(self, tree: dict) -> np.ndarray | list:
        if "$array" in tree:
            return self.array(tree["$array"])
        values = self.decode(tree["$values"])
        if tree["dtype"] != "object":
            return pd.array(values, dtype=tree["dtype"])
        column = np.empty(len(values), dtype=object)
        for k, v in enumerate(values):
            column[k] = v
        return pd.Series(column, dtype=object)

    def index(self, tree: dict) -> pd.Index:
        if "$range" in tree:
            return pd.RangeIndex(*tree["$range"], name=self.decode(tree["name"]))
        column = self.column(tree)
        return pd.Index(column, dtype=getattr(column, "dtype", None), name=self.decode(tree["name"]))

    def frame(self, tree: dict) -> pd.DataFrame:
        index = self.index(tree["index"])
        data = {}
        for k, c in enumerate(tree["data"]):
            column = self.column(c)
            data[k] = column.set_axis(index) if isinstance(column, pd.Series) else column
        frame = pd.DataFrame(data, index=index)
        frame.columns = self.index(tree["columns"])
        return frame

    def decode(self, tree: object) -> Any:
        if tree is None or isinstance(tree, (bool, int, float, str)):
            return tree
        if isinstance(tree, list):
            return [self.decode(v) for v in tree]
        if not isinstance(tree, dict) or len(tree) == 0:
            raise CodecError(f"unexpected node {tree!r} in a stored measurement")
        tag = next(iter(tree))
        if tag == "$float":
            return float(tree[tag])
        if tag == "$scalar":
            return np.dtype(tree[tag]).type(self.decode(tree["value"]))
        if tag == "$array":
            return self.array(tree[tag])
        if tag == "$tensor":
            return torch.from_numpy(self.array(tree[tag]).copy()).to(getattr(torch, tree["dtype"]))
        if tag == "$device":
            return torch.device(tree[tag])
        if tag == "$path":
            return Path(tree[tag])
        if tag == "$tuple":
            return tuple(self.decode(v) for v in tree[tag])
        if tag == "$dict":
            return {_hashable(self.decode(k)): self.decode(v) for k, v in tree[tag]}
        if tag == "$frame":
            return self.frame(tree[tag])
        if tag == "$series":
            frame = self.frame(tree[tag])
            return frame.iloc[:, 0]
        if tag == "$dataclass":
            return self.dataclass(tree)
        raise CodecError(f"unknown tag {tag!r} in a stored measurement")

    def dataclass(self, tree: dict) -> object:
        cls = _dataclass_type(tree["$dataclass"])
        stored = tree["fields"]
        names = {f.name for f in dataclasses.fields(cls)}
        if set(stored) != names:
            raise CodecError(
                f"{cls.__qualname__} has fields {sorted(names)} but the stored one has {sorted(stored)}"
            )
        obj = cls.__new__(cls)
        for name, value in stored.items():
            object.__setattr__(obj, name, self.decode(value))
        return obj


def _hashable(key: object) -> object:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


def decode(tree: object, arrays: dict[str, np.ndarray]) -> Any:
    """The value :func:`encode` turned into ``(tree, arrays)``."""
    return _Decoder(arrays).decode(tree)
