"""The web platform: server-rendered Chinese pages (Jinja2 + ECharts) beside the JSON API."""
