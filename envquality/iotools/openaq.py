"""OpenAQ API v3 client (plain ``urllib``) and reader of hourly sensor means.

API (https://docs.openaq.org)
-----------------------------
* ``GET /v3/locations`` – filters such as ``countries_id``, ``bbox``
  (``minLon,minLat,maxLon,maxLat``), ``coordinates`` (``lat,lon``) with
  ``radius`` (metres, at most 25 000), ``parameters_id``, ``providers_id``;
  paged with ``page`` (1-based) and ``limit`` (at most 1000).
* ``GET /v3/locations/{id}/sensors`` – one sensor per parameter of a location.
* ``GET /v3/sensors/{id}/hours`` – hourly means, ``datetime_from``/``datetime_to``.

Every response is ``{"meta": {"name", "website", "page", "limit", "found"},
"results": [...]}``.  An hourly result carries ``value``,
``parameter{id,name,units,displayName}``, ``period{label,interval,
datetimeFrom{utc,local},datetimeTo{utc,local}}`` and ``coverage{...}``.

Authentication is the ``X-API-Key`` header; the key comes from ``api_key`` or
the environment variable ``OPENAQ_API_KEY`` and never appears in messages,
``repr`` or logs.  Rate limits (60/min, 2000/h for free keys) answer HTTP 429;
the client waits ``Retry-After`` or ``x-ratelimit-reset`` seconds (else
exponential backoff) and retries, as for 5xx answers and timeouts, up to
``max_retries`` times.

Units
-----
OpenAQ reports particulates in µg/m³ and gases in ppm (or µg/m³ for some
providers).  Mixing ratios are converted at 298.15 K and 1013.25 hPa
(GB 3095-2012 §2.4), molar volume 24.465 L/mol: ``µg/m³ = ppm × 1000 × M /
24.465`` (M: SO2 64.066, NO2 46.0055, O3 47.997, CO 28.010 g/mol), CO to mg/m³.
See :func:`envquality.iotools._units.unit_factor`.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import random
import socket
import time as _time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from envquality.iotools._parse import finish, reject_rows
from envquality.iotools._units import normalize_unit, unit_factor
from envquality.iotools.common import ReadResult
from envquality.model import TIMEZONE
from envquality.text import bounded_excerpt

__all__ = [
    "OpenAQClient", "OpenAQError", "ClientValidationError", "RateLimitError",
    "AuthenticationError", "HTTPStatusError", "read_openaq", "OPENAQ_PARAMETERS",
]

log = logging.getLogger(__name__)

#: OpenAQ parameter name -> pollutant key (others are rejected).
OPENAQ_PARAMETERS: dict[str, str] = {
    "pm25": "pm25", "pm10": "pm10", "so2": "so2", "no2": "no2", "o3": "o3", "co": "co",
}

MAX_LIMIT = 1000
MAX_RADIUS_M = 25_000

_LOCATION_FILTERS = {
    "countries_id", "iso", "bbox", "coordinates", "radius", "parameters_id", "providers_id",
    "owner_contacts_id", "manufacturers_id", "licenses_id", "instruments_id", "monitor", "mobile",
    "order_by", "sort_order", "limit", "page",
}


class OpenAQError(Exception):
    """Base class of OpenAQ client errors."""


class ClientValidationError(OpenAQError, ValueError):
    """Invalid arguments, detected before any request is sent."""


class RateLimitError(OpenAQError):
    """HTTP 429 persisted after all retries."""


class AuthenticationError(OpenAQError):
    """HTTP 401/403: missing or invalid API key."""


class HTTPStatusError(OpenAQError):
    """Any other unsuccessful answer (after retries for 5xx), or an unreadable body."""

    def __init__(self, message: str, status: int | None = None, url: str | None = None):
        super().__init__(message)
        self.status, self.url = status, url


def _int(value: Any, name: str, *, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        try:
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            else:
                raise TypeError
        except TypeError:
            raise ClientValidationError(f"{name} must be an integer, not {value!r}") from None
    value = int(value)
    if lo is not None and value < lo or hi is not None and value > hi:
        raise ClientValidationError(f"{name} must be within {lo}..{hi}, not {value}")
    return value


def _when(value: Any, name: str) -> str:
    """ISO 8601 UTC text of a time; naive times are taken as Asia/Shanghai."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ClientValidationError(f"{name}: cannot read {value!r} as a time") from None
    if ts is pd.NaT or pd.isna(ts):
        raise ClientValidationError(f"{name} is missing")
    if ts.tzinfo is None:
        ts = ts.tz_localize(TIMEZONE)
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})

#: Headers carrying credentials: never sent to another origin.
_CREDENTIAL_HEADERS = frozenset({"x-api-key", "authorization", "cookie", "proxy-authorization"})


def _origin(url: str) -> tuple[str, str, int | None]:
    u = urllib.parse.urlsplit(url)
    port = u.port or {"http": 80, "https": 443}.get(u.scheme)
    return u.scheme, (u.hostname or "").lower(), port


class _KeySafeRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects, dropping credential headers when the origin changes; refuse https → http."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        old, new = _origin(req.full_url), _origin(newurl)
        if old[0] == "https" and new[0] != "https":
            raise urllib.error.HTTPError(newurl, code, "refusing a redirect from https to http", headers, fp)
        new_req = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new_req is not None and new != old:
            for name in list(new_req.headers):
                if name.lower() in _CREDENTIAL_HEADERS:
                    del new_req.headers[name]
            for name in list(new_req.unredirected_hdrs):
                if name.lower() in _CREDENTIAL_HEADERS:
                    del new_req.unredirected_hdrs[name]
            log.warning("OpenAQ redirect to another origin (%s): API key not forwarded", new[1])
        return new_req


class OpenAQClient:
    """Minimal OpenAQ v3 client on :mod:`urllib`.

    Parameters
    ----------
    base_url : str
        API root, default ``https://api.openaq.org``.
    api_key : str, optional
        Sent as ``X-API-Key``; default: environment variable ``OPENAQ_API_KEY``.
    timeout : float
        Seconds per request.
    max_retries : int
        Retries after a 429, a 5xx answer, a timeout or a connection error.
    backoff, max_backoff : float
        Exponential backoff ``backoff × 2**attempt`` (with jitter) capped at
        ``max_backoff`` seconds, used when the server gives no wait time; a
        server-given wait is capped at ``max_wait``.
    sleep : callable
        Waiting function (tests pass a recorder).
    allow_insecure_localhost : bool, default False
        Accept a plain ``http://`` base URL, and only for ``127.0.0.1``,
        ``::1`` or ``localhost`` (a local test server).  Otherwise the base
        URL must be ``https://``: the API key must not travel in clear text.

    Notes
    -----
    Redirects are followed only within the origin (scheme, host, port) of
    the request for the ``X-API-Key`` header: a redirect to another host or
    scheme is followed *without* the key, so a compromised or misconfigured
    endpoint cannot harvest it; a redirect from https to http is refused.
    """

    def __init__(
        self,
        base_url: str = "https://api.openaq.org",
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = _time.sleep,
        allow_insecure_localhost: bool = False,
    ):
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ClientValidationError(f"base_url must be an https URL, not {bounded_excerpt(base_url)}")
        if parsed.scheme == "http" and not (allow_insecure_localhost and parsed.hostname in _LOOPBACK):
            raise ClientValidationError(
                f"base_url must be https (the API key would travel in clear text), not {bounded_excerpt(base_url)}; "
                "plain http is allowed only for a local test server with allow_insecure_localhost=True"
            )
        if timeout <= 0:
            raise ClientValidationError("timeout must be positive")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key if api_key is not None else os.environ.get("OPENAQ_API_KEY")
        self.timeout = float(timeout)
        self.max_retries = _int(max_retries, "max_retries", lo=0)
        self.backoff, self.max_backoff, self.max_wait = float(backoff), float(max_backoff), float(max_wait)
        self._sleep = sleep
        self._opener = urllib.request.build_opener(_KeySafeRedirect())
        self.requests_made = 0
        self._digest = hashlib.sha256()

    def __repr__(self) -> str:
        return f"OpenAQClient(base_url={self.base_url!r}, api_key={'***' if self._api_key else None})"

    # ------------------------------------------------------------------ HTTP
    def _wait_for(self, headers: Any, attempt: int) -> float:
        for name in ("Retry-After", "x-ratelimit-reset"):
            v = headers.get(name) if headers is not None else None
            if v is None:
                continue
            v = str(v).strip()
            try:
                return min(max(float(v), 0.0), self.max_wait)
            except ValueError:
                try:  # HTTP-date form of Retry-After
                    when = email.utils.parsedate_to_datetime(v)
                    return min(max(when.timestamp() - _time.time(), 0.0), self.max_wait)
                except (TypeError, ValueError):
                    continue
        return min(self.backoff * 2 ** attempt * (1 + 0.1 * random.random()), self.max_backoff)

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path`` and return the decoded JSON object, retrying as documented."""
        query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        headers = {"Accept": "application/json", "User-Agent": "envquality-openaq/0.1"}
        if self._api_key:
            headers["X-API-Key"] = self._api_key
        attempt = 0
        while True:
            req = urllib.request.Request(url, headers=headers, method="GET")
            self.requests_made += 1
            try:
                with self._opener.open(req, timeout=self.timeout) as resp:
                    body = resp.read()
                break
            except urllib.error.HTTPError as exc:
                status, hdrs = exc.code, exc.headers
                detail = _detail(exc)
                exc.close()
                if status in (401, 403):
                    raise AuthenticationError(
                        f"OpenAQ refused the API key (HTTP {status}) for {path}: {detail or exc.reason}. "
                        "Set OPENAQ_API_KEY or pass api_key= (keys: https://explore.openaq.org/register)"
                    ) from None
                retriable = status == 429 or status >= 500
                if not retriable or attempt >= self.max_retries:
                    if status == 429:
                        raise RateLimitError(
                            f"rate limited (HTTP 429) on {path} after {attempt} retries"
                        ) from None
                    raise HTTPStatusError(
                        f"HTTP {status} on {path}: {detail or exc.reason}", status, url
                    ) from None
                wait = self._wait_for(hdrs, attempt)
                log.warning(
                    "OpenAQ HTTP %s on %s; retrying in %.1f s (%d/%d)",
                    status,
                    path,
                    wait,
                    attempt + 1,
                    self.max_retries,
                )
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
                if attempt >= self.max_retries:
                    raise HTTPStatusError(
                        f"cannot reach OpenAQ for {path}: {getattr(exc, 'reason', exc)}", None, url
                    ) from None
                wait = self._wait_for(None, attempt)
                log.warning(
                    "OpenAQ request %s failed (%s); retrying in %.1f s", path, type(exc).__name__, wait
                )
            self._sleep(wait)
            attempt += 1
        self._digest.update(body)
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HTTPStatusError(f"{path}: answer is not JSON ({exc})", 200, url) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
            raise HTTPStatusError(f"{path}: answer has no 'results' list", 200, url)
        return doc

    def paginate(self, path: str, params: dict[str, Any] | None = None, *, limit: int = MAX_LIMIT,
                 max_pages: int = 10_000) -> list[dict[str, Any]]:
        """All results of a paged resource: pages 1, 2, … until a short page or ``meta.found`` is reached."""
        limit = _int(limit, "limit", lo=1, hi=MAX_LIMIT)
        params = dict(params or {})
        start_page = _int(params.pop("page", 1), "page", lo=1)
        out: list[dict[str, Any]] = []
        for page in range(start_page, start_page + max_pages):
            doc = self.get(path, {**params, "limit": limit, "page": page})
            results = doc["results"]
            out.extend(results)
            found = (doc.get("meta") or {}).get("found")
            if len(results) < limit:
                break
            if isinstance(found, int) and not isinstance(found, bool) and page * limit >= found:
                break
        return out

    # ------------------------------------------------------------- resources
    def locations(self, **filters: Any) -> list[dict[str, Any]]:
        """``/v3/locations`` with filters, all pages.

        ``bbox`` is ``(min_lon, min_lat, max_lon, max_lat)``; ``coordinates``
        ``(lat, lon)`` and needs ``radius`` (m, ≤ 25 000); list values (ids)
        are sent comma-separated.
        """
        unknown = sorted(set(filters) - _LOCATION_FILTERS)
        if unknown:
            raise ClientValidationError(
                f"unknown location filter(s) {unknown}; allowed: {sorted(_LOCATION_FILTERS)}"
            )
        params: dict[str, Any] = {}
        limit = _int(filters.pop("limit", MAX_LIMIT), "limit", lo=1, hi=MAX_LIMIT)
        if "bbox" in filters and "coordinates" in filters:
            raise ClientValidationError("give bbox or coordinates+radius, not both")
        if "bbox" in filters:
            bbox = filters.pop("bbox")
            if isinstance(bbox, str):
                bbox = bbox.split(",")
            try:
                x0, y0, x1, y1 = (float(v) for v in bbox)
            except (TypeError, ValueError):
                raise ClientValidationError(
                    f"bbox must be four numbers min_lon,min_lat,max_lon,max_lat, not {bbox!r}"
                ) from None
            if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
                raise ClientValidationError(
                    f"bbox {bbox!r} is not min_lon,min_lat,max_lon,max_lat in degrees"
                )
            params["bbox"] = f"{x0:g},{y0:g},{x1:g},{y1:g}"
        if "coordinates" in filters or "radius" in filters:
            if "coordinates" not in filters or "radius" not in filters:
                raise ClientValidationError("coordinates and radius go together")
            coords = filters.pop("coordinates")
            if isinstance(coords, str):
                coords = coords.split(",")
            try:
                lat, lon = (float(v) for v in coords)
            except (TypeError, ValueError):
                raise ClientValidationError(f"coordinates must be (lat, lon), not {coords!r}") from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ClientValidationError(f"coordinates {coords!r} out of range: expected (lat, lon)")
            params["coordinates"] = f"{lat:g},{lon:g}"
            params["radius"] = _int(filters.pop("radius"), "radius", lo=1, hi=MAX_RADIUS_M)
        for k, v in filters.items():
            if k == "page":
                params[k] = v
            elif isinstance(v, (list, tuple, set)):
                params[k] = ",".join(str(_int(x, k, lo=1)) for x in v)
            elif isinstance(v, bool):
                params[k] = "true" if v else "false"
            elif k.endswith("_id"):
                params[k] = _int(v, k, lo=1)
            else:
                params[k] = v
        return self.paginate("/v3/locations", params, limit=limit)

    def sensors(self, location_id: int) -> list[dict[str, Any]]:
        """``/v3/locations/{location_id}/sensors``."""
        lid = _int(location_id, "location_id", lo=1)
        return self.paginate(f"/v3/locations/{lid}/sensors")

    def hours(
        self, sensor_id: int, datetime_from: Any, datetime_to: Any, *, limit: int = MAX_LIMIT
    ) -> list[dict[str, Any]]:
        """``/v3/sensors/{sensor_id}/hours`` between two times (naive = CST), all pages."""
        sid = _int(sensor_id, "sensor_id", lo=1)
        t0, t1 = _when(datetime_from, "datetime_from"), _when(datetime_to, "datetime_to")
        if t0 >= t1:
            raise ClientValidationError(f"datetime_from {t0} is not before datetime_to {t1}")
        return self.paginate(
            f"/v3/sensors/{sid}/hours", {"datetime_from": t0, "datetime_to": t1}, limit=limit
        )

    @property
    def digest(self) -> str:
        """SHA-256 over all response bodies received so far (archive key)."""
        return self._digest.hexdigest()


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read(2000).decode("utf-8", "replace")
        doc = json.loads(body)
        return (
            str(doc.get("detail") or doc.get("message") or doc)[:300] if isinstance(doc, dict) else body[:300]
        )
    except Exception:
        return ""


def _location_id(loc: Any) -> int:
    if isinstance(loc, dict):
        loc = loc.get("id")
    return _int(loc, "location id", lo=1)


def _sensor_hours(results: list[dict[str, Any]], lid: int, hpath: str, numeric_missing: Iterable[float],
                  applied: dict[str, str], rej: Callable[[str, list, list, list], None]) -> pd.DataFrame:
    """One sensor's hourly means: validate parameter, unit and period; convert to the standard unit."""
    frame = pd.json_normalize(results)
    for c in (
        "value",
        "parameter.name",
        "parameter.units",
        "period.datetimeTo.utc",
        "coverage.percentComplete",
    ):
        if c not in frame:
            frame[c] = np.nan
    raw = pd.Series([json.dumps(r, ensure_ascii=False)[:500] for r in results])
    key = frame["parameter.name"].map(OPENAQ_PARAMETERS)
    bad_par = key.isna()
    if bad_par.any():
        rej(
            hpath,
            ["parameter"] * int(bad_par.sum()),
            (
                "unknown parameter " + frame.loc[bad_par, "parameter.name"].astype(str).map(repr)
            ).tolist(),
            raw[bad_par].tolist(),
        )
    fac = pd.Series(np.nan, index=frame.index)
    for pair, idx in frame[~bad_par].groupby(["parameter.name", "parameter.units"], dropna=False).groups.items():
        p: Any = pair[0]  # type: ignore[index]
        u: Any = pair[1]  # type: ignore[index]
        try:
            fac[idx] = f = unit_factor(OPENAQ_PARAMETERS[p], u)
        except ValueError:
            continue
        if f != 1.0:
            applied[p] = f"{normalize_unit(u)} -> x{f:.6g}"
    bad_unit = ~bad_par & fac.isna()
    if bad_unit.any():
        rej(hpath, ["units"] * int(bad_unit.sum()),
            ("unknown unit " + frame.loc[bad_unit, "parameter.units"].astype(str).map(repr) + " for "
             + frame.loc[bad_unit, "parameter.name"].astype(str)).tolist(), raw[bad_unit].tolist())
    t = pd.to_datetime(frame["period.datetimeTo.utc"], utc=True, errors="coerce")
    bad_t = ~bad_par & ~bad_unit & t.isna()
    if bad_t.any():
        rej(
            hpath,
            ["period"] * int(bad_t.sum()),
            ["missing or unreadable period.datetimeTo.utc"] * int(bad_t.sum()),
            raw[bad_t].tolist(),
        )
    value = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    miss = list(numeric_missing)
    if miss:
        value = value.mask(value.isin(miss))
    keep = ~bad_par & ~bad_unit & ~bad_t
    return (
        pd.DataFrame(
            {
                "station": f"openaq:{lid}",
                "time": t[keep].dt.tz_convert(TIMEZONE),
                "pollutant": key[keep],
                "value": (value * fac)[keep],
                "coverage": pd.to_numeric(frame["coverage.percentComplete"], errors="coerce")[
                    keep
                ].astype("float64"),
                "line": pd.NA,
            }
        )
    )


def read_openaq(
    client: OpenAQClient,
    locations: Iterable[int | dict],
    start: Any,
    end: Any,
    *,
    numeric_missing: Iterable[float] = (),
) -> ReadResult:
    """Hourly means of OpenAQ locations as tidy readings.

    Parameters
    ----------
    client : OpenAQClient
    locations : iterable of int or location dicts (``{"id": ...}``)
    start, end : time-like
        Range passed to ``/hours`` (naive = Asia/Shanghai).
    numeric_missing : iterable of float
        Values that mean "missing" (OpenAQ has none by default; some
        providers send ``-999``).

    Returns
    -------
    ReadResult
        ``station`` = ``"openaq:{location_id}"``, ``time`` = end of the hour
        (``period.datetimeTo.utc``) in Asia/Shanghai, values converted to
        µg/m³ (CO mg/m³); extra column ``coverage`` (``percentComplete`` of
        the hour, %, NaN if absent).  Sensors of other parameters and results
        of unknown units are in ``rejected`` (``file`` = request path, ``line``
        = NA).  ``meta`` has ``requests``, ``sensors``, ``locations``,
        ``units`` (conversions applied) and ``sha256`` over the answers.
    """
    ids = [_location_id(x) for x in locations]
    t0, t1 = _when(start, "start"), _when(end, "end")
    if t0 >= t1:
        raise ClientValidationError(f"start {t0} is not before end {t1}")
    source = "openaq"
    rejected: list[pd.DataFrame] = []
    parts: list[pd.DataFrame] = []
    n_sensors = 0
    applied: dict[str, str] = {}
    rows_in = 0

    def rej(path: str, fields: list, reasons: list, raws: list) -> None:
        rejected.append(reject_rows(path, pd.NA, fields, reasons, raws, source))

    for lid in ids:
        spath = f"/v3/locations/{lid}/sensors"
        for sensor in client.sensors(lid):
            n_sensors += 1
            par = sensor.get("parameter") or {}
            pname = par.get("name")
            if pname not in OPENAQ_PARAMETERS:
                rej(spath, ["parameter"], [f"unknown parameter {bounded_excerpt(pname, 40)} (sensor {bounded_excerpt(sensor.get('id'), 20)})"],
                    [json.dumps(sensor, ensure_ascii=False)[:500]])
                continue
            sid = sensor.get("id")
            if isinstance(sid, bool) or not isinstance(sid, int):
                rej(spath, ["id"], [f"sensor without an integer id ({bounded_excerpt(sid, 40)})"],
                    [json.dumps(sensor, ensure_ascii=False)[:500]])
                continue
            hpath = f"/v3/sensors/{sid}/hours"
            results = client.hours(sid, t0, t1)
            rows_in += len(results)
            if not results:
                continue
            parts.append(_sensor_hours(results, lid, hpath, numeric_missing, applied, rej))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({
        "station": pd.Series(dtype=str), "time": pd.Series(dtype=f"datetime64[ns, {TIMEZONE}]"),
        "pollutant": pd.Series(dtype=str), "value": pd.Series(dtype="float64"),
        "coverage": pd.Series(dtype="float64"), "line": pd.Series(dtype="Int64"),
    })
    meta = {
        "sha256": client.digest, "encoding": "utf-8", "base_url": client.base_url,
        "locations": ids, "sensors": n_sensors, "requests": client.requests_made,
        "rows_in": rows_in, "rows_ok": int(len(long)), "units": applied,
        "start_utc": t0, "end_utc": t1,
    }
    return finish(long, rejected, file=f"{client.base_url}/v3", source=source,
                  raw_of=lambda ls: [None] * len(ls), extra_cols=("coverage",), meta=meta)
