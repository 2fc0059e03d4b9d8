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
from app.models.lab import (
    LabAnswer,
    LabBudget,
    LabFault,
    LabPrice,
    LabRecipe,
    LabRecipeVersion,
    LabTeacher,
)
from app.models.metrics import ImportedMetric, ImportedMetricValue
from app.models.projects import Project, Question, Response, Strategy
from app.models.scans import (
    OwnAnswer,
    Scan,
    ScanAggregate,
    ScanValue,
    ScanVector,
    ScoreCache,
    TextCache,
    TokenSurprise,
)
from app.models.studies import Study, StudyProject
from app.models.validations import (
    Evaluation,
    HalvingRound,
    Prediction,
    TestQuestion,
    TestSet,
    TrainingPoint,
    Validation,
    ValidationQuestion,
    ValidationRun,
)

__all__ = [
    "Accuracy",
    "ImportedMetric",
    "ImportedMetricValue",
    "ApiToken",
    "Evaluation",
    "Job",
    "LoginFailure",
    "Judgement",
    "LabAnswer",
    "LabBudget",
    "LabFault",
    "LabPrice",
    "LabRecipe",
    "LabRecipeVersion",
    "LabTeacher",
    "OwnAnswer",
    "Prediction",
    "Project",
    "ProjectMember",
    "Question",
    "Response",
    "Scan",
    "ScanAggregate",
    "ScanValue",
    "ScanVector",
    "ScoreCache",
    "ShareLink",
    "Strategy",
    "Study",
    "StudyProject",
    "TestQuestion",
    "TestSet",
    "TextCache",
    "TokenSurprise",
    "TrainingPoint",
    "User",
    "Validation",
    "ValidationQuestion",
    "HalvingRound",
    "ValidationRun",
    "UserSession",
]
