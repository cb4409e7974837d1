"""Reports of a run: progress lines, the console table, report.json/html, junit.xml, the GitHub step summary."""
