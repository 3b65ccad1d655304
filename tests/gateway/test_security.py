"""Authentication, authorization, rate limiting and CORS of a real gateway (uvicorn, nats-server, httpx).

A refused request must change nothing: each refusal is checked by counting the messages on the
graph-events stream before and after.
"""

import argparse
import json
import time

import httpx
import jwt
import pytest

from alchemist.gateway import GatewaySettings
from alchemist.gateway.responses import GatewayConfigError
from alchemist.gateway.settings import add_security_flags, load_api_keys, settings_from_args

pytestmark = pytest.mark.integration

SECRET = "a-test-secret-long-enough-for-hs256-0123456789"
KEYS = {
    "rw-key": {"subject": "writer", "read": ["*"], "write": ["*"]},
    "ro-key": {"subject": "reader", "read": ["*"], "write": []},
    "g1-key": {"subject": "g1-only", "read": ["g1"], "write": ["g1"]},
}
EDGES = b"1 2\n2 3\n3 1\n"


def messages(conn) -> int:
    return conn.stream_info().state.messages


def token(claims: dict, key=SECRET, algorithm="HS256") -> str:
    return jwt.encode({"exp": time.time() + 300, **claims}, key, algorithm=algorithm)


def upload(gateway, graph_id, headers=None):
    return httpx.post(gateway.url + "/api/v1/graphs/import", params={"graph_id": graph_id}, content=EDGES,
                      headers=headers or {}, timeout=30)


@pytest.fixture
def secured(gateway_factory):
    return gateway_factory(GatewaySettings(api_keys=KEYS, jwt_secret=SECRET, rate_limit=None))


def test_api_keys_401_403_and_allowed_and_refusals_change_nothing(secured, conn):
    no_key = upload(secured, "g1")
    assert no_key.status_code == 401
    assert no_key.json()["code"] == "UnauthorizedError" and "credentials required" in no_key.json()["error"]
    assert no_key.headers["www-authenticate"] == "Bearer"
    wrong = upload(secured, "g1", {"X-API-Key": "not-a-key"})
    assert wrong.status_code == 401 and "not-a-key" not in wrong.text  # never echo a credential
    read_only = upload(secured, "g1", {"X-API-Key": "ro-key"})
    assert read_only.status_code == 403
    assert read_only.json() == {"error": "'reader' may not write graph 'g1'", "code": "ForbiddenError"}
    other_graph = upload(secured, "g2", {"X-API-Key": "g1-key"})
    assert other_graph.status_code == 403
    assert messages(conn) == 0 and conn.aggregate_sequence("g1") == 0

    allowed = upload(secured, "g1", {"Authorization": "Bearer rw-key"})
    assert allowed.status_code == 201, allowed.text
    assert [e.metadata for e in conn.events("g1")] == [{"actor": "writer", "via": "api-key"}] * 2
    assert httpx.get(secured.url + "/api/v1/graphs/g1", headers={"X-API-Key": "ro-key"}).status_code == 200
    listing = httpx.get(secured.url + "/api/v1/graphs", headers={"X-API-Key": "g1-key"}).json()
    assert [g["graph_id"] for g in listing["graphs"]] == ["g1"]
    assert httpx.get(secured.url + "/api/v1/graphs/g1", headers={"Authorization": "Basic eDp5"}).status_code == 401
    # probes and scrapers need no credentials
    assert httpx.get(secured.url + "/healthz").status_code == 200
    assert httpx.get(secured.url + "/metrics").status_code == 200


def test_jwt_signed_with_the_secret_is_accepted_expired_or_foreign_refused(secured, conn):
    good = token({"sub": "ana", "read": ["*"], "write": ["g1"]})
    response = upload(secured, "g1", {"Authorization": f"Bearer {good}"})
    assert response.status_code == 201, response.text
    assert conn.events("g1")[0].metadata == {"actor": "ana", "via": "jwt"}
    before = messages(conn)

    expired = jwt.encode({"sub": "ana", "write": "*", "exp": time.time() - 10}, SECRET, algorithm="HS256")
    answer = upload(secured, "g2", {"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401 and "expired" in answer.json()["error"]
    foreign = token({"sub": "ana", "write": "*"}, key="another-secret-of-the-same-length-0123456789ab")
    assert upload(secured, "g2", {"Authorization": f"Bearer {foreign}"}).status_code == 401
    unsigned = jwt.encode({"sub": "ana", "write": "*", "exp": time.time() + 60}, None, algorithm="none")
    answer = upload(secured, "g2", {"Authorization": f"Bearer {unsigned}"})
    assert answer.status_code == 401 and "'none' is not accepted" in answer.json()["error"]
    no_expiry = jwt.encode({"sub": "ana", "write": "*"}, SECRET, algorithm="HS256")
    assert upload(secured, "g2", {"Authorization": f"Bearer {no_expiry}"}).status_code == 401
    reader = token({"sub": "bob", "read": ["g1"]})
    assert upload(secured, "g2", {"Authorization": f"Bearer {reader}"}).status_code == 403
    assert messages(conn) == before


def test_jwt_with_a_public_key_audience_and_issuer(gateway_factory, conn):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    gateway = gateway_factory(GatewaySettings(jwt_public_key=public_pem, jwt_algorithms=("ES256",),
                                              jwt_audience="alchemist", jwt_issuer="https://idp.example",
                                              rate_limit=None))
    claims = {"sub": "ana", "write": ["*"], "aud": "alchemist", "iss": "https://idp.example"}
    assert upload(gateway, "g", {"Authorization": f"Bearer {token(claims, private, 'ES256')}"}).status_code == 201
    other = ec.generate_private_key(ec.SECP256R1())
    for bad in (token(claims, other, "ES256"), token({**claims, "aud": "someone-else"}, private, "ES256"),
                token({**claims, "iss": "https://evil.example"}, private, "ES256"),
                token(claims, SECRET, "HS256")):  # an HMAC token where only ES256 is accepted
        assert upload(gateway, "h", {"Authorization": f"Bearer {bad}"}).status_code == 401
    assert conn.aggregate_sequence("h") == 0


def test_rate_limit_is_429_with_retry_after_per_principal(gateway_factory):
    gateway = gateway_factory(GatewaySettings(api_keys=KEYS, rate_limit="3/minute"))
    ana = {"X-API-Key": "rw-key"}
    codes = [httpx.get(gateway.url + "/api/v1/graphs", headers=ana).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = httpx.get(gateway.url + "/api/v1/graphs", headers=ana)
    assert limited.status_code == 429 and limited.json()["code"] == "RateLimitedError"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # another principal has its own window; the probes have none
    assert httpx.get(gateway.url + "/api/v1/graphs", headers={"X-API-Key": "ro-key"}).status_code == 200
    assert all(httpx.get(gateway.url + "/healthz").status_code == 200 for _ in range(5))


def test_cors_preflight_allows_the_configured_origin_only(gateway_factory):
    gateway = gateway_factory(GatewaySettings(cors_origins=("https://app.example",)))
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-API-Key"}
    allowed = httpx.options(gateway.url + "/api/v1/graphs/import", headers={"Origin": "https://app.example",
                                                                             **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "x-api-key" in allowed.headers["access-control-allow-headers"].lower()
    refused = httpx.options(gateway.url + "/api/v1/graphs/import", headers={"Origin": "https://evil.example",
                                                                             **preflight})
    assert "access-control-allow-origin" not in refused.headers
    simple = httpx.get(gateway.url + "/api/v1/graphs", headers={"Origin": "https://app.example"})
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in httpx.get(gateway.url + "/api/v1/graphs",
                                                          headers={"Origin": "https://evil.example"}).headers


def test_anonymous_access_only_when_allowed(gateway_factory, conn):
    closed = gateway_factory(GatewaySettings(api_keys=KEYS))
    assert upload(closed, "g").status_code == 401
    open_ = gateway_factory(GatewaySettings(api_keys=KEYS, allow_anonymous=True))
    assert upload(open_, "g").status_code == 201
    assert conn.events("g")[0].metadata == {"actor": "anonymous", "via": "anonymous"}


def test_websocket_handshake_without_credentials_is_refused_with_401(secured):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as refused:
        connect(secured.ws_url + "/ws/graphs/g1", open_timeout=10)
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["code"] == "UnauthorizedError"


def test_load_api_keys_json_and_toml_and_flags(tmp_path, monkeypatch):
    as_json = tmp_path / "keys.json"
    as_json.write_text(json.dumps({"k1": {"subject": "ana", "read": ["*"], "write": "g1"}}))
    assert load_api_keys(as_json) == {"k1": {"subject": "ana", "read": ["*"], "write": ["g1"]}}
    as_toml = tmp_path / "keys.toml"
    as_toml.write_text('[[keys]]\nkey = "k2"\nsubject = "bob"\nwrite = ["*"]\n')
    assert load_api_keys(as_toml) == {"k2": {"subject": "bob", "read": [], "write": ["*"]}}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"keys": [{"key": "k3"}]}))
    with pytest.raises(GatewayConfigError, match="entry 1 needs"):
        load_api_keys(bad)
    with pytest.raises(GatewayConfigError, match="cannot be read"):
        load_api_keys(tmp_path / "missing.json")

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    add_security_flags(parser)
    monkeypatch.setenv("TEST_JWT_SECRET", SECRET)
    args = parser.parse_args(["--api-keys", str(as_toml), "--jwt-secret-env", "TEST_JWT_SECRET", "--cors-origin",
                              "https://a.example", "--cors-origin", "https://b.example", "--rate-limit", "none",
                              "--port", "9001", "--max-upload-bytes", "1024"])
    settings = settings_from_args(args)
    assert settings.api_keys == {"k2": {"subject": "bob", "read": [], "write": ["*"]}}
    assert settings.jwt_secret == SECRET and settings.port == 9001 and settings.max_upload_bytes == 1024
    assert settings.cors_origins == ("https://a.example", "https://b.example") and settings.rate_limit is None
    assert not settings.anonymous_allowed
    monkeypatch.delenv("TEST_JWT_SECRET")
    with pytest.raises(GatewayConfigError, match="TEST_JWT_SECRET"):
        settings_from_args(args)


def test_a_bad_rate_limit_is_refused_when_the_app_is_made(conn):
    from alchemist.gateway import create_app

    with pytest.raises(GatewayConfigError, match="not a rate limit"):
        create_app(conn, GatewaySettings(rate_limit="lots"))
