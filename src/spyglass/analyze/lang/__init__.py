"""Language package analyzers: libraries installed by a language's own package manager.

One module per ecosystem, each an :class:`~spyglass.analyze.interface.Analyzer` that asks for
files by path alone and parses them with small, pure parser functions:

- ``python``: installed distributions (``*.dist-info/METADATA``, ``*.egg-info``, zipped eggs
  and wheels);
- ``node``: ``node_modules/**/package.json`` and npm, yarn and pnpm lock files;
- ``ruby``: installed ``specifications/*.gemspec`` and ``Gemfile.lock``;
- ``php``: composer's ``vendor/composer/installed.json`` and ``composer.lock``;
- ``dotnet``: ``*.deps.json``.
"""
