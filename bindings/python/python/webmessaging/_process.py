"""``spawn``: a child process holding one end of a new channel.

Written with :mod:`subprocess` so that every ``Popen`` option works as usual; the native module
only exports the child's end as a socket descriptor (``export_fd``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from typing import Any

from ._native import PORT_FD_ENV, MessageChannel, MessagePort, export_fd

__all__ = ["spawn"]


def spawn(
    args: str | bytes | os.PathLike[str] | os.PathLike[bytes] | Sequence[str | bytes | os.PathLike[str] | os.PathLike[bytes]],
    **popen_kwargs: Any,
) -> tuple[subprocess.Popen[Any], MessagePort]:
    """Starts ``subprocess.Popen(args, **popen_kwargs)`` with one end of a new channel and
    returns the ``Popen`` and the other end. The child (in any language) gets its end with
    ``parent_port()``.

    The child's end is an inherited socket descriptor (added to ``pass_fds``) whose number is in
    the child's ``WEBMESSAGING_PORT_FD`` variable (added to ``env=`` if given, else to a copy of
    ``os.environ``). This process's copy of the descriptor is closed once the child is started,
    and on failure (the port returned is then closed too and the error raised), so the port
    ends with reason ``"lost"`` when the child exits without closing its end.
    """
    channel = MessageChannel()
    fd = export_fd(channel.port2)
    try:
        # export_fd never returns 0-2 (the child's stdio setup would overwrite those).
        env = dict(os.environ if popen_kwargs.get("env") is None else popen_kwargs["env"])
        env[PORT_FD_ENV] = str(fd)
        popen_kwargs["env"] = env
        popen_kwargs["pass_fds"] = (*popen_kwargs.get("pass_fds", ()), fd)
        child = subprocess.Popen(args, **popen_kwargs)
    except BaseException:
        channel.port1.close()
        raise
    finally:
        os.close(fd)
    return child, channel.port1
