"""Handling codes and gradings: the rules every door applies, in one place.

Every message, attachment and seizure of a group carries a handling code chosen by
its author (the operation's default unless they choose another): H0 no restriction
within the operation, H1 not evidence in court without the originator's permission,
H2 not passed on outside the operation without it, H3 other conditions stated in a
short text. A message may also grade its source (A, B, C, X) and its information
(1 to 4). The words are core/vocabularies.py's; the checks and the banner are here.

What leaves the group (exports, the REST API read with a national system's token)
leaves out an H2 item until the originator's administration releases it
(``may_leave_group``).
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from .errors import Invalid
from .vocabularies import (
    HANDLING_CONDITIONS_MAX_LENGTH,
    HandlingCode,
    InformationGrading,
    SourceGrading,
)


@dataclass(frozen=True)
class Handling:
    """An item's handling code, its conditions (H3 only) and, for messages, grading."""

    code: str = HandlingCode.H0
    conditions: str = ""
    source: str = ""
    information: str = ""

    def as_data(self) -> dict:
        """The keys every door shows it with."""
        return {
            "handling_code": self.code,
            "handling_conditions": self.conditions,
            "source_grading": self.source,
            "information_grading": self.information,
        }

    @property
    def banner(self) -> str:
        return handling_banner(self.code, self.conditions, self.source, self.information)


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _given(value) -> bool:
    return value is not None and value != ""


def handling_clean(
    *,
    code=None,
    conditions=None,
    source=None,
    information=None,
    default: Handling | None = None,
    graded: bool = False,
) -> Handling:
    """The handling an author asked for, checked; what they left out is ``default``'s.

    ``graded``: the item is a message, which may carry a grading (others may not).
    Raises ``Invalid`` naming each bad field: an unknown code or grade, H3 without its
    conditions, conditions on another code.
    """
    default = default or Handling()
    errors: dict[str, str] = {}
    chosen_code = code if _given(code) else default.code
    if not isinstance(chosen_code, str) or chosen_code not in HandlingCode.values:
        errors["handling_code"] = _("Unknown handling code: choose H0, H1, H2 or H3.")
    if _given(conditions) and not isinstance(conditions, str):
        errors["handling_conditions"] = _("The conditions are a text.")
    text = _text(conditions) if _given(code) or _given(conditions) else default.conditions
    if "handling_code" not in errors and "handling_conditions" not in errors:
        if chosen_code == HandlingCode.H3 and not text:
            errors["handling_conditions"] = _("State the conditions of an H3 item.")
        elif chosen_code != HandlingCode.H3 and text:
            errors["handling_conditions"] = _("Conditions are stated only for H3.")
        elif len(text) > HANDLING_CONDITIONS_MAX_LENGTH:
            errors["handling_conditions"] = _("At most %(limit)d characters.") % {
                "limit": HANDLING_CONDITIONS_MAX_LENGTH
            }
    grades = {}
    for field, value, vocabulary, fallback, message in (
        ("source_grading", source, SourceGrading, default.source, _("Unknown source grading.")),
        (
            "information_grading",
            information,
            InformationGrading,
            default.information,
            _("Unknown information grading."),
        ),
    ):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        grade = value if _given(value) else fallback
        if _given(value) and not graded:
            errors[field] = _("Only messages are graded.")
        elif grade and (not isinstance(grade, str) or grade not in vocabulary.values):
            errors[field] = message
        grades[field] = grade if isinstance(grade, str) else ""
    if errors:
        raise Invalid(errors)
    return Handling(
        code=chosen_code,
        conditions=text,
        source=grades["source_grading"],
        information=grades["information_grading"],
    )


def handling_banner(
    code: str, conditions: str = "", source: str = "", information: str = ""
) -> str:
    """The banner an item shows, in the current language: its code, and its grading."""
    parts = [str(HandlingCode(code).label) if code in HandlingCode.values else code]
    if code == HandlingCode.H3 and conditions:
        parts[0] = _("%(code)s: %(conditions)s") % {"code": parts[0], "conditions": conditions}
    if source or information:
        parts.append(_("Grading %(grading)s") % {"grading": f"{source or '?'}{information or '?'}"})
    return " · ".join(parts)


def may_leave_group(code: str, released: bool) -> bool:
    """Whether an item goes into what leaves the group: all but unreleased H2."""
    return code != HandlingCode.H2 or released
