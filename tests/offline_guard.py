"""IPython startup file that refuses outbound network connections in a notebook kernel.

``tests/test_offline.py`` copies it into a temporary IPython profile's startup folder, so
every kernel that nbval starts runs it first. Any attempt to resolve or connect to a
non-loopback address raises ``OSError`` and is appended to the file named by the
environment variable ``LESSONS_NET_LOG``. It prints nothing, so nbval's comparison of
outputs is unaffected.
"""

import os
import socket

_LOG = os.environ.get("LESSONS_NET_LOG")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "", None}


def _refuse(what):
    if _LOG:
        with open(_LOG, "a") as log:
            log.write(f"{what}\n")
    raise OSError(f"network access refused in the offline test: {what}")


def _is_local(address):
    if isinstance(address, (str, bytes)):  # a Unix socket path
        return True
    host = address[0] if isinstance(address, tuple) and address else None
    return host in _LOCAL_HOSTS or (isinstance(host, str) and host.startswith("127."))


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self, address):
    if not _is_local(address):
        _refuse(f"connect {address!r}")
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_local(address):
        _refuse(f"connect_ex {address!r}")
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL_HOSTS and not (isinstance(host, str) and host.startswith("127.")):
        _refuse(f"getaddrinfo {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
socket.getaddrinfo = _guarded_getaddrinfo
