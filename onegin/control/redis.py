"""Cluster control store: Redis hashes and keys under ``onegin:ctl:<job_id>:``.

Per trial a hash ``…:trial:<n>`` (owner, hb, result, abandoned) changed by
Lua scripts, so a claim is one atomic round trip; stop flags are plain keys
(``…:stop`` for the job, ``…:stop:<n>`` for a trial) read with one MGET.
Every key expires ``key_ttl`` seconds after its last write, so nothing leaks.
Heartbeats are stamped with the Redis server's clock unless a clock is given,
so workers on hosts with skewed clocks still agree on a heartbeat's age.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import redis

from onegin.control.protocol import ClaimOutcome, Clock, ControlStore, check_reason
from onegin.events.schema import check_job_id, check_trial_number
from onegin.outages import DEFAULT_OUTAGE_LIMIT
from onegin.redis_client import open_probe, open_redis

# ARGV[1] is "now" in unix seconds, or "" to read the server's clock.
_NOW = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""
# KEYS[1] trial hash; ARGV: now, owner, ttl, key_ttl
_CLAIM = _NOW + """
local st = redis.call('HMGET', KEYS[1], 'result', 'abandoned', 'owner', 'hb')
if st[1] or st[2] then return 'finished' end
if st[3] and st[3] ~= ARGV[2] and now - tonumber(st[4]) <= tonumber(ARGV[3]) then
  return 'held'
end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'hb', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 'acquired'
"""
# KEYS[1] trial hash; ARGV: now, owner, key_ttl
_HEARTBEAT = _NOW + """
local st = redis.call('HMGET', KEYS[1], 'result', 'abandoned', 'owner')
if st[1] or st[2] or st[3] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'hb', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS[1] trial hash; ARGV: owner
_RELEASE = """
local st = redis.call('HMGET', KEYS[1], 'result', 'abandoned', 'owner')
if st[1] or st[2] or st[3] ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'owner', 'hb')
return 1
"""

class RedisControlStore:
    """ControlStore over Redis; ``clock`` None means the Redis server's clock.

    Each command waits up to ``patience`` seconds for an unreachable Redis
    (`onegin.redis_client`). The scripts are safe to send again after a lost reply:
    a claim is re-entrant for its owner, a heartbeat and a finish idempotent.
    """

    def __init__(self, url: str, *, clock: Clock | None = None,
                 key_ttl: int = 7 * 24 * 3600, patience: float = DEFAULT_OUTAGE_LIMIT) -> None:
        self._client: redis.Redis = open_redis(url, patience=patience)
        self._probe: redis.Redis = open_probe(url)
        self._clock = clock
        self._key_ttl = key_ttl
        self._claim = self._client.register_script(_CLAIM)
        self._heartbeat = self._client.register_script(_HEARTBEAT)
        self._release = self._client.register_script(_RELEASE)

    def claim(self, job_id: str, number: int, owner: str, *, ttl: float) -> ClaimOutcome:
        outcome = self._claim(keys=[_trial_key(job_id, number)],
                              args=[self._now(), owner, repr(float(ttl)), self._key_ttl])
        return ClaimOutcome(outcome)

    def heartbeat(self, job_id: str, number: int, owner: str) -> bool:
        return bool(self._heartbeat(keys=[_trial_key(job_id, number)],
                                    args=[self._now(), owner, self._key_ttl]))

    def last_heartbeat(self, job_id: str, number: int) -> tuple[str, float] | None:
        values: list[Any] = self._client.hmget(_trial_key(job_id, number), ["owner", "hb"])
        owner, hb = values
        return (owner, float(hb)) if owner is not None else None

    def finish(self, job_id: str, number: int, result: Mapping[str, Any]) -> None:
        self._set_once(_trial_key(job_id, number), "result", json.dumps(dict(result)))

    def result(self, job_id: str, number: int) -> dict[str, Any] | None:
        raw: Any = self._client.hget(_trial_key(job_id, number), "result")
        found: dict[str, Any] | None = None if raw is None else json.loads(raw)
        return found

    def abandon(self, job_id: str, number: int, reason: str) -> None:
        self._set_once(_trial_key(job_id, number), "abandoned", check_reason(reason))

    def release(self, job_id: str, number: int, owner: str) -> bool:
        return bool(self._release(keys=[_trial_key(job_id, number)], args=[owner]))

    def request_stop(self, job_id: str, number: int | None, reason: str) -> None:
        key = _job_stop_key(job_id) if number is None else _trial_stop_key(job_id, number)
        self._client.set(key, check_reason(reason), nx=True, ex=self._key_ttl)

    def stop_reason(self, job_id: str, number: int) -> str | None:
        values: list[Any] = self._client.mget(
            [_trial_stop_key(job_id, number), _job_stop_key(job_id)])
        trial, job = values
        reason: str | None = trial if trial is not None else job
        return reason

    def clear_job(self, job_id: str) -> None:
        pattern = f"onegin:ctl:{check_job_id(job_id)}:*"  # job ids hold no glob characters
        batch: list[str] = []
        for key in self._client.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) >= 500:
                self._client.delete(*batch)
                batch.clear()
        if batch:
            self._client.delete(*batch)

    def ping(self) -> None:
        try:
            self._probe.ping()
        except redis.RedisError as exc:
            raise ConnectionError(f"control Redis is unreachable: {exc}") from exc

    def close(self) -> None:
        self._client.close()
        self._probe.close()

    def _now(self) -> str:
        return "" if self._clock is None else repr(float(self._clock()))

    def _set_once(self, key: str, field: str, value: str) -> None:
        with self._client.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, field, value)
            pipe.expire(key, self._key_ttl)
            pipe.execute()


def _prefix(job_id: str) -> str:
    return f"onegin:ctl:{check_job_id(job_id)}"


def _trial_key(job_id: str, number: int) -> str:
    return f"{_prefix(job_id)}:trial:{check_trial_number(number)}"


def _trial_stop_key(job_id: str, number: int) -> str:
    return f"{_prefix(job_id)}:stop:{check_trial_number(number)}"


def _job_stop_key(job_id: str) -> str:
    return f"{_prefix(job_id)}:stop"


_conforms: type[ControlStore] = RedisControlStore  # checked by mypy
