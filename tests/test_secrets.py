from __future__ import annotations

import base64
import logging

import pytest

from promoter.adapters.git import auth_environment
from promoter.core import masking


@pytest.mark.parametrize(
    ("url", "clean", "user", "password"),
    [
        ("https://x:sec/ret99@host/env.git", "https://host/env.git", "x", "sec/ret99"),
        ("https://x:p@ss123@host/env.git", "https://host/env.git", "x", "p@ss123"),
        ("https://TOKEN1234@github.com/a/b", "https://github.com/a/b", "TOKEN1234", None),
        ("https://host/org/repo@v1", "https://host/org/repo@v1", None, None),
        ("ssh://git@host/x.git", "ssh://git@host/x.git", None, None),
        ("http://u:pw12@127.0.0.1:8080/r", "http://127.0.0.1:8080/r", "u", "pw12"),
    ],
)
def test_strip_credentials(url: str, clean: str, user: str | None, password: str | None) -> None:
    assert masking.strip_credentials(url) == (clean, user, password)


def test_mask_hides_registered_values_and_url_passwords() -> None:
    masking.register("ghp_registeredTOKEN")
    text = "token ghp_registeredTOKEN in https://bot:unregistered-pw@h/x and ssh://git@h/y"
    assert masking.mask(text) == "token *** in https://bot:***@h/x and ssh://git@h/y"


def test_logging_filter_masks_arguments(caplog: pytest.LogCaptureFixture) -> None:
    masking.register("glpat-logged-secret")
    logger = logging.getLogger("promoter.test")
    logger.addFilter(masking.MaskingFilter())
    with caplog.at_level(logging.INFO, logger="promoter.test"):
        logger.info("pushing with %s", "glpat-logged-secret")
    assert caplog.records[0].getMessage() == "pushing with ***"


def _basic(env: dict[str, str]) -> str:
    return base64.b64decode(
        env["GIT_CONFIG_VALUE_0"].removeprefix("Authorization: Basic ")
    ).decode()


def test_auth_environment_users_per_token_source() -> None:
    url = "https://git.example/acme/env.git"
    assert (
        _basic(auth_environment(url, {"GITHUB_TOKEN": "gh-token-1"})) == "x-access-token:gh-token-1"
    )
    assert _basic(auth_environment(url, {"GITLAB_TOKEN": "gl-token-1"})) == "oauth2:gl-token-1"
    both = {
        "PROMOTER_GIT_TOKEN": "p-token-1",
        "GITHUB_TOKEN": "gh-token-1",
        "PROMOTER_GIT_USERNAME": "bot",
    }
    assert _basic(auth_environment(url, both)) == "bot:p-token-1"
    assert (
        _basic(auth_environment("https://TOKEN9999@git.example/r", {}))
        == "x-access-token:TOKEN9999"
    )


def test_auth_environment_without_token_or_over_ssh_adds_no_header() -> None:
    assert "GIT_CONFIG_COUNT" not in auth_environment("https://git.example/r", {})
    assert "GIT_CONFIG_COUNT" not in auth_environment(
        "git@git.example:r.git", {"GITHUB_TOKEN": "t-1234"}
    )
    assert auth_environment("https://h/r", {})["GIT_TRACE_REDACT"] == "1"


def test_auth_environment_appends_to_existing_config_entries() -> None:
    env = auth_environment("https://h/r", {"GITHUB_TOKEN": "tok-12345", "GIT_CONFIG_COUNT": "2"})
    assert env["GIT_CONFIG_COUNT"] == "3"
    assert env["GIT_CONFIG_KEY_2"] == "http.https://h/.extraHeader"  # only for that host
    bad = auth_environment("https://h/r", {"GITHUB_TOKEN": "tok-12345", "GIT_CONFIG_COUNT": "x"})
    assert bad["GIT_CONFIG_COUNT"] == "1"


def test_tokens_are_not_sent_over_plain_http_except_to_loopback() -> None:
    import pytest

    from promoter.errors import InputError

    with pytest.raises(InputError, match="plain http"):
        auth_environment("http://git.example/r.git", {"GITHUB_TOKEN": "tok-12345"})
    local = auth_environment("http://127.0.0.1:8080/r.git", {"GITHUB_TOKEN": "tok-12345"})
    assert local["GIT_CONFIG_KEY_0"] == "http.http://127.0.0.1:8080/.extraHeader"
    allowed = auth_environment(
        "http://git.example/r.git", {"GITHUB_TOKEN": "tok-12345", "PROMOTER_ALLOW_HTTP_TOKEN": "1"}
    )
    assert "GIT_CONFIG_VALUE_0" in allowed
