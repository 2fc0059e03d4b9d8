"""A big upload is parsed and written off the event loop: the server keeps answering."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app.main import create_app


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_health_answers_while_a_big_upload_is_parsed(settings_env: str) -> None:
    rows = "\n".join(f"What is {i} plus {i}?,{2 * i}" for i in range(60_000))
    body = ("prompt,response\n" + rows).encode()

    async def scenario() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            pid = (await client.post("/api/v1/projects", json={"name": "big"})).json()["id"]
            started = time.perf_counter()
            upload = asyncio.create_task(
                client.post(
                    f"/api/v1/projects/{pid}/uploads",
                    files=[("files", ("big.csv", body, "text/csv"))],
                    data={"strategy": "s"},
                )
            )
            await asyncio.sleep(0.3)  # the upload is being parsed now
            health = await client.get("/healthz")
            health_s = time.perf_counter() - started
            assert health.status_code == 200
            assert not upload.done(), "the upload finished too fast to tell anything"
            response = await upload
            assert response.status_code == 201, response.text
            return health_s, time.perf_counter() - started

    health_s, upload_s = asyncio.run(scenario())
    assert health_s < upload_s / 2, (health_s, upload_s)
