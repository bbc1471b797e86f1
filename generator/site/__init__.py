"""Everything that knows MkDocs: the plugin and what its hooks hand work to.

`plugin` (the hooks, a few lines each), `pages` (generated pages as virtual files),
`incremental` (the one place that decides what a build reuses), `sanitizing` (nh3 after
conversion), `search` (Material's search given runbook's view and worker), `mkdocs_config`
(what generated pages need from any mkdocs.yml), `build` (`runbook build` / `serve`),
`output` (output folders refused when unsafe, swapped in atomically).
"""
