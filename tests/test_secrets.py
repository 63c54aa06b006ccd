"""No secret from the environment ends up in a run's config, logs, hyperparameters or checkpoints."""

from __future__ import annotations

from test_cli import TINY_FIT

from gan_zoo.cli import main

SECRETS = {
    "WANDB_API_KEY": "wandb-secret-0123456789abcdef0123456789abcdef",
    "HF_TOKEN": "hf_secretTokenValue0123456789",
    "GITHUB_TOKEN": "ghp_secretTokenValue0123456789",
}


def test_environment_secrets_stay_out_of_the_run_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    main(["fit", *TINY_FIT])
    files = [p for p in (tmp_path / "runs").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"config.yaml", "last.ckpt", "hparams.yaml"}
    for path in files:
        content = path.read_bytes()
        for name, value in SECRETS.items():
            assert value.encode() not in content, f"{name} leaked into {path}"
