"""The domain's models, a module per topic; import them from here (``assessments.models``)."""

from assessments.levels import MAX_LEVEL, Level
from assessments.models.accounts import AccountEvent, Invitation, OutboundMail
from assessments.models.assessments import (
    Answer,
    AnswerChange,
    Assessment,
    AssessmentTransition,
    ReviewComment,
    SurveyRound,
)
from assessments.models.batches import ReportBatch, ReportRender
from assessments.models.catalog import (
    CrosswalkLink,
    Guideline,
    GuidelineImport,
    LevelDescription,
    Measure,
    MeasureNote,
)
from assessments.models.documents import DocumentSettings
from assessments.models.registry import Body, BodySuccession, MicCategory
from assessments.models.rounds import (
    DueDateExtension,
    Excusal,
    PrefectureSignOff,
    Reminder,
    SignOffEvent,
)
from assessments.models.statistics import Correction, ReleaseVersion, StatisticsRelease
from assessments.models.users import User

__all__ = [
    "ReportRender",
    "SignOffEvent",
    "Reminder",
    "PrefectureSignOff",
    "Excusal",
    "DueDateExtension",
    "MAX_LEVEL",
    "AccountEvent",
    "Answer",
    "AnswerChange",
    "Assessment",
    "AssessmentTransition",
    "Body",
    "BodySuccession",
    "DocumentSettings",
    "MicCategory",
    "CrosswalkLink",
    "Guideline",
    "GuidelineImport",
    "Invitation",
    "Level",
    "LevelDescription",
    "Measure",
    "MeasureNote",
    "OutboundMail",
    "ReportBatch",
    "ReviewComment",
    "SurveyRound",
    "StatisticsRelease",
    "ReleaseVersion",
    "Correction",
    "User",
]
