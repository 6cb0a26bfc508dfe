"""Messages of the scoring feature (指标体系评分), in Chinese (zh-CN, first) and English.

Kept here rather than in :mod:`qilin.common.messages` so that the shared catalog does not change with
every feature; the lookup works the same way::

    >>> t("reason.no_report", lang="en")
    'no operating report on or before the as-of date'
    >>> both("index.not_found", name="x")
    '未找到指标体系：x / no such index: x'
"""

from __future__ import annotations

from qilin.common.messages import Catalog

CATALOG: dict[str, dict[str, str]] = {
    # index files (指标体系文件)
    "index.location": {
        "zh": "指标体系文件 {path} 第 {line} 行：{detail}",
        "en": "index file {path}, line {line}: {detail}",
    },
    "index.not_found": {"zh": "未找到指标体系：{name}", "en": "no such index: {name}"},
    "index.unreadable": {
        "zh": "无法读取指标体系文件 {path}：{reason}",
        "en": "cannot read the index file {path}: {reason}",
    },
    "index.not_utf8": {"zh": "文件不是 UTF-8 编码", "en": "the file is not UTF-8 encoded"},
    "index.syntax": {"zh": "YAML 语法错误：{problem}", "en": "YAML syntax error: {problem}"},
    "index.empty": {"zh": "文件为空", "en": "the file is empty"},
    "index.expected_mapping": {"zh": "此处应为键值映射", "en": "a mapping is expected here"},
    "index.expected_list": {"zh": "此处应为列表", "en": "a list is expected here"},
    "index.expected_text": {"zh": "此处应为文字", "en": "text is expected here"},
    "index.expected_number": {"zh": "此处应为数字", "en": "a number is expected here"},
    "index.missing_key": {"zh": "缺少必填项 {key}", "en": "the required key {key} is missing"},
    "index.unknown_key": {
        "zh": "无法识别的键 {key}（可用：{allowed}）",
        "en": "unknown key {key} (allowed: {allowed})",
    },
    "index.duplicate_key": {"zh": "键 {key} 重复", "en": "the key {key} appears twice"},
    "index.bad_choice": {
        "zh": "{key} 的值 {value} 无效（可选：{allowed}）",
        "en": "{value} is not a valid {key} (choose from: {allowed})",
    },
    "index.unknown_indicator": {
        "zh": "未知指标 {name}（已有指标：{known}）",
        "en": "unknown indicator {name} (known indicators: {known})",
    },
    "index.duplicate_indicator": {
        "zh": "指标 {name} 已在第 {line} 行出现",
        "en": "indicator {name} already appears on line {line}",
    },
    "index.duplicate_group": {
        "zh": "指标组 {name} 已在第 {line} 行出现",
        "en": "group {name} already appears on line {line}",
    },
    "index.winsorize": {
        "zh": "winsorize 应为两个分位数 [下限, 上限]，且 0 ≤ 下限 < 上限 ≤ 1",
        "en": "winsorize takes two quantiles [low, high] with 0 ≤ low < high ≤ 1",
    },
    "index.no_groups": {"zh": "至少需要一个指标组", "en": "at least one group is needed"},
    "index.no_indicators": {"zh": "指标组至少需要一个指标", "en": "a group needs at least one indicator"},
    "index.alpha": {
        "zh": "alpha 应在 0 到 1 之间（含端点），实为 {value}",
        "en": "alpha must lie between 0 and 1 inclusive, not {value}",
    },
    "index.alpha_missing": {
        "zh": "weights.method 为 combined 时须给出 alpha",
        "en": "weights.method combined needs an alpha",
    },
    "index.combined_only": {
        "zh": "只有 weights.method 为 combined 时才使用 {key}",
        "en": "{key} is only used when weights.method is combined",
    },
    "index.pairwise_missing": {
        "zh": "{name} 有 {count} 个下级项，按层次分析法须给出判断矩阵 pairwise",
        "en": "{name} has {count} children: AHP needs a pairwise comparison matrix",
    },
    "index.pairwise_shape": {
        "zh": "{name} 的判断矩阵应为 {count}×{count}（按下级项的顺序）",
        "en": "the pairwise matrix of {name} must be {count}×{count} (children in listed order)",
    },
    "index.pairwise_value": {
        "zh": "判断值 {value} 无效：应为 1/9 到 9 之间的正数（Saaty 标度），可写作 3 或 1/3",
        "en": "judgement {value} is invalid: use a positive number from 1/9 to 9 (Saaty scale), "
        "e.g. 3 or 1/3",
    },
    "index.pairwise_diagonal": {
        "zh": "判断矩阵对角线上的值应为 1",
        "en": "the diagonal of a pairwise matrix must be 1",
    },
    "index.pairwise_reciprocal": {
        "zh": "判断矩阵应互反：第 {row} 行第 {col} 列为 {value}，其对称位置应为 {expected}",
        "en": "a pairwise matrix must be reciprocal: row {row}, column {col} is {value}, "
        "so its mirror must be {expected}",
    },
    "index.inconsistent": {
        "zh": "{name} 的判断矩阵一致性比率 CR = {cr:.4f} ≥ 0.10"
        "（λmax = {lambda_max:.4f}，CI = {ci:.4f}，RI = {ri:.2f}），不予采用，请调整判断",
        "en": "the pairwise matrix of {name} has consistency ratio CR = {cr:.4f} ≥ 0.10 "
        "(λmax = {lambda_max:.4f}, CI = {ci:.4f}, RI = {ri:.2f}); refused, revise the judgements",
    },
    "index.too_many": {
        "zh": "判断矩阵最多 {limit} 阶（Saaty 随机一致性指标表的范围）",
        "en": "a pairwise matrix has at most {limit} rows (the range of Saaty's random index table)",
    },
    "index.root": {"zh": "指标组（第一层）", "en": "the groups (first level)"},
    "index.group": {"zh": "指标组 {name}", "en": "group {name}"},
    # missing values (缺失原因)
    "reason.no_report": {
        "zh": "评价日前无经营数据",
        "en": "no operating report on or before the as-of date",
    },
    "reason.no_value": {"zh": "经营数据中此项为空", "en": "the operating report leaves this empty"},
    "reason.revenue_not_positive": {
        "zh": "营业收入缺失或不为正",
        "en": "revenue is missing or not positive",
    },
    "reason.employees_not_positive": {
        "zh": "员工人数缺失或不为正",
        "en": "the employee count is missing or not positive",
    },
    "reason.no_previous_year": {
        "zh": "缺少上一年度的正营业收入",
        "en": "no positive revenue for the year before",
    },
    "reason.valuation_missing": {
        "zh": "评价日前不足两次估值",
        "en": "fewer than two valuations on or before the as-of date",
    },
    "reason.no_track": {"zh": "未标注赛道", "en": "no track"},
    # imputation (补值)
    "impute.median": {"zh": "按中位数补值", "en": "imputed with the median"},
    "impute.min": {"zh": "按最小值补值", "en": "imputed with the minimum"},
    "impute.zero": {"zh": "按零补值", "en": "imputed with zero"},
    "impute.exclude": {"zh": "缺失即不参与排名", "en": "enterprises missing it are not ranked"},
    "impute.nothing_observed": {
        "zh": "没有任何企业有此指标，所有企业在此项上得分相同",
        "en": "no enterprise has this indicator; it does not separate anyone",
    },
    # CLI
    "cli.bad_date": {"zh": "日期格式应为 YYYY-MM-DD：{value}", "en": "dates must be ISO YYYY-MM-DD: {value}"},
    "cli.bad_format": {
        "zh": "输出格式应为 table、csv 或 json：{value}",
        "en": "the format must be table, csv or json: {value}",
    },
    "cli.future_date": {
        "zh": "评价日期 {value} 晚于今天（{today}）",
        "en": "the as-of date {value} is after today ({today})",
    },
    "cli.before_data": {
        "zh": "注意：截至 {as_of} 企业库中尚无任何经营数据或估值（最早的为 {first}），"
        "排名只依据补值和赛道，不宜采用",
        "en": "warning: the registry holds no operating report or valuation on or before {as_of} "
        "(the earliest is of {first}); the ranking rests on imputed values and tracks only",
    },
    "cli.no_data": {
        "zh": "注意：企业库中没有任何经营数据或估值，排名只依据补值和赛道，不宜采用",
        "en": "warning: the registry holds no operating report or valuation; "
        "the ranking rests on imputed values and tracks only",
    },
    "cli.none_scored": {
        "zh": "截至 {as_of} 没有可评分的存续企业",
        "en": "no operating enterprise can be scored as of {as_of}",
    },
    "cli.excluded": {
        "zh": "{count} 家企业因缺少“缺失即剔除”的指标未参与排名",
        "en": "{count} enterprises are not ranked: they miss an indicator marked exclude",
    },
    "cli.imputed": {
        "zh": "{count} 家企业至少有一项指标为补值（见 json 输出）",
        "en": "{count} enterprises have at least one imputed indicator (see the json output)",
    },
}


_CATALOG = Catalog(CATALOG)
t = _CATALOG.t
both = _CATALOG.both
