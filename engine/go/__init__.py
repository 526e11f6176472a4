"""Go above the search: how Tabula plays and records go, whatever protocol asks.

``engine/games/go.py`` holds the rules and ``engine/search`` the MCTS; this package
holds the go jobs that sit on top of them and that a front end (GTP today) calls:

* :mod:`engine.go.sgf` — the one SGF reader and writer of the project (``loadsgf`` and
  ``printsgf``, the match referee's game records);
* :mod:`engine.go.eyes` — board geometry and the eye test the playouts and the pass
  rules share;
* :mod:`engine.go.playouts` — net-free ownership by random playouts, dead stones, the
  score with dead stones removed;
* :mod:`engine.go.network` — which net plays an n×n board (``Engine.default_net`` from a
  finder the front end passes in), resizing a size-free codec (KataGo), and running the
  net by itself for a value or ownership;
* :mod:`engine.go.clock` — the go clock (absolute, Canadian, byo-yomi) kept from
  ``time_settings`` / ``time_left`` and turned into :class:`~engine.controller.Limits`;
* :mod:`engine.go.move_choice` — the pass and resign rules around the search;
* :mod:`engine.go.handicap` — free handicap placement.

Each module is one job; the front end parses text, calls these and formats the answer.
Imports point down only: ``engine.games``, ``engine.timeman`` and the controller's types,
never ``protocols``, ``bench`` or ``nets`` (the front end hands over net paths).
"""
