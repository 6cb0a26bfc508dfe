"""Authentication and user errors, each with a Chinese and English message.

::

    AuthError
    ├── InvalidCredentials   wrong user name or password (never says which)
    ├── AccountLocked        too many failures in a row; locked until a time
    │   └── AddressThrottled too many failures from one source address (many accounts tried)
    └── UserError            a user that cannot be created as asked (bad role, region, duplicate)
"""

from __future__ import annotations


class AuthError(Exception):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


class InvalidCredentials(AuthError):
    def __init__(self) -> None:
        super().__init__("用户名或密码错误", "wrong user name or password")


class AccountLocked(AuthError):
    def __init__(self, minutes: int) -> None:
        super().__init__(
            f"登录失败次数过多，账户已锁定，请 {minutes} 分钟后再试",
            f"too many failed logins; the account is locked for {minutes} more minutes",
        )


class AddressThrottled(AccountLocked):
    def __init__(self, minutes: int) -> None:
        AuthError.__init__(
            self,
            f"此地址登录失败次数过多，请 {minutes} 分钟后再试",
            f"too many failed logins from this address; try again in {minutes} minutes",
        )


class UserError(AuthError):
    pass
