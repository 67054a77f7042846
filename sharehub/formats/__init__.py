"""Date formats per language (FORMAT_MODULE_PATH): one date and one date-time format each.

Templates show a date with `|date` (DATE_FORMAT) and a moment with `|date:"DATETIME_FORMAT"`;
no template spells out its own pattern."""
