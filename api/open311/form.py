"""A GeoReport v2 POST as clients send it (FixMyStreet's perllib/Open311.pm: `lat`, `long`,
`address_string`, `address_id`, `email`, `device_id`, `account_id`, `first_name`,
`last_name`, `phone`, `description`, `media_url` (once, or repeated), `attribute[code]`,
`jurisdiction_id`, `api_key`), read into checked fields; every problem a Chinese 400 in the
Open311 error format."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Request
from pydantic import ValidationError

from api.open311.formats import Open311Error

ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.:-]{1,64})\]$")
CJK = re.compile(r"[\u3400-\u9fff]")
MAX_MEDIA, MAX_URL = 5, 500
# The ComplaintReceived fields as a client of Open311 names them.
LABELS = {
    "description": "description（问题描述）",
    "institution_name": "attribute[institution_name]（机构名称）",
    "institution_id": "attribute[institution_id]（机构登记编号）",
    "complainant.name": "first_name / last_name（姓名）",
    "complainant.phone": "phone（电话）",
    "complainant.email": "email（电子邮箱）",
}
PROBLEMS = {
    "string_too_short": "不能为空",
    "string_too_long": "过长",
    "too_long": "过长",
    "too_short": "不能为空",
    "string_pattern_mismatch": "格式不正确",
    "phone_number": "格式不正确（只能包含数字、空格、“+”和“-”，至少3位数字）",
    "format_character": "含有不可见的格式字符（如零宽空格、文字方向控制符）",
    "control_character": "含有不允许的控制字符",
}


@dataclass
class Fields:
    values: dict[str, str]
    media_urls: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()


async def read(request: Request, fmt: str) -> Fields:
    """Form-urlencoded (the usual) or multipart (FixMyStreet when it uploads photos; the file
    parts are not kept, only the fields)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        try:
            form = await request.form()
        except Exception as exc:  # python-multipart raises several types for broken bodies
            raise Open311Error(400, "请求体不是有效的 multipart/form-data", fmt) from exc
        pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    else:
        try:
            parsed = parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise Open311Error(
                400, "请求体须为 UTF-8 编码的 application/x-www-form-urlencoded 表单", fmt
            ) from exc
        pairs = [(k, v) for k, values in parsed.items() for v in values]
    fields = Fields(values={})
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise Open311Error(400, f"字段 {key[:40]!r} 含有不允许的空字符", fmt)
        if key in ("media_url", "media_url[]"):
            if value.strip():
                fields.media_urls.append(value.strip())
            continue
        if key in fields.values and fields.values[key] != value:
            # Which of two values counts would be a guess; the client is asked to send one.
            raise Open311Error(400, f"字段 {key[:40]!r} 出现了不止一次且取值不同", fmt)
        fields.values.setdefault(key, value)
        if match := ATTRIBUTE.match(key):
            fields.attributes.setdefault(match.group(1), value.strip())
    _check_media(fields.media_urls, fmt)
    return fields


def _check_media(urls: list[str], fmt: str) -> None:
    if len(urls) > MAX_MEDIA:
        raise Open311Error(400, f"media_url 最多 {MAX_MEDIA} 个", fmt)
    for url in urls:
        parts = urlsplit(url)
        if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.netloc:
            raise Open311Error(
                400, f"media_url 须为 http 或 https 网址（不超过 {MAX_URL} 个字符）", fmt
            )


def coordinates(fields: Fields, fmt: str) -> tuple[float, float] | None:
    lat_text, long_text = fields.get("lat"), fields.get("long")
    if not lat_text and not long_text:
        return None
    if not (lat_text and long_text):
        raise Open311Error(400, "lat 和 long 须同时提供", fmt)
    try:
        lat, lon = float(lat_text), float(long_text)
    except ValueError as exc:
        raise Open311Error(400, "lat、long 须为十进制度数（WGS 84）", fmt) from exc
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise Open311Error(400, "lat 须在 -90 至 90 之间，long 须在 -180 至 180 之间", fmt)
    return lat, lon


def reporter_name(fields: Fields) -> str | None:
    """FixMyStreet splits a name at its first space (first_name, then the rest); a Chinese
    name reads family name first with no space."""
    first, last = fields.get("first_name"), fields.get("last_name")
    if CJK.search(first + last):
        return (last + first) or None
    return " ".join(p for p in (first, last) if p) or None


def validation_error(exc: ValidationError, fmt: str) -> Open311Error:
    """A model's refusal in Chinese, naming the form field the client sent."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(p) for p in error["loc"])
        label = LABELS.get(where, where or "请求")
        problem = PROBLEMS.get(error["type"], "无效")
        limit: Any = (error.get("ctx") or {}).get("max_length")
        if error["type"] in ("string_too_long", "too_long") and limit is not None:
            problem = f"过长（最多 {limit} 个字符）"
        problems.append(f"{label}{problem}")
    return Open311Error(400, "请求无效：" + "；".join(problems), fmt)
