"""The outbox's knowledge of the seizure spreadsheet, for the top bar of every page.

The outbox writes the seizures it holds as a CSV file that the operation's import
accepts (static/js/outbox_files.js); the columns it may write are the import's own.
"""

from django import template

from operations.spreadsheets import COLUMNS

register = template.Library()


@register.simple_tag
def spreadsheet_columns() -> str:
    """The columns a seizure spreadsheet import reads, by code, in the template's order."""
    return ",".join(COLUMNS)
