"""vigil serve: the matching API (and, later, the review web app)."""
