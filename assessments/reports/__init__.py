"""Reports: the assessment PDF and the prefecture summary (context → HTML → PDF), their charts,
the allow-listed fetcher WeasyPrint loads through, and rendering many of them in a batch."""
