"""Reports: Markdown summary, JSON report, JUnit XML, SARIF, GitHub annotations and failure text."""
