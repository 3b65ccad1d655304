"""Credentials and TLS against real nats-servers: the right ones connect, wrong ones fail specifically."""

import subprocess

import pytest

from alchemist.cim import ConnectOptions, EmbeddedServer, connect
from alchemist.errors import CIMAuthenticationError, CIMConnectionError
from alchemist.cim.server import free_port

pytestmark = pytest.mark.integration


def start(tmp_path, *args):
    return EmbeddedServer(data_dir=tmp_path / "js", args=list(args)).start()


def test_token_auth(tmp_path):
    server = start(tmp_path, "--auth", "s3cret-token")
    try:
        with connect(server.url, token="s3cret-token", outbox=tmp_path / "o.sqlite") as c:
            assert c.last_event("nothing") is None
            assert "s3cret" not in repr(c) and "s3cret" not in repr(c.options)
        with pytest.raises(CIMAuthenticationError, match="refused the credentials") as info:
            connect(server.url, token="wrong", outbox=tmp_path / "o.sqlite")
        assert "wrong" not in str(info.value)
    finally:
        server.stop()


def test_user_password_auth_and_environment(tmp_path, monkeypatch):
    server = start(tmp_path, "--user", "alice", "--pass", "pa55word")
    try:
        monkeypatch.setenv("ALCHEMIST_NATS_URL", server.url)
        monkeypatch.setenv("NATS_USER", "alice")
        monkeypatch.setenv("NATS_PASSWORD", "pa55word")
        with connect(outbox=tmp_path / "o.sqlite") as c:  # everything from the environment
            assert c.server is None and "pa55word" not in repr(c.options)
        monkeypatch.setenv("NATS_PASSWORD", "nope")
        with pytest.raises(CIMAuthenticationError):
            connect(outbox=tmp_path / "o.sqlite")
        monkeypatch.delenv("NATS_USER")
        monkeypatch.delenv("NATS_PASSWORD")
        url_with_secret = server.url.replace("nats://", "nats://alice:pa55word@")
        with connect(url_with_secret, outbox=tmp_path / "o.sqlite") as c:
            assert "pa55word" not in c.url and "alice:***@" in c.url
    finally:
        server.stop()


def test_unreachable_server_is_a_prompt_connection_error(tmp_path):
    with pytest.raises(CIMConnectionError, match="cannot reach"):
        connect(f"nats://127.0.0.1:{free_port()}", timeout=2, outbox=tmp_path / "o.sqlite")


def test_options_redact_secrets():
    options = ConnectOptions.resolve("nats://u:pw@h:4222", user="u", password="pw", token=None)
    text = repr(options)
    assert "pw" not in text.replace("pw@", "") and "***" in text
    with pytest.raises(ValueError, match="password= was given without user="):
        ConnectOptions.resolve("nats://h:1", password="x")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def certificates(tmp_path):
    d = tmp_path / "pki"
    d.mkdir()
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=alchemist test CA", cwd=d)
    for name in ("server", "client"):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "other.key", "-out", "other.pem",
            "-days", "2", "-subj", "/CN=someone else", cwd=d)
    return d


def test_tls_with_client_certificates(tmp_path, certificates):
    d = certificates
    conf = tmp_path / "tls.conf"
    conf.write_text(f'tls {{\n  cert_file: "{d / "server.pem"}"\n  key_file: "{d / "server.key"}"\n'
                    f'  ca_file: "{d / "ca.pem"}"\n  verify: true\n  timeout: 2\n}}\n')
    server = start(tmp_path, "-c", str(conf))
    try:
        url = server.url.replace("nats://", "tls://")
        with connect(url, tls_ca=str(d / "ca.pem"), tls_cert=str(d / "client.pem"), tls_key=str(d / "client.key"),
                     outbox=tmp_path / "o.sqlite") as c:
            assert c.last_event("g") is None
        with pytest.raises(CIMConnectionError):  # a server certificate we do not trust
            connect(url, tls_ca=str(d / "other.pem"), tls_cert=str(d / "client.pem"), tls_key=str(d / "client.key"),
                    timeout=2, outbox=tmp_path / "o.sqlite")
        with pytest.raises((CIMConnectionError, CIMAuthenticationError)):  # no client certificate
            connect(url, tls_ca=str(d / "ca.pem"), timeout=2, outbox=tmp_path / "o.sqlite")
    finally:
        server.stop()
