"""Sessions of the web application and API: who is acting, and CSRF tokens of forms.

A :class:`SessionGate` answers "which user holds this session token?" through
:func:`saisei.quality.users.session_user` (which ends timed-out sessions and restarts the
inactivity clock, an audited write). It re-asks the store at most every ``recheck_s``
seconds per token, so a page that fires several requests does not write an audit row for each;
the inactivity timeout is still enforced to within ``recheck_s``. Signing out forgets the token
at once.

CSRF tokens of browser forms are an HMAC-SHA256 of the session token (or of a pre-session
nonce on the login form) under the installation's secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable

from saisei.errors import AuthenticationFailed
from saisei.quality.access import role_names
from saisei.quality.users import (
    AuthenticatedUser,
    AuthPolicy,
    SessionInfo,
    end_session,
    session_user,
    start_session,
    token_sha256,
)
from saisei.storage.repositories import quality as users_repo
from saisei.storage.store import Store

__all__ = ["CSRF_HEADER", "SESSION_COOKIE", "SessionGate", "csrf_token", "csrf_valid"]


def csrf_token(secret_key: str, seed: str) -> str:
    """The CSRF token of forms shown to the holder of ``seed`` (session token or nonce)."""
    return hmac.new(secret_key.encode(), b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret_key: str, seed: str | None, presented: str | None) -> bool:
    """Whether ``presented`` is the CSRF token of ``seed`` (constant-time comparison)."""
    if not seed or not presented:
        return False
    return hmac.compare_digest(csrf_token(secret_key, seed), presented)


class SessionGate:
    """Sign-in, sign-out and the user behind a session token, with a short re-check interval.

    Parameters
    ----------
    store : Store
        Where sessions are kept.
    policy : AuthPolicy
        Lockout, password age and inactivity timeout.
    recheck_s : float
        Seconds a verified token is trusted before the store is asked again.
    clock : callable, optional
        Monotonic clock (tests).
    """

    def __init__(
        self,
        store: Store,
        policy: AuthPolicy,
        *,
        recheck_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.policy = policy
        self.recheck_s = recheck_s
        self._clock = clock
        self._lock = threading.Lock()
        self._known: dict[str, tuple[AuthenticatedUser, float]] = {}

    def sign_in(self, username: str, password: str, *, source: str) -> SessionInfo:
        """Verify user id and password and open a session (failures count to lockout).

        The new session counts as verified now: its inactivity clock has just started, so the
        first pages after sign-in do not restart it (an audited write) again.
        """
        now = self._clock()
        info = start_session(self.store, username, password, self.policy, source=source)
        with self.store.reader() as session:
            user = users_repo.find_user(session, info.username)
            if user is not None:
                verified = AuthenticatedUser(
                    user.id, user.username, user.full_name, tuple(role_names(user))
                )
                with self._lock:
                    self._known[token_sha256(info.token)] = (verified, now)
        return info

    def sign_out(self, token: str, *, source: str) -> None:
        """End the session of ``token`` now."""
        with self._lock:
            self._known.pop(token_sha256(token), None)
        end_session(self.store, token, source=source)

    def recent_user(self, token: str) -> AuthenticatedUser | None:
        """The user of ``token`` if the session was verified less than ``recheck_s`` seconds
        ago (what :meth:`user` would answer without asking the store), else None."""
        now = self._clock()
        with self._lock:
            cached = self._known.get(token_sha256(token))
        if cached is not None and now - cached[1] < self.recheck_s:
            return cached[0]
        return None

    def user(self, token: str, *, source: str) -> AuthenticatedUser:
        """The user of a live session.

        Raises
        ------
        AuthenticationFailed
            Unknown, ended or timed-out session.
        """
        key = token_sha256(token)
        now = self._clock()
        with self._lock:
            cached = self._known.get(key)
        if cached is not None and now - cached[1] < self.recheck_s:
            return cached[0]
        try:
            found = session_user(self.store, token, self.policy, source=source)
        except AuthenticationFailed:
            with self._lock:
                self._known.pop(key, None)
            raise
        except Exception:
            # The refresh is a write; when the store is busy (SQLite lock under load) a session
            # verified less than half a timeout ago stays valid rather than failing the page.
            if cached is not None and now - cached[1] < 30.0 * self.policy.session_timeout_min:
                return cached[0]
            raise
        with self._lock:
            self._known[key] = (found, now)
        return found


#: Name of the browser session cookie (HttpOnly; the API also accepts it for reads).
SESSION_COOKIE = "saisei_session"
#: Header carrying the CSRF token on unsafe API requests made with the session cookie.
CSRF_HEADER = "X-CSRF-Token"
