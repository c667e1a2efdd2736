"""`vigil serve`: one FastAPI app (app.py) carrying the matching API (api/, under /api/v1) and the review
web app (web/); body.py, upload.py and limits.py read and bound what callers send."""
