"""A test double of App Check's backend: the key fetch and the replay check, nothing else.

``firebase_admin.app_check`` verifies a token against the public keys it fetches from App Check
(a JWKS), and with ``consume=True`` asks App Check whether the token was used before. Offline,
this local HTTP server plays both: it serves a JWKS of a key the tests generate and answers the
replay check (``alreadyConsumed`` is true from a token's second check on). ``AppCheckKeys.token``
signs tokens the way App Check does (RS256, ``typ: JWT``, a ``kid`` the JWKS names, audience
``projects/{project}``). Everything else (the JWT checks, the SDK's calls) is the real code.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://firebaseappcheck.googleapis.com/123456789"


class AppCheckKeys:
    """An RSA key pair with its JWKS, and the tokens it signs."""

    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def token(self, project: str, *, app_id: str = "1:123456789:web:abc", expires_in: int = 3600) -> str:
        """An App Check token of ``app_id`` for ``project``, as App Check issues it."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": app_id,
            "aud": [f"projects/{project}", "projects/123456789"],
            "iat": now,
            "exp": now + expires_in,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})


class AppCheckBackend:
    """Serves ``/v1/jwks`` and ``…:verifyAppCheckToken`` on 127.0.0.1 (a free port)."""

    def __init__(self, keys: AppCheckKeys) -> None:
        self.keys = keys
        self.consumed: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(backend.keys.jwks())

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with backend._lock:
                    used = body["app_check_token"] in backend.consumed
                    backend.consumed.add(body["app_check_token"])
                self._answer({"alreadyConsumed": used})

            def _answer(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
