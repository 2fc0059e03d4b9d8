"""A bad query value on a page answers the site's error page, escaped; the API twin JSON."""

from __future__ import annotations


def test_bad_query_value_on_a_page_is_an_html_error_page(client) -> None:
    pid = client.post("/api/v1/projects", json={"name": "Mine"}).json()["id"]
    page = client.get(f"/projects/{pid}/scans/1", params={"metric": "<script>x</script>"})
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "<script>x</script>" not in page.text
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text
    assert "query parameter &#39;metric&#39;" in page.text
    assert f'<a href="/projects/{pid}">Mine</a>' in page.text  # the site's layout, crumbs
    twin = client.get(f"/api/v1/projects/{pid}/scans/1", params={"metric": "<script>"})
    assert twin.status_code == 422
    assert twin.json()["detail"][0]["loc"] == ["query", "metric"]


def test_bad_page_number_is_an_html_error_page(client) -> None:
    pid = client.post("/api/v1/projects", json={"name": "p"}).json()["id"]
    page = client.get(f"/projects/{pid}/questions?page=abc")
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "query parameter &#39;page&#39;" in page.text
    htmx = client.get(f"/projects/{pid}/questions?page=abc", headers={"HX-Request": "true"})
    assert htmx.status_code == 422 and "<html" not in htmx.text  # the fragment only
