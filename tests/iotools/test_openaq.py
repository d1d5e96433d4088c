"""OpenAQ v3 client and reader against a local HTTP server serving saved answers (no external network)."""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from envquality.iotools.openaq import (
    AuthenticationError,
    ClientValidationError,
    HTTPStatusError,
    OpenAQClient,
    OpenAQError,
    RateLimitError,
    read_openaq,
)

FIX = Path(__file__).parent / "fixtures_openaq"
KEY = "test-key-0123456789"


class FakeOpenAQ:
    """Routes path -> queue of (status, headers, body); the last answer repeats."""

    def __init__(self):
        self.routes: dict[str, list[tuple[int, dict, bytes]]] = {}
        self.log: list[dict] = []
        self.require_key = KEY

    def add(self, path: str, *answers: tuple[int, dict, str]):
        self.routes.setdefault(path, []).extend(
            (s, h, (FIX / b).read_bytes() if b.endswith(".json") else b.encode()) for s, h, b in answers)

    def answer(self, path: str, query: dict, headers) -> tuple[int, dict, bytes]:
        self.log.append({"path": path, "query": query, "headers": {k.lower(): v for k, v in headers.items()}})
        if self.require_key and headers.get("X-API-Key") != self.require_key:
            return 401, {}, (FIX / "error_401.json").read_bytes()
        if path == "/v3/locations":
            page = int(query.get("page", ["1"])[0])
            return 200, {}, (FIX / f"locations_page{page}.json").read_bytes()
        queue = self.routes.get(path)
        if not queue:
            return 404, {}, b'{"detail": "Not Found"}'
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def fake():
    state = FakeOpenAQ()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            status, headers, body = state.answer(u.path, urllib.parse.parse_qs(u.query), self.headers)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


def client(fake, sleeps=None, **kw):
    return OpenAQClient(fake.url, api_key=KEY, allow_insecure_localhost=True,
                        sleep=(sleeps.append if sleeps is not None else lambda s: None), **kw)


def standard_routes(fake):
    fake.add("/v3/locations/3001/sensors", (200, {}, "sensors_3001.json"))
    for sid in (10001, 10002, 10003, 10004):
        fake.add(f"/v3/sensors/{sid}/hours", (200, {}, f"hours_{sid}.json"))


def test_locations_pages_until_found(fake):
    c = client(fake)
    locs = c.locations(countries_id=10, limit=2)
    assert [x["id"] for x in locs] == [3001, 3002, 3003, 3004, 3005]
    pages = [e["query"]["page"][0] for e in fake.log]
    assert pages == ["1", "2", "3"]
    assert all(e["query"]["limit"] == ["2"] for e in fake.log)
    assert fake.log[0]["query"]["countries_id"] == ["10"]


def test_api_key_header_sent_and_hidden(fake, monkeypatch):
    monkeypatch.setenv("OPENAQ_API_KEY", KEY)
    c = OpenAQClient(fake.url, sleep=lambda s: None, allow_insecure_localhost=True)  # key from the environment
    c.locations(bbox=(103.5, 35.9, 104.2, 36.2), limit=2)
    assert all(e["headers"].get("x-api-key") == KEY for e in fake.log)
    assert fake.log[0]["query"]["bbox"] == ["103.5,35.9,104.2,36.2"]
    assert KEY not in repr(c)


def test_bad_api_key_clear_error(fake):
    c = OpenAQClient(fake.url, api_key="wrong", sleep=lambda s: None, allow_insecure_localhost=True)
    with pytest.raises(AuthenticationError) as exc:
        c.locations(countries_id=10)
    msg = str(exc.value)
    assert "401" in msg and "Invalid credentials" in msg and "OPENAQ_API_KEY" in msg
    assert "wrong" not in msg
    assert len(fake.log) == 1  # not retried


def test_429_retry_after_then_success(fake):
    fake.add("/v3/locations/3001/sensors",
             (429, {"Retry-After": "1"}, "error_429.json"),
             (429, {"Retry-After": "0", "x-ratelimit-reset": "30"}, "error_429.json"),
             (200, {}, "sensors_3001.json"))
    sleeps: list[float] = []
    got = client(fake, sleeps).sensors(3001)
    assert len(got) == 5
    assert sleeps == [1.0, 0.0]  # Retry-After wins over x-ratelimit-reset


def test_429_ratelimit_reset_header_used(fake):
    fake.add("/v3/locations/3001/sensors", (429, {"x-ratelimit-reset": "7"}, "error_429.json"),
             (200, {}, "sensors_3001.json"))
    sleeps: list[float] = []
    client(fake, sleeps).sensors(3001)
    assert sleeps == [7.0]


def test_429_gives_up_after_max_retries(fake):
    fake.add("/v3/locations/3001/sensors", (429, {"Retry-After": "0"}, "error_429.json"))
    sleeps: list[float] = []
    with pytest.raises(RateLimitError):
        client(fake, sleeps, max_retries=2).sensors(3001)
    assert len(sleeps) == 2 and len(fake.log) == 3


def test_500_then_success_with_capped_backoff(fake):
    fake.add("/v3/locations/3001/sensors", (500, {}, '{"detail": "boom"}'), (503, {}, "{}"),
             (200, {}, "sensors_3001.json"))
    sleeps: list[float] = []
    got = client(fake, sleeps, backoff=2.0, max_backoff=3.0).sensors(3001)
    assert len(got) == 5
    assert 2.0 <= sleeps[0] <= 2.2 and sleeps[1] == 3.0  # 2*2**0 (+jitter), then capped


def test_404_not_retried(fake):
    sleeps: list[float] = []
    with pytest.raises(HTTPStatusError) as exc:
        client(fake, sleeps).sensors(999)
    assert exc.value.status == 404 and sleeps == []


def test_timeout_is_retried_then_raises():
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)  # accepts, never answers
    try:
        sleeps: list[float] = []
        c = OpenAQClient(f"http://127.0.0.1:{srv.getsockname()[1]}", api_key=KEY, timeout=0.2, allow_insecure_localhost=True,
                         max_retries=1, sleep=sleeps.append)
        with pytest.raises(HTTPStatusError, match="cannot reach"):
            c.sensors(1)
        assert len(sleeps) == 1
    finally:
        srv.close()


@pytest.mark.parametrize("call", [
    lambda c: c.locations(coordinates=(36.06, 103.83)),                 # no radius
    lambda c: c.locations(coordinates=(36.06, 103.83), radius=30_000),  # above 25 km
    lambda c: c.locations(coordinates=(136.9, 35.1), radius=1000),      # lat out of range
    lambda c: c.locations(bbox=(104, 36, 103, 37)),
    lambda c: c.locations(bbox=(1, 2, 3)),
    lambda c: c.locations(bbox=(103, 35, 104, 36), coordinates=(36, 103), radius=10),
    lambda c: c.locations(color="red"),
    lambda c: c.locations(limit=5000),
    lambda c: c.sensors("abc"),
    lambda c: c.sensors(0),
    lambda c: c.hours(1, "2024-01-02", "2024-01-01"),
    lambda c: c.hours(1, "not a time", "2024-01-01"),
])
def test_validation_before_network(fake, call):
    with pytest.raises(ClientValidationError) as exc:
        call(client(fake))
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, OpenAQError)
    assert fake.log == []


def test_client_validation():
    with pytest.raises(ClientValidationError):
        OpenAQClient("ftp://example.org")


def test_hours_query(fake):
    standard_routes(fake)
    client(fake).hours(10001, "2024-01-01 08:00", pd.Timestamp("2024-01-01 03:00", tz="UTC"))
    q = fake.log[0]["query"]
    assert q["datetime_from"] == ["2024-01-01T00:00:00Z"]  # naive = CST
    assert q["datetime_to"] == ["2024-01-01T03:00:00Z"]


def test_read_openaq_tidy_units_and_rejects(fake):
    standard_routes(fake)
    fake.add("/v3/sensors/10001/hours", (200, {}, "hours_10001.json"))
    data, meta, rejected = read_openaq(client(fake), [3001], "2024-01-01 08:00", "2024-01-01 11:00")
    assert list(data.columns[:4]) == ["station", "time", "pollutant", "value"]
    assert (data["station"] == "openaq:3001").all()
    assert str(data["time"].dt.tz) == "Asia/Shanghai"
    v = data.set_index(["pollutant", data["time"].dt.strftime("%H:%M")])["value"]
    assert v[("pm25", "09:00")] == 35.0            # period END 01:00Z = 09:00 CST
    assert v[("pm25", "10:00")] == 41.5
    assert pd.isna(v[("pm25", "11:00")])           # null value -> NaN, kept
    assert v[("no2", "09:00")] == pytest.approx(0.02 * 1000 * 46.0055 / 24.465)
    assert v[("co", "09:00")] == pytest.approx(28.010 / 24.465)  # ppm -> mg/m3
    assert v[("o3", "09:00")] == 60.0
    assert ("o3", "10:00") not in v.index          # unit ppt rejected
    reasons = rejected["reason"].tolist()
    assert any("unknown parameter 'temperature'" in r for r in reasons)
    assert any("unknown unit 'ppt'" in r for r in reasons)
    assert meta["sensors"] == 5 and meta["locations"] == [3001]
    assert len(meta["sha256"]) == 64
    assert data.loc[data.pollutant == "pm25", "coverage"].tolist() == [100.0, 100.0, 0.0]


def test_read_openaq_retries_inside(fake):
    fake.add("/v3/locations/3001/sensors", (429, {"Retry-After": "0"}, "error_429.json"),
             (200, {}, "sensors_3001.json"))
    for sid in (10001, 10002, 10003, 10004):
        fake.add(f"/v3/sensors/{sid}/hours", (500, {}, "{}"), (200, {}, f"hours_{sid}.json"))
    sleeps: list[float] = []
    data, meta, rejected = read_openaq(client(fake, sleeps, backoff=0.0), [{"id": 3001}],
                                       "2024-01-01 08:00", "2024-01-01 11:00")
    assert len(data) == 8 and len(sleeps) == 5


# ---------------------------------------------------------------- security (issue 9)
def test_plain_http_refused_unless_explicitly_allowed_for_localhost():
    with pytest.raises(ClientValidationError, match="must be https"):
        OpenAQClient("http://api.openaq.org", api_key=KEY)
    with pytest.raises(ClientValidationError, match="must be https"):
        OpenAQClient("http://127.0.0.1:8080", api_key=KEY)  # not allowed implicitly
    with pytest.raises(ClientValidationError, match="must be https"):
        OpenAQClient("http://example.org", api_key=KEY, allow_insecure_localhost=True)  # only loopback
    assert OpenAQClient("http://localhost:8080", api_key=KEY, allow_insecure_localhost=True)
    assert OpenAQClient("https://api.openaq.org", api_key=KEY)


def _redirecting_server(target: str, seen: list):
    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(302)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    return srv, t


def test_api_key_not_forwarded_on_cross_host_redirect(fake):
    """A redirect to another host (localhost vs 127.0.0.1: another origin) must not carry X-API-Key."""
    fake.require_key = None
    fake.add("/v3/sensors/3001", (200, {}, "sensors_3001.json"))
    other_origin = fake.url.replace("127.0.0.1", "localhost")
    seen: list = []
    srv, t = _redirecting_server(other_origin, seen)
    try:
        c = OpenAQClient(f"http://127.0.0.1:{srv.server_address[1]}", api_key=KEY, sleep=lambda s: None,
                         allow_insecure_localhost=True)
        c.get("/v3/sensors/3001")
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)
    assert seen[0].get("x-api-key") == KEY  # the first request, to the configured origin, has it
    assert fake.log and "x-api-key" not in fake.log[-1]["headers"]


def test_api_key_kept_on_same_origin_redirect(fake):
    fake.add("/v3/sensors/3001", (200, {}, "sensors_3001.json"))
    fake.add("/old/sensors/3001", (301, {"Location": "/v3/sensors/3001"}, "{}"))
    c = client(fake)
    c.get("/old/sensors/3001")
    assert fake.log[-1]["path"] == "/v3/sensors/3001" and fake.log[-1]["headers"]["x-api-key"] == KEY
