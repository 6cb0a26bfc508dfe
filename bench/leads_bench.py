"""Leads benchmark: name suggestions (名称相近提示) for N generated leads with similar Chinese names.

    .venv/bin/python bench/leads_bench.py [--sizes 1000,3000,10000] [--import-rows 3000] [--registry 300000]

Part 1 times :class:`qilin.discovery.leads.NameIndex` alone: every name added, then each name asked for its
suggestions, as the import does. Part 2 imports ``--import-rows`` leads from a CSV into a fresh SQLite file
with ``import_leads`` (reading, checks, inserts and suggestions). Names are synthetic: a Zhejiang city, two
characters from a pool of 60, one of 16 trade words and a legal form, so many share bigrams such as 杭州 or
智能. Part 3 builds the index a lead page keeps of a registry of ``--registry`` enterprises (names as above
with three pool characters and the city's full name, 杭州市…, as registered names have; English names in
pinyin, as the demo's): seconds, the memory it holds besides the names (tracemalloc, in a second build) and
the time of one page's question; then the time to bring that index up to date after 10 and 1,000 names
changed, against building it again.

The machine is shared and noisy: compare sizes (or two checkouts) run side by side, not absolute seconds.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import tempfile
import time
from pathlib import Path

CITIES = ["杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水"]
POOL = (
    "安宝诚达鼎丰福广海和恒华汇吉嘉金锦景骏凯康蓝朗力联龙"
    "隆美铭明鹏启瑞润盛泰天通伟新信星兴旭扬亿益英永宇元远越云泽正志中众卓"
)
TRADES = [
    "智能", "生物", "新材料", "医疗", "数字", "网络", "信息", "能源",
    "汽车", "电子", "机器人", "半导体", "储能", "医药", "云计算", "物联",
]  # fmt: skip
FORMS = ["科技有限公司", "技术有限公司", "股份有限公司", "有限公司"]
# English names as the demo's are written (pinyin of the trade name, the trade in English), for part 3
_CITIES_EN = "Hangzhou Ningbo Wenzhou Jiaxing Huzhou Shaoxing Jinhua Quzhou Zhoushan Taizhou Lishui"
_PINYIN = (  # of POOL's characters, in order
    "an bao cheng da ding feng fu guang hai he heng hua hui ji jia jin jin jing jun kai kang lan "
    "lang li lian long long mei ming ming peng qi rui run sheng tai tian tong wei xin xin xing xing "
    "xu yang yi yi ying yong yu yuan yuan yue yun ze zheng zhi zhong zhong zhuo"
)
CITIES_EN, PINYIN = _CITIES_EN.split(), _PINYIN.split()
TRADES_EN = [
    "Intelligent", "Biotech", "New Materials", "Medical", "Digital", "Network", "Information", "Energy",
    "Automotive", "Electronics", "Robotics", "Semiconductor", "Energy Storage", "Pharmaceutical",
    "Cloud Computing", "IoT",
]  # fmt: skip


def names(count: int, seed: int) -> list[str]:
    """``count`` synthetic company names (合成数据), distinct once their legal form is dropped."""
    from qilin.discovery.leads import normalize_name

    rng = random.Random(seed)
    out: dict[str, str] = {}
    while len(out) < count:
        name = "".join(rng.choice(part) for part in (CITIES, POOL, POOL, TRADES, FORMS))
        out.setdefault(normalize_name(name), name)
    return list(out.values())


def time_index(count: int, seed: int) -> tuple[float, int]:
    """Seconds to add ``count`` names one by one and ask each for suggestions; suggestions found."""
    from qilin.discovery.leads import NameIndex

    batch = names(count, seed)
    started = time.perf_counter()
    index = NameIndex(batch)
    found = 0
    for i, name in enumerate(batch):
        index.add("lead", str(i), name, None, None)
        found += len(index.suggest(name, None, skip=[("lead", str(i))]))
    return time.perf_counter() - started, found


def time_import(count: int, seed: int) -> tuple[float, int]:
    """Seconds for ``import_leads`` of ``count`` rows into a fresh SQLite database; rows imported."""
    from alembic import command

    from qilin.db import get_engine, session_scope
    from qilin.discovery.leads import import_leads
    from qilin.migrations import config

    with tempfile.TemporaryDirectory(prefix="qilin-leads-bench-") as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        command.upgrade(config(url), "head")
        path = Path(tmp) / "leads.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["企业名称", "渠道", "推荐单位"])
            for name in names(count, seed):
                writer.writerow([name, "third_party", "合成推荐机构（synthetic）"])
        started = time.perf_counter()
        with session_scope(get_engine(url)) as session:
            report = import_leads(session, path=path, actor="bench")
        seconds = time.perf_counter() - started
        assert not report.refused, [i.message("en") for i in report.issues[:5]]
        return seconds, len(report.outcomes)


def registry_entries(count: int, seed: int) -> list[tuple[str, str, str, str, None]]:
    """``count`` enterprises (kind, id, name, English name, USCC) as part 3 indexes them."""
    rng = random.Random(seed)
    entries = []
    for i in range(count):
        # three pool characters: two give fewer distinct names than a large registry holds
        city, a, b, c, trade = (rng.randrange(len(part)) for part in (CITIES, POOL, POOL, POOL, TRADES))
        name = f"{CITIES[city]}市{POOL[a]}{POOL[b]}{POOL[c]}{TRADES[trade]}{rng.choice(FORMS)}"
        name_en = (
            f"{CITIES_EN[city]} {PINYIN[a].title()}{PINYIN[b]} {PINYIN[c].title()} {TRADES_EN[trade]} Co."
        )
        entries.append(("enterprise", f"E{i}", name, name_en, None))
    return entries


def registry_index(count: int, seed: int) -> tuple[float, float, float]:
    """Seconds to index ``count`` enterprises as a lead page does (:meth:`NameIndex.of`), MiB the index
    holds besides the names, milliseconds per suggestion."""
    import tracemalloc

    from qilin.discovery.leads import NameIndex

    entries = registry_entries(count, seed)

    def build() -> NameIndex:
        if hasattr(NameIndex, "of"):
            return NameIndex.of(entries)
        index = NameIndex([n for e in entries for n in (e[2], e[3]) if n])  # a checkout before NameIndex.of
        for entry in entries:
            index.add(*entry)
        return index

    started = time.perf_counter()
    index = build()
    seconds = time.perf_counter() - started
    del index
    tracemalloc.start()  # a second build, traced (tracing slows it): what the index holds beyond the names
    index = build()
    held = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    asked = entries[:: max(1, count // 200)]
    started = time.perf_counter()
    for _, _, name, name_en, _ in asked:
        index.suggest(name, name_en)
    return seconds, held, (time.perf_counter() - started) * 1000 / len(asked)


def registry_refresh(count: int, seed: int, changed: int) -> tuple[float, float] | None:
    """Seconds to bring the lead pages' registry index up to date after ``changed`` enterprises were renamed
    (compare every row, re-index those), and to build it again; None on a checkout without the refresh."""
    from qilin.discovery import leads

    if not hasattr(leads, "_RegistryIndex"):
        return None
    rows = [(id, name, name_en, uscc) for _, id, name, name_en, uscc in registry_entries(count, seed)]
    cached = leads._RegistryIndex(("bench", 0), rows)
    step = max(1, count // changed)
    renamed = [
        (id, name + "新" if i % step == 0 else name, en, u) for i, (id, name, en, u) in enumerate(rows)
    ]
    started = time.perf_counter()
    assert cached.refresh(renamed)
    refresh = time.perf_counter() - started
    started = time.perf_counter()
    leads._RegistryIndex(("bench", 1), renamed)
    return refresh, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,3000,10000,30000")
    parser.add_argument("--import-rows", type=int, default=3000)
    parser.add_argument("--registry", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    print(f"{'names':>8}{'seconds':>10}{'names/s':>10}{'suggestions':>13}")
    for size in (int(s) for s in args.sizes.split(",")):
        seconds, found = time_index(size, args.seed)
        print(f"{size:>8,}{seconds:>10.2f}{size / seconds:>10,.0f}{found:>13,}")
    if args.import_rows:
        seconds, rows = time_import(args.import_rows, args.seed)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rate = rows / seconds
        print(f"import_leads: {rows:,} rows in {seconds:.1f}s ({rate:,.0f} rows/s), peak {peak:,.0f} MiB")
    if args.registry:
        seconds, held, per_query = registry_index(args.registry, args.seed)
        print(
            f"registry index: {args.registry:,} enterprises in {seconds:.1f}s, holding {held:,.0f} MiB "
            f"besides the names, {per_query:.1f} ms per page's suggestions"
        )
        for changed in (10, 1000):
            timed = registry_refresh(args.registry, args.seed, changed)
            if timed is not None:
                print(
                    f"after {changed:,} renamed: refreshed in {timed[0]:.2f}s, built again in {timed[1]:.1f}s"
                )


if __name__ == "__main__":
    main()
