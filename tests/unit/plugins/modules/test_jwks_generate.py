"""Unit tests of the jwks_generate module: files, check mode, idempotence, diff, failures, secrecy."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.openshift_sts.oidc.plugins.module_utils import keys as K
from ansible_collections.openshift_sts.oidc.plugins.modules import jwks_generate
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.modules.module_runner import run_main

ISSUER = "https://mycluster-oidc.s3.us-east-1.amazonaws.com"


def run_module(capsys, check_mode=False, diff=False, **args):
    """Run the module's main() with ``args``; return (failed, result)."""
    failed, result, out = run_main(capsys, jwks_generate, check_mode=check_mode, diff=diff, **args)
    result["_raw"] = out
    return failed, result


@pytest.fixture
def key_files(keyfactory, tmp_path):
    """An installer .pub, a PKCS#1 private key and an EC key, as files."""
    keydir = tmp_path / "keys"
    keydir.mkdir()
    files = {
        "pub": keydir / "bound-service-account-signing-key.pub",
        "private": keydir / "serviceaccount-signer.private",
        "ec": keydir / "ec.key",
    }
    files["pub"].write_text(keyfactory.installer_pub_pem("rsa2048"))
    files["private"].write_text(keyfactory.traditional_pem("rsa2048#2"))
    files["ec"].write_text(keyfactory.pkcs8_pem("P-384"))
    return {name: str(path) for name, path in files.items()}


@pytest.fixture
def out(tmp_path):
    """The destination directory."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def expected_texts(keyfactory, kinds):
    """What the files must contain for keys of ``kinds``."""
    jwks = K.jwks_document([keyfactory.public(kind) for kind in kinds])
    return K.render_json(jwks), K.render_discovery(K.discovery_document(ISSUER, K.algs_for(jwks)))


def test_writes_both_files_then_is_idempotent(capsys, keyfactory, key_files, out):
    """First run writes ccoctl-format files; the second reports no change."""
    args = dict(keys=[key_files["pub"], key_files["private"]], issuer=ISSUER,
                jwks_path=str(out / "keys.json"), discovery_path=str(out / "openid-configuration"))
    failed, result = run_module(capsys, **args)
    assert not failed and result["changed"] is True
    jwks_text, discovery_text = expected_texts(keyfactory, ["rsa2048", "rsa2048#2"])
    assert (out / "keys.json").read_text() == jwks_text
    assert (out / "openid-configuration").read_text() == discovery_text
    assert result["jwks_json"] == jwks_text and result["discovery_json"] == discovery_text
    assert json.loads(jwks_text) == result["jwks"]
    assert result["kids"] == sorted(K.kid_for(keyfactory.public(k)) for k in ("rsa2048", "rsa2048#2"))
    assert result["discovery"]["id_token_signing_alg_values_supported"] == ["RS256"]
    assert sorted(os.listdir(out)) == ["keys.json", "openid-configuration"]  # no temporary file left

    failed, again = run_module(capsys, **args)
    assert not failed and again["changed"] is False
    assert again["jwks"] == result["jwks"]


def test_returns_documents_without_paths(capsys, keyfactory):
    """Without destinations nothing is written and nothing changes."""
    failed, result = run_module(capsys, keys=[keyfactory.spki_pem("P-256")], issuer=ISSUER)
    assert not failed and result["changed"] is False
    assert result["jwks"]["keys"][0]["alg"] == "ES256"
    assert result["discovery"]["id_token_signing_alg_values_supported"] == ["ES256"]
    assert result["discovery"]["jwks_uri"] == ISSUER + "/keys.json"


def test_check_mode_writes_nothing(capsys, key_files, out):
    """Check mode reports the change without creating the files."""
    args = dict(keys=[key_files["ec"]], issuer=ISSUER, jwks_path=str(out / "keys.json"),
                discovery_path=str(out / "openid-configuration"), mode="0600")
    failed, result = run_module(capsys, check_mode=True, **args)
    assert not failed and result["changed"] is True
    assert os.listdir(out) == []
    # after a real run, check mode reports no change
    run_module(capsys, **args)
    failed, result = run_module(capsys, check_mode=True, **args)
    assert not failed and result["changed"] is False


def test_check_mode_on_changed_content_leaves_file(capsys, keyfactory, key_files, out):
    """An existing file with other content is reported as changing but not touched."""
    target = out / "keys.json"
    target.write_text("old")
    failed, result = run_module(capsys, check_mode=True, diff=True, keys=[key_files["pub"]], issuer=ISSUER, jwks_path=str(target))
    assert not failed and result["changed"] is True
    assert target.read_text() == "old"
    assert result["diff"][0]["before"] == "old"
    assert result["diff"][0]["after"] == expected_texts(keyfactory, ["rsa2048"])[0]


def test_diff_mode_on_new_file(capsys, key_files, out):
    """Diff has before/after text per written file."""
    failed, result = run_module(capsys, diff=True, keys=[key_files["pub"]], issuer=ISSUER,
                                jwks_path=str(out / "keys.json"), discovery_path=str(out / "oc"))
    assert not failed
    headers = [entry["after_header"] for entry in result["diff"]]
    assert headers == [str(out / "keys.json"), str(out / "oc")]
    assert all(entry["before"] == "" for entry in result["diff"])
    assert result["diff"][1]["after"] == (out / "oc").read_text()


def test_file_mode_is_applied_and_idempotent(capsys, key_files, out):
    """mode is applied on creation, changes are detected (also in check mode) and applied."""
    args = dict(keys=[key_files["pub"]], issuer=ISSUER, jwks_path=str(out / "keys.json"))
    run_module(capsys, mode="0640", **args)
    assert stat.S_IMODE(os.stat(out / "keys.json").st_mode) == 0o640
    failed, result = run_module(capsys, check_mode=True, diff=True, mode="0600", **args)
    assert not failed and result["changed"] is True
    assert stat.S_IMODE(os.stat(out / "keys.json").st_mode) == 0o640
    assert result["diff"][0]["before"] == {"mode": "0640"} and result["diff"][0]["after"] == {"mode": "0600"}
    failed, result = run_module(capsys, mode="0600", **args)
    assert result["changed"] is True
    assert stat.S_IMODE(os.stat(out / "keys.json").st_mode) == 0o600
    failed, result = run_module(capsys, mode="0600", **args)
    assert result["changed"] is False


def test_rotation_adds_a_key_and_changes(capsys, key_files, out):
    """Adding the new key of a rotation changes keys.json but not the discovery document."""
    args = dict(issuer=ISSUER, jwks_path=str(out / "keys.json"), discovery_path=str(out / "oc"))
    run_module(capsys, keys=[key_files["pub"]], **args)
    discovery_before = (out / "oc").read_bytes()
    failed, result = run_module(capsys, diff=True, keys=[key_files["pub"], key_files["private"], key_files["pub"]], **args)
    assert not failed and result["changed"] is True
    assert len(result["jwks"]["keys"]) == 2
    assert (out / "oc").read_bytes() == discovery_before
    assert [entry["after_header"] for entry in result["diff"]] == [str(out / "keys.json")]


@pytest.mark.parametrize("bad", ["rsa1024", "encrypted", "certificate", "garbage", "missing", "dsa"])
def test_bad_key_fails_and_writes_nothing(capsys, keyfactory, key_files, out, bad):
    """One bad key among good ones: failure, no file created, existing file untouched."""
    bad_item = {
        "rsa1024": keyfactory.traditional_pem("rsa1024"),
        "encrypted": keyfactory.encrypted_pkcs8_pem("rsa2048"),
        "certificate": keyfactory.certificate_pem("rsa2048"),
        "garbage": "-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC KEY-----\n",
        "missing": str(out / "nope.pem"),
        "dsa": keyfactory.pkcs8_pem("dsa"),
    }[bad]
    (out / "openid-configuration").write_text("previous")
    failed, result = run_module(capsys, keys=[key_files["pub"], bad_item], issuer=ISSUER,
                                jwks_path=str(out / "keys.json"), discovery_path=str(out / "openid-configuration"))
    assert failed
    assert result["msg"].startswith("keys[1] ")
    assert result["errors"] == [result["msg"]]
    assert sorted(os.listdir(out)) == ["openid-configuration"]
    assert (out / "openid-configuration").read_text() == "previous"
    assert "jwks" not in result


@pytest.mark.parametrize("issuer,fragment", [
    ("http://x.example.com", "https://"),
    ("https://x.example.com:443", "port"),
    ("https://x.example.com?a=1", "query"),
    ("https://x.example.com#f", "fragment"),
    ("https://x.example.com/", "end with '/'"),
])
def test_bad_issuer_fails_and_writes_nothing(capsys, key_files, out, issuer, fragment):
    """An unusable issuer fails the task before any write."""
    failed, result = run_module(capsys, keys=[key_files["pub"]], issuer=issuer, jwks_path=str(out / "keys.json"))
    assert failed
    assert fragment in result["msg"] and "issuer %r is not valid" % issuer in result["msg"]
    assert os.listdir(out) == []


def test_all_problems_reported_together(capsys, keyfactory, out):
    """Issuer and every bad key are reported in one failure."""
    failed, result = run_module(capsys, keys=[keyfactory.spki_pem("rsa1024"), "not a key\n"], issuer="http://x/",
                                jwks_path=str(out / "missing-dir" / "keys.json"))
    assert failed
    assert len(result["errors"]) == 4
    assert "does not exist; create it first" in result["errors"][3]


def test_destination_problems(capsys, key_files, out):
    """Missing directory, a directory as destination, the same file twice."""
    failed, result = run_module(capsys, keys=[key_files["pub"]], issuer=ISSUER, jwks_path=str(out / "no" / "keys.json"))
    assert failed and "does not exist" in result["msg"]
    failed, result = run_module(capsys, keys=[key_files["pub"]], issuer=ISSUER, jwks_path=str(out))
    assert failed and "is a directory" in result["msg"]
    failed, result = run_module(capsys, keys=[key_files["pub"]], issuer=ISSUER,
                                jwks_path=str(out / "x"), discovery_path=str(out / "x"))
    assert failed and "must be different files" in result["msg"]
    assert os.listdir(out) == []


def _encodings_of(secret):
    """Base64 fragments that any base64/base64url encoding of ``secret``'s bytes must contain, whatever the alignment."""
    data = secret.to_bytes((secret.bit_length() + 7) // 8, "big")
    fragments = []
    for shift in range(3):
        chunk = data[shift:]
        chunk = chunk[:(len(chunk) // 3 - 1) * 3]
        fragments.append(base64.b64encode(chunk).decode())
    return fragments


def assert_no_secret(raw, secrets):
    """No private number appears in ``raw``, in decimal, hex or any base64 alignment."""
    normalised = raw.replace("-", "+").replace("_", "/")
    for secret in secrets:
        assert str(secret) not in raw
        assert format(secret, "x") not in raw.lower()
        for fragment in _encodings_of(secret):
            assert fragment not in normalised


def test_no_private_key_material_in_output(capsys, keyfactory, out):
    """Inline private keys: no private number (d, p, q, ...) appears in the result, diff or files."""
    pem_rsa = keyfactory.traditional_pem("rsa2048#3")
    pem_ec = keyfactory.pkcs8_pem("P-521")
    failed, result = run_module(capsys, diff=True, keys=[pem_rsa, pem_ec], issuer=ISSUER,
                                jwks_path=str(out / "keys.json"), discovery_path=str(out / "oc"))
    assert not failed
    raw = result["_raw"]
    assert "PRIVATE" not in raw
    rsa_numbers = keyfactory.private("rsa2048#3").private_numbers()
    secrets = [rsa_numbers.d, rsa_numbers.p, rsa_numbers.q, rsa_numbers.dmp1, rsa_numbers.dmq1, rsa_numbers.iqmp,
               keyfactory.private("P-521").private_numbers().private_value]
    assert_no_secret(raw, secrets)
    assert_no_secret((out / "keys.json").read_text(), secrets)
    for jwk in result["jwks"]["keys"]:
        assert not set(jwk) & {"d", "p", "q", "dp", "dq", "qi"}


def test_secret_check_detects_a_leak(keyfactory):
    """The leak detector itself finds a private exponent, base64url-encoded, at any offset."""
    d = keyfactory.private("rsa2048#3").private_numbers().d
    data = d.to_bytes((d.bit_length() + 7) // 8, "big")
    for prefix in (b"", b"x", b"xy"):
        leaked = base64.urlsafe_b64encode(prefix + data).decode()
        with pytest.raises(AssertionError):
            assert_no_secret('{"d": "%s"}' % leaked, [d])


def test_bad_inline_private_key_message_hides_the_key(capsys, keyfactory):
    """Even failures caused by a private key do not echo it."""
    pem = keyfactory.traditional_pem("rsa1024")
    failed, result = run_module(capsys, keys=[pem], issuer=ISSUER)
    assert failed and "keys[0] (inline PEM): RSA key of 1024 bits" in result["msg"]
    for line in pem.splitlines()[1:-1]:
        assert line not in result["_raw"]


def test_missing_cryptography(capsys, monkeypatch, key_files):
    """Without cryptography the module fails with the standard missing-library message."""
    monkeypatch.setattr(jwks_generate, "HAS_CRYPTOGRAPHY", False)
    monkeypatch.setattr(jwks_generate, "CRYPTOGRAPHY_IMPORT_ERROR", "ImportError: no cryptography")
    failed, result = run_module(capsys, keys=[key_files["pub"]], issuer=ISSUER)
    assert failed and "cryptography" in result["msg"]


def test_write_failure_is_reported(capsys, key_files, out, monkeypatch):
    """An I/O error while writing fails cleanly and leaves no temporary file."""
    def broken_move(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(basic.AnsibleModule, "atomic_move", broken_move)
    failed, result = run_module(capsys, keys=[key_files["pub"]], issuer=ISSUER, jwks_path=str(out / "keys.json"))
    assert failed and "cannot write" in result["msg"] and "No space left" in result["msg"]
    assert os.listdir(out) == []
