"""Plain facts about the Pardot v3/v4 Opportunity API, shared by the client and the simulator.

Only data lives here (no behaviour), so that the simulator can share it without sharing the
client's request builder or parser.
"""

from __future__ import annotations

from typing import Final

API_VERSIONS: Final = (3, 4)
WIRE_FORMATS: Final = ("json", "xml")

OPERATIONS: Final = ("create", "read", "query", "update", "delete", "undelete")

#: Largest page a query returns (``output=mobile`` excepted).
MAX_LIMIT: Final = 200
#: Requests Pardot lets one business unit have in flight; more get code 66.
MAX_CONCURRENT_REQUESTS: Final = 5

SORT_FIELDS: Final = ("created_at", "id", "probability", "value")
SORT_ORDERS: Final = ("ascending", "descending")
#: Documented default order for each ``sort_by`` field.
DEFAULT_SORT_ORDER: Final = {
    "created_at": "descending",
    "id": "ascending",
    "probability": "descending",
    "value": "descending",
}
OUTPUTS: Final = ("full", "simple", "mobile", "bulk")
STATUSES: Final = ("won", "lost", "open")
DATE_KEYWORDS: Final = ("today", "yesterday", "last_7_days", "this_month", "last_month")

PROSPECT_EMAIL_MAX_LENGTH: Final = 255

#: Visitor activity types that concern opportunities.
OPPORTUNITY_ACTIVITY_TYPES: Final = {
    8: "New Opportunity",
    9: "Opportunity Won",
    10: "Opportunity Lost",
    18: "Opportunity Reopened",
    19: "Opportunity Linked",
    38: "Opportunity Unlinked",
}

#: Pardot's error messages, exactly as the server words them, for the codes this API can return.
ERROR_MESSAGES: Final = {
    1: "Invalid API key or user key",
    2: "Invalid action",
    3: "Invalid prospect ID",
    4: "Invalid prospect email address",
    5: "Invalid query parameters",
    7: "Invalid timestamp",
    8: "Invalid time range",
    13: "One or more required parameters are missing",
    15: "Login failed",
    16: "Invalid ID",
    17: "Invalid ID range",
    19: "Invalid value specified for sort_by",
    20: "Invalid value specified for sort_order",
    21: "Invalid value specified for offset",
    22: "Unsupported feature in this version of the API",
    23: "Invalid value specified for limit",
    35: "Invalid opportunity ID",
    36: "One or more required parameter values are missing",
    37: "A Salesforce connector was detected",
    38: "Invalid campaign ID",
    40: "Invalid opportunity probability",
    41: "Invalid probability range specified",
    42: "Invalid opportunity value",
    43: "Invalid opportunity value range specified",
    44: "The provided prospect_id and prospect_email parameters do not match",
    46: "This API user lacks sufficient permissions for the requested operation",
    49: "Access Denied",
    59: "A CRM connector was detected",
    60: "Invalid HTTP request method",
    66: "You have exceeded your concurrent request limit. Please wait, before trying again",
    76: "API access was disabled",
    88: "Your account must use version 4 of the API.",
    89: "Your account is unable to use version 4 of the API.",
    122: "Daily API rate limit met",
    126: "Invalid authentication mechanism",
    131: (
        "Your account is locked due to too many failed login attempts. "
        "Reset your password at https://pi.pardot.com/user/passwordReset"
    ),
    181: "A required header is missing",
    182: "Invalid header value",
    183: "An internal error occurred, please try your request again",
    184: "access_token is invalid, unknown, or malformed",
    196: "Invalid authentication mechanism.",
    199: (
        "Authentication using an api_key is no longer supported. Use Salesforce OAuth access "
        "token instead. See https://developer.pardot.com/kb/authentication/ for details."
    ),
    201: "Business Unit specified in Pardot-Business-Unit-Id header not found or inactive.",
    214: "API request timed out.",
}
