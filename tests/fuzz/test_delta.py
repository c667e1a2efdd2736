"""The signed delta bundle reader, fed random input, mutated bundles (which the signature check must catch)
and mutated payloads signed again with a trusted key (so the payload parser itself is reached): a bundle is
applied or refused with a VigilError, and a refused one changes nothing."""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.fuzz.fuzzing import CORPUS, FUZZ, mutated, random_input, seed
from vigil.core.errors import VigilError
from vigil.exchange import delta
from vigil.store import Store
from vigil.store.models import Signal as SignalRow

KEY = Ed25519PrivateKey.generate()  # signs the mutated payloads; made per test run, never stored


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    """One store trusting the corpus bundle's sender and this run's key; every apply is rolled back."""
    with tempfile.TemporaryDirectory() as tmp:
        pem = Path(tmp) / "ours.pem"
        pem.write_bytes(
            KEY.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        with Store(str(Path(tmp) / "fuzz.db")) as st_, st_.transaction() as session:
            delta.trust(session, CORPUS / "seed.delta.pub.pem", "Partner")
            delta.trust(session, pem, "Ours")
        with Store(str(Path(tmp) / "fuzz.db")) as st_:
            yield st_


def apply_or_refuse(store: Store, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.json"
        path.write_bytes(data)
        with store.session() as session:
            before = session.scalar(select(func.count()).select_from(SignalRow))
            try:
                delta.apply_bundle(session, path)
            except VigilError as exc:
                assert "\n" not in str(exc).strip(), repr(str(exc))
                assert session.scalar(select(func.count()).select_from(SignalRow)) == before
            finally:
                session.rollback()


def signed(payload: bytes) -> bytes:
    bundle = json.loads(seed("seed.delta"))
    bundle["sender"] = delta.fingerprint(KEY.public_key())
    bundle["payload"] = base64.b64encode(payload).decode()
    bundle["signature"] = KEY.sign(payload).hex()
    return json.dumps(bundle).encode()


def seed_payload() -> bytes:
    return base64.b64decode(json.loads(seed("seed.delta"))["payload"])


def test_the_seed_applies(store: Store) -> None:
    with tempfile.TemporaryDirectory() as tmp, store.session() as session:
        path = Path(tmp) / "bundle.json"
        path.write_bytes(seed("seed.delta"))
        assert delta.apply_bundle(session, path).records == 3
        path.write_bytes(signed(seed_payload()))
        assert delta.apply_bundle(session, path).records == 3
        session.rollback()


@FUZZ
@given(data=random_input())
def test_random_bundles_are_refused(store: Store, data: bytes) -> None:
    apply_or_refuse(store, data)


@FUZZ
@given(data=st.data())
def test_mutated_bundles_are_applied_or_refused(store: Store, data: st.DataObject) -> None:
    apply_or_refuse(store, data.draw(mutated(seed("seed.delta"))))


@FUZZ
@given(data=st.data())
def test_mutated_signed_payloads_are_applied_or_refused(store: Store, data: st.DataObject) -> None:
    apply_or_refuse(store, signed(data.draw(mutated(seed_payload()) | random_input())))
