"""`copy_masked`: a prod Delta table becomes a masked Delta table in a lower environment.

Read, check, mask, then one overwrite commit: a failure anywhere before the commit leaves the
previous version of the target untouched, and drift or an unclassified column writes nothing at all.
After the commit every earlier version is removed from storage (`history.py`): no history below prod.
The privacy report goes next to the table (`_privacy_report.json`, which Delta ignores), local or on
S3; a copy that failed closed leaves its report under the domain's reports (on its S3 root if any).
"""

from __future__ import annotations

from pathlib import Path

from deltalake import CommitProperties, write_deltalake

from hurricane_assets import object_files
from hurricane_assets.catalog.catalog import Catalog
from hurricane_assets.masking.engine import mask_table
from hurricane_assets.masking.erasure import (
    erased_columns,
    erasure_applied,
    load_erasures,
    remove_erased,
)
from hurricane_assets.masking.history import keep_only_current_version
from hurricane_assets.masking.kanonymity import KAnonymityError
from hurricane_assets.masking.keys import KEY_ID_PROPERTY, Keyring
from hurricane_assets.masking.measure import PrivacyCheckFailed
from hurricane_assets.masking.plans import PROD, MaskingPlan, PlanError, default_plan
from hurricane_assets.masking.report import PrivacyReport
from hurricane_assets.masking.stream import (
    DeltaBatches,
    mask_stream,
    should_stream,
    write_stream,
)
from hurricane_assets.models.erasure import erase_from_models
from hurricane_assets.object_files import Target, join
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import is_s3, storage_options

REPORT_NAME = "_privacy_report.json"


def copy_masked(
    catalog: Catalog,
    domain: str,
    dataset: str,
    env: str,
    *,
    plan: MaskingPlan | None = None,
    keyring: Keyring | None = None,
    k: int | None = None,
    source_uri: str | None = None,
    target_uri: str | None = None,
    split: bool | None = None,
) -> PrivacyReport:
    """Mask `domain.dataset` from prod into `env` (preprod or dev) and return the privacy report.

    `k` defaults to the manifest's `privacy.k`, counted in persons. A gate that cannot reach it within
    the suppression limit raises `KAnonymityError`, a measured privacy below the manifest's thresholds
    `PrivacyCheckFailed`: nothing is written, and the failed report goes to `failed_report_path`.
    Above `HURRICANE_STREAM_ROWS` source rows the table streams in batches (`stream.py`; the failed
    report then covers the first pass's columns). `split`: see `mask_table`."""
    if env == PROD:
        raise PlanError(f"copy_masked writes lower environments only; {domain}.{dataset} to prod is not a masked copy")
    spec = catalog.dataset(domain, dataset)
    name = f"{domain}.{dataset}"
    if env not in spec.allowed_environments:
        raise PlanError(f"{name} may not be copied to {env}: its manifest allows {', '.join(spec.allowed_environments)}")
    paths = hurricane_paths()
    plan = plan or default_plan(spec, env, name=name, source=f"manifest domains/{domain}/product.yaml")
    if plan.env != env:
        raise PlanError(f"the plan for {plan.dataset} targets {plan.env}, not {env}")
    keyring = keyring or Keyring.load(env)
    if keyring.env != env:
        raise PlanError(f"the keyring is for {keyring.env}; copying {name} to {env} needs the {env} key")
    source_uri = source_uri or paths.table_uri(PROD, domain, dataset)
    target_uri = target_uri or paths.table_uri(env, domain, dataset)

    # persons erased in prod leave before masking (also rows prod keeps of theirs for a legal reason)
    erasures = load_erasures()
    source = DeltaBatches(source_uri, lambda t: remove_erased(t, spec, erasures)[0],
                          needs=erased_columns(spec, erasures))
    options = storage_options(target_uri) or None
    stamp = {KEY_ID_PROPERTY: keyring.key_id}
    gate = {"k": spec.privacy.k if k is None else k, "max_suppression": spec.privacy.max_suppression,
            "thresholds": spec.privacy, "split": split}
    try:
        if should_stream(source.rows):  # larger than memory: two passes over batches (stream.py)
            stream = mask_stream(source, source.schema, plan, keyring, **gate)
            write_stream(target_uri, stream, mode="overwrite", schema_mode="overwrite",
                         storage_options=options, commit_properties=CommitProperties(custom_metadata=stamp))
            masked_report = stream.report
            erased = erasure_applied(erasures, source.removed_per_pass[-1])
        else:
            rows, erased = remove_erased(source.read_all(), spec, erasures)
            result = mask_table(rows, plan, keyring, **gate)
            write_deltalake(target_uri, result.table, mode="overwrite", schema_mode="overwrite",
                            storage_options=options, commit_properties=CommitProperties(custom_metadata=stamp))
            masked_report = result.report
    except (KAnonymityError, PrivacyCheckFailed) as error:
        report = getattr(error, "report", None)
        if report is not None:
            _write_report(failed_report_path(env, domain, dataset),
                          report.model_copy(update={"source_uri": source_uri, "target_uri": target_uri}))
        raise
    version = keep_only_current_version(target_uri, metadata=stamp).version
    # the domain's model store holds rows of this environment's copies too: the register reaches it now
    models = erase_from_models(domain, keyring, erasures, catalog=catalog)
    report = masked_report.model_copy(update={"source_uri": source_uri, "target_uri": target_uri, "target_version": version,
                                              "erasure": {**erased.to_dict(), "model_references": models.to_dict()}})
    _write_report(report_path(target_uri, env, domain, dataset), report)
    return report


def report_path(target_uri: str, env: str, domain: str, dataset: str) -> Target:
    """Next to the table, local or on S3 (`_privacy_report.json`: Delta and its vacuum skip `_` names)."""
    return join(target_uri if is_s3(target_uri) else Path(target_uri), REPORT_NAME)


def failed_report_path(env: str, domain: str, dataset: str) -> Target:
    """Where the report of a copy that failed closed goes (not next to the table, which it did not
    write): the domain's reports, on its own S3 root when it has one (`HurricanePaths.domain_reports`)."""
    return join(join(join(join(hurricane_paths().domain_reports(domain), "masking"), domain), env),
                f"{dataset}.failed.json")


def _write_report(path: Target, report: PrivacyReport) -> None:
    object_files.write_text(path, report.to_json())  # atomic locally (temp + rename), one PUT on S3
