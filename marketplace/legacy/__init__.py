"""The Phase 1 legacy import (`manage.py import_v1`), one module per step.

`reader` opens the Phase 1 SQLite file read-only and returns its rows; `repair` makes
clean values of each row and reports every repair or skipped row; `plan` merges the rows
of one person into one draft; these three are plain Python with no ORM import. `writer`
is the service: it checks the category and the seekers' needs with the profile services'
own checks, writes what the database lacks in one transaction, and awards the
profile-creation POT through `currency.services.pot_award`.
"""

from marketplace.errors import CategoryMissing, LegacyFileError
from marketplace.legacy.plan import LegacyPlan, Merge, PersonDraft, plan_people
from marketplace.legacy.reader import LegacyTables, read_legacy_file
from marketplace.legacy.repair import FINANCIAL_ADVISOR_SYNONYMS, FieldLimits, Issue, SpecialtyVocabulary
from marketplace.legacy.writer import ImportCounts, ImportReport, legacy_file_import

__all__ = [
    "FINANCIAL_ADVISOR_SYNONYMS",
    "CategoryMissing",
    "FieldLimits",
    "ImportCounts",
    "ImportReport",
    "Issue",
    "LegacyFileError",
    "LegacyPlan",
    "LegacyTables",
    "Merge",
    "PersonDraft",
    "SpecialtyVocabulary",
    "legacy_file_import",
    "plan_people",
    "read_legacy_file",
]
