"""A Python client for the assisted-mediation server.

The generated stubs (``ppa.mediation.v1.*_pb2`` and ``*_pb2_grpc``) are built by CMake into
``<build>/clients/python/gen``; put that directory and ``clients/python`` on ``PYTHONPATH``. When
the stubs are not importable, the default build directory of this repository is tried.

    from ppa_mediation import Client, v1

    client = Client("127.0.0.1:50051", token=open("var/admin.token").read().strip())
    me = client.IdentityService.WhoAmI(v1.identity.WhoAmIRequest())

Only Debian's packages are needed: ``python3-grpcio`` and ``python3-protobuf``.
"""

import os
import sys

try:
    import ppa.mediation.v1.admin_pb2  # noqa: F401
except ImportError:  # The stubs of this repository's default build.
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(_here, "..", "..", "..", "build", "clients", "python", "gen"))

from ppa_mediation.client import Client, MediationError, v1  # noqa: E402

__all__ = ["Client", "MediationError", "v1"]
