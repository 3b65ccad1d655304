"""Compute backends: NumPy + Numba on the CPU, CuPy + Numba CUDA on a GPU.

One rule (DESIGN.md §4): the same public call runs on either backend and returns the same
numbers within a stated tolerance. Public functions take ``backend="auto" | "cpu" | "cuda"``;
``"auto"`` means the process-wide default set with :func:`set_backend`, which itself defaults to
CUDA when :func:`gpu_available` and to the CPU otherwise.

The CUDA kernels are also exercised without a GPU under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``); :func:`cuda_simulator` tells whether it is on.
"""

from __future__ import annotations

import functools
import os

from alchemist.errors import BackendError

__all__ = [
    "gpu_available",
    "cuda_simulator",
    "set_backend",
    "get_backend",
    "resolve_backend",
    "array_module",
    "to_numpy",
]

_BACKENDS = ("auto", "cpu", "cuda")
_default = os.environ.get("ALCHEMIST_BACKEND", "auto")


def cuda_simulator() -> bool:
    """True when Numba's CUDA simulator is enabled (``NUMBA_ENABLE_CUDASIM=1``).

    Returns
    -------
    bool
        Read from the environment at each call; the simulator itself must be switched on before
        Numba is imported.

    Raises
    ------
    None

    Examples
    --------
    >>> import os
    >>> cuda_simulator() == (os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"))
    True
    """
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


@functools.lru_cache(maxsize=1)
def gpu_available() -> bool:
    """True when CuPy imports and at least one CUDA device is present (not the simulator).

    Returns
    -------
    bool
        Cached after the first call (the device count does not change within a process).

    Raises
    ------
    None
        A missing CuPy, driver or device gives False.

    Examples
    --------
    >>> gpu_available() in (True, False)
    True
    """
    if cuda_simulator():
        return False
    try:
        import cupy  # noqa: F401

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, CUDARuntimeError, missing driver ...
        return False


def set_backend(name: str) -> None:
    """Set the process-wide default backend: ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Parameters
    ----------
    name : {"auto", "cpu", "cuda"}
        ``"auto"``: CUDA when :func:`gpu_available`, else the CPU. The initial default is the
        environment variable ``ALCHEMIST_BACKEND`` (``"auto"`` when unset).

    Returns
    -------
    None

    Raises
    ------
    BackendError
        If ``name`` is unknown, or is ``"cuda"`` and no GPU is available.

    Examples
    --------
    >>> set_backend("tpu")
    Traceback (most recent call last):
    ...
    alchemist.errors.BackendError: unknown backend 'tpu'; use one of 'auto', 'cpu', 'cuda'
    """
    global _default
    resolve_backend(name)  # validate
    _default = name


def get_backend() -> str:
    """The backend ``"auto"`` resolves to now: ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    {"cpu", "cuda"}

    Raises
    ------
    BackendError
        The default was set to ``"cuda"`` (``ALCHEMIST_BACKEND``) and no GPU is available.

    Examples
    --------
    >>> get_backend() == ("cuda" if gpu_available() else "cpu")   # with the default "auto"
    True
    """
    return resolve_backend("auto")


def resolve_backend(backend: str | None = "auto") -> str:
    """Turn a ``backend=`` argument into ``"cpu"`` or ``"cuda"``.

    Parameters
    ----------
    backend : {"auto", "cpu", "cuda"} or None
        None means ``"auto"``.

    Returns
    -------
    {"cpu", "cuda"}

    Raises
    ------
    BackendError
        If ``backend`` is not one of ``"auto"``, ``"cpu"``, ``"cuda"``, or is ``"cuda"`` and no
        GPU is available.

    Examples
    --------
    >>> resolve_backend("cpu")
    'cpu'
    >>> resolve_backend("auto") == ("cuda" if gpu_available() else "cpu")   # with the default "auto"
    True
    """
    if backend is None:
        backend = "auto"
    if backend not in _BACKENDS:
        raise BackendError(f"unknown backend {backend!r}; use one of {', '.join(map(repr, _BACKENDS))}")
    if backend == "auto":
        backend = _default if _default != "auto" else ("cuda" if gpu_available() else "cpu")
    if backend == "cuda" and not gpu_available():
        raise BackendError(
            "backend='cuda' was requested but no CUDA device is available "
            "(install alchemist[gpu] on a machine with an NVIDIA GPU, or use backend='cpu')"
        )
    return backend


def array_module(backend: str = "auto"):
    """The array module for a backend: :mod:`numpy` for the CPU, :mod:`cupy` for CUDA.

    Parameters
    ----------
    backend : {"auto", "cpu", "cuda"}

    Returns
    -------
    module

    Raises
    ------
    BackendError
        As :func:`resolve_backend`.

    Examples
    --------
    >>> array_module("cpu").__name__
    'numpy'
    """
    if resolve_backend(backend) == "cuda":
        import cupy

        return cupy
    import numpy

    return numpy


def to_numpy(array):
    """Return ``array`` as a NumPy array, copying it from the device if it is a CuPy array.

    Parameters
    ----------
    array : array_like or cupy.ndarray

    Returns
    -------
    numpy.ndarray
        ``numpy.asarray(array)`` for host data (no copy when it already is one).

    Raises
    ------
    None

    Examples
    --------
    >>> to_numpy([1.0, 2.0])
    array([1., 2.])
    """
    get = getattr(array, "get", None)
    if get is not None and type(array).__module__.startswith("cupy"):
        return get()
    import numpy

    return numpy.asarray(array)
