"""The trace of a tier evaluation read out in Chinese (or English): one line per criterion with its value,
threshold, verdict, evidence and the FX rate used."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from qilin.common.messages import name, t
from qilin.common.money import Money, format_cn
from qilin.reference import regions, tracks
from qilin.reference.fx import default_table
from qilin.tiers.evaluate import CriterionResult, Evidence, TierResult
from qilin.tiers.standards import TIER_NAMES, Standard


def tier_name(code: str, lang: str = "zh") -> str:
    zh, en = TIER_NAMES[code]
    return zh if lang == "zh" else en


def reason_text(code: str, lang: str = "zh") -> str:
    return t(f"reason.{code}", lang=lang)


def _money(value: dict[str, Any], lang: str) -> str:
    money = Money(Decimal(value["cents"]) / 100, value["currency"])
    return format_cn(money) if lang == "zh" else f"{value['currency']} {money.amount:,.2f}"


def _label(r: CriterionResult, lang: str) -> str:
    name = f"criterion.{r.criterion}"
    if r.criterion in ("max_age_years", "min_age_years"):
        return t(name, lang=lang, years=r.threshold)
    if r.criterion in ("min_valuation", "min_cumulative_financing"):
        return t(name, lang=lang, amount=_money(r.threshold, lang))
    return t(name, lang=lang)


def _value(r: CriterionResult, lang: str) -> str:
    v = r.value
    if v is None:
        return "—"
    if r.criterion in ("max_age_years", "min_age_years"):
        years, days = v["years"], v["days"]
        return f"{years} 年 {days} 天" if lang == "zh" else f"{years} years {days} days"
    if r.criterion in ("min_valuation", "min_cumulative_financing"):
        shown = _money(v, lang)
        original = v.get("original")
        if original and original["currency"] != v["currency"]:
            shown += (
                f"（原值 {_money(original, lang)}）"
                if lang == "zh"
                else f" (originally {_money(original, lang)})"
            )
        return shown
    if r.criterion == "in_tracks":
        names = [
            tracks.all_tracks()[c].name_zh if lang == "zh" and c in tracks.all_tracks() else c for c in v
        ]
        return "、".join(names) if names else "—"
    if r.criterion == "has_private_financing":
        return f"{v} 轮" if lang == "zh" else f"{v} rounds"
    if r.criterion in ("operating", "not_listed") and lang == "zh":
        return _STATES_ZH.get(str(v), str(v))
    if r.criterion in ("registered_in_province", "registered_in_mainland"):
        region = regions.get(str(v))
        return f"{v} {region.name}" if region else str(v)
    return str(v)


_STATES_ZH = {
    "operating": "正常经营",
    "acquired": "已被收购",
    "closed": "已关闭",
    "listed": "已上市",
    "unlisted": "未上市",
}


def evidence_text(e: Evidence, lang: str = "zh") -> str:
    """One record behind a verdict, in words: "2025-07-03 估值（第三方榜单；CB Insights）",
    "2024-05-01 B轮融资", "成立日期 2018-03-12". Record ids stay in the structured trace's ``evidence``."""
    date = e.date or ""
    if e.kind == "valuation":
        grade, _, source = e.detail.partition("; ")
        parts = [x for x in (name("evidence", grade, lang=lang), source) if x]
        basis = ("；" if lang == "zh" else "; ").join(parts)
        what = t("evidence_kind.valuation", lang=lang)
        return f"{date} {what}（{basis}）" if lang == "zh" else f"{date} {what} ({basis})"
    if e.kind == "round":
        stage = name("round_type", e.detail, lang=lang)
        kind = t("evidence_kind.round", lang=lang)
        return f"{date} {stage}{kind}" if lang == "zh" else f"{date} {stage} {kind}"
    if e.kind == "enterprise" and e.detail == "founded_on":
        return f"{t('evidence_kind.founded_on', lang=lang)} {date}"
    if e.kind == "event":
        return f"{date} {name('event', e.detail, lang=lang)}"
    if e.kind == "status":
        return f"{date} {name('status', e.record_id, lang=lang)}"
    return f"{date} {e.kind} {e.detail}".strip()


def _details(r: CriterionResult, lang: str) -> list[str]:
    lines = []
    for fx in r.fx:
        quote = default_table().quote(fx.from_currency, fx.to_currency, dt.date.fromisoformat(fx.on))
        lines.append(("汇率：" if lang == "zh" else "FX: ") + quote.describe(lang))
    if r.evidence:
        shown = "；".join(evidence_text(e, lang) for e in r.evidence[:5])
        more = len(r.evidence) - 5
        if more > 0:
            shown += f" …(+{more})"
        lines.append(("依据：" if lang == "zh" else "evidence: ") + shown)
    if r.note:
        notes = {"vague": ("模糊金额按下限计", "vague amounts at their lower bound"),
                 "undisclosed": ("未披露金额计为 0", "undisclosed amounts count as 0"),
                 "no_fx_rate": ("缺汇率未计入", "left out for want of an FX rate")}  # fmt: skip
        parts = []
        for item in r.note.split(";"):
            key, _, count = item.partition(":")
            zh, en = notes.get(key, (key, key))
            parts.append(f"{zh} {count} 笔" if lang == "zh" else f"{en}: {count}")
        lines.append(("说明：" if lang == "zh" else "note: ") + "；".join(parts))
    return lines


def render(
    result: TierResult, standard: Standard, *, name: str = "", synthetic: bool = False, lang: str = "zh"
) -> str:
    """The whole explanation as text."""
    who = f"{name}（{result.enterprise_id}）" if name and lang == "zh" else name or result.enterprise_id
    if synthetic:
        who = ("【模拟数据】" if lang == "zh" else "[synthetic] ") + who
    std = standard.name_zh if lang == "zh" else standard.name_en
    if lang == "zh":
        tier = tier_name(result.tier)
        head = [f"{who} 截至 {result.as_of.isoformat()}，按《{std}》（{standard.key}）评定为：{tier}"]
        if result.retroactive:
            head.append(f"注意：该日期早于标准生效日 {standard.effective_from}，为追溯适用")
        if result.exclusions:
            head.append("未入库原因：" + "、".join(reason_text(r) for r in result.exclusions))
    else:
        tier = tier_name(result.tier, "en")
        head = [f"{who} as of {result.as_of.isoformat()} under {std} ({standard.key}): {tier}"]
        if result.retroactive:
            head.append(f"note: the date precedes the standard's effective date {standard.effective_from}")
        if result.exclusions:
            head.append("excluded because: " + ", ".join(reason_text(r, "en") for r in result.exclusions))
    lines = head
    for check in result.checks:
        mark = "✓" if check.passed else "✗"
        lines.append(f"{mark} {tier_name(check.tier, lang)}")
        for n, alternative in enumerate(check.alternatives, start=1):
            if len(check.alternatives) > 1:
                ok = all(r.passed for r in alternative)
                label = f"条件组 {n}" if lang == "zh" else f"route {n}"
                lines.append(f"    {'✓' if ok else '✗'} {label}")
            indent = "      " if len(check.alternatives) > 1 else "    "
            for r in alternative:
                verdict = "✓" if r.passed else "✗"
                reason = f" [{reason_text(r.reason, lang)}]" if r.reason else ""
                colon = "：" if lang == "zh" else ": "
                lines.append(f"{indent}{verdict} {_label(r, lang)}{colon}{_value(r, lang)}{reason}")
                lines.extend(f"{indent}    {d}" for d in _details(r, lang))
    return "\n".join(lines)


HIDDEN = "（无权查看）"
_MONEY_CRITERIA = frozenset({"min_valuation", "min_cumulative_financing"})


def structured(
    result: TierResult, standard: Standard, *, financial: bool, lang: str = "zh"
) -> dict[str, Any]:
    """The trace as plain data for pages and the API: each tier's check, its routes (条件组) and each
    criterion's label, value, verdict, reason and details (FX rate, evidence). Money values and their
    evidence are hidden from roles without the financial permission."""

    def criterion(r: CriterionResult) -> dict[str, Any]:
        hide = not financial and r.criterion in _MONEY_CRITERIA
        return {
            "criterion": r.criterion,
            "label": _label(r, lang),
            "passed": r.passed,
            "value": HIDDEN if hide else _value(r, lang),
            "reason": reason_text(r.reason, lang) if r.reason else None,
            "details": [] if hide else _details(r, lang),
            "evidence": []
            if hide
            else [
                {"kind": e.kind, "record_id": e.record_id, "date": e.date, "detail": e.detail}
                for e in r.evidence
            ],
        }

    return {
        "enterprise_id": result.enterprise_id,
        "as_of": result.as_of.isoformat(),
        "standard": {"id": standard.key, "version": standard.version, "name": standard.name_zh},
        "tier": result.tier,
        "tier_name": tier_name(result.tier, lang),
        "retroactive": result.retroactive,
        "exclusions": [reason_text(r, lang) for r in result.exclusions],
        "checks": [
            {
                "tier": check.tier,
                "tier_name": tier_name(check.tier, lang),
                "passed": check.passed,
                "routes": [
                    {"passed": all(r.passed for r in route), "criteria": [criterion(r) for r in route]}
                    for route in check.alternatives
                ],
            }
            for check in result.checks
        ],
    }


def criterion_text(name: str, param: Any, lang: str = "zh") -> str:
    """A standard's criterion as read by people: 成立不超过 10 年, 估值不低于 10亿美元, …"""
    key = f"criterion.{name}"
    if name in ("max_age_years", "min_age_years"):
        return t(key, lang=lang, years=param)
    if name in _MONEY_CRITERIA:
        return t(key, lang=lang, amount=_money({"cents": param.cents, "currency": param.currency}, lang))
    if name == "in_tracks" and isinstance(param, tuple | list):
        names = [tracks.all_tracks()[c].name_zh if c in tracks.all_tracks() else c for c in param]
        return (
            f"{t(key, lang=lang)}：{'、'.join(names)}"
            if lang == "zh"
            else f"{t(key, lang=lang)}: {', '.join(param)}"
        )
    if name == "registered_in_province":
        region = regions.get(str(param))
        return f"{t(key, lang=lang)}（{region.name if region else param}）"
    return t(key, lang=lang)
