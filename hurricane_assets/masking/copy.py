"""`copy_masked`: a prod Delta table becomes a masked Delta table in a lower environment.

Read, check, mask, then one overwrite commit: a failure anywhere before the commit leaves the
previous version of the target untouched, and drift or an unclassified column writes nothing at all.
The privacy report goes next to the table (`_privacy_report.json`, which Delta ignores), or under
the reports folder when the table is on S3.
"""

from __future__ import annotations

from pathlib import Path

from deltalake import write_deltalake

from hurricane_assets.catalog.catalog import Catalog
from hurricane_assets.masking.engine import mask_table
from hurricane_assets.masking.kanonymity import DEFAULT_K
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.plans import PROD, MaskingPlan, PlanError, default_plan
from hurricane_assets.masking.report import PrivacyReport
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import is_s3, open_table, read_table, storage_options

REPORT_NAME = "_privacy_report.json"


def copy_masked(
    catalog: Catalog,
    domain: str,
    dataset: str,
    env: str,
    *,
    plan: MaskingPlan | None = None,
    keyring: Keyring | None = None,
    k: int = DEFAULT_K,
    source_uri: str | None = None,
    target_uri: str | None = None,
) -> PrivacyReport:
    """Mask `domain.dataset` from prod into `env` (preprod or dev) and return the privacy report."""
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

    result = mask_table(read_table(source_uri), plan, keyring, k=k)
    options = storage_options(target_uri) or None
    write_deltalake(target_uri, result.table, mode="overwrite", schema_mode="overwrite", storage_options=options)
    version = open_table(target_uri).version()
    report = result.report.model_copy(update={"source_uri": source_uri, "target_uri": target_uri,
                                              "target_version": version})
    _write_report(report_path(target_uri, env, domain, dataset), report)
    return report


def report_path(target_uri: str, env: str, domain: str, dataset: str) -> Path:
    """Next to a local table; under `hurricane_paths().reports` when the table lives on S3."""
    if is_s3(target_uri):
        return hurricane_paths().reports / "masking" / env / domain / f"{dataset}.json"
    return Path(target_uri) / REPORT_NAME


def _write_report(path: Path, report: PrivacyReport) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(report.to_json())
    tmp.replace(path)
