"""SQLAlchemy tables, one module per aggregate. Importing this registers them all."""

from app.models.accounts import ApiToken, ShareLink, User
from app.models.accuracies import Accuracy
from app.models.jobs import Job
from app.models.judgements import Judgement
from app.models.projects import Project, Question, Response, Strategy
from app.models.scans import OwnAnswer, Scan, ScanValue, ScoreCache, TextCache

__all__ = [
    "Accuracy",
    "ApiToken",
    "Job",
    "Judgement",
    "OwnAnswer",
    "Project",
    "Question",
    "Response",
    "Scan",
    "ScanValue",
    "ScoreCache",
    "ShareLink",
    "Strategy",
    "TextCache",
    "User",
]
