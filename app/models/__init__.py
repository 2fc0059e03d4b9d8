"""SQLAlchemy tables, one module per aggregate. Importing this registers them all."""

from app.models.accounts import (
    ApiToken,
    LoginFailure,
    ProjectMember,
    ShareLink,
    User,
    UserSession,
)
from app.models.accuracies import Accuracy
from app.models.jobs import Job
from app.models.judgements import Judgement
from app.models.projects import Project, Question, Response, Strategy
from app.models.scans import (
    OwnAnswer,
    Scan,
    ScanAggregate,
    ScanValue,
    ScoreCache,
    TextCache,
    TokenSurprise,
)

__all__ = [
    "Accuracy",
    "ApiToken",
    "Job",
    "LoginFailure",
    "Judgement",
    "OwnAnswer",
    "Project",
    "ProjectMember",
    "Question",
    "Response",
    "Scan",
    "ScanAggregate",
    "ScanValue",
    "ScoreCache",
    "ShareLink",
    "Strategy",
    "TextCache",
    "TokenSurprise",
    "User",
    "UserSession",
]
