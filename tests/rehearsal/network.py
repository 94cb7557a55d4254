"""The rehearsal's network: where Lambda has public DNS and public certificate authorities, the rehearsal has a host
map and a CA of its own.

Every host a function may reach (the AWS endpoints, the Hub, its CDN, CloudFormation's response bucket) is routed to
a loopback server that holds a certificate for that name, signed by the rehearsal's CA. A function process resolves
names through the map (``routes``) and trusts only that CA; any other name fails to resolve, so nothing leaves the
machine. Functions therefore run with the template's own environment (``HF_ENDPOINT=https://huggingface.co``) and
the SDKs' default endpoints, not with test-only URLs.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REGION = "us-east-1"
ACCOUNT = "123456789012"
HUB_HOST = "huggingface.co"
CDN_HOST = "cdn-lfs.hf.co"
# Every AWS endpoint a function may call: regional service hosts, S3's global and regional hosts in both
# addressing styles, and the bucket CloudFormation hands out response URLs in.
AWS_NAMES = (
    f"*.{REGION}.amazonaws.com",
    "s3.amazonaws.com",
    "*.s3.amazonaws.com",
    f"s3.{REGION}.amazonaws.com",
    f"*.s3.{REGION}.amazonaws.com",
)
CFN_RESPONSE_HOST = "cloudformation-custom-resource-response-useast1.s3.amazonaws.com"


def _name_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        suffix = pattern[1:]
        return host.endswith(suffix) and "." not in host[: -len(suffix)]
    return host == pattern


@dataclass
class Network:
    """The CA, one server certificate for every routed name, and the routes (host pattern -> loopback address)."""

    folder: Path
    routes: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ca_file = self.folder / "ca.pem"
        self.cert_file = self.folder / "server.pem"
        self.key_file = self.folder / "server.key"
        _make_certificates(self.ca_file, self.cert_file, self.key_file, [*AWS_NAMES, HUB_HOST, CDN_HOST])

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def route(self, pattern: str, address: tuple[str, int]) -> None:
        self.routes = [route for route in self.routes if route[0] != pattern]
        self.routes.append((pattern, address[0], int(address[1])))

    def resolve(self, host: str) -> tuple[str, int] | None:
        for pattern, ip, port in self.routes:
            if _name_matches(pattern, host.lower()):
                return ip, port
        return None

    def process_environment(self) -> dict[str, str]:
        """What a function process needs to use this network (the runtimes' bootstraps read the routes)."""
        import json

        return {
            "_REHEARSAL_ROUTES": json.dumps(self.routes),
            "AWS_CA_BUNDLE": str(self.ca_file),  # botocore
            "SSL_CERT_FILE": str(self.ca_file),  # Python's ssl default context (the copy engine's Hub client)
            "NODE_EXTRA_CA_CERTS": str(self.ca_file),  # Node.js (the AWS SDK v3, https)
        }


class TlsServer(ThreadingHTTPServer):
    """An HTTPS server whose TLS handshakes happen in the connection's own thread, with a timeout: a client that
    connects and says nothing cannot stall the accept loop (and with it ``shutdown``)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext):
        super().__init__(address, handler)
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(30)
        try:
            connection = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        connection.settimeout(600)  # an idle keep-alive connection ends, a slow one does not
        self.RequestHandlerClass(connection, client_address, self)


def _make_certificates(ca_file: Path, cert_file: Path, key_file: Path, names: list[str]) -> None:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deploy rehearsal CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alternative_names: list[x509.GeneralName] = [x509.DNSName(name) for name in names]
    alternative_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", "127.0.0.2")]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deploy rehearsal endpoints")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
