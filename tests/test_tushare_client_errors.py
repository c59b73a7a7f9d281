"""Classification of Tushare's (code, msg) answers into typed errors, over the real message texts."""

from __future__ import annotations

import pickle

import pytest

from alphahome.errors import AlphaHomeError
from alphahome.sandbox.faults import SYSTEM_ERROR_CODE, system_error_message
from alphahome.sandbox.quota import quota_message
from alphahome.sandbox.server import BAD_FIELDS_ERROR, TOKEN_ERROR, UNKNOWN_API_ERROR, permission_message
from alphahome.sources.tushare.errors import (
    AccountBlocked,
    PermissionDenied,
    QuotaExceeded,
    RequestError,
    ServiceError,
    TokenRejected,
    TushareError,
    classify,
    parse_quota,
    redact,
    required_points,
)

DOC = "权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"


@pytest.mark.parametrize(
    ("code", "msg", "window", "limit"),
    [
        (40203, f"抱歉，您每分钟最多访问该接口500次，{DOC}", "minute", 500),
        (40203, f"抱歉，您每小时最多访问该接口1次，{DOC}", "hour", 1),
        (40203, f"抱歉，您每天最多访问该接口8000次，{DOC}", "day", 8000),
        (40203, "抱歉，您访问接口(rt_min)频率超限(10次/小时)", "hour", 10),
        (40203, "抱歉，您每分最多访问该接口80次:-(", "minute", 80),  # the 2018 variant
        (-2002, f"抱歉，您每分钟最多访问该接口200次，{DOC}", "minute", 200),
        (40203, quota_message("minute", 45), "minute", 45),  # the sandbox's own text
        (40203, quota_message("day", 3), "day", 3),
    ],
)
def test_quota_texts_are_quota_before_permission(code: int, msg: str, window: str, limit: int) -> None:
    err = classify(code, msg, "daily", "rid")
    assert type(err) is QuotaExceeded
    assert (err.window, err.limit) == (window, limit)
    assert err.retryable
    assert (err.code, err.msg, err.api, err.request_id) == (code, msg, "daily", "rid")
    assert f"{limit} calls per {window}" in str(err)


def test_quota_text_without_a_number_still_names_the_window() -> None:
    assert parse_quota("抱歉，您每小时最多访问该接口，请稍后") == ("hour", None)
    assert parse_quota("系统未知错误") is None


@pytest.mark.parametrize(
    "msg",
    [
        f"抱歉，您没有接口(income_vip)访问权限，{DOC}",
        f"抱歉，您没有接口访问权限，{DOC}",
        f"抱歉，您没有访问该接口的权限，{DOC}",
        permission_message("income_vip"),
    ],
)
def test_permission_texts(msg: str) -> None:
    err = classify(40203, msg, "income_vip", "rid")
    assert type(err) is PermissionDenied
    assert not err.retryable
    assert err.points_needed == 5000
    assert str(err).startswith(
        "tushare API 'income_vip' refused: your token lacks permission (needs 5000 points; "
    )


def test_old_permission_codes_and_points_override() -> None:
    assert type(classify(-2002, "抱歉，您没有权限访问该接口", "daily")) is PermissionDenied
    assert type(classify(2002, "", "daily")) is PermissionDenied
    err = classify(40203, permission_message("fund_nav"), "fund_nav", points_needed=2000)
    assert isinstance(err, PermissionDenied) and err.points_needed == 2000
    # Without an API from the caller, the one named in the text is used.
    named = classify(40203, permission_message("fund_daily"), None)
    assert named.api == "fund_daily" and "'fund_daily'" in str(named)
    assert [required_points(a) for a in ("daily", "income", "income_vip")] == [120, 2000, 5000]


def test_token_account_request_and_service_errors() -> None:
    token = classify(40101, TOKEN_ERROR, "daily", "rid")
    assert type(token) is TokenRejected and token.exit_code == 2 and not token.retryable
    assert isinstance(token, AlphaHomeError)

    for msg in ("您的IP数量超限，最大数量为2个！", "抱歉，检测到您存在恶意行为，现已被系统禁用！"):
        blocked = classify(-1, msg, "daily")
        assert type(blocked) is AccountBlocked and blocked.exit_code == 2

    for code, msg in ((40101, "ts_code required"), (40101, UNKNOWN_API_ERROR), (40101, BAD_FIELDS_ERROR),
                      (-2001, "抱歉，没有pro_bar接口")):
        err = classify(code, msg, "daily")
        assert type(err) is RequestError, msg
        assert not err.retryable and err.exit_code == 1
    assert "unknown API name 'dialy'" in str(classify(40101, UNKNOWN_API_ERROR, "dialy"))

    for code, msg in ((SYSTEM_ERROR_CODE, system_error_message("abc")), (-1, ""), (99999, "whatever")):
        err = classify(code, msg, "daily")
        assert type(err) is ServiceError, msg
        assert err.retryable


def test_errors_pickle_with_their_attributes() -> None:
    err = classify(40203, quota_message("hour", 7), "daily", "rid")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is QuotaExceeded
    assert (again.window, again.limit, again.api, again.code, again.request_id) == ("hour", 7, "daily", 40203, "rid")
    assert str(again) == str(err)
    base = pickle.loads(pickle.dumps(TushareError("x", api="a")))
    assert base.api == "a"


def test_redact_masks_the_secret() -> None:
    assert redact("token abc123 leaked abc123", "abc123") == "token *** leaked ***"
    assert redact("nothing", "") == "nothing"
