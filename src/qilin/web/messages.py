"""The web platform's message catalog (zh-CN first; English follows through the same keys)."""

from __future__ import annotations

from qilin.common.messages import Catalog

WEB = Catalog(
    {
        "app.name": {"zh": "麒麟 · 独角兽企业培育平台", "en": "Qilin unicorn cultivation platform"},
        "nav.cockpit": {"zh": "驾驶舱", "en": "Cockpit"},
        "nav.enterprises": {"zh": "企业库", "en": "Enterprises"},
        "nav.tiers": {"zh": "梯度培育库", "en": "Tiers"},
        "nav.discovery": {"zh": "智能发现", "en": "Discovery"},
        "nav.standards": {"zh": "标准", "en": "Standards"},
        "nav.leads": {"zh": "线索", "en": "Leads"},
        "nav.audit": {"zh": "审计日志", "en": "Audit log"},
        "nav.logout": {"zh": "退出", "en": "Log out"},
        "login.title": {"zh": "登录", "en": "Log in"},
        "login.username": {"zh": "用户名", "en": "User name"},
        "login.password": {"zh": "密码", "en": "Password"},
        "login.submit": {"zh": "登录", "en": "Log in"},
        "synthetic.badge": {"zh": "模拟数据", "en": "synthetic"},
        "error.title": {"zh": "出错了", "en": "Error"},
        "error.404": {
            "zh": "页面或记录不存在，或不在您的权限范围内",
            "en": "not found, or outside your scope",
        },
        "error.back": {"zh": "返回驾驶舱", "en": "Back to the cockpit"},
    }
)
t = WEB.t
