"""Demo data (演示数据): a data package of real public facts and a seeded synthetic cohort.

``generate.generate_package`` writes the package (a folder of CSV files); ``fit.fit_round_model`` learns
the funding-history model it draws from. Nothing here touches the database.
"""
