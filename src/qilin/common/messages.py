"""The message catalog: every user-facing string, in Chinese (zh-CN, first) and English.

Code looks messages up by key and formats them with named fields::

    >>> t("uscc.check_digit", lang="en", expected="F")
    'check digit is wrong (expected F)'

``both()`` gives "中文 / English", used where a message goes to a log or a terminal read by either.
"""

from __future__ import annotations

from typing import Any

CATALOG: dict[str, dict[str, str]] = {
    # USCC 统一社会信用代码
    "uscc.length": {"zh": "统一社会信用代码应为18位", "en": "a USCC has 18 characters"},
    "uscc.charset": {
        "zh": "统一社会信用代码含非法字符（不得含 I、O、S、V、Z）",
        "en": "a USCC uses only 0-9 and A-Y without I, O, S, V, Z",
    },
    "uscc.region": {
        "zh": "统一社会信用代码第3-8位应为行政区划码",
        "en": "USCC positions 3-8 must be a region code",
    },
    "uscc.check_digit": {
        "zh": "统一社会信用代码校验位错误（应为 {expected}）",
        "en": "check digit is wrong (expected {expected})",
    },
    "uscc.required_zhejiang": {
        "zh": "在浙江登记的企业必须填写统一社会信用代码",
        "en": "a USCC is required for enterprises registered in Zhejiang",
    },
    "uscc.conflict": {
        "zh": "统一社会信用代码已属于企业 {other}",
        "en": "this USCC already belongs to enterprise {other}",
    },
    "uscc.duplicate_in_file": {
        "zh": "统一社会信用代码与第 {line} 行重复",
        "en": "this USCC repeats line {line}",
    },
    # generic field validation
    "field.required": {"zh": "必填项为空", "en": "required value is empty"},
    "field.control_char": {
        "zh": "含不可见的控制字符（{char}），请删除后重试",
        "en": "contains an invisible control character ({char}); remove it and try again",
    },
    "field.too_long": {
        "zh": "内容过长（最多 {max} 个字符）",
        "en": "value too long (at most {max} characters)",
    },
    "date.invalid": {
        "zh": "日期无效，应为存在的日期，格式 YYYY-MM-DD",
        "en": "not a valid date: dates must be ISO YYYY-MM-DD and exist",
    },
    "date.future": {"zh": "日期晚于今天（{today}）", "en": "date is in the future (today is {today})"},
    "date.too_early": {
        "zh": "日期早于 {earliest}，应是笔误",
        "en": "date is before {earliest}: a typo?",
    },
    "region.unknown": {"zh": "未知的行政区划代码", "en": "unknown region code (GB/T 2260)"},
    "industry.unknown": {
        "zh": "未知的行业代码（GB/T 4754-2017）",
        "en": "unknown industry code (GB/T 4754-2017)",
    },
    "track.unknown": {"zh": "未知的赛道：{track}", "en": "unknown track: {track}"},
    "status.unknown": {
        "zh": "未知的经营状态（应为 operating/acquired/closed/ipo）",
        "en": "unknown status (operating/acquired/closed/ipo)",
    },
    "evidence.unknown": {
        "zh": "未知的估值证据等级（应为 disclosed/third-party-list/estimated/self-declared）",
        "en": "unknown evidence grade (disclosed/third-party-list/estimated/self-declared)",
    },
    "event.unknown": {"zh": "未知的生命周期事件类型", "en": "unknown lifecycle event kind"},
    "event.own_file": {"zh": "此类事件请填写在 {file} 中", "en": "events of this kind belong in {file}"},
    "row.too_many_values": {
        "zh": "该行的值比表头多 {extra} 个",
        "en": "the row has {extra} more values than the header",
    },
    "round.unknown_type": {"zh": "未知的融资轮次", "en": "unknown round type"},
    "amount.invalid": {"zh": "金额无法识别", "en": "amount not understood"},
    "amount.negative": {"zh": "金额不能为负数", "en": "amount must not be negative"},
    "currency.unknown": {"zh": "未知的币种", "en": "unknown currency"},
    "currency.missing": {"zh": "有金额但缺少币种", "en": "an amount needs a currency"},
    "number.invalid": {"zh": "应为数字", "en": "must be a number"},
    "integer.invalid": {"zh": "应为整数", "en": "must be a whole number"},
    "year.invalid": {"zh": "年份无效", "en": "invalid year"},
    "company.unknown": {
        "zh": "引用的企业不存在（既不在本次导入中，也不在数据库中）",
        "en": "refers to a company that is neither in this import nor in the database",
    },
    "row.duplicate_id": {"zh": "企业编号与第 {line} 行重复", "en": "company id repeats line {line}"},
    # import
    "import.file_unknown": {
        "zh": "无法识别的文件：{name}（应为 companies/rounds/valuations/unicorn_events/acquisitions/"
        "operating_reports/lifecycle_events/status_history）",
        "en": "cannot tell what {name} holds (expected companies/rounds/valuations/unicorn_events/"
        "acquisitions/operating_reports/lifecycle_events/status_history)",
    },
    "import.missing_columns": {"zh": "缺少必需列：{columns}", "en": "missing required columns: {columns}"},
    "import.not_found": {"zh": "路径不存在：{path}", "en": "no such file or folder: {path}"},
    "import.empty_path": {
        "zh": "路径为空：请给出数据包文件夹或 CSV/XLSX 文件",
        "en": "an empty path: give a package folder or CSV/XLSX files",
    },
    "import.encoding": {"zh": "文件不是 UTF-8 编码", "en": "file is not UTF-8 encoded"},
    "import.rejects_unwritable": {
        "zh": "无法写入拒绝行文件 {path}：{zh}；未写入任何数据",
        "en": "cannot write the rejects file {path}: {en}; nothing was written",
    },
    # HTTP answers whose detail the framework wrote
    "http.404": {"zh": "未找到", "en": "not found"},
    "http.405": {"zh": "不支持该请求方法", "en": "method not allowed"},
    "http.other": {"zh": "请求未能完成（{status}）", "en": "{phrase} ({status})"},
    "http.422": {"zh": "请求参数无效", "en": "invalid request parameters"},
    "serve.address": {
        "zh": "无法在 {host}:{port} 上提供服务：{reason}",
        "en": "cannot serve on {host}:{port}: {reason}",
    },
    "serve.in_use": {
        "zh": "端口已被占用（可能是另一个 qilin），可用 --port 换一个",
        "en": "the port is in use (another qilin?); choose another with --port",
    },
    "serve.no_host": {
        "zh": "主机地址无法解析或不属于本机",
        "en": "the host does not resolve or is not this machine",
    },
    # command-line usage errors (qilin.cli.bilingual_usage_error); the English half is click's own
    "cli.usage": {"zh": "命令用法有误（用 --help 查看用法）", "en": "usage error"},
    "cli.missing": {"zh": "缺少参数 {hint}", "en": "missing {hint}"},
    "cli.invalid": {"zh": "参数 {hint} 的值无效{reason}", "en": "invalid value for {hint}"},
    "cli.no_such_option": {"zh": "没有这个选项：{name}", "en": "no such option: {name}"},
    "cli.no_such_command": {"zh": "没有这个命令：{name}", "en": "no such command: {name}"},
    # request parameters pydantic refused (qilin.common.validation); the English half is pydantic's own
    "validation.invalid": {"zh": "取值无效", "en": "invalid value"},
    "validation.too_short": {"zh": "内容过短（至少 {min} 个字符）", "en": "too short"},
    "validation.too_many": {"zh": "项数过多（最多 {max} 项）", "en": "too many items"},
    "validation.ge": {"zh": "不能小于 {bound}", "en": "too small"},
    "validation.le": {"zh": "不能大于 {bound}", "en": "too large"},
    "validation.gt": {"zh": "应大于 {bound}", "en": "too small"},
    "validation.lt": {"zh": "应小于 {bound}", "en": "too large"},
    "validation.one_of": {"zh": "应为以下之一：{expected}", "en": "not one of the allowed values"},
    "validation.integer": {"zh": "应为整数", "en": "not an integer"},
    "validation.number": {"zh": "应为数字", "en": "not a number"},
    "validation.boolean": {"zh": "应为 true 或 false", "en": "not true or false"},
    "validation.datetime": {
        "zh": "时间无效，格式 YYYY-MM-DDTHH:MM:SS",
        "en": "not a valid date-time",
    },
    "validation.text": {"zh": "应为文本", "en": "not text"},
    "validation.list": {"zh": "应为列表", "en": "not a list"},
    "validation.object": {"zh": "应为 JSON 对象", "en": "not a JSON object"},
    "validation.json": {"zh": "请求体不是有效的 JSON", "en": "the body is not valid JSON"},
    "validation.extra": {"zh": "不接受的字段", "en": "unexpected field"},
    "validation.uuid": {"zh": "应为 UUID", "en": "not a UUID"},
    # output files (qilin.common.files)
    "output.is_dir": {"zh": "这是一个文件夹", "en": "it is a folder"},
    "output.not_file": {
        "zh": "它不是普通文件（设备、管道等），写入会替换它",
        "en": "it is not a regular file (a device, a pipe …); writing would replace it",
    },
    "output.not_dir": {"zh": "{blocker} 是文件而不是文件夹", "en": "{blocker} is a file, not a folder"},
    "output.no_access": {"zh": "没有写入权限", "en": "permission denied"},
    "output.no_space": {"zh": "磁盘空间不足", "en": "no space left on the device"},
    "output.read_only": {"zh": "只读文件系统", "en": "read-only file system"},
    "output.quota": {"zh": "超出磁盘配额", "en": "disk quota exceeded"},
    "output.name_too_long": {"zh": "文件名过长", "en": "file name too long"},
    "output.not_found": {"zh": "路径不存在", "en": "no such file or folder"},
    "output.other": {"zh": "系统错误：{detail}", "en": "system error: {detail}"},
    "output.empty": {"zh": "输出路径为空", "en": "the output path is empty"},
    "output.unwritable": {"zh": "无法写入 {path}：{zh}", "en": "cannot write {path}: {en}"},
    "import.duplicate_columns": {
        "zh": "列名重复：{columns}（无法确定哪一列的值为准，整个文件未读取）",
        "en": "columns named more than once: {columns} (which one holds the value is unknowable; "
        "the file was not read)",
    },
    "import.xlsx_too_big": {
        "zh": "Excel 文件过大（{size} 字节，上限 {limit} 字节）",
        "en": "Excel file too large ({size} bytes, limit {limit})",
    },
    "import.xlsx_too_many_rows": {
        "zh": "Excel 工作表 {sheet} 行数过多（上限 {limit} 行）",
        "en": "Excel sheet {sheet} has too many rows (limit {limit})",
    },
    "import.xlsx_invalid": {
        "zh": "无法读取 Excel 文件：{reason}",
        "en": "cannot read the Excel file: {reason}",
    },
    "import.refused": {
        "zh": "发现 {count} 处错误，未写入任何数据",
        "en": "{count} errors found; nothing was written",
    },
    "import.dry_run": {"zh": "试运行：未写入任何数据", "en": "dry run: nothing was written"},
    "import.rejects_written": {
        "zh": "{count} 行无效数据已写入 {path}",
        "en": "{count} invalid rows written to {path}",
    },
    "import.done": {"zh": "导入完成", "en": "import finished"},
    "db.not_migrated": {
        "zh": "数据库尚未初始化，请先运行 qilin db upgrade",
        "en": "the database is not migrated yet: run qilin db upgrade",
    },
    "fx.no_rate": {
        "zh": "没有 {currency} 在 {date} 的汇率",
        "en": "no {currency} exchange rate for {date}",
    },
    # demo data and the first run (演示数据与首次运行)
    "demo.enterprises_range": {
        "zh": "--enterprises 应在 {min} 至 {max} 之间（收到 {value}）："
        "少于 {min} 家模拟企业，梯队与智能发现无从展示",
        "en": "--enterprises must be from {min} to {max} (got {value}): with fewer than {min} synthetic "
        "enterprises the tiers and discovery have nothing to show",
    },
    "demo.not_built": {
        "zh": "演示数据未能建立，数据库未作任何更改",
        "en": "the demo could not be built; the database was left unchanged",
    },
    "demo.views_missing": {
        "zh": "企业库尚无梯队快照和发现运行记录：驾驶舱与观察名单为空（可用 qilin tiers snapshot 与 "
        "qilin discover run 补建）",
        "en": "the registry has no tier snapshot and no discovery run yet: the cockpit and the watch-list "
        "are empty (build them with qilin tiers snapshot and qilin discover run)",
    },
    # what records say, in words (pages, exports, tier traces): lifecycle events, states, evidence grades
    "event.ipo": {"zh": "上市", "en": "IPO"},
    "event.acquisition": {"zh": "被收购", "en": "acquisition"},
    "event.closure": {"zh": "关闭", "en": "closure"},
    "event.relocation": {"zh": "迁址", "en": "relocation"},
    "event.unicorn_list_entry": {"zh": "入选独角兽榜单", "en": "joined a unicorn list"},
    "status.operating": {"zh": "正常经营", "en": "operating"},
    "status.acquired": {"zh": "已被收购", "en": "acquired"},
    "status.closed": {"zh": "已关闭", "en": "closed"},
    "status.ipo": {"zh": "已上市", "en": "listed"},
    "evidence.disclosed": {"zh": "公开披露", "en": "disclosed"},
    "evidence.third-party-list": {"zh": "第三方榜单", "en": "third-party list"},
    "evidence.estimated": {"zh": "估算", "en": "estimated"},
    "evidence.self-declared": {"zh": "企业自报", "en": "self-declared"},
    "evidence_kind.round": {"zh": "融资", "en": "round"},
    "evidence_kind.valuation": {"zh": "估值", "en": "valuation"},
    "evidence_kind.founded_on": {"zh": "成立日期", "en": "founded"},
    # funding stages (融资阶段)
    "round_type.angel": {"zh": "天使轮", "en": "angel"},
    "round_type.seed": {"zh": "种子轮", "en": "seed"},
    "round_type.series-a": {"zh": "A轮", "en": "series A"},
    "round_type.series-b": {"zh": "B轮", "en": "series B"},
    "round_type.series-c+": {"zh": "C轮及以后", "en": "series C and later"},
    "round_type.venture": {"zh": "风险投资（轮次不详）", "en": "venture (stage unknown)"},
    "round_type.private-equity": {"zh": "私募股权", "en": "private equity"},
    "round_type.strategic": {"zh": "战略投资", "en": "strategic"},
    "round_type.debt": {"zh": "债权融资", "en": "debt"},
    "round_type.grant": {"zh": "政府资助", "en": "grant"},
    "round_type.crowdfunding": {"zh": "众筹", "en": "crowdfunding"},
    "round_type.ipo": {"zh": "IPO", "en": "IPO"},
    "round_type.post-ipo": {"zh": "上市后融资", "en": "post-IPO"},
    "round_type.other": {"zh": "其他", "en": "other"},
    "round_type.none": {"zh": "无融资记录", "en": "no funding record"},
    # tiers (梯队)
    "criterion.registered_in_mainland": {"zh": "在中国境内注册", "en": "registered in mainland China"},
    "criterion.registered_in_province": {"zh": "在本省注册", "en": "registered in the province"},
    "criterion.operating": {"zh": "正常经营（未被收购、未关闭）", "en": "operating (not acquired or closed)"},
    "criterion.not_listed": {"zh": "未上市", "en": "not listed"},
    "criterion.has_private_financing": {"zh": "获得过私募股权融资", "en": "has private equity financing"},
    "criterion.max_age_years": {"zh": "成立不超过 {years} 年", "en": "founded at most {years} years ago"},
    "criterion.min_age_years": {"zh": "成立超过 {years} 年", "en": "founded more than {years} years ago"},
    "criterion.min_valuation": {"zh": "最新估值不低于 {amount}", "en": "latest valuation at least {amount}"},
    "criterion.min_cumulative_financing": {
        "zh": "累计融资不低于 {amount}",
        "en": "cumulative financing at least {amount}",
    },
    "criterion.in_tracks": {"zh": "属于重点赛道", "en": "in a plan track"},
    "reason.listed": {"zh": "已上市", "en": "listed"},
    "reason.acquired": {"zh": "已被收购", "en": "acquired"},
    "reason.closed": {"zh": "已关闭", "en": "closed"},
    "reason.too_old": {"zh": "超龄", "en": "too old"},
    "reason.founding_date_unknown": {"zh": "成立日期不详", "en": "founding date unknown"},
    "reason.too_young": {"zh": "成立年限不足", "en": "too young for this route"},
    "reason.not_mainland": {"zh": "非境内注册", "en": "not registered in mainland China"},
    "reason.not_in_province": {"zh": "非本省注册", "en": "not registered in the province"},
    "reason.region_unknown": {
        "zh": "注册地区划代码不详（需统一社会信用代码或区划代码）",
        "en": "registered region unknown (needs a USCC or a region code)",
    },
    "reason.not_in_track": {"zh": "非重点赛道", "en": "not in a plan track"},
    "reason.no_private_financing": {"zh": "无私募融资", "en": "no private financing"},
    "reason.no_valuation": {"zh": "无估值记录", "en": "no valuation on record"},
    "reason.no_fx_rate": {"zh": "缺少汇率，无法换算", "en": "no exchange rate to convert"},
    "reason.valuation_insufficient": {"zh": "估值不足", "en": "valuation below the threshold"},
    "reason.financing_insufficient": {"zh": "累计融资不足", "en": "cumulative financing below the threshold"},
    "diff.new_entry": {"zh": "新入库", "en": "new entry"},
    "diff.promotion": {"zh": "升级", "en": "promoted"},
    "diff.demotion": {"zh": "降级", "en": "demoted"},
    "diff.graduated_ipo": {"zh": "上市毕业", "en": "graduated by IPO"},
    "diff.aged_out": {"zh": "超龄出库", "en": "aged out"},
    "diff.acquired": {"zh": "被收购出库", "en": "acquired"},
    "diff.moved_out": {"zh": "迁出本省", "en": "moved out of the province"},
    "diff.closed": {"zh": "关闭出库", "en": "closed"},
    "diff.dropped": {"zh": "不再符合标准", "en": "no longer meets the standard"},
    "tiers.snapshot_exists": {
        "zh": "标准 {standard} 在 {as_of} 的快照已存在（快照不可修改）",
        "en": "a snapshot of {standard} as of {as_of} already exists (snapshots are immutable)",
    },
    "tiers.no_snapshot": {
        "zh": "没有标准 {standard} 在 {as_of} 的快照，请先运行 qilin tiers snapshot",
        "en": "no snapshot of {standard} as of {as_of}: run qilin tiers snapshot first",
    },
    "tiers.unknown_enterprise": {"zh": "企业不存在：{id}", "en": "no such enterprise: {id}"},
    "tiers.not_yet_founded": {
        "zh": "企业 {id} 成立于 {founded}，评定日期 {as_of} 时尚未成立，不参与评定",
        "en": "enterprise {id} was founded on {founded}, after the as-of date {as_of}: it is not evaluated",
    },
    "tiers.as_of_future": {
        "zh": "评定日期 {as_of} 晚于今天（{today}）：今天之后的记录尚不存在，只能按今天或更早的日期评定",
        "en": "the as-of date {as_of} is after today ({today}): records after today do not exist yet, "
        "so tiers are evaluated as of today or earlier",
    },
    "tiers.as_of_too_early": {
        "zh": "评定日期 {as_of} 早于 {earliest}，不在可评定的范围内",
        "en": "the as-of date {as_of} is before {earliest}, the earliest date tiers are evaluated for",
    },
    "tiers.diff_reversed": {
        "zh": "起始快照日期 {from_date} 晚于结束快照日期 {to_date}：--from 应为较早的快照",
        "en": "--from ({from_date}) is later than --to ({to_date}): --from is the earlier snapshot",
    },
    "tiers.standard_not_utf8": {
        "zh": "标准文件 {path} 不是 UTF-8 编码（第 {position} 字节无法解码），请另存为 UTF-8",
        "en": "the standard file {path} is not UTF-8 (byte {position} cannot be decoded): save it as UTF-8",
    },
    "tiers.standard_unreadable": {
        "zh": "无法读取标准文件 {path}：{error}",
        "en": "cannot read the standard file {path}: {error}",
    },
    "tiers.standard_valid": {
        "zh": "标准文件有效：{key}，{tiers} 个梯队，{effective} 起生效",
        "en": "valid standard file: {key}, {tiers} tiers, effective from {effective}",
    },
    "tiers.standard_installed": {
        "zh": "标准文件有效，与已安装的 {key} 完全相同",
        "en": "valid standard file, identical to the installed {key}",
    },
    "summary.unknown_city": {"zh": "城市不详", "en": "city unknown"},
    "summary.no_track": {"zh": "未标注赛道", "en": "no track"},
    # yearly selection (年度遴选)
    "selection.state.draft": {"zh": "草稿", "en": "draft"},
    "selection.state.city_review": {"zh": "市级审核", "en": "city review"},
    "selection.state.provincial_review": {"zh": "省级审核", "en": "provincial review"},
    "selection.state.public_notice": {"zh": "公示", "en": "public notice"},
    "selection.state.published": {"zh": "已发布", "en": "published"},
    "selection.status.included": {"zh": "入选", "en": "on the list"},
    "selection.status.excluded": {"zh": "已剔除", "en": "excluded"},
    "selection.status.removed": {"zh": "已撤销（提供虚假材料）", "en": "removed (false data)"},
    "selection.action.exclude": {"zh": "剔除", "en": "excluded"},
    "selection.action.restore": {"zh": "恢复", "en": "restored"},
    "selection.action.remove": {"zh": "撤销（提供虚假材料）", "en": "removed (false data)"},
    "selection.resolution.upheld": {"zh": "异议成立", "en": "upheld"},
    "selection.resolution.dismissed": {"zh": "异议不成立", "en": "dismissed"},
    "selection.resolution.open": {"zh": "待处理", "en": "open"},
    "selection.no_next_state": {"zh": "无（已发布为最终状态）", "en": "none (published is final)"},
    "selection.not_found": {"zh": "没有 {year} 年度遴选", "en": "no selection for {year}"},
    "selection.exists": {
        "zh": "{year} 年度遴选已存在（每年只有一次遴选）",
        "en": "a selection for {year} already exists (one selection per year)",
    },
    "selection.empty_snapshot": {
        "zh": "标准 {standard} 在 {as_of} 的快照中没有入库企业，无法生成名单",
        "en": "the snapshot of {standard} as of {as_of} has no enterprise in a tier: no list to select from",
    },
    "selection.transition_refused": {
        "zh": "{year} 年度遴选当前状态为{state}，不能转为{target}；允许的下一状态：{allowed}",
        "en": "the {year} selection is in {state} and cannot go to {target}; allowed next states: {allowed}",
    },
    "selection.actor_required": {"zh": "请填写操作人", "en": "an actor is required"},
    "selection.too_long": {
        "zh": "内容过长（最多 {max} 个字符）",
        "en": "too long (at most {max} characters)",
    },
    "selection.comment_required": {"zh": "退回必须填写意见", "en": "sending back needs a comment"},
    "selection.notice_dates_required": {
        "zh": "进入公示必须填写公示起止日期（--notice-start、--notice-end）",
        "en": "public notice needs its start and end dates (--notice-start, --notice-end)",
    },
    "selection.notice_dates_order": {
        "zh": "公示结束日期 {end} 早于开始日期 {start}",
        "en": "the notice ends ({end}) before it starts ({start})",
    },
    "selection.notice_dates_unexpected": {
        "zh": "只有进入公示时才能填写公示日期",
        "en": "notice dates are given only when entering public notice",
    },
    "selection.notice_not_ended": {
        "zh": "公示期至 {end} 结束，今天（{today}）尚不能发布",
        "en": "the objection period ends on {end}: cannot publish today ({today})",
    },
    "selection.objections_open": {
        "zh": "还有 {count} 条异议未处理（编号 {ids}），不能发布",
        "en": "{count} objections are still open (ids {ids}): cannot publish",
    },
    "selection.return_needs_upheld": {
        "zh": "只有本次公示中有异议成立时，才能退回省级审核",
        "en": "public notice goes back to provincial review only when an objection of this notice is upheld",
    },
    "selection.objection_not_in_notice": {
        "zh": "只能在公示期间登记异议（当前状态为{state}）",
        "en": "objections are recorded only during public notice (the selection is in {state})",
    },
    "selection.resolve_not_in_notice": {
        "zh": "只能在公示期间处理异议（当前状态为{state}）",
        "en": "objections are resolved only during public notice (the selection is in {state})",
    },
    "selection.received_in_future": {
        "zh": "收到日期 {received} 晚于今天（{today}）",
        "en": "received date {received} is in the future (today is {today})",
    },
    "selection.received_outside_notice": {
        "zh": "收到日期 {received} 不在公示期 {start} 至 {end} 内",
        "en": "received date {received} is outside the objection period {start} to {end}",
    },
    "selection.objector_required": {"zh": "请填写异议人", "en": "the objector is required"},
    "selection.text_required": {"zh": "请填写异议内容", "en": "the objection's text is required"},
    "selection.objection_not_found": {
        "zh": "{year} 年度遴选没有编号为 {id} 的异议",
        "en": "the {year} selection has no objection {id}",
    },
    "selection.objection_resolved": {
        "zh": "异议 {id} 已处理（{resolution}），不能再次处理",
        "en": "objection {id} is already resolved ({resolution})",
    },
    "selection.resolution_required": {
        "zh": "处理异议必须填写处理意见",
        "en": "resolving an objection needs a comment",
    },
    "selection.entry_not_found": {
        "zh": "企业 {id} 不在 {year} 年度遴选名单中",
        "en": "enterprise {id} is not on the {year} selection's list",
    },
    "selection.reason_required": {"zh": "请填写原因", "en": "a reason is required"},
    "selection.list_frozen": {
        "zh": "当前状态为{state}，名单不能再调整：只有草稿和市级审核阶段可以剔除或恢复企业，"
        "此后只能因提供虚假材料撤销",
        "en": "the selection is in {state}: the list is adjusted (exclusion, restoration) only in draft and "
        "city review; after that an enterprise is only removed for false data",
    },
    "selection.entry_removed": {
        "zh": "企业 {id} 已因提供虚假材料撤销，不能再更改",
        "en": "enterprise {id} was removed for false data; that is final",
    },
    "selection.entry_already_excluded": {
        "zh": "企业 {id} 已被剔除",
        "en": "enterprise {id} is already excluded",
    },
    "selection.entry_not_excluded": {
        "zh": "企业 {id} 未被剔除，无需恢复",
        "en": "enterprise {id} is not excluded: nothing to restore",
    },
    "selection.created": {
        "zh": "已创建 {year} 年度遴选（草稿）：{count} 家企业，来自标准 {standard} 截至 {as_of} 的快照",
        "en": "selection {year} created (draft): {count} enterprises from the snapshot of {standard} "
        "as of {as_of}",
    },
    "selection.advanced": {
        "zh": "{year} 年度遴选：{from_state} → {to_state}",
        "en": "selection {year}: {from_state} → {to_state}",
    },
    "selection.objection_recorded": {
        "zh": "已登记异议 {id}（企业 {enterprise}）",
        "en": "objection {id} recorded (enterprise {enterprise})",
    },
    "selection.objection_done": {"zh": "异议 {id}：{resolution}", "en": "objection {id}: {resolution}"},
    "selection.entry_changed": {
        "zh": "企业 {id}：{action}（{status}）",
        "en": "enterprise {id}: {action} ({status})",
    },
    "selection.none": {"zh": "尚无年度遴选", "en": "no selection yet"},
    "selection.year_range": {
        "zh": "遴选年度应为 {min} 至 {max} 之间的整数：{year}",
        "en": "a selection year is a whole number from {min} to {max}: {year}",
    },
    "selection.objection_id_invalid": {
        "zh": "异议编号应为正整数：{id}",
        "en": "an objection id is a positive whole number: {id}",
    },
    "selection.notice_ended": {
        "zh": "公示期已于 {end} 结束（今天是 {today}）：公示期须未结束，异议期不能跳过",
        "en": "the objection period ended on {end} (today is {today}): a notice period that has already "
        "ended would skip the objection period",
    },
    "selection.notice_before_snapshot": {
        "zh": "公示开始日期 {start} 早于名单所依据的快照日期 {as_of}",
        "en": "the notice starts ({start}) before the date of the snapshot the list comes from ({as_of})",
    },
    # accounts and settings (账户与配置)
    "users.name_control": {
        "zh": "用户名含不可见的控制字符（{char}）",
        "en": "the user name contains an invisible control character ({char})",
    },
    "users.name_invisible": {
        "zh": "用户名含不可见字符（{char}，如零宽字符）",
        "en": "the user name contains an invisible character ({char}, e.g. a zero-width one)",
    },
    "users.name_resembles": {
        "zh": "用户名 {name} 与已有用户 {existing} 过于相似（仅大小写、全角半角或兼容字符不同）",
        "en": "user name {name} resembles the existing user {existing} "
        "(it differs only in case, width or compatibility characters)",
    },
    "users.organization_invalid": {
        "zh": "机构名称不能为空白、含控制字符或超过 {max} 个字符",
        "en": "the organization must not be blank, hold control characters or exceed {max} characters",
    },
    "users.password_not_utf8": {
        "zh": "从标准输入读取的密码不是有效的 UTF-8 文本",
        "en": "the password read from stdin is not valid UTF-8 text",
    },
    "actor.control": {
        "zh": "操作人名称含不可见的控制字符（{char}）",
        "en": "the actor name contains an invisible control character ({char})",
    },
    "settings.invalid": {
        "zh": "环境变量 {variable} 的值无效",
        "en": "{variable} is invalid: {detail}",
    },
    "settings.env": {
        "zh": "环境变量 QILIN_ENV 应为 development、test 或 production 之一（实为 {value}）",
        "en": "QILIN_ENV must be development, test or production (not {value})",
    },
    "settings.database_url": {
        "zh": "环境变量 QILIN_DATABASE_URL 不是有效的数据库地址"
        "（应为 sqlite:///文件路径 或 postgresql://用户:密码@主机:端口/库名）",
        "en": "QILIN_DATABASE_URL is not a valid database URL "
        "(expected sqlite:///path/to/file or postgresql://user:password@host:port/database)",
    },
    "settings.database_kind": {
        "zh": "环境变量 QILIN_DATABASE_URL 指定的数据库 {kind} 不受支持（仅支持 SQLite 与 PostgreSQL）",
        "en": "QILIN_DATABASE_URL names an unsupported database {kind} (SQLite and PostgreSQL only)",
    },
    "settings.database_port": {
        "zh": "环境变量 QILIN_DATABASE_URL 的端口应为 1 至 65535",
        "en": "the port in QILIN_DATABASE_URL must be between 1 and 65535",
    },
    "settings.database_folder": {
        "zh": "环境变量 QILIN_DATABASE_URL 指定的 SQLite 数据库位置 {path} 不可用：{zh}",
        "en": "the SQLite database location {path} in QILIN_DATABASE_URL cannot be used: {en}",
    },
    # leads from the discovery channels (多元发现渠道线索)
    "leads.channel.tech_plan": {"zh": "科技计划", "en": "science and technology plans"},
    "leads.channel.university": {"zh": "高校院所", "en": "universities and institutes"},
    "leads.channel.spin_off": {"zh": "头部企业裂变", "en": "spin-offs of leading enterprises"},
    "leads.channel.investment_ma": {"zh": "投资并购", "en": "investment and M&A"},
    "leads.channel.startup_contest": {"zh": "双创赛事", "en": "start-up contests"},
    "leads.channel.leading_fund": {"zh": "头部基金", "en": "leading funds"},
    "leads.channel.bjsgs": {
        "zh": "北上广深优质企业",
        "en": "quality enterprises from Beijing, Shanghai, Guangzhou, Shenzhen",
    },
    "leads.channel.third_party": {"zh": "第三方推荐", "en": "third-party recommendation"},
    "leads.channel.ai_discovery": {"zh": "AI 发现", "en": "AI discovery"},
    "leads.state.new": {"zh": "新线索", "en": "new"},
    "leads.state.verifying": {"zh": "核实中", "en": "verifying"},
    "leads.state.accepted": {"zh": "已采纳入库", "en": "accepted"},
    "leads.state.rejected": {"zh": "不予采纳", "en": "rejected"},
    "leads.channel_required": {
        "zh": "缺少渠道（请填写 channel 列或使用 --channel）",
        "en": "no channel (fill the channel column or give --channel)",
    },
    "leads.channel_unknown": {
        "zh": "未知的发现渠道（应为 {known}）",
        "en": "unknown discovery channel (known: {known})",
    },
    "leads.recommender_required": {
        "zh": "缺少推荐单位（请填写 recommender 列或使用 --recommender）",
        "en": "no recommender (fill the recommender column or give --recommender)",
    },
    "leads.recommender_kind_unknown": {
        "zh": "未知的推荐单位类型（应为 {known}）",
        "en": "unknown recommender kind (known: {known})",
    },
    "leads.duplicate_in_file": {
        "zh": "与第 {line} 行是同一渠道、同一推荐单位的同一企业",
        "en": "the same enterprise from the same channel and recommender as line {line}",
    },
    "leads.file_kind": {
        "zh": "线索文件应为 CSV（.csv）或 Excel（.xlsx）：{name}",
        "en": "a lead file is a CSV (.csv) or Excel (.xlsx) file: {name}",
    },
    "leads.no_name_column": {
        "zh": "缺少必需列：name（企业名称）",
        "en": "missing required column: name",
    },
    "leads.not_found": {"zh": "没有编号为 {id} 的线索", "en": "no lead with id {id}"},
    "leads.transition_refused": {
        "zh": "线索 {id} 不能从 {state} 转为 {target}；允许：{allowed}",
        "en": "lead {id} cannot move from {state} to {target}; allowed: {allowed}",
    },
    "leads.no_next_state": {"zh": "无（已是最终状态）", "en": "none (final state)"},
    "leads.actor_required": {"zh": "请填写操作人", "en": "an actor is required"},
    "leads.too_long": {"zh": "内容过长（最多 {max} 个字符）", "en": "too long (at most {max} characters)"},
    "leads.reason_required": {
        "zh": "不予采纳必须填写原因",
        "en": "rejecting needs a reason",
    },
    "leads.comment_required": {"zh": "退回必须填写意见", "en": "sending back needs a comment"},
    "leads.kind.government": {"zh": "政府部门", "en": "government department"},
    "leads.kind.university": {"zh": "高校院所", "en": "university or institute"},
    "leads.kind.enterprise": {"zh": "企业", "en": "enterprise"},
    "leads.kind.investor": {"zh": "投资机构", "en": "investor"},
    "leads.kind.consultancy": {"zh": "咨询机构", "en": "consultancy"},
    "leads.kind.association": {"zh": "行业协会", "en": "association"},
    "leads.kind.tech_broker": {"zh": "技术经纪机构", "en": "technology broker"},
    "leads.kind.platform": {"zh": "平台（AI 发现）", "en": "the platform (AI discovery)"},
    "leads.kind.other": {"zh": "其他", "en": "other"},
    "leads.enterprise_out_of_scope": {
        "zh": "企业 {id} 不存在或不在您的权限范围内",
        "en": "enterprise {id} does not exist or is outside your scope",
    },
    "leads.recommender_not_own": {
        "zh": "只能以本机构（{own}）的名义推荐",
        "en": "an institution recommends in its own name only ({own})",
    },
    "leads.channel_reserved": {
        "zh": "“AI 发现”渠道仅供平台自身使用",
        "en": "the AI discovery channel is the platform's own",
    },
    "leads.enterprise_required": {
        "zh": "采纳入库须指定企业库中已有的企业；本平台不在此处新建企业",
        "en": "accepting needs an enterprise that exists in the registry; enterprises are not created here",
    },
    "leads.enterprise_unknown": {
        "zh": "企业库中没有编号为 {id} 的企业",
        "en": "no enterprise with id {id} in the registry",
    },
    "leads.enterprise_uscc_mismatch": {
        "zh": "企业 {id} 的统一社会信用代码 {enterprise_uscc} 与线索的 {lead_uscc} 不一致",
        "en": "enterprise {id} has USCC {enterprise_uscc}, the lead has {lead_uscc}",
    },
    "leads.enterprise_unexpected": {
        "zh": "只有采纳入库时才能指定企业",
        "en": "an enterprise is given only when accepting",
    },
    "leads.imported": {
        "zh": "读取 {read} 行：新增线索 {added} 条，已存在 {existing} 条，拒绝 {rejected} 行",
        "en": "{read} rows read: {added} leads added, {existing} already present, {rejected} rows rejected",
    },
    "leads.refused": {
        "zh": "发现 {count} 处错误，未写入任何数据（可用 --skip-invalid 只导入有效行）",
        "en": "{count} errors found; nothing was written (--skip-invalid imports the valid rows only)",
    },
    "leads.advanced": {
        "zh": "线索 {id}：{from_state} → {to_state}",
        "en": "lead {id}: {from_state} → {to_state}",
    },
    "leads.none": {"zh": "没有符合条件的线索", "en": "no matching leads"},
    "leads.no_recommenders": {"zh": "尚无推荐单位", "en": "no recommenders yet"},
    "leads.filter_unknown": {"zh": "未知的{what}：{value}", "en": "unknown {what}: {value}"},
    "leads.status_unknown": {
        "zh": "未知的线索状态：{value}（应为 {known}）",
        "en": "unknown lead status: {value} (known: {known})",
    },
    "leads.csv_unreadable": {
        "zh": "第 {line} 行附近无法按 CSV 读取（单元格过长或格式错误）：{detail}",
        "en": "cannot be read as CSV near line {line} (a cell too long, or malformed): {detail}",
    },
    # discovery on the registry (企业库上的 AI 发现)
    "discover.source_required": {
        "zh": "请指定数据来源：--data 数据包文件夹 或 --db 企业库（二者选一）",
        "en": "give the data source: --data FOLDER or --db (the registry), exactly one",
    },
    "discover.source_both": {
        "zh": "--data 与 --db 不能同时使用，请只选一个数据来源",
        "en": "--data and --db cannot be used together: choose one data source",
    },
    "discover.run_exists": {
        "zh": (
            "截止日期 {as_of} 已用模型 {model_version} 运行过（运行 {run_id}，{created_at}）；"
            "运行记录不可覆盖"
        ),
        "en": (
            "a run for {as_of} with model {model_version} already exists (run {run_id}, {created_at}); "
            "runs are history and are not replaced"
        ),
    },
    "discover.run_done": {
        "zh": "运行 {run_id}：截止 {as_of}，模型 {model_version}，已为 {count} 家企业评分",
        "en": "run {run_id}: as of {as_of}, model {model_version}, {count} enterprises scored",
    },
    "discover.no_runs": {"zh": "尚无发现运行记录", "en": "no discovery runs yet"},
    "discover.no_run": {"zh": "没有编号为 {run_id} 的发现运行", "en": "no discovery run {run_id}"},
    "discover.top_range": {
        "zh": "--top 应在 1 至 {max} 之间（收到 {value}）",
        "en": "--top must be from 1 to {max} (got {value})",
    },
    "discover.leads_refused": {
        "zh": "企业库中的记录未通过线索校验，未推送任何线索：{detail_zh}",
        "en": "registry records failed the lead checks; no lead was pushed: {detail_en}",
    },
    "discover.leads_done": {
        "zh": "运行 {run_id}（截至 {as_of}）前 {considered} 名：新推送线索 {added} 条，"
        "此前已推送 {existing} 条，已在梯度培育库 {tiered} 家（不推送）",
        "en": "run {run_id} (as of {as_of}), top {considered}: {added} leads pushed, "
        "{existing} pushed before, {tiered} already in a tier (not pushed)",
    },
    "discover.walk_forward_short": {
        "zh": "前推检验需要截止日期及之前逐年的日期中至少两个不早于第一笔融资（{first}）；"
        "截止日期 {as_of} 只有 {count} 个",
        "en": "walk-forward needs at least two of the as-of date and the yearly dates before it on or after "
        "the first round ({first}); as-of {as_of} leaves {count}",
    },
    "discover.since_after_today": {
        "zh": "起始日期 {since} 晚于今天（{today}）：还没有那天的记录",
        "en": "--since {since} is after today ({today}): there are no records of that day yet",
    },
}


class Catalog:
    """A message catalog: key → {"zh": …, "en": …}. Features with many messages of their own keep them in
    their own catalog (e.g. :mod:`qilin.scoring.messages`) and look them up the same way."""

    def __init__(self, entries: dict[str, dict[str, str]]) -> None:
        self.entries = entries

    def t(self, key: str, /, *, lang: str = "zh", **fields: Any) -> str:
        """The message ``key`` in ``lang`` with ``fields`` filled in; a callable field is rendered in
        ``lang`` (e.g. a state label that reads 草稿（draft） in Chinese and draft (draft) in English)."""
        entry = self.entries[key]
        values = {k: v(lang) if callable(v) else v for k, v in fields.items()}
        return entry.get(lang, entry["en"]).format(**values)

    def name(self, prefix: str, code: str, /, *, lang: str = "zh") -> str:
        """What ``code`` is called: the message ``prefix.code`` (``round_type.series-a`` → A轮,
        ``status.ipo`` → 已上市), or the code itself when the catalog has no name for it."""
        key = f"{prefix}.{code}"
        return self.t(key, lang=lang) if key in self.entries else code

    def both(self, key: str, /, **fields: Any) -> str:
        """'中文 / English' for messages read by either."""
        return f"{self.t(key, lang='zh', **fields)} / {self.t(key, lang='en', **fields)}"


SHARED = Catalog(CATALOG)
t = SHARED.t
both = SHARED.both
name = SHARED.name
