"""The gateway's skeleton: a real uvicorn server answers, and stops cleanly."""

import httpx
import pytest

pytestmark = pytest.mark.integration


def test_unknown_path_is_404_from_a_running_gateway(gateway):
    response = httpx.get(gateway.url + "/no/such/path", timeout=10)
    assert response.status_code == 404
    assert gateway.app.state.gateway.connection is not None
