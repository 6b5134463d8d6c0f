"""Versioned model state: plain JSON values and numpy arrays, never pickle.

Every learned model (detector baselines, template sets, causal graphs, scorers) snapshots itself
as a :class:`ModelState` so it can be checkpointed, registered and hot-swapped.

>>> import numpy as np
>>> s = ModelState("demo", 1, {"alpha": 0.1}, {"mean": np.arange(3.0)})
>>> t = ModelState.from_bytes(s.to_bytes())
>>> t.schema, t.version, t.params["alpha"], t.arrays["mean"].tolist()
('demo', 1, 0.1, [0.0, 1.0, 2.0])
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from nocwise.model.errors import InvalidRecordError
from nocwise.model.json_chunks import json_chunks


@dataclass(frozen=True, slots=True)
class ModelState:
    """A snapshot of a model: ``schema`` names the model kind, ``version`` its state layout."""

    schema: str
    version: int
    params: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    def header(self) -> dict[str, Any]:
        """Schema, version and params: what a snapshot holding this one keeps in its params."""
        return {"schema": self.schema, "version": self.version, "params": self.params}

    def prefixed_arrays(self, prefix: str) -> dict[str, npt.NDArray[Any]]:
        """The arrays named ``prefix + name``, to sit beside other models' in one snapshot."""
        return {f"{prefix}{k}": v for k, v in self.arrays.items()}

    @classmethod
    def nested(
        cls, header: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]], prefix: str
    ) -> ModelState:
        """The state kept in another by :meth:`header` and :meth:`prefixed_arrays`.

        >>> inner = ModelState("inner", 2, {"k": 1}, {"x": np.zeros(2)})
        >>> outer = ModelState("outer", 1, {"inner": inner.header()}, inner.prefixed_arrays("in."))
        >>> back = ModelState.nested(outer.params["inner"], outer.arrays, "in.")
        >>> back.schema, back.version, back.params, list(back.arrays)
        ('inner', 2, {'k': 1}, ['x'])
        """
        return cls(
            str(header["schema"]),
            int(header["version"]),
            dict(header["params"]),
            {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)},
        )

    def to_bytes(self) -> bytes:
        """A zip holding ``state.json`` and one ``.npy`` per array (loadable without pickle)."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            # streamed in pieces: one json.dumps of a large state holds the GIL for seconds
            with zf.open("state.json", "w", force_zip64=True) as f:
                for piece in json_chunks(self.header()):
                    f.write(piece.encode())
            for name, arr in self.arrays.items():
                out = io.BytesIO()
                np.save(out, np.ascontiguousarray(arr), allow_pickle=False)
                zf.writestr(f"{name}.npy", out.getvalue())
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelState:
        """Read a snapshot written by :meth:`to_bytes`; object arrays are refused."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                header = json.loads(zf.read("state.json"))
                arrays = {
                    n[: -len(".npy")]: np.load(io.BytesIO(zf.read(n)), allow_pickle=False)
                    for n in zf.namelist()
                    if n.endswith(".npy")
                }
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise InvalidRecordError(f"not a model state snapshot: {exc}") from exc
        return cls(str(header["schema"]), int(header["version"]), dict(header["params"]), arrays)

    def expect(self, schema: str, version: int) -> None:
        """Raise unless this snapshot is of ``schema`` at ``version`` (migrate before calling)."""
        if self.schema != schema or self.version != version:
            raise InvalidRecordError(
                f"state is {self.schema} v{self.version}, expected {schema} v{version}"
            )
