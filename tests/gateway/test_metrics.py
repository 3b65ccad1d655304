"""``/metrics`` of a real gateway: the counts of the requests just made, by route template and status,
parsed with prometheus_client's own parser; each application has its own registry."""

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from alchemist.gateway import GatewaySettings

pytestmark = pytest.mark.integration


def scrape(gateway) -> dict:
    """{(sample name, frozenset of labels): value} of one /metrics scrape."""
    response = httpx.get(gateway.url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def requests_total(samples, method, route, status) -> float:
    key = ("alchemist_gateway_requests_total", frozenset({"method": method, "route": route, "status": status}.items()))
    return samples.get(key, 0.0)


def test_metrics_count_the_requests_just_made_by_route_template_and_status(gateway):
    for _ in range(3):
        assert httpx.get(gateway.url + "/healthz").status_code == 200
    for graph_id in ("nope", "none"):
        assert httpx.get(gateway.url + f"/api/v1/graphs/{graph_id}", timeout=30).status_code == 404
    assert httpx.post(gateway.url + "/api/v1/graphs/import", params={"graph_id": "m"}, content=b"1 2\n",
                      timeout=30).status_code == 201
    assert httpx.get(gateway.url + "/no/such/path").status_code == 404

    samples = scrape(gateway)
    assert requests_total(samples, "GET", "/healthz", "200") == 3
    assert requests_total(samples, "GET", "/api/v1/graphs/{graph_id}", "404") == 2  # the template, not the path
    assert requests_total(samples, "POST", "/api/v1/graphs/import", "201") == 1
    assert requests_total(samples, "GET", "<unmatched>", "404") == 1
    count = ("alchemist_gateway_request_duration_seconds_count",
             frozenset({"method": "GET", "route": "/healthz"}.items()))
    assert samples[count] == 3
    infinity = ("alchemist_gateway_request_duration_seconds_bucket",
                frozenset({"method": "GET", "route": "/healthz", "le": "+Inf"}.items()))
    assert samples[infinity] == 3
    # the scrape itself is counted once it has answered
    assert requests_total(scrape(gateway), "GET", "/metrics", "200") == 1
    # the CIM's own metrics follow the gateway's
    assert any(name == "alchemist_events_published_total" for name, _ in samples)


def test_refused_requests_are_counted_under_their_route(gateway_factory):
    gateway = gateway_factory(GatewaySettings(api_keys={"k": {"subject": "ana", "read": ["*"]}}, rate_limit=None))
    for _ in range(2):
        assert httpx.get(gateway.url + "/api/v1/graphs/g/export").status_code == 401
    assert requests_total(scrape(gateway), "GET", "/api/v1/graphs/{graph_id}/export", "401") == 2


def test_two_applications_in_one_process_keep_separate_registries(gateway_factory):
    one, two = gateway_factory(), gateway_factory()
    for _ in range(4):
        httpx.get(one.url + "/healthz")
    httpx.get(two.url + "/healthz")
    assert requests_total(scrape(one), "GET", "/healthz", "200") == 4
    assert requests_total(scrape(two), "GET", "/healthz", "200") == 1
