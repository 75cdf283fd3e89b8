# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which failed requests are tried again, and how long to wait first.

`Retrier` is the one retry loop: the REST client classifies each failed attempt with `is_retryable`
and `parse_retry_after`, the upload targets with their own `classify`; every wait comes from `delay`
(the server's Retry-After, else `backoff`). `next_wait` states the client's rule as one function.

Why the method matters: an IPS job POST is not idempotent. A 502/504 or a dropped connection
leaves us not knowing whether the service started a multi-hour job, so a POST is only retried
when the service said it did not process it (429 rate limited, 503 overloaded). GET/PUT/DELETE
can be repeated safely.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import random
import threading
import time
from collections import namedtuple

# Retried for any method: the service did not act on the request.
RETRY_ANY_METHOD = frozenset([429, 503])
# Retried only for idempotent methods: the request may or may not have been acted on.
RETRY_IDEMPOTENT_ONLY = frozenset([502, 504])
IDEMPOTENT_METHODS = frozenset(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])

BASE_DELAY = 1.0

RetryPolicy = namedtuple("RetryPolicy", ["max_retries", "max_delay", "base_delay"])


def policy(max_retries=5, max_delay=60.0, base_delay=BASE_DELAY):
    return RetryPolicy(max(0, int(max_retries)), max(0.0, float(max_delay)), float(base_delay))


def is_retryable(method, status=None, dropped=False, idempotent=None):
    """Whether a failure may be retried at all: an HTTP `status`, or a `dropped` connection.

    `idempotent` overrides what the method implies, for a POST without side effects (the token).
    """
    if idempotent is None:
        idempotent = method.upper() in IDEMPOTENT_METHODS
    if dropped:
        return idempotent
    if status in RETRY_ANY_METHOD:
        return True
    return status in RETRY_IDEMPOTENT_ONLY and idempotent


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def backoff(pol, attempt, rand=random.random):
    """Full-jitter exponential back-off: uniform in [0, min(max_delay, base * 2**attempt)]."""
    ceiling = min(pol.max_delay, pol.base_delay * (2 ** min(attempt, 32)))
    return rand() * ceiling


def next_wait(pol, method, attempt, status=None, dropped=False, retry_after=None, rand=random.random, idempotent=None):
    """Seconds to sleep before retry number `attempt + 1`, or None when the failure is final.

    `attempt` counts the retries already made. A server-given `retry_after` (seconds) wins over
    the back-off, capped like every wait by the policy's max_delay.
    """
    if attempt >= pol.max_retries or not is_retryable(method, status, dropped, idempotent):
        return None
    return delay(pol, attempt, retry_after, rand)


def delay(pol, attempt, asked=None, rand=random.random):
    """The wait before retry `attempt + 1`: what the other side asked for (capped by max_delay), else the back-off."""
    if asked is not None:
        return min(float(asked), pol.max_delay)
    return backoff(pol, attempt, rand)


# --- the one retry loop ------------------------------------------------------------------------

# What a failed attempt means, as the caller's classifier says: may it be tried again, was it
# throttling (counted apart, so a result can say the target pushed back), and a wait the other
# side asked for (Retry-After; None or 0: back off by the formula). `counted` False: a retry
# that does not use up the budget (a fresh token after a 401 changes what is sent).
Verdict = namedtuple("Verdict", ["retry", "throttled", "wait", "counted"])
Verdict.__new__.__defaults__ = (False, None, True)
FINAL = Verdict(False)


class Retrier(object):
    """Runs a call, retrying the failures its classifier allows, waiting `delay` between tries.

    The REST client and the upload pipeline (every sender thread, the GCP part workers, the
    Azure footer) use this one loop; thread-safe, and it counts what it did for the results.
    """

    def __init__(self, pol, sleep=time.sleep, rand=random.random):
        self.policy = pol
        self.sleep = sleep
        self.rand = rand
        self.retries = 0
        self.throttled = 0
        self._lock = threading.Lock()

    def call(self, classify, func, *args, **kwargs):
        """func(*args, **kwargs), retried while `classify(exc)` -> Verdict (or a tuple of its fields) allows it.

        The last failure is raised as it is; `self.retries` says how many retries were made.
        """
        attempt = 0
        free = 1  # uncounted retries allowed: one, so a classifier cannot loop for ever
        paced = 0.0  # seconds waited as the other side asked while throttling us
        while True:
            try:
                return func(*args, **kwargs)
            except Exception as exc:  # pylint: disable=broad-except
                verdict = classify(exc)
                verdict = Verdict(*verdict) if verdict is not None else FINAL
                if not verdict.retry:
                    raise
                if not verdict.counted and free > 0:
                    free -= 1
                    continue
                wait = delay(self.policy, attempt, verdict.wait or None, self.rand)
                # Throttled with a wait the service asked for (429/503 + Retry-After): the service is pacing the
                # call, not failing it; such waits do not use up the tries while they add up to at most what the
                # whole budget would wait (max_retries x max_delay), so callers sharing one rate limit (many
                # migrations at once) are not failed by a storm that their neighbours' retries prolong.
                if verdict.throttled and verdict.wait and paced + wait <= self.policy.max_retries * self.policy.max_delay:
                    paced += wait
                elif attempt >= self.policy.max_retries:
                    raise
                else:
                    attempt += 1
                with self._lock:
                    self.retries += 1
                    self.throttled += 1 if verdict.throttled else 0
                self.sleep(wait)
