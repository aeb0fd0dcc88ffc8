import shutil

import pytest

from hurricane_assets.catalog.catalog import default_domains_dir
from hurricane_assets.policy import CedarPolicyGate, PolicyLoadError
from hurricane_assets.policy.source import split_statements

GOOD = '''// contact rules
@id("first")
permit (principal, action == Action::"share", resource)
when { resource.dataset == "profiles" };

'''


def _load(tmp_path, text):
    root = tmp_path / "policies"
    (root / "customers").mkdir(parents=True)
    shutil.copy(default_domains_dir() / "org_policy.cedar", root / "org_policy.cedar")
    path = root / "customers" / "policy.cedar"
    path.write_text(text)
    with pytest.raises(PolicyLoadError) as err:
        CedarPolicyGate(policy_dir=root)
    assert err.value.path == str(path)
    return err.value


def test_syntax_error_names_file_and_line(tmp_path):
    bad = GOOD + '@id("second")\nforbid (principal, action, resource)\nwhen { resource.pii === "EMAIL_ADDRESS" };\n'
    error = _load(tmp_path, bad)
    assert error.line == 8 and "syntax error" in error.reason
    assert str(error).startswith(f"{error.path}:8: ")


def test_unterminated_string_names_its_line(tmp_path):
    error = _load(tmp_path, GOOD + '@id("second")\nforbid (principal, action, resource)\nwhen {\n resource.pii == "EMAIL };\n')
    assert error.line == 9


def test_missing_semicolon_is_reported_near_the_end(tmp_path):
    error = _load(tmp_path, GOOD + '@id("second")\nforbid (principal, action, resource)\nwhen { true }\n')
    assert error.line == 8


def test_unknown_attribute_names_its_line(tmp_path):
    bad = GOOD + '@id("second")\nforbid (principal, action, resource)\nwhen {\n  context.masking == "none" &&\n  resource.sensitivity > 2\n};\n'
    error = _load(tmp_path, bad)
    assert error.line == 10
    assert "sensitivity" in error.reason and "customers/second" in error.reason


def test_unknown_consumer_domain_names_its_line(tmp_path):
    error = _load(tmp_path, GOOD + '@id("second")\npermit (principal == Domain::"rsik", action, resource);\n')
    assert error.line == 7 and "rsik" in error.reason


def test_unknown_value_compared_with_attribute_is_rejected(tmp_path):
    bad = GOOD + '@id("second")\nforbid (principal, action, resource)\nwhen {\n  resource.pii == "NATONAL_ID"\n};\n'
    error = _load(tmp_path, bad)
    assert error.line == 9 and "NATONAL_ID" in error.reason


def test_other_domains_column_in_a_domain_policy_is_rejected(tmp_path):
    bad = GOOD + '@id("second")\nforbid (principal, action, resource)\nwhen { ["card_number"].contains(resource.column) };\n'
    error = _load(tmp_path, bad)
    assert error.line == 8 and "card_number" in error.reason


def test_policy_without_id_and_duplicate_ids_are_rejected(tmp_path):
    assert _load(tmp_path / "a", GOOD + "permit (principal, action, resource);\n").line == 6
    error = _load(tmp_path / "b", GOOD + GOOD.replace("// contact rules\n", ""))
    assert error.line == 6 and "duplicate @id 'first' (first at line 2)" in error.reason


def test_requires_human_forbid_is_rejected(tmp_path):
    error = _load(tmp_path, GOOD + '@id("x")\n@requires_human\nforbid (principal, action, resource);\n')
    assert error.line == 6 and "must be a permit" in error.reason


def test_split_statements_ignores_semicolons_in_strings_and_comments():
    text = '// a; b\n@id("x;y")\npermit (principal, action, resource)\nwhen { context.purpose == "a;b" };\n@id("z")\nforbid (principal, action, resource);'
    statements = split_statements(text)
    assert [(s.first_line, s.last_line) for s in statements] == [(2, 4), (5, 6)]
