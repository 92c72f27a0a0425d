"""The project model (SPEC 8.32-8.33): every ``.py`` file under the project root, summarised and linked.

Below :mod:`initlint.lint` and :mod:`initlint.runner`, above the frontends: ``root`` finds the
project, ``index`` summarises one file (cached by content), ``link`` resolves names across
files, ``view`` answers the torch frontend's questions about other files, and ``decide``
combines the inits of every construction path of a layer into its verdict.
"""
