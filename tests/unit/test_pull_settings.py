"""What a data engineer types into storeops.yml and the secrets file, read the way they
meant it or refused with one line that says what to write instead."""

import pytest

from orchestration.pull.credentials import CredentialError, credential, redact
from orchestration.pull.shopify import ShopifySettings


@pytest.mark.parametrize("typed", ["my-store.myshopify.com", "https://my-store.myshopify.com/admin",
                                   "  My-Store.myshopify.com/ ", "http://my-store.myshopify.com"])
def test_the_shop_is_its_domain_however_it_was_pasted(typed):
    assert ShopifySettings.from_config({"shop": typed}).shop == "my-store.myshopify.com"


def test_a_wrong_shop_or_a_stray_key_is_named():
    with pytest.raises(ValueError, match="needs shop: <name>.myshopify.com .* got 'my store'"):
        ShopifySettings.from_config({"shop": "my store"})
    with pytest.raises(ValueError, match=r"unknown keys \['shpo'\] \(known: .*shop"):
        ShopifySettings.from_config({"shpo": "my-store.myshopify.com"})
    with pytest.raises(ValueError, match="initial_days must be a whole number"):
        ShopifySettings.from_config({"shop": "a.myshopify.com", "initial_days": 0})
    assert ShopifySettings.from_config({"shop": "a.myshopify.com"}).initial_days == 60


def test_the_secrets_file_takes_export_lines_quotes_and_comments(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.env"
    secrets.write_text("# storeops\nexport SHOPIFY_ACCESS_TOKEN=\"shpat_from_file\"\n"
                       "META_ACCESS_TOKEN='EAA_meta'\n")
    monkeypatch.setenv("STOREOPS_SECRETS_FILE", str(secrets))
    monkeypatch.delenv("SHOPIFY_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("META_ACCESS_TOKEN", raising=False)
    assert credential("SHOPIFY_ACCESS_TOKEN", purpose="token") == "shpat_from_file"
    assert credential("META_ACCESS_TOKEN", purpose="token") == "EAA_meta"
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_env_wins")
    assert credential("SHOPIFY_ACCESS_TOKEN", purpose="token") == "shpat_env_wins"
    with pytest.raises(CredentialError, match="^TIKTOK_ACCESS_TOKEN is not set"):
        credential("TIKTOK_ACCESS_TOKEN", purpose="token")


def test_redact_cuts_secrets_and_any_quoted_authorization_value():
    text = ("proxy said: Authorization: Basic b3BzQHN0b3JlOnNlY3JldA== and "
            "authorization: bearer EAAabc123456 for token secret-value")
    out = redact(text, "secret-value")
    assert out == ("proxy said: Authorization: Basic *** and authorization: bearer *** "
                   "for token ***")


def test_an_api_nobody_answers_is_one_line_naming_the_host(tmp_path):
    import socket
    from datetime import date

    from orchestration.pull.credentials import PullError
    from orchestration.pull.meta import MetaSettings, pull_insights

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = MetaSettings(account_id="42", base_url=f"http://127.0.0.1:{port}/")
    with pytest.raises(PullError) as failed:
        pull_insights(tmp_path / "h", tmp_path / "l", settings, timezone="UTC",
                      token="EAA_planted", today=date(2026, 11, 2), backoff=0.01, max_attempts=2)
    assert str(failed.value) == (f"meta: cannot connect to http://127.0.0.1:{port} after "
                                 "retries: [Errno 111] Connection refused")


@pytest.mark.parametrize("source, good", [
    ("meta", {"account_id": "act_42"}), ("google_ads", {"customer_id": "123-456-7890", "client_id": "c"}),
    ("tiktok", {"advertiser_id": "7001"}), ("gorgias", {"domain": "d", "username": "u@d.com"}),
    ("zendesk", {"subdomain": "d", "email": "u@d.com"}), ("shopify", {"shop": "a.myshopify.com"})])
def test_every_source_reads_its_section_the_same_way(source, good):
    from orchestration.pull.sources import source_settings

    settings = source_settings(source, good, "storeops.yml")
    assert settings.freshness_hours == 26.0
    with pytest.raises(ValueError, match=rf"^storeops.yml: sources: {source}: unknown keys "
                                         r"\['token'\] \(known: .*freshness_hours"):
        source_settings(source, {**good, "token": "x"}, "storeops.yml")
    with pytest.raises(ValueError, match=rf"^storeops.yml: sources: {source}: needs "):
        source_settings(source, {}, "storeops.yml")
    with pytest.raises(ValueError, match="freshness_hours must be a number of hours above 0"):
        source_settings(source, {**good, "freshness_hours": 0}, "storeops.yml")
