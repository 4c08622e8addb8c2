"""The connection: channel, bearer token, default deadline and safe retries.

Every service of the API is an attribute of ``Client`` with the service's own name
(``client.ReferralService.GetCase(request)``). A call:

* carries ``authorization: Bearer <token>``;
* has a deadline (``deadline`` seconds unless ``timeout=`` is given);
* is retried after UNAVAILABLE, with exponential backoff, only when repeating it cannot do
  anything twice: the method is marked ``idempotency_level = NO_SIDE_EFFECTS`` in the API (every
  read), or the request carries a non-empty ``idempotency_key`` (the server answers a repeat
  with its first response);
* raises ``MediationError`` with the server's status code and message when it fails.

Server-streaming methods (``CaseEventService.StreamCaseEvents``) return an iterator and are
not retried: resume with the last position received.
"""

import importlib
import time
import types

import grpc

_API_FILES = [
    "common", "admin", "organisation", "referral", "screening", "case", "charges", "mediator",
    "allocation", "scheduling", "notes", "agreement", "events", "statistics",
]

# The generated modules, by file: v1.referral is referral_pb2, v1.referral_grpc its services.
v1 = types.SimpleNamespace()
_services = {}
for _name in _API_FILES:
    _messages = importlib.import_module("ppa.mediation.v1.%s_pb2" % _name)
    _grpc = importlib.import_module("ppa.mediation.v1.%s_pb2_grpc" % _name)
    setattr(v1, _name, _messages)
    setattr(v1, _name + "_grpc", _grpc)
    for _service in _messages.DESCRIPTOR.services_by_name.values():
        _services[_service.name] = (_service, getattr(_grpc, _service.name + "Stub"))


class MediationError(Exception):
    """A call the server (or the network) refused: ``code`` is a grpc.StatusCode, ``message``
    the server's message as it is."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code.name, message))
        self.code = code
        self.message = message


def safe_to_retry(method_descriptor, request):
    """Whether a call of the method with this request may be sent again after UNAVAILABLE."""
    level = method_descriptor.GetOptions().idempotency_level
    if level == method_descriptor.GetOptions().NO_SIDE_EFFECTS:
        return True
    fields = request.DESCRIPTOR.fields_by_name
    return "idempotency_key" in fields and bool(getattr(request, "idempotency_key"))


class _Service:
    """One service's methods, wrapped."""

    def __init__(self, client, descriptor, stub):
        self._client = client
        self._descriptor = descriptor
        self._stub = stub

    def __getattr__(self, name):
        method = self._descriptor.methods_by_name.get(name)
        if method is None:
            raise AttributeError("%s has no method %s" % (self._descriptor.name, name))
        callable_ = getattr(self._stub, name)
        if method.server_streaming:
            return lambda request, timeout=None: self._client._stream(callable_, request, timeout)
        return lambda request, timeout=None: self._client._call(method, callable_, request,
                                                                timeout)


class Client:
    """A connection to the server. Thread-safe; close() it (or use ``with``) when done."""

    def __init__(self, address="127.0.0.1:50051", token=None, ca_file=None, cert_file=None,
                 key_file=None, deadline=30.0, max_attempts=4, initial_backoff=0.2):
        if not address:
            raise ValueError("address: must not be empty")
        if max_attempts < 1:
            raise ValueError("max_attempts: must be at least 1")
        if ca_file:
            def read(path):
                with open(path, "rb") as f:
                    return f.read()
            credentials = grpc.ssl_channel_credentials(
                root_certificates=read(ca_file),
                private_key=read(key_file) if key_file else None,
                certificate_chain=read(cert_file) if cert_file else None)
            self._channel = grpc.secure_channel(address, credentials)
        else:
            if cert_file or key_file:
                raise ValueError("cert_file: a client certificate needs TLS; set ca_file too")
            self._channel = grpc.insecure_channel(address)
        self._token = (token or "").strip()
        self.deadline = deadline
        self.max_attempts = max_attempts
        self.initial_backoff = initial_backoff
        self.attempts = 0  # Attempts sent so far, retries included.
        self._services = {}

    def __getattr__(self, name):
        if name.startswith("_") or name not in _services:
            raise AttributeError("no service %s; services: %s" % (name, ", ".join(_services)))
        if name not in self._services:
            descriptor, stub_class = _services[name]
            self._services[name] = _Service(self, descriptor, stub_class(self._channel))
        return self._services[name]

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _metadata(self):
        return (("authorization", "Bearer " + self._token),) if self._token else ()

    def _call(self, method, callable_, request, timeout):
        retry = safe_to_retry(method, request)
        backoff = self.initial_backoff
        attempt = 1
        while True:
            self.attempts += 1
            try:
                return callable_(request, timeout=timeout or self.deadline,
                                 metadata=self._metadata())
            except grpc.RpcError as error:
                code = error.code()
                if code != grpc.StatusCode.UNAVAILABLE or not retry or \
                        attempt >= self.max_attempts:
                    raise MediationError(code, error.details()) from None
            time.sleep(backoff)
            backoff *= 2
            attempt += 1

    def _stream(self, callable_, request, timeout):
        self.attempts += 1
        call = callable_(request, timeout=timeout, metadata=self._metadata())
        try:
            for message in call:
                yield message
        except grpc.RpcError as error:
            raise MediationError(error.code(), error.details()) from None
        finally:
            call.cancel()
