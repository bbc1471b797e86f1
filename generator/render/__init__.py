"""Rendering: the validated runbook → an index of it → pages, feed and exports.

`index.build_index` sees the runbook from every angle a reader asks from; `site_pages`
registers every generated page (path, template, what it shows); `pages.render_site` renders
them with the one Jinja environment (`environment`) and keys each cached page by its inputs.
Text safety lives here too: `escape` for plain text, `markdown_fields` for Markdown, `sanitize`
for the HTML allow-list. Nothing here imports MkDocs: `runbook render --out` writes exactly
what the plugin feeds MkDocs, for any Markdown engine.
"""
