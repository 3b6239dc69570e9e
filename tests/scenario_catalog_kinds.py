"""Incidents other than a code defect in the last deploy, and what a good on-call engineer concludes.

Each entry is a ScenarioSpec whose logs come from `incident.scenario_stories` and an `Expect`
that pins every phase: classification, severity, onset, suspect, the first mitigation, the
root-cause category, verify and the kind of action items the review must raise.
"""

from __future__ import annotations

from datetime import timedelta

from incident.scenario import DeploySpec, ScenarioSpec

_OLD = (DeploySpec("41", -60 * 24 * 3, version="2.3.0"), DeploySpec("42", -60 * 24 * 2, version="2.3.1"))
_CONFIG_V1 = "shipping:\n  rates_table: rates_2026\n  express: false\npayments:\n  timeout_ms: 3000\n"
_CONFIG_V2 = _CONFIG_V1.replace("rates_2026", "rates_2027")
_SHIPPING_FLAGGED = (
    "from checkout import flags, settings\n\nRATES = {\"eu\": 4.5, \"us\": 6.0}\n\n\n"
    "def quote(cart, address):\n"
    "    if flags.enabled('express_quotes'):\n"
    "        return RATES[settings.RATES_TABLE].get(address.region, 9.0)\n"
    "    return RATES.get(address.region, 9.0)\n"
)
_LEAKY_CACHE = (
    "package com.shop.catalog.cache;\n\nimport java.util.concurrent.ConcurrentHashMap;\n\n"
    "public final class PriceCache {\n"
    "    // Prices per (product, customer segment, currency); entries are never evicted.\n"
    "    private final ConcurrentHashMap<String, byte[]> entries = new ConcurrentHashMap<>();\n\n"
    "    public void put(String key, byte[] rendered) {\n        entries.put(key, rendered);\n    }\n}\n"
)
_MIGRATION = (
    '"""rename orders.shipping_zone to zone_code; fold order_totals_v1 into orders\n\n'
    "Revision ID: 0042\nRevises: 0041\n\"\"\"\nfrom alembic import op\n\n\n"
    "def upgrade():\n"
    "    op.alter_column('orders', 'shipping_zone', new_column_name='zone_code')\n"
    "    op.drop_table('order_totals_v1')\n\n\n"
    "def downgrade():\n"
    "    raise NotImplementedError('order_totals_v1 cannot be rebuilt')\n"
)
_SETTINGS_ENV = (
    "import os\n\nRATES_TABLE = os.environ.get('RATES_TABLE', 'rates_2026')\n"
    "# Payments moved behind the internal gateway; the URL now comes from the environment.\n\n\n\n"
    'PAYMENTS_URL = os.environ["PAYMENTS_URL"]\n'
)


def kinds() -> dict[str, tuple[ScenarioSpec, dict[str, object]]]:
    """name -> (spec, expectations) for `tests.scenario_catalog.Expect`."""
    return {
        "config-change": (
            ScenarioSpec(
                story="config", symptom="checkout returns 500 errors",
                deploys=(DeploySpec("41", -60 * 24 * 3, version="2.3.0", files={"checkout/config/production.yaml": _CONFIG_V1}),
                         DeploySpec("42", -60 * 24 * 2, version="2.3.1"),
                         DeploySpec("43", -3, version="2.3.2", files={"checkout/config/production.yaml": _CONFIG_V2},
                                    message="config: switch shipping rates table to rates_2027")),
            ),
            dict(classification="active", suspect="43", rollback_target="42", first_kind="rollback",
                 category="configuration error", items=("configuration",)),
        ),
        "flag-flip": (
            ScenarioSpec(
                story="config", symptom="checkout returns 500 errors",
                deploys=(DeploySpec("41", -60 * 24 * 3, version="2.3.0"),
                         DeploySpec("42", -60 * 20, version="2.4.0", files={"checkout/shipping.py": _SHIPPING_FLAGGED},
                                    message="Express quotes behind the express_quotes flag"),
                         DeploySpec("f-118", -2, version="2.4.0", files={},
                                    message="feature flag express_quotes: off -> on (100% of traffic)")),
            ),
            dict(classification="active", suspect="f-118", rollback_target=None, first_kind="feature-flag",
                 category="code defect", items=("flags out in stages",)),
        ),
        "db-saturation": (
            ScenarioSpec(story="db-saturation", symptom="checkout slow and failing", deploys=_OLD),
            dict(classification="active", suspect=None, first_kind="rate-limit", category="infrastructure / capacity issue",
                 items=("pool",), not_first=("scale", "failover")),
        ),
        "memory-leak": (
            ScenarioSpec(
                story="memory-leak", service="catalog", symptom="catalog pods keep restarting, 500s on product pages",
                now_minutes=62, history_minutes=120,
                deploys=(DeploySpec("3.7.4", -60 * 24 * 4, service="catalog", version="3.7.4"),
                         DeploySpec("3.8.0", -60 * 4, service="catalog", version="3.8.0",
                                    files={"catalog/src/main/java/com/shop/catalog/cache/PriceCache.java": _LEAKY_CACHE},
                                    message="Cache rendered prices per customer segment")),
            ),
            dict(classification="active", suspect="3.8.0", suspect_service="catalog", rollback_target="3.7.4",
                 first_kind="rollback", category="code defect", items=("out-of-memory restarts", "soak test")),
        ),
        "disk-full": (
            ScenarioSpec(story="disk-full", symptom="checkout fails to place orders", deploys=_OLD),
            dict(classification="active", suspect=None, first_kind="scale", category="infrastructure / capacity issue",
                 items=("disk",), not_first=("failover",)),
        ),
        "tls-expired": (
            ScenarioSpec(story="tls-expired", symptom="payments failing at checkout", deploys=_OLD),
            dict(classification="active", suspect=None, first_kind="failover", category="external dependency failure",
                 likely_trigger="external factor", items=("certificate expiry",), not_first=("rollback",)),
        ),
        "dns-failure": (
            ScenarioSpec(story="dns", symptom="cart and checkout erroring", deploys=_OLD),
            dict(classification="active", suspect=None, first_kind="failover", category="external dependency failure",
                 likely_trigger="external factor", items=("DNS resolution",), not_first=("rollback",)),
        ),
        "traffic-spike": (
            ScenarioSpec(story="traffic-spike", symptom="shop slow, timeouts and 429s", deploys=_OLD),
            dict(classification="active", suspect=None, first_kind="scale", category="infrastructure / capacity issue",
                 likely_trigger="external factor", items=("autoscale",), not_first=("failover", "rollback")),
        ),
        "crash-loop": (
            ScenarioSpec(
                story="crash-loop", symptom="checkout errors after deploy", now_minutes=20,
                deploys=(*_OLD, DeploySpec("43", -2, version="2.4.0", files={"checkout/settings.py": _SETTINGS_ENV},
                                           message="Read the payments URL from the environment")),
            ),
            dict(classification="active", suspect="43", rollback_target="42", first_kind="rollback", category="code defect",
                 severity=("SEV-1",), items=("restart count",)),
        ),
        "bad-migration": (
            ScenarioSpec(
                story="migration", symptom="checkout returns 500s",
                deploys=(*_OLD, DeploySpec("43", -3, version="2.4.0", message="Rename shipping_zone to zone_code",
                                           files={"checkout/migrations/versions/0042_rename_shipping_zone.py": _MIGRATION})),
            ),
            dict(classification="active", suspect="43", rollback_target="42", first_kind="rollback",
                 category="data integrity issue", risk=("0042_rename_shipping_zone.py", "not reversible"),
                 items=("reversible (expand/contract) migrations",)),
        ),
        "self-recovered": (
            ScenarioSpec(story="self-recovered", symptom="checkout payments were timing out", now_minutes=45, deploys=_OLD),
            dict(classification="post-incident", suspect=None, category="external dependency failure",
                 verify="working", recovered_minutes=14, items=("what ended the incident",)),
        ),
        "slow-burn": (
            ScenarioSpec(story="slow-burn", symptom="product search errors creeping up", now_minutes=240,
                         history_minutes=90, deploys=_OLD),
            dict(classification="degraded", suspect=None, category="infrastructure / capacity issue",
                 severity=("SEV-3",), onset_tolerance=timedelta(minutes=45), gradual=True, items=("burn rate",)),
        ),
    }
