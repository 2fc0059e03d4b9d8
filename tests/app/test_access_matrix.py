"""The authorization matrix (issue 18): every route with an id, every principal, every
spelling of the id, and the status each must get.

An independent probe found that the access rule matched the raw path against `\\d+` while
the routes parsed the same segment with pydantic, which also reads `+2`, ` 2`, `2 ` and
`0_2` as 2: for those spellings no rule ran and the route served the project. Here:

- every other spelling of any id in a path is a 404 for everybody, and changes nothing;
- with canonical ids, each principal gets exactly what its role or link allows (the rules
  are restated below from the README, not imported from the code under test);
- every route with a project, job or study id depends on its guard, and every id in a path
  is declared with the canonical `id` convertor.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app import db as app_db
from app.main import create_app
from app.models import Job, Project, ProjectMember, Scan, ShareLink, Study
from app.schemas.accounts import ShareLinkCreate, StudyShareLinkCreate
from app.schemas.projects import ProjectCreate
from app.schemas.studies import StudyCreate
from app.security.accounts import create_api_token, create_user
from app.security.guards import job_in_reach, project_in_reach, study_in_reach
from app.security.roles import add_member
from app.security.share_links import create_share_link, create_study_share_link
from app.services.projects import create_project
from app.services.studies.crud import create_study
from tests.conftest import page_csrf

PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
ID_PARAM = re.compile(r"\{\w+_id(?::\w+)?\}")
GUARD_FOR = {"project_id": project_in_reach, "job_id": job_in_reach, "study_id": study_in_reach}
SAFE = {"GET"}
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
SPELLINGS = {
    "plus": "+{}",
    "leading space": "%20{}",
    "trailing space": "{}%20",
    "underscore": "0_{}",
    "leading zero": "0{}",
    "arabic digits": "ARABIC",
    "decimal": "{}.0",
}
MISSING = 999_999  # a canonical id that names nothing


def spell(value: int, how: str) -> str:
    if how == "ARABIC":
        return str(value).translate(ARABIC)
    return how.format(value)


# --- the rules, restated from the README ("Accounts, sessions, roles") ---------------------

OWNER_ALWAYS = {  # the share pages and links, whatever the method
    "/api/v1/projects/{project_id}/share-links",
    "/api/v1/projects/{project_id}/share-links/{link_id}",
    "/projects/{project_id}/share",
    "/projects/{project_id}/share/{link_id}/revoke",
}
OWNER_WRITES = {  # renaming and deleting the project, managing members
    "/api/v1/projects/{project_id}",
    "/projects/{project_id}/delete",
    "/projects/{project_id}/rename",
    "/api/v1/projects/{project_id}/members",
    "/api/v1/projects/{project_id}/members/{user_id}",
    "/projects/{project_id}/members",
    "/projects/{project_id}/members/{user_id}/role",
    "/projects/{project_id}/members/{user_id}/remove",
    # issue 21: the lab's teachers hold API keys
    "/api/v1/projects/{project_id}/lab/teachers",
    "/api/v1/projects/{project_id}/lab/teachers/{name}",
    # and its prices and budget (an editor who zeroed a price could spend past the budget)
    "/api/v1/projects/{project_id}/lab/prices",
    "/api/v1/projects/{project_id}/lab/budget",
    "/projects/{project_id}/lab/prices",
    "/projects/{project_id}/lab/budget",
}
STUDY_LINK_READS = {
    "/studies/{study_id}",
    "/api/v1/studies/{study_id}",
    "/api/v1/studies/{study_id}/study.json",
    "/api/v1/studies/{study_id}/summary.csv",
    "/api/v1/studies/{study_id}/projects.csv",
}
STUDY_CREATOR_READS = {
    "/studies/{study_id}/edit",
    "/api/v1/studies/{study_id}/edit",
    "/studies/{study_id}/share",
    "/api/v1/studies/{study_id}/share-links",
}
RANK = {"viewer": 0, "editor": 1, "owner": 2}


@dataclass
class Principal:
    name: str
    role: str | None = None  # in the project: viewer, editor, owner (admins: owner)
    creator: bool = False  # of the study
    admin: bool = False
    link: str | None = None  # project, scan, revoked, study
    token: str | None = None
    client: Any = None
    csrf: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def project_allows(p: Principal, method: str, template: str, question: int, w: World) -> bool:
    if p.link == "none":
        return False
    if p.link is not None:
        if method not in SAFE or template in OWNER_ALWAYS or p.link in ("revoked", "study"):
            return False
        if p.link == "project":
            return True
        in_scan = template.startswith(
            (
                "/projects/{project_id}/scans/{scan_id}",
                "/api/v1/projects/{project_id}/scans/{scan_id}",
            )
        )
        return in_scan and ("{question_id}" not in template or question == w.q_in)
    if p.role is None:
        return False
    owner_only = template in OWNER_ALWAYS or (method not in SAFE and template in OWNER_WRITES)
    needed = "owner" if owner_only else ("viewer" if method in SAFE else "editor")
    return RANK[p.role] >= RANK[needed]


def job_allows(p: Principal, method: str) -> bool:
    if p.link is not None:
        return p.link == "project" and method in SAFE
    return p.role is not None and RANK[p.role] >= RANK["viewer" if method in SAFE else "editor"]


def study_allows(p: Principal, method: str, template: str) -> bool:
    if p.link is not None:
        return p.link == "study" and method in SAFE and template in STUDY_LINK_READS
    if method not in SAFE or template in STUDY_CREATOR_READS:
        return p.creator
    return p.role is not None  # a member of every project in the study


ACCOUNT_ROUTES = ("/api/v1/me/", "/account/sessions/")  # one's own sessions and tokens
ADMIN_ROUTES = ("/api/v1/users/", "/account/users/")  # another user's sessions


def allows(p: Principal, method: str, template: str, w: World, question: int) -> bool:
    if template.startswith(ACCOUNT_ROUTES):
        return p.link is None
    if template.startswith(ADMIN_ROUTES):
        return p.admin
    if "{study_id}" in template:
        return study_allows(p, method, template)
    if "{job_id}" in template:
        return job_allows(p, method)
    return project_allows(p, method, template, question, w)


# --- the world ---------------------------------------------------------------------------


@dataclass
class World:
    pid: int = 0
    q_in: int = 0
    q_out: int = 0
    strategy: int = 0
    scan: int = 0
    job: int = 0
    study: int = 0
    users: dict[str, int] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # kind -> token
    link_ids: dict[str, int] = field(default_factory=dict)
    link_id: int = 0


USERS = {"alice": True, "olga": False, "eddie": False, "vera": False, "nora": False}
ROLES = {"alice": "owner", "olga": "owner", "eddie": "editor", "vera": "viewer", "nora": None}
ROWS = [
    {"id": f"q{i}", "question": f"What is {i} plus {i}?", "answer": f"{2 * i}"} for i in range(3)
]


def _sign_in(name: str) -> TestClient:
    c = TestClient(create_app())
    c.__enter__()
    token = page_csrf(c.get("/login").text)
    data = {"username": name, "password": f"{name} password!", "csrf_token": token}
    assert c.post("/login", data=data, follow_redirects=False).status_code == 303
    return c


def _build_world(olga: TestClient, users: dict[str, int]) -> World:
    w = World(users=users)
    h = {"X-CSRF-Token": page_csrf(olga.get("/").text)}
    w.pid = olga.post("/api/v1/projects", json={"name": "p"}, headers=h).json()["id"]
    files = [("files", ("a.json", json.dumps(ROWS).encode(), "application/json"))]
    assert olga.post(f"/api/v1/projects/{w.pid}/uploads", files=files, headers=h).status_code == 201
    scan = olga.post(
        f"/api/v1/projects/{w.pid}/scans", json={"sample": 2, "metrics": ["ppl"]}, headers=h
    ).json()
    w.scan, w.job = scan["id"], scan["job"]["id"]
    questions = olga.get(f"/api/v1/projects/{w.pid}/questions").json()["items"]
    w.q_in, w.q_out = questions[0]["id"], questions[1]["id"]
    w.strategy = olga.get(f"/api/v1/projects/{w.pid}").json()["strategies"][0]["id"]
    with app_db.session_scope() as s:
        s.get(Scan, w.scan).summary = {"sample": [w.q_in]}
        for name, role in (("eddie", "editor"), ("vera", "viewer")):
            add_member(s, project_id=w.pid, username=name, role=role)
        base, olga_id = "http://testserver", w.users["olga"]
        for kind, scan_id in (("project", None), ("scan", w.scan), ("revoked", None)):
            link = create_share_link(
                s,
                project_id=w.pid,
                data=ShareLinkCreate(scan_id=scan_id),
                created_by_id=olga_id,
                base_url=base,
            )
            w.links[kind] = link.token
            w.link_ids[kind] = link.id
            if kind == "project":
                w.link_id = link.id
        study = create_study(
            s, data=StudyCreate(name="st", project_ids=[w.pid]), created_by_id=olga_id
        )
        w.study = study.id
        w.links["study"] = create_study_share_link(
            s,
            study_id=study.id,
            data=StudyShareLinkCreate(),
            created_by_id=olga_id,
            base_url=base,
        ).token
    return w


def _principals(w: World) -> Iterator[Principal]:
    for name in USERS:
        role, creator = ROLES[name], name in ("olga", "alice")
        c = _sign_in(name)
        yield Principal(
            f"{name} ({role or 'non-member'})",
            role,
            creator,
            admin=USERS[name],
            client=c,
            csrf=page_csrf(c.get("/login").text),
        )
        with app_db.session_scope() as s:
            token = create_api_token(s, username=name)
        yield Principal(
            f"{name}'s API token",
            role,
            creator,
            admin=USERS[name],
            token=token,
            client=TestClient(create_app()).__enter__(),
            headers={"Authorization": f"Bearer {token}"},
        )
    for kind in (None, "project", "scan", "revoked", "study"):
        c = TestClient(create_app())
        c.__enter__()
        csrf = page_csrf(c.get("/login").text)
        if kind is not None:
            assert c.get(f"/s/{w.links[kind]}", follow_redirects=False).status_code == 303
        if kind == "revoked":  # opened while it worked, revoked since
            with app_db.session_scope() as s:
                s.get(ShareLink, w.link_ids[kind]).revoked_at = func.now()
        yield Principal(f"{kind or 'no'} link holder", link=kind or "none", client=c, csrf=csrf)


def _routes(app: Any) -> list[APIRoute]:
    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes)
            elif isinstance(r, APIRoute):
                yield r

    return list(walk(app.routes))


def _id_routes(app: Any) -> list[tuple[str, str]]:
    """(method, template) of every route with an id in its path."""
    return sorted(
        {
            (m, r.path_format)
            for r in _routes(app)
            if ID_PARAM.search(r.path_format)
            for m in r.methods - {"HEAD"}
        }
    )


def _ids(w: World, method: str, template: str, question: int | None = None) -> dict[str, Any]:
    """Real ids for reads; for writes, nested ids that name nothing, so that an allowed
    write stops at its 404 and changes nothing (the guarded id stays real)."""
    real = {
        "project_id": w.pid,
        "scan_id": w.scan,
        "question_id": question or w.q_in,
        "strategy_id": w.strategy,
        "job_id": w.job,
        "study_id": w.study,
        "user_id": w.users["vera"],
        "link_id": w.link_id,
    }
    guarded = {"project_id", "job_id", "study_id"}
    return {
        name: real.get(name, MISSING) if method in SAFE or name in guarded else MISSING
        for name, _ in PARAM.findall(template)
    } | {"name": "nope", "token": "nope"}


def _url(template: str, ids: dict[str, Any]) -> str:
    return PARAM.sub(lambda m: str(ids[m.group(1)]), template)


def _send(p: Principal, method: str, url: str, template: str) -> int:
    headers = dict(p.headers)
    if p.csrf and method not in SAFE:
        headers["X-CSRF-Token"] = p.csrf
    body: dict[str, Any] = {}
    if url.startswith("/api/") and method not in SAFE:
        body["content"] = b"[]"  # valid JSON, never a valid body: an allowed write ends in 422
        headers["content-type"] = "application/json"
    elif method not in SAFE:
        body["data"] = {}
    r = p.client.request(method, url, headers=headers, follow_redirects=False, **body)
    return r.status_code if "/login" not in r.headers.get("location", "") else 401


def _snapshot() -> tuple[Any, ...]:
    with app_db.session_scope() as s:
        return (
            tuple(s.execute(select(Project.id, Project.name, Project.description)).all()),
            tuple(
                s.execute(
                    select(
                        ProjectMember.project_id, ProjectMember.user_id, ProjectMember.role
                    ).order_by(ProjectMember.user_id)
                ).all()
            ),
            tuple(s.execute(select(Job.id, Job.status)).all()),
            tuple(s.execute(select(ShareLink.id, ShareLink.revoked_at)).all()),
            tuple(s.execute(select(Study.id, Study.name)).all()),
        )


DESTRUCTIVE = {
    ("DELETE", "/api/v1/projects/{project_id}"),
    ("POST", "/projects/{project_id}/delete"),
    ("DELETE", "/api/v1/studies/{study_id}"),
    ("POST", "/studies/{study_id}/delete"),
    ("POST", "/api/v1/jobs/{job_id}/cancel"),
    ("POST", "/jobs/{job_id}/cancel"),
}


@pytest.fixture
def matrix(accounts_env: str) -> Iterator[tuple[World, list[Principal], Any]]:
    users = {}
    with app_db.session_scope() as s:
        for name, admin in USERS.items():
            users[name] = create_user(
                s, username=name, password=f"{name} password!", is_admin=admin
            ).id
    olga = _sign_in("olga")
    built = _build_world(olga, users)
    principals = list(_principals(built))
    yield built, principals, create_app()
    for p in principals:
        p.client.__exit__(None, None, None)
    olga.__exit__(None, None, None)


def test_every_route_with_an_id_depends_on_its_guard_and_the_id_convertor() -> None:
    """A route cannot reach a project, job or study without the check (issue 18)."""
    missing, loose = [], []
    for route in _routes(create_app()):
        names = dict(PARAM.findall(route.path))
        loose += [
            (route.path, n) for n, conv in names.items() if n.endswith("_id") and conv != "id"
        ]
        calls = _calls(route.dependant)
        missing += [(route.path, n) for n, g in GUARD_FOR.items() if n in names and g not in calls]
    assert not missing, missing
    assert not loose, loose


def _calls(dependant: Any) -> set[Any]:
    found = set()
    for d in dependant.dependencies:
        found |= {d.call} | _calls(d)
    return found


def test_other_spellings_of_an_id_are_404_for_everybody_and_change_nothing(matrix) -> None:  # type: ignore[no-untyped-def]
    w, principals, app = matrix
    before, wrong, count = _snapshot(), [], 0
    for method, template in sorted(_id_routes(app), key=lambda r: r in DESTRUCTIVE):
        ids = _ids(w, method, template)
        for name in [n for n, _ in PARAM.findall(template) if n.endswith("_id")]:
            # the guarded id with every principal; other ids with two principals
            who = (
                principals
                if name in GUARD_FOR
                else [p for p in principals if p.name.startswith("nora")]
            )
            for how in SPELLINGS.values():
                url = _url(template, ids | {name: spell(ids[name], how)})
                for p in who:
                    count += 1
                    if (status := _send(p, method, url, template)) != 404:
                        wrong.append((p.name, method, url, status))
    assert not wrong, (len(wrong), count, wrong[:20])
    assert _snapshot() == before
    print(f"\nspellings: {count} requests, all 404")


def test_each_principal_gets_what_its_role_or_link_allows(matrix) -> None:  # type: ignore[no-untyped-def]
    w, principals, app = matrix
    routes = _id_routes(app)
    before, wrong, denied, allowed = _snapshot(), [], 0, 0
    cases = [
        (p, m, t, q)
        for m, t in routes
        for p in principals
        for q in ((w.q_in, w.q_out) if "{question_id}" in t else (w.q_in,))
    ]
    for p, method, template, question in cases:  # denials first: nothing may change
        if allows(p, method, template, w, question):
            continue
        status = _send(p, method, _url(template, _ids(w, method, template, question)), template)
        denied += 1
        if status not in (401, 403):
            wrong.append(("should be denied", p.name, method, template, question, status))
    assert _snapshot() == before, "a denied request changed something"
    for p, method, template, question in sorted(cases, key=lambda c: (c[1], c[2]) in DESTRUCTIVE):
        if not allows(p, method, template, w, question):
            continue
        ids = _ids(w, method, template, question)
        if (method, template) in DESTRUCTIVE:
            ids = _scratch(w, template, ids)
        status = _send(p, method, _url(template, ids), template)
        allowed += 1
        if status in (401, 403) or status >= 500:
            wrong.append(("should be allowed", p.name, method, template, question, status))
    assert not wrong, (len(wrong), "\n".join(map(str, wrong)))
    print(
        f"\nmatrix: {len(routes)} routes x {len(principals)} principals: "
        f"{denied} denied, {allowed} allowed"
    )


def _scratch(w: World, template: str, ids: dict[str, Any]) -> dict[str, Any]:
    """A fresh project, study or job to delete or cancel, set up like the real one."""
    with app_db.session_scope() as s:
        if "{study_id}" in template:
            study = create_study(
                s,
                data=StudyCreate(name="scratch", project_ids=[w.pid]),
                created_by_id=w.users["olga"],
            )
            return ids | {"study_id": study.id}
        if "{job_id}" in template:
            job = Job(kind="analyze", project_id=w.pid)
            s.add(job)
            s.flush()
            return ids | {"job_id": job.id}
        project = create_project(s, data=ProjectCreate(name="scratch"), owner_id=w.users["olga"])
        for name, role in (("eddie", "editor"), ("vera", "viewer")):
            add_member(s, project_id=project.id, username=name, role=role)
        return ids | {"project_id": project.id}
