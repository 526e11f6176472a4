"""Protocol front ends: UCI (chess), USI (shogi), GTP (go) and the command line."""
