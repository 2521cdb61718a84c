from carbonmet.cli import app

app()
