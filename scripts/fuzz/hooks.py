"""What scripts/fuzz-api.sh adds to schemathesis: real files for the two uploads, and a check that
keeps the few 422s a schema-valid request may get down to the refusals the schema cannot know.

Loaded through SCHEMATHESIS_HOOKS. Nothing here switches a check off: schemathesis.toml lets 422
through `positive_data_acceptance` on the operations below only, and `refusals_name_state` then
fails every such 422 that is not one of the refusals listed for that operation.
"""

import base64
import os
import re

import schemathesis
from hypothesis import strategies as st

# The document names the upload's file types (`encoding.contentType` of the part `file`), but no
# schema can say "a PNG that decodes" or "a CSV with the menu's columns": these give the fuzzer
# such files. A 1x1 grey PNG; and the demo menu as the server itself exported it at start-up.
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)
schemathesis.openapi.media_type("image/png", st.just(PNG_1X1))
_menu_csv = os.environ.get("FUZZ_MENU_CSV")
if _menu_csv:
    with open(_menu_csv, "rb") as exported:
        schemathesis.openapi.media_type("text/csv", st.just(exported.read()))

# Refusals that depend on what the server holds or on the clock, never on the request's shape:
# a random UUID in a body names no real area, dish or spec; the demo store keeps opening hours
# (and the fuzzer may pause it); min/max selections are bounded by how many options a group has,
# and spec codes must differ from each other, which JSON Schema cannot compare. Each is documented on its operation's 422 with its code.
# Per operation: top-level codes allowed, and for VALIDATION_FAILED the (field pattern, code)
# pairs that every detail must match.
REFERENCE = (r".*", "UNKNOWN_REFERENCE")
SELECT_BOUNDS = [
    (r".*\.(min_select|max_select)", "OUT_OF_RANGE"),
    (r".*\.min_select", "MIN_ABOVE_MAX"),
]
CART_STATE = {
    "STORE_CLOSED",
    "LINE_PROBLEMS",
    "OUTSIDE_DELIVERY_ZONES",
    "BELOW_MINIMUM_ORDER",
    "DELIVERY_ADDRESS_REQUIRED",
}
DISH = {
    "codes": {"UNKNOWN_CATEGORY", "UNKNOWN_STATION", "UNKNOWN_IMAGE", "UNKNOWN_SKU"},
    # Spec codes are unique within the dish (and the brand): uniqueness by a property is
    # beyond JSON Schema's `uniqueItems`.
    "details": [REFERENCE, *SELECT_BOUNDS, (r"skus\[\d+\]\.code", "DUPLICATE")],
}
PRINTER = {
    # An `agent` printer names its agent (a sibling field decides): AGENT_REQUIRED, UNKNOWN_AGENT.
    "codes": {"UNKNOWN_STATION", "UNKNOWN_FALLBACK", "FALLBACK_IS_SELF", "AGENT_REQUIRED", "UNKNOWN_AGENT"},
    # Stations must differ, which utoipa cannot state as uniqueItems.
    "details": [(r"address", "INVALID_CHARACTERS"), (r"stations", "DUPLICATE")],
}
# A promotion's or coupon's rule is the domain's own JSON, documented as an object: what it
# says (a zero amount, tiers that fall, an unreadable kind) is checked by the domain.
RULE_PROBLEMS = [
    (r".*", code)
    for code in (
        "UNREADABLE", "MUST_BE_POSITIVE", "MUST_NOT_BE_NEGATIVE", "TOO_LARGE", "MIN_ABOVE_MAX",
        "OUT_OF_RANGE", "REQUIRED", "UNKNOWN_REFERENCE", "EMPTY", "TOO_LONG", "INVALID_CHARACTERS",
        "INVALID_TIME",
    )
]
RULE = {"codes": set(), "details": RULE_PROBLEMS}
# `chosen` names offers as `promotion:<id>` / `coupon:<id>`; the chosen offers may not apply.
CHOSEN = (r"chosen\[\d+\]", "UNKNOWN_REFERENCE")

STATE_REFUSALS = {
    "POST /api/v1/stores/{store_id}/quote": {
        "codes": CART_STATE | {"OFFERS_REFUSED"},
        "details": [CHOSEN],
    },
    "POST /api/v1/stores/{store_id}/orders": {
        "codes": CART_STATE | {"INVALID_PICKUP_TIME", "OFFERS_REFUSED"},
        "details": [CHOSEN],
    },
    "POST /api/v1/console/promotions": RULE,
    "PUT /api/v1/console/promotions/{promotion_id}": RULE,
    "POST /api/v1/console/coupon-templates": RULE,
    "PUT /api/v1/console/coupon-templates/{template_id}": RULE,
    "POST /api/v1/console/stores/{store_id}/promotions/preview": {
        "codes": CART_STATE | {"OFFERS_REFUSED"},
        "details": [CHOSEN, (r"at_ms", "INVALID_TIME")],
    },
    "POST /api/v1/console/stores/{store_id}/tables": {"codes": set(), "details": [REFERENCE]},
    "POST /api/v1/console/dishes": DISH,
    "PUT /api/v1/console/dishes/{dish_id}": DISH,
    "POST /api/v1/console/stores/{store_id}/printers": PRINTER,
    "PUT /api/v1/console/stores/{store_id}/printers/{printer_id}": PRINTER,
    # Amber no later than red: two fields compared, beyond JSON Schema.
    "PUT /api/v1/console/kitchen/stations/{station_id}/prep": {
        "codes": {"PREP_TARGET_INVALID"},
        "details": [],
    },
    # 派单: exactly one of rider_id and courier; a rider of this store; a configured courier.
    "POST /api/v1/console/stores/{store_id}/orders/{order_id}/deliveries": {
        "codes": {"NOT_A_RIDER"},
        "details": [
            (r"rider_id", "INVALID_CHOICE"),
            (r"courier", "INVALID_CHOICE"),
            (r"courier", "INVALID_CHARACTERS"),
        ],
    },
    # A recharge is positive, an adjustment signed: the sibling `kind` decides.
    "POST /api/v1/console/members/{customer_id}/balance": {
        "codes": set(),
        "details": [(r"amount_fen", "MUST_BE_POSITIVE")],
    },
    # 会员: rules across fields (thresholds rising, bonus at most the amount paid, a redemption
    # positive while an adjustment is signed, a date of the year, a phone number's shape).
    "PUT /api/v1/console/membership": {
        "codes": {"BAD_LEVELS", "BAD_POINTS_RULE", "BAD_RECHARGE_TIERS"},
        "details": [],
    },
    "POST /api/v1/console/members/{customer_id}/points": {
        "codes": {"BAD_POINTS_AMOUNT"},
        "details": [(r"reason", "REQUIRED")],
    },
    "GET /api/v1/console/members": {
        "codes": set(),
        "details": [(r"phone", "INVALID_CHARACTERS")],
    },
    "PUT /api/v1/customer/membership/birthday": {"codes": {"BAD_BIRTHDAY"}, "details": []},
    "POST /api/v1/customer/recharges": {
        "codes": set(),
        "details": [(r"payment\.use_balance", "INVALID_CHOICE"), (r"payer", "INVALID_CHARACTERS"),
                    (r"return_path", "INVALID_CHARACTERS")],
    },
    # A campaign's texts are not blank after trimming and carry no control characters; a
    # recent-diners audience names its days (a sibling `kind` decides).
    "POST /api/v1/console/campaigns": {
        "codes": set(),
        "details": [
            (r"title|body", "REQUIRED"),
            (r"title|body", "INVALID_CHARACTERS"),
            (r"audience\.days", "OUT_OF_RANGE"),
        ],
    },
    "POST /api/v1/console/campaigns/preview": {
        "codes": set(),
        "details": [(r"audience\.days", "OUT_OF_RANGE")],
    },
    # Template ids are printable ASCII, as WeChat issues them.
    "POST /api/v1/customer/subscribe-consents": {
        "codes": set(),
        "details": [(r"answers", "INVALID_CHARACTERS")],
    },
}


@schemathesis.check
def refusals_name_state(ctx, response, case):
    """A schema-valid request refused with 422 only for one of its operation's listed reasons."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    allowed = STATE_REFUSALS.get(case.operation.label)
    if allowed is None:
        # positive_data_acceptance already fails a 422 on every other operation.
        return None
    try:
        error = response.json()["error"]
    except Exception:
        raise AssertionError("a 422 without an ErrorBody")
    code = error.get("code")
    if code in allowed["codes"]:
        return None
    details = error.get("details") or []
    if code == "VALIDATION_FAILED" and details:
        unexplained = [
            d
            for d in details
            if not any(
                re.fullmatch(field, d.get("field", "")) and d.get("code") == detail_code
                for field, detail_code in allowed["details"]
            )
        ]
        if not unexplained:
            return None
        raise AssertionError(
            "Schema-valid request refused for a rule the schema does not state: "
            + ", ".join(f"{d.get('field')} {d.get('code')}" for d in unexplained)
        )
    raise AssertionError(f"Schema-valid request refused with 422 {code}, not a state refusal")
