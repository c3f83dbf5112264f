"""The flight report (``report.html`` and ``report.pdf``) drawn from a ``heyan ingest``
output folder: ``data`` reads it, ``geometry`` and ``scene`` lay out the map, ``html_report``
and ``pdf_report`` draw it, ``labels`` holds every word."""
