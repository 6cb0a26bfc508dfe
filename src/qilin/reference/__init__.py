"""Reference tables shipped with Qilin: regions (GB/T 2260), industries (GB/T 4754-2017), tracks (赛道),
415X clusters, the USCC (统一社会信用代码) check, and the dated FX table."""
