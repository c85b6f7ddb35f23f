from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from images_util import make_cert


@pytest.fixture(scope="session")
def cloud_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture(scope="session")
def cloud_cert(cloud_key: rsa.RSAPrivateKey) -> x509.Certificate:
    return make_cert(cloud_key, "cloud")


@pytest.fixture(scope="session")
def user_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture(scope="session")
def user_cert(user_key: rsa.RSAPrivateKey) -> x509.Certificate:
    return make_cert(user_key, "user")


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)
