"""The generated incident scenarios the offline engine and the CLI must get right.

Each entry is a ScenarioSpec and what a good on-call engineer would conclude from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from tests.scenario_catalog_kinds import kinds

from incident.scenario import EXAMPLE_SHIPPING, DeploySpec, FailureSpec, ScenarioSpec, example_spec

_SHIPPING_CHANGE = {"checkout/shipping.py": EXAMPLE_SHIPPING}
_PAYMENTS_CHANGE = {"payments/client.py": "def charge(amount):\n    return gateway.post('/v2/charge', amount, timeout=1)\n"}


@dataclass(frozen=True)
class Expect:
    classification: str
    suspect: str | None
    rollback_target: str | None
    likely_trigger: str = "recent change"
    suspect_service: str | None = "checkout"
    severity: tuple[str, ...] = ("SEV-1", "SEV-2")
    extra: dict[str, object] = field(default_factory=dict)
    # Pinned for the kinds of incident in scenario_catalog_kinds (None: not checked).
    first_kind: str | None = None  # the first mitigation's kind
    not_first: tuple[str, ...] = ()  # kinds that must not come first
    category: str | None = None  # diagnose's root-cause category
    risk: tuple[str, ...] = ()  # words the first mitigation's risk must say
    items: tuple[str, ...] = ()  # words some review action item must say
    onset_tolerance: timedelta = timedelta(minutes=2)
    gradual: bool = False  # the onset is an estimate of a slow climb and assess must say so
    recovered_minutes: float | None = None  # verify's recovery, relative to the onset


def _expect(want: dict[str, object]) -> Expect:
    w = dict(want)
    extra = {"verify": w.pop("verify")} if "verify" in w else {}
    w.setdefault("rollback_target", None)
    if w.get("suspect") is None:
        w.setdefault("suspect_service", None)
        w.setdefault("likely_trigger", "unknown")
    return Expect(extra=extra, **w)  # type: ignore[arg-type]


def _bad_deploy(fmt: str = "jsonl", **kw: object) -> ScenarioSpec:
    return ScenarioSpec(
        deploys_format=fmt,  # type: ignore[arg-type]
        deploys=(
            DeploySpec("41", -60 * 50, version="2.3.0"),
            DeploySpec("42", -60 * 20, version="2.3.1", files={"checkout/cart.py": "def load(user):\n    return user.cart or []\n"}),
            DeploySpec("43", -3, version="2.4.0", files=_SHIPPING_CHANGE, message="Add express shipping quotes"),
        ),
        failure=FailureSpec(line=7),
        **kw,  # type: ignore[arg-type]
    )


SCENARIOS: dict[str, tuple[ScenarioSpec, Expect]] = {
    "example": (example_spec(), Expect("active", "6", "4")),
    "bad-deploy-jsonl": (_bad_deploy("jsonl"), Expect("active", "43", "42")),
    "bad-deploy-csv": (_bad_deploy("csv"), Expect("active", "43", "42")),
    "bad-deploy-argocd": (_bad_deploy("argocd"), Expect("active", "43", "42")),
    "bad-deploy-heroku": (_bad_deploy("heroku"), Expect("active", "43", "42")),
    "bad-deploy-github": (_bad_deploy("github"), Expect("active", "43", "42")),
    "other-service-closer": (
        ScenarioSpec(
            deploys=(
                DeploySpec("c-17", -60 * 30, version="3.1.0"),
                DeploySpec("c-18", -7, version="3.2.0", files=_SHIPPING_CHANGE, message="Express shipping"),
                DeploySpec("p-90", -60 * 40, service="payments", version="8.0.0"),
                DeploySpec("p-91", -1, service="payments", version="8.1.0", files=_PAYMENTS_CHANGE, message="Charge API v2"),
            ),
            failure=FailureSpec(line=7),
        ),
        Expect("active", "c-18", "c-17"),
    ),
    "other-service-named-by-traces": (
        ScenarioSpec(
            deploys=(
                DeploySpec("c-17", -60 * 30, version="3.1.0"),
                DeploySpec("c-18", -2, version="3.2.0", files={"checkout/cart.py": "def load(user):\n    return user.cart\n"}),
                DeploySpec("p-90", -60 * 40, service="payments", version="8.0.0"),
                DeploySpec("p-91", -9, service="payments", version="8.1.0", files=_PAYMENTS_CHANGE, message="Charge API v2"),
            ),
            failure=FailureSpec(file="payments/client.py", function="charge", line=2,
                                code="return gateway.post('/v2/charge', amount, timeout=1)",
                                exception="KeyError: 'charge_id'"),
        ),
        Expect("active", "p-91", "p-90", suspect_service="payments"),
    ),
    "external-no-deploy": (
        ScenarioSpec(
            deploys=(DeploySpec("41", -60 * 24 * 3, version="2.3.0"), DeploySpec("42", -60 * 24 * 2, version="2.3.1")),
            failure=FailureSpec(kind="external", exception="httpx.ReadTimeout: timed out waiting for payments.example.net", error_ratio=0.2),
            symptom="checkout payments timing out",
        ),
        Expect("active", None, None, likely_trigger="external factor", suspect_service=None),
    ),
    "rolled-back": (
        ScenarioSpec(
            deploys=(
                DeploySpec("41", -60 * 26, version="2.3.1"),
                DeploySpec("42", -2, version="2.4.0", files=_SHIPPING_CHANGE),
                DeploySpec("43", 10, rollback_to="41", message="rollback to 41"),
            ),
            failure=FailureSpec(line=7), recovered_minutes=12, now_minutes=45,
            symptom="checkout errors after deploy",
        ),
        Expect("post-incident", "42", "41", extra={"verify": "working"}),
    ),
    "failed-deploy-between": (
        ScenarioSpec(
            deploys_format="csv",
            deploys=(
                DeploySpec("10", -60 * 72, version="5.0.0"),
                DeploySpec("11", -60 * 24, version="5.0.1"),
                DeploySpec("12", -30, version="5.1.0", status="failed"),
                DeploySpec("13", -3, version="5.1.1", files=_SHIPPING_CHANGE),
            ),
            failure=FailureSpec(line=7),
        ),
        Expect("active", "13", "11"),
    ),
    "other-timezone": (_bad_deploy("jsonl", log_utc_offset_hours=-5, access_log=True), Expect("active", "43", "42")),
    "rotated-gz": (_bad_deploy("helm", rotated_gz=True), Expect("active", "43", "42")),
    "background-errors": (_bad_deploy("jsonl", background_errors=True), Expect("active", "43", "42")),
    "degraded-small-share": (
        replace(_bad_deploy("jsonl", symptom="some checkouts fail intermittently", requests_per_minute=300),
                failure=FailureSpec(line=7, error_ratio=0.02)),
        Expect("degraded", "43", "42", severity=("SEV-3",)),
    ),
    # Busy logs that begin inside the 6 h window: the empty minutes before them are no baseline.
    "busy-logs-begin-mid-window": (
        _bad_deploy("helm", requests_per_minute=300, baseline_error_ratio=0.005), Expect("active", "43", "42"),
    ),
}

SCENARIOS.update({name: (spec, _expect(want)) for name, (spec, want) in kinds().items()})

ONSET_TOLERANCE = timedelta(minutes=2)
